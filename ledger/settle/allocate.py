"""From a plan to whole minor units: pots -> outlets -> operators, each step an exact largest-remainder split.

Pools without floors or caps go pot-first: the pool's minor units are split over the pots (by their exact
amounts), each pot over its outlets (by key), each outlet's part of a pot over the operators behind it.
With floors, caps or group caps (F8) the outlets come first: their exact unconstrained amounts are
water-filled, rounded (groups first), then split back over pots and operators. Either way every split
adds up exactly, and what cannot be paid (an empty pot, ineligible outlets under 'retain') is retained.
Tariffs round exact cell values once, with the total rounded half-even.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm

import polars as pl
import pyarrow as pa

from ledger.errors import ConfigError, did_you_mean
from ledger.money import largest_remainder, to_minor
from ledger.schemes import Scheme
from ledger.settle import constraints as f8
from ledger.settle.engine import AllocationError, Compute, edges, parents
from ledger.settle.outlet_rows import columns, outlet_rows
from ledger.settle.plans import RETAINED, PoolPlan, Pot
from ledger.settle.tariffs import SCALE, TariffPlan


@dataclass
class PotResult:
    pot: Pot
    minor: int
    retained: int
    key_total: Fraction  # the sum of the key over the outlets sharing the pot, in key units


@dataclass
class Allocation:
    cells: pl.DataFrame  # outlet, operator, units_e6, fetches, minor
    outlets: pl.DataFrame  # outlet, status, units_e6, fetches, exact, minor, author_minor, std_error, detail
    pots: list[PotResult]
    shares: pl.DataFrame  # pot, outlet, key_value, minor
    paid: int
    retained: int
    facts: list[tuple[str, str]] = field(default_factory=list)


# --- tariffs ---------------------------------------------------------------------------------------------------


def allocate_tariff(plan: TariffPlan, scheme: Scheme, compute: Compute) -> Allocation:
    m = scheme.minor_units
    sums = plan.totals(compute, "outlet")
    per_outlet = {k: Fraction(v, 10**SCALE) for k, v in sums.items()}
    exact = Fraction(sum(sums.values()), 10**SCALE)
    total = to_minor(exact, m)
    params = {"scale": str(10 ** (SCALE - m)), "total": str(total)}
    cells = _frame(compute.run("tariff_round", {"_values": plan.cells}, params))
    if int(cells["minor"].sum() or 0) != total:
        raise AllocationError(f"rounded tariff amounts do not add up to {total}")
    outlets = _tariff_outlets(cells, per_outlet)
    shares = outlets.select(
        pl.lit("tariff").alias("pot"),
        "outlet",
        (pl.col("units_e6") / 10**6).cast(pl.String).alias("key_value"),
        "minor",
    )
    pot = Pot("tariff", None, "tariff", exact, "; ".join(v for _, v in plan.facts))
    units = Fraction(int(cells["units_e6"].sum() or 0), 10**6)
    return Allocation(cells, outlets, [PotResult(pot, total, 0, units)], shares, total, 0, plan.facts)


def _tariff_outlets(cells: pl.DataFrame, exact: dict[str, Fraction]) -> pl.DataFrame:
    per = cells.group_by("outlet").agg(pl.col("units_e6").sum(), pl.col("fetches").sum(), pl.col("minor").sum())
    per = per.sort("outlet")
    return per.with_columns(
        pl.when(pl.col("minor") > 0).then(pl.lit("paid")).otherwise(pl.lit("unpaid")).alias("status"),
        pl.Series("exact", [str(exact.get(o, 0)) for o in per["outlet"].to_list()], pl.String),
        pl.lit(0, pl.Int64).alias("author_minor"),
        pl.lit(None, pl.Float64).alias("std_error"),
        pl.lit("").alias("detail"),
    )


# --- pools -------------------------------------------------------------------------------------------------------


def allocate_pool(plan: PoolPlan, scheme: Scheme, basis_registry: pl.DataFrame, compute: Compute) -> Allocation:
    m = scheme.minor_units
    pool_minor = to_minor(sum((p.exact for p in plan.pots), Fraction(0)), m)
    totals = dict(plan.shares.group_by("pot").agg(pl.col("weight").sum()).rows())
    constrained = scheme.constraints is not None and scheme.constraints.water_filling
    facts = list(plan.facts)
    parts = exact_outlet_amounts(plan, totals)[0] if constrained else {}
    if constrained and not _binds(parts, scheme, basis_registry):
        constrained = False
        facts.append(("lambda", "1 (no floor, cap or group cap binds)"))
    if constrained:
        pot_outlet, filled = _outlets_first(parts, scheme, basis_registry, pool_minor, compute, facts)
    else:
        pot_outlet, filled = _pots_first(plan, scheme, totals, pool_minor, compute), None
    paid_shares = pot_outlet.filter(pl.col("outlet") != RETAINED)
    cells = _to_cells(plan, paid_shares, compute)
    paid = int(paid_shares["minor"].sum() or 0)
    outlets = outlet_rows(plan, scheme, cells, totals, filled)
    pots = _pot_results(plan, pot_outlet)
    shares = (
        plan.shares.filter(pl.col("outlet") != RETAINED)
        .join(paid_shares.select("pot", "outlet", "minor"), on=["pot", "outlet"], how="left")
        .with_columns(pl.col("minor").fill_null(0))
        .select("pot", "outlet", "key_value", "minor")
    )
    return Allocation(cells, outlets, pots, shares, paid, pool_minor - paid, facts)


def _pots_first(
    plan: PoolPlan, scheme: Scheme, totals: dict[str, int], pool_minor: int, compute: Compute
) -> pl.DataFrame:
    """pot, outlet, minor (outlet '(retained)' for what is kept back)."""
    m = scheme.minor_units
    exact = {p.name: p.exact for p in plan.pots}
    per_pot = largest_remainder(exact, pool_minor, m) if exact else {}
    rows = [(p, RETAINED, per_pot[p]) for p in sorted(per_pot) if per_pot[p] and not totals.get(p)]
    funded = parents(
        [p for p in sorted(per_pot) if totals.get(p)], [per_pot[p] for p in sorted(per_pot) if totals.get(p)]
    )
    if plan.answers is not None:
        return _through_answers(plan, funded, compute, rows)
    split = compute.split(funded, _edges(plan.shares, "pot", "outlet"))
    frame = _frame(split).rename({"parent": "pot", "child": "outlet"})
    empty = pl.DataFrame(rows, schema={"pot": pl.String, "outlet": pl.String, "minor": pl.Int64}, orient="row")
    return pl.concat([frame, empty])


def _through_answers(
    plan: PoolPlan, funded: pa.Table, compute: Compute, rows: list[tuple[str, str, int]]
) -> pl.DataFrame:
    """F11: each operator's pot split equally over its answers, each answer over its outlets."""
    answers = plan.answers
    assert answers is not None
    keys = (
        answers.select("pot", "answer")
        .unique()
        .sort("pot", "answer")
        .select("pot", (pl.col("pot") + "\x1f" + pl.col("answer")).alias("key"), pl.lit(1, pl.Int64).alias("weight"))
    )
    first = compute.split(funded, _edges(keys, "pot", "key"))
    inner = _edges(answers.with_columns((pl.col("pot") + "\x1f" + pl.col("answer")).alias("key")), "key", "outlet")
    second = _frame(compute.split(first.rename_columns(["x", "parent", "minor"]).select(["parent", "minor"]), inner))
    frame = (
        second.with_columns(pl.col("parent").str.split("\x1f").list.first().alias("pot"))
        .group_by("pot", "child")
        .agg(pl.col("minor").sum())
        .rename({"child": "outlet"})
        .select("pot", "outlet", "minor")
    )
    empty = pl.DataFrame(rows, schema={"pot": pl.String, "outlet": pl.String, "minor": pl.Int64}, orient="row")
    return pl.concat([frame, empty])


def _edges(frame: pl.DataFrame, parent: str, child: str) -> pa.Table:
    """An edges table (parent, child, weight) from two columns of a frame and its integer weights."""
    return frame.select(
        pl.col(parent).alias("parent"), pl.col(child).alias("child"), pl.col("weight").cast(pl.Int64)
    ).to_arrow()


# --- pools with floors and caps: outlets first ----------------------------------------------------------------


def exact_outlet_amounts(plan: PoolPlan, totals: dict[str, int]) -> tuple[dict[tuple[str, str], Fraction], Fraction]:
    """Each (pot, outlet)'s exact unconstrained amount, and the exact amount retained."""
    amounts: dict[tuple[str, str], Fraction] = {}
    retained = Fraction(0)
    by_pot = {p.name: p.exact for p in plan.pots}
    for pot, exact in by_pot.items():
        if not totals.get(pot):
            retained += exact
    coefficient = {pot: by_pot[pot] / totals[pot] for pot in by_pot if totals.get(pot)}
    shares = plan.shares
    for pot, outlet, weight in zip(*columns(shares, "pot", "outlet", "weight"), strict=True):
        c = coefficient[pot]
        value = Fraction(c.numerator * weight, c.denominator)
        if outlet == RETAINED:
            retained += value
        else:
            amounts[pot, outlet] = value
    return amounts, retained


def _per_outlet(parts: dict[tuple[str, str], Fraction]) -> dict[str, Fraction]:
    """The exact unconstrained amount of each outlet (over its pots) where it is above 0."""
    summed: dict[str, Fraction] = {}
    for (_, outlet), value in parts.items():
        summed[outlet] = summed[outlet] + value if outlet in summed else value
    return {o: v for o, v in summed.items() if v > 0}


def _binds(parts: dict[tuple[str, str], Fraction], scheme: Scheme, registry: pl.DataFrame) -> bool:
    """Whether any floor, cap or group cap would change the unconstrained amounts (after the same rounding
    of the limits that water-filling applies); when none does, water-filling would return them as they are."""
    weights = _per_outlet(parts)
    limits = limits_for(scheme, sorted(weights), registry, sum(weights.values(), Fraction(0)))
    if any(v < limits.floors.get(o, 0) for o, v in weights.items()):
        return True
    if any(o in limits.caps and v > limits.caps[o] for o, v in weights.items()):
        return True
    grouped: dict[str, Fraction] = {}
    for o, v in weights.items():
        if o in limits.groups:
            grouped[limits.groups[o]] = grouped.get(limits.groups[o], Fraction(0)) + v
    return any(total > limits.group_caps[g] for g, total in grouped.items())


def limits_for(scheme: Scheme, outlets: list[str], registry: pl.DataFrame, total: Fraction) -> f8.Limits:
    c = scheme.constraints
    assert c is not None
    known = set(registry["outlet"].to_list()) | set(outlets)
    for key, table in (("outlet_floors", c.outlet_floors), ("outlet_caps", c.outlet_caps)):
        for slug, _ in table:
            if slug not in known:
                raise ConfigError(
                    f"scheme '{scheme.name}': {key}.{slug}: no such outlet{did_you_mean(slug, sorted(known))}"
                )
    floor = Fraction(c.floor) if c.floor is not None else Fraction(c.floor_share or 0) * total
    cap = Fraction(c.cap) if c.cap is not None else (Fraction(c.cap_share) * total if c.cap_share is not None else None)
    floors = {o: floor for o in outlets if floor}
    floors.update({o: Fraction(v) for o, v in c.outlet_floors})
    caps = {o: cap for o in outlets} if cap is not None else {}
    caps.update({o: Fraction(v) for o, v in c.outlet_caps})
    groups_of = {o: g for o, g in registry.select("outlet", "group_name").rows() if g is not None}
    named = sorted(set(groups_of.values()))
    for group, _ in c.group_caps:
        if group not in named:
            raise ConfigError(
                f"scheme '{scheme.name}': group_caps.{group}: no outlet is in group '{group}'"
                f"{did_you_mean(group, named)} (groups in the registry: {', '.join(named) or 'none'})"
            )
    group_caps = {g: Fraction(s) * total for g, s in c.group_caps}
    inside = set(outlets)
    limits = f8.Limits(
        {o: f for o, f in floors.items() if o in inside},
        {o: v for o, v in caps.items() if o in inside},
        {o: g for o, g in groups_of.items() if g in group_caps},
        group_caps,
    )
    return f8.inward(limits, scheme.minor_units)


def _outlets_first(
    parts: dict[tuple[str, str], Fraction],
    scheme: Scheme,
    registry: pl.DataFrame,
    pool_minor: int,
    compute: Compute,
    facts: list[tuple[str, str]],
) -> tuple[pl.DataFrame, f8.Filled]:
    weights = _per_outlet(parts)
    to_share = sum(weights.values(), Fraction(0))
    limits = limits_for(scheme, sorted(weights), registry, to_share)
    filled = f8.water_fill(weights, to_share, limits)
    paid_minor = to_minor(to_share, scheme.minor_units)
    per_outlet = f8.round_filled(filled, limits, paid_minor, scheme.minor_units)
    facts += [("lambda", str(filled.lam))] + [
        (f"group.{g}.lambda", str(v)) for g, v in sorted(filled.group_lams.items())
    ]
    back = _back_to_pots(parts, per_outlet, compute)
    if pool_minor - paid_minor:
        back = pl.concat(
            [back, pl.DataFrame({"pot": ["(constraints)"], "outlet": [RETAINED], "minor": [pool_minor - paid_minor]})]
        )
    return back, filled


def _back_to_pots(parts: dict[tuple[str, str], Fraction], per_outlet: dict[str, int], compute: Compute) -> pl.DataFrame:
    """Split each outlet's minor units over the pots it earned them from, in proportion to the exact parts."""
    by_outlet: dict[str, list[tuple[str, Fraction]]] = {}
    for (pot, outlet), value in parts.items():
        by_outlet.setdefault(outlet, []).append((pot, value))
    rows_parent, rows_child, rows_weight = [], [], []
    for outlet, items in by_outlet.items():
        scale = lcm(*(v.denominator for _, v in items))
        for pot, value in items:
            rows_parent.append(outlet)
            rows_child.append(pot)
            rows_weight.append(int(value * scale))
    names = sorted(per_outlet)
    split = compute.split(parents(names, [per_outlet[o] for o in names]), edges(rows_parent, rows_child, rows_weight))
    return _frame(split).rename({"parent": "outlet", "child": "pot"}).select("pot", "outlet", "minor")


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


# --- cells and pots of the result -----------------------------------------------------------------------------


def _to_cells(plan: PoolPlan, shares: pl.DataFrame, compute: Compute) -> pl.DataFrame:
    """(outlet, operator) -> minor units, usage: each outlet's part of each pot split over its operators; the
    part of a pot paid by one operator goes whole to the outlet's cell with that operator."""
    funded = shares.filter(pl.col("minor") > 0).select("pot", "outlet", "minor")
    payers = pl.DataFrame(
        [(p.name, p.operator) for p in plan.pots if p.operator is not None],
        schema={"pot": pl.String, "operator": pl.String},
        orient="row",
    )
    parts = []
    if payers.height:
        parts.append(funded.join(payers, on="pot", how="inner").select("outlet", "operator", "minor"))
    split = funded.join(payers, on="pot", how="anti")
    if split.height or not parts:
        parts.append(_frame(compute.run("lr_cells", {"_funded": split.to_arrow(), "_cells": plan.cells.to_arrow()})))
    paid = pl.concat(parts)
    if len(parts) > 1 or payers["operator"].n_unique() < payers.height:  # else one row per cell already
        paid = paid.group_by("outlet", "operator").agg(pl.col("minor").sum())
    if int(paid["minor"].sum() or 0) != int(shares["minor"].sum() or 0):
        raise AllocationError("an outlet's part of a pot has no operator weights to split it by")
    usage = plan.cell_usage.select("outlet", "operator", "units_e6", "fetches")
    joined = usage.join(paid, on=["outlet", "operator"], how="full", coalesce=True)
    return joined.with_columns(  # order does not matter: every reader of payouts orders them
        pl.col("units_e6").fill_null(0), pl.col("fetches").fill_null(0), pl.col("minor").fill_null(0)
    )


def _pot_results(plan: PoolPlan, pot_outlet: pl.DataFrame) -> list[PotResult]:
    paid = dict(pot_outlet.filter(pl.col("outlet") != RETAINED).group_by("pot").agg(pl.col("minor").sum()).rows())
    kept = dict(pot_outlet.filter(pl.col("outlet") == RETAINED).group_by("pot").agg(pl.col("minor").sum()).rows())
    sums = plan.shares.filter(pl.col("outlet") != RETAINED).group_by("pot").agg(pl.col("weight").sum())
    key_totals = dict(sums.rows())
    return [
        PotResult(
            p, int(paid.get(p.name, 0)), int(kept.get(p.name, 0)), Fraction(int(key_totals.get(p.name, 0)), p.scale)
        )
        for p in plan.pots
    ]
