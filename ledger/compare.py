"""Side-by-side comparison of schemes: payouts per outlet under each, and distribution metrics.

Metrics are computed over every outlet in the registry (an outlet paid nothing still counts):
Gini ``G = 2*sum_i i*x_(i) / (n*sum x) - (n+1)/n`` with payouts sorted ascending; HHI
``sum (100*s_i)^2`` on payout shares (0-10,000; 1,500-2,500 moderate, above 2,500 highly concentrated in
the US DOJ/FTC 2023 guidelines); top-5 share, the part of the money the five best-paid outlets receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pyarrow as pa

from ledger.period import Period
from ledger.schemes import SchemeFile
from ledger.settle import Settlement, settle
from ledger.store.db import Ledger


@dataclass(frozen=True)
class Comparison:
    period: str
    settlements: tuple[Settlement, ...]
    payouts: pa.Table  # outlet, then one amount column per scheme
    metrics: pa.Table  # scheme, family, run_id, currency, total, outlets_paid, gini, hhi, top5_share


def gini(values: list[Fraction]) -> Fraction:
    n = len(values)
    total = sum(values, Fraction(0))
    if n == 0 or total == 0:
        return Fraction(0)
    ordered = sorted(values)
    weighted = sum((i * x for i, x in enumerate(ordered, start=1)), Fraction(0))
    return 2 * weighted / (n * total) - Fraction(n + 1, n)


def hhi(values: list[Fraction]) -> Fraction:
    total = sum(values, Fraction(0))
    if total == 0:
        return Fraction(0)
    return sum(((100 * x / total) ** 2 for x in values), Fraction(0))


def top_share(values: list[Fraction], k: int = 5) -> Fraction:
    total = sum(values, Fraction(0))
    if total == 0:
        return Fraction(0)
    return sum(sorted(values, reverse=True)[:k], Fraction(0)) / total


def _round(value: Fraction, places: int) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(1).scaleb(-places))


def compare(ledger: Ledger, schemes: SchemeFile, period: Period) -> Comparison:
    """Settle every scheme of the file over ``period`` and put the results side by side."""
    runs = tuple(settle(ledger, scheme, period) for scheme in schemes.schemes.values())
    outlets = [row["slug"] for row in ledger.rows("SELECT slug FROM outlets ORDER BY slug")]
    amounts: dict[str, dict[str, Decimal]] = {}
    for run in runs:
        paid = dict(zip(run.payouts["outlet"].to_pylist(), run.payouts["amount"].to_pylist(), strict=True))
        amounts[run.scheme] = {o: paid.get(o, Decimal(0)) for o in outlets}
        for extra in set(paid) - set(outlets):  # usage of an outlet since removed from the registry
            outlets.append(extra)
            amounts[run.scheme][extra] = paid[extra]
    columns = {"outlet": pa.array(outlets, type=pa.string())}
    for run in runs:
        scale = run.payouts.schema.field("amount").type.scale
        values = [amounts[run.scheme].get(o, Decimal(0)) for o in outlets]
        columns[run.scheme] = pa.array(values, type=pa.decimal128(38, scale))
    payouts = pa.table(columns)
    metrics = pa.Table.from_pylist(
        [_metrics(run, [Fraction(amounts[run.scheme].get(o, 0)) for o in outlets]) for run in runs]
    )
    return Comparison(period.label, runs, payouts, metrics)


def _metrics(run: Settlement, values: list[Fraction]) -> dict[str, object]:
    return {
        "scheme": run.scheme,
        "family": run.family,
        "run_id": run.run_id,
        "currency": run.currency,
        "total": run.total,
        "outlets_paid": sum(1 for v in values if v > 0),
        "gini": _round(gini(values), 4),
        "hhi": _round(hhi(values), 1),
        "top5_share": _round(top_share(values, 5), 4),
    }
