"""Tariff families: F1 ``per_fetch`` and F9 ``referral_gap``. Each (outlet, operator) cell has an exact value
(an integer of 10^-24 currency units, computed in DuckDB); the total is the exact sum rounded half-even to
the minor unit, split over the cells by largest remainder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import polars as pl
import pyarrow as pa

from ledger.errors import ConfigError
from ledger.money import show
from ledger.schemes import PerFetch, ReferralGap, Scheme
from ledger.settle.basis import Basis
from ledger.settle.engine import Compute
from ledger.settle.plans import usage_cells

SCALE = 24  # tariff values are integers of 10^-SCALE currency units
E6 = 10**6


@dataclass
class TariffPlan:
    cells: pa.Table  # outlet, operator, value (10^-24), units_e6, fetches
    facts: list[tuple[str, str]] = field(default_factory=list)
    _totals: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

    def totals(self, compute: Compute, by: str) -> dict[str, int]:
        """The sums of the values (in 10^-24) per 'outlet' or per 'operator', computed once for the plan."""
        if by not in self._totals:
            table = compute.run("tariff_totals", {"_values": self.cells}, {"by": by})
            self._totals[by] = {k: int(v) for k, v in zip(*table.to_pydict().values(), strict=True)}
        return self._totals[by]


def _e(value: Decimal, digits: int) -> int:
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ConfigError(f"{value} has more than {digits} decimal places")
    return int(scaled)


def per_fetch_plan(scheme: Scheme, basis: Basis) -> TariffPlan:
    """The exact values of a tariff (memoised on the basis: a pool sized by a tariff reuses them)."""
    plan = basis.once(("tariff", scheme.canonical), lambda: _per_fetch_plan(scheme, basis))
    assert isinstance(plan, TariffPlan)
    return plan


def _per_fetch_plan(scheme: Scheme, basis: Basis) -> TariffPlan:
    params = scheme.params
    assert isinstance(params, PerFetch)
    prices = pa.table({"purpose": [p for p, _ in params.price], "price_e6": [_e(v, 6) for _, v in params.price]})
    mults = pa.table(
        {
            "operator": pa.array([o for o, _ in params.operator_multiplier], pa.string()),
            "mult_e6": pa.array([_e(v, 6) for _, v in params.operator_multiplier], pa.int64()),
        }
    )
    sections = pa.table(
        {
            "section": pa.array(range(1, len(params.section_rates) + 1), pa.int32()),
            "rate_e6": pa.array([_e(r, 6) for _, r in params.section_rates], pa.int64()),
        }
    )
    units = basis.units(scheme)
    tables = {"_units": units, "_prices": prices, "_mults": mults, "_sections": sections}
    cells = basis.compute.run("tariff_values", tables)
    return TariffPlan(cells, [("tariff", _tariff_text(params))])


def _tariff_text(params: PerFetch) -> str:
    text = "price " + ", ".join(f"{p} {v}" for p, v in params.price)
    if params.operator_multiplier:
        text += "; operator multipliers " + ", ".join(f"{o} {v}" for o, v in params.operator_multiplier)
    if params.section_rates:
        text += "; sections " + ", ".join(f"{p} x{r}" for p, r in params.section_rates)
    return text


def operator_totals(plan: TariffPlan, compute: Compute) -> dict[str, Fraction]:
    """Each operator's exact tariff total (what ``implied_by_tariff`` sizes a pool with)."""
    return {k: Fraction(v, 10**SCALE) for k, v in sorted(plan.totals(compute, "operator").items())}


def referral_gap_plan(scheme: Scheme, basis: Basis) -> TariffPlan:
    params = scheme.params
    assert isinstance(params, ReferralGap)
    usage = usage_cells(basis, scheme)
    refs = basis.referrals()
    facts: list[tuple[str, str]] = []
    rpm = _rpm(scheme, basis, refs) if params.mode == "value_offset" else {}
    mults = _ratio_multipliers(params, usage, refs, facts) if params.mode == "ratio_multiplier" else {}
    tables = {
        "_units": usage.to_arrow(),
        "_refs": refs,
        "_rpm": pa.table(
            {"outlet": pa.array(list(rpm), pa.string()), "rpm_e4": pa.array(list(rpm.values()), pa.int64())}
        ),
        "_mults": pa.table(
            {"operator": pa.array(list(mults), pa.string()), "mult_e9": pa.array(list(mults.values()), pa.int64())}
        ),
    }
    values = {
        "mode": params.mode,
        "price_e6": str(_e(params.price, 6)),
        "kappa_e6": str(_e(params.kappa or Decimal(0), 6)),
    }
    cells = basis.compute.run("gap_values", tables, values)
    facts.insert(0, ("referral_gap", f"mode {params.mode}, price {params.price}"))
    return TariffPlan(cells.select(["outlet", "operator", "value", "units_e6", "fetches"]), facts)


def _rpm(scheme: Scheme, basis: Basis, refs: pa.Table) -> dict[str, int]:
    registry = basis.registry()
    known = dict(zip(registry["outlet"].to_pylist(), registry["rpm"].to_pylist(), strict=True))
    referred = sorted({o for o, n in zip(refs["outlet"].to_pylist(), refs["referrals"].to_pylist(), strict=True) if n})
    missing = [o for o in referred if known.get(o) is None]
    if missing:
        raise ConfigError(
            f"scheme '{scheme.name}' (mode = 'value_offset') needs each referred outlet's RPM, and these have none: "
            f"{', '.join(missing[:20])}; set the rpm column with 'royalty outlets import'"
        )
    return {o: _e(Decimal(v), 4) for o, v in known.items() if v is not None}


def _ratio_multipliers(
    params: ReferralGap, usage: pl.DataFrame, refs: pa.Table, facts: list[tuple[str, str]]
) -> dict[str, int]:
    """multiplier[o] = min(M, (ratio_o / ratio_ref)^delta) in 10^-9 (exact for whole deltas)."""
    fetched = _per_operator(usage, "units_e6")
    referred = _per_operator(pl.DataFrame(refs), "referrals")
    assert params.ratio_ref is not None and params.max_multiplier is not None and params.delta is not None
    cap = Fraction(params.max_multiplier)
    result = {}
    for operator in sorted(fetched):
        f, r = Fraction(fetched[operator], E6), referred.get(operator, 0)
        if r == 0:
            multiplier, ratio = cap, "no referrals"
        else:
            rel = f / r / Fraction(params.ratio_ref)
            multiplier = min(cap, _power(rel, params.delta))
            ratio = show(f / r)
        result[operator] = int(multiplier * 10**9)
        facts.append(
            (f"multiplier.{operator}", f"crawl-to-refer {ratio}; multiplier {show(Fraction(result[operator], 10**9))}")
        )
    return result


def _per_operator(frame: pl.DataFrame, column: str) -> dict[str, int]:
    sums = frame.group_by("operator").agg(pl.col(column).cast(pl.Int64).sum())
    return {operator: int(total) for operator, total in sums.rows()}


def _power(base: Fraction, exponent: Decimal) -> Fraction:
    if exponent == exponent.to_integral_value():
        return base ** int(exponent)
    value = Decimal(float(base) ** float(exponent)).quantize(Decimal("0.000000001"))  # documented: 9 places
    return Fraction(value)
