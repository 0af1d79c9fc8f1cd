"""Every family on real ledgers, hand-computed, including the worked examples of the catalogue (SCHEMES.md):
Canada's group caps (broadcasters 30%, the public broadcaster 7%) and FTE allocation, Australia's levy
(2.25% above a threshold, deals offset 1:1), Corint-style pots, operator pools, referral gaps, Shapley and
attribution shares."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from ledger.errors import ConfigError
from ledger.settle import settle
from tests.ledger.settle_helpers import (
    MID_OCTOBER,
    OCTOBER,
    add_referrals,
    amounts,
    assert_consistent,
    build_ledger,
    column,
    fetch,
    figures,
    register,
    scheme,
)

D = Decimal


def usage(**counts: int) -> dict[tuple[str, str, str, str], int]:
    return {(outlet.replace("_", "-"), "OpenAI", "training", "/x"): n for outlet, n in counts.items()}


def dec(values: dict[str, str]) -> dict[str, Decimal]:
    return {k: D(v) for k, v in values.items()}


# --- F8 group caps: Canada (broadcasters <= 30%, the public broadcaster <= 7%) ------------------------------


def test_canadian_group_caps_hand_computed(tmp_path: Path) -> None:
    # Uncapped: a 400, b 200 (broadcasters: 600 > 300), c 200 (public: > 70), d 100, e 100.
    # Broadcasters scaled together to 300 (a 200, b 100); c capped at 70; d and e share the other 630.
    with build_ledger(tmp_path / "c.duckdb", usage(a=40, b=20, c=20, d=10, e=10)) as ledger:
        for slug, group in (
            ("a", "broadcaster"),
            ("b", "broadcaster"),
            ("c", "public_broadcaster"),
            ("d", "private"),
            ("e", None),
        ):
            register(ledger, slug, group=group)
        sch = scheme(
            "family = 'pool_pro_rata'\npool = 1000\ngroup_caps = {broadcaster = 0.30, public_broadcaster = 0.07}"
        )
        run = settle(ledger, sch, OCTOBER)
        assert amounts(run) == dec({"a": "200.00", "b": "100.00", "c": "70.00", "d": "315.00", "e": "315.00"})
        assert (run.total, run.retained) == (D("1000.00"), D("0.00"))
        status = {r["outlet"]: r["status"] for r in ledger.rows("SELECT outlet, status FROM settlement_outlets")}
        assert status == {"a": "group_cap", "b": "group_cap", "c": "group_cap", "d": "paid", "e": "paid"}
        facts = {r["name"]: r["value"] for r in ledger.rows("SELECT name, value FROM settlement_facts")}
        assert facts["lambda"] == "63/20" and facts["group.broadcaster.lambda"] == "1/2"
        assert_consistent(ledger, run)


def test_canadian_fte_allocation_with_regional_weight_and_two_journalists(tmp_path: Path) -> None:
    # FTE* = (fte - regional) + 1.1 x regional: x 10, y 2 + 11 = 13, w 7; z has 1.5 journalists (< 2).
    # 1000 x 10/30, 13/30, 7/30 = 333.33.., 433.33.., 233.33..: one tiyn left, equal remainders, to 'w'.
    with build_ledger(tmp_path / "f.duckdb", {}) as ledger:
        for slug, fte, regional in (("x", 10, 0), ("y", 12, 10), ("z", 1.5, 0), ("w", 7, None)):
            register(ledger, slug, fte=fte, regional_fte=regional)
        run = settle(ledger, scheme("family = 'fte'\npool = 1000\nregional_weight = 1.1\nmin_journalists = 2"), OCTOBER)
        assert amounts(run) == dec({"w": "233.34", "x": "333.33", "y": "433.33"})
        shares = {r["outlet"]: r["key_value"] for r in ledger.rows("SELECT outlet, key_value FROM settlement_shares")}
        assert shares == {"w": D(7), "x": D(10), "y": D(13)}
        reasons = ledger.rows("SELECT status, detail FROM settlement_outlets WHERE outlet = 'z'")
        assert reasons == [{"status": "ineligible", "detail": "journalist FTE below 2 (min_journalists)"}]


def test_fte_without_data_names_the_outlets(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "f.duckdb", {}, outlets=["no-fte", "other"]) as ledger:
        register(ledger, "has-fte", fte=3)
        with pytest.raises(ConfigError) as caught:
            settle(ledger, scheme("family = 'fte'\npool = 100"), OCTOBER)
    assert str(caught.value) == (
        "scheme 's' shares by journalist FTE, and these outlets have none: no-fte, other; "
        "set fte (and regional_fte) with 'royalty outlets import'"
    )


def test_regional_fte_above_fte_is_an_error(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "f.duckdb", {}) as ledger:
        register(ledger, "odd", fte=2, regional_fte=5)
        with pytest.raises(ConfigError, match="regional_fte is part of fte and cannot exceed it, for outlets odd"):
            settle(ledger, scheme("family = 'fte'\npool = 100"), OCTOBER)


# --- F5 sizing: Australia's levy, year rows, CPI, implied by a tariff ---------------------------------------


LEVY = "family = 'pool_pro_rata'\nsizing = 'levy'\nlevy_rate = 0.0225\nlevy_threshold = 250\noffset_ratio = 1"
HEADER = "operator,period,currency,revenue,deals,payment,value_of_news,repertoire_share\n"


def test_australian_levy_hand_computed(tmp_path: Path) -> None:
    # OpenAI: 2.25% x 1000 - 5 = 17.5; Google: 200 < 250 -> 0; Meta: max(0, 6.75 - 10) = 0;
    # Anthropic: exactly at the threshold, 5.625. P = 23.125 -> 23.12 (half-even), split 3:1.
    text = (
        HEADER
        + "OpenAI,2026-10,KZT,1000,5,,,\nGoogle,2026-10,KZT,200,,,,\n"
        + "Meta,2026-10,KZT,300,10,,,\nAnthropic,2026-10,KZT,250,,,,\n"
    )
    with build_ledger(tmp_path / "l.duckdb", usage(a=3, b=1)) as ledger:
        figures(ledger, tmp_path, text)
        run = settle(ledger, scheme(LEVY), OCTOBER)
        assert (run.total, run.retained) == (D("23.12"), D("0.00"))
        assert amounts(run) == dec({"a": "17.34", "b": "5.78"})
        facts = {r["name"]: r["value"] for r in ledger.rows("SELECT name, value FROM settlement_facts")}
        assert facts["pool.gross"] == "185/8"


def test_year_figures_are_prorated_by_days_after_the_levy(tmp_path: Path) -> None:
    # 2.25% x 12,000 = 270 for the year; October is 31/365 of it: 22.9315..., rounded 22.93.
    with build_ledger(tmp_path / "l.duckdb", usage(a=1)) as ledger:
        figures(ledger, tmp_path, HEADER + "OpenAI,2026,KZT,12000,,,,\n")
        assert settle(ledger, scheme(LEVY), OCTOBER).total == D("22.93")


def test_month_figures_win_over_year_figures(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "l.duckdb", usage(a=1)) as ledger:
        figures(ledger, tmp_path, HEADER + "OpenAI,2026,KZT,12000,,,,\nOpenAI,2026-10,KZT,1000,,,,\n")
        assert settle(ledger, scheme(LEVY), OCTOBER).total == D("22.50")


def test_missing_figures_name_the_operators(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "l.duckdb", usage(a=1)) as ledger:
        with pytest.raises(ConfigError, match="needs operators' figures for 2026-10, and the ledger has none"):
            settle(ledger, scheme(LEVY), OCTOBER)
        figures(ledger, tmp_path, HEADER + "OpenAI,2026-10,KZT,,,,,\nGoogle,2026-10,KZT,,,,,\n")
        with pytest.raises(ConfigError) as caught:
            settle(ledger, scheme(LEVY), OCTOBER)
    assert "is missing figures for: Google (2026-10: no revenue); OpenAI (2026-10: no revenue)" in str(caught.value)


def test_figures_in_another_currency_are_refused(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "l.duckdb", usage(a=1)) as ledger:
        figures(ledger, tmp_path, HEADER + "OpenAI,2026-10,USD,1000,,,,\n")
        with pytest.raises(ConfigError, match="is in KZT but the figures of OpenAI are not"):
            settle(ledger, scheme(LEVY), OCTOBER)


@pytest.mark.parametrize(
    ("body", "total"),
    [
        ("sizing = 'revenue_tariff'\ntariff_rate = 0.11", "11.00"),  # 11% x 1000 x 0.1 repertoire
        ("sizing = 'revenue_tariff'\ntariff_rate = 0.11\nrepertoire_share = 0.5", "11.00"),  # the row's share wins
        ("sizing = 'nash'\nbeta = 0.5", "20.00"),  # 0.5 x value of news 40
        ("sizing = 'payments'", "7.50"),
        ("sizing = 'payments'\nadmin_fee = 0.2", "6.00"),
        ("pool = 100\ncpi_base = 100\ncpi = 103.5", "103.50"),
        ("pool = 3650\npool_per = 'year'", "310.00"),  # 31 days of 365
    ],
)
def test_pool_sizes(tmp_path: Path, body: str, total: str) -> None:
    with build_ledger(tmp_path / "s.duckdb", usage(a=1)) as ledger:
        figures(ledger, tmp_path, HEADER + "OpenAI,2026-10,KZT,1000,,7.5,40,0.1\n")
        assert settle(ledger, scheme(f"family = 'pool_pro_rata'\n{body}"), OCTOBER).total == D(total)


def test_pool_implied_by_a_tariff(tmp_path: Path) -> None:
    from ledger.schemes import parse_schemes

    text = """
[schemes.tariff]
family = "per_fetch"
price = { training = 2 }
[schemes.implied]
family = "pool_pro_rata"
sizing = "implied_by_tariff"
tariff = "tariff"
"""
    rows = usage(a=3, b=2)
    rows[("a", "Google", "search", "/y")] = 5  # search is not priced: 0
    with build_ledger(tmp_path / "i.duckdb", rows) as ledger:
        file = parse_schemes(text)
        assert (
            settle(ledger, file.get("implied"), OCTOBER).total
            == settle(ledger, file.get("tariff"), OCTOBER).total
            == D(10)
        )
        assert amounts(settle(ledger, file.get("implied"), OCTOBER)) == dec(
            {"a": "8.00", "b": "2.00"}
        )  # by fetches, 8:2


# --- F1 sections, F3 weights -----------------------------------------------------------------------------------


def test_per_fetch_section_rates_first_match_wins(tmp_path: Path) -> None:
    rows = [fetch("a", path="/premium/1"), fetch("a", path="/premium/news/2"), fetch("a", path="/news/3")]
    sch = scheme(
        "family = 'per_fetch'\nprice = {training = 1}\n"
        "section_rates = [{path = '^/premium/', multiplier = 3}, {path = '^/premium/news/', multiplier = 10}]"
    )
    with build_ledger(tmp_path / "s.duckdb", rows) as ledger:
        assert settle(ledger, sch, OCTOBER).total == D("7.00")  # 3 + 3 + 1


def test_pool_weighted_by_purpose(tmp_path: Path) -> None:
    rows = [fetch("a", purpose="training")] * 3 + [fetch("b", "Perplexity", "user")] * 1
    sch = scheme("family = 'pool_weighted'\npool = 600\npurpose_weight = {training = 1, user = 3}")
    with build_ledger(tmp_path / "w.duckdb", rows) as ledger:
        run = settle(ledger, sch, OCTOBER)
        assert amounts(run) == dec({"a": "300.00", "b": "300.00"})
        assert column(run, "basis_units") == {"a": D(3), "b": D(3)}  # what the scheme counted, weighted


def test_pool_weighted_damping(tmp_path: Path) -> None:
    rows = [fetch("a", path="/1")] * 9 + [fetch("b", path="/2")] * 2
    sch = scheme("family = 'pool_weighted'\npool = 100\ndamping = 'cap_k'\ndamping_k = 2")
    with build_ledger(tmp_path / "d.duckdb", rows) as ledger:
        assert amounts(settle(ledger, sch, OCTOBER)) == dec({"a": "50.00", "b": "50.00"})


# --- F4 operator pools -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lam", "expected"),
    [
        ("0", {"a": "75.00", "b": "75.00"}),  # OpenAI's 100 by 3:1, Google's 50 all to b
        ("1", {"a": "90.00", "b": "60.00"}),  # 150 by global fetches 3:2
        ("0.5", {"a": "82.50", "b": "67.50"}),
    ],
)
def test_operator_pools_blend(tmp_path: Path, lam: str, expected: dict[str, str]) -> None:
    rows = usage(a=3, b=1)
    rows[("b", "Google", "training", "/g")] = 1
    with build_ledger(tmp_path / "o.duckdb", rows) as ledger:
        figures(ledger, tmp_path, HEADER + "OpenAI,2026-10,KZT,,,100,,\nGoogle,2026-10,KZT,,,50,,\n")
        run = settle(ledger, scheme(f"family = 'operator_pools'\nsizing = 'payments'\nlambda_global = {lam}"), OCTOBER)
        assert amounts(run) == dec(expected)
        assert_consistent(ledger, run)


def test_an_operator_that_used_nobody_is_retained(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "o.duckdb", usage(a=1)) as ledger:
        figures(ledger, tmp_path, HEADER + "OpenAI,2026-10,KZT,,,100,,\nMeta,2026-10,KZT,,,40,,\n")
        run = settle(ledger, scheme("family = 'operator_pools'\nsizing = 'payments'"), OCTOBER)
        assert (run.total, run.retained) == (D("100.00"), D("40.00"))


# --- F7 multi_pot --------------------------------------------------------------------------------------------------


def test_multi_pot_hand_computed(tmp_path: Path) -> None:
    # equal pot 50 over a, b, c (c registered, no usage): 16.67, 16.67, 16.66 (ties by name);
    # fetches pot 50 by 3:1: 37.5, 12.5.
    with build_ledger(tmp_path / "m.duckdb", usage(a=3, b=1), outlets=["c"]) as ledger:
        run = settle(ledger, scheme("family = 'multi_pot'\npool = 100\npots = {equal = 0.5, fetches = 0.5}"), OCTOBER)
        assert amounts(run) == dec({"a": "54.17", "b": "29.17", "c": "16.66"})
        pots = {r["pot"]: r["amount"] for r in ledger.rows("SELECT pot, amount FROM settlement_pots")}
        assert pots == {"equal": D(50), "fetches": D(50)}


def test_multi_pot_referral_key(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "m.duckdb", usage(a=1, b=1)) as ledger:
        add_referrals(ledger, [("a", "OpenAI", 3), ("b", "OpenAI", 1)])
        run = settle(ledger, scheme("family = 'multi_pot'\npool = 80\npots = {referrals = 1}"), OCTOBER)
        assert amounts(run) == dec({"a": "60.00", "b": "20.00"})


# --- F9 referral gap -------------------------------------------------------------------------------------------


def test_referral_gap_modes(tmp_path: Path) -> None:
    rows = usage(a=10, b=4)
    rows[("a", "Google", "training", "/g")] = 6
    with build_ledger(tmp_path / "g.duckdb", rows) as ledger:
        register(ledger, "a", rpm=500)
        register(ledger, "b", rpm=1000)
        add_referrals(ledger, [("a", "OpenAI", 4), ("b", "OpenAI", 6)])
        net = settle(ledger, scheme("family = 'referral_gap'\nprice = 2\nkappa = 1"), OCTOBER)
        # OpenAI: a 2 x (10 - 4) = 12, b 2 x max(0, 4 - 6) = 0; Google: a 2 x 6 = 12
        assert amounts(net) == dec({"a": "24.00", "b": "0.00"})
        value = settle(ledger, scheme("family = 'referral_gap'\nmode = 'value_offset'\nprice = 2"), OCTOBER)
        # a: OpenAI max(0, 20 - 0.5 x 4) = 18, Google 12; b: max(0, 8 - 1 x 6) = 2
        assert amounts(value) == dec({"a": "30.00", "b": "2.00"})
        ratio = settle(
            ledger,
            scheme("family = 'referral_gap'\nmode = 'ratio_multiplier'\nprice = 2\nratio_ref = 2\nmax_multiplier = 3"),
            OCTOBER,
        )
        # OpenAI: 14 fetches / 10 referrals = 1.4 -> x0.7; Google: no referrals -> the cap, x3
        assert amounts(ratio) == dec({"a": "50.00", "b": "5.60"})  # a 2 x .7 x 10 + 2 x 3 x 6, b 2 x .7 x 4


def test_value_offset_needs_the_rpm_of_referred_outlets(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "g.duckdb", usage(a=1, b=1)) as ledger:
        add_referrals(ledger, [("b", "OpenAI", 1)])
        with pytest.raises(ConfigError, match="needs each referred outlet's RPM, and these have none: b;"):
            settle(ledger, scheme("family = 'referral_gap'\nmode = 'value_offset'\nprice = 2"), OCTOBER)


# --- F10 Shapley, F11 attribution ----------------------------------------------------------------------------


def test_shapley_unanimity_closed_form(tmp_path: Path) -> None:
    # OpenAI's 60 among a, b, c (20 each); Google's 30 to a alone.
    rows = usage(a=1, b=5, c=2)
    rows[("a", "Google", "training", "/g")] = 1
    with build_ledger(tmp_path / "u.duckdb", rows) as ledger:
        figures(ledger, tmp_path, HEADER + "OpenAI,2026-10,KZT,,,60,,\nGoogle,2026-10,KZT,,,30,,\n")
        run = settle(ledger, scheme("family = 'shapley'\nsizing = 'payments'"), OCTOBER)
        assert amounts(run) == dec({"a": "50.00", "b": "20.00", "c": "20.00"})
        high = settle(ledger, scheme("family = 'shapley'\nsizing = 'payments'\nmin_usage = 2"), OCTOBER)
        assert amounts(high) == dec({"b": "30.00", "c": "30.00"}) | {"a": D("0.00")}  # Google's 30 retained
        assert high.retained == D("30.00")


def test_attribution_share_by_answers(tmp_path: Path) -> None:
    # Answer 1 (a, a, b within 60 s gaps): 5 -> a 3.33, b 1.67; answer 2 (a, 3 minutes later): 5 -> a.
    times = [MID_OCTOBER + timedelta(seconds=s) for s in (0, 10, 20, 200)]
    rows = [fetch(o, "OpenAI", "user", f"/{i}", ts=t) for i, (o, t) in enumerate(zip("aaba", times, strict=True))]
    rows.append(fetch("b", "OpenAI", "training", "/t"))  # not user-triggered: not an answer
    with build_ledger(tmp_path / "a.duckdb", rows) as ledger:
        run = settle(ledger, scheme("family = 'attribution_share'\nrho = 0.5\nrevenue_per_answer = 10"), OCTOBER)
        assert amounts(run) == dec({"a": "8.33", "b": "1.67"})
        assert run.total == D("10.00")


def test_attribution_share_from_operator_revenue(tmp_path: Path) -> None:
    rows = [fetch("a", "OpenAI", "user", "/1"), fetch("b", "OpenAI", "user", "/2", ts=MID_OCTOBER + timedelta(hours=1))]
    with build_ledger(tmp_path / "a.duckdb", rows) as ledger:
        figures(ledger, tmp_path, HEADER + "OpenAI,2026-10,KZT,100,,,,\n")
        run = settle(ledger, scheme("family = 'attribution_share'\nrho = 0.8\nrevenue = 'operator_revenue'"), OCTOBER)
        assert amounts(run) == dec({"a": "40.00", "b": "40.00"})  # 80% of 100 over two answers


def test_attribution_share_needs_the_revenue_of_operators_with_answers(tmp_path: Path) -> None:
    with (
        build_ledger(tmp_path / "a.duckdb", [fetch("a", "Perplexity", "user")]) as ledger,
        pytest.raises(ConfigError, match="needs the revenue of Perplexity in KZT for 2026-10"),
    ):
        settle(ledger, scheme("family = 'attribution_share'\nrho = 0.8\nrevenue = 'operator_revenue'"), OCTOBER)


# --- F8: floors, caps, eligibility, authors ---------------------------------------------------------------------


def test_floors_and_caps_by_water_filling(tmp_path: Path) -> None:
    # weights 70:20:10 of 100: the cap 50 binds a; b and c would share 50 by 2:1 (33.33, 16.67), but c's
    # floor 20 binds, so b gets the other 30 (lambda 3/2: b 1.5 x 20).
    with build_ledger(tmp_path / "w.duckdb", usage(a=70, b=20, c=10)) as ledger:
        run = settle(ledger, scheme("family = 'pool_pro_rata'\npool = 100\ncap = 50\nfloor = 20"), OCTOBER)
        assert amounts(run) == dec({"a": "50.00", "b": "30.00", "c": "20.00"})
        rows = ledger.rows("SELECT outlet, status FROM settlement_outlets")
        assert {r["outlet"]: r["status"] for r in rows} == {"a": "cap", "b": "paid", "c": "floor"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("floor = 40", "infeasible floors: the floors of outlets a, b, c add up to 120, more than the 100 to share"),
        ("cap = 30", "infeasible caps: outlets and groups can take at most 90 together"),
        ("outlet_floors = {a = 60}\noutlet_caps = {a = 50}", "the floor is above the cap for outlets a"),
        ("outlet_caps = {zz = 5}", "outlet_caps.zz: no such outlet"),
        (
            "group_caps = {broadcastr = 0.3}",
            "group_caps.broadcastr: no outlet is in group 'broadcastr'; did you mean 'broadcaster'?",
        ),
    ],
)
def test_infeasible_constraints_are_errors_naming_the_outlets(tmp_path: Path, body: str, message: str) -> None:
    with build_ledger(tmp_path / "i.duckdb", usage(a=70, b=20, c=10)) as ledger:
        register(ledger, "a", group="broadcaster")
        with pytest.raises(ConfigError) as caught:
            settle(ledger, scheme(f"family = 'pool_pro_rata'\npool = 100\n{body}"), OCTOBER)
        assert message in str(caught.value)
        assert ledger.rows("SELECT count(*) AS n FROM settlements")[0]["n"] == 0  # nothing stored


def test_group_floors_above_the_group_cap_are_an_error(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "g.duckdb", usage(a=1, b=1, c=8)) as ledger:
        register(ledger, "a", group="broadcaster")
        register(ledger, "b", group="broadcaster")
        with pytest.raises(ConfigError, match=r"the floors of group 'broadcaster' \(outlets a, b\) add up to 20"):
            settle(
                ledger,
                scheme("family = 'pool_pro_rata'\npool = 100\nfloor = 10\ngroup_caps = {broadcaster = 0.1}"),
                OCTOBER,
            )


def test_author_share_is_reported_as_a_split(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "a.duckdb", usage(a=2, b=1)) as ledger:
        run = settle(ledger, scheme("family = 'pool_pro_rata'\npool = 100\nauthor_share = 0.34"), OCTOBER)
        assert column(run, "author_amount") == dec({"a": "22.67", "b": "11.33"})  # 34% of 66.67 and 33.33


def test_max_units_per_operator_caps_counted_usage(tmp_path: Path) -> None:
    rows = usage(a=50, b=5)
    with build_ledger(tmp_path / "m.duckdb", rows) as ledger:
        run = settle(ledger, scheme("family = 'pool_pro_rata'\npool = 100\nmax_units_per_operator = 5"), OCTOBER)
        assert amounts(run) == dec({"a": "50.00", "b": "50.00"})


def test_retained_shares_of_ineligible_outlets_under_retain(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "r.duckdb", usage(a=6, b=2, c=2)) as ledger:
        run = settle(
            ledger,
            scheme(
                "family = 'multi_pot'\npool = 100\npots = {equal = 0.5, fetches = 0.5}\nmin_fetches = 3\n"
                "below_threshold = 'retain'"
            ),
            OCTOBER,
        )
        # equal: a gets 50/3 (b and c's thirds retained); fetches: a 30 (b, c 20% each retained)
        assert amounts(run)["a"] == D("46.67")
        assert run.total + run.retained == D(100)
        assert Fraction(run.retained) == Fraction(100) - Fraction(4667, 100)
