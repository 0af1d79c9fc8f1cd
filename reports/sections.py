"""Sections more than one report shows: coverage, AI fetches over time, verification, robots.txt,
crawl-to-refer, undeclared traffic, referrals and methodology. Each takes insights from
``ledger.insights`` and returns a language-neutral ``Section``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from ledger import insights
from ledger.period import Period
from reports.charts import from_long
from reports.model import Chart, Definition, Note, Section, Series, Table

HEATMAP_ROWS = 40
NO_DATA = "nodata.period"


def buckets(period: Period, grain: str) -> tuple[date, ...]:
    """Every bucket of the period: each UTC day, or the Monday of each ISO week it touches."""
    days = insights.period_days(period)
    if grain == "day":
        return days
    return tuple(sorted({d.fromordinal(d.toordinal() - d.weekday()) for d in days}))


def period_args(period: Period) -> str:
    if ".." in period.label:
        first, last = period.label.split("..")
        return f"--from {first} --to {last}"
    return f"--period {period.label}"


def coverage_section(cov: insights.Coverage, *, per_outlet: bool = True) -> Section:
    days = cov.days
    lines_by = {(r["outlet"], r["day"]): r["lines"] for r in cov.daily.to_pylist()}
    tables = (
        Table("coverage_outlets", "table.coverage_outlets", cov.outlets, max_rows=60),
        Table("coverage_gaps", "table.coverage_gaps", cov.gaps, max_rows=60),
        Table("coverage_daily", "table.coverage_daily", cov.daily, on_page=False),
        Table(
            "uploads",
            "table.uploads",
            cov.uploads,
            ("source", "format", "outlet", "lines_total", "lines_rejected", "rejected_rate", "first_ts", "last_ts"),
            max_rows=40,
        ),
        Table("reject_reasons", "table.reject_reasons", cov.reject_reasons),
    )
    if cov.daily.num_rows == 0 and cov.uploads.num_rows == 0:
        return Section("coverage", tables, empty=NO_DATA)
    outlets = cov.outlets.to_pylist()
    charts: list[Chart] = []
    if per_outlet:
        reporting = [sum(1 for o in outlets if (o["outlet"], d) in lines_by) for d in days]
        charts.append(
            Chart("columns", "chart.outlets_reporting", days, (Series("outlets_reporting", tuple(reporting)),))
        )
    shown = outlets[:HEATMAP_ROWS]  # the outlets are sorted by missing days, most first
    rows = tuple(Series(o["outlet"], tuple(float(lines_by.get((o["outlet"], d), 0)) for d in days)) for o in shown)
    note = "chart.heatmap_limited" if len(outlets) > HEATMAP_ROWS else None
    charts.append(Chart("heatmap", "chart.coverage_heatmap", days, rows, note=note))
    totals = pc.sum(cov.uploads["lines_total"]).as_py() or 0
    rejected = pc.sum(cov.uploads["lines_rejected"]).as_py() or 0
    missing = sum(o["days_missing"] for o in outlets)
    note_block = Note(
        "note.coverage",
        {
            "uploads": cov.uploads.num_rows,
            "lines": totals,
            "rejected": rejected,
            "missing_days": missing,
            "rejected_share": _share(rejected, totals),
        },
    )
    return Section("coverage", (note_block, *charts, *tables))


def _share(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.000001")) if whole else Decimal(0)


def usage_section(over_time: pa.Table, period: Period, grain: str, key: str = "usage") -> Section:
    """AI fetches over time by operator and by purpose (declared), plus the totals table."""
    declared = over_time.filter(pc.equal(over_time["attribution"], "declared"))
    totals = _sum_by(declared, ["operator", "purpose"], "fetches")
    tables = (
        Table("usage_by_operator_purpose", "table.usage_by_operator_purpose", totals),
        Table("fetches_over_time", "table.fetches_over_time", over_time, on_page=False),
    )
    if declared.num_rows == 0:
        return Section(key, tables, empty=NO_DATA)
    xs = buckets(period, grain)
    rows = declared.to_pylist()
    title = "chart.fetches_by_operator_week" if grain == "week" else "chart.fetches_by_operator_day"
    by_operator = Chart("area", title, xs, from_long(rows, "bucket", "operator", "fetches", xs))
    by_purpose = Chart("line", "chart.fetches_by_purpose", xs, from_long(rows, "bucket", "purpose", "fetches", xs))
    purposes = _sum_by(declared, ["purpose"], "fetches").to_pylist()
    donut = Chart(
        "donut",
        "chart.purpose_split",
        tuple(r["purpose"] for r in purposes),
        (Series("fetches", tuple(float(r["fetches"]) for r in purposes)),),
    )
    return Section(key, (by_operator, by_purpose, donut, *tables))


def _sum_by(table: pa.Table, keys: Sequence[str], value: str) -> pa.Table:
    if table.num_rows == 0:
        return table.select([*keys, value])
    grouped = table.group_by(list(keys)).aggregate([(value, "sum")]).rename_columns([*keys, value])
    return grouped.sort_by([(value, "descending"), *((k, "ascending") for k in keys)])


def verification_section(table: pa.Table) -> Section:
    shown = ("operator", "fetches", "verified", "spoofed", "unverifiable", "unknown", "verified_share", "spoofed_share")
    blocks = (Table("verification", "table.verification", table, shown),)
    if table.num_rows == 0:
        return Section("verification", blocks, empty=NO_DATA)
    rows = table.to_pylist()
    chart = Chart(
        "stacked",
        "chart.verification",
        tuple(r["operator"] for r in rows),
        tuple(Series(v, tuple(float(r[v]) for r in rows)) for v in insights.VERDICTS),
        percent=True,
    )
    return Section("verification", (chart, *blocks))


def robots_section(robots: insights.Robots) -> Section:
    blocks = (Table("robots", "table.robots", robots.by_operator),)
    if not robots.available:
        return Section("robots", blocks, empty="nodata.robots_table")
    if robots.checked == 0:
        return Section("robots", blocks, empty="nodata.robots_snapshots")
    rows = robots.by_operator.to_pylist()
    chart = Chart(
        "stacked",
        "chart.robots",
        tuple(r["operator"] for r in rows),
        tuple(
            Series(v, tuple(float(r[v]) for r in rows)) for v in ("disallowed", "allowed", "no_snapshot", "unchecked")
        ),
    )
    return Section("robots", (chart, *blocks))


def crawl_to_refer_section(table: pa.Table) -> Section:
    blocks = (Table("crawl_to_refer", "table.crawl_to_refer", table),)
    if table.num_rows == 0:
        return Section("crawl_to_refer", blocks, empty=NO_DATA)
    rated = [r for r in table.to_pylist() if r["crawls_per_referral"] is not None]
    without = [r["operator"] for r in table.to_pylist() if r["crawls_per_referral"] is None and r["html_fetches"]]
    parts: list[Chart | Note | Table] = []
    if rated:
        rated.sort(key=lambda r: (-r["crawls_per_referral"], r["operator"]))
        parts.append(
            Chart(
                "bars",
                "chart.crawl_to_refer",
                tuple(r["operator"] for r in rated),
                (Series("crawls_per_referral", tuple(float(r["crawls_per_referral"]) for r in rated)),),
                value_kind="ratio",
            )
        )
    if without:
        parts.append(Note("note.no_referrals", {"operators": ", ".join(without)}))
    return Section("crawl_to_refer", (*parts, *blocks))


def undeclared_section(table: pa.Table, over_time: pa.Table, period: Period, grain: str) -> Section:
    undeclared = over_time.filter(pc.equal(over_time["attribution"], "ip_attributed"))
    blocks = (Table("undeclared", "table.undeclared", table),)
    if table.num_rows == 0:
        return Section("undeclared", blocks, empty="nodata.undeclared")
    xs = buckets(period, grain)
    chart = Chart(
        "columns", "chart.undeclared", xs, from_long(undeclared.to_pylist(), "bucket", "operator", "fetches", xs)
    )
    return Section("undeclared", (chart, *blocks))


def referrals_section(table: pa.Table, over_time: pa.Table, period: Period, grain: str) -> Section:
    blocks = (
        Table("referrals", "table.referrals", table),
        Table("referrals_over_time", "table.referrals_over_time", over_time, on_page=False),
    )
    if table.num_rows == 0:
        return Section("referrals", blocks, empty="nodata.referrals")
    xs = buckets(period, grain)
    rows = table.to_pylist()
    by_product = Chart(
        "bars",
        "chart.referrals_by_product",
        tuple(r["product"] for r in rows),
        (Series("referrals", tuple(float(r["referrals"]) for r in rows)),),
    )
    line = Chart(
        "area", "chart.referrals_over_time", xs, from_long(over_time.to_pylist(), "bucket", "operator", "referrals", xs)
    )
    return Section("referrals", (by_product, line, *blocks))


def methodology_section(method: insights.Methodology, fingerprint: str) -> Section:
    definitions = (
        Definition("def.period.term", "def.period.text"),
        Definition("def.fetch.term", "def.fetch.text"),
        Definition("def.purpose.term", "def.purpose.text"),
        Definition("def.verification.term", "def.verification.text"),
        Definition("def.undeclared.term", "def.undeclared.text"),
        Definition("def.robots.term", "def.robots.text"),
        Definition("def.crawl_to_refer.term", "def.crawl_to_refer.text", {"regex": method.asset_regex}),
        Definition("def.coverage.term", "def.coverage.text"),
        Definition("def.buckets.term", f"def.buckets.{method.grain}"),
    )
    return Section(
        "methodology",
        (
            Note("note.fingerprint", {"fingerprint": fingerprint}),
            *definitions,
            Table("registry_versions", "table.registry_versions", method.registry_versions),
            Table("formats", "table.formats", method.formats),
        ),
    )
