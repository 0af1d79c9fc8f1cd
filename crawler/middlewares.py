"""Downloader middlewares: exponential backoff before retries, and an optional HTTP proxy for every request."""

from __future__ import annotations

import asyncio

from scrapy import Request
from scrapy.crawler import Crawler


class BackoffMiddleware:
    """Waits ``ROYALTY_BACKOFF * 2**(n-1)`` seconds (at most ``ROYALTY_BACKOFF_MAX``) before the n-th retry.

    Scrapy's RetryMiddleware sends a retry at once; a server that just failed deserves a pause. The wait
    happens before the request reaches its download slot, so other domains go on meanwhile.
    """

    def __init__(self, base: float, cap: float) -> None:
        self.base, self.cap = base, cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffMiddleware:
        return cls(crawler.settings.getfloat("ROYALTY_BACKOFF"), crawler.settings.getfloat("ROYALTY_BACKOFF_MAX"))

    def delay(self, retry: int) -> float:
        return 0.0 if retry < 1 else min(self.cap, self.base * 2 ** (retry - 1))

    async def process_request(self, request: Request) -> None:
        wait = self.delay(int(request.meta.get("retry_times", 0)))
        if wait > 0:
            await asyncio.sleep(wait)


class ProxyMiddleware:
    """Sends every request (robots.txt ones included) through ``ROYALTY_PROXY`` when it is set."""

    def __init__(self, proxy: str | None) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProxyMiddleware:
        return cls(crawler.settings.get("ROYALTY_PROXY"))

    def process_request(self, request: Request) -> None:
        if self.proxy and "proxy" not in request.meta:
            request.meta["proxy"] = self.proxy
