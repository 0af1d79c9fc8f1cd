"""The regulator's usage report: the market over one period, across every outlet that uploads.

Sections, in order: coverage first (so every number after it is read knowing which outlets and days are
in it), AI fetches over time by operator and purpose, top outlets, verification, robots.txt, crawl-to-refer
ratios, undeclared traffic, and the methodology (registry versions, formats, definitions).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from ledger import insights
from ledger.period import Period
from ledger.settle import ledger_fingerprint
from ledger.store.db import Ledger
from reports import sections
from reports.model import Chart, Figure, Report, Section, Series, Table

TOP_OUTLETS = 20


def build_regulator(ledger: Ledger, period: Period, *, generated_at: datetime, top: int = TOP_OUTLETS) -> Report:
    """Read the insights for ``period`` and lay out the regulator's report (no language yet)."""
    grain = insights.grain_for(period)
    cov = insights.coverage(ledger, period)
    rollup = insights.usage_rollup(ledger, period, grain=grain)
    verification = insights.verification(rollup)
    referred = insights.referrals(ledger, period)
    body = (
        sections.coverage_section(cov),
        sections.usage_section(rollup.time, period, grain),
        top_outlets_section(insights.top_outlets(ledger, rollup, limit=top)),
        sections.verification_section(verification),
        sections.robots_section(insights.robots(ledger, period)),
        sections.crawl_to_refer_section(insights.crawl_to_refer(ledger, rollup)),
        sections.undeclared_section(insights.undeclared(ledger, period), rollup.time, period, grain),
        sections.methodology_section(insights.methodology(ledger, period), ledger_fingerprint(ledger)),
    )
    return Report(
        kind="regulator",
        period=period,
        generated_at=generated_at,
        sections=body,
        figures=_figures(cov, verification, referred),
        command=f"royalty report regulator {sections.period_args(period)}",
    )


def top_outlets_section(table: pa.Table) -> Section:
    blocks = (Table("top_outlets", "table.top_outlets", table),)
    if table.num_rows == 0:
        return Section("top_outlets", blocks, empty=sections.NO_DATA)
    rows = table.to_pylist()
    chart = Chart(
        "stacked",
        "chart.top_outlets",
        tuple(r["name"] for r in rows),
        tuple(Series(p, tuple(float(r[p]) for r in rows)) for p in ("training", "search", "user")),
    )
    return Section("top_outlets", (chart, *blocks))


def _figures(cov: insights.Coverage, verification: pa.Table, referred: pa.Table) -> tuple[Figure, ...]:
    fetches = pc.sum(verification["fetches"]).as_py() or 0
    verified = pc.sum(verification["verified"]).as_py() or 0
    lines = pc.sum(cov.uploads["lines_total"]).as_py() or 0
    rejected = pc.sum(cov.uploads["lines_rejected"]).as_py() or 0
    reporting = sum(1 for r in cov.outlets.to_pylist() if r["days_reported"])
    return (
        Figure("figure.ai_fetches", fetches),
        Figure("figure.operators", verification.num_rows),
        Figure("figure.verified_share", _share(verified, fetches) if fetches else None, "percent"),
        Figure("figure.outlets_reporting", reporting),
        Figure("figure.outlets_registered", cov.outlets.num_rows),
        Figure("figure.referrals", pc.sum(referred["referrals"]).as_py() or 0),
        Figure("figure.uploads", cov.uploads.num_rows),
        Figure("figure.rejected_share", _share(rejected, lines) if lines else None, "percent"),
    )


def _share(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.000001"))
