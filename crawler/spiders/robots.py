"""Fetch each outlet domain's /robots.txt and report exactly what came back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.failures import CrawlFailure, classify_failure
from crawler.spiders import robots_request
from ledger.robots import RobotsFetch
from ledger.store.db import now


class RobotsSpider(Spider):
    name = "royalty-robots"

    def __init__(self, targets: list[tuple[str, str]], origins: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.targets = targets
        self.origins = origins  # domain -> base URL

    async def start(self) -> AsyncIterator[Request]:
        for outlet, domain in self.targets:
            yield robots_request(self.origins[domain], outlet, domain, self.parse_robots, self.failed)

    def parse_robots(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        first = (meta.get("redirect_urls") or [response.url])[0]
        yield RobotsFetch(
            outlet=meta["outlet"],
            host=meta["domain"],
            url=first,
            checked_at=now(),
            status=response.status,
            body=response.body,
            final_url=response.url,
        )
        if response.status >= 500:  # a 4xx is an answer (no file: allow all); a 5xx is the server failing
            yield CrawlFailure(meta["outlet"], first, "robots", "http_5xx", f"HTTP {response.status}")

    def failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        kind, detail = classify_failure(failure)
        outlet, domain = request.meta["outlet"], request.meta["domain"]
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        yield RobotsFetch(outlet, domain, url, now(), error_kind=kind, error=detail, final_url=request.url)
        yield CrawlFailure(outlet, url, "robots", kind, detail)
