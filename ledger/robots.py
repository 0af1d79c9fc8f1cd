"""robots.txt over time, and the verdict each AI fetch gets against the file in force at its moment.

The crawler records every check of a host's ``/robots.txt`` (``record_check``); a new snapshot is stored
only when the state changed. A state follows RFC 9309 section 2.3.1: ``rules`` (a 2xx body), ``unavailable``
(4xx, e.g. 404: everything allowed) or ``unreachable`` (5xx, or no answer at all: everything disallowed).

``compute_verdicts`` judges each AI fetch against the snapshot of its host's latest check at or before the
fetch's time, with protego (scrapy's own RFC 9309 parser), for the bot's robots.txt tokens with the ``*``
group as fallback. A fetch with no check before it is ``no_snapshot``. Verdicts are rows: recomputing adds
rows only for fetches whose snapshot in force changed, so earlier judgements stay as history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import polars as pl
import pyarrow as pa
from protego import Protego

from ledger.detect.registry import Registry, load_registry
from ledger.errors import ConfigError
from ledger.outlets import require_outlet
from ledger.period import ALL_TIME, Period
from ledger.store.db import Ledger, named_query, now

OUTCOMES = ("rules", "unavailable", "unreachable")
VERDICTS = ("allowed", "disallowed", "no_snapshot")
MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least the first 500 KiB; the rest is ignored here
_JUDGED = ("snapshot_id", "bot", "path", "verdict", "robots_group", "directive")
_STORED = ("upload_id", "line_no", "snapshot_id", "verdict", "robots_group", "directive")
_EXTRA_FIELDS = {
    "content-usage": "content_usage",
    "content-signal": "content_signals",
    "content-signals": "content_signals",
    "license": "licenses",
    "sitemap": "sitemaps",
}


@dataclass(frozen=True)
class RobotsFetch:
    """One check of a host's robots.txt, as the crawler saw it."""

    outlet: str
    host: str
    url: str
    checked_at: datetime
    status: int | None = None
    body: bytes | None = None
    final_url: str | None = None
    error_kind: str | None = None  # dns | tls | timeout | connect | too_large | ... when no answer came
    error: str | None = None


@dataclass(frozen=True)
class RobotsExtras:
    """Lines of a robots.txt beyond the access rules, kept as written."""

    content_usage: tuple[str, ...] = ()
    content_signals: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckRecord:
    host: str
    outlet: str
    snapshot_id: str
    new_snapshot: bool
    outcome: str
    status: int | None
    extras: RobotsExtras = field(default_factory=RobotsExtras)
    error_kind: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Judgement:
    verdict: str
    group: str | None
    directive: str | None


def outcome_of(status: int | None, error_kind: str | None = None) -> str:
    """RFC 9309 2.3.1: 2xx -> rules; 4xx -> unavailable (allow all); 5xx or no answer -> unreachable.

    More than five redirects (``error_kind='redirects'``) count as unavailable, as 2.3.1.2 allows.
    """
    if status is None and error_kind == "redirects":
        return "unavailable"
    if status is None or status >= 500:
        return "unreachable"
    if 200 <= status < 300:
        return "rules"
    if 400 <= status < 500:
        return "unavailable"
    # 1xx or an unfollowed 3xx: RFC 9309 treats a redirect chain it cannot finish as unavailable.
    return "unavailable"


def robots_text(body: bytes) -> tuple[str, bool]:
    """The first 500 KiB as UTF-8 text (BOM dropped, bad bytes replaced), and whether it was cut."""
    cut = body[:MAX_ROBOTS_BYTES]
    return cut.decode("utf-8", errors="replace").removeprefix("\ufeff"), len(body) > MAX_ROBOTS_BYTES


def robots_extras(text: str) -> RobotsExtras:
    """Content-Usage (IETF aipref), Content-Signal (Content Signals), License (RSL) and Sitemap lines."""
    found: dict[str, list[str]] = {name: [] for name in set(_EXTRA_FIELDS.values())}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()  # RFC 9309 2.2.4: '#' starts a comment
        name, sep, value = line.partition(":")
        target = _EXTRA_FIELDS.get(name.strip().lower())
        if sep and target and value.strip():
            found[target].append(value.strip() if target == "sitemaps" else line)
    return RobotsExtras(**{name: tuple(values) for name, values in found.items()})


def record_check(ledger: Ledger, fetch: RobotsFetch) -> CheckRecord:
    """Store one check; a new snapshot only when the state differs from the host's check before it."""
    outcome = outcome_of(fetch.status, fetch.error_kind)
    body = (fetch.body or b"") if outcome == "rules" else None
    digest = hashlib.sha256(body).hexdigest() if body is not None else None
    text, truncated = robots_text(body) if body is not None else (None, False)
    extras = robots_extras(text) if text is not None else RobotsExtras()
    with ledger.transaction():
        previous = ledger.rows(named_query("robots_previous_check"), [fetch.host, fetch.checked_at])
        same = bool(previous) and (previous[0]["outcome"], previous[0]["body_sha256"]) == (outcome, digest)
        if same:
            snapshot_id = previous[0]["snapshot_id"]
        else:
            seed = f"{fetch.host}\0{fetch.checked_at.isoformat()}\0{outcome}\0{digest}"
            snapshot_id = hashlib.sha256(seed.encode()).hexdigest()[:16]
            _insert_snapshot(ledger, snapshot_id, fetch, outcome, body, text, truncated, extras)
        ledger.execute(
            "INSERT INTO robots_checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                fetch.host,
                fetch.outlet,
                fetch.checked_at,
                fetch.url,
                fetch.final_url,
                fetch.status,
                fetch.error_kind,
                fetch.error,
                snapshot_id,
                not same,
            ],
        )
    return CheckRecord(
        fetch.host, fetch.outlet, snapshot_id, not same, outcome, fetch.status, extras, fetch.error_kind, fetch.error
    )


def _insert_snapshot(
    ledger: Ledger,
    snapshot_id: str,
    fetch: RobotsFetch,
    outcome: str,
    body: bytes | None,
    text: str | None,
    truncated: bool,
    extras: RobotsExtras,
) -> None:
    ledger.execute(
        "INSERT INTO robots_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            snapshot_id,
            fetch.host,
            outcome,
            fetch.status,
            fetch.error_kind,
            text,
            hashlib.sha256(body).hexdigest() if body is not None else None,
            len(body) if body is not None else None,
            truncated,
            list(extras.content_usage),
            list(extras.content_signals),
            list(extras.licenses),
            list(extras.sitemaps),
            fetch.checked_at,
        ],
    )


def robots_targets(ledger: Ledger, outlet: str | None) -> list[tuple[str, str]]:
    """(outlet, domain) pairs to check: one outlet's domains, or every outlet's when ``outlet`` is None."""
    if outlet is not None:
        require_outlet(ledger, outlet)
        rows = ledger.rows("SELECT outlet, domain FROM outlet_domains WHERE outlet = ? ORDER BY domain", [outlet])
    else:
        rows = ledger.rows("SELECT outlet, domain FROM outlet_domains ORDER BY outlet, domain")
    if not rows:
        raise ConfigError("no outlets with domains yet; add one with 'royalty outlets add SLUG --domain ...'")
    return [(r["outlet"], r["domain"]) for r in rows]


# ---------------------------------------------------------------------------------------------- verdicts


@lru_cache(maxsize=256)
def _parser(body: str) -> Protego:
    return Protego.parse(body)


@dataclass(frozen=True)
class Snapshot:
    outcome: str
    body: str | None = None
    status: int | None = None
    error_kind: str | None = None


def judge(snapshot: Snapshot, tokens: Sequence[str], path: str | None) -> Judgement:
    """The verdict for one request path by a bot known by ``tokens`` (empty: an undeclared client)."""
    if snapshot.outcome == "unavailable":
        cause = f"HTTP {snapshot.status}" if snapshot.status is not None else (snapshot.error_kind or "no file")
        return Judgement("allowed", None, f"robots.txt unavailable ({cause}): allow all")
    if snapshot.outcome == "unreachable":
        cause = f"HTTP {snapshot.status}" if snapshot.status is not None else (snapshot.error_kind or "no answer")
        return Judgement("disallowed", None, f"robots.txt unreachable ({cause}): disallow all")
    parser = _parser(snapshot.body or "")
    url = path if path and path.startswith("/") else "/"
    token, rule_set = _group(parser, tokens)
    if rule_set is None:
        return Judgement("allowed", None, None)
    allowed = parser.can_fetch(url, token)
    return Judgement("allowed" if allowed else "disallowed", rule_set.user_agent, _directive(rule_set, url))


def _group(parser: Protego, tokens: Sequence[str]) -> tuple[str, Any]:
    """The first token with a group of its own; otherwise the ``*`` group (or none at all)."""
    for token in tokens:
        rule_set = parser._get_matching_rule_set(token)
        if rule_set is not None and rule_set.user_agent != "*":
            return token, rule_set
    return "*", parser._get_matching_rule_set("*")


def _directive(rule_set: Any, url: str) -> str | None:
    """The rule that decided, as 'Allow: pattern' / 'Disallow: pattern' (protego's longest-match order).

    protego exposes only the verdict, so this walks its rule set (``_rules``, sorted as it matches them);
    tests/ledger/test_robots.py checks that the rule found always agrees with ``Protego.can_fetch``.
    """
    from protego._utils import _quote_path

    quoted = _quote_path(url)
    for rule in getattr(rule_set, "_rules", ()):
        if rule.value.match(quoted):
            return f"{rule.field.capitalize()}: {rule.value._pattern}"
    return None


def has_snapshots(ledger: Ledger) -> bool:
    """Whether any robots.txt snapshot is stored (without one, every verdict would be no_snapshot)."""
    return bool(ledger.rows("SELECT 1 FROM robots_snapshots LIMIT 1"))


def compute_verdicts(
    ledger: Ledger,
    *,
    at: datetime | None = None,
    registry: Registry | None = None,
    uploads: Sequence[str] | None = None,
) -> int:
    """Add a verdict for every AI fetch that has none, or whose snapshot in force changed; returns rows added.

    ``uploads``: only the fetches of these uploads (ingest judges what it wrote, in time that does not grow
    with the ledger: no snapshot in force changes while ingesting); None: every fetch."""
    params = {"uploads": list(uploads) if uploads is not None else None}
    pending = pl.from_arrow(ledger.arrow(named_query("robots_pending"), params))
    assert isinstance(pending, pl.DataFrame)
    if pending.height == 0:
        return 0
    tokens = _tokens(registry or load_registry())
    combos = pending.select("snapshot_id", "bot", "path").unique()
    snapshots = _snapshots(ledger, [s for s in combos["snapshot_id"].unique().to_list() if s is not None])
    rows: list[tuple[str | None, ...]] = []
    for snapshot_id, bot, path in combos.iter_rows():
        if snapshot_id is None:
            rows.append((snapshot_id, bot, path, "no_snapshot", None, None))
            continue
        found = judge(snapshots[snapshot_id], tokens.get(bot, ()), path)
        rows.append((snapshot_id, bot, path, found.verdict, found.group, found.directive))
    judged = pl.DataFrame(rows, schema={name: pl.String for name in _JUDGED}, orient="row")
    out = pending.join(judged, on=["snapshot_id", "bot", "path"], how="left", nulls_equal=True)
    out = out.select(*_STORED, pl.lit(at or now()).alias("computed_at"))
    with ledger.transaction():
        ledger.insert_arrow("robots_verdicts", out.to_arrow())
    return out.height


def _tokens(registry: Registry) -> dict[str, tuple[str, ...]]:
    return {bot.token: bot.robots_tokens for bot in registry.bots}


def _snapshots(ledger: Ledger, ids: list[str]) -> dict[str, Snapshot]:
    rows = ledger.rows(
        "SELECT snapshot_id, outcome, status, error_kind, body FROM robots_snapshots"
        " WHERE snapshot_id IN (SELECT unnest(?::VARCHAR[]))",
        [ids],
    )
    return {r["snapshot_id"]: Snapshot(r["outcome"], r["body"], r["status"], r["error_kind"]) for r in rows}


# ---------------------------------------------------------------------------------------------- reports


def violations(ledger: Ledger, period: Period | None, *, refresh: bool = True) -> pa.Table:
    """AI fetches judged ``disallowed`` (latest verdict), grouped by outlet, operator, bot, path, directive.

    With ``refresh`` the verdicts are brought up to date first (uploads ingested since the last crawl).
    """
    if refresh:
        compute_verdicts(ledger)
    period = period or ALL_TIME
    return ledger.arrow(named_query("robots_violations"), {"start": period.start, "end": period.end})


def verdict_counts(ledger: Ledger, period: Period | None) -> pa.Table:
    """Latest verdicts per outlet and verdict: how much of the period could be judged at all."""
    period = period or ALL_TIME
    return ledger.arrow(named_query("robots_verdict_counts"), {"start": period.start, "end": period.end})


def snapshots(ledger: Ledger, outlet: str | None = None) -> pa.Table:
    """Each stored snapshot with its time span, HTTP status and its Content-Usage/Signal/License lines."""
    if outlet is not None:
        require_outlet(ledger, outlet)
    return ledger.arrow(named_query("robots_snapshots_show"), {"outlet": outlet})
