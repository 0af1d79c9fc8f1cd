"""Distribution metrics of payouts across outlets (x = payouts, s = shares, sorted ascending where needed).

Exact (fractions) where the formula is rational: Gini, HHI, CR_k, Lorenz points, Palma, dissimilarity,
churn. Floating point where it needs logarithms or powers: Theil T, Atkinson, the coefficient of
variation, rank correlations. An empty or all-zero distribution gives 0 (or None where undefined).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from math import lcm
from operator import mul

import numpy as np

Values = Sequence[Fraction] | Sequence[int]  # exact amounts (or integers of one unit)


class Ints(list[int]):
    """Integers already checked (amounts in one unit): the metrics use them as they are."""


def _ints(values: Values) -> list[int]:
    """The values times a common denominator: the metrics here are scale-invariant, and integers are fast."""
    if isinstance(values, Ints):
        return values
    if all(isinstance(v, int) for v in values):
        return [int(v) for v in values]
    fractions = [Fraction(v) for v in values]
    scale = lcm(*(f.denominator for f in fractions)) if fractions else 1
    return [int(f * scale) for f in fractions]


def _fraction(value: object) -> Fraction:
    assert isinstance(value, Fraction | int)
    return Fraction(value)


def _total(values: Values) -> Fraction:
    if isinstance(values, Ints):
        return Fraction(sum(values))
    return sum((Fraction(v) for v in values), Fraction(0))


def gini(values: Values) -> Fraction:
    """``G = 2 * sum_i i*x_(i) / (n * sum x) - (n+1)/n``: 0 equal, (n-1)/n one outlet takes all."""
    x = sorted(_ints(values))
    n, total = len(x), sum(x)
    if n == 0 or total == 0:
        return Fraction(0)
    weighted = sum(map(mul, range(1, n + 1), x))
    return Fraction(2 * weighted, n * total) - Fraction(n + 1, n)


def hhi(values: Values) -> Fraction:
    """``sum (100 * s_i)^2``, 0 to 10,000 (1,000-1,800 moderate, above 1,800 high)."""
    x = _ints(values)
    total = sum(x)
    if total == 0:
        return Fraction(0)
    return Fraction(10000 * sum(map(mul, x, x)), total * total)


def hhi_normalised(values: Values) -> Fraction:
    """``(H/10000 - 1/n) / (1 - 1/n)``: 0 for an equal split, 1 for one outlet taking all."""
    n = len(values)
    if n < 2 or _total(values) == 0:
        return Fraction(0)
    return (hhi(values) / 10000 - Fraction(1, n)) / (1 - Fraction(1, n))


def top_share(values: Values, k: int = 5) -> Fraction:
    """CR_k: the share of the k best-paid outlets."""
    x = _ints(values)
    total = sum(x)
    if total == 0:
        return Fraction(0)
    return Fraction(sum(sorted(x, reverse=True)[:k]), total)


def lorenz(values: Values, points: int = 20) -> list[tuple[Fraction, Fraction]]:
    """(population share p, payout share L(p)) at p = 0, 1/points, ..., 1 (the curve is linear between
    outlets, so L(p) interpolates between k/n points)."""
    return [(Fraction(j, points), lorenz_at(values, Fraction(j, points))) for j in range(points + 1)]


def lorenz_at(values: Values, p: Fraction) -> Fraction:
    ordered = sorted(_ints(values))
    n, total = len(ordered), sum(ordered)
    if n == 0 or total == 0:
        return p
    position = p * n
    whole = int(position)
    below = sum(ordered[:whole])
    part = (position - whole) * ordered[whole] if whole < n else Fraction(0)
    return (below + part) / total


def palma(values: Values) -> Fraction | None:
    """Share of the top 10% over the share of the bottom 40% (None when the bottom 40% get nothing)."""
    bottom = lorenz_at(values, Fraction(2, 5))
    if bottom == 0:
        return None
    return (1 - lorenz_at(values, Fraction(9, 10))) / bottom


def theil(values: Values) -> float:
    """Theil T: ``(1/n) sum (x_i/mu) ln(x_i/mu)``, 0 ln 0 = 0; 0 equal, ln n one outlet takes all."""
    x = np.array([float(v) for v in values])
    if x.size == 0 or x.sum() == 0:
        return 0.0
    r = x / x.mean()
    positive = r[r > 0]
    return float(np.sum(positive * np.log(positive)) / x.size)


def atkinson(values: Values, epsilon: float) -> float:
    """Atkinson(epsilon): ``1 - (mean of (x/mu)^(1-eps))^(1/(1-eps))``; eps = 1 uses the geometric mean;
    with an outlet paid nothing and eps >= 1 the index is 1."""
    x = np.array([float(v) for v in values])
    if x.size == 0 or x.sum() == 0:
        return 0.0
    r = x / x.mean()
    if epsilon == 1:
        return 1.0 if np.any(r == 0) else float(1 - math.exp(float(np.mean(np.log(r)))))
    if epsilon > 1 and np.any(r == 0):
        return 1.0
    return float(1 - np.mean(r ** (1 - epsilon)) ** (1 / (1 - epsilon)))


def per_fetch(payouts: Values, fetches: Sequence[int]) -> tuple[Fraction | None, float | None]:
    """Payout per qualifying fetch over all outlets with fetches, and its coefficient of variation across
    them (population standard deviation / mean)."""
    if isinstance(payouts, Ints):
        whole = [(p, f) for p, f in zip(payouts, fetches, strict=True) if f > 0]
        if not whole:
            return None, None
        return Fraction(sum(p for p, _ in whole), sum(f for _, f in whole)), _cv([float(p) / f for p, f in whole])
    pairs = [(_fraction(p), f) for p, f in zip(payouts, fetches, strict=True) if f > 0]
    if not pairs:
        return None, None
    mean = sum((p for p, _ in pairs), Fraction(0)) / sum(f for _, f in pairs)
    return mean, _cv([float(p) / f for p, f in pairs])


def _cv(values: list[float]) -> float | None:
    ratios = np.array(values)
    return float(ratios.std() / ratios.mean()) if ratios.mean() > 0 else None


def dissimilarity(payouts: Values, usage: Values) -> Fraction | None:
    """``D = 1/2 sum |s_pay - s_usage|``: the share of money that would move to pay by usage alone."""
    return _half_distance(payouts, usage)


def churn(a: Values, b: Values) -> Fraction:
    """``1/2 sum |s_b - s_a|``: the share of the money that changes hands between two schemes."""
    distance = _half_distance(a, b)
    return Fraction(int(_total(a) != _total(b))) if distance is None else distance


def _half_distance(a: Values, b: Values) -> Fraction | None:
    x, y = _ints(a), _ints(b)
    tx, ty = sum(x), sum(y)
    if tx == 0 or ty == 0:
        return None
    return Fraction(sum(abs(u * ty - v * tx) for u, v in zip(x, y, strict=True)), 2 * tx * ty)


def rank_correlations(a: Values, b: Values) -> tuple[float | None, float | None]:
    """Spearman's rho and Kendall's tau-b between two payout vectors (None when one is constant)."""
    if len(a) < 2:
        return None, None
    return correlations(np.array([float(v) for v in a]), np.array([float(v) for v in b]))


def correlations(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """``rank_correlations`` of two float arrays of the same length."""
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return None, None
    from scipy import stats  # imported here: it takes half a second, and most commands never need it

    rho = stats.spearmanr(x, y).statistic
    tau = stats.kendalltau(x, y, variant="b").statistic
    return float(rho), float(tau)
