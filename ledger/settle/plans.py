"""Pool families as plans: pots (exact amounts), the key that splits each pot over outlets, and the split
of each outlet's share over the operators whose usage earned it.

F2 one pot by qualifying units; F3 one pot by weighted units; F6 one pot by FTE*; F7 one pot per key;
F4 a global pot plus one pot per paying operator; F10 one pot per operator shared by the Shapley value of
the outlets' game; F11 one pot per operator shared answer by answer. Keys are integers (units in
millionths, FTE* in 10^-8, counts), so every split downstream is exact integer arithmetic.

Eligibility (F8 min_fetches, min_fte, F6 min_journalists) is applied here: an ineligible outlet leaves
the pot (``redistribute``) or its part goes to the ``(retained)`` sink (``retain``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import polars as pl

from ledger.errors import ConfigError
from ledger.money import show
from ledger.schemes import Fte, MultiPot, OperatorPools, Scheme, Shapley, Weighting
from ledger.settle.basis import Basis
from ledger.settle.sizing import PoolSize

RETAINED = "(retained)"
ALL = "(all)"
FTE_SCALE = 10**8
E6 = 10**6
KEY_SCALES = {"fetches": E6, "weighted": E6, "fte": FTE_SCALE}
NO_CELLS = pl.DataFrame(schema={"pot": pl.String, "outlet": pl.String, "operator": pl.String, "weight": pl.Int64})


@dataclass
class Pot:
    name: str
    operator: str | None  # a per-operator pot: each outlet's part goes whole to its cell with this operator
    key: str
    exact: Fraction  # major units
    detail: str
    scale: int = 1  # the key's integer weights are key values x scale


@dataclass
class PoolPlan:
    pots: list[Pot]
    shares: pl.DataFrame  # pot, outlet, weight (int), key_value (Decimal text for the trace)
    cells: pl.DataFrame  # pot, outlet, operator, weight (int): how a (pot, outlet) amount splits over operators
    # (pots without an operator only; a per-operator pot needs no split)
    outlets: pl.DataFrame  # outlet, units_e6, fetches, eligible, reason
    cell_usage: pl.DataFrame  # outlet, operator, units_e6, fetches (what the scheme counted per cell)
    answers: pl.DataFrame | None = None  # F11: pot, answer, outlet, weight
    facts: list[tuple[str, str]] = field(default_factory=list)
    std_errors: dict[str, float] = field(default_factory=dict)


def usage_cells(basis: Basis, scheme: Scheme, weighting: Weighting | None = None) -> pl.DataFrame:
    """``cell_usage`` of the basis units, computed once per basis for the schemes settled together."""
    table = basis.units(scheme, weighting)
    frame = basis.once(("cells", id(table)), lambda: cell_usage(table))  # the table stays cached: ids are stable
    assert isinstance(frame, pl.DataFrame)
    return frame


def cell_usage(table: object) -> pl.DataFrame:
    """(outlet, operator) -> units_e6, fetches, from a basis units table."""
    return _cell_usage(table)


def _cell_usage(table: object) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    if frame.height == 0:
        return pl.DataFrame(
            schema={"outlet": pl.String, "operator": pl.String, "units_e6": pl.Int64, "fetches": pl.Int64}
        )
    return (
        frame.group_by("outlet", "operator")
        .agg(pl.col("units_e6").sum(), pl.col("fetches").sum())
        .sort("outlet", "operator")
    )


def registry(basis: Basis) -> pl.DataFrame:
    frame = pl.from_arrow(basis.registry())
    assert isinstance(frame, pl.DataFrame)
    return frame


def cap_counted(cells: pl.DataFrame, scheme: Scheme) -> pl.DataFrame:
    """F8's cap on counted usage per operator and outlet."""
    limit = scheme.constraints.max_units_per_operator if scheme.constraints else None
    if limit is None:
        return cells
    return cells.with_columns(pl.col("units_e6").clip(upper_bound=int(limit * E6)))


# --- eligibility ------------------------------------------------------------------------------------------------


def outlets_frame(
    scheme: Scheme, usage: pl.DataFrame, reg: pl.DataFrame, min_journalists: Decimal = Decimal(0)
) -> pl.DataFrame:
    """Every outlet the period knows (registered or with usage) with its fetches and eligibility."""
    per = usage.group_by("outlet").agg(pl.col("units_e6").sum(), pl.col("fetches").sum())
    known = pl.concat([reg.select("outlet"), per.select("outlet")]).unique()
    frame = known.join(per, on="outlet", how="left").join(reg, on="outlet", how="left")
    registered = pl.col("outlet").is_in(reg["outlet"].to_list())
    frame = frame.with_columns(
        pl.col("units_e6").fill_null(0), pl.col("fetches").fill_null(0), registered.alias("registered")
    )
    c = scheme.constraints
    assert c is not None
    reasons = []
    if c.min_fetches > 0:
        reasons.append(pl.when(pl.col("fetches") < c.min_fetches).then(pl.lit(f"fewer than {c.min_fetches} fetches")))
    for label, minimum in (("min_fte", c.min_fte), ("min_journalists", min_journalists)):
        if minimum > 0:
            low = pl.col("fte").is_null() | (pl.col("fte").cast(pl.Float64) < float(minimum))
            reasons.append(pl.when(low).then(pl.lit(f"journalist FTE below {minimum} ({label})")))
    joined = pl.concat_str(reasons, separator="; ", ignore_nulls=True) if reasons else pl.lit("")
    reason = pl.when(joined == "").then(pl.lit(None, pl.String)).otherwise(joined)
    return (
        frame.with_columns(reason.alias("reason"))
        .with_columns(pl.col("reason").is_null().alias("eligible"))
        .sort("outlet")
    )


def apply_eligibility(shares: pl.DataFrame, outlets: pl.DataFrame, scheme: Scheme) -> pl.DataFrame:
    """Drop ineligible outlets from each pot, or move their weight to the retained sink."""
    eligible = set(outlets.filter(pl.col("eligible"))["outlet"].to_list())
    inside = shares.filter(pl.col("outlet").is_in(list(eligible)))
    assert scheme.constraints is not None
    if scheme.constraints.below_threshold == "redistribute":
        return inside
    outside = shares.filter(~pl.col("outlet").is_in(list(eligible)))
    sink = (
        outside.group_by("pot")
        .agg(pl.col("weight").sum())
        .with_columns(pl.lit(RETAINED).alias("outlet"), pl.lit("-").alias("key_value"))
    )
    return pl.concat([inside, sink.select(inside.columns)]) if sink.height else inside


# --- keys ----------------------------------------------------------------------------------------------------------


def key_shares(
    pot: str, key: str, scheme: Scheme, basis: Basis, usage: pl.DataFrame, outlets: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(shares, cells) of one pot split by ``key``."""
    if key in ("fetches", "weighted"):
        cells = usage if key == "fetches" else cap_counted(usage_cells(basis, scheme, scheme.weighting), scheme)
        return _usage_key(pot, cells.rename({"units_e6": "weight"}), E6)
    if key == "referrals":
        refs = pl.from_arrow(basis.referrals())
        assert isinstance(refs, pl.DataFrame)
        return _usage_key(pot, refs.rename({"referrals": "weight"}), 1)
    if key == "unique_urls":
        urls = pl.from_arrow(basis.unique_urls(scheme))
        assert isinstance(urls, pl.DataFrame)
        per_outlet = urls.filter(pl.col("operator") == "*").rename({"urls": "weight"})
        shares = per_outlet.select(
            pl.lit(pot).alias("pot"), "outlet", "weight", pl.col("weight").cast(pl.String).alias("key_value")
        )
        cells = urls.filter(pl.col("operator") != "*").select(
            pl.lit(pot).alias("pot"), "outlet", "operator", pl.col("urls").alias("weight")
        )
        return shares, cells
    if key == "fte":
        weight = getattr(scheme.params, "regional_weight", Decimal(1))
        return _fte_key(pot, scheme, outlets, weight)
    return _equal_key(pot, outlets)


def _usage_key(pot: str, cells: pl.DataFrame, scale: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    cells = cells.filter(pl.col("weight") > 0)
    shares = cells.group_by("outlet").agg(pl.col("weight").sum()).sort("outlet")
    text = (pl.col("weight") / scale).cast(pl.String) if scale != 1 else pl.col("weight").cast(pl.String)
    shares = shares.select(pl.lit(pot).alias("pot"), "outlet", "weight", text.alias("key_value"))
    return shares, cells.select(pl.lit(pot).alias("pot"), "outlet", "operator", "weight")


def fte_star(scheme: Scheme, outlets: pl.DataFrame, regional_weight: Decimal) -> dict[str, Fraction]:
    """FTE* = (fte - regional_fte) + regional_weight x regional_fte, for eligible outlets; missing data is an
    error naming the outlets concerned."""
    rows = outlets.filter(pl.col("eligible") & pl.col("registered")).select("outlet", "fte", "regional_fte").rows()
    missing = sorted(o for o, fte, _ in rows if fte is None)
    if missing:
        raise ConfigError(
            f"scheme '{scheme.name}' shares by journalist FTE, and these outlets have none: {', '.join(missing[:20])}"
            f"{' ...' if len(missing) > 20 else ''}; set fte (and regional_fte) with 'royalty outlets import'"
        )
    bad = sorted(o for o, fte, reg in rows if reg is not None and reg > fte)
    if bad:
        raise ConfigError(
            f"scheme '{scheme.name}': regional_fte is part of fte and cannot exceed it, for outlets {', '.join(bad)}"
        )
    w = Fraction(regional_weight)
    return {o: Fraction(fte) - Fraction(reg or 0) + w * Fraction(reg or 0) for o, fte, reg in rows}


def _fte_key(
    pot: str, scheme: Scheme, outlets: pl.DataFrame, regional_weight: Decimal
) -> tuple[pl.DataFrame, pl.DataFrame]:
    stars = fte_star(scheme, outlets, regional_weight)
    names = [o for o in sorted(stars) if stars[o] > 0]
    weights = [int(stars[o] * FTE_SCALE) for o in names]
    shares = pl.DataFrame(
        {"pot": [pot] * len(names), "outlet": names, "weight": weights, "key_value": [show(stars[o]) for o in names]},
        schema={"pot": pl.String, "outlet": pl.String, "weight": pl.Int64, "key_value": pl.String},
    )
    return shares, _all_cells(pot, names)


def _equal_key(pot: str, outlets: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    names = sorted(outlets["outlet"].to_list())
    shares = pl.DataFrame(
        {"pot": [pot] * len(names), "outlet": names, "weight": [1] * len(names), "key_value": ["1"] * len(names)},
        schema={"pot": pl.String, "outlet": pl.String, "weight": pl.Int64, "key_value": pl.String},
    )
    return shares, _all_cells(pot, names)


def _all_cells(pot: str, names: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"pot": [pot] * len(names), "outlet": names, "operator": [ALL] * len(names), "weight": [1] * len(names)},
        schema={"pot": pl.String, "outlet": pl.String, "operator": pl.String, "weight": pl.Int64},
    )


# --- the families --------------------------------------------------------------------------------------------------


def single_key_plan(scheme: Scheme, basis: Basis, pool: PoolSize, key: str, total: Fraction) -> PoolPlan:
    """F2 (fetches), F3 (weighted), F6 (fte): one pot."""
    usage = cap_counted(usage_cells(basis, scheme), scheme)
    journalists = scheme.params.min_journalists if isinstance(scheme.params, Fte) else Decimal(0)
    outlets = outlets_frame(scheme, usage, registry(basis), journalists)
    shares, cells = key_shares("pool", key, scheme, basis, usage, outlets)
    counted = usage if key != "weighted" else cap_counted(usage_cells(basis, scheme, scheme.weighting), scheme)
    pot = Pot("pool", None, key, total, "; ".join(pool.lines), KEY_SCALES.get(key, 1))
    return PoolPlan([pot], apply_eligibility(shares, outlets, scheme), cells, outlets, counted)


def multi_pot_plan(scheme: Scheme, basis: Basis, pool: PoolSize, total: Fraction) -> PoolPlan:
    """F7: one pot per key with its share of the pool."""
    params = scheme.params
    assert isinstance(params, MultiPot)
    usage = cap_counted(usage_cells(basis, scheme), scheme)
    outlets = outlets_frame(scheme, usage, registry(basis))
    pots, all_shares, all_cells = [], [], []
    for key, share in params.pots:
        shares, cells = key_shares(key, key, scheme, basis, usage, outlets)
        pots.append(
            Pot(key, None, key, total * Fraction(share), f"{share} of P_net {show(total)}", KEY_SCALES.get(key, 1))
        )
        all_shares.append(apply_eligibility(shares, outlets, scheme))
        all_cells.append(cells)
    return PoolPlan(pots, pl.concat(all_shares), pl.concat(all_cells), outlets, usage)


def operator_amounts(pool: PoolSize, usage: pl.DataFrame, total: Fraction) -> tuple[dict[str, Fraction], str]:
    """Each paying operator's exact part of ``total``: its payment, or (fixed pool) its share of usage."""
    if pool.operators is not None:
        whole = sum(pool.operators.values(), Fraction(0))
        parts = {o: (total * c / whole if whole else Fraction(0)) for o, c in pool.operators.items()}
        return parts, "operators' payments"
    per = usage.group_by("operator").agg(pl.col("weight").sum()).sort("operator").rows()
    whole = sum(w for _, w in per)
    return ({o: total * Fraction(w, whole) for o, w in per} if whole else {}), "a fixed pool split by usage share"


def operator_pools_plan(scheme: Scheme, basis: Basis, pool: PoolSize, total: Fraction) -> PoolPlan:
    """F4: lambda_global of the pool by global key share, the rest operator by operator."""
    params = scheme.params
    assert isinstance(params, OperatorPools)
    usage = cap_counted(usage_cells(basis, scheme), scheme)
    outlets = outlets_frame(scheme, usage, registry(basis))
    shares, cells = key_shares("global", params.basis, scheme, basis, usage, outlets)
    lam = Fraction(params.lambda_global)
    scale = KEY_SCALES.get(params.basis, 1)
    pots = [
        Pot("global", None, params.basis, total * lam, f"lambda_global {params.lambda_global} of {show(total)}", scale)
    ]
    parts, source = operator_amounts(pool, cells, total * (1 - lam))
    op_shares = cells.filter((pl.col("weight") > 0) & pl.col("operator").is_in(list(parts))).select(
        ("op:" + pl.col("operator")).alias("pot"),
        "outlet",
        "weight",
        (pl.col("weight") / scale).cast(pl.String).alias("key_value"),
    )
    for operator, amount in sorted(parts.items()):
        pots.append(Pot(f"op:{operator}", operator, params.basis, amount, f"{source}: {show(amount)}", scale))
    shares = pl.concat([shares, op_shares])
    return PoolPlan(pots, apply_eligibility(shares, outlets, scheme), cells, outlets, usage)


def shapley_plan(scheme: Scheme, basis: Basis, pool: PoolSize, total: Fraction) -> PoolPlan:
    """F10: each operator's pot shared by the outlets' Shapley values in its game."""
    from ledger.settle.games import WEIGHT_SCALE, game_shares

    params = scheme.params
    assert isinstance(params, Shapley)
    usage = cap_counted(usage_cells(basis, scheme), scheme)
    outlets = outlets_frame(scheme, usage, registry(basis))
    weights = usage.rename({"units_e6": "weight"})
    parts, source = operator_amounts(pool, weights, total)
    shares, errors, facts = game_shares(params, weights, parts)
    scale = 1 if params.method == "closed_form" else WEIGHT_SCALE
    pots = [Pot(f"op:{o}", o, params.value, a, f"{source}: {show(a)}", scale) for o, a in sorted(parts.items())]
    plan = PoolPlan(pots, apply_eligibility(shares, outlets, scheme), NO_CELLS, outlets, usage, facts=facts)
    plan.std_errors = errors
    return plan
