"""The article inventory: what an outlet published (from its sitemaps and pages), matched to fetched URLs.

Observations are appended (``record_articles``): a sitemap entry, a Google News sitemap entry, or a
fetched page's metadata. An observation identical to the latest one of the same URL and source is not
stored again. ``article_inventory`` (a view) folds them into one row per article, each field from the
latest observation that has it.

Fetched URLs and article URLs meet on ``url_match_key``, a SQL macro of migration 002: scheme dropped,
host in lower case without ``www.``/``amp.`` or port, the path percent-decoded without AMP variants or a
trailing slash, tracking (``utm_*``, ``fbclid``...) and AMP parameters removed and the rest sorted. Schemes
use ``fetch_articles`` (or ``article_for_url``) to weight a fetch by the article's length and age.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

import polars as pl
import pyarrow as pa

from ledger.errors import ConfigError
from ledger.outlets import require_outlet
from ledger.period import ALL_TIME, Period
from ledger.store.db import Ledger, named_query

SOURCES = ("sitemap", "news_sitemap", "page")


@dataclass(frozen=True)
class ArticleObservation:
    outlet: str
    url: str
    source: str  # sitemap | news_sitemap | page
    crawled_at: datetime
    sitemap_url: str | None = None
    lastmod: datetime | None = None
    published_at: datetime | None = None
    title: str | None = None
    language: str | None = None
    words: int | None = None
    canonical_url: str | None = None


@dataclass(frozen=True)
class Article:
    match_key: str
    outlet: str
    url: str
    title: str | None
    language: str | None
    words: int | None
    published_at: datetime | None
    lastmod: datetime | None
    canonical_url: str | None


_SCHEMA = pa.schema(
    [
        ("outlet", pa.string()),
        ("url", pa.string()),
        ("source", pa.string()),
        ("crawled_at", pa.timestamp("us", tz="UTC")),
        ("sitemap_url", pa.string()),
        ("lastmod", pa.timestamp("us", tz="UTC")),
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("title", pa.string()),
        ("language", pa.string()),
        ("words", pa.int32()),
        ("canonical_url", pa.string()),
    ]
)


def record_articles(ledger: Ledger, observations: Sequence[ArticleObservation]) -> int:
    """Append the observations that differ from the latest stored one of their URL and source."""
    if not observations:
        return 0
    for obs in observations:
        if obs.source not in SOURCES:
            raise ConfigError(f"unknown article source '{obs.source}'", key="source", allowed=SOURCES, value=obs.source)
    columns = {f.name: [getattr(o, f.name) for o in observations] for f in fields(ArticleObservation)}
    table = pa.table(columns, schema=_SCHEMA)
    # one row per URL and source within a batch: the last one seen wins
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    table = frame.unique(["url", "source"], keep="last", maintain_order=True).to_arrow()
    before = _count(ledger)
    with ledger.transaction():
        ledger.con.register("_articles_in", table)
        try:
            ledger.execute(named_query("articles_insert"))
        finally:
            ledger.con.unregister("_articles_in")
    return _count(ledger) - before


def _count(ledger: Ledger) -> int:
    return int(ledger.rows("SELECT count(*) AS n FROM articles")[0]["n"])


def match_key(ledger: Ledger, url: str) -> str | None:
    """The key a URL is matched on (see the module docstring)."""
    return ledger.rows("SELECT url_match_key(?) AS k", [url])[0]["k"]


def article_for_url(ledger: Ledger, url: str) -> Article | None:
    """The inventory's article for a fetched (or any) URL, or None when no article matches."""
    rows = ledger.rows(
        "SELECT match_key, outlet, url, title, language, words, published_at, lastmod, canonical_url"
        " FROM article_inventory WHERE match_key = url_match_key(?)",
        [url],
    )
    return Article(**rows[0]) if rows else None


def fetch_articles(
    ledger: Ledger, period: Period | None = None, *, outlet: str | None = None, ai_only: bool = True
) -> pa.Table:
    """One row per fetch of the period with its article's words and publication time (null: no match).

    Columns: upload_id, line_no, ts, outlet, url, article_url, words, published_at, lastmod, title.
    """
    period = period or ALL_TIME
    start, end = period.start, period.end
    return ledger.arrow(
        named_query("articles_for_fetches"), {"start": start, "end": end, "outlet": outlet, "ai_only": ai_only}
    )


def inventory(ledger: Ledger, outlet: str | None = None) -> pa.Table:
    """The article inventory, one row per article, newest publication first."""
    if outlet is not None:
        require_outlet(ledger, outlet)
    return ledger.arrow(named_query("articles_inventory"), {"outlet": outlet})


def coverage(ledger: Ledger, outlets: Sequence[str]) -> dict[str, tuple[int, int]]:
    """outlet -> (distinct AI-fetched URLs, how many of them match an article)."""
    rows = ledger.rows(named_query("articles_coverage"), {"outlets": list(outlets)})
    return {r["outlet"]: (int(r["urls"]), int(r["matched"])) for r in rows}


def known_pages(ledger: Ledger, outlet: str) -> set[str]:
    """URLs of the outlet whose page was fetched already (the crawler skips them unless told to refetch)."""
    rows = ledger.rows("SELECT DISTINCT url FROM articles WHERE outlet = ? AND source = 'page'", [outlet])
    return {r["url"] for r in rows}
