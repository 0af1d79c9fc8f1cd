"""The catalogue: every family, the keys each one takes, and their closed vocabularies.

docs/schemes.md documents every key listed here (a test checks it).
"""

from __future__ import annotations

FAMILIES = (
    "per_fetch",
    "pool_pro_rata",
    "pool_weighted",
    "operator_pools",
    "fte",
    "multi_pot",
    "referral_gap",
    "shapley",
    "attribution_share",
)
FAMILY_CODES = {
    "per_fetch": "F1",
    "pool_pro_rata": "F2",
    "pool_weighted": "F3",
    "operator_pools": "F4",
    "fte": "F6",
    "multi_pot": "F7",
    "referral_gap": "F9",
    "shapley": "F10",
    "attribution_share": "F11",
}
POOL_FAMILIES = ("pool_pro_rata", "pool_weighted", "operator_pools", "fte", "multi_pot", "shapley")

REFETCH = ("every", "unique_url_per_period", "cap_per_url")
BELOW_THRESHOLD = ("redistribute", "retain")
SIZINGS = ("fixed", "levy", "revenue_tariff", "implied_by_tariff", "nash", "payments")
POOL_PER = ("period", "year")
FRESHNESS = ("none", "half_life", "steps")
DAMPING = ("none", "log1p", "cap_k")
BASES = ("fetches", "weighted", "referrals", "unique_urls")
POT_KEYS = ("equal", "fetches", "weighted", "fte", "referrals", "unique_urls")
GAP_MODES = ("net_count", "value_offset", "ratio_multiplier")
GAME_VALUES = ("unanimity", "quota", "concave")
GAME_METHODS = ("closed_form", "monte_carlo")
REVENUE_SOURCES = ("per_answer", "operator_revenue")
BURST_BY = ("operator", "operator_ip")
MINOR_UNITS = {"KZT": 2, "USD": 2, "EUR": 2, "RUB": 2, "GBP": 2, "CAD": 2, "AUD": 2, "CHF": 2, "JPY": 0, "KRW": 0}

COMMON_KEYS = frozenset(
    {
        "family",
        "description",
        "currency",
        "minor_units",
        "statuses",
        "methods",
        "purposes",
        "include_paths",
        "exclude_paths",
        "verified_only",
        "verification_weights",
        "include_undeclared",
        "refetch",
        "cap_per_url",
        "robots_violation_multiplier",
    }
)
SIZING_KEYS = frozenset(
    {
        "sizing",
        "pool",
        "pool_per",
        "cpi_base",
        "cpi",
        "levy_rate",
        "levy_threshold",
        "offset_ratio",
        "tariff_rate",
        "repertoire_share",
        "tariff",
        "beta",
        "admin_fee",
    }
)
CONSTRAINT_KEYS = frozenset(
    {
        "min_fetches",
        "min_fte",
        "below_threshold",
        "max_units_per_operator",
        "floor",
        "cap",
        "floor_share",
        "cap_share",
        "outlet_floors",
        "outlet_caps",
        "group_caps",
        "author_share",
    }
)
WEIGHTING_KEYS = frozenset(
    {
        "purpose_weight",
        "len_cap",
        "len_ref",
        "gamma",
        "freshness",
        "half_life_days",
        "freshness_steps",
        "older_weight",
        "damping",
        "damping_k",
    }
)
POOL_KEYS = SIZING_KEYS | CONSTRAINT_KEYS
FAMILY_KEYS: dict[str, frozenset[str]] = {
    "per_fetch": frozenset({"price", "operator_multiplier", "section_rates"}),
    "pool_pro_rata": POOL_KEYS,
    "pool_weighted": POOL_KEYS | WEIGHTING_KEYS,
    "operator_pools": POOL_KEYS | WEIGHTING_KEYS | {"basis", "lambda_global"},
    "fte": POOL_KEYS | {"regional_weight", "min_journalists"},
    "multi_pot": POOL_KEYS | WEIGHTING_KEYS | {"pots", "regional_weight"},
    "referral_gap": frozenset({"mode", "price", "kappa", "max_multiplier", "ratio_ref", "delta"}),
    "shapley": POOL_KEYS | {"value", "method", "min_usage", "quota", "alpha", "samples", "seed"},
    "attribution_share": frozenset({"rho", "burst_window_seconds", "revenue", "revenue_per_answer", "burst_by"}),
}


def allowed_keys(family: str) -> frozenset[str]:
    return COMMON_KEYS | FAMILY_KEYS[family]


def all_keys() -> frozenset[str]:
    found = set(COMMON_KEYS)
    for keys in FAMILY_KEYS.values():
        found |= keys
    return frozenset(found)
