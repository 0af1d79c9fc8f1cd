"""Settlement (ledger/settle.py) on real DuckDB ledgers: hand-computed tariffs and pools, filters, period
boundaries, exact pools, eligibility, and reproducible run ids."""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.money import to_minor
from ledger.settle import Basis, ledger_fingerprint, load_run, run_id_for, settle
from ledger.store.db import Ledger
from tests.ledger.settle_helpers import (
    OCTOBER,
    add_outlets,
    add_upload,
    amounts,
    assert_consistent,
    build_ledger,
    column,
    csv_bytes,
    expand,
    fetch,
    scheme,
)

TARIFF = scheme(
    "family = 'per_fetch'\nprice = {training = 2.5, search = 1, user = 0.4}\n"
    "operator_multiplier = {OpenAI = 1.2}\nverification_weights = {unverifiable = 0.5}"
)
COUNT = scheme("family = 'per_fetch'\nprice = {training = 1, search = 1, user = 1}")  # 1 KZT per unit


def counted(tmp_path: Path, rows: list[dict], sch=COUNT) -> Decimal:
    with build_ledger(tmp_path / "f.duckdb", rows) as ledger:
        return settle(ledger, sch, OCTOBER).total


# --- per_fetch ------------------------------------------------------------------------------------------


def test_per_fetch_hand_computed(tmp_path: Path) -> None:
    rows = [
        *[fetch("outlet-a", "OpenAI", "training", "/news/1") for _ in range(3)],  # 3 * 2.5 * 1.2 = 9.00
        fetch("outlet-a", "OpenAI", "training", "/news/2", verification="spoofed"),  # weight 0
        *[fetch("outlet-a", "Anthropic", "search", "/news/1", verification="unverifiable")] * 2,  # 2 * .5 * 1 = 1
        *[fetch("outlet-b", "Perplexity", "user", "/a")] * 3,  # 3 * 0.4 = 1.20
        fetch("outlet-b", "OpenAI", "search", "/b", verification="unknown"),  # 1 * 1 * 1.2 = 1.20
    ]
    with build_ledger(tmp_path / "t.duckdb", rows, outlets=["outlet-c"]) as ledger:
        run = settle(ledger, TARIFF, OCTOBER)
        assert (run.total, run.retained, run.currency, run.family, run.period) == (
            Decimal("12.40"),
            Decimal("0.00"),
            "KZT",
            "per_fetch",
            "2026-10",
        )
        assert amounts(run) == {"outlet-a": Decimal("10.00"), "outlet-b": Decimal("2.40")}
        assert column(run, "basis_units") == {"outlet-a": Decimal(4), "outlet-b": Decimal(4)}
        assert column(run, "share") == {"outlet-a": Decimal("0.806452"), "outlet-b": Decimal("0.193548")}
        assert run.payouts.schema.field("amount").type == pa.decimal128(38, 2)
        cells = ledger.rows("SELECT outlet, operator, basis_units, amount FROM payouts ORDER BY outlet, operator")
        assert [(c["outlet"], c["operator"], c["basis_units"], c["amount"]) for c in cells] == [
            ("outlet-a", "Anthropic", Decimal(1), Decimal("1.00")),
            ("outlet-a", "OpenAI", Decimal(3), Decimal("9.00")),
            ("outlet-b", "OpenAI", Decimal(1), Decimal("1.20")),
            ("outlet-b", "Perplexity", Decimal(3), Decimal("1.20")),
        ]
        assert_consistent(ledger, run)


def test_per_fetch_rounds_once_and_keeps_the_total_exact(tmp_path: Path) -> None:
    thirds = scheme("family = 'per_fetch'\nprice = {training = 0.333}")
    usage = {(o, "OpenAI", "training", "/x"): 1 for o in ("outlet-a", "outlet-b", "outlet-c")}
    with build_ledger(tmp_path / "t.duckdb", usage) as ledger:
        run = settle(ledger, thirds, OCTOBER)
        # exact 0.999 -> 1.00 in total; 0.333 each -> 0.33 + one extra tiyn to the first key
        assert run.total == Decimal("1.00")
        assert amounts(run) == {"outlet-a": Decimal("0.34"), "outlet-b": Decimal("0.33"), "outlet-c": Decimal("0.33")}


def test_per_fetch_with_every_price_zero_pays_zero(tmp_path: Path) -> None:
    free = scheme("family = 'per_fetch'\nprice = {training = 0, search = 0, user = 0}")
    usage = {("outlet-a", "OpenAI", "training", "/1"): 5, ("outlet-b", "Google", "search", "/2"): 2}
    with build_ledger(tmp_path / "t.duckdb", usage) as ledger:
        run = settle(ledger, free, OCTOBER)
        assert run.total == 0
        assert set(amounts(run).values()) == {Decimal("0.00")}
        assert column(run, "fetches") == {"outlet-a": 5, "outlet-b": 2}


def test_zero_weight_fetches_are_counted_the_same_way_everywhere(tmp_path: Path) -> None:
    rows = [
        fetch("outlet-a", path="/1"),
        fetch("outlet-a", path="/2", verification="spoofed"),
        fetch("outlet-b", path="/1"),
        fetch("outlet-b", "Anthropic", path="/2", verification="spoofed"),
    ]
    with build_ledger(tmp_path / "t.duckdb", rows) as ledger:
        fetches = column(settle(ledger, COUNT, OCTOBER), "fetches")
    assert fetches["outlet-a"] == fetches["outlet-b"]  # got 2 (spoofed counted) vs 1 (spoofed dropped)


# --- refetch policies -----------------------------------------------------------------------------------

REFETCH_ROWS = {
    ("outlet-a", "OpenAI", "training", "/p1"): 5,
    ("outlet-a", "OpenAI", "training", "/p2"): 1,
    ("outlet-a", "OpenAI", "training", "/p3"): 2,
    ("outlet-a", "OpenAI", "search", "/p1"): 2,  # same URL, another purpose: its own count
    ("outlet-a", "Anthropic", "training", "/p1"): 4,  # same URL, another operator: its own count
}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("refetch = 'every'", "14.00"),
        ("refetch = 'unique_url_per_period'", "5.00"),
        ("refetch = 'cap_per_url'\ncap_per_url = 2", "9.00"),  # 2 + 1 + 2 + 2 + 2
        ("refetch = 'cap_per_url'\ncap_per_url = 1", "5.00"),
        ("refetch = 'cap_per_url'\ncap_per_url = 100", "14.00"),
    ],
)
def test_refetch_policies(tmp_path: Path, policy: str, expected: str) -> None:
    sch = scheme(f"family = 'per_fetch'\nprice = {{training = 1, search = 1}}\n{policy}")
    with build_ledger(tmp_path / "t.duckdb", REFETCH_ROWS) as ledger:
        run = settle(ledger, sch, OCTOBER)
        assert run.total == Decimal(expected)
        assert column(run, "fetches") == {"outlet-a": 14}  # every qualifying fetch is reported


@pytest.mark.parametrize(("policy", "units"), [("every", "2.5"), ("unique_url_per_period", "1"), ("cap_per_url", "2")])
def test_refetch_caps_the_weighted_count(tmp_path: Path, policy: str, units: str) -> None:
    cap = "\ncap_per_url = 2" if policy == "cap_per_url" else ""
    sch = scheme(
        f"family = 'per_fetch'\nprice = {{training = 1}}\nrefetch = '{policy}'{cap}\n"
        "verification_weights = {unverifiable = 0.5}"
    )
    rows = [fetch("outlet-a", path="/p", verification="unverifiable") for _ in range(5)]
    with build_ledger(tmp_path / "t.duckdb", rows) as ledger:
        assert column(settle(ledger, sch, OCTOBER), "basis_units") == {"outlet-a": Decimal(units)}


# --- which fetches qualify --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "paid"),
    [
        ({}, 1),
        ({"status": 204}, 1),
        ({"status": 299}, 1),
        ({"status": 304}, 0),
        ({"status": 301}, 0),
        ({"status": 404}, 0),
        ({"status": 500}, 0),
        ({"status": None}, 0),
        ({"method": "HEAD"}, 0),
        ({"method": "POST"}, 0),
        ({"path": "/"}, 1),
        ({"path": "/news/a.html"}, 1),
        ({"path": "/news/article?id=3"}, 1),
        ({"path": "/static/site.css"}, 0),
        ({"path": "/app.js?v=2"}, 0),
        ({"path": "/img/A.JPG"}, 0),
        ({"path": "/robots.txt"}, 0),
        ({"path": "/favicon.ico"}, 0),
        ({"path": "/sitemap-news.xml"}, 0),
        ({"path": "/sitemap_index"}, 0),
        ({"path": "/.well-known/security.txt"}, 0),
        ({"path": "/feed.xml"}, 0),
        ({"purpose": "search_engine", "ai": False}, 0),
        ({"purpose": "archive", "ai": False}, 0),
        ({"ai": False}, 0),
        ({"verification": "spoofed"}, 0),
        ({"verification": "unknown"}, 1),
        ({"verification": "unverifiable"}, 1),
        ({"attribution": "ip_attributed", "bot": None}, 0),
    ],
)
def test_default_qualifying_filters(tmp_path: Path, overrides: dict, paid: int) -> None:
    assert counted(tmp_path, [fetch("outlet-a", **overrides)]) == paid


@pytest.mark.parametrize(
    ("option", "overrides", "paid"),
    [
        ("include_undeclared = true", {"attribution": "ip_attributed", "bot": None}, 1),
        ("statuses = ['200', '304']", {"status": 304}, 1),
        ("statuses = ['200', '304']", {"status": 204}, 0),
        ("statuses = ['2xx', '3xx']", {"status": 301}, 1),
        ("methods = ['GET', 'HEAD']", {"method": "HEAD"}, 1),
        ("include_paths = ['^/news/']", {"path": "/news/1"}, 1),
        ("include_paths = ['^/news/']", {"path": "/blog/1"}, 0),
        ("exclude_paths = []", {"path": "/static/site.css"}, 1),
        ("exclude_paths = ['^/tag/']", {"path": "/tag/x"}, 0),
        ("exclude_paths = ['^/tag/']", {"path": "/robots.txt"}, 1),  # replacing the defaults drops them
        ("purposes = ['training']", {"purpose": "search"}, 0),
        ("purposes = ['training']", {"purpose": "training"}, 1),
        ("verified_only = true", {"verification": "unverifiable"}, 0),
        ("verified_only = true", {"verification": "verified"}, 1),
        ("verification_weights = {spoofed = 1}", {"verification": "spoofed"}, 1),
    ],
)
def test_configured_qualifying_filters(tmp_path: Path, option: str, overrides: dict, paid: int) -> None:
    sch = scheme(f"family = 'per_fetch'\nprice = {{training = 1, search = 1, user = 1}}\n{option}")
    assert counted(tmp_path, [fetch("outlet-a", **overrides)], sch) == paid


@pytest.mark.parametrize(
    ("ts", "paid"),
    [
        (datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC), 0),
        (datetime(2026, 9, 30, 23, 59, 59, 999999, tzinfo=UTC), 0),
        (datetime(2026, 10, 1, 0, 0, 0, tzinfo=UTC), 1),
        (datetime(2026, 10, 31, 23, 59, 59, 999000, tzinfo=UTC), 1),
        (datetime(2026, 11, 1, 0, 0, 0, tzinfo=UTC), 0),
        (datetime(2026, 11, 1, 2, 0, tzinfo=timezone(timedelta(hours=3))), 1),  # 2026-10-31T23:00Z
        (datetime(2026, 10, 1, 2, 0, tzinfo=timezone(timedelta(hours=5))), 0),  # 2026-09-30T21:00Z
    ],
)
def test_period_boundaries_are_utc(tmp_path: Path, ts: datetime, paid: int) -> None:
    assert counted(tmp_path, [fetch("outlet-a", ts=ts)]) == paid


# --- pool_pro_rata --------------------------------------------------------------------------------------


def pool(body: str) -> object:
    return scheme(f"family = 'pool_pro_rata'\n{body}")


@pytest.mark.parametrize(
    ("body", "usage", "expected", "retained"),
    [
        (
            "pool = 1000\nadmin_fee = 0.1",
            {"outlet-a": 2, "outlet-b": 1},
            {"outlet-a": "600.00", "outlet-b": "300.00"},
            "0.00",
        ),
        (
            "pool = 100",
            {"outlet-a": 1, "outlet-b": 1, "outlet-c": 1},
            {"outlet-a": "33.34", "outlet-b": "33.33", "outlet-c": "33.33"},
            "0.00",
        ),
        (
            "pool = 90\nmin_fetches = 3",
            {"outlet-a": 5, "outlet-b": 3, "outlet-c": 1},
            {"outlet-a": "56.25", "outlet-b": "33.75", "outlet-c": "0.00"},
            "0.00",
        ),
        (
            "pool = 90\nmin_fetches = 3\nbelow_threshold = 'retain'",
            {"outlet-a": 5, "outlet-b": 3, "outlet-c": 1},
            {"outlet-a": "50.00", "outlet-b": "30.00", "outlet-c": "0.00"},
            "10.00",
        ),
        (
            "pool = 90\nmin_fetches = 10",
            {"outlet-a": 5, "outlet-b": 3},
            {"outlet-a": "0.00", "outlet-b": "0.00"},
            "90.00",
        ),
        ("pool = 90\nmin_fetches = 10\nbelow_threshold = 'retain'", {"outlet-a": 5}, {"outlet-a": "0.00"}, "90.00"),
        ("pool = 50\nadmin_fee = 1", {"outlet-a": 5}, {"outlet-a": "0.00"}, "0.00"),
        (
            "pool = 1000\ncurrency = 'JPY'",
            {"outlet-a": 1, "outlet-b": 1, "outlet-c": 1},
            {"outlet-a": "334", "outlet-b": "333", "outlet-c": "333"},
            "0",
        ),
    ],
)
def test_pool_hand_computed(
    tmp_path: Path, body: str, usage: dict[str, int], expected: dict[str, str], retained: str
) -> None:
    sch = pool(body)
    with build_ledger(tmp_path / "t.duckdb", {(o, "OpenAI", "training", "/x"): n for o, n in usage.items()}) as ledger:
        run = settle(ledger, sch, OCTOBER)
        assert {o: str(a) for o, a in amounts(run).items()} == expected
        assert str(run.retained) == retained
        net = (sch.sizing.pool * (1 - sch.sizing.admin_fee)).quantize(Decimal(1).scaleb(-sch.minor_units))
        assert run.total + run.retained == net
        assert_consistent(ledger, run)


OUTLETS = ("outlet-a", "outlet-b", "outlet-c", "outlet-d", "outlet-e")
pool_texts = st.builds(
    "pool = {}\nadmin_fee = {}\nmin_fetches = {}\nbelow_threshold = '{}'\ncurrency = 'XAU'\nminor_units = {}".format,
    st.decimals(min_value=0, max_value=10**9, places=2),
    st.decimals(min_value=0, max_value=1, places=3),
    st.integers(0, 8),
    st.sampled_from(("redistribute", "retain")),
    st.integers(0, 4),
)


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from(OUTLETS), st.sampled_from(("OpenAI", "Google"))), st.integers(1, 6), max_size=8
    ),
    pool_texts,
)
def test_pool_pays_exactly_p_net_in_minor_units(counts: dict, body: str) -> None:
    sch = pool(body)
    usage = {(o, op, "training", "/x"): n for (o, op), n in counts.items()}
    with tempfile.TemporaryDirectory() as folder, build_ledger(Path(folder) / "p.duckdb", usage) as ledger:
        run = settle(ledger, sch, OCTOBER)
        net = to_minor(sch.sizing.pool * (1 - sch.sizing.admin_fee), sch.minor_units)
        quantum = Decimal(1).scaleb(-sch.minor_units)
        assert run.total + run.retained == Decimal(net) * quantum
        assert run.total >= 0 and run.retained >= 0
        per_outlet = {o: sum(n for (p, _), n in counts.items() if p == o) for o, _ in counts}
        eligible = {o for o, n in per_outlet.items() if n >= sch.constraints.min_fetches}
        assert {o for o, a in amounts(run).items() if a > 0} <= eligible
        if eligible and sch.constraints.below_threshold == "redistribute":
            assert run.retained == 0
        counted = eligible if sch.constraints.below_threshold == "redistribute" else set(per_outlet)
        denominator = sum(per_outlet[o] for o in counted)
        for outlet, amount in amounts(run).items():  # each outlet within one minor unit of its exact share
            exact = Fraction(net, 10**sch.minor_units) * per_outlet[outlet] / denominator if outlet in eligible else 0
            assert abs(Fraction(amount) - exact) < Fraction(1, 10**sch.minor_units)
        assert_consistent(ledger, run)


@settings(max_examples=20, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from(OUTLETS), st.sampled_from(("OpenAI", "Google"))), st.integers(1, 5), max_size=8
    ),
    st.decimals(min_value=0, max_value=1000, places=3),
)
def test_per_fetch_rounds_the_total_once(counts: dict, price: Decimal) -> None:
    sch = scheme(f"family = 'per_fetch'\nprice = {{training = {price}}}")
    usage = {(o, op, "training", "/x"): n for (o, op), n in counts.items()}
    with tempfile.TemporaryDirectory() as folder, build_ledger(Path(folder) / "f.duckdb", usage) as ledger:
        run = settle(ledger, sch, OCTOBER)
        cells = ledger.rows("SELECT outlet, operator, amount FROM payouts WHERE run_id = ?", [run.run_id])
    exact_total = price * sum(counts.values())
    assert run.total == exact_total.quantize(Decimal("0.01"), "ROUND_HALF_EVEN")
    for cell in cells:
        assert abs(cell["amount"] - price * counts[cell["outlet"], cell["operator"]]) < Decimal("0.01")


@settings(max_examples=12, deadline=None)
@given(
    st.dictionaries(st.sampled_from(OUTLETS), st.integers(1, 9), min_size=1),
    st.decimals(min_value=1, max_value=10**7, places=2),
    st.decimals(min_value=0, max_value="0.5", places=2),
)
def test_pool_on_a_real_ledger_pays_p_net(counts: dict[str, int], amount: Decimal, fee: Decimal) -> None:
    sch = pool(f"pool = {amount}\nadmin_fee = {fee}")
    usage = {(o, "OpenAI", "training", "/x"): n for o, n in counts.items()}
    with tempfile.TemporaryDirectory() as folder, build_ledger(Path(folder) / "h.duckdb", usage) as ledger:
        run = settle(ledger, sch, OCTOBER)
        assert run.total == (amount * (1 - fee)).quantize(Decimal("0.01"), "ROUND_HALF_EVEN") and run.retained == 0
        assert_consistent(ledger, run)
        exact = {o: run.total * n / sum(counts.values()) for o, n in counts.items()}
        assert all(abs(a - exact[o]) < Decimal("0.01") for o, a in amounts(run).items())


def test_pool_with_no_usage_retains_everything(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "t.duckdb", {}, outlets=["outlet-a"]) as ledger:
        run = settle(ledger, pool("pool = 1234.56\nadmin_fee = 0.5"), OCTOBER)
        assert (run.total, run.retained, run.payouts.num_rows) == (Decimal("0.00"), Decimal("617.28"), 0)


def test_pool_split_follows_weighted_units_not_raw_fetches(tmp_path: Path) -> None:
    rows = [
        *[fetch("outlet-a", path=f"/{i}") for i in range(3)],
        *[fetch("outlet-b", path=f"/{i}", verification="spoofed") for i in range(50)],
        fetch("outlet-b"),
    ]
    with build_ledger(tmp_path / "t.duckdb", rows) as ledger:
        run = settle(ledger, pool("pool = 400"), OCTOBER)
        assert amounts(run) == {"outlet-a": Decimal("300.00"), "outlet-b": Decimal("100.00")}


# --- reproducibility ------------------------------------------------------------------------------------

MIXED = {
    ("outlet-a", "OpenAI", "training", "/1"): 7,
    ("outlet-a", "Anthropic", "search", "/2"): 3,
    ("outlet-b", "OpenAI", "user", "/3"): 2,
    ("outlet-b", "Google", "training", "/4"): 11,
    ("outlet-c", "Perplexity", "search", "/5"): 1,
}


def test_settling_twice_reuses_the_stored_run(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "t.duckdb", MIXED) as ledger:
        first = settle(ledger, TARIFF, OCTOBER)
        second = settle(ledger, TARIFF, OCTOBER)
        assert (first.reused, second.reused) == (False, True)
        assert second.run_id == first.run_id
        assert second.payouts.equals(first.payouts) and second.total == first.total
        assert ledger.rows("SELECT count(*) AS n FROM settlements")[0]["n"] == 1
        assert ledger.rows("SELECT count(*) AS n FROM payouts")[0]["n"] == 5
        assert load_run(ledger, first.run_id).payouts.equals(first.payouts)


def test_settlement_row_records_what_it_read(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "t.duckdb", MIXED) as ledger:
        run = settle(ledger, TARIFF, OCTOBER)
        head = ledger.rows("SELECT * FROM settlements")[0]
        fingerprint = ledger_fingerprint(ledger)
        assert run.run_id == run_id_for(TARIFF, OCTOBER, fingerprint)
        assert (head["scheme_name"], head["scheme_hash"], head["scheme_toml"], head["ledger_fingerprint"]) == (
            "s",
            TARIFF.scheme_hash,
            TARIFF.canonical,
            fingerprint,
        )
        assert (head["period_start"], head["period_end"], head["minor_units"], head["qualifying_fetches"]) == (
            OCTOBER.start,
            OCTOBER.end,
            2,
            24,
        )


def test_same_content_in_two_ledgers_gives_the_same_run_byte_for_byte(tmp_path: Path) -> None:
    rows = expand(MIXED)
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    for sch in (TARIFF, pool("pool = 1000\nadmin_fee = 0.07")):
        with (
            build_ledger(tmp_path / f"a{sch.family}.duckdb", rows) as one,
            Ledger(tmp_path / f"b{sch.family}.duckdb") as two,
        ):
            for slug in ("outlet-c", "outlet-b", "outlet-a"):  # outlets registered in another order
                add_outlets(two, [slug])
            add_upload(two, shuffled)  # fetch rows inserted in another order
            a, b = settle(one, sch, OCTOBER), settle(two, sch, OCTOBER)
            assert a.run_id == b.run_id and not b.reused
            assert a.payouts.equals(b.payouts)
            assert csv_bytes(a.payouts) == csv_bytes(b.payouts)
            cells = "SELECT * FROM payouts ORDER BY outlet, operator"
            assert csv_bytes(one.arrow(cells)) == csv_bytes(two.arrow(cells))
            head = "SELECT * EXCLUDE (created_at) FROM settlements"
            assert csv_bytes(one.arrow(head)) == csv_bytes(two.arrow(head))


def test_a_new_upload_changes_the_fingerprint_and_the_run(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "t.duckdb", MIXED) as ledger:
        before, old = ledger_fingerprint(ledger), settle(ledger, COUNT, OCTOBER)
        add_upload(ledger, [fetch("outlet-c", "Perplexity", "search", "/6")])
        new = settle(ledger, COUNT, OCTOBER)
        assert ledger_fingerprint(ledger) != before
        assert new.run_id != old.run_id and not new.reused
        assert (old.total, new.total) == (Decimal(24), Decimal(25))
        assert load_run(ledger, old.run_id).total == old.total  # the old run is kept as it was
        add_outlets(ledger, ["outlet-z"])  # the outlet registry is part of the fingerprint too
        assert settle(ledger, COUNT, OCTOBER).run_id != new.run_id


def test_an_upload_outside_the_period_still_changes_the_run_but_not_the_money(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "t.duckdb", MIXED) as ledger:
        old = settle(ledger, COUNT, OCTOBER)
        add_upload(ledger, [fetch("outlet-a", ts=datetime(2026, 12, 1, tzinfo=UTC))])
        new = settle(ledger, COUNT, OCTOBER)
        assert new.run_id != old.run_id
        assert new.payouts.equals(old.payouts)


def test_a_renamed_scheme_reports_its_own_name(tmp_path: Path) -> None:
    body = "family = 'per_fetch'\nprice = {training = 1}"
    with build_ledger(tmp_path / "t.duckdb", MIXED) as ledger:
        settle(ledger, scheme(body, "first"), OCTOBER)
        assert settle(ledger, scheme(body, "second"), OCTOBER).scheme == "second"


def test_usage_is_keyed_by_outlet_and_operator(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "t.duckdb", MIXED) as ledger:
        table = Basis(ledger, OCTOBER).units(COUNT)
    fetches: dict[tuple[str, str], int] = {}
    for outlet, operator, n in zip(
        table["outlet"].to_pylist(), table["operator"].to_pylist(), table["fetches"].to_pylist(), strict=True
    ):
        fetches[outlet, operator] = fetches.get((outlet, operator), 0) + n
    assert fetches == {
        ("outlet-a", "OpenAI"): 7,
        ("outlet-a", "Anthropic"): 3,
        ("outlet-b", "OpenAI"): 2,
        ("outlet-b", "Google"): 11,
        ("outlet-c", "Perplexity"): 1,
    }
