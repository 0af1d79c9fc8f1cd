"""How the crawler behaves: its identity, politeness and limits, turned into scrapy settings.

The User-Agent carries its own product token (``royalty-ledger-crawler``, never ``Scrapy`` alone, which
ai-robots-txt lists as an AI crawler) and a URL saying who crawls and why. Politeness: robots.txt obeyed,
one request at a time per domain, AutoThrottle, retries with exponential backoff, timeouts and a cap on
response size.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ledger import __version__
from ledger.errors import ConfigError

ROBOTS_TOKEN = "royalty-ledger-crawler"
CONTACT_URL = "https://github.com/royalty-ledger/royalty-ledger/blob/main/docs/crawler.md"
DEFAULT_USER_AGENT = f"{ROBOTS_TOKEN}/{__version__} (+{CONTACT_URL})"
ERROR_STATUSES = tuple(range(400, 600))  # let 4xx/5xx reach the callback where the status is the answer


@dataclass(frozen=True)
class CrawlConfig:
    user_agent: str = DEFAULT_USER_AGENT
    origin: str = "https://{domain}"  # where a domain's pages are fetched from
    proxy: str | None = None  # an HTTP proxy for every request
    per_domain: int = 1  # concurrent requests per domain
    concurrency: int = 8  # concurrent requests in all
    timeout: float = 30.0  # seconds per request
    max_bytes: int = 10 * 1024 * 1024  # responses larger than this are dropped (sitemaps: decompressed too)
    retries: int = 2  # after the first try, for 5xx/429/408 and network errors
    backoff: float = 2.0  # seconds before the first retry; doubles each time
    backoff_max: float = 60.0
    autothrottle: bool = True
    start_delay: float = 1.0  # AutoThrottle's first delay between requests to one domain
    max_delay: float = 30.0
    max_pages: int = 200  # article pages per outlet and run (newest first)
    max_depth: int = 3  # sitemap index nesting followed

    def __post_init__(self) -> None:
        if not self.origin.startswith(("http://", "https://")):
            raise ConfigError(
                f"'{self.origin}' must be a URL template starting with http:// or https://, e.g. https://{{domain}}",
                key="--origin",
            )
        if not self.user_agent.strip() or self.user_agent.strip().lower().startswith("scrapy"):
            raise ConfigError(
                "give the crawler its own product token and a contact URL, e.g. "
                f"'{DEFAULT_USER_AGENT}' ('Scrapy' alone is listed as an AI crawler)",
                key="--user-agent",
            )
        for name in ("per_domain", "concurrency", "max_pages", "max_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"must be at least 1, got {getattr(self, name)}", key=name)

    def with_(self, **changes: Any) -> CrawlConfig:
        return replace(self, **changes)

    def origin_url(self, domain: str) -> str:
        """The base URL of a domain, without a trailing slash."""
        return self.origin.replace("{domain}", domain).rstrip("/")

    @property
    def robots_token(self) -> str:
        """The product token our own robots.txt group is looked up by."""
        return self.user_agent.split("/", 1)[0].split()[0]


def scrapy_settings(config: CrawlConfig, run_id: str) -> dict[str, Any]:
    """Complete scrapy settings for one run; nothing is read from a project directory."""
    return {
        "BOT_NAME": ROBOTS_TOKEN,
        "USER_AGENT": config.user_agent,
        "ROBOTSTXT_OBEY": True,
        "ROBOTSTXT_USER_AGENT": config.robots_token,
        "CONCURRENT_REQUESTS": config.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": config.per_domain,
        "DOWNLOAD_DELAY": 0 if config.autothrottle else config.start_delay,
        "AUTOTHROTTLE_ENABLED": config.autothrottle,
        "AUTOTHROTTLE_START_DELAY": config.start_delay,
        "AUTOTHROTTLE_MAX_DELAY": config.max_delay,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(config.per_domain),
        "DOWNLOAD_TIMEOUT": config.timeout,
        "DNS_TIMEOUT": config.timeout,
        "DOWNLOAD_MAXSIZE": config.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": config.retries > 0,
        "RETRY_TIMES": config.retries,
        "RETRY_GIVE_UP_LOG_LEVEL": "INFO",  # failures are reported per outlet, not logged
        "REDIRECT_MAX_TIMES": 5,  # RFC 9309 2.3.1.2: follow at least five redirects
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
        "LOG_ENABLED": False,
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.BackoffMiddleware": 560,
            "crawler.middlewares.ProxyMiddleware": 740,
        },
        "ITEM_PIPELINES": {
            "crawler.pipelines.FailuresPipeline": 100,
            "crawler.pipelines.RobotsPipeline": 200,
            "crawler.pipelines.ArticlesPipeline": 300,
            "crawler.pipelines.IpListsPipeline": 400,
        },
        "ROYALTY_RUN": run_id,
        "ROYALTY_BACKOFF": config.backoff,
        "ROYALTY_BACKOFF_MAX": config.backoff_max,
        "ROYALTY_PROXY": config.proxy,
    }
