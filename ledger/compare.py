"""Side-by-side comparison of schemes: payouts per outlet under each, distribution metrics, Lorenz points,
and winners and losers between every two schemes.

Every outlet the period knows counts (registered or with usage; an outlet paid nothing still counts).
"Usage" is the same baseline for every scheme: qualifying fetches under the default filters and weights
(AI purposes, 2xx GETs of pages, spoofed claims weighted 0), from which come the payout per fetch and
the dissimilarity from a pure usage split. Metric formulas: ``ledger.metrics`` and docs/schemes.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from ledger.metrics import (
    Ints,
    atkinson,
    churn,
    correlations,
    dissimilarity,
    gini,
    hhi,
    hhi_normalised,
    lorenz,
    palma,
    per_fetch,
    theil,
    top_share,
)
from ledger.money import to_decimal
from ledger.period import Period
from ledger.schemes import Scheme, SchemeFile, parse_schemes
from ledger.settle import Basis, Settlement, settle_many
from ledger.store.db import Ledger

__all__ = ["Comparison", "compare", "gini", "hhi", "metrics_row", "top_share"]

CR = (1, 4, 10)
EPSILONS = (0.5, 1.0, 2.0)
BASELINE = parse_schemes("[schemes.usage]\nfamily = 'per_fetch'\nprice = {training = 1}\n").get("usage")


@dataclass(frozen=True)
class Comparison:
    period: str
    settlements: tuple[Settlement, ...]
    payouts: pa.Table  # outlet, then one amount column per scheme
    metrics: pa.Table  # one row per scheme
    lorenz: pa.Table  # scheme, population_share, payout_share
    pairs: pa.Table  # one row per two schemes: winners, losers, churn, rank correlations
    deltas: pa.Table  # one row per two schemes and outlet
    outlets: pa.Table  # one row per scheme and outlet: amount, share, usage, payout per fetch, rank

    def tables(self) -> dict[str, pa.Table]:
        return {
            "payouts": self.payouts,
            "metrics": self.metrics,
            "lorenz": self.lorenz,
            "pairs": self.pairs,
            "deltas": self.deltas,
            "outlets": self.outlets,
        }


@dataclass(frozen=True)
class Usage:
    outlets: list[str]
    fetches: dict[str, int]
    units_e6: dict[str, int]  # qualifying units in millionths

    @property
    def units(self) -> dict[str, Fraction]:
        return {o: Fraction(u, 10**6) for o, u in self.units_e6.items()}


def baseline_usage(ledger: Ledger, basis: Basis) -> Usage:
    """Every outlet of the period with its qualifying fetches and units under the default filters."""
    frame = pl.from_arrow(basis.units(BASELINE))
    assert isinstance(frame, pl.DataFrame)
    per = frame.group_by("outlet").agg(pl.col("units_e6").sum(), pl.col("fetches").sum()).sort("outlet")
    fetches = dict(zip(per["outlet"].to_list(), per["fetches"].to_list(), strict=True))
    units = {o: int(u) for o, u in zip(per["outlet"].to_list(), per["units_e6"].to_list(), strict=True)}
    registered = basis.registry()["outlet"].to_pylist()
    return Usage(list(dict.fromkeys([*sorted(registered), *sorted(set(fetches) - set(registered))])), fetches, units)


def compare(
    ledger: Ledger,
    schemes: SchemeFile,
    period: Period,
    *,
    names: Sequence[str] | None = None,
    lorenz_points: int = 20,
    store: bool = True,
) -> Comparison:
    """Settle every scheme of the file (or those named) over ``period`` and put the results side by side."""
    chosen: list[Scheme] = [schemes.get(n) for n in names] if names else list(schemes.schemes.values())
    basis = Basis(ledger, period)
    runs = tuple(settle_many(ledger, chosen, period, basis=basis, store=store))
    return comparison(runs, baseline_usage(ledger, basis), period.label, lorenz_points)


def comparison(runs: Sequence[Settlement], usage: Usage, period: str, lorenz_points: int = 20) -> Comparison:
    """The side-by-side tables of settled runs (amounts in 10^-4 currency units internally, exactly)."""
    outlets = list(usage.outlets)
    known = set(outlets)
    paid: dict[str, dict[str, int]] = {}
    for run in runs:
        amounts = dict(zip(run.payouts["outlet"].to_pylist(), run.payouts["amount"].to_pylist(), strict=True))
        outlets += [o for o in sorted(amounts) if o not in known]
        known |= set(amounts)
        paid[run.scheme] = {o: int(a.scaleb(4)) for o, a in amounts.items()}
    vectors = {r.scheme: Ints(paid[r.scheme].get(o, 0) for o in outlets) for r in runs}
    ordered = {scheme: Ints(sorted(values)) for scheme, values in vectors.items()}
    arrays = {scheme: np.array(values, np.int64) for scheme, values in vectors.items()}
    return Comparison(
        period,
        tuple(runs),
        _payouts(runs, outlets, vectors),
        pa.Table.from_pylist([metrics_row(r, vectors[r.scheme], outlets, usage, ordered[r.scheme]) for r in runs]),
        _lorenz(runs, ordered, lorenz_points),
        _pairs(runs, vectors, arrays),
        _deltas(runs, arrays, outlets),
        _outlets(runs, arrays, outlets, usage),
    )


def _scale(run: Settlement) -> int:
    return int(run.payouts.schema.field("amount").type.scale)


def _payouts(runs: Sequence[Settlement], outlets: list[str], vectors: Mapping[str, Sequence[int]]) -> pa.Table:
    columns: dict[str, pa.Array] = {"outlet": pa.array(outlets, type=pa.string())}
    for run in runs:
        columns[run.scheme] = _decimals(vectors[run.scheme], 4).cast(pa.decimal128(38, _scale(run)))
    return pa.table(columns)


def _decimals(units: Sequence[int], places: int) -> pa.Array:
    """Integers of 10^-places as an exact DECIMAL(38, places) column."""
    return pa.array([Decimal(u).scaleb(-places) for u in units], pa.decimal128(38, places))


def _round(value: Fraction | None, places: int) -> Decimal | None:
    return None if value is None else to_decimal(value, places)


def _float(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def metrics_row(
    run: Settlement, values: list[int], outlets: list[str], usage: Usage, ordered: Ints | None = None
) -> dict[str, Any]:
    """The metrics of one run's payouts (``values``: integers of 10^-4 currency units, one per outlet;
    ``ordered``: the same values sorted, for the metrics that do not depend on the order)."""
    values = values if isinstance(values, Ints) else Ints(int(v) for v in values)
    ordered = ordered if ordered is not None else Ints(sorted(values))
    mean, cv = per_fetch(values, [usage.fetches.get(o, 0) for o in outlets])
    row: dict[str, Any] = {
        "scheme": run.scheme,
        "family": run.family,
        "run_id": run.run_id,
        "currency": run.currency,
        "total": run.total,
        "retained": run.retained,
        "outlets": len(values),
        "outlets_paid": sum(1 for v in values if v > 0),
        "gini": _round(gini(ordered), 4),
        "hhi": _round(hhi(ordered), 1),
        "hhi_normalised": _round(hhi_normalised(ordered), 4),
        "top5_share": _round(top_share(ordered, 5), 4),
    }
    row.update({f"cr{k}": _round(top_share(ordered, k), 4) for k in CR})
    row["palma"] = _round(palma(ordered), 4)
    row["theil"] = _float(theil(values))
    row.update({f"atkinson_{e:g}": _float(atkinson(values, e)) for e in EPSILONS})
    row["per_fetch"] = _round(mean / 10**4 if mean is not None else None, 6)
    row["per_fetch_cv"] = _float(cv)
    row["dissimilarity"] = _round(dissimilarity(values, Ints(usage.units_e6.get(o, 0) for o in outlets)), 4)
    return row


def _lorenz(runs: Sequence[Settlement], ordered: Mapping[str, Ints], points: int) -> pa.Table:
    rows = []
    for run in runs:
        for p, share in lorenz(ordered[run.scheme], points):
            rows.append({"scheme": run.scheme, "population_share": _round(p, 4), "payout_share": _round(share, 6)})
    schema = pa.schema(
        [("scheme", pa.string()), ("population_share", pa.decimal128(9, 4)), ("payout_share", pa.decimal128(9, 6))]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _pairs(runs: Sequence[Settlement], vectors: Mapping[str, Ints], arrays: Mapping[str, np.ndarray]) -> pa.Table:
    rows = []
    floats = {scheme: values.astype(float) for scheme, values in arrays.items()}
    for a, b in combinations(runs, 2):
        x, y = arrays[a.scheme], arrays[b.scheme]
        rho, tau = correlations(floats[a.scheme], floats[b.scheme])
        n = len(x) or 1
        gaining = int(np.count_nonzero(y > x))
        rows.append(
            {
                "scheme_a": a.scheme,
                "scheme_b": b.scheme,
                "outlets_gaining": gaining,
                "outlets_losing": int(np.count_nonzero(y < x)),
                "outlets_unchanged": int(np.count_nonzero(y == x)),
                "share_gaining": _round(Fraction(gaining, n), 4),
                "total_delta": Decimal(sum(vectors[b.scheme]) - sum(vectors[a.scheme])).scaleb(-4),
                "churn": _round(churn(vectors[a.scheme], vectors[b.scheme]), 4),
                "spearman": _float(rho),
                "kendall_tau_b": _float(tau),
            }
        )
    return pa.Table.from_pylist(rows, schema=_PAIRS_SCHEMA)


_PAIRS_SCHEMA = pa.schema(
    [
        ("scheme_a", pa.string()),
        ("scheme_b", pa.string()),
        ("outlets_gaining", pa.int64()),
        ("outlets_losing", pa.int64()),
        ("outlets_unchanged", pa.int64()),
        ("share_gaining", pa.decimal128(9, 4)),
        ("total_delta", pa.decimal128(38, 4)),
        ("churn", pa.decimal128(9, 4)),
        ("spearman", pa.float64()),
        ("kendall_tau_b", pa.float64()),
    ]
)


def _ranks(values: np.ndarray) -> np.ndarray:
    """1 = best paid; ties share the best rank (competition ranking)."""
    from scipy import stats  # imported here: it takes half a second, and most commands never need it

    return np.asarray(stats.rankdata(-values, method="min"), dtype=np.int64)


def _shares(values: np.ndarray) -> np.ndarray:
    total = values.sum()
    return np.round(values / total, 6) if total else np.zeros(len(values))


def _deltas(runs: Sequence[Settlement], arrays: Mapping[str, np.ndarray], outlets: list[str]) -> pa.Table:
    frames = []
    shares = {scheme: _shares(values.astype(float)) for scheme, values in arrays.items()}
    ranks = {scheme: _ranks(values) for scheme, values in arrays.items()}
    for a, b in combinations(runs, 2):
        x, y = arrays[a.scheme], arrays[b.scheme]
        frames.append(
            pl.DataFrame(
                {
                    "scheme_a": [a.scheme] * len(outlets),
                    "scheme_b": [b.scheme] * len(outlets),
                    "outlet": outlets,
                    "amount_a": x,
                    "amount_b": y,
                    "delta": y - x,
                    "share_a": shares[a.scheme],
                    "share_b": shares[b.scheme],
                    "rank_a": ranks[a.scheme],
                    "rank_b": ranks[b.scheme],
                }
            )
        )
    if not frames:
        return _money(pl.DataFrame(schema=_DELTA_SCHEMA), ("amount_a", "amount_b", "delta"))
    return _money(pl.concat(frames), ("amount_a", "amount_b", "delta"))


_DELTA_SCHEMA = {
    "scheme_a": pl.String,
    "scheme_b": pl.String,
    "outlet": pl.String,
    "amount_a": pl.Int64,
    "amount_b": pl.Int64,
    "delta": pl.Int64,
    "share_a": pl.Float64,
    "share_b": pl.Float64,
    "rank_a": pl.Int64,
    "rank_b": pl.Int64,
}


def _money(frame: pl.DataFrame, columns: tuple[str, ...]) -> pa.Table:
    """Integer columns of 10^-4 currency units as exact DECIMAL(38, 4) columns."""
    scaled = frame.with_columns(
        (pl.col(c).cast(pl.Decimal(38, 0)) * pl.lit(Decimal("0.0001"), pl.Decimal(38, 4))).cast(pl.Decimal(38, 4))
        for c in columns
    )
    return scaled.to_arrow()


def _outlets(
    runs: Sequence[Settlement], arrays: Mapping[str, np.ndarray], outlets: list[str], usage: Usage
) -> pa.Table:
    fetches = np.array([usage.fetches.get(o, 0) for o in outlets], np.int64)
    units = np.array([float(usage.units_e6.get(o, 0)) for o in outlets])
    frames = []
    for run in runs:
        values = arrays[run.scheme]
        per = np.where(fetches > 0, np.round(values / 10**4 / np.maximum(fetches, 1), 6), np.nan)
        frames.append(
            pl.DataFrame(
                {
                    "scheme": [run.scheme] * len(outlets),
                    "outlet": outlets,
                    "amount": values,
                    "share": _shares(values.astype(float)),
                    "usage_fetches": fetches,
                    "usage_share": _shares(units),
                    "per_fetch": per,
                    "rank": _ranks(values),
                }
            ).with_columns(pl.col("per_fetch").fill_nan(None))
        )
    if not frames:
        return pl.DataFrame(schema={"scheme": pl.String, "outlet": pl.String}).to_arrow()
    return _money(pl.concat(frames), ("amount",))
