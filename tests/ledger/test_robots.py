"""robots.txt snapshots, checks and verdicts on a real DuckDB file, with logs ingested by the real ingest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import ConfigError, NotFoundError
from ledger.ingest import ingest_paths
from ledger.period import Period
from ledger.robots import (
    RobotsFetch,
    Snapshot,
    compute_verdicts,
    judge,
    outcome_of,
    record_check,
    robots_extras,
    robots_targets,
    snapshots,
    verdict_counts,
    violations,
)
from ledger.store.db import Ledger
from tests.conftest import add_outlet

GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"
CLAUDEBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CLOUDVERTEX = "Google-CloudVertexBot"

ROBOTS = """\
# a news site's robots.txt
User-agent: *
Disallow: /private/
Allow: /private/press$
Disallow: /*.pdf$

User-agent: GPTBot
User-agent: CCBot
Disallow: /
Allow: /public/

User-agent: CloudVertexBot
Disallow: /archive/
"""


def t(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def log_line(agent: str, path: str, when: datetime, ip: str = "203.0.113.9", host: str | None = None) -> str:
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    text = f'{ip} - - [{stamp}] "GET {path} HTTP/1.1" 200 1000 "-" "{agent}"'
    return f"{host} {text}" if host else text


def ingest(ledger: Ledger, tmp_path: Path, name: str, lines: list[str], outlet: str | None = "alpha") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    [result] = ingest_paths(ledger, [str(path)], outlet=outlet)
    return result.upload_id


def check(ledger: Ledger, when: datetime, body: str | None, status: int | None = 200, host: str = "alpha.kz",
          error_kind: str | None = None) -> str:  # fmt: skip
    fetch = RobotsFetch(
        outlet="alpha",
        host=host,
        url=f"https://{host}/robots.txt",
        checked_at=when,
        status=status,
        body=body.encode() if body is not None else None,
        error_kind=error_kind,
    )
    return record_check(ledger, fetch).snapshot_id


def latest(ledger: Ledger, upload_id: str) -> dict[str, tuple[str, str | None]]:
    rows = ledger.rows(
        "SELECT f.path, v.verdict, v.directive FROM robots_verdicts_latest v JOIN fetches f"
        " USING (upload_id, line_no) WHERE f.upload_id = ? ORDER BY f.line_no",
        [upload_id],
    )
    return {r["path"]: (r["verdict"], r["directive"]) for r in rows}


@pytest.mark.parametrize(
    ("status", "error_kind", "outcome"),
    [
        (200, None, "rules"),
        (204, None, "rules"),
        (404, None, "unavailable"),
        (403, None, "unavailable"),
        (410, None, "unavailable"),
        (500, None, "unreachable"),
        (503, None, "unreachable"),
        (None, "dns", "unreachable"),
        (None, "timeout", "unreachable"),
    ],
)
def test_outcome_follows_rfc_9309(status: int | None, error_kind: str | None, outcome: str) -> None:
    assert outcome_of(status, error_kind) == outcome


def test_extras_keep_content_usage_signals_license_and_sitemaps_as_written() -> None:
    text = (
        "User-agent: *\n"
        "Content-Signal: search=yes, ai-train=no   # Cloudflare's form\n"
        "content-usage: train-ai=n\n"
        "Content-Usage: /blog/ train-ai=y\n"
        "License: https://alpha.kz/license.xml\n"
        "Sitemap: https://alpha.kz/sitemap.xml\n"
        "Allow: /\n"
        "Content-Usage:\n"
    )
    extras = robots_extras(text)
    assert extras.content_signals == ("Content-Signal: search=yes, ai-train=no",)
    assert extras.content_usage == ("content-usage: train-ai=n", "Content-Usage: /blog/ train-ai=y")
    assert extras.licenses == ("License: https://alpha.kz/license.xml",)
    assert extras.sitemaps == ("https://alpha.kz/sitemap.xml",)


RULES = Snapshot("rules", ROBOTS)


@pytest.mark.parametrize(
    ("tokens", "path", "verdict", "group", "directive"),
    [
        (("GPTBot",), "/news/1", "disallowed", "gptbot", "Disallow: /"),
        (("GPTBot",), "/public/a?x=1", "allowed", "gptbot", "Allow: /public/"),
        (("CCBot",), "/", "disallowed", "ccbot", "Disallow: /"),
        (("ClaudeBot",), "/news/1", "allowed", "*", None),  # '*' fallback, no rule matches
        (("ClaudeBot",), "/private/x", "disallowed", "*", "Disallow: /private/"),
        (("ClaudeBot",), "/private/press", "allowed", "*", "Allow: /private/press$"),  # longer Allow wins
        (("ClaudeBot",), "/private/press/2", "disallowed", "*", "Disallow: /private/"),  # '$' ends the match
        (("ClaudeBot",), "/files/a.pdf", "disallowed", "*", "Disallow: /*.pdf$"),  # wildcard and '$'
        (("ClaudeBot",), "/files/a.pdf?download=1", "allowed", "*", None),
        (
            ("Google-CloudVertexBot", "CloudVertexBot"),
            "/archive/1",
            "disallowed",
            "cloudvertexbot",
            "Disallow: /archive/",
        ),
        (("Google-CloudVertexBot", "CloudVertexBot"), "/private/x", "allowed", "cloudvertexbot", None),
        ((), "/private/x", "disallowed", "*", "Disallow: /private/"),  # undeclared AI traffic: '*' only
        (("GPTBot",), None, "disallowed", "gptbot", "Disallow: /"),
    ],
)
def test_judge_rules(
    tokens: tuple[str, ...], path: str | None, verdict: str, group: str | None, directive: str | None
) -> None:
    found = judge(RULES, tokens, path)
    assert (found.verdict, found.group, found.directive) == (verdict, group, directive)


def test_judge_without_a_star_group_allows_unnamed_bots() -> None:
    only = Snapshot("rules", "User-agent: GPTBot\nDisallow: /\n")
    assert judge(only, ("ClaudeBot",), "/x").verdict == "allowed"
    assert judge(Snapshot("rules", ""), ("GPTBot",), "/x").verdict == "allowed"


@pytest.mark.parametrize(
    ("snapshot", "verdict", "directive"),
    [
        (Snapshot("unavailable", status=404), "allowed", "robots.txt unavailable (HTTP 404): allow all"),
        (Snapshot("unreachable", status=503), "disallowed", "robots.txt unreachable (HTTP 503): disallow all"),
        (Snapshot("unreachable", error_kind="dns"), "disallowed", "robots.txt unreachable (dns): disallow all"),
    ],
)
def test_judge_missing_files(snapshot: Snapshot, verdict: str, directive: str) -> None:
    found = judge(snapshot, ("GPTBot",), "/news/1")
    assert (found.verdict, found.group, found.directive) == (verdict, None, directive)


def test_a_new_snapshot_only_when_the_file_changes_but_every_check_is_kept(ledger: Ledger) -> None:
    add_outlet(ledger, "alpha", "alpha.kz")
    first = check(ledger, t(1), ROBOTS)
    assert check(ledger, t(2), ROBOTS) == first
    second = check(ledger, t(3), "User-agent: *\nDisallow:\n")
    back = check(ledger, t(4), ROBOTS)  # back to the first text: a new state in the history
    gone = check(ledger, t(5), None, status=404)
    assert check(ledger, t(6), None, status=410) == gone  # both 'unavailable'
    down = check(ledger, t(7), None, status=None, error_kind="timeout")
    assert len({first, second, back, gone, down}) == 5
    assert ledger.rows("SELECT count(*) AS n FROM robots_checks")[0]["n"] == 7
    rows = ledger.rows("SELECT snapshot_id, outcome, body FROM robots_snapshots ORDER BY first_seen")
    assert [r["outcome"] for r in rows] == ["rules", "rules", "rules", "unavailable", "unreachable"]
    assert rows[0]["body"] == ROBOTS and rows[3]["body"] is None


def test_verdicts_follow_the_snapshot_in_force_before_and_after_a_change(ledger: Ledger, tmp_path: Path) -> None:
    add_outlet(ledger, "alpha", "alpha.kz")
    old = check(ledger, t(1), ROBOTS)  # GPTBot may not fetch anything but /public/
    first = ingest(
        ledger,
        tmp_path,
        "early.log",
        [
            log_line(GPTBOT, "/news/1", t(2)),
            log_line(GPTBOT, "/public/2", t(3)),
            log_line(CLAUDEBOT, "/private/3", t(4)),
        ],
    )
    assert compute_verdicts(ledger) == 0  # ingest judged its AI fetches against the snapshot in force
    expected_first = {
        "/news/1": ("disallowed", "Disallow: /"),
        "/public/2": ("allowed", "Allow: /public/"),
        "/private/3": ("disallowed", "Disallow: /private/"),
    }
    assert latest(ledger, first) == expected_first

    new = check(ledger, t(10), "User-agent: *\nDisallow: /private/\n")  # GPTBot welcome from the 10th
    second = ingest(
        ledger,
        tmp_path,
        "late.log",
        [
            log_line(GPTBOT, "/news/4", t(11)),
            log_line(GPTBOT, "/news/5", t(12)),
            log_line(CLAUDEBOT, "/private/6", t(13)),
        ],
    )
    assert compute_verdicts(ledger) == 0  # judged at ingest; the old fetches keep their snapshot
    assert latest(ledger, first) == expected_first
    assert latest(ledger, second) == {
        "/news/4": ("allowed", None),
        "/news/5": ("allowed", None),
        "/private/6": ("disallowed", "Disallow: /private/"),
    }
    used = ledger.rows("SELECT upload_id, any_value(snapshot_id) AS s FROM robots_verdicts GROUP BY ALL")
    assert {r["upload_id"]: r["s"] for r in used} == {first: old, second: new}
    assert compute_verdicts(ledger) == 0


def test_ingest_judges_the_fetches_it_wrote_not_the_whole_ledger(ledger: Ledger, tmp_path: Path) -> None:
    # Nothing an ingest does changes an older fetch's snapshot in force: judging them all again would make
    # every ingest cost the whole ledger. Older fetches left without a verdict (a crawl stopped before it
    # judged them) wait for the next full pass: a robots check, or a report that refreshes the verdicts.
    add_outlet(ledger, "alpha", "alpha.kz")
    check(ledger, t(1), ROBOTS)
    first = ingest(ledger, tmp_path, "a.log", [log_line(GPTBOT, "/news/1", t(2))])
    ledger.execute("DELETE FROM robots_verdicts")  # as if the crawl had stopped before judging it
    second = ingest(ledger, tmp_path, "b.log", [log_line(GPTBOT, "/news/2", t(3))])
    assert latest(ledger, second) == {"/news/2": ("disallowed", "Disallow: /")}
    assert latest(ledger, first) == {}
    assert compute_verdicts(ledger) == 1  # the full pass
    assert latest(ledger, first) == {"/news/1": ("disallowed", "Disallow: /")}


def test_fetches_before_any_check_have_no_snapshot(ledger: Ledger, tmp_path: Path) -> None:
    add_outlet(ledger, "alpha", "alpha.kz")
    upload = ingest(ledger, tmp_path, "a.log", [log_line(GPTBOT, "/news/1", t(1)), log_line(GPTBOT, "/x", t(9))])
    check(ledger, t(5), ROBOTS)
    compute_verdicts(ledger)
    assert latest(ledger, upload) == {"/news/1": ("no_snapshot", None), "/x": ("disallowed", "Disallow: /")}
    counts = verdict_counts(ledger, None).to_pylist()
    assert counts == [
        {"outlet": "alpha", "verdict": "disallowed", "fetches": 1},
        {"outlet": "alpha", "verdict": "no_snapshot", "fetches": 1},
    ]


def test_recomputing_after_an_earlier_snapshot_adds_rows_and_keeps_history(ledger: Ledger, tmp_path: Path) -> None:
    add_outlet(ledger, "alpha", "alpha.kz")
    upload = ingest(ledger, tmp_path, "a.log", [log_line(GPTBOT, "/news/1", t(5))])
    first_run = t(20)
    compute_verdicts(ledger, at=first_run)
    assert latest(ledger, upload) == {"/news/1": ("no_snapshot", None)}
    check(ledger, t(1), ROBOTS)  # a check from before the fetch turns up (e.g. imported later)
    assert compute_verdicts(ledger, at=first_run + timedelta(days=1)) == 1
    assert latest(ledger, upload) == {"/news/1": ("disallowed", "Disallow: /")}
    history = ledger.rows("SELECT verdict FROM robots_verdicts ORDER BY computed_at")
    assert [r["verdict"] for r in history] == ["no_snapshot", "disallowed"]


def test_hosts_map_to_outlet_domains_and_their_own_snapshot(ledger: Ledger, tmp_path: Path) -> None:
    add_outlet(ledger, "alpha", "alpha.kz", "alpha-news.com")
    check(ledger, t(1), "User-agent: *\nDisallow: /kz-only/\n", host="alpha.kz")
    check(ledger, t(1), "User-agent: *\nDisallow: /com-only/\n", host="alpha-news.com")
    upload = ingest(
        ledger,
        tmp_path,
        "vhosts.log",
        [
            log_line(CLAUDEBOT, "/kz-only/1", t(2), host="www.alpha.kz"),
            log_line(CLAUDEBOT, "/com-only/1", t(2), host="alpha-news.com"),
            log_line(CLAUDEBOT, "/kz-only/2", t(2), host="alpha-news.com"),
        ],
        outlet=None,
    )
    compute_verdicts(ledger)
    assert latest(ledger, upload) == {
        "/kz-only/1": ("disallowed", "Disallow: /kz-only/"),
        "/com-only/1": ("disallowed", "Disallow: /com-only/"),
        "/kz-only/2": ("allowed", None),
    }


def test_violations_and_snapshots_tables(ledger: Ledger, tmp_path: Path) -> None:
    add_outlet(ledger, "alpha", "alpha.kz")
    check(ledger, t(1), ROBOTS + "Content-Signal: ai-train=no\nLicense: https://alpha.kz/rsl.xml\n")
    ingest(
        ledger,
        tmp_path,
        "a.log",
        [
            log_line(GPTBOT, "/news/1", t(2)),
            log_line(GPTBOT, "/news/1", t(3)),
            log_line(GPTBOT, "/public/1", t(3)),
            log_line(GOOGLEBOT, "/private/1", t(3)),  # not an AI fetch: never judged
            log_line(CLAUDEBOT, "/private/9", t(20)),
        ],
    )
    compute_verdicts(ledger)
    rows = violations(ledger, Period.days("2026-10-01", "2026-10-10")).to_pylist()
    assert [(r["operator"], r["bot"], r["path"], r["directive"], r["fetches"]) for r in rows] == [
        ("OpenAI", "GPTBot", "/news/1", "Disallow: /", 2)
    ]
    assert len(violations(ledger, None)) == 2
    [shown] = snapshots(ledger, "alpha").to_pylist()
    assert (shown["outcome"], shown["status"], shown["checks"]) == ("rules", 200, 1)
    assert shown["content_signals"] == "Content-Signal: ai-train=no"
    assert shown["license"] == "License: https://alpha.kz/rsl.xml"
    assert shown["content_usage"] == ""


def test_targets_need_outlets(ledger: Ledger) -> None:
    with pytest.raises(ConfigError, match="no outlets with domains yet"):
        robots_targets(ledger, None)
    add_outlet(ledger, "alpha", "alpha.kz", "alpha.com")
    add_outlet(ledger, "beta", "beta.kz")
    assert robots_targets(ledger, None) == [("alpha", "alpha.com"), ("alpha", "alpha.kz"), ("beta", "beta.kz")]
    assert robots_targets(ledger, "beta") == [("beta", "beta.kz")]
    with pytest.raises(NotFoundError, match="unknown outlet 'alpah'; did you mean 'alpha'"):
        robots_targets(ledger, "alpah")


@settings(max_examples=60, deadline=None)
@given(
    rules=st.lists(
        st.tuples(st.sampled_from(["Allow", "Disallow"]), st.sampled_from(["/", "/a", "/a/", "/a*", "/*.x$", "/b$"])),
        max_size=6,
    ),
    path=st.sampled_from(["/", "/a", "/a/b", "/b", "/b/c", "/q.x", "/q.x?y"]),
)
def test_judge_agrees_with_protego_for_any_rules(rules: list[tuple[str, str]], path: str) -> None:
    from protego import Protego

    body = "User-agent: *\n" + "".join(f"{field}: {value}\n" for field, value in rules)
    found = judge(Snapshot("rules", body), ("ClaudeBot",), path)
    assert (found.verdict == "allowed") == Protego.parse(body).can_fetch(path, "ClaudeBot")
    if found.directive is not None:
        assert found.directive.split(": ", 1)[0] == ("Allow" if found.verdict == "allowed" else "Disallow")
