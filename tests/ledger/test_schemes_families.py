"""Schemes of every family, F5 sizing, F8 constraints and F3 weighting in TOML: typed values, defaults,
exact problems (every one at once), canonical forms that parse back, and explain."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledger.errors import SchemeError
from ledger.schemes import (
    FAMILIES,
    AttributionShare,
    MultiPot,
    OperatorPools,
    ReferralGap,
    Shapley,
    load_schemes,
    parse_schemes,
    scheme_from_canonical,
)
from ledger.schemes.catalogue import all_keys
from ledger.schemes.explain import explain

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "ledger" / "examples" / "schemes-catalogue.toml"


def problems_of(body: str) -> list[str]:
    with pytest.raises(SchemeError) as caught:
        parse_schemes(f"[schemes.s]\n{body}\n")
    return caught.value.problems


def one(body: str) -> str:
    found = problems_of(body)
    assert len(found) == 1, found
    return found[0]


def test_the_catalogue_example_declares_every_family() -> None:
    schemes = load_schemes(CATALOGUE)
    assert {s.family for s in schemes.schemes.values()} == set(FAMILIES)
    assert len(schemes.schemes) == 10


def test_every_scheme_round_trips_through_its_canonical_form() -> None:
    for scheme in load_schemes(CATALOGUE).schemes.values():
        again = scheme_from_canonical(scheme.name, scheme.canonical)
        assert again.canonical == scheme.canonical
        assert (again.params, again.qualifying, again.constraints) == (
            scheme.params,
            scheme.qualifying,
            scheme.constraints,
        )
        if scheme.sizing is not None and scheme.sizing.tariff is None:
            assert again.sizing == scheme.sizing


def test_family_values_and_defaults() -> None:
    schemes = load_schemes(CATALOGUE)
    by_op = schemes.get("by_operator")
    assert isinstance(by_op.params, OperatorPools) and by_op.params.lambda_global == Decimal("0.3")
    assert by_op.sizing is not None and (by_op.sizing.method, by_op.sizing.levy_rate) == ("levy", Decimal("0.0225"))
    corint = schemes.get("corint")
    assert isinstance(corint.params, MultiPot)
    assert dict(corint.params.pots) == {
        "equal": Decimal("0.02"),
        "fetches": Decimal("0.5"),
        "referrals": Decimal("0.3"),
        "fte": Decimal("0.18"),
    }
    gap = schemes.get("gap")
    assert isinstance(gap.params, ReferralGap) and (gap.params.mode, gap.params.ratio_ref) == (
        "ratio_multiplier",
        Decimal(100),
    )
    shapley = schemes.get("shapley")
    assert isinstance(shapley.params, Shapley) and shapley.params.method == "closed_form"
    assert shapley.sizing is not None and shapley.sizing.tariff is not None and shapley.sizing.tariff.name == "tariff"
    answers = schemes.get("answers")
    assert isinstance(answers.params, AttributionShare) and answers.qualifying.purposes == ("user",)
    fte = schemes.get("fte")
    assert fte.constraints is not None and dict(fte.constraints.group_caps) == {
        "broadcaster": Decimal("0.3"),
        "public_broadcaster": Decimal("0.07"),
    }
    assert (
        parse_schemes("[schemes.q]\nfamily = 'shapley'\npool = 1\nvalue = 'quota'\n").get("q").params.method
        == "monte_carlo"
    )


def test_every_key_is_documented() -> None:
    docs = (ROOT / "docs" / "schemes.md").read_text(encoding="utf-8")
    missing = sorted(k for k in all_keys() if f"`{k}`" not in docs)
    assert missing == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "family = 'pool_pro_rata'\nsizing = 'levy'",
            "scheme 's': levy_rate: sizing = 'levy' needs levy_rate = <fraction of revenue>, e.g. levy_rate = 0.0225",
        ),
        (
            "family = 'pool_pro_rata'\nsizing = 'levi'",
            "scheme 's': sizing: 'levi'; did you mean 'levy'? (allowed: fixed, levy, revenue_tariff, "
            "implied_by_tariff, nash, payments)",
        ),
        (
            "family = 'pool_pro_rata'\nsizing = 'payments'\npool = 5",
            "scheme 's': pool: only applies with sizing = 'fixed'",
        ),
        (
            "family = 'pool_pro_rata'\npool = 5\nlevy_rate = 0.1",
            "scheme 's': levy_rate: only applies with sizing = 'levy'",
        ),
        (
            "family = 'pool_pro_rata'\npool = 5\ncpi = 110",
            "scheme 's': cpi: give both cpi_base and cpi (the index at the base date and now), or neither",
        ),
        ("family = 'pool_pro_rata'\nsizing = 'nash'\nbeta = 2", "scheme 's': beta: must be between 0 and 1, got 2"),
        (
            "family = 'pool_pro_rata'\nsizing = 'implied_by_tariff'",
            "scheme 's': tariff: sizing = 'implied_by_tariff' needs tariff = '<name of a per_fetch scheme>'",
        ),
        (
            "family = 'pool_pro_rata'\npool = 5\nfloor = 3\nfloor_share = 0.1",
            "scheme 's': floor_share: give either floor (an amount) or floor_share (a share of the pool), not both",
        ),
        (
            "family = 'pool_pro_rata'\npool = 5\nfloor = 3\ncap = 2",
            "scheme 's': floor: floor 3 is above cap 2: no outlet could be paid",
        ),
        (
            "family = 'pool_pro_rata'\npool = 5\ngroup_caps = {broadcaster = 1.3}",
            "scheme 's': group_caps.broadcaster: must be between 0 and 1, got 1.3",
        ),
        (
            "family = 'pool_pro_rata'\npool = 5\nbelow_threshold = 'keep'",
            "scheme 's': below_threshold: 'keep' (allowed: redistribute, retain)",
        ),
        (
            "family = 'pool_pro_rata'\npool = 5\ngamma = 1",
            "scheme 's': gamma: unknown key (allowed for pool_pro_rata: ",
        ),
        ("family = 'operator_pools'\npool = 5\ngamma = 1", "scheme 's': gamma: only applies with basis = 'weighted'"),
        (
            "family = 'pool_weighted'\npool = 5\nfreshness = 'half_life'",
            "scheme 's': half_life_days: freshness = 'half_life' needs half_life_days = <days>, e.g. 30",
        ),
        (
            "family = 'pool_weighted'\npool = 5\nfreshness = 'steps'\nfreshness_steps = [[7, 1], [1, 2]]",
            "scheme 's': freshness_steps: ages must increase from one step to the next",
        ),
        (
            "family = 'pool_weighted'\npool = 5\ndamping = 'cap_k'",
            "scheme 's': damping_k: damping = 'cap_k' needs damping_k = <units per URL>, e.g. 3",
        ),
        (
            "family = 'pool_weighted'\npool = 5\npurpose_weight = {trainin = 1}",
            "scheme 's': purpose_weight.trainin: unknown; did you mean 'training'? (allowed: training, search, user, "
            "search_engine, seo, archive, other_bot)",
        ),
        (
            "family = 'multi_pot'\npool = 5\npots = {equal = 0.5, fetches = 0.4}",
            "scheme 's': pots: the shares add up to 0.9; they must add up to exactly 1",
        ),
        (
            "family = 'multi_pot'\npool = 5\npots = {equal = 0.5, clicks = 0.5}",
            "scheme 's': pots.clicks: unknown (allowed: equal, fetches, weighted, fte, referrals, unique_urls)",
        ),
        (
            "family = 'multi_pot'\npool = 5",
            "scheme 's': pots: multi_pot needs pots = {<key> = <share>, ...}, e.g. {equal = 0.02, fetches = 0.98}",
        ),
        (
            "family = 'multi_pot'\npool = 5\npots = {fetches = 1}\nregional_weight = 1.1",
            "scheme 's': regional_weight: only applies with an 'fte' pot",
        ),
        (
            "family = 'operator_pools'\npool = 5\nlambda_global = 1.2",
            "scheme 's': lambda_global: must be between 0 and 1, got 1.2",
        ),
        (
            "family = 'operator_pools'\npool = 5\nbasis = 'clicks'",
            "scheme 's': basis: 'clicks' (allowed: fetches, weighted, referrals, unique_urls)",
        ),
        (
            "family = 'referral_gap'",
            "scheme 's': price: referral_gap needs price = <amount per fetch>, e.g. price = 2.5",
        ),
        (
            "family = 'referral_gap'\nprice = 1\nmode = 'ratio_multiplier'",
            "scheme 's': ratio_ref: mode = 'ratio_multiplier' needs ratio_ref = <crawls per referral>, e.g. 100",
        ),
        (
            "family = 'referral_gap'\nprice = 1\ndelta = 2",
            "scheme 's': delta: only applies with mode = 'ratio_multiplier'",
        ),
        (
            "family = 'shapley'\npool = 1\nvalue = 'quota'\nmethod = 'closed_form'",
            "scheme 's': method: closed_form exists for value = 'unanimity' only; use 'monte_carlo' for 'quota'",
        ),
        (
            "family = 'shapley'\npool = 1\nsamples = 100",
            "scheme 's': samples: only applies with method = 'monte_carlo'",
        ),
        (
            "family = 'shapley'\npool = 1\nmethod = 'monte_carlo'\nsamples = 5",
            "scheme 's': samples: must be a whole number from 10 to 1000000, got 5",
        ),
        (
            "family = 'attribution_share'\nrho = 0.5",
            "scheme 's': revenue_per_answer: revenue = 'per_answer' needs revenue_per_answer = <amount>, e.g. 0.05",
        ),
        (
            "family = 'attribution_share'\nrho = 0.5\nrevenue = 'operator_revenue'\nrevenue_per_answer = 1",
            "scheme 's': revenue_per_answer: only applies with revenue = 'per_answer'",
        ),
        (
            "family = 'per_fetch'\nprice = {training = 1}\nrobots_violation_multiplier = -1",
            "scheme 's': robots_violation_multiplier: must be between 0 and 100, got -1",
        ),
        (
            "family = 'per_fetch'\nprice = {training = 1}\nverification_weights = {unverifiable = 0.1234567}",
            "scheme 's': verification_weights.unverifiable: at most 6 decimal places, got 0.1234567",
        ),
        (
            "family = 'per_fetch'\nprice = {training = 1}\nsection_rates = [{path = '(', multiplier = 2}]",
            "scheme 's': section_rates[0].path: '(' is not a valid regular expression (RE2: ",
        ),
    ],
)
def test_each_problem_has_an_exact_message(body: str, problem: str) -> None:
    assert one(body).startswith(problem)


def test_tariff_references_are_checked() -> None:
    text = (
        "[schemes.t]\nfamily = 'pool_pro_rata'\npool = 1\n"
        "[schemes.p]\nfamily = 'shapley'\nsizing = 'implied_by_tariff'\ntariff = '{}'\n"
    )
    with pytest.raises(SchemeError) as caught:
        parse_schemes(text.format("t"))
    assert caught.value.problems == [
        "scheme 'p': tariff: scheme 't' is pool_pro_rata, not per_fetch (per_fetch schemes: [])"
    ]
    with pytest.raises(SchemeError) as caught:
        parse_schemes(text.format("tarif"))
    assert caught.value.problems == [
        "scheme 'p': tariff: no per_fetch scheme 'tarif' in this file (per_fetch schemes: [])"
    ]
    inline = parse_schemes(
        "[schemes.p]\nfamily = 'pool_pro_rata'\nsizing = 'implied_by_tariff'\ntariff = {price = {training = 2}}\n"
    )
    assert inline.get("p").sizing.tariff.params.price_of("training") == 2


def test_the_tariff_text_enters_the_hash_of_the_pool_it_sizes() -> None:
    text = (
        "[schemes.t]\nfamily = 'per_fetch'\nprice = {{training = {}}}\n"
        "[schemes.p]\nfamily = 'pool_pro_rata'\nsizing = 'implied_by_tariff'\ntariff = 't'\n"
    )
    assert parse_schemes(text.format(1)).get("p").scheme_hash != parse_schemes(text.format(2)).get("p").scheme_hash


@pytest.mark.parametrize(
    "name", ["tariff", "pool_fixed", "weighted", "by_operator", "fte", "corint", "levy", "gap", "shapley", "answers"]
)
def test_explain_fills_in_the_parameters(name: str) -> None:
    text = explain(load_schemes(CATALOGUE).get(name))
    assert text.startswith(f"scheme '{name}' (")
    assert "amounts in KZT, rounded to 2 decimals by largest remainder" in text


def test_explain_of_the_canadian_fte_scheme() -> None:
    text = explain(load_schemes(CATALOGUE).get("fte"))
    assert "FTE* = (fte - regional_fte) + 1.1 x regional_fte; eligible: fte >= 2" in text
    assert "group caps broadcaster 0.30, public_broadcaster 0.07" in text
