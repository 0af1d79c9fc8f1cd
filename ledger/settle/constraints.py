"""F8: floors and caps per outlet and caps per group, by exact water-filling, and rounding that keeps them.

Each eligible outlet i has a weight w_i > 0 (its unconstrained exact amount), a floor f_i and a cap c_i.
Outlets of a capped group g share at most H_g. The solution pays
``pay_i = clip(lambda_g * w_i, f_i, c_i)`` with ``lambda_g = min(lambda, lambda*_g)``, where ``lambda*_g``
makes the group's total exactly H_g and ``lambda`` makes everything add up to the amount D to share.
Every total is a nondecreasing piecewise-linear function of lambda, so the solve is exact: sort the
breakpoints, find the segment, solve one linear equation, all in fractions.

An infeasible set (floors above caps, floors adding up to more than D or than a group's cap, caps adding
up to less than D) is an error naming the outlets and groups concerned, never a silent violation.
Floors are rounded up and caps down to whole minor units first, and group caps down, so that rounding the
payouts to minor units (largest remainder, groups first) cannot break them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil, floor

from ledger.errors import ConfigError
from ledger.money import largest_remainder, show

INF = None  # no cap


@dataclass(frozen=True)
class Limits:
    floors: dict[str, Fraction]  # absent: 0
    caps: dict[str, Fraction]  # absent: no cap
    groups: dict[str, str]  # outlet -> group, for outlets in a capped group
    group_caps: dict[str, Fraction]  # group -> the most its outlets may share


@dataclass(frozen=True)
class Filled:
    amounts: dict[str, Fraction]
    status: dict[str, str]  # paid | floor | cap | group_cap
    lam: Fraction
    group_lams: dict[str, Fraction]


def inward(limits: Limits, minor_units: int) -> Limits:
    """Floors up, caps and group caps down, to whole minor units."""
    q = 10**minor_units
    return Limits(
        {o: Fraction(ceil(f * q), q) for o, f in limits.floors.items()},
        {o: Fraction(floor(c * q), q) for o, c in limits.caps.items()},
        limits.groups,
        {g: Fraction(floor(h * q), q) for g, h in limits.group_caps.items()},
    )


def check_feasible(weights: dict[str, Fraction], total: Fraction, limits: Limits) -> None:
    bad = sorted(o for o in weights if o in limits.caps and limits.floors.get(o, 0) > limits.caps[o])
    if bad:
        raise ConfigError(f"infeasible floors and caps: the floor is above the cap for outlets {_names(bad)}")
    floors = sum((limits.floors.get(o, Fraction(0)) for o in weights), Fraction(0))
    if floors > total:
        floored = sorted(o for o in weights if limits.floors.get(o, 0) > 0)
        raise ConfigError(
            f"infeasible floors: the floors of outlets {_names(floored)} add up to {show(floors)}, more than the "
            f"{show(total)} to share; lower the floors or make fewer outlets eligible"
        )
    for group, cap in sorted(limits.group_caps.items()):
        members = sorted(o for o in weights if limits.groups.get(o) == group)
        group_floors = sum((limits.floors.get(o, Fraction(0)) for o in members), Fraction(0))
        if group_floors > cap:
            raise ConfigError(
                f"infeasible group cap: the floors of group '{group}' (outlets {_names(members)}) add up to "
                f"{show(group_floors)}, more than its cap of {show(cap)}"
            )
    most = _most(weights, limits)
    if most < total:
        capped = sorted(o for o in weights if o in limits.caps) + [f"group '{g}'" for g in sorted(limits.group_caps)]
        raise ConfigError(
            f"infeasible caps: outlets and groups can take at most {show(most)} together ({_names(capped)} capped), "
            f"less than the {show(total)} to share; raise the caps or retain the rest (below_threshold = 'retain')"
        )


def _most(weights: dict[str, Fraction], limits: Limits) -> Fraction:
    grouped: dict[str, Fraction] = {}
    alone = Fraction(0)
    for o in weights:
        cap = limits.caps.get(o)
        if cap is None and limits.groups.get(o) not in limits.group_caps:
            return Fraction(10) ** 40  # an outlet without any cap can take everything
        if limits.groups.get(o) in limits.group_caps:
            g = limits.groups[o]
            grouped[g] = grouped.get(g, Fraction(0)) + (cap if cap is not None else Fraction(10) ** 40)
        else:
            alone += cap if cap is not None else Fraction(0)
    return alone + sum((min(total, limits.group_caps[g]) for g, total in grouped.items()), Fraction(0))


def _names(items: list[str]) -> str:
    return ", ".join(items[:12]) + (f" and {len(items) - 12} more" if len(items) > 12 else "")


# --- piecewise-linear sums of clipped lines --------------------------------------------------------------------


Events = list[tuple[Fraction, Fraction]]  # (lambda, change of slope)


def _events(members: list[str], weights: dict[str, Fraction], limits: Limits) -> tuple[Fraction, Events]:
    """The value at lambda = 0 and the slope changes of sum_i clip(lambda * w_i, f_i, c_i)."""
    base = Fraction(0)
    events: Events = []
    for o in members:
        w, f, c = weights[o], limits.floors.get(o, Fraction(0)), limits.caps.get(o)
        base += f
        events.append((f / w, w))
        if c is not None:
            events.append((c / w, -w))
    return base, events


def _solve(base: Fraction, events: Events, target: Fraction) -> Fraction | None:
    """The smallest lambda where the function reaches ``target``; None if it never does."""
    if target <= base:
        return Fraction(0)
    value, slope, at = base, Fraction(0), Fraction(0)
    for point, change in _sorted(events):
        reach = value + slope * (point - at)
        if slope > 0 and reach >= target:
            return at + (target - value) / slope
        value, at, slope = reach, point, slope + change
    return at + (target - value) / slope if slope > 0 else None


def _sorted(events: Events) -> Events:
    """Events by lambda: sorted by a float key, then made exact where neighbours' floats are too close to
    tell apart (sorting thousands of fractions directly is slow; the order must still be exact)."""
    keyed = sorted(events, key=lambda e: (float(e[0]), e[1]))
    for i in range(1, len(keyed)):
        if keyed[i][0] < keyed[i - 1][0]:
            return sorted(events)
    return keyed


def water_fill(weights: dict[str, Fraction], total: Fraction, limits: Limits) -> Filled:
    """The exact amounts ``clip(lambda_g * w_i, f_i, c_i)`` that add up to ``total``."""
    check_feasible(weights, total, limits)
    base, events = Fraction(0), list[tuple[Fraction, Fraction]]()
    group_lams: dict[str, Fraction] = {}
    outside = [o for o in sorted(weights) if limits.groups.get(o) not in limits.group_caps]
    b, e = _events(outside, weights, limits)
    base, events = base + b, events + e
    for group in sorted(limits.group_caps):
        members = [o for o in sorted(weights) if limits.groups.get(o) == group]
        gb, ge = _events(members, weights, limits)
        star = _solve(gb, ge, limits.group_caps[group])
        base += gb
        if star is None:  # the cap never binds
            events += ge
            continue
        group_lams[group] = star
        kept = [(p, c) for p, c in ge if p < star]
        events += [*kept, (star, -sum((c for _, c in kept), Fraction(0)))]
    lam = _solve(base, events, total)
    assert lam is not None, "feasibility was checked"
    amounts, status = {}, {}
    for o in sorted(weights):
        group = limits.groups.get(o, "")
        effective = min(lam, group_lams[group]) if group in group_lams else lam
        raw = effective * weights[o]
        f, c = limits.floors.get(o, Fraction(0)), limits.caps.get(o)
        amounts[o] = max(f, raw if c is None else min(raw, c))
        status[o] = _status(raw, f, c, group in group_lams and group_lams[group] < lam)
    if sum(amounts.values(), Fraction(0)) != total:
        raise AssertionError("water-filling does not add up")
    return Filled(amounts, status, lam, group_lams)


def _status(raw: Fraction, f: Fraction, c: Fraction | None, group_bound: bool) -> str:
    if f > 0 and raw <= f:
        return "floor"
    if c is not None and raw >= c:
        return "cap"
    return "group_cap" if group_bound else "paid"


def round_filled(filled: Filled, limits: Limits, total_minor: int, minor_units: int) -> dict[str, int]:
    """Minor units per outlet: first per block (each binding group is one block, every other outlet its
    own), then within each group, by largest remainder, so group caps, floors and caps still hold."""
    blocks: dict[str, Fraction] = {}
    members: dict[str, dict[str, Fraction]] = {}
    for o, amount in filled.amounts.items():
        group = limits.groups.get(o)
        key = f"group:{group}" if group in filled.group_lams else f"outlet:{o}"
        blocks[key] = blocks.get(key, Fraction(0)) + amount
        members.setdefault(key, {})[o] = amount
    per_block = largest_remainder(blocks, total_minor, minor_units)
    result: dict[str, int] = {}
    for key, units in per_block.items():
        if len(members[key]) == 1:
            result[next(iter(members[key]))] = units
        else:
            result.update(largest_remainder(members[key], units, minor_units))
    return result
