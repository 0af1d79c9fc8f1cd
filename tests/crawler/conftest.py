"""Fixtures for crawler tests: the fixture sites on a local server, and a fast, polite test configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crawler.config import CrawlConfig
from tests.conftest import DATA
from tests.crawler.server import SiteServer

SITES = DATA / "sites"


@pytest.fixture
def sites() -> Iterator[SiteServer]:
    with SiteServer(SITES) as server:
        yield server


@pytest.fixture
def config(sites: SiteServer) -> CrawlConfig:
    """Real host names through the local server as a proxy; short timeouts and delays for the tests."""
    return CrawlConfig(
        origin="http://{domain}",
        proxy=sites.url,
        timeout=1.0,
        retries=1,
        backoff=0.05,
        start_delay=0.01,
        max_delay=0.2,
        max_bytes=100_000,
    )
