"""The crawl, robots and verify commands through the CLI (in-process), against the local fixture sites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.errors import EXIT_CONFIG, EXIT_NOT_FOUND
from ledger.rdns import DnsLookupError
from tests.crawler.server import SiteServer

GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def crawl_cli(cli, sites: SiteServer):  # type: ignore[no-untyped-def]
    """The CLI with alpha and beta registered; ``crawl(...)`` adds the options that reach the fixture sites."""
    for slug in ("alpha", "beta"):
        assert cli("outlets", "add", slug, "--name", slug.title(), "--domain", f"{slug}.test").code == 0
    fast = ["--origin", "http://{domain}", "--proxy", sites.url, "--retries", "0", "--delay", "0.01", "--timeout", "2"]

    def crawl(command: str, *args: str):  # type: ignore[no-untyped-def]
        extra = [
            a for a in fast if command != "registry" or a not in ("--origin", "http://{domain}", "--delay", "0.01")
        ]
        return cli("crawl", command, *args, *extra)

    crawl.cli = cli  # type: ignore[attr-defined]
    return crawl


def test_crawl_robots_then_violations_and_show(crawl_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli = crawl_cli.cli
    result = crawl_cli("robots", "--all", "--format", "json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [(r["domain"], r["status"], r["outcome"], r["snapshot"]) for r in rows] == [
        ("alpha.test", 200, "rules", "new"),
        ("beta.test", 404, "unavailable", "new"),
    ]
    assert "checked 2 domains: 2 new snapshots, 0 failed; 0 robots verdicts added" in result.err

    log = tmp_path / "a.log"
    log.write_text(f'203.0.113.9 - - [01/Jan/2030:10:00:00 +0000] "GET /news/1 HTTP/1.1" 200 9 "-" "{GPTBOT}"\n')
    assert cli("ingest", str(log), "--outlet", "alpha").code == 0
    found = cli("robots", "violations", "--format", "json")
    assert found.code == 0, found.err
    assert [(r["operator"], r["bot"], r["path"], r["directive"], r["fetches"]) for r in json.loads(found.out)] == [
        ("OpenAI", "GPTBot", "/news/1", "Disallow: /", 1)
    ]
    assert json.loads(cli("robots", "violations", "--period", "2029-12", "--format", "json").out) == []

    shown = json.loads(cli("robots", "show", "--outlet", "alpha", "--format", "json").out)
    assert [(s["host"], s["outcome"], s["content_signals"], s["license"]) for s in shown] == [
        ("alpha.test", "rules", "Content-Signal: search=yes, ai-train=no", "License: http://alpha.test/license.xml")
    ]
    table = cli("robots", "show")
    assert table.code == 0 and "alpha.test" in table.out and "beta.test" in table.out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((), EXIT_CONFIG, "name one outlet with --outlet SLUG, or every outlet with --all (not both)"),
        (("--all", "--outlet", "alpha"), EXIT_CONFIG, "name one outlet with --outlet SLUG"),
        (("--outlet", "gamma"), EXIT_NOT_FOUND, "unknown outlet 'gamma'"),
        (("--all", "--user-agent", "Scrapy/2.19"), EXIT_CONFIG, "give the crawler its own product token"),
    ],
)
def test_crawl_robots_input_errors(crawl_cli, args: tuple[str, ...], code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    result = crawl_cli("robots", *args)
    assert result.code == code and message in result.err
    assert "Traceback" not in result.err


def test_crawl_sitemaps_summary_and_failures(crawl_cli) -> None:  # type: ignore[no-untyped-def]
    summary = crawl_cli("sitemaps", "--outlet", "beta", "--format", "json")
    assert summary.code == 0, summary.err
    [row] = json.loads(summary.out)
    assert (row["outlet"], row["sitemaps"], row["entries"], row["new_rows"], row["failed"]) == ("beta", 1, 1, 1, 0)
    listed = crawl_cli("sitemaps", "--outlet", "beta", "--pages", "--failures", "--format", "json")
    assert listed.code == 0, listed.err
    assert json.loads(listed.out) == [
        {"outlet": "beta", "stage": "page", "kind": "http_4xx", "url": "http://beta.test/a", "detail": "HTTP 404"}
    ]


def test_crawl_registry(crawl_cli) -> None:  # type: ignore[no-untyped-def]
    source = "openai-gptbot=http://lists.test/gptbot.json"
    result = crawl_cli("registry", "--list", "openai-gptbot", "--source", source, "--format", "json")
    assert result.code == 0, result.err
    assert [(r["list_id"], r["outcome"], r["after"]) for r in json.loads(result.out)] == [
        ("openai-gptbot", "refreshed", 22)
    ]
    assert "stored IP list version 1 (" in result.err
    again = crawl_cli("registry", "--list", "openai-gptbot", "--source", source, "--format", "json")
    assert json.loads(again.out)[0]["outcome"] == "unchanged" and "no new IP list version" in again.err
    bad = crawl_cli("registry", "--source", "openai-gptbot")
    assert (bad.code, bad.err.strip()) == (EXIT_CONFIG, "error: --source: 'openai-gptbot' is not LIST_ID=URL")
    unknown = crawl_cli("registry", "--list", "openai")
    assert unknown.code == EXIT_NOT_FOUND and "unknown IP list 'openai'" in unknown.err


def test_verify_rdns(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def reverse(self: object, ip: str) -> list[str]:
        if ip == "198.51.100.9":
            raise DnsLookupError("reverse lookup of 198.51.100.9 failed: timed out")
        return {"198.51.100.1": ["crawl-198-51-100-1.googlebot.com"]}.get(ip, [])

    monkeypatch.setattr("ledger.rdns.SocketResolver.reverse", reverse)
    monkeypatch.setattr("ledger.rdns.SocketResolver.forward", lambda self, name: ["198.51.100.1"])
    assert cli("outlets", "add", "alpha", "--name", "Alpha", "--domain", "alpha.test").code == 0
    log = tmp_path / "g.log"
    log.write_text(
        "".join(
            f'{ip} - - [15/Oct/2026:10:00:0{n} +0000] "GET /n/{n} HTTP/1.1" 200 9 "-" "{GOOGLEBOT}"\n'
            for n, ip in enumerate(["198.51.100.1", "198.51.100.2", "198.51.100.9"])
        )
    )
    assert cli("ingest", str(log), "--outlet", "alpha").code == 0
    result = cli("verify", "--rdns", "--period", "2026-10", "--format", "json")
    assert result.code == 0, result.err
    rows = {(r["ingest_verdict"], r["rdns_verdict"]): r["fetches"] for r in json.loads(result.out)}
    assert rows == {("spoofed", "verified"): 1, ("spoofed", "spoofed"): 1, ("spoofed", "error"): 1}
    assert "checked 3 claims from 3 addresses (3 looked up, the rest cached)" in result.err
    assert "claims the IP lists called spoofed that rDNS verified: 1" in result.err
    missing = cli("verify")
    assert (missing.code, missing.err.strip()) == (
        EXIT_CONFIG,
        "error: verify: name the check to run; the one there is: --rdns",
    )
