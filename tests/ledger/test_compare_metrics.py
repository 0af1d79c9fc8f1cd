"""The catalogue's metrics, hand-computed (ledger/metrics.py), and the comparison tables on a real ledger:
Lorenz points, pairs (winners, losers, churn, rank correlations), deltas, the long outlets table."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger.compare import compare
from ledger.metrics import (
    atkinson,
    churn,
    dissimilarity,
    hhi_normalised,
    lorenz,
    lorenz_at,
    palma,
    per_fetch,
    rank_correlations,
    theil,
    top_share,
)
from ledger.schemes import parse_schemes
from tests.ledger.settle_helpers import OCTOBER, build_ledger

F = Fraction


def test_lorenz_points_hand_computed() -> None:
    # sorted [0, 1, 3]: L(1/3) = 0, L(2/3) = 1/4, L(1) = 1; halfway: L(1/2) = (0 + 0.5 x 1) / 4 = 1/8
    assert lorenz([3, 0, 1], 3) == [(F(0), F(0)), (F(1, 3), F(0)), (F(2, 3), F(1, 4)), (F(1), F(1))]
    assert lorenz_at([3, 0, 1], F(1, 2)) == F(1, 8)
    assert lorenz([0, 0], 2) == [(F(0), F(0)), (F(1, 2), F(1, 2)), (F(1), F(1))]  # nothing paid: the diagonal


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1] * 10, F(1, 4)),  # top 10% have 1/10, bottom 40% have 4/10
        (list(range(1, 11)), F(10, 10) / F(10, 55) * F(1, 55)),  # (10/55) / (10/55) ... computed below
        ([0, 0, 0, 0, 1], None),  # the bottom 40% get nothing: undefined
    ],
)
def test_palma(values: list[int], expected: Fraction | None) -> None:
    if values == list(range(1, 11)):
        expected = F(10, 55) / F(1 + 2 + 3 + 4, 55)  # top 10%: {10}; bottom 40%: {1, 2, 3, 4}
    assert palma(values) == expected


def test_theil_and_atkinson_hand_computed() -> None:
    assert theil([5, 5, 5]) == 0.0
    assert theil([0, 0, 9]) == pytest.approx(math.log(3))  # one outlet takes all: ln n
    assert theil([1, 3]) == pytest.approx((0.5 * math.log(0.5) + 1.5 * math.log(1.5)) / 2)
    assert atkinson([4, 4], 0.5) == pytest.approx(0.0)
    assert atkinson([1, 3], 1.0) == pytest.approx(1 - math.sqrt(3) / 2)  # 1 - geometric / arithmetic mean
    assert atkinson([1, 3], 2.0) == pytest.approx(1 - (2 / (1 / 1 + 1 / 3)) / 2)  # harmonic mean
    assert atkinson([1, 3], 0.5) == pytest.approx(1 - ((1**0.5 + 3**0.5) / 2) ** 2 / 2)
    assert atkinson([0, 3], 1.0) == 1.0 and atkinson([0, 3], 2.0) == 1.0


def test_hhi_normalised_and_cr_k() -> None:
    assert hhi_normalised([1, 1, 1, 1]) == 0 and hhi_normalised([0, 0, 7]) == 1
    assert hhi_normalised([1, 3]) == (F(6250, 10000) - F(1, 2)) / F(1, 2)
    assert top_share([1, 2, 3, 4], 1) == F(4, 10) and top_share([1, 2, 3, 4], 10) == 1


def test_payout_per_fetch_and_its_cv() -> None:
    mean, cv = per_fetch([10, 30, 5], [1, 3, 0])  # the outlet without fetches is left out
    assert mean == F(40, 4) and cv == 0.0
    mean, cv = per_fetch([10, 10], [1, 4])  # ratios 10 and 2.5: mean 6.25, sd 3.75
    assert mean == F(20, 5) and cv == pytest.approx(3.75 / 6.25)
    assert per_fetch([1], [0]) == (None, None)


def test_dissimilarity_and_churn_hand_computed() -> None:
    assert dissimilarity([1, 3], [1, 1]) == F(1, 4)  # 1/2 (|1/4 - 1/2| + |3/4 - 1/2|)
    assert dissimilarity([2, 2], [5, 5]) == 0
    assert churn([1, 1], [0, 2]) == F(1, 2) and churn([3, 1], [6, 2]) == 0


def test_rank_correlations() -> None:
    assert rank_correlations([1, 2, 3], [10, 20, 30]) == (pytest.approx(1.0), pytest.approx(1.0))
    assert rank_correlations([1, 2, 3], [30, 20, 10]) == (pytest.approx(-1.0), pytest.approx(-1.0))
    rho, tau = rank_correlations([1, 2, 3, 4], [1, 3, 2, 4])  # one swap: rho 0.8, tau 4/6
    assert (rho, tau) == (pytest.approx(0.8), pytest.approx(4 / 6))
    assert rank_correlations([1, 1, 1], [1, 2, 3]) == (None, None)


@given(st.lists(st.integers(0, 10**6), min_size=2, max_size=30), st.integers(1, 1000))
def test_metrics_are_scale_invariant(values: list[int], c: int) -> None:
    assume(sum(values) > 0)
    scaled = [c * v for v in values]
    assert palma(scaled) == palma(values) and hhi_normalised(scaled) == hhi_normalised(values)
    assert theil(scaled) == pytest.approx(theil(values)) and atkinson(scaled, 0.5) == pytest.approx(
        atkinson(values, 0.5)
    )
    assert lorenz(scaled, 5) == lorenz(values, 5)


SCHEMES = """
[schemes.tariff]
family = "per_fetch"
price = { training = 3, search = 1 }

[schemes.pool]
family = "pool_pro_rata"
pool = 100

[schemes.equal]
family = "multi_pot"
pool = 100
pots = { equal = 1 }
"""


def test_comparison_tables(tmp_path: Path) -> None:
    usage = {("a", "OpenAI", "training", "/1"): 3, ("b", "Google", "search", "/2"): 1}
    with build_ledger(tmp_path / "c.duckdb", usage, outlets=["c"]) as ledger:
        result = compare(ledger, parse_schemes(SCHEMES), OCTOBER)
    assert set(result.tables()) == {"payouts", "metrics", "lorenz", "pairs", "deltas", "outlets"}
    pairs = {(r["scheme_a"], r["scheme_b"]): r for r in result.pairs.to_pylist()}
    # tariff [9, 1, 0] vs pool [75, 25, 0]: shares .9/.1/0 vs .75/.25/0 -> churn .15; b and... all gain in money
    tp = pairs["tariff", "pool"]
    assert (tp["outlets_gaining"], tp["outlets_losing"], tp["outlets_unchanged"]) == (2, 0, 1)
    assert tp["churn"] == Decimal("0.1500") and tp["spearman"] == pytest.approx(1.0)
    pe = pairs["pool", "equal"]  # [75, 25, 0] -> [33.34, 33.33, 33.33]
    assert (pe["outlets_gaining"], pe["outlets_losing"]) == (2, 1)
    assert pe["churn"] == Decimal("0.4166")  # 1/2 (.4166 + .0833 + .3333)
    deltas = [r for r in result.deltas.to_pylist() if (r["scheme_a"], r["scheme_b"]) == ("pool", "equal")]
    assert [(r["outlet"], r["delta"], r["rank_a"], r["rank_b"]) for r in deltas] == [
        ("a", Decimal("-41.6600"), 1, 1),
        ("b", Decimal("8.3300"), 2, 2),
        ("c", Decimal("33.3300"), 3, 2),
    ]
    metrics = {r["scheme"]: r for r in result.metrics.to_pylist()}
    assert metrics["tariff"]["dissimilarity"] == Decimal("0.1500")  # usage split .75/.25: tariff .9/.1
    assert metrics["pool"]["dissimilarity"] == Decimal("0.0000")
    assert metrics["pool"]["per_fetch"] == Decimal("25.000000")  # 100 over 4 fetches
    lorenz_pool = [r["payout_share"] for r in result.lorenz.to_pylist() if r["scheme"] == "pool"]
    assert lorenz_pool[0] == 0 and lorenz_pool[-1] == 1 and len(lorenz_pool) == 21
    rows = [r for r in result.outlets.to_pylist() if r["scheme"] == "pool"]
    assert [(r["outlet"], r["amount"], r["usage_fetches"], r["rank"]) for r in rows] == [
        ("a", Decimal("75.0000"), 3, 1),
        ("b", Decimal("25.0000"), 1, 2),
        ("c", Decimal("0.0000"), 0, 3),
    ]
