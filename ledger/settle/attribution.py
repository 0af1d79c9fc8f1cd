"""F11 ``attribution_share``: publishers' share of answer revenue, answer by answer.

From logs alone, an answer is a burst of user-triggered fetches by one operator (gap-based: a fetch more
than ``burst_window_seconds`` after the operator's previous one starts a new answer). Outlet i's share of
answer q is its share of the burst's weighted fetches, ``a[q,i]``, and
``pay[i] = rho * sum_q rev_q * a[q,i]``, where ``rev_q`` is ``revenue_per_answer`` or the operator's
revenue in the period (from its imported figures) split equally over its answers.
"""

from __future__ import annotations

from fractions import Fraction

import polars as pl

from ledger.errors import ConfigError
from ledger.money import show
from ledger.operators import OperatorFigures
from ledger.period import Period
from ledger.schemes import AttributionShare, Scheme
from ledger.settle.basis import Basis
from ledger.settle.plans import E6, NO_CELLS, PoolPlan, Pot, cell_usage, registry
from ledger.settle.sizing import rows_in_force


def attribution_plan(scheme: Scheme, basis: Basis, period: Period, figures: list[OperatorFigures]) -> PoolPlan:
    params = scheme.params
    assert isinstance(params, AttributionShare)
    raw = pl.from_arrow(basis.answers(scheme, params.burst_window_seconds, params.burst_by == "operator_ip"))
    assert isinstance(raw, pl.DataFrame)
    answers = raw.filter(pl.col("units_e6") > 0)
    counts = dict(answers.select("operator", "answer").unique().group_by("operator").agg(pl.len()).rows())
    rho = Fraction(params.rho)
    revenue = _revenues(scheme, params, period, figures, counts)
    pots = []
    for operator in sorted(counts):
        per_answer = revenue[operator] / counts[operator]
        detail = f"rho {params.rho} x {counts[operator]} answers x revenue per answer {show(per_answer)}"
        pots.append(Pot(f"op:{operator}", operator, "answers", rho * revenue[operator], detail, E6))
    usage = cell_usage(answers.select("outlet", "operator", "units_e6", "fetches").to_arrow())
    shares = usage.select(
        ("op:" + pl.col("operator")).alias("pot"),
        "outlet",
        pl.col("units_e6").alias("weight"),
        (pl.col("units_e6") / E6).cast(pl.String).alias("key_value"),
    )
    per_answer = answers.select(
        ("op:" + pl.col("operator")).alias("pot"), "answer", "outlet", pl.col("units_e6").alias("weight")
    )
    known = pl.concat([registry(basis).select("outlet"), usage.select("outlet")]).unique()
    outlets = known.join(
        usage.group_by("outlet").agg(pl.col("units_e6").sum(), pl.col("fetches").sum()), on="outlet", how="left"
    )
    outlets = outlets.with_columns(
        pl.col("units_e6").fill_null(0),
        pl.col("fetches").fill_null(0),
        pl.lit(True).alias("eligible"),
        pl.lit(None, pl.String).alias("reason"),
    ).sort("outlet")
    facts = [("answers", f"{answers['answer'].n_unique()} answers (bursts of {params.burst_window_seconds} s)")]
    return PoolPlan(pots, shares, NO_CELLS, outlets, usage, per_answer, facts)


def _revenues(
    scheme: Scheme, params: AttributionShare, period: Period, figures: list[OperatorFigures], counts: dict[str, int]
) -> dict[str, Fraction]:
    """Answer revenue per operator for the period: revenue per answer x answers, or the operator's figures."""
    if params.revenue == "per_answer":
        assert params.revenue_per_answer is not None
        return {o: Fraction(params.revenue_per_answer) * n for o, n in counts.items()}
    chosen = rows_in_force(period, [r for r in figures if r.operator in counts])
    found = {
        o: sum((Fraction(r.revenue) * share for r, share in rows if r.revenue is not None), Fraction(0))
        for o, rows in chosen.items()
        if all(r.revenue is not None and r.currency == scheme.currency for r, _ in rows)
    }
    missing = sorted(o for o in counts if o not in found)
    if missing:
        raise ConfigError(
            f"scheme '{scheme.name}' (revenue = 'operator_revenue') needs the revenue of {', '.join(missing)} in "
            f"{scheme.currency} for {period.label}; add it to the operators file and import it again"
        )
    return found
