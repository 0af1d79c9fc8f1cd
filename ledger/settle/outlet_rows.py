"""Each outlet's row of a pool allocation (what ``settlement_outlets`` keeps): its status under eligibility
and the constraint layer, its usage, the exact amount before rounding (as a fraction's text), the amount
in minor units, the authors' pass-through part and, for Monte-Carlo Shapley, the standard error.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm
from typing import Any

import polars as pl

from ledger.schemes import Scheme
from ledger.settle.constraints import Filled
from ledger.settle.plans import RETAINED, PoolPlan

ZERO = Fraction(0)


def outlet_rows(
    plan: PoolPlan, scheme: Scheme, cells: pl.DataFrame, totals: dict[str, int], filled: Filled | None
) -> pl.DataFrame:
    """outlet, status, units_e6, fetches, exact, minor, author_minor, std_error, detail: one row per outlet of
    the plan, in the plan's order."""
    paid = cells.group_by("outlet").agg(pl.col("minor").sum())
    frame = plan.outlets.select("outlet", "units_e6", "fetches", "eligible", "reason").join(
        paid, on="outlet", how="left", maintain_order="left"
    )
    names = frame["outlet"].to_list()
    minor = frame["minor"].fill_null(0).cast(pl.Int64)
    exact = exact_by_outlet(plan, totals) if filled is None else filled.amounts
    bound = filled.status if filled is not None else {}
    limited = pl.Series([bound.get(o) for o in names], dtype=pl.String)  # floor, cap, group_cap or paid
    share = Fraction(scheme.constraints.author_share) if scheme.constraints else ZERO
    ineligible = ~pl.col("eligible")
    return frame.select(
        "outlet",
        pl.when(ineligible)
        .then(pl.lit("ineligible"))
        .when(limited.is_not_null())
        .then(limited)
        .when(minor != 0)
        .then(pl.lit("paid"))
        .otherwise(pl.lit("unpaid"))
        .alias("status"),
        pl.col("units_e6").cast(pl.Int64),
        pl.col("fetches").cast(pl.Int64),
        pl.Series("exact", [str(exact.get(o, ZERO)) for o in names], pl.String),
        minor.alias("minor"),
        _authors(minor, share).alias("author_minor"),
        pl.Series("std_error", [plan.std_errors.get(o) for o in names], pl.Float64),
        pl.when(ineligible).then(pl.col("reason").fill_null("")).otherwise(pl.lit("")).alias("detail"),
    )


def _authors(minor: pl.Series, share: Fraction) -> pl.Series:
    """The authors' part of each amount, rounded half-even to the minor unit."""
    if not share:
        return pl.Series([0] * minor.len(), dtype=pl.Int64)
    return pl.Series([round(Fraction(amount) * share) for amount in minor.to_list()], dtype=pl.Int64)


def exact_by_outlet(plan: PoolPlan, totals: dict[str, int]) -> dict[str, Fraction]:
    """Exact unconstrained amounts per outlet, summed over pots with one common denominator."""
    coefficient = {p.name: p.exact / totals[p.name] for p in plan.pots if totals.get(p.name)}
    if not coefficient:
        return {}
    common = lcm(*(c.denominator for c in coefficient.values()))
    scaled = {pot: c.numerator * (common // c.denominator) for pot, c in coefficient.items()}
    shares = plan.shares.filter(pl.col("outlet") != RETAINED)
    sums: dict[str, int] = {}
    for pot, outlet, weight in zip(*columns(shares, "pot", "outlet", "weight"), strict=True):
        sums[outlet] = sums.get(outlet, 0) + scaled[pot] * weight
    return {o: Fraction(v, common) for o, v in sums.items()}


def columns(frame: pl.DataFrame, *names: str) -> list[list[Any]]:
    """The named columns of a frame as Python lists (to zip over: faster than rows of tuples)."""
    return [frame[name].to_list() for name in names]
