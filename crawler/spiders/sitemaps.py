"""Discover an outlet's sitemaps, read them into article entries, and optionally fetch the newest pages.

Discovery: the ``Sitemap:`` lines of robots.txt plus ``/sitemap.xml``. Indexes are followed (up to
``max_depth`` levels), gzipped sitemaps are unpacked (within the size cap), Google News entries give the
publication time, title and language. With ``pages``, once every sitemap is read, the ``max_pages``
newest entries per outlet (by publication time, else lastmod) on the outlet's own domains are fetched and
parsed by ``crawler.page``. robots.txt answering 5xx or not at all means keep out (RFC 9309).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import HtmlResponse, Response
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure

from crawler.failures import CrawlFailure, classify_failure
from crawler.page import parse_article
from crawler.sitemap import SitemapEntry, parse_sitemap
from crawler.spiders import robots_request
from ledger.articles import ArticleObservation
from ledger.robots import robots_extras, robots_text
from ledger.store.db import now

_OLD = datetime(1970, 1, 1, tzinfo=UTC)


class SitemapsSpider(Spider):
    name = "royalty-sitemaps"

    def __init__(
        self,
        targets: list[tuple[str, str]],
        origins: dict[str, str],
        domains: dict[str, tuple[str, ...]],
        pages: bool = False,
        max_pages: int = 200,
        max_depth: int = 3,
        max_bytes: int = 10 * 1024 * 1024,
        skip_pages: dict[str, set[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.targets, self.origins, self.domains = targets, origins, domains
        self.pages, self.max_pages, self.max_depth, self.max_bytes = pages, max_pages, max_depth, max_bytes
        self.skip_pages = skip_pages or {}
        self.candidates: dict[str, dict[str, datetime]] = {}  # outlet -> page URL -> recency
        self.pages_scheduled = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SitemapsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.schedule_pages, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for outlet, domain in self.targets:
            yield robots_request(self.origins[domain], outlet, domain, self.parse_robots, self.failed, stage="robots")

    def parse_robots(self, response: Response) -> Iterator[Any]:
        outlet, domain = response.meta["outlet"], response.meta["domain"]
        if response.status >= 500:
            yield CrawlFailure(outlet, response.url, "robots", "http_5xx", f"HTTP {response.status}; not crawled")
            return
        listed = robots_extras(robots_text(response.body)[0]).sitemaps if response.status < 300 else ()
        for url in dict.fromkeys([*listed, f"{self.origins[domain]}/sitemap.xml"]):
            yield self._sitemap(url, outlet, depth=0)

    def _sitemap(self, url: str, outlet: str, depth: int) -> Request:
        return Request(
            url,
            callback=self.parse_sitemap,
            errback=self.failed,
            meta={"outlet": outlet, "depth": depth, "stage": "sitemap"},
        )

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        outlet, depth = response.meta["outlet"], response.meta["depth"]
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.max_bytes)
            except ValueError as exc:  # scrapy's decompression size check
                yield CrawlFailure(outlet, response.url, "sitemap", "too_large", f"cannot gunzip: {exc}")
                return
            except (OSError, EOFError) as exc:
                yield CrawlFailure(outlet, response.url, "sitemap", "xml", f"cannot gunzip: {exc}")
                return
        doc = parse_sitemap(body, response.url)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"royalty/sitemaps/{outlet}")
        if doc.error:
            yield CrawlFailure(outlet, response.url, "sitemap", "xml", doc.error)
        for child in doc.children:
            if depth < self.max_depth:
                yield self._sitemap(child, outlet, depth + 1)
            else:
                yield CrawlFailure(outlet, child, "sitemap", "other", f"sitemap index nested deeper than {depth}")
        crawled = now()
        for entry in doc.entries:
            if not self._own(outlet, entry.loc):
                continue
            yield _observation(outlet, entry, response.url, crawled)
            if self.pages and entry.loc not in self.skip_pages.get(outlet, set()):
                seen = self.candidates.setdefault(outlet, {})
                seen[entry.loc] = max(seen.get(entry.loc, _OLD), entry.published_at or entry.lastmod or _OLD)

    def _own(self, outlet: str, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.domains.get(outlet, ()))

    def schedule_pages(self) -> None:
        """Once every sitemap is read: queue the newest pages of each outlet, then let the crawl go on."""
        if not self.pages or self.pages_scheduled:
            return
        self.pages_scheduled = True
        queued = 0
        for outlet, urls in sorted(self.candidates.items()):
            newest = sorted(urls.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[: self.max_pages]
            for url, _ in newest:
                meta = {"outlet": outlet, "stage": "page"}
                self.crawler.engine.crawl(Request(url, callback=self.parse_page, errback=self.failed, meta=meta))
                queued += 1
        if queued:
            raise DontCloseSpider

    def parse_page(self, response: Response) -> Iterator[Any]:
        outlet = response.meta["outlet"]
        first = (response.meta.get("redirect_urls") or [response.url])[0]
        if not isinstance(response, HtmlResponse):
            kind = (response.headers.get("Content-Type") or b"").decode("latin-1") or "no Content-Type"
            yield CrawlFailure(outlet, first, "page", "not_html", f"not an HTML page ({kind})")
            return
        info = parse_article(response)
        crawled = now()
        for url in dict.fromkeys([first, *([info.canonical_url] if info.canonical_url else [])]):
            yield ArticleObservation(
                outlet=outlet,
                url=url,
                source="page",
                crawled_at=crawled,
                published_at=info.published_at,
                title=info.title,
                language=info.language,
                words=info.words,
                canonical_url=info.canonical_url,
            )

    def failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        kind, detail = classify_failure(failure)
        stage = request.meta.get("stage", "page")
        if stage == "robots":
            detail = f"{detail}; not crawled (robots.txt unreachable)"
        yield CrawlFailure(request.meta["outlet"], request.url, stage, kind, detail)


def _observation(outlet: str, entry: SitemapEntry, sitemap_url: str, crawled: datetime) -> ArticleObservation:
    return ArticleObservation(
        outlet=outlet,
        url=entry.loc,
        source="news_sitemap" if entry.news else "sitemap",
        crawled_at=crawled,
        sitemap_url=sitemap_url,
        lastmod=entry.lastmod,
        published_at=entry.published_at,
        title=entry.title,
        language=entry.language,
    )
