"""The crawler's identity and politeness settings, failure kinds and retry backoff."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError

from crawler.config import DEFAULT_USER_AGENT, CrawlConfig, scrapy_settings
from crawler.failures import classify
from crawler.middlewares import BackoffMiddleware
from ledger.errors import ConfigError


def test_the_default_identity_is_not_scrapy_and_names_a_contact() -> None:
    assert DEFAULT_USER_AGENT.startswith("royalty-ledger-crawler/")
    assert "Scrapy" not in DEFAULT_USER_AGENT and "(+https://" in DEFAULT_USER_AGENT
    assert CrawlConfig().robots_token == "royalty-ledger-crawler"
    assert CrawlConfig(user_agent="ministry-crawler/2 (+https://gov.kz/crawler)").robots_token == "ministry-crawler"


def test_settings_are_polite_and_complete() -> None:
    settings = scrapy_settings(CrawlConfig(), "run")
    assert settings["ROBOTSTXT_OBEY"] is True
    assert settings["ROBOTSTXT_USER_AGENT"] == "royalty-ledger-crawler"
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1
    assert settings["AUTOTHROTTLE_ENABLED"] is True
    assert (settings["RETRY_TIMES"], settings["DOWNLOAD_TIMEOUT"], settings["DOWNLOAD_MAXSIZE"]) == (2, 30.0, 10485760)
    assert settings["USER_AGENT"] == DEFAULT_USER_AGENT


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"user_agent": "Scrapy/2.19 (+https://scrapy.org)"}, "--user-agent: give the crawler its own product token"),
        ({"user_agent": "  "}, "--user-agent: give the crawler its own product token"),
        ({"origin": "{domain}"}, "--origin: '{domain}' must be a URL template starting with http:// or https://"),
        ({"per_domain": 0}, "per_domain: must be at least 1, got 0"),
        ({"max_pages": 0}, "max_pages: must be at least 1, got 0"),
    ],
)
def test_bad_settings_are_config_errors(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CrawlConfig(**changes)  # type: ignore[arg-type]
    assert caught.value.message.startswith(message)


def test_origin_template() -> None:
    assert CrawlConfig().origin_url("alpha.kz") == "https://alpha.kz"
    assert CrawlConfig(origin="http://{domain}:8080/").origin_url("alpha.kz") == "http://alpha.kz:8080"


def _http_error(status: int) -> HttpError:
    request = Request("http://alpha.test/x")
    return HttpError(Response("http://alpha.test/x", status=status, request=request), "Ignoring non-200 response")


def _chained(outer: Exception, inner: Exception) -> Exception:
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (_http_error(404), "http_4xx"),
        (_http_error(503), "http_5xx"),
        (CannotResolveHostError("DNS lookup failed: no results for hostname lookup: alpha.test."), "dns"),
        (_chained(DownloadFailedError("x"), DNSLookupError("alpha.test")), "dns"),
        (DownloadTimeoutError("Getting http://alpha.test/ took longer than 1.0 seconds."), "timeout"),
        (DownloadCancelledError(""), "too_large"),
        (DownloadConnectionRefusedError("Connection was refused by other side"), "connect"),
        (DownloadFailedError("[<Failure OpenSSL.SSL.Error: [('SSL routines', '', 'wrong version number')]>]"), "tls"),
        (IgnoreRequest("Forbidden by robots.txt"), "robots"),
        (IgnoreRequest("max redirections reached"), "redirects"),
        (IgnoreRequest("Ignored response <200 x> because its body exceeded DOWNLOAD_MAXSIZE (1 B)"), "too_large"),
        (ValueError("something new"), "other"),
    ],
)
def test_failure_kinds(exc: Exception, kind: str) -> None:
    assert classify(exc)[0] == kind


def test_http_failure_detail() -> None:
    assert classify(_http_error(503)) == ("http_5xx", "HTTP 503")
    assert classify(DownloadCancelledError("")) == ("too_large", "larger than the size cap (--max-bytes)")


def test_backoff_doubles_up_to_a_cap() -> None:
    backoff = BackoffMiddleware(base=2.0, cap=10.0)
    assert [backoff.delay(n) for n in range(5)] == [0.0, 2.0, 4.0, 8.0, 10.0]
