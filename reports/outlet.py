"""The outlet's statement: its own usage by operator, bot and purpose, the articles fetched most, the
visits AI products sent back, robots.txt verdicts against it, and what each scheme of a file would pay it,
with the trace from fetches to the amount.

The payout part uses only the public settlement API (``ledger.settle.settle``): each scheme's run is
computed (or reused) and the outlet's row read from its payouts; a richer trace can replace
``scheme_trace`` alone.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from ledger import insights
from ledger.outlets import require_outlet
from ledger.period import Period
from ledger.schemes import SchemeFile
from ledger.settle import ledger_fingerprint, settle
from ledger.store.db import Ledger
from reports import sections
from reports.model import Chart, Figure, Note, Report, Section, Series, Table

TOP_ARTICLES = 25
DEFAULT_CURRENCY = "KZT"

_TRACE_SCHEMA = pa.schema(
    [
        ("scheme", pa.string()),
        ("family", pa.string()),
        ("run_id", pa.string()),
        ("ai_fetches", pa.int64()),
        ("qualifying_fetches", pa.int64()),
        ("basis_units", pa.decimal128(38, 6)),
        ("units_share", pa.decimal128(9, 6)),
        ("amount", pa.decimal128(38, 4)),
        ("currency", pa.string()),
        ("total_paid", pa.decimal128(38, 4)),
        ("amount_share", pa.decimal128(9, 6)),
    ]
)


def build_outlet(
    ledger: Ledger,
    period: Period,
    outlet: str,
    *,
    generated_at: datetime,
    schemes: SchemeFile | None = None,
) -> Report:
    """Read the outlet's insights for ``period`` (and settle ``schemes``) and lay out its statement."""
    require_outlet(ledger, outlet)
    name = ledger.rows("SELECT name FROM outlets WHERE slug = ?", [outlet])[0]["name"]
    grain = insights.grain_for(period)
    rollup = insights.usage_rollup(ledger, period, outlet, grain=grain)
    over_time = rollup.time
    verification = insights.verification(rollup)
    referred = insights.referrals(ledger, period, outlet)
    ratio = insights.crawl_to_refer(ledger, rollup, outlet)
    trace = scheme_trace(ledger, period, outlet, schemes, _sum(verification, "fetches")) if schemes else None
    currency = trace["currency"][0].as_py() if trace is not None and trace.num_rows else DEFAULT_CURRENCY
    body = (
        sections.coverage_section(insights.coverage(ledger, period, outlet), per_outlet=False),
        sections.usage_section(over_time, period, grain),
        bots_section(insights.usage_by_bot(ledger, period, outlet)),
        articles_section(insights.top_articles(ledger, period, outlet, TOP_ARTICLES)),
        sections.referrals_section(
            referred, insights.referrals_over_time(ledger, period, outlet, grain=grain), period, grain
        ),
        sections.crawl_to_refer_section(ratio),
        sections.verification_section(verification),
        sections.robots_section(insights.robots(ledger, period, outlet)),
        sections.undeclared_section(insights.undeclared(ledger, period, outlet), over_time, period, grain),
        schemes_section(trace, schemes),
        sections.methodology_section(insights.methodology(ledger, period, outlet), ledger_fingerprint(ledger)),
    )
    command = f"royalty report outlet {outlet} {sections.period_args(period)}"
    if schemes:
        command += f" --schemes {schemes.path}"
    return Report(
        kind="outlet",
        period=period,
        generated_at=generated_at,
        sections=body,
        figures=_figures(verification, referred, ratio, trace),
        subject=name,
        currency=currency,
        command=command,
    )


def _sum(table: pa.Table, column: str) -> int:
    return int(pc.sum(table[column]).as_py() or 0)


def bots_section(table: pa.Table) -> Section:
    blocks = (Table("usage_by_bot", "table.usage_by_bot", table),)
    if table.num_rows == 0:
        return Section("bots", blocks, empty=sections.NO_DATA)
    rows = table.to_pylist()
    operators = sorted(
        {r["operator"] for r in rows}, key=lambda o: (-sum(r["fetches"] for r in rows if r["operator"] == o), o)
    )
    purposes = sorted({r["purpose"] for r in rows})
    values = {
        p: [sum(r["fetches"] for r in rows if r["operator"] == o and r["purpose"] == p) for o in operators]
        for p in purposes
    }
    chart = Chart(
        "stacked",
        "chart.operators_by_purpose",
        tuple(operators),
        tuple(Series(p, tuple(float(v) for v in values[p])) for p in purposes),
    )
    return Section("bots", (chart, *blocks))


def articles_section(table: pa.Table) -> Section:
    blocks = (Table("top_articles", "table.top_articles", table),)
    if table.num_rows == 0:
        return Section("articles", blocks, empty=sections.NO_DATA)
    rows = table.to_pylist()[:10]
    chart = Chart(
        "stacked",
        "chart.top_articles",
        tuple(_short(r["url"]) for r in rows),
        tuple(Series(p, tuple(float(r[p]) for r in rows)) for p in ("training", "search", "user")),
    )
    return Section("articles", (chart, *blocks))


def _short(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def scheme_trace(ledger: Ledger, period: Period, outlet: str, schemes: SchemeFile, ai_fetches: int) -> pa.Table:
    """One row per scheme: the outlet's AI fetches -> qualifying fetches -> basis units (and their share of
    all outlets' units) -> amount (and its share of the total paid), with the run id that holds it."""
    rows = []
    for scheme in schemes.schemes.values():
        run = settle(ledger, scheme, period)
        payouts = run.payouts.to_pylist()
        mine = next((p for p in payouts if p["outlet"] == outlet), None)
        all_units = sum((Decimal(p["basis_units"]) for p in payouts), Decimal(0))
        units = Decimal(mine["basis_units"]) if mine else Decimal(0)
        amount = Decimal(mine["amount"]) if mine else Decimal(0)
        rows.append(
            {
                "scheme": run.scheme,
                "family": run.family,
                "run_id": run.run_id,
                "ai_fetches": ai_fetches,
                "qualifying_fetches": int(mine["fetches"]) if mine else 0,
                "basis_units": units,
                "units_share": _ratio(units, all_units),
                "amount": amount,
                "currency": run.currency,
                "total_paid": Decimal(run.total),
                "amount_share": _ratio(amount, Decimal(run.total)),
            }
        )
    return pa.Table.from_pylist(rows, schema=_TRACE_SCHEMA)


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(Decimal("0.000001")) if whole else Decimal(0)


def schemes_section(trace: pa.Table | None, schemes: SchemeFile | None) -> Section:
    if trace is None or schemes is None:
        return Section(
            "schemes",
            (Table("scheme_trace", "table.scheme_trace", _TRACE_SCHEMA.empty_table()),),
            empty="nodata.schemes",
        )
    blocks: list[Chart | Note | Table] = [Note("note.schemes_file", {"path": schemes.path})]
    rows = trace.to_pylist()
    currencies = {r["currency"] for r in rows}
    if len(currencies) == 1 and any(r["amount"] for r in rows):
        blocks.append(
            Chart(
                "bars",
                "chart.scheme_amounts",
                tuple(r["scheme"] for r in rows),
                (Series("amount", tuple(float(r["amount"]) for r in rows)),),
                value_kind="money",
                currency=currencies.pop(),
            )
        )
    blocks.append(Table("scheme_trace", "table.scheme_trace", trace))
    return Section("schemes", tuple(blocks))


def _figures(verification: pa.Table, referred: pa.Table, ratio: pa.Table, trace: pa.Table | None) -> tuple[Figure, ...]:
    fetches = _sum(verification, "fetches")
    verified = _sum(verification, "verified")
    referrals = _sum(referred, "referrals")
    html = _sum(ratio, "html_fetches")
    figures = [
        Figure("figure.ai_fetches", fetches),
        Figure("figure.operators", verification.num_rows),
        Figure("figure.verified_share", _ratio(Decimal(verified), Decimal(fetches)) if fetches else None, "percent"),
        Figure("figure.referrals", referrals),
        Figure(
            "figure.crawls_per_referral",
            (Decimal(html) / referrals).quantize(Decimal("0.1")) if referrals else None,
            "ratio",
        ),
    ]
    if trace is not None and trace.num_rows:
        best = max(trace.to_pylist(), key=lambda r: (r["amount"], r["scheme"]))
        figures.append(Figure("figure.best_scheme_amount", best["amount"], "money", best["currency"]))
    return tuple(figures)
