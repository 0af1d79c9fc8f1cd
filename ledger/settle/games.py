"""F10: the outlets' cooperative game for each operator's payment, and its Shapley value.

For operator o the players are the outlets it really used (``U[o,i] >= min_usage``), with usage x_i, and
v_o(N) = 1 (the pot, normalised):

- ``unanimity``: v_o(S) = 1 when S holds every player (the operator needs all of them). The Shapley value
  is 1/|A_o| to each player: the closed form ``phi_i = sum_{o: i in A_o} C[o] / |A_o|``.
- ``quota``: v_o(S) = 1 when S holds at least ``quota`` of the operator's usage (a weighted majority game).
- ``concave``: v_o(S) = (x(S) / x(N))^alpha, diminishing returns to more content (alpha = 1 is pro rata).

Games without a closed form are estimated by Monte-Carlo over random orders of the players with a fixed
seed (data-Shapley style). Every order's marginal contributions add up to v(N) exactly, so each pot is paid
in full; each outlet's estimate comes with its standard error. ``exact_shapley`` enumerates all orders of
a small game, for checking.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from itertools import permutations
from math import factorial

import numpy as np
import polars as pl

from ledger.schemes import Shapley

WEIGHT_SCALE = 10**12


def players(params: Shapley, usage: pl.DataFrame) -> pl.DataFrame:
    """operator, outlet, weight (units in millionths) of the outlets in each operator's game."""
    return usage.filter(pl.col("weight") >= int(params.min_usage * 10**6)).filter(pl.col("weight") > 0)


def game_shares(
    params: Shapley, usage: pl.DataFrame, pots: dict[str, Fraction]
) -> tuple[pl.DataFrame, dict[str, float], list[tuple[str, str]]]:
    """(pot, outlet, weight, key_value) shares of each operator's pot; standard errors per outlet; facts."""
    members = players(params, usage).filter(pl.col("operator").is_in(list(pots))).sort("operator", "outlet")
    if params.method == "closed_form":
        sizes = members.group_by("operator").agg(pl.len().alias("n"))
        shares = members.join(sizes, on="operator").select(
            ("op:" + pl.col("operator")).alias("pot"),
            "outlet",
            pl.lit(1, pl.Int64).alias("weight"),
            pl.lit("1").alias("key_value"),
        )
        return shares, {}, [("game", "unanimity, closed form: each pot split equally among the outlets it used")]
    return _monte_carlo(params, members, pots)


def _monte_carlo(
    params: Shapley, members: pl.DataFrame, pots: dict[str, Fraction]
) -> tuple[pl.DataFrame, dict[str, float], list[tuple[str, str]]]:
    ops = sorted(members["operator"].unique().to_list())
    outlets = sorted(members["outlet"].unique().to_list())
    x = np.zeros((len(ops), len(outlets)))
    op_index = {o: k for k, o in enumerate(ops)}
    out_index = {o: k for k, o in enumerate(outlets)}
    for op, outlet, weight in members.select("operator", "outlet", "weight").rows():
        x[op_index[op], out_index[outlet]] = weight
    amounts = np.array([float(pots[o]) for o in ops])
    phi, std = estimate(params, x, amounts)
    rows = []
    for k, op in enumerate(ops):
        for j, outlet in enumerate(outlets):
            if x[k, j] > 0 and phi[k, j] > 0:
                rows.append((f"op:{op}", outlet, round(phi[k, j] * WEIGHT_SCALE), f"{phi[k, j]:.9f}"))
    shares = pl.DataFrame(
        rows, schema={"pot": pl.String, "outlet": pl.String, "weight": pl.Int64, "key_value": pl.String}, orient="row"
    )
    errors = {outlet: float(std[j]) for j, outlet in enumerate(outlets)}
    facts = [("game", f"{params.value}, Monte-Carlo over {params.samples} random orders, seed {params.seed}")]
    return shares, errors, facts


def estimate(params: Shapley, x: np.ndarray, amounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shapley shares per (operator, outlet) (each operator's row adds up to 1) and the standard error of
    each outlet's total (sum over operators of amount x share), by Monte-Carlo over random orders."""
    rng = np.random.default_rng(params.seed)
    _ops, n = x.shape
    totals = x.sum(axis=1, keepdims=True)
    members = x > 0
    share_sum = np.zeros_like(x)
    value_sum = np.zeros(n)
    value_sq = np.zeros(n)
    for _ in range(params.samples):
        order = rng.permutation(n)
        marginal = np.zeros_like(x)
        marginal[:, order] = _marginals(params, x[:, order], members[:, order], totals)
        share_sum += marginal
        paid = amounts @ marginal
        value_sum += paid
        value_sq += paid * paid
    samples = params.samples
    mean = value_sum / samples
    variance = np.maximum(value_sq / samples - mean * mean, 0.0) * samples / max(samples - 1, 1)
    return share_sum / samples, np.sqrt(variance / samples)


def _marginals(params: Shapley, xs: np.ndarray, members: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Each player's marginal contribution in this order (players in columns, in order)."""
    after = np.cumsum(xs, axis=1)
    before = after - xs
    safe = np.where(totals > 0, totals, 1.0)
    if params.value == "quota":
        need = float(params.quota) * totals
        return ((after >= need - 1e-9 * safe) & (before < need - 1e-9 * safe) & members).astype(float)
    if params.value == "concave":
        alpha = float(params.alpha)
        return np.power(after / safe, alpha) - np.power(before / safe, alpha)
    last = members.shape[1] - 1 - np.argmax(members[:, ::-1], axis=1)  # unanimity: the last member completes
    result = np.zeros_like(xs)
    rows = np.nonzero(members.any(axis=1))[0]
    result[rows, last[rows]] = 1.0
    return result


def exact_shapley(n: int, value: Callable[[frozenset[int]], Fraction]) -> list[Fraction]:
    """The Shapley value of a small game by enumerating every order of the players (n <= 8)."""
    phi = [Fraction(0)] * n
    for order in permutations(range(n)):
        coalition: frozenset[int] = frozenset()
        before = value(coalition)
        for player in order:
            coalition = coalition | {player}
            after = value(coalition)
            phi[player] += after - before
            before = after
    return [p / factorial(n) for p in phi]
