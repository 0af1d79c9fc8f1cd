"""Scheme comparison (ledger/compare.py): distribution metrics and the side-by-side payout table."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger.compare import compare, gini, hhi, top_share
from ledger.period import Period
from ledger.schemes import parse_schemes
from ledger.store.db import Ledger
from tests.ledger.settle_helpers import OCTOBER, add_outlets, add_upload, build_ledger, fetch

F = Fraction


@pytest.mark.parametrize(
    ("values", "g", "h"),
    [
        ([5, 5, 5, 5], F(0), F(2500)),  # equal split: gini 0, hhi 10000/n
        ([7, 7, 7, 7, 7], F(0), F(2000)),
        ([0, 0, 0, 8], F(3, 4), F(10000)),  # one outlet takes all: gini (n-1)/n, hhi 10000
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 1], F(9, 10), F(10000)),
        ([9], F(0), F(10000)),
        ([1, 2, 3, 4], F(1, 4), F(3000)),  # 2*(1+4+9+16)/(4*10) - 5/4; 10^2+20^2+30^2+40^2
        ([4, 1, 3, 2], F(1, 4), F(3000)),  # order does not matter
        ([0, 5, 5], F(1, 3), F(5000)),  # an outlet paid nothing still counts for gini...
        ([5, 5], F(0), F(5000)),  # ...but not for hhi
        ([F(1, 3), F(2, 3)], F(1, 6), F(50000, 9)),
        ([0, 0], F(0), F(0)),  # nothing paid: defined as 0, no division by zero
        ([], F(0), F(0)),
    ],
)
def test_gini_and_hhi_hand_computed(values: list[int], g: Fraction, h: Fraction) -> None:
    xs = [F(v) for v in values]
    assert gini(xs) == g
    assert hhi(xs) == h


@pytest.mark.parametrize(
    ("values", "k", "share"),
    [
        ([1, 1, 1, 1, 1, 1], 5, F(5, 6)),
        ([10, 0, 30, 20, 40], 2, F(7, 10)),
        ([10, 0, 30, 20, 40], 5, F(1)),
        ([3, 1], 1, F(3, 4)),
        ([0, 0, 0], 5, F(0)),
        ([0, 0, 8], 1, F(1)),
    ],
)
def test_top_share(values: list[int], k: int, share: Fraction) -> None:
    assert top_share([F(v) for v in values], k) == share


payouts = st.lists(st.fractions(min_value=0, max_value=10**6, max_denominator=100), min_size=1, max_size=30)


@given(payouts, st.fractions(min_value=F(1, 100), max_value=1000, max_denominator=100))
def test_metric_bounds_and_scale_invariance(values: list[Fraction], c: Fraction) -> None:
    assume(sum(values) > 0)
    n = len(values)
    assert 0 <= gini(values) <= F(n - 1, n)
    assert F(10000, n) <= hhi(values) <= 10000
    assert F(min(5, n), n) <= top_share(values) <= 1
    scaled = [c * v for v in values]
    assert (gini(scaled), hhi(scaled), top_share(scaled)) == (gini(values), hhi(values), top_share(values))


# --- compare() on a real ledger -------------------------------------------------------------------------

SCHEMES = """
[schemes.tariff]
family = "per_fetch"
price = { training = 3, search = 1 }

[schemes.pool]
family = "pool_pro_rata"
pool = 100
"""

USAGE = {("outlet-a", "OpenAI", "training", "/1"): 1, ("outlet-b", "Google", "search", "/2"): 1}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with build_ledger(tmp_path / "c.duckdb", USAGE, outlets=["outlet-c"]) as opened:
        yield opened


def test_compare_puts_every_scheme_side_by_side(ledger: Ledger) -> None:
    result = compare(ledger, parse_schemes(SCHEMES), OCTOBER)
    assert result.period == "2026-10"
    assert result.payouts.column_names == ["outlet", "tariff", "pool"]
    assert result.payouts.to_pylist() == [
        {"outlet": "outlet-a", "tariff": Decimal("3.00"), "pool": Decimal("50.00")},
        {"outlet": "outlet-b", "tariff": Decimal("1.00"), "pool": Decimal("50.00")},
        {"outlet": "outlet-c", "tariff": Decimal("0.00"), "pool": Decimal("0.00")},  # registered, unpaid
    ]
    assert [run.scheme for run in result.settlements] == ["tariff", "pool"]
    for run in result.settlements:
        assert sum(result.payouts[run.scheme].to_pylist(), Decimal(0)) == run.total


def test_compare_metrics_hand_computed(ledger: Ledger) -> None:
    result = compare(ledger, parse_schemes(SCHEMES), OCTOBER)
    runs = {run.scheme: run.run_id for run in result.settlements}
    columns = ["scheme", "family", "run_id", "currency", "total", "outlets_paid", "gini", "hhi", "top5_share"]
    assert result.metrics.select(columns).to_pylist() == [
        # [3, 1, 0]: gini 2*(0+2+9)/(3*4) - 4/3 = 1/2; hhi 75^2 + 25^2
        {
            "scheme": "tariff",
            "family": "per_fetch",
            "run_id": runs["tariff"],
            "currency": "KZT",
            "total": Decimal("4.00"),
            "outlets_paid": 2,
            "gini": Decimal("0.5000"),
            "hhi": Decimal("6250.0"),
            "top5_share": Decimal("1.0000"),
        },
        # [50, 50, 0]: gini 1/3, hhi 2 * 50^2
        {
            "scheme": "pool",
            "family": "pool_pro_rata",
            "run_id": runs["pool"],
            "currency": "KZT",
            "total": Decimal("100.00"),
            "outlets_paid": 2,
            "gini": Decimal("0.3333"),
            "hhi": Decimal("5000.0"),
            "top5_share": Decimal("1.0000"),
        },
    ]


def test_compare_reuses_runs_and_is_stable(ledger: Ledger) -> None:
    first = compare(ledger, parse_schemes(SCHEMES), OCTOBER)
    again = compare(ledger, parse_schemes(SCHEMES), OCTOBER)
    assert [r.reused for r in first.settlements] == [False, False]
    assert [r.reused for r in again.settlements] == [True, True]
    assert again.payouts.equals(first.payouts) and again.metrics.equals(first.metrics)


def test_compare_keeps_each_schemes_currency_scale(ledger: Ledger) -> None:
    text = SCHEMES + "\n[schemes.yen]\nfamily = 'pool_pro_rata'\npool = 1001\ncurrency = 'JPY'\n"
    result = compare(ledger, parse_schemes(text), OCTOBER)
    assert result.payouts.schema.field("tariff").type == pa.decimal128(38, 2)
    assert result.payouts.schema.field("yen").type == pa.decimal128(38, 0)
    assert result.payouts["yen"].to_pylist() == [Decimal(501), Decimal(500), Decimal(0)]


def test_compare_includes_usage_of_an_outlet_not_in_the_registry(tmp_path: Path) -> None:
    with Ledger(tmp_path / "g.duckdb") as ledger:
        add_outlets(ledger, ["outlet-a"])
        add_upload(ledger, [fetch("outlet-a"), fetch("ghost"), fetch("ghost", path="/2")])
        result = compare(ledger, parse_schemes(SCHEMES), OCTOBER)
    assert result.payouts.to_pylist() == [
        {"outlet": "outlet-a", "tariff": Decimal("3.00"), "pool": Decimal("33.33")},
        {"outlet": "ghost", "tariff": Decimal("6.00"), "pool": Decimal("66.67")},
    ]
    for run in result.settlements:
        assert sum(result.payouts[run.scheme].to_pylist(), Decimal(0)) == run.total


def test_compare_over_an_empty_period(ledger: Ledger) -> None:
    result = compare(ledger, parse_schemes(SCHEMES), Period.month("2027-01"))
    assert result.payouts["outlet"].to_pylist() == ["outlet-a", "outlet-b", "outlet-c"]
    assert [r.total for r in result.settlements] == [0, 0]
    assert result.settlements[1].retained == 100  # nobody to pay: the pool is kept
    assert result.metrics["gini"].to_pylist() == [0, 0] and result.metrics["outlets_paid"].to_pylist() == [0, 0]


def test_every_scheme_gets_a_column_even_when_two_have_the_same_content(ledger: Ledger) -> None:
    text = SCHEMES + "\n[schemes.pool_copy]\nfamily = 'pool_pro_rata'\npool = 100\ndescription = 'same numbers'\n"
    result = compare(ledger, parse_schemes(text), OCTOBER)
    assert result.payouts.column_names == ["outlet", "tariff", "pool", "pool_copy"]
    assert result.metrics["scheme"].to_pylist() == ["tariff", "pool", "pool_copy"]
