"""A scheme's formula in words and symbols, with its parameters filled in (``royalty schemes explain``)."""

from __future__ import annotations

from decimal import Decimal

from ledger.schemes import catalogue as cat
from ledger.schemes.keys import status_texts
from ledger.schemes.model import (
    AttributionShare,
    Constraints,
    Fte,
    MultiPot,
    OperatorPools,
    PerFetch,
    Qualifying,
    ReferralGap,
    Scheme,
    Shapley,
    Sizing,
    Weighting,
)

TITLES = {
    "per_fetch": "a flat tariff per qualifying fetch (Cloudflare pay-per-crawl, TollBit)",
    "pool_pro_rata": "a pool split by fetch share",
    "pool_weighted": "a pool split by weighted usage",
    "operator_pools": "each operator's payment split by its own usage, blended with a global pool",
    "fte": "a pool split by journalist FTE (Canada's Online News Act, Australia's draft)",
    "multi_pot": "a hybrid of keys, each with its share of the pool (Germany's Corint)",
    "referral_gap": "pay for crawls not returned as visits (Cloudflare's crawl-to-refer ratio)",
    "shapley": "a cooperative pool shared by the Shapley value",
    "attribution_share": "a share of answer revenue by attribution (ProRata, Perplexity Comet Plus)",
}


def _pairs(pairs: tuple[tuple[str, Decimal], ...]) -> str:
    return ", ".join(f"{k} {v}" for k, v in pairs) or "none"


def explain(scheme: Scheme) -> str:
    """Several lines: the title, the formula with numbers, what counts, sizing and constraints."""
    code = cat.FAMILY_CODES[scheme.family]
    lines = [f"scheme '{scheme.name}' ({scheme.family}, {code}): {TITLES[scheme.family]}"]
    if scheme.description:
        lines.append(f"  {scheme.description}")
    lines += [f"  {line}" for line in _formula(scheme)]
    if scheme.sizing is not None:
        lines += [f"  {line}" for line in _sizing(scheme.sizing, scheme.currency)]
    if scheme.constraints is not None:
        lines += [f"  {line}" for line in _constraints(scheme.constraints)]
    lines += [f"  {line}" for line in _qualifying(scheme.qualifying, scheme)]
    lines.append(f"  amounts in {scheme.currency}, rounded to {scheme.minor_units} decimals by largest remainder")
    return "\n".join(lines)


def _formula(s: Scheme) -> list[str]:
    p = s.params
    if isinstance(p, PerFetch):
        lines = [
            "pay[o,i] = sum over qualifying units u of price[purpose(u)] x operator_multiplier[o] x section_rate(u)"
        ]
        lines.append(f"price: {_pairs(p.price)}; operator_multiplier: {_pairs(p.operator_multiplier)} (others 1)")
        if p.section_rates:
            lines.append(
                "section_rate: " + ", ".join(f"path ~ {pat} -> x{r}" for pat, r in p.section_rates) + " (first match)"
            )
        return lines
    if isinstance(p, ReferralGap):
        formulas = {
            "net_count": f"pay[o,i] = {p.price} x max(0, F[o,i] - {p.kappa} x R[o,i])",
            "value_offset": f"pay[o,i] = max(0, {p.price} x F[o,i] - rpm[i]/1000 x R[o,i])",
            "ratio_multiplier": (
                f"pay[o,i] = {p.price} x min({p.max_multiplier}, (ratio[o] / {p.ratio_ref})^{p.delta}) x F[o,i],"
                " ratio[o] = F[o] / R[o]"
            ),
        }
        return [formulas[p.mode], "F = qualifying units, R = visits referred by operator o's products"]
    if isinstance(p, AttributionShare):
        rev = f"rev_q = {p.revenue_per_answer}" if p.revenue == "per_answer" else "rev_q = revenue[o] / answers[o]"
        return [
            f"pay[i] = {p.rho} x sum over answers q of rev_q x a[q,i]; {rev}",
            f"an answer = a burst of user-triggered fetches by one {p.burst_by.replace('_', ' and ')}"
            f" with gaps of at most {p.burst_window_seconds} s; a[q,i] = outlet i's share of the burst's units",
        ]
    return _pool_formula(s)


def _pool_formula(s: Scheme) -> list[str]:
    p = s.params
    if isinstance(p, Fte):
        return [
            "pay[i] = P_net x FTE*[i] / sum_j FTE*[j]",
            f"FTE* = (fte - regional_fte) + {p.regional_weight} x regional_fte; eligible: fte >= {p.min_journalists}",
        ]
    if isinstance(p, MultiPot):
        pots = " + ".join(f"{share} x K_{key}[i]/sum K_{key}" for key, share in p.pots)
        return [f"pay[i] = P_net x ({pots})", *(_weighting(p.weighting) if "weighted" in dict(p.pots) else [])]
    if isinstance(p, OperatorPools):
        lam = p.lambda_global
        return [
            f"pay[i] = {lam} x P_net x X[i]/sum_j X[j] + (1 - {lam}) x sum_o C_net[o] x X[o,i]/X[o]",
            f"X = {p.basis}" + ("" if p.basis != "weighted" else "; " + "; ".join(_weighting(p.weighting))),
        ]
    if isinstance(p, Shapley):
        games = {
            "unanimity": "v_o(S) = 1 when S holds every outlet o used: phi[i] = sum_o C_net[o] / |A_o| (closed form)",
            "quota": f"v_o(S) = 1 when S holds at least {p.quota} of o's usage",
            "concave": f"v_o(S) = (X_o(S) / X_o)^{p.alpha}",
        }
        lines = [f"pay[i] = sum_o C_net[o] x phi_o[i]; {games[p.value]}", f"A_o = outlets with U[o,i] >= {p.min_usage}"]
        if p.method == "monte_carlo":
            lines.append(f"phi by Monte-Carlo over {p.samples} random orders (seed {p.seed}), with standard errors")
        return lines
    key = "U" if s.family == "pool_pro_rata" else "W"
    lines = [f"pay[i] = P_net x {key}[i] / sum_j {key}[j] over eligible outlets j"]
    weighting = s.weighting
    if weighting is not None:
        lines += _weighting(weighting)
    return lines


def _weighting(w: Weighting) -> list[str]:
    fresh = {
        "none": "1",
        "half_life": f"2^(-age_days / {w.half_life_days})",
        "steps": ", ".join(f"age <= {a} d: {x}" for a, x in w.freshness_steps) + f", older: {w.older_weight}",
    }[w.freshness]
    damping = {"none": "none", "log1p": "ln(1 + units per URL)", "cap_k": f"at most {w.damping_k} per URL"}[w.damping]
    return [
        f"w(f) = purpose_weight x (min(words, {w.len_cap}) / {w.len_ref})^{w.gamma} x freshness; purpose_weight: "
        + _pairs(w.purpose_weight),
        f"freshness: {fresh}; damping: {damping}; without the article inventory, length and freshness are 1",
    ]


def _sizing(z: Sizing, currency: str) -> list[str]:
    if z.method == "fixed":
        size = f"P = {z.pool} {currency} per {z.pool_per}"
        if z.cpi is not None:
            size += f" x CPI {z.cpi} / {z.cpi_base}"
        if z.pool_per == "year":
            size += ", prorated to the period by days"
    elif z.method == "levy":
        size = f"C[o] = 1[rev_o >= {z.levy_threshold}] x max(0, {z.levy_rate} x rev_o - {z.offset_ratio} x deals_o)"
    elif z.method == "revenue_tariff":
        share = z.repertoire_share if z.repertoire_share is not None else "from the operators' figures"
        size = f"C[o] = {z.tariff_rate} x rev_o x repertoire_share ({share})"
    elif z.method == "implied_by_tariff":
        size = f"C[o] = what per_fetch '{z.tariff.name if z.tariff else '?'}' charges operator o over the same usage"
    elif z.method == "nash":
        size = f"C[o] = {z.beta} x value_of_news_o"
    else:
        size = "C[o] = payment_o (operators' figures)"
    total = "" if z.method == "fixed" else "; P = sum_o C[o]"
    return [f"pool (F5 {z.method}): {size}{total}", f"P_net = (1 - {z.admin_fee}) x P"]


def _constraints(c: Constraints) -> list[str]:
    parts = [f"eligible: at least {c.min_fetches} qualifying fetches"]
    if c.min_fte:
        parts.append(f"fte >= {c.min_fte}")
    parts.append(f"below threshold: {c.below_threshold}")
    lines = ["F8: " + "; ".join(parts)]
    limits = []
    for label, absolute, share in (("floor", c.floor, c.floor_share), ("cap", c.cap, c.cap_share)):
        if absolute is not None:
            limits.append(f"{label} {absolute}")
        if share is not None:
            limits.append(f"{label} {share} of the pool")
    if c.outlet_floors:
        limits.append("outlet floors " + _pairs(c.outlet_floors))
    if c.outlet_caps:
        limits.append("outlet caps " + _pairs(c.outlet_caps))
    if c.group_caps:
        limits.append("group caps " + _pairs(c.group_caps))
    if limits:
        lines.append("F8 water-filling: pay[i] = clip(lambda x w[i], floor_i, cap_i); " + "; ".join(limits))
    if c.max_units_per_operator is not None:
        lines.append(f"F8: counted usage capped at {c.max_units_per_operator} units per operator and outlet")
    if c.author_share:
        lines.append(f"F8: authors' pass-through share {c.author_share} (reported as author_amount)")
    return lines


def _qualifying(q: Qualifying, s: Scheme) -> list[str]:
    weights = _pairs(q.verification_weights)
    lines = [
        f"qualifying: purposes {', '.join(q.purposes)}; methods {', '.join(q.methods)}; statuses "
        f"{', '.join(status_texts(q.statuses))}; verification weights {weights}",
        f"refetch: {s.refetch}"
        + (f" (cap {s.cap_per_url} per URL)" if s.cap_per_url else "")
        + (f"; robots.txt violations x {q.robots_multiplier}" if q.robots_multiplier != 1 else ""),
    ]
    if q.include_paths:
        lines.append("paths must match: " + ", ".join(q.include_paths))
    return lines
