"""What the CLI calls: one function per crawl, each running scrapy in-process and returning a report.

``crawl_robots`` checks every domain's robots.txt, then brings the AI fetches' robots verdicts up to date.
``crawl_sitemaps`` reads the sitemaps (and with ``pages`` the newest article pages) into the article
inventory. ``refresh_registry`` fetches the operators' IP lists and stores a new validated version.
Failures (DNS, TLS, timeouts, 4xx, 5xx, size cap, broken XML...) are collected per outlet, never raised:
a crawl of forty outlets does not stop because one is down.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from scrapy import Spider

from crawler.config import CrawlConfig, scrapy_settings
from crawler.context import RunContext, register, release
from crawler.failures import CrawlFailure
from crawler.reactor import run_spider
from crawler.spiders.registry import IpListsSpider
from crawler.spiders.robots import RobotsSpider
from crawler.spiders.sitemaps import SitemapsSpider
from ledger.articles import coverage, known_pages
from ledger.detect.iplists import IpLists, load_ip_lists
from ledger.errors import RegistryError
from ledger.iplist_refresh import DEFAULT_MAX_SHRINK, RefreshResult, refresh_targets
from ledger.robots import CheckRecord, compute_verdicts, robots_targets
from ledger.store.db import Ledger


@dataclass(frozen=True)
class RobotsCrawl:
    checks: tuple[CheckRecord, ...]
    failures: tuple[CrawlFailure, ...]
    verdicts_added: int

    def table(self) -> pa.Table:
        rows = [
            {
                "outlet": c.outlet,
                "domain": c.host,
                "status": c.status,
                "outcome": c.outcome,
                "snapshot": "new" if c.new_snapshot else "unchanged",
                "content_usage": " | ".join(c.extras.content_usage),
                "content_signals": " | ".join(c.extras.content_signals),
                "license": " | ".join(c.extras.licenses),
                "sitemaps": len(c.extras.sitemaps),
                "failure": f"{c.error_kind}: {c.error}" if c.error_kind else "",
            }
            for c in sorted(self.checks, key=lambda c: (c.outlet, c.host))
        ]
        return pa.Table.from_pylist(rows, schema=_ROBOTS_SCHEMA)


_ROBOTS_SCHEMA = pa.schema(
    [
        ("outlet", pa.string()),
        ("domain", pa.string()),
        ("status", pa.int64()),
        ("outcome", pa.string()),
        ("snapshot", pa.string()),
        ("content_usage", pa.string()),
        ("content_signals", pa.string()),
        ("license", pa.string()),
        ("sitemaps", pa.int64()),
        ("failure", pa.string()),
    ]
)


@dataclass(frozen=True)
class SitemapsCrawl:
    outlets: tuple[str, ...]
    sitemaps: dict[str, int]
    seen: dict[tuple[str, str], int]
    stored: dict[str, int]
    coverage: dict[str, tuple[int, int]]
    failures: tuple[CrawlFailure, ...]

    def table(self) -> pa.Table:
        """One row per outlet: what was read, what is new, how fetched URLs match, what failed."""
        rows = []
        for outlet in self.outlets:
            kinds = Counter(f.kind for f in self.failures if f.outlet == outlet)
            urls, matched = self.coverage.get(outlet, (0, 0))
            rows.append(
                {
                    "outlet": outlet,
                    "sitemaps": self.sitemaps.get(outlet, 0),
                    "entries": self.seen.get((outlet, "sitemap"), 0),
                    "news_entries": self.seen.get((outlet, "news_sitemap"), 0),
                    "pages": self.seen.get((outlet, "page"), 0),
                    "new_rows": self.stored.get(outlet, 0),
                    "fetched_urls": urls,
                    "matched_urls": matched,
                    "failed": sum(kinds.values()),
                    "failures": ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
                }
            )
        return pa.Table.from_pylist(rows, schema=_SITEMAPS_SCHEMA)


_SITEMAPS_COUNTS = (
    "sitemaps",
    "entries",
    "news_entries",
    "pages",
    "new_rows",
    "fetched_urls",
    "matched_urls",
    "failed",
)
_SITEMAPS_SCHEMA = pa.schema(
    [("outlet", pa.string()), *((name, pa.int64()) for name in _SITEMAPS_COUNTS), ("failures", pa.string())]
)


@dataclass(frozen=True)
class RegistryCrawl:
    result: RefreshResult
    failures: tuple[CrawlFailure, ...]

    def table(self) -> pa.Table:
        return self.result.table()


def failures_table(failures: Sequence[CrawlFailure]) -> pa.Table:
    """Every failure: outlet (or list id), stage, kind, URL, detail."""
    rows = [
        {"outlet": f.outlet, "stage": f.stage, "kind": f.kind, "url": f.url, "detail": f.detail}
        for f in sorted(failures, key=lambda f: (f.outlet, f.stage, f.url))
    ]
    schema = pa.schema([(n, pa.string()) for n in ("outlet", "stage", "kind", "url", "detail")])
    return pa.Table.from_pylist(rows, schema=schema)


def _run(spider: type[Spider], context: RunContext, **arguments: Any) -> dict[str, Any]:
    logging.getLogger("scrapy").setLevel(logging.ERROR)  # failures go to the report, not the log
    run_id = register(context)
    try:
        stats = run_spider(spider, scrapy_settings(context.config, run_id), **arguments)
    finally:
        release(run_id)
    if context.error is not None:
        raise context.error
    return stats


def crawl_robots(ledger: Ledger, outlet: str | None = None, config: CrawlConfig | None = None) -> RobotsCrawl:
    """Check robots.txt of one outlet's domains (or every outlet's), then update the robots verdicts."""
    config = config or CrawlConfig()
    targets = robots_targets(ledger, outlet)
    context = RunContext(ledger, config)
    _run(RobotsSpider, context, targets=targets, origins={d: config.origin_url(d) for _, d in targets})
    added = compute_verdicts(ledger)
    return RobotsCrawl(tuple(context.checks), tuple(context.failures), added)


def crawl_sitemaps(
    ledger: Ledger,
    outlet: str | None = None,
    config: CrawlConfig | None = None,
    *,
    pages: bool = False,
    refetch: bool = False,
) -> SitemapsCrawl:
    """Read the outlets' sitemaps into the article inventory; with ``pages``, fetch the newest articles."""
    config = config or CrawlConfig()
    targets = robots_targets(ledger, outlet)
    outlets = tuple(sorted({o for o, _ in targets}))
    domains = {o: tuple(d for oo, d in targets if oo == o) for o in outlets}
    skip = {} if refetch else {o: known_pages(ledger, o) for o in outlets}
    context = RunContext(ledger, config)
    stats = _run(
        SitemapsSpider,
        context,
        targets=targets,
        origins={d: config.origin_url(d) for _, d in targets},
        domains=domains,
        pages=pages,
        max_pages=config.max_pages,
        max_depth=config.max_depth,
        max_bytes=config.max_bytes,
        skip_pages=skip,
    )
    sitemaps = {o: int(stats.get(f"royalty/sitemaps/{o}", 0)) for o in outlets}
    return SitemapsCrawl(
        outlets, sitemaps, dict(context.seen), dict(context.stored), coverage(ledger, outlets), tuple(context.failures)
    )


def refresh_registry(
    ledger: Ledger,
    config: CrawlConfig | None = None,
    *,
    only: Sequence[str] = (),
    sources: dict[str, str] | None = None,
    force: bool = False,
    max_shrink: float = DEFAULT_MAX_SHRINK,
    ip_lists: IpLists | None = None,
) -> RegistryCrawl:
    """Fetch the operators' IP lists, validate them and store a new version when any changed."""
    if not 0 <= max_shrink <= 1:
        raise RegistryError(f"must be between 0 and 1, got {max_shrink}", key="--max-shrink")
    targets, skipped = refresh_targets(ip_lists or load_ip_lists(), only, sources)
    context = RunContext(ledger, config or CrawlConfig(), skipped_lists=list(skipped), force=force)
    context.max_shrink = max_shrink
    _run(IpListsSpider, context, targets=targets)
    assert context.refresh is not None
    return RegistryCrawl(context.refresh, tuple(context.failures))
