"""What went wrong with a request, in the few words a per-outlet report needs.

Kinds: ``dns``, ``tls``, ``timeout``, ``connect`` (refused or dropped), ``http_4xx``, ``http_5xx``,
``too_large`` (over the size cap), ``robots`` (our own robots.txt group forbids it), ``redirects`` (more
than five), ``xml`` (a sitemap that is not well-formed), ``not_html``, ``other``.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_error
from twisted.python.failure import Failure

KINDS = (
    "dns",
    "tls",
    "timeout",
    "connect",
    "http_4xx",
    "http_5xx",
    "too_large",
    "robots",
    "redirects",
    "xml",
    "not_html",
    "other",
)
_TLS_WORDS = ("ssl", "tls", "certificate", "handshake")


@dataclass(frozen=True)
class CrawlFailure:
    """A request that gave nothing usable; the item spiders yield for the report."""

    outlet: str
    url: str
    stage: str  # robots | sitemap | page | registry
    kind: str
    detail: str


def _chain(exc: BaseException) -> list[BaseException]:
    found, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found.append(current)
        reasons = getattr(current, "reasons", None)  # twisted's ResponseNeverReceived and friends
        for reason in reasons or ():
            if isinstance(reason, Failure) and isinstance(reason.value, BaseException):
                found.append(reason.value)
        current = current.__cause__ or current.__context__
    return found


def classify(exc: BaseException) -> tuple[str, str]:
    """(kind, detail) of a failed request's exception."""
    if isinstance(exc, HttpError) and exc.response is not None:
        status = exc.response.status
        return (f"http_{status // 100}xx", f"HTTP {status}")
    chain = _chain(exc)
    text = " ".join(f"{type(e).__module__}.{type(e).__name__} {e}" for e in chain).lower()
    detail = str(exc) or type(exc).__name__
    if any(isinstance(e, CannotResolveHostError | twisted_error.DNSLookupError) for e in chain):
        return "dns", detail
    if any(isinstance(e, DownloadTimeoutError | twisted_error.TimeoutError) for e in chain):
        return "timeout", detail
    if isinstance(exc, DownloadCancelledError):
        return "too_large", detail if str(exc) else "larger than the size cap (--max-bytes)"
    if isinstance(exc, IgnoreRequest):
        if "maxsize" in detail.lower():
            return "too_large", detail
        if "robots.txt" in detail:
            return "robots", f"our robots.txt group forbids it ({detail})"
        if "redirect" in detail:
            return "redirects", detail
        return "other", detail
    if any(word in text for word in _TLS_WORDS):
        return "tls", detail
    if any(isinstance(e, DownloadConnectionRefusedError | twisted_error.ConnectError) for e in chain):
        return "connect", detail
    if "connectiondone" in text or "connectionlost" in text:
        return "connect", detail
    return "other", f"{type(exc).__name__}: {detail}"


def classify_failure(failure: Failure) -> tuple[str, str]:
    if failure.value is None:
        return "other", "a failure without an exception"
    return classify(failure.value)
