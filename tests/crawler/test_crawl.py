"""The crawler end to end against the fixture sites on a local server (no test touches the internet).

Every crawl here runs in this process on the reactor thread of ``crawler.reactor``, one after another.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.config import CrawlConfig
from crawler.run import crawl_robots, crawl_sitemaps, failures_table, refresh_registry
from ledger.articles import article_for_url, inventory
from ledger.errors import LedgerStoreError
from ledger.ingest import ingest_paths
from ledger.iplist_refresh import latest_ip_lists
from ledger.robots import violations
from ledger.store.db import Ledger
from tests.conftest import add_outlet
from tests.crawler.conftest import SITES
from tests.crawler.server import SiteServer

GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"
CLAUDEBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)"


def outlets(ledger: Ledger, *names: str) -> None:
    for name in names:
        add_outlet(ledger, name, f"{name}.test")


def test_robots_txt_of_every_kind(ledger: Ledger, sites: SiteServer, config: CrawlConfig) -> None:
    outlets(ledger, "alpha", "beta", "gamma", "delta", "loop")
    report = crawl_robots(ledger, None, config)
    rows = {r["domain"]: r for r in report.table().to_pylist()}
    assert {d: (r["status"], r["outcome"], r["snapshot"], r["failure"]) for d, r in rows.items()} == {
        "alpha.test": (200, "rules", "new", ""),
        "beta.test": (404, "unavailable", "new", ""),  # no robots.txt: everything allowed
        "gamma.test": (503, "unreachable", "new", ""),  # 5xx: everything disallowed
        "delta.test": (200, "rules", "new", ""),  # moved with a 301, followed
        "loop.test": (None, "unavailable", "new", "redirects: max redirections reached"),
    }
    alpha = rows["alpha.test"]
    assert alpha["content_signals"] == "Content-Signal: search=yes, ai-train=no"
    assert alpha["content_usage"] == "Content-Usage: train-ai=n"
    assert alpha["license"] == "License: http://alpha.test/license.xml"
    assert alpha["sitemaps"] == 1
    moved = ledger.rows("SELECT url, final_url FROM robots_checks WHERE host = 'delta.test'")
    assert moved == [{"url": "http://delta.test/robots.txt", "final_url": "http://delta.test/config/robots-2026.txt"}]
    body = ledger.rows("SELECT body FROM robots_snapshots WHERE host = 'delta.test'")[0]["body"]
    assert body == (SITES / "delta.test" / "config" / "robots-2026.txt").read_text()
    assert sites.paths("gamma.test") == ["/robots.txt", "/robots.txt"]  # one retry of the 503, nothing else
    assert {s.user_agent for s in sites.seen} == {config.user_agent}

    again = crawl_robots(ledger, "alpha", config)
    assert [r["snapshot"] for r in again.table().to_pylist()] == ["unchanged"]
    counts = ledger.rows(
        "SELECT (SELECT count(*) FROM robots_checks) AS checks, (SELECT count(*) FROM robots_snapshots) AS snapshots"
    )
    assert counts == [{"checks": 6, "snapshots": 5}]


def test_a_violation_is_judged_by_the_file_in_force_before_and_after_a_change(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "sites"
    shutil.copytree(SITES, root)
    outlets(ledger, "alpha")
    first_check, second_check = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 10, tzinfo=UTC)
    with SiteServer(root) as server:
        config = CrawlConfig(origin="http://{domain}", proxy=server.url, retries=0, start_delay=0.01)
        monkeypatch.setattr("crawler.spiders.robots.now", lambda: first_check)  # the crawl's clock
        crawl_robots(ledger, "alpha", config)  # GPTBot may fetch nothing but /public/
        _ingest(ledger, tmp_path, "before.log", [(GPTBOT, "/news/1", first_check + timedelta(days=1))])
        assert [(v["bot"], v["path"]) for v in violations(ledger, None).to_pylist()] == [("GPTBot", "/news/1")]

        (root / "alpha.test" / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
        monkeypatch.setattr("crawler.spiders.robots.now", lambda: second_check)
        crawl_robots(ledger, "alpha", config)  # from now on GPTBot is welcome outside /private/
    _ingest(
        ledger,
        tmp_path,
        "after.log",
        [
            (GPTBOT, "/news/2", first_check + timedelta(days=2)),  # fetched before the change, ingested after
            (GPTBOT, "/news/3", second_check + timedelta(days=1)),
            (CLAUDEBOT, "/private/4", second_check + timedelta(days=1)),
        ],
    )
    found = {(v["bot"], v["path"]): v["directive"] for v in violations(ledger, None).to_pylist()}
    assert found == {
        ("GPTBot", "/news/1"): "Disallow: /",
        ("GPTBot", "/news/2"): "Disallow: /",
        ("ClaudeBot", "/private/4"): "Disallow: /private/",
    }
    judged = ledger.rows(
        "SELECT f.path, v.verdict FROM robots_verdicts_latest v JOIN fetches f USING (upload_id, line_no) ORDER BY 1"
    )
    assert [(r["path"], r["verdict"]) for r in judged] == [
        ("/news/1", "disallowed"),
        ("/news/2", "disallowed"),
        ("/news/3", "allowed"),
        ("/private/4", "disallowed"),
    ]
    assert ledger.rows("SELECT count(*) AS n FROM robots_verdicts")[0]["n"] == 4  # nothing judged twice


def _ingest(ledger: Ledger, tmp_path: Path, name: str, rows: list[tuple[str, str, datetime]]) -> None:
    lines = [
        f'203.0.113.9 - - [{when:%d/%b/%Y:%H:%M:%S +0000}] "GET {path} HTTP/1.1" 200 10 "-" "{agent}"'
        for agent, path, when in rows
    ]
    (tmp_path / name).write_text("\n".join(lines) + "\n")
    ingest_paths(ledger, [str(tmp_path / name)], outlet="alpha")


@pytest.mark.slow
def test_sitemaps_and_pages(ledger: Ledger, sites: SiteServer, config: CrawlConfig, tmp_path: Path) -> None:
    outlets(ledger, "alpha", "beta", "gamma")
    log = tmp_path / "a.log"
    log.write_text(
        f'203.0.113.9 - - [15/Oct/2026:10:00:00 +0000] "GET /news/1/amp?utm_source=x HTTP/1.1" 200 9 "-" "{GPTBOT}"\n'
        f'203.0.113.9 - - [15/Oct/2026:10:00:01 +0000] "GET /news/404 HTTP/1.1" 404 9 "-" "{GPTBOT}"\n'
    )
    ingest_paths(ledger, [str(log)], outlet="alpha")
    report = crawl_sitemaps(ledger, None, config, pages=True)
    rows = {r["outlet"]: r for r in report.table().to_pylist()}
    assert rows["alpha"] == {
        "outlet": "alpha",
        "sitemaps": 5,  # /sitemap.xml, the index, news, the gzipped one, the broken one
        "entries": 10,
        "news_entries": 2,
        "pages": 5,  # 1, 2/, 3 (+ its canonical), 4
        "new_rows": 17,
        "fetched_urls": 2,
        "matched_urls": 1,
        "failed": 9,
        "failures": "http_4xx 3, http_5xx 2, robots 1, timeout 1, too_large 1, xml 1",
    }
    assert rows["beta"]["sitemaps"] == 1 and rows["beta"]["entries"] == 1  # /sitemap.xml without robots.txt
    assert rows["gamma"]["failures"] == "http_5xx 1"
    failures = {(f["url"], f["kind"]) for f in failures_table(report.failures).to_pylist() if f["outlet"] == "alpha"}
    assert failures == {
        ("http://alpha.test/sitemap-missing.xml", "http_4xx"),
        ("http://alpha.test/sitemap-broken.xml", "xml"),
        ("http://alpha.test/news/5", "http_4xx"),  # recovered from the broken sitemap, but not there
        ("http://alpha.test/news/gone", "http_4xx"),
        ("http://alpha.test/news/fail", "http_5xx"),
        ("http://www.alpha.test/news/old", "http_5xx"),  # a subdomain is the outlet's; this one does not answer
        ("http://alpha.test/news/slow", "timeout"),
        ("http://alpha.test/news/big", "too_large"),
        ("http://alpha.test/news/secret", "robots"),
    }
    asked = sites.paths("alpha.test")
    assert "/news/secret" not in asked and not sites.paths("elsewhere.test")  # robots obeyed, other sites left
    assert sites.paths("gamma.test") == ["/robots.txt", "/robots.txt"]  # 503: keep out

    found = article_for_url(ledger, "https://www.alpha.test/news/1/amp?utm_source=chatgpt.com")
    assert found is not None
    assert (found.words, found.language, found.title) == (21, "kk", "Бюджет 2027 жылға бекітілді")
    assert str(found.published_at) == "2026-10-15 04:30:00+00:00"
    canonical = article_for_url(ledger, "https://alpha.test/news/3-third-story")
    assert canonical is not None and canonical.words == 10
    assert len(inventory(ledger, "alpha")) == 12  # www. and AMP variants fold into one article

    again = crawl_sitemaps(ledger, "alpha", config, pages=True)
    assert sites.paths("alpha.test").count("/news/1") == 1  # fetched pages are not fetched again
    assert again.table().to_pylist()[0]["new_rows"] == 0


def test_a_gzipped_sitemap_is_unpacked_within_the_size_cap(
    ledger: Ledger, sites: SiteServer, config: CrawlConfig
) -> None:
    outlets(ledger, "bomb")
    report = crawl_sitemaps(ledger, "bomb", config)
    [failure] = [f for f in report.failures if f.url == "http://bomb.test/huge.xml.gz"]
    assert (failure.stage, failure.kind) == ("sitemap", "too_large")
    assert failure.detail.startswith("cannot gunzip: ")
    assert ledger.rows("SELECT count(*) AS n FROM articles")[0]["n"] == 0


def test_ip_lists_refresh_through_the_crawler(ledger: Ledger, sites: SiteServer, config: CrawlConfig) -> None:
    sources = {
        "openai-gptbot": "http://lists.test/gptbot.json",
        "openai-searchbot": "http://lists.test/searchbot.json",
        "openai-chatgpt-user": "http://lists.test/chatgpt-user.json",
        "anthropic": "http://lists.test/missing.json",
    }
    report = refresh_registry(ledger, config, only=[*sources, "meta"], sources=sources)
    outcomes = {r["list_id"]: (r["outcome"], r["after"]) for r in report.table().to_pylist()}
    assert outcomes == {
        "openai-gptbot": ("refreshed", 22),
        "openai-searchbot": ("failed", None),
        "openai-chatgpt-user": ("rejected", 1),
        "anthropic": ("failed", None),
        "meta": ("skipped", None),
    }
    current = latest_ip_lists(ledger)
    assert current is not None and "203.0.113.0/24" in current.lists["openai-gptbot"].cidrs
    assert [f.kind for f in report.failures] == ["http_4xx"]


def test_tls_failures_are_reported_and_robots_is_then_unreachable(ledger: Ledger, sites: SiteServer) -> None:
    outlets(ledger, "alpha")
    host = sites.url.removeprefix("http://")
    config = CrawlConfig(origin=f"https://{host}", retries=0, timeout=2.0, start_delay=0.01)  # TLS to plain HTTP
    report = crawl_robots(ledger, "alpha", config)
    [row] = report.table().to_pylist()
    assert (row["outcome"], row["failure"].split(":")[0]) == ("unreachable", "tls")
    assert [f.kind for f in report.failures] == ["tls"]


def test_a_ledger_error_in_a_pipeline_stops_the_crawl_and_is_raised(
    ledger: Ledger, sites: SiteServer, config: CrawlConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    outlets(ledger, "alpha", "beta")

    def refuse(*_: object) -> None:
        raise LedgerStoreError("ledger.duckdb: cannot open or write the ledger (disk full)")

    monkeypatch.setattr("crawler.pipelines.record_check", refuse)
    with pytest.raises(LedgerStoreError, match="disk full"):
        crawl_robots(ledger, None, config)
    assert ledger.rows("SELECT count(*) AS n FROM robots_checks")[0]["n"] == 0


def test_a_crawl_that_cannot_start_raises_instead_of_hanging() -> None:
    from scrapy import Spider

    from crawler.reactor import run_spider

    class Broken(Spider):
        name = "broken"

        def __init__(self, **kwargs: object) -> None:
            raise ValueError("spider arguments refused")

    with pytest.raises(ValueError, match="spider arguments refused"):
        run_spider(Broken, {"TELNETCONSOLE_ENABLED": False, "LOG_ENABLED": False})
