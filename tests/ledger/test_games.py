"""F10 Shapley: the closed form of the unanimity game equals brute-force Shapley on small games; the
Monte-Carlo estimate lands within its reported standard error (fixed seed) and pays each pot in full."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.schemes import Shapley
from ledger.settle.games import estimate, exact_shapley, game_shares

F = Fraction


def params(value: str, method: str = "monte_carlo", samples: int = 2000, seed: int = 7, **kw: object) -> Shapley:
    return Shapley(
        value,
        method,
        Decimal(1),
        Decimal(str(kw.get("quota", "0.5"))),
        Decimal(str(kw.get("alpha", "0.5"))),
        samples,
        seed,
    )


games = st.lists(
    st.lists(st.integers(0, 9), min_size=5, max_size=5), min_size=1, max_size=3
)  # operators x 5 outlets of usage


def unanimity_values(x: list[list[int]], pots: list[Fraction]):  # type: ignore[no-untyped-def]
    def value(coalition: frozenset[int]) -> Fraction:
        return sum(
            (
                pot
                for row, pot in zip(x, pots, strict=True)
                if {j for j, u in enumerate(row) if u} <= coalition and any(row)
            ),
            F(0),
        )

    return value


@settings(max_examples=40, deadline=None)
@given(games, st.lists(st.integers(1, 1000), min_size=3, max_size=3))
def test_closed_form_matches_brute_force_shapley(x: list[list[int]], amounts: list[int]) -> None:
    pots = [F(a) for a in amounts[: len(x)]]
    operators = [f"op{k}" for k in range(len(x))]
    usage = pl.DataFrame(
        [(f"o{j}", operators[k], u * 10**6) for k, row in enumerate(x) for j, u in enumerate(row) if u],
        schema={"outlet": pl.String, "operator": pl.String, "weight": pl.Int64},
        orient="row",
    )
    shares, errors, _ = game_shares(params("unanimity", "closed_form"), usage, dict(zip(operators, pots, strict=True)))
    closed = [F(0)] * 5
    sizes = shares.group_by("pot").agg(pl.len()).rows()
    for pot, outlet, _weight, _ in shares.rows():
        k = operators.index(pot[3:])
        closed[int(outlet[1:])] += pots[k] / dict(sizes)[pot]
    assert closed == exact_shapley(5, unanimity_values(x, pots))
    assert errors == {}


def quota_value(x: np.ndarray, quota: Fraction):  # type: ignore[no-untyped-def]
    def value(coalition: frozenset[int]) -> Fraction:
        total = sum(int(u) for u in x)
        return F(int(sum(int(x[j]) for j in coalition) >= quota * total))

    return value


@pytest.mark.parametrize(
    ("value", "x"),
    [
        ("quota", [5, 3, 2, 1, 1]),
        ("quota", [4, 4, 1, 0, 2]),
        ("concave", [5, 3, 2, 1, 1]),
        ("unanimity", [2, 3, 0, 1, 1]),
    ],
)
def test_monte_carlo_lands_within_its_reported_error(value: str, x: list[int]) -> None:
    usage = np.array([x], dtype=float)
    phi, std = estimate(params(value, quota="0.5", alpha="0.5"), usage, np.array([100.0]))
    n = len(x)
    if value == "quota":
        exact = exact_shapley(n, quota_value(np.array(x), F(1, 2)))
    elif value == "concave":
        total = sum(x)
        exact = [F(v) for v in _concave_exact(x, total)]
    else:
        members = frozenset(j for j, u in enumerate(x) if u)
        exact = exact_shapley(n, lambda c: F(int(members <= c)))
    for j in range(n):
        assert abs(phi[0, j] * 100 - float(exact[j]) * 100) <= 3 * std[j] + 1e-9, (j, phi[0, j], exact[j], std[j])
    assert abs(phi.sum() - 1.0) < 1e-9  # every order pays the whole pot


def _concave_exact(x: list[int], total: int) -> list[float]:
    from itertools import permutations
    from math import factorial

    phi = [0.0] * len(x)
    for order in permutations(range(len(x))):
        seen = 0
        for j in order:
            before = (seen / total) ** 0.5
            seen += x[j]
            phi[j] += (seen / total) ** 0.5 - before
    return [p / factorial(len(x)) for p in phi]


def test_monte_carlo_is_reproducible_with_its_seed() -> None:
    usage = np.array([[5.0, 3.0, 2.0, 1.0]])
    a = estimate(params("quota", seed=3, samples=200), usage, np.array([1.0]))
    b = estimate(params("quota", seed=3, samples=200), usage, np.array([1.0]))
    c = estimate(params("quota", seed=4, samples=200), usage, np.array([1.0]))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_exact_shapley_of_a_symmetric_game_is_equal() -> None:
    assert exact_shapley(3, lambda c: F(len(c) ** 2)) == [F(3)] * 3
