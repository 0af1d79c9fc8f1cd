"""Reading the keys of each family (and of pool sizing F5, the constraint layer F8, the F3 weighting).

Each reader fills ``values`` (the normalised table: every key the family takes, with its value, its
default, or None where it does not apply) and reports problems. A key given where it does not apply is a
problem too ("only applies with ..."): a silently ignored key is a wrong number nobody notices.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger.detect.registry import PURPOSES
from ledger.schemes import catalogue as cat
from ledger.schemes.keys import Problems, choice, numbers, sections, steps, whole
from ledger.schemes.keys import number as num

Values = dict[str, Any]
ONE = Decimal(1)


class Reader:
    """The table of one scheme, its problems, and the values read so far."""

    def __init__(self, name: str, family: str, table: dict[str, Any], problems: Problems) -> None:
        self.name, self.family, self.table, self.p = name, family, table, problems
        self.values: Values = {}

    def has(self, key: str) -> bool:
        return key in self.table

    def applies(self, key: str, applies: bool, why: str) -> bool:
        """False (with a problem if the key was given) when ``key`` does not apply."""
        if not applies and key in self.table:
            self.p.add(self.name, key, f"only applies with {why}")
        return applies

    def number(self, key: str, default: Decimal | None, **bounds: Any) -> Decimal | None:
        value = num(self.p, self.name, key, self.table[key], **bounds) if key in self.table else default
        self.values[key] = value
        return value

    def required(self, key: str, needs: str, **bounds: Any) -> Decimal | None:
        if key not in self.table:
            self.p.add(self.name, key, needs)
            self.values[key] = None
            return None
        return self.number(key, None, **bounds)

    def choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        value = choice(self.p, self.name, key, self.table[key], allowed) if key in self.table else default
        self.values[key] = value or default
        return value or default

    def whole(self, key: str, default: int, low: int = 0, high: int | None = None) -> int:
        value = whole(self.p, self.name, key, self.table[key], low=low, high=high) if key in self.table else default
        self.values[key] = default if value is None else value
        return int(self.values[key])

    def none(self, *keys: str) -> None:
        for key in keys:
            self.values[key] = None


# --- F1 per_fetch ------------------------------------------------------------------------------------------


def per_fetch(r: Reader) -> None:
    if "price" not in r.table:
        r.p.add(r.name, "price", "per_fetch needs a price table, e.g. price = {training = 2.5, search = 1, user = 0.5}")
        r.values["price"] = None
    else:
        r.values["price"] = numbers(r.p, r.name, "price", r.table["price"], allowed=PURPOSES, places=6)
    multipliers = r.table.get("operator_multiplier", {})
    r.values["operator_multiplier"] = numbers(
        r.p, r.name, "operator_multiplier", multipliers, example="{OpenAI = 1.2, Anthropic = 1.2}", places=6
    )
    rates = sections(r.p, r.name, "section_rates", r.table["section_rates"]) if r.has("section_rates") else ()
    r.values["section_rates"] = rates


# --- F5 pool sizing ----------------------------------------------------------------------------------------

_SIZING_NEEDS = {
    "levy": ("levy_rate", "sizing = 'levy' needs levy_rate = <fraction of revenue>, e.g. levy_rate = 0.0225"),
    "revenue_tariff": ("tariff_rate", "sizing = 'revenue_tariff' needs tariff_rate = <fraction>, e.g. 0.11"),
    "nash": ("beta", "sizing = 'nash' needs beta = <bargaining share, 0 to 1>, e.g. beta = 0.5"),
}


def sizing(r: Reader) -> str:
    method = r.choice("sizing", cat.SIZINGS, "fixed")
    if r.table.get("sizing", "fixed") not in cat.SIZINGS:  # reported; its keys cannot be checked against it
        r.none(*(k for k in sorted(cat.SIZING_KEYS) if k not in ("sizing", "admin_fee")))
        r.number("admin_fee", Decimal(0), high=ONE)
        return method
    fixed = method == "fixed"
    why = "sizing = 'fixed'"
    if r.applies("pool", fixed, why):
        r.required("pool", f"{r.family} needs pool = <amount>, e.g. pool = 50000000")
    else:
        r.none("pool")
    if r.applies("pool_per", fixed, why):
        r.choice("pool_per", cat.POOL_PER, "period")
    else:
        r.none("pool_per")
    for key in ("cpi_base", "cpi"):
        if r.applies(key, fixed, why):
            r.number(key, None, above=True)
        else:
            r.none(key)
    if fixed and r.has("cpi_base") != r.has("cpi"):
        r.p.add(r.name, "cpi", "give both cpi_base and cpi (the index at the base date and now), or neither")
    levy = method == "levy"
    for key, default in (("levy_rate", None), ("levy_threshold", Decimal(0)), ("offset_ratio", ONE)):
        if r.applies(key, levy, "sizing = 'levy'"):
            if key == "levy_rate":
                r.required(key, _SIZING_NEEDS["levy"][1], high=ONE)
            else:
                r.number(key, default)
        else:
            r.none(key)
    tariff_rate = method == "revenue_tariff"
    if r.applies("tariff_rate", tariff_rate, "sizing = 'revenue_tariff'"):
        r.required("tariff_rate", _SIZING_NEEDS["revenue_tariff"][1], high=ONE)
    else:
        r.none("tariff_rate")
    if r.applies("repertoire_share", tariff_rate, "sizing = 'revenue_tariff'"):
        r.number("repertoire_share", None, high=ONE)
    else:
        r.none("repertoire_share")
    implied = method == "implied_by_tariff"
    if r.applies("tariff", implied, "sizing = 'implied_by_tariff'") and not r.has("tariff"):
        r.p.add(r.name, "tariff", "sizing = 'implied_by_tariff' needs tariff = '<name of a per_fetch scheme>'")
    r.values["tariff"] = r.table.get("tariff") if implied else None  # resolved by the file parser
    if r.applies("beta", method == "nash", "sizing = 'nash'"):
        r.required("beta", _SIZING_NEEDS["nash"][1], high=ONE)
    else:
        r.none("beta")
    r.number("admin_fee", Decimal(0), high=ONE)
    return method


# --- F8 constraint layer -----------------------------------------------------------------------------------


def constraints(r: Reader) -> None:
    r.whole("min_fetches", 0)
    r.number("min_fte", Decimal(0))
    r.choice("below_threshold", cat.BELOW_THRESHOLD, "redistribute")
    r.number("max_units_per_operator", None, above=True, places=6)
    for absolute, share in (("floor", "floor_share"), ("cap", "cap_share")):
        r.number(absolute, None)
        r.number(share, None, high=ONE)
        if r.has(absolute) and r.has(share):
            r.p.add(r.name, share, f"give either {absolute} (an amount) or {share} (a share of the pool), not both")
    v = r.values
    for low, high in (("floor", "cap"), ("floor_share", "cap_share")):
        if v.get(low) is not None and v.get(high) is not None and v[low] > v[high]:
            r.p.add(r.name, low, f"{low} {v[low]} is above {high} {v[high]}: no outlet could be paid")
    for key in ("outlet_floors", "outlet_caps"):
        r.values[key] = numbers(r.p, r.name, key, r.table.get(key, {}), example="{tengrinews = 1000000}")
    caps = numbers(r.p, r.name, "group_caps", r.table.get("group_caps", {}), high=ONE, example="{broadcaster = 0.30}")
    r.values["group_caps"] = caps
    r.number("author_share", Decimal(0), high=ONE)


# --- F3 weighting ------------------------------------------------------------------------------------------


def weighting(r: Reader, used: bool, why: str) -> None:
    defaults: dict[str, Any] = {
        "purpose_weight": (("search", ONE), ("training", ONE), ("user", ONE)),
        "len_cap": Decimal(5000),
        "len_ref": Decimal(1000),
        "gamma": Decimal(0),
        "freshness": "none",
        "half_life_days": None,
        "freshness_steps": None,
        "older_weight": ONE,
        "damping": "none",
        "damping_k": None,
    }
    if not used:
        for key in sorted(cat.WEIGHTING_KEYS):
            r.applies(key, False, why)
        r.none(*defaults)  # not part of the scheme: the neutral weighting applies
        return
    given = numbers(r.p, r.name, "purpose_weight", r.table.get("purpose_weight", {}), allowed=PURPOSES, places=6)
    r.values["purpose_weight"] = tuple(sorted({**dict(defaults["purpose_weight"]), **dict(given or ())}.items()))
    r.number("len_cap", defaults["len_cap"], above=True)
    r.number("len_ref", defaults["len_ref"], above=True)
    r.number("gamma", defaults["gamma"], high=Decimal(10))
    fresh = r.choice("freshness", cat.FRESHNESS, "none")
    if r.applies("half_life_days", fresh == "half_life", "freshness = 'half_life'"):
        r.required("half_life_days", "freshness = 'half_life' needs half_life_days = <days>, e.g. 30", above=True)
    else:
        r.none("half_life_days")
    r.values["freshness_steps"] = None
    if r.applies("freshness_steps", fresh == "steps", "freshness = 'steps'"):
        if r.has("freshness_steps"):
            r.values["freshness_steps"] = steps(r.p, r.name, "freshness_steps", r.table["freshness_steps"])
        else:
            r.p.add(r.name, "freshness_steps", "freshness = 'steps' needs freshness_steps = [[1, 2.0], [7, 1.5]]")
    r.number("older_weight", ONE, high=Decimal(1000), places=6)
    damping = r.choice("damping", cat.DAMPING, "none")
    if r.applies("damping_k", damping == "cap_k", "damping = 'cap_k'"):
        r.required("damping_k", "damping = 'cap_k' needs damping_k = <units per URL>, e.g. 3", low=ONE)
    else:
        r.none("damping_k")


# --- the families --------------------------------------------------------------------------------------------


def pool_family(r: Reader) -> None:
    """The parts every pool family shares: F5 sizing and F8 constraints, then the family's own keys."""
    sizing(r)
    constraints(r)
    FAMILY_READERS[r.family](r)


def operator_pools(r: Reader) -> None:
    basis = r.choice("basis", cat.BASES, "fetches")
    r.number("lambda_global", Decimal(0), high=ONE)
    weighting(r, basis == "weighted", "basis = 'weighted'")


def fte(r: Reader) -> None:
    r.number("regional_weight", ONE, high=Decimal(10), places=6)
    r.number("min_journalists", Decimal(0))


def multi_pot(r: Reader) -> None:
    if not r.has("pots"):
        r.p.add(r.name, "pots", "multi_pot needs pots = {<key> = <share>, ...}, e.g. {equal = 0.02, fetches = 0.98}")
        r.values["pots"] = None
    else:
        pots = numbers(r.p, r.name, "pots", r.table["pots"], allowed=cat.POT_KEYS, high=ONE, example="{fetches = 1}")
        if pots is not None and sum((s for _, s in pots), Decimal(0)) != 1:
            total = sum((s for _, s in pots), Decimal(0))
            r.p.add(r.name, "pots", f"the shares add up to {total}; they must add up to exactly 1")
        if pots is not None and any(s == 0 for _, s in pots):
            r.p.add(r.name, "pots", "a pot's share must be greater than 0; leave the pot out instead")
        r.values["pots"] = pots
    keys = {k for k, _ in r.values["pots"] or ()}
    weighting(r, "weighted" in keys, "a 'weighted' pot")
    if r.applies("regional_weight", "fte" in keys, "an 'fte' pot"):
        r.number("regional_weight", ONE, high=Decimal(10), places=6)
    else:
        r.none("regional_weight")


def referral_gap(r: Reader) -> None:
    mode = r.choice("mode", cat.GAP_MODES, "net_count")
    r.required("price", "referral_gap needs price = <amount per fetch>, e.g. price = 2.5", places=6)
    if r.applies("kappa", mode == "net_count", "mode = 'net_count'"):
        r.number("kappa", ONE, places=6)
    else:
        r.none("kappa")
    ratio = mode == "ratio_multiplier"
    for key, default in (("max_multiplier", Decimal(10)), ("delta", ONE)):
        if r.applies(key, ratio, "mode = 'ratio_multiplier'"):
            r.number(key, default, above=key == "max_multiplier", high=Decimal(1000))
        else:
            r.none(key)
    if r.applies("ratio_ref", ratio, "mode = 'ratio_multiplier'"):
        r.required(
            "ratio_ref", "mode = 'ratio_multiplier' needs ratio_ref = <crawls per referral>, e.g. 100", above=True
        )
    else:
        r.none("ratio_ref")


def shapley(r: Reader) -> None:
    value = r.choice("value", cat.GAME_VALUES, "unanimity")
    method = r.choice("method", cat.GAME_METHODS, "closed_form" if value == "unanimity" else "monte_carlo")
    if method == "closed_form" and value != "unanimity":
        r.p.add(r.name, "method", f"closed_form exists for value = 'unanimity' only; use 'monte_carlo' for '{value}'")
    r.number("min_usage", ONE, places=6)
    if r.applies("quota", value == "quota", "value = 'quota'"):
        r.number("quota", Decimal("0.5"), above=True, high=ONE)
    else:
        r.none("quota")
    if r.applies("alpha", value == "concave", "value = 'concave'"):
        r.number("alpha", Decimal("0.5"), above=True, high=ONE)
    else:
        r.none("alpha")
    mc = method == "monte_carlo"
    for key, default, low, high in (("samples", 1000, 10, 1_000_000), ("seed", 0, 0, 2**63 - 1)):
        if r.applies(key, mc, "method = 'monte_carlo'"):
            r.whole(key, default, low, high)
        else:
            r.none(key)


def attribution_share(r: Reader) -> None:
    r.required("rho", "attribution_share needs rho = <share of revenue for publishers>, e.g. 0.5", high=ONE)
    r.whole("burst_window_seconds", 60, 1, 86_400)
    revenue = r.choice("revenue", cat.REVENUE_SOURCES, "per_answer")
    if r.applies("revenue_per_answer", revenue == "per_answer", "revenue = 'per_answer'"):
        needs = "revenue = 'per_answer' needs revenue_per_answer = <amount>, e.g. 0.05"
        r.required("revenue_per_answer", needs)
    else:
        r.none("revenue_per_answer")
    r.choice("burst_by", cat.BURST_BY, "operator")


def _pool_weighted(r: Reader) -> None:
    weighting(r, True, "")


FAMILY_READERS = {
    "pool_pro_rata": lambda r: None,
    "pool_weighted": _pool_weighted,
    "operator_pools": operator_pools,
    "fte": fte,
    "multi_pot": multi_pot,
    "shapley": shapley,
}
