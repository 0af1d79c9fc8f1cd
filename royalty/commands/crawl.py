"""`royalty crawl ...`: robots.txt, sitemaps and the operators' IP lists, fetched by a polite scrapy crawler."""

from __future__ import annotations

from typing import Annotated

import typer

from crawler.config import DEFAULT_USER_AGENT, CrawlConfig
from ledger.errors import ConfigError
from ledger.iplist_refresh import DEFAULT_MAX_SHRINK
from royalty.commands.common import FormatOpt, OutputOpt, open_ledger
from royalty.output import choose, emit, err

app = typer.Typer(help="Fetch robots.txt, sitemaps and operators' IP lists (a polite crawler).", no_args_is_help=True)

OutletOpt = Annotated[str | None, typer.Option("--outlet", help="One outlet's domains (its slug).")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every outlet's domains.")]
UserAgentOpt = Annotated[
    str,
    typer.Option(
        "--user-agent",
        envvar="ROYALTY_CRAWLER_UA",
        help="The crawler's User-Agent: its own product token and a URL saying who crawls and why.",
    ),
]
OriginOpt = Annotated[
    str, typer.Option("--origin", help="Where a domain is fetched from; {domain} is replaced by each domain.")
]
ProxyOpt = Annotated[
    str | None,
    typer.Option("--proxy", envvar="ROYALTY_CRAWLER_PROXY", help="Send every request through this HTTP proxy."),
]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per request.")]
RetriesOpt = Annotated[int, typer.Option("--retries", min=0, help="Retries of 5xx/429/408 and network errors.")]
DelayOpt = Annotated[float, typer.Option("--delay", min=0.0, help="First delay between requests to a domain (s).")]


def _config(
    user_agent: str, origin: str, proxy: str | None, timeout: float, retries: int, delay: float, max_pages: int = 200
) -> CrawlConfig:
    return CrawlConfig(
        user_agent=user_agent,
        origin=origin,
        proxy=proxy,
        timeout=timeout,
        retries=retries,
        start_delay=delay,
        max_pages=max_pages,
    )


def _which(outlet: str | None, every: bool) -> str | None:
    if (outlet is None) == (not every):
        raise ConfigError("name one outlet with --outlet SLUG, or every outlet with --all (not both)", key="--outlet")
    return outlet


@app.command("robots")
def robots(
    ctx: typer.Context,
    outlet: OutletOpt = None,
    every: AllOpt = False,
    user_agent: UserAgentOpt = DEFAULT_USER_AGENT,
    origin: OriginOpt = "https://{domain}",
    proxy: ProxyOpt = None,
    timeout: TimeoutOpt = 30.0,
    retries: RetriesOpt = 2,
    delay: DelayOpt = 1.0,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Check robots.txt of the outlets' domains, store what changed, and judge AI fetches against it.

    One row per domain: HTTP status, outcome (rules | unavailable: 4xx, allow all | unreachable: 5xx or no
    answer, disallow all), whether the file changed, its Content-Usage/Content-Signal/License lines and
    what failed. Every AI fetch then gets its verdict against the file in force at its time.

    Example: royalty crawl robots --all
    """
    from crawler.run import crawl_robots  # scrapy loads only when a crawl runs

    config = _config(user_agent, origin, proxy, timeout, retries, delay)
    with open_ledger(ctx) as ledger:
        report = crawl_robots(ledger, _which(outlet, every), config)
    emit(report.table(), choose(fmt, output), output, title="robots.txt")
    new = sum(c.new_snapshot for c in report.checks)
    err.print(
        f"checked {len(report.checks)} domains: {new} new snapshots, {len(report.failures)} failed;"
        f" {report.verdicts_added} robots verdicts added"
    )


@app.command("sitemaps")
def sitemaps(
    ctx: typer.Context,
    outlet: OutletOpt = None,
    every: AllOpt = False,
    pages: Annotated[bool, typer.Option("--pages", help="Also fetch the newest article pages.")] = False,
    max_pages: Annotated[int, typer.Option("--max-pages", min=1, help="Pages per outlet with --pages.")] = 200,
    refetch: Annotated[bool, typer.Option("--refetch", help="Fetch pages fetched before, too.")] = False,
    failures: Annotated[bool, typer.Option("--failures", help="List every failure instead of the summary.")] = False,
    user_agent: UserAgentOpt = DEFAULT_USER_AGENT,
    origin: OriginOpt = "https://{domain}",
    proxy: ProxyOpt = None,
    timeout: TimeoutOpt = 30.0,
    retries: RetriesOpt = 2,
    delay: DelayOpt = 1.0,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Read the outlets' sitemaps (and with --pages their newest articles) into the article inventory.

    One row per outlet: sitemaps read, entries, Google News entries, pages, new rows, how many of the URLs
    AI crawlers fetched match an article, and the failures by kind (dns, tls, timeout, http_4xx, ...).

    Example: royalty crawl sitemaps --outlet tengrinews --pages --max-pages 50
    """
    from crawler.run import crawl_sitemaps, failures_table

    config = _config(user_agent, origin, proxy, timeout, retries, delay, max_pages=max_pages)
    with open_ledger(ctx) as ledger:
        report = crawl_sitemaps(ledger, _which(outlet, every), config, pages=pages, refetch=refetch)
    table = failures_table(report.failures) if failures else report.table()
    emit(table, choose(fmt, output), output, title="crawl failures" if failures else "sitemaps")
    err.print(f"{sum(report.stored.values())} new article rows; {len(report.failures)} requests failed")


@app.command("registry")
def registry(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Accept lists that shrank past --max-shrink.")] = False,
    lists: Annotated[list[str] | None, typer.Option("--list", help="Only this list id; repeat for several.")] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="LIST_ID=URL: fetch a list from another URL (a mirror).")
    ] = None,
    max_shrink: Annotated[
        float, typer.Option("--max-shrink", help="Largest share of addresses a list may lose without --force.")
    ] = DEFAULT_MAX_SHRINK,
    user_agent: UserAgentOpt = DEFAULT_USER_AGENT,
    proxy: ProxyOpt = None,
    timeout: TimeoutOpt = 30.0,
    retries: RetriesOpt = 2,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Refresh the operators' published IP lists, validate them and store a new registry version.

    One row per list: refreshed, unchanged, rejected (shrank past --max-shrink), failed or skipped (no
    machine-readable list). Old versions stay, so each upload's verdicts remain explainable.

    Example: royalty crawl registry --list openai-gptbot --list anthropic
    """
    from crawler.run import refresh_registry

    config = CrawlConfig(user_agent=user_agent, proxy=proxy, timeout=timeout, retries=retries)
    sources = dict(_pair(item) for item in source or [])
    with open_ledger(ctx) as ledger:
        report = refresh_registry(ledger, config, only=lists or (), sources=sources, force=force, max_shrink=max_shrink)
    emit(report.table(), choose(fmt, output), output, title="IP lists")
    result = report.result
    stored = f"stored IP list version {result.seq} ({result.version})" if result.seq else "no new IP list version"
    err.print(stored)


def _pair(text: str) -> tuple[str, str]:
    list_id, sep, url = text.partition("=")
    if not sep or not list_id.strip() or not url.strip():
        raise ConfigError(f"'{text}' is not LIST_ID=URL", key="--source")
    return list_id.strip(), url.strip()
