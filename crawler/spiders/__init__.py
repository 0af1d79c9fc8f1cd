"""The spiders: they turn responses into items (ledger dataclasses and ``CrawlFailure``) and write nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scrapy import Request

from crawler.config import ERROR_STATUSES

ROBOTS_MAXSIZE = 5 * 1024 * 1024  # far past the 500 KiB RFC 9309 asks parsers to read


def robots_request(
    origin: str, outlet: str, domain: str, callback: Callable[..., Any], errback: Callable[..., Any], **meta: Any
) -> Request:
    """The request for a domain's robots.txt: never itself subject to robots.txt, every status kept."""
    return Request(
        f"{origin}/robots.txt",
        callback=callback,
        errback=errback,
        dont_filter=True,
        meta={
            "dont_obey_robotstxt": True,
            "handle_httpstatus_list": ERROR_STATUSES,
            "download_maxsize": ROBOTS_MAXSIZE,
            "outlet": outlet,
            "domain": domain,
            **meta,
        },
    )
