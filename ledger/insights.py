"""What the reports show, read from the ledger: coverage, usage over time, verification, robots.txt,
crawl-to-refer ratios, undeclared traffic, articles, referrals and the facts behind the method.

Every function takes a period (UTC) and, where it makes sense, an outlet (``None``: the whole market),
and returns Arrow tables or small frozen dataclasses of them, with stable column names and a stable row
order, so the same ledger gives the same tables byte for byte. The SQL is in
``ledger/store/queries/insights_*.sql``; presentation (labels, languages, charts) is the reports' job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pyarrow as pa

from ledger.errors import ConfigError, LedgerStoreError
from ledger.period import Period
from ledger.schemes import DEFAULT_EXCLUDE_PATHS
from ledger.store.db import Ledger, named_query

GRAINS = ("day", "week")
VERDICTS = ("verified", "spoofed", "unverifiable", "unknown")
ROBOTS_VERDICTS = ("allowed", "disallowed", "no_snapshot")
ASSET_REGEX = "|".join(f"(?:{pattern})" for pattern in DEFAULT_EXCLUDE_PATHS)
SHARE_QUANTUM = Decimal("0.000001")
WEEK_GRAIN_AFTER_DAYS = 62  # periods longer than two months are bucketed by ISO week


@dataclass(frozen=True)
class Coverage:
    """Which outlets sent lines for which UTC days, the gaps, and how the uploads parsed."""

    days: tuple[date, ...]  # every UTC day of the period
    outlets: pa.Table  # outlet, name, days_reported, days_missing, lines, first_day, last_day
    daily: pa.Table  # outlet, day, lines: only days with lines
    gaps: pa.Table  # outlet, first_missing, last_missing, days: runs of days without lines
    uploads: pa.Table  # see insights_uploads.sql
    reject_reasons: pa.Table  # reason, lines


@dataclass(frozen=True)
class Robots:
    """robots.txt verdicts per operator, or ``available=False`` when the ledger has no verdict table."""

    available: bool
    by_operator: pa.Table  # operator, fetches, disallowed, allowed, no_snapshot, unchecked, disallowed_share

    @property
    def checked(self) -> int:
        """Fetches that were judged against a snapshot (allowed or disallowed)."""
        if not self.available or self.by_operator.num_rows == 0:
            return 0
        return sum(self.by_operator["allowed"].to_pylist()) + sum(self.by_operator["disallowed"].to_pylist())


@dataclass(frozen=True)
class Methodology:
    """The facts a reader needs to reproduce the numbers."""

    registry_versions: pa.Table
    formats: pa.Table
    asset_regex: str
    grain: str


def grain_for(period: Period) -> str:
    """'day' for periods up to two months, else 'week'."""
    return "day" if (period.end - period.start).days <= WEEK_GRAIN_AFTER_DAYS else "week"


def _params(period: Period, outlet: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"start": period.start, "end": period.end, "outlet": outlet, **extra}


def period_days(period: Period) -> tuple[date, ...]:
    first, stop = period.start.date(), period.end.date()
    return tuple(first + timedelta(days=i) for i in range((stop - first).days))


def coverage(ledger: Ledger, period: Period, outlet: str | None = None) -> Coverage:
    """Days with lines per outlet (every registered outlet, or one), the gaps between, the uploads."""
    days = period_days(period)
    daily = ledger.arrow(
        named_query("insights_coverage_days"),
        {"first": period.start.date(), "stop": period.end.date(), "outlet": outlet},
    )
    if outlet is not None:
        names = {
            row["slug"]: row["name"] for row in ledger.rows("SELECT slug, name FROM outlets WHERE slug = ?", [outlet])
        }
        names.setdefault(outlet, outlet)
    else:
        names = {row["slug"]: row["name"] for row in ledger.rows("SELECT slug, name FROM outlets")}
    seen: dict[str, dict[date, int]] = {slug: {} for slug in names}
    for row in daily.to_pylist():
        seen.setdefault(row["outlet"], {})[row["day"]] = row["lines"]
    outlets_rows, gap_rows = [], []
    for slug in sorted(seen):
        lines_by_day = seen[slug]
        reported = [d for d in days if d in lines_by_day]
        outlets_rows.append(
            {
                "outlet": slug,
                "name": names.get(slug, slug),
                "days_reported": len(reported),
                "days_missing": len(days) - len(reported),
                "lines": sum(lines_by_day.values()),
                "first_day": reported[0] if reported else None,
                "last_day": reported[-1] if reported else None,
            }
        )
        gap_rows += [{"outlet": slug, **gap} for gap in _gaps(days, lines_by_day)]
    outlets_table = pa.Table.from_pylist(outlets_rows, schema=_COVERAGE_SCHEMA)
    outlets_table = outlets_table.sort_by([("days_missing", "descending"), ("outlet", "ascending")])
    params = _params(period, outlet)
    return Coverage(
        days,
        outlets_table,
        daily,
        pa.Table.from_pylist(gap_rows, schema=_GAP_SCHEMA),
        ledger.arrow(named_query("insights_uploads"), params),
        ledger.arrow(named_query("insights_reject_reasons"), params),
    )


_COVERAGE_SCHEMA = pa.schema(
    [
        ("outlet", pa.string()),
        ("name", pa.string()),
        ("days_reported", pa.int64()),
        ("days_missing", pa.int64()),
        ("lines", pa.int64()),
        ("first_day", pa.date32()),
        ("last_day", pa.date32()),
    ]
)
_GAP_SCHEMA = pa.schema(
    [("outlet", pa.string()), ("first_missing", pa.date32()), ("last_missing", pa.date32()), ("days", pa.int64())]
)


def _gaps(days: tuple[date, ...], present: dict[date, int]) -> list[dict[str, Any]]:
    """Runs of consecutive days without lines."""
    runs: list[dict[str, Any]] = []
    for day in days:
        if day in present:
            continue
        if runs and runs[-1]["last_missing"] == day - timedelta(days=1):
            runs[-1]["last_missing"] = day
            runs[-1]["days"] += 1
        else:
            runs.append({"first_missing": day, "last_missing": day, "days": 1})
    return runs


@dataclass(frozen=True)
class UsageRollup:
    """The period's AI fetches rolled up three ways by one scan (see insights_rollup.sql)."""

    period: Period
    grain: str
    time: pa.Table  # bucket, operator, purpose, attribution, fetches
    outlets: pa.Table  # outlet, purpose, verification, attribution, fetches
    operators: pa.Table  # operator, verification, attribution, html, fetches


_TIME_SCHEMA = pa.schema(
    [
        ("bucket", pa.date32()),
        ("operator", pa.string()),
        ("purpose", pa.string()),
        ("attribution", pa.string()),
        ("fetches", pa.int64()),
    ]
)
_EPOCH = date(1970, 1, 1)


def usage_rollup(ledger: Ledger, period: Period, outlet: str | None = None, *, grain: str | None = None) -> UsageRollup:
    """AI fetches (declared and undeclared) over time, per outlet and per operator, in one scan."""
    grain = _grain(period, grain)
    rows = ledger.arrow(named_query("insights_rollup"), _params(period, outlet, asset_regex=ASSET_REGEX)).to_pylist()
    buckets: dict[tuple[date, str, str, str], int] = {}
    for r in (r for r in rows if r["rollup"] == "time"):
        day_no = int(r["day_no"])
        bucket = _EPOCH + timedelta(days=day_no - (day_no + 3) % 7 if grain == "week" else day_no)
        key = (bucket, r["operator"], r["purpose"], r["attribution"])
        buckets[key] = buckets.get(key, 0) + int(r["fetches"])
    time_rows = [dict(zip(_TIME_SCHEMA.names, (*key, n), strict=True)) for key, n in sorted(buckets.items())]
    outlet_cols = ("outlet", "purpose", "verification", "attribution", "fetches")
    operator_cols = ("operator", "verification", "attribution", "html", "fetches")
    return UsageRollup(
        period,
        grain,
        pa.Table.from_pylist(time_rows, schema=_TIME_SCHEMA),
        pa.Table.from_pylist(
            [{c: r[c] for c in outlet_cols} for r in rows if r["rollup"] == "outlet"], schema=_schema(outlet_cols)
        ),
        pa.Table.from_pylist(
            [{c: r[c] for c in operator_cols} for r in rows if r["rollup"] == "operator"], schema=_schema(operator_cols)
        ),
    )


def _schema(columns: tuple[str, ...]) -> pa.Schema:
    types = {"fetches": pa.int64(), "html": pa.bool_()}
    return pa.schema([(c, types.get(c, pa.string())) for c in columns])


def _grain(period: Period, grain: str | None) -> str:
    grain = grain or grain_for(period)
    if grain not in GRAINS:
        raise ConfigError(f"unknown time grain '{grain}'", key="grain", allowed=GRAINS, value=grain)
    return grain


def share(part: int, whole: int) -> Decimal | None:
    """part / whole to six places (half-even), or None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(SHARE_QUANTUM, rounding=ROUND_HALF_EVEN)


_VERIFICATION_SCHEMA = pa.schema(
    [("operator", pa.string()), ("fetches", pa.int64())]
    + [(v, pa.int64()) for v in VERDICTS]
    + [(f"{v}_share", pa.decimal128(9, 6)) for v in VERDICTS]
)


def verification(rollup: UsageRollup) -> pa.Table:
    """Declared AI fetches per operator and verdict, with each verdict's share of the operator's fetches;
    operators by fetches, most first."""
    counts: dict[str, dict[str, int]] = {}
    for r in rollup.operators.to_pylist():
        if r["attribution"] == "declared":
            per = counts.setdefault(r["operator"], dict.fromkeys(VERDICTS, 0))
            per[r["verification"]] = per.get(r["verification"], 0) + r["fetches"]
    rows: list[dict[str, Any]] = []
    for operator, per in sorted(counts.items(), key=lambda item: (-sum(item[1].values()), item[0])):
        total = sum(per.values())
        rows.append(
            {
                "operator": operator,
                "fetches": total,
                **{v: per[v] for v in VERDICTS},
                **{f"{v}_share": share(per[v], total) for v in VERDICTS},
            }
        )
    return pa.Table.from_pylist(rows, schema=_VERIFICATION_SCHEMA)


_TOP_SCHEMA = pa.schema(
    [
        ("outlet", pa.string()),
        ("name", pa.string()),
        ("fetches", pa.int64()),
        ("training", pa.int64()),
        ("search", pa.int64()),
        ("user", pa.int64()),
        ("verified", pa.int64()),
        ("market_share", pa.decimal128(9, 6)),
    ]
)


def top_outlets(ledger: Ledger, rollup: UsageRollup, limit: int = 20) -> pa.Table:
    """The outlets with the most declared AI fetches: purpose split, verified count, share of all."""
    per: dict[str, dict[str, int]] = {}
    for r in rollup.outlets.to_pylist():
        if r["attribution"] != "declared":
            continue
        row = per.setdefault(r["outlet"], {"fetches": 0, "training": 0, "search": 0, "user": 0, "verified": 0})
        row["fetches"] += r["fetches"]
        if r["purpose"] in ("training", "search", "user"):
            row[r["purpose"]] += r["fetches"]
        if r["verification"] == "verified":
            row["verified"] += r["fetches"]
    everything = sum(row["fetches"] for row in per.values())
    ranked = sorted(per, key=lambda o: (-per[o]["fetches"], o))[:limit]
    names = {r["slug"]: r["name"] for r in ledger.rows("SELECT slug, name FROM outlets")}
    rows = [
        {"outlet": o, "name": names.get(o, o), **per[o], "market_share": share(per[o]["fetches"], everything)}
        for o in ranked
    ]
    return pa.Table.from_pylist(rows, schema=_TOP_SCHEMA)


_RATIO_SCHEMA = pa.schema(
    [
        ("operator", pa.string()),
        ("html_fetches", pa.int64()),
        ("referrals", pa.int64()),
        ("crawls_per_referral", pa.decimal128(18, 1)),
    ]
)


def crawl_to_refer(ledger: Ledger, rollup: UsageRollup, outlet: str | None = None) -> pa.Table:
    """HTML fetches by each operator's AI crawlers per HTML visit its AI products referred (Cloudflare
    Radar's crawl-to-refer ratio; null when nothing was referred). Operators by HTML fetches, most first."""
    crawls: dict[str, int] = {}
    for r in rollup.operators.to_pylist():
        if r["attribution"] == "declared" and r["html"]:
            crawls[r["operator"]] = crawls.get(r["operator"], 0) + r["fetches"]
    params = _params(rollup.period, outlet, asset_regex=ASSET_REGEX)
    refers = {r["operator"]: r["referrals"] for r in ledger.rows(named_query("insights_referrals_html"), params)}
    rows = []
    for operator in set(crawls) | set(refers):
        html, referred = crawls.get(operator, 0), refers.get(operator, 0)
        ratio = (
            (Decimal(html) / Decimal(referred)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN) if referred else None
        )
        rows.append({"operator": operator, "html_fetches": html, "referrals": referred, "crawls_per_referral": ratio})
    rows.sort(key=lambda r: (-r["html_fetches"], -r["referrals"], r["operator"]))
    return pa.Table.from_pylist(rows, schema=_RATIO_SCHEMA)


def undeclared(ledger: Ledger, period: Period, outlet: str | None = None) -> pa.Table:
    """Requests from AI operators' published ranges without a declared bot, per operator and list."""
    return ledger.arrow(named_query("insights_undeclared"), _params(period, outlet))


def has_robots_verdicts(ledger: Ledger) -> bool:
    """True when the ledger has robots.txt verdicts (the robots_verdicts_latest view of migration 002)."""
    found = ledger.rows(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'robots_verdicts_latest'"
        " AND table_schema = 'main'"
    )
    if not found:
        return False
    missing = {"upload_id", "line_no", "verdict"} - {row["column_name"] for row in found}
    if missing:
        raise LedgerStoreError(
            f"{ledger.path}: robots_verdicts_latest lacks the column(s) {', '.join(sorted(missing))}; "
            "the ledger's schema does not match this program: upgrade royalty-ledger"
        )
    return True


_ROBOTS_SCHEMA = pa.schema(
    [
        ("operator", pa.string()),
        ("fetches", pa.int64()),
        ("disallowed", pa.int64()),
        ("allowed", pa.int64()),
        ("no_snapshot", pa.int64()),
        ("unchecked", pa.int64()),
        ("disallowed_share", pa.decimal128(9, 6)),
    ]
)


def robots(ledger: Ledger, period: Period, outlet: str | None = None) -> Robots:
    """robots.txt verdicts of declared AI fetches per operator (latest verdict per fetch)."""
    if not has_robots_verdicts(ledger):
        return Robots(False, _ROBOTS_SCHEMA.empty_table())
    if not ledger.rows("SELECT 1 FROM robots_verdicts_latest LIMIT 1"):
        return Robots(True, _ROBOTS_SCHEMA.empty_table())  # nothing judged yet: no join over every fetch
    return Robots(True, ledger.arrow(named_query("insights_robots"), _params(period, outlet)))


def top_articles(ledger: Ledger, period: Period, outlet: str, limit: int = 25) -> pa.Table:
    """An outlet's most fetched canonical URLs by declared AI crawlers."""
    return ledger.arrow(named_query("insights_top_articles"), _params(period, outlet, limit=limit))


def referrals(ledger: Ledger, period: Period, outlet: str | None = None) -> pa.Table:
    """Visits referred by AI products: operator, product, referrals, pages (distinct URLs)."""
    return ledger.arrow(named_query("insights_referrals"), _params(period, outlet))


def referrals_over_time(
    ledger: Ledger, period: Period, outlet: str | None = None, *, grain: str | None = None
) -> pa.Table:
    """Referred visits per bucket and operator: bucket, operator, referrals."""
    return ledger.arrow(
        named_query("insights_referrals_over_time"), _params(period, outlet, grain=_grain(period, grain))
    )


def usage_by_bot(ledger: Ledger, period: Period, outlet: str | None = None) -> pa.Table:
    """AI fetches per operator, bot and purpose (undeclared as '(undeclared)'), URLs and verdict counts."""
    return ledger.arrow(named_query("insights_usage_by_bot"), _params(period, outlet))


def methodology(ledger: Ledger, period: Period, outlet: str | None = None) -> Methodology:
    """Registry versions and log formats of the period's uploads, and the definitions' parameters."""
    params = _params(period, outlet)
    return Methodology(
        ledger.arrow(named_query("insights_registry_versions"), params),
        ledger.arrow(named_query("insights_formats"), params),
        ASSET_REGEX,
        grain_for(period),
    )
