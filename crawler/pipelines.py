"""Item pipelines: the only place the crawl writes, and only through the ledger's public API.

Each pipeline takes its own kind of item and passes the others on. A ledger error stops the crawl (the
spider is closed) and is raised again by ``crawler.run`` once the reactor has let go.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy.crawler import Crawler

from crawler.context import RunContext, lookup
from crawler.failures import CrawlFailure
from ledger.articles import ArticleObservation, record_articles
from ledger.errors import LedgerError
from ledger.iplist_refresh import FetchedList, refresh_ip_lists
from ledger.robots import RobotsFetch, record_check

BATCH = 2000


class _Pipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.context: RunContext = lookup(crawler.settings["ROYALTY_RUN"])
        self._closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def _stop(self, exc: LedgerError) -> None:
        if self.context.error is None:
            self.context.error = exc
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None and self._closing is None:
            self._closing = asyncio.ensure_future(engine.close_spider_async(reason="ledger_error"))


class FailuresPipeline(_Pipeline):
    def process_item(self, item: Any) -> Any:
        if isinstance(item, CrawlFailure):
            self.context.failures.append(item)
        return item


class RobotsPipeline(_Pipeline):
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RobotsFetch) or self.context.error is not None:
            return item
        try:
            self.context.checks.append(record_check(self.context.ledger, item))
        except LedgerError as exc:
            self._stop(exc)
        return item


class ArticlesPipeline(_Pipeline):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.buffer: list[ArticleObservation] = []

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleObservation):
            return item
        self.context.seen[(item.outlet, item.source)] += 1
        self.buffer.append(item)
        if len(self.buffer) >= BATCH:
            self._flush()
        return item

    def _flush(self) -> None:
        batch, self.buffer = self.buffer, []
        if not batch or self.context.error is not None:
            return
        try:
            for outlet in sorted({o.outlet for o in batch}):
                mine = [o for o in batch if o.outlet == outlet]
                self.context.stored[outlet] += record_articles(self.context.ledger, mine)
        except LedgerError as exc:
            self._stop(exc)

    def close_spider(self) -> None:
        self._flush()


class IpListsPipeline(_Pipeline):
    """Collects every fetched list, then judges them together and stores one new version."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, FetchedList):
            self.context.lists.append(item)
        return item

    def close_spider(self) -> None:
        if not self.context.lists and not self.context.skipped_lists:
            return
        if self.context.error is not None:
            return
        try:
            self.context.refresh = refresh_ip_lists(
                self.context.ledger,
                self.context.lists,
                skipped=self.context.skipped_lists,
                force=self.context.force,
                max_shrink=self.context.max_shrink,
            )
        except LedgerError as exc:
            self.context.error = exc
