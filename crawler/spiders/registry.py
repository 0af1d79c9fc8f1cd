"""Fetch the operators' published IP lists (the URLs of ledger/registry/ip_lists.toml, or overrides)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.config import ERROR_STATUSES
from crawler.failures import CrawlFailure, classify_failure
from ledger.iplist_refresh import FetchedList
from ledger.store.db import now


class IpListsSpider(Spider):
    name = "royalty-ip-lists"

    def __init__(self, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.targets = targets  # (list_id, url)

    async def start(self) -> AsyncIterator[Request]:
        for list_id, url in self.targets:
            yield Request(
                url,
                callback=self.parse_list,
                errback=self.failed,
                dont_filter=True,
                meta={"list_id": list_id, "handle_httpstatus_list": ERROR_STATUSES},
            )

    def parse_list(self, response: Response) -> Iterator[Any]:
        list_id = response.meta["list_id"]
        yield FetchedList(list_id, response.url, now(), response.status, response.body)
        if response.status >= 400:
            kind = f"http_{response.status // 100}xx"
            yield CrawlFailure(list_id, response.url, "registry", kind, f"HTTP {response.status}")

    def failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        kind, detail = classify_failure(failure)
        list_id = request.meta["list_id"]
        yield FetchedList(list_id, request.url, now(), error_kind=kind, error=f"{kind}: {detail}")
        yield CrawlFailure(list_id, request.url, "registry", kind, detail)
