"""The ingest triage: lines the detector calls plain human traffic are counted without the full path.

It is an optimisation only. Every test here ingests the same input twice, with and without it, into real
DuckDB files and requires the ledgers to be identical; the unit tests pin each reason a line must not be
quiet.
"""

from __future__ import annotations

import ipaddress
import json
from itertools import pairwise
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.detect import classify
from ledger.detect.classify import Detector
from ledger.errors import LedgerError
from ledger.formats import get_format
from ledger.ingest import COMPACT_AFTER, ingest_paths
from ledger.outlets import save_outlets
from ledger.parse import Parser, native
from ledger.parse.typed import typed
from ledger.sample import generate
from ledger.sources import Source
from ledger.store.db import Ledger
from tests.conftest import DATA, IMC, add_outlet
from tests.ledger.test_ingest import BYTESPIDER, CHROME, GOOGLEBOT, GPTBOT, first_address, line, write

FIXTURES = DATA / "fixtures"
# Every column that comes from the input (not the upload id or the time of ingest), per table.
TABLES = {
    "fetches": "line_no, ts, outlet, host, path, url, method, status, bytes, client_ip, forwarded_for,"
    " user_agent, content_type, bot, operator, purpose, ai, attribution, verification, ip_list",
    "referrals": "line_no, ts, outlet, host, path, url, status, product, operator, referer_host",
    "rejects": "line_no, reason, raw",
    "traffic_daily": "outlet, day, class, requests",
    "upload_windows": "outlet, first_ts, last_ts, lines",
    "uploads": "source, outlet, format, lines_total, lines_parsed, lines_rejected, ai_fetches, first_ts, last_ts",
}


def snapshot(ledger: Ledger) -> dict[str, list[dict[str, Any]]]:
    return {table: ledger.rows(f"SELECT {cols} FROM {table} ORDER BY ALL") for table, cols in TABLES.items()}


def both_ways(
    tmp_path: Path, files: list[Path], outlets: list[tuple[str, str]], *, use_native: bool = True, **options: Any
) -> list[Any]:
    """Ingests ``files`` with and without the triage into two ledgers; returns the two snapshots.
    Without ``use_native``, text layouts are split (and the triage's tests run) by polars, and so are the
    triage's tests of JSON and W3C lines."""
    snapshots = []
    for triage in (True, False):
        with (
            Ledger(tmp_path / f"triage-{triage}.duckdb") as ledger,
            patch.object(native, "program_for", native.program_for if use_native else lambda fmt: None),
            patch.object(classify, "triage_fields", classify.triage_fields if use_native else lambda *args: None),
            patch.object(native, "triage_targets", native.triage_targets if use_native else lambda *args: None),
        ):
            for slug, domain in outlets:
                add_outlet(ledger, slug, domain)
            try:
                for path in files:
                    ingest_paths(ledger, [str(path)], triage=triage, **options)
            except LedgerError as exc:
                snapshots.append(("error", str(exc)))
                continue
            snapshots.append(snapshot(ledger))
    return snapshots


def test_the_seeded_sample_gives_the_same_ledger_with_and_without_triage(tmp_path: Path) -> None:
    sample = generate(tmp_path / "logs", lines=30_000, seed=5)
    snapshots = []
    for triage in (True, False):
        with Ledger(tmp_path / f"sample-{triage}.duckdb") as ledger:
            save_outlets(ledger, list(sample.outlets))
            for file in sample.files:
                ingest_paths(ledger, [str(file.path)], outlet=file.outlet, triage=triage)
            snapshots.append(snapshot(ledger))
    with_triage, without = snapshots
    assert with_triage == without
    assert len(with_triage["fetches"]) > 1_000 and len(with_triage["referrals"]) > 50
    # not a vacuous comparison: most lines of the sample do take the quiet way
    first = sample.files[0]
    batch = next(Source.open(str(first.path)).batches())
    parsed = Parser(get_format(first.format)).parse(batch.lines, 1, triage=Detector())
    assert parsed.quiet.height > 0.5 * parsed.lines


def test_the_imc_log_gives_the_same_ledger_with_and_without_triage(tmp_path: Path) -> None:
    with_triage, without = both_ways(tmp_path, [IMC], [("websitec", "websitec.com")], outlet="websitec")
    assert with_triage == without
    assert len(with_triage["fetches"]) > 100


def polars_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """User agents looked up the polars way (by a hash), as without the extension."""
    monkeypatch.setattr(native.KnownAgents, "positions", lambda self, strings: None)


def test_user_agents_that_share_a_hash_keep_their_own_classes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the extension, user agents are looked up by a hash and checked against the string: with
    every user agent given the same hash (all collide), every lookup takes the slow way and the ledger is
    the same."""
    (tmp_path / "hashed").mkdir()
    (tmp_path / "collided").mkdir()
    [expected, _] = both_ways(tmp_path / "hashed", [IMC], [("websitec", "websitec.com")], outlet="websitec")
    polars_lookups(monkeypatch)
    monkeypatch.setattr(classify, "_ua_hash", lambda ua: (ua.is_null().cast(pl.UInt64) + 7).alias("_h"))
    [collided, _] = both_ways(tmp_path / "collided", [IMC], [("websitec", "websitec.com")], outlet="websitec")
    assert collided == expected
    assert any(row["bot"] for row in expected["fetches"]) and expected["traffic_daily"]


def test_a_user_agent_with_a_cached_ones_hash_is_not_given_its_class(monkeypatch: pytest.MonkeyPatch) -> None:
    polars_lookups(monkeypatch)
    monkeypatch.setattr(classify, "_ua_hash", lambda ua: (ua.is_null().cast(pl.UInt64) + 7).alias("_h"))
    detector = Detector()
    [browser] = detector.agent_classes(pl.Series([CHROME])).to_dicts()
    assert browser == {"bot_index": None, "generic": False}
    classes = detector.agent_classes(pl.Series([GPTBOT, CHROME, None])).to_dicts()  # GPTBot: CHROME's hash
    assert classes[0]["bot_index"] is not None and classes[1:] == [browser, {"bot_index": None, "generic": None}]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(
        st.lists(st.sampled_from([CHROME, CHROME + " ", GPTBOT, GOOGLEBOT, BYTESPIDER, "curl/8.5.0", "", "ü", None])),
        min_size=1,
        max_size=4,
    )
)
def test_user_agents_looked_up_natively_get_the_classes_of_the_polars_lookup(
    batches: list[list[str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch after batch (the cache growing as new user agents come), each row's ``bot_index`` and
    ``generic`` are the same whether its user agent is found natively among the cached ones or by the
    polars lookup; a null has neither."""
    natively = Detector()
    with monkeypatch.context() as patched:
        polars_lookups(patched)
        the_polars_way = Detector()
        by_polars = [the_polars_way.agent_classes(pl.Series(batch, dtype=pl.String)) for batch in batches]
    for batch, expected in zip(batches, by_polars, strict=True):
        got = natively.agent_classes(pl.Series(batch, dtype=pl.String))
        assert got.to_dicts() == expected.to_dicts()
        assert [row["generic"] is None for row in got.to_dicts()] == [agent is None for agent in batch]


def test_a_lookup_uses_the_last_table_of_known_agents_while_it_holds_half_of_the_cache() -> None:
    """Looking user agents up does not make the native table again each time the cache grows (a log with a
    new user agent every few lines grows it in every batch): a table that holds at least half of the cache
    is used, and the user agents it lacks take the slow way, with their right classes. The native
    splitter's table is made again, with every cached user agent."""
    detector = Detector()
    detector.classify_agents(pl.Series([CHROME, GPTBOT, "curl/8.5.0", GOOGLEBOT]))
    table = detector.known_agents()
    detector.agent_classes(pl.Series([BYTESPIDER]))  # the cache grows
    classes = detector.agent_classes(pl.Series([BYTESPIDER, CHROME, "python-requests/2.32.3"])).to_dicts()
    assert detector._known is not None and detector._known.agents is table  # the same table
    assert classes[0]["bot_index"] is not None and classes[1] == {"bot_index": None, "generic": False}
    assert classes[2] == {"bot_index": None, "generic": True}
    fresh = detector.known_agents()
    assert fresh is not table and BYTESPIDER.encode() in fresh.data  # made again for the splitter
    for agent in (f"agent {n}" for n in range(10)):  # the cache more than twice the last table
        detector.agent_classes(pl.Series([agent]))
    assert detector._known.agents is not fresh


@pytest.mark.parametrize(
    "name",
    sorted(
        p.name
        for p in FIXTURES.iterdir()
        if p.suffix != ".md" and not p.name.startswith(("iis-xml", "envoy", "zoraxy", "logfile_syslog"))
    ),
)
def test_real_fixtures_give_the_same_ledger_with_and_without_triage(tmp_path: Path, name: str) -> None:
    with_triage, without = both_ways(tmp_path, [FIXTURES / name], [("site", "site.example")], outlet="site")
    assert with_triage == without


# Hypothesis: lines made of the parts that decide whether a line may skip detection.
AGENTS = [
    CHROME,
    GPTBOT,
    GOOGLEBOT,
    BYTESPIDER,
    "-",
    "",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Mozilla/5.0 (compatible; SomethingBot/1.0)",
    'Mozilla/5.0 \\"quoted\\" (Windows NT 10.0)',
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) Version/18.6 Mobile/15E148 Safari/604.1",
]
ADDRESSES = [
    "203.0.113.9",
    "198.51.100.23",
    first_address("openai-gptbot"),
    first_address("openai-searchbot"),
    first_address("anthropic"),
    str(ipaddress.ip_address(first_address("openai-gptbot")) + 1),
    "2001:db8::1",
    "2a03:2880:f800::1",
    "::ffff:203.0.113.9",
    "203.0.113.9:443",
    "203.0.113.9, 10.0.0.1",
    "10.0.0.7",
    "256.1.1.1",
    "1.2.3.4.5",
    "1::2::3",
    "2001:0db8:0:0:0:0:0:0:1",
    "-",
]
REFERERS = [
    "-",
    "https://chatgpt.com/",
    "https://www.perplexity.ai/search?q=x",
    "https://notchatgpt.com/",
    "https://www.google.com/",
    "https://CHATGPT.COM/c/1",
]
PATHS = ["/news/1", "/news/2?utm_source=chatgpt.com", "/a?UTM_SOURCE=perplexity", "/robots.txt", "/x?id=1"]
HOSTS = ["site.example", "SITE.example:443", "other.example", "-", "www.site.example.", "elsewhere.example"]
WHEN = ["15/Oct/2026:12:00:00 +0000", "15/Oct/2026:01:30:00 +0500", "31/Oct/2026:23:59:59 -0330", "99/Zzz/2026"]

junk = st.sampled_from(["", "   ", "\\x16\\x03\\x01", 'x - - [15/Oct/2026:12:00:00 +0000] "-" 400 0 "-" "-"'])


AI_ADDRESS = first_address("openai-gptbot")
# X-Forwarded-For chains behind a load balancer: the client is the right-most public hop.
FORWARDED = [
    "-",
    "203.0.113.9",
    "203.0.113.9, 10.0.0.2",
    f"{AI_ADDRESS}, 10.0.0.2",  # an AI-only address as the client
    f"203.0.113.9, {AI_ADDRESS}",  # or as a later hop
    f"{AI_ADDRESS}, 203.0.113.9",  # a claim on the left, overridden by the public hop on the right
    "unknown, 203.0.113.9",
    "10.0.0.1, 10.0.0.2",
    "2001:db8::1, 10.0.0.1",
    f"{first_address('commoncrawl', 6)}",
    "203.0.113.9:443",
    "",
    "203.0.113.9,10.0.0.1",
    " 203.0.113.9 ,\t10.0.0.2 ",
    "203.0.113.9,,10.0.0.1",
]
LAYOUTS = ("combined", "vhost_combined", "combined_xff")


def mixes(layout: str) -> st.SearchStrategy[tuple[str, list[str]]]:
    """Lines of one layout: vhost_combined (the outlet from each line's host), combined (--outlet), or
    combined_xff (--outlet; an X-Forwarded-For field after the user agent)."""
    lines = st.builds(
        line,
        st.sampled_from(ADDRESSES),
        st.sampled_from(AGENTS),
        st.sampled_from(PATHS),
        when=st.sampled_from(WHEN),
        referer=st.sampled_from(REFERERS),
        host=st.sampled_from(HOSTS) if layout == "vhost_combined" else st.none(),
    )
    if layout == "combined_xff":
        lines = st.builds(lambda text, chain: f'{text} "{chain}"', lines, st.sampled_from(FORWARDED))
    return st.tuples(st.just(layout), st.lists(st.one_of(lines, junk), min_size=1, max_size=60))


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(LAYOUTS).flatmap(mixes), st.booleans())
def test_any_mix_of_lines_gives_the_same_ledger_with_and_without_triage(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, list[str]], use_native: bool
) -> None:
    layout, mix = case
    path = tmp_path_factory.mktemp("mix") / "access.log"
    path.write_text("\n".join(mix) + "\n")
    options: dict[str, Any] = {"fmt": layout} if layout == "vhost_combined" else {"outlet": "site", "fmt": layout}
    outlets = [("site", "site.example"), ("other", "other.example")]
    with_triage, without = both_ways(path.parent, [path], outlets, use_native=use_native, **options)
    assert with_triage == without


# CloudFront and Caddy lines: the triage decides on the fields as read where they need no typing.
CF_ROW = (FIXTURES / "aws-cloudfront-logs__aws-cloudfront-logs.log").read_text().splitlines()[0].split("\t")
ENCODED_AGENTS = [
    CHROME.replace(" ", "%20"),
    CHROME.replace(" ", "%2520"),  # encoded twice
    GPTBOT.replace(" ", "%20").replace(";", "%3B"),
    "curl/8.5.0",
    "-",
    "Mozilla/5.0%20%5C%22quoted%5C%22",  # a backslash once decoded
    "Mozilla/5.0%20(X11)%22",
]
ENCODED_REFERERS = ["-", "https://chatgpt.com/", "https%3A//chatgpt.com/", "https://www.google.com/", "%2D"]
CF_HOSTS = ["site.example", "SITE.example", "-", "other.example", "www.site.example.", ""]
CF_QUERIES = ["-", "utm_source=chatgpt.com", "utm%5Fsource=chatgpt.com", "id=1", "", "q=a\\b"]
CF_STEMS = ["/news/1", "http://site.example/news/2", "-", "/a%20b", "/a\\b", "news/3"]
CF_CLIENTS = ["203.0.113.9", AI_ADDRESS, "2001:db8::1", "203.0.113.9:443", "-", "10.0.0.1"]
CF_FORWARDED = ["-", "203.0.113.9", f"{AI_ADDRESS}, 10.0.0.2"]


def mostly_first(options: list[str]) -> st.SearchStrategy[str]:
    """The first (plain) option half the time: most lines are then quiet but for one or two fields."""
    return st.one_of(st.just(options[0]), st.sampled_from(options))


@st.composite
def cloudfront_lines(draw: st.DrawFn) -> str:
    fields = list(CF_ROW)
    for index, options in (
        (4, CF_CLIENTS),
        (7, CF_STEMS),
        (9, ENCODED_REFERERS),
        (10, ENCODED_AGENTS),
        (11, CF_QUERIES),
        (15, CF_HOSTS),
        (19, CF_FORWARDED),
    ):
        fields[index] = draw(mostly_first(options))
    return "\t".join(fields)


CADDY_URIS = ["/news/1", "/a?utm_source=chatgpt.com", "http://site.example/x", "/b?x=1", "/c\\d", "/e?f=\\"]


@st.composite
def caddy_lines(draw: st.DrawFn) -> str:
    agent = draw(mostly_first([CHROME, GPTBOT, "curl/8.5.0", "", 'a \\"quoted\\" agent', "ü browser"]))
    request = {
        "remote_ip": draw(mostly_first([*CF_CLIENTS[:3], "10.0.0.1"])),
        "client_ip": draw(mostly_first(CF_CLIENTS)),
        "proto": "HTTP/1.1",
        "method": "GET",
        "host": draw(mostly_first(CF_HOSTS)),
        "uri": draw(mostly_first(CADDY_URIS)),
        "headers": {"User-Agent": [agent], "Referer": [draw(mostly_first(ENCODED_REFERERS))]},
    }
    return json.dumps({"level": "info", "ts": 1760529600.5, "request": request, "status": 200, "size": 10})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["cloudfront", "caddy"]), st.data(), st.booleans())
def test_any_cloudfront_or_caddy_lines_give_the_same_ledger_with_and_without_triage(
    tmp_path_factory: pytest.TempPathFactory, fmt: str, data: st.DataObject, use_native: bool
) -> None:
    lines = data.draw(st.lists(cloudfront_lines() if fmt == "cloudfront" else caddy_lines(), min_size=1, max_size=40))
    path = tmp_path_factory.mktemp("encoded") / "access.log"
    path.write_text("\n".join(lines) + "\n")
    outlets = [("site", "site.example"), ("other", "other.example")]
    for options in ({"fmt": fmt}, {"fmt": fmt, "outlet": "site"}):
        (path.parent / str(len(options))).mkdir()
        with_triage, without = both_ways(
            path.parent / str(len(options)), [path], outlets, use_native=use_native, **options
        )
        assert with_triage == without


def test_a_w3c_line_whose_host_comes_from_an_absolute_url_is_counted_for_that_host(tmp_path: Path) -> None:
    """Without a host column the host of a full URL in cs-uri-stem is the line's: such a line takes the
    typing before the triage decides (as read, it has no host and would be a reject)."""
    agent = CHROME.replace(" ", "+")
    rows = [
        f"2026-10-15 12:00:0{n} 203.0.113.9 GET {stem} 200 {agent}"
        for n, stem in enumerate(["/a", "http://site.example/b"])
    ]
    path = write(tmp_path, "iis.log", ["#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)", *rows])
    with_triage, without = both_ways(tmp_path, [path], [("site", "site.example")], fmt="w3c")
    assert with_triage == without
    assert [row["requests"] for row in with_triage["traffic_daily"]] == [1]  # the relative one is a reject


def test_encoded_lines_whose_fields_need_no_typing_are_decided_before_typing() -> None:
    """The cheap way is taken: quiet CloudFront lines are never typed (only the others are)."""
    lines = []
    for agent in (CHROME.replace(" ", "%20"), GPTBOT.replace(" ", "%20"), "curl/8.5.0"):
        fields = list(CF_ROW)
        fields[4], fields[10], fields[15] = "203.0.113.9", agent, "site.example"
        lines.append("\t".join(fields))
    with patch("ledger.parse.typed", wraps=typed) as typing:
        parsed = Parser(get_format("cloudfront")).parse(pl.Series("line", lines), 1, triage=Detector())
    assert parsed.quiet.select("line_no", "class").rows() == [(1, "human"), (3, "other_bot")]
    assert [call.args[0].height for call in typing.call_args_list] == [1]


# Unit: each reason a line is not quiet.
def classes_of(*texts: str, fmt: str = "combined", use_native: bool = True) -> list[str | None]:
    """The class each line is counted in when it is quiet, None when it takes the full path."""
    parser = Parser(get_format(fmt), use_native=use_native)
    with (
        patch.object(classify, "triage_fields", classify.triage_fields if use_native else lambda *args: None),
        patch.object(native, "triage_targets", native.triage_targets if use_native else lambda *args: None),
    ):
        parsed = parser.parse(pl.Series("line", list(texts)), 1, triage=Detector())
    quiet = dict(zip(parsed.quiet["line_no"].to_list(), parsed.quiet["class"].to_list(), strict=True))
    assert parsed.lines == len(texts)
    return [quiet.get(n) for n in range(1, len(texts) + 1)]


def quiet_of(*texts: str, fmt: str = "combined", use_native: bool = True) -> list[bool]:
    return [kind is not None for kind in classes_of(*texts, fmt=fmt, use_native=use_native)]


@pytest.mark.parametrize("use_native", [True, False])  # the triage's tests in the native splitter, or in polars
def test_only_plain_lines_of_people_and_undeclared_bots_are_quiet(use_native: bool) -> None:
    human = line("203.0.113.9", CHROME)
    assert (
        classes_of(
            human,
            line("2001:db8::1", CHROME),  # IPv6 outside the AI lists
            line("203.0.113.9", "curl/8.5.0"),  # a generic client: another bot, no registry entry's
            line("203.0.113.9", "-"),  # no user agent: the same
            line("203.0.113.9", ""),
            line("203.0.113.9", GPTBOT),  # a declared bot
            line("203.0.113.9", GOOGLEBOT),  # a declared non-AI bot
            line(first_address("openai-gptbot"), CHROME),  # browser UA from an AI-only list: undeclared AI
            line(first_address("openai-gptbot"), "curl/8.5.0"),  # a generic client from one
            line(first_address("openai-gptbot"), "-"),
            line(first_address("commoncrawl", 6), CHROME),  # the same over IPv6
            line("203.0.113.9", CHROME, referer="https://chatgpt.com/"),  # an AI referral
            line("203.0.113.9", CHROME, path="/a?utm_source=chatgpt.com"),  # a tagged link
            line("203.0.113.9", "-", path="/a?utm_source=chatgpt.com"),
            line(f"203.0.113.9, {AI_ADDRESS}", CHROME),  # a chain with a hop in an AI-only list
            line("203.0.113.9:443", CHROME),  # a port
            line("203.0.113.9", CHROME + " \\x00"),  # an escape: the logged field is not the parsed one
            line("203.0.113.9", "curl/8.5.0 \\x00"),
            use_native=use_native,
        )
        == ["human", "human", "other_bot", "other_bot", "other_bot"] + [None] * 13
    )
    # A chain in the address field, every hop outside the AI-only lists: natively quiet (whichever hop
    # detection picks, it is outside); the polars triage only takes single addresses.
    chains = classes_of(line("203.0.113.9, 10.0.0.1", CHROME), line("203.0.113.9,10.0.0.1", "-"), use_native=use_native)
    assert chains == (["human", "other_bot"] if use_native else [None, None])


@pytest.mark.parametrize("use_native", [True, False])
def test_quiet_classes_stay_right_once_the_user_agents_are_known(use_native: bool) -> None:
    """The second time round the native splitter finds the user agents in ``known_agents`` itself,
    declared bots' too: nothing is looked up again."""
    detector = Detector()
    parser = Parser(get_format("combined"), use_native=use_native)
    agents = [CHROME, "curl/8.5.0", GPTBOT, "python-requests/2.32.3", "-", GOOGLEBOT]
    texts = pl.Series("line", [line("203.0.113.9", agent) for agent in agents])
    rounds, looked_up = [], []
    classes = detector.agent_classes
    with patch.object(detector, "agent_classes", lambda agents: looked_up.append(agents.to_list()) or classes(agents)):
        for _ in range(2):
            looked_up.clear()
            parsed = parser.parse(texts, 1, triage=detector)
            rounds.append(dict(zip(parsed.quiet["line_no"].to_list(), parsed.quiet["class"].to_list(), strict=True)))
    assert rounds[0] == rounds[1] == {1: "human", 2: "other_bot", 4: "other_bot", 5: "other_bot"}
    assert detector.known_agents() is not None
    assert looked_up == []


MARKS = ["utm_source=x", "utm_source=", "_s", "utm_source", "utm_sourc=", "UTM_SOURCE=", "utm__source=", "\\x41", "\\"]
padding = st.text(alphabet="ab_s/?=&.-", max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(padding, st.sampled_from(MARKS), padding, st.sampled_from(["path", "referer", "agent", "after"])),
        min_size=1,
        max_size=8,
    )
)
def test_the_native_triage_finds_utm_source_and_backslashes_wherever_they_are(
    cases: list[tuple[str, str, str, str]],
) -> None:
    """The native splitter looks for ``utm_source=`` only in lines with an "_s" (and for backslashes) in
    one pass 16 bytes at a time: at any offset, across chunk edges, it decides as the polars triage does.
    Natively a ``utm_source=`` in the user agent does not count (no referral reads it there): such a line
    is compared with the same line without it."""
    texts, references = [], []
    for before, mark, after, where in cases:
        text = before + mark + after
        if where == "path":
            texts.append(line("203.0.113.9", CHROME, path="/" + text))
        elif where == "referer":
            texts.append(line("203.0.113.9", CHROME, referer="https://e.example/" + text))
        elif where == "agent":
            texts.append(line("203.0.113.9", CHROME + " " + text))
        else:
            texts.append(line("203.0.113.9", CHROME) + " " + text)
        counts_here = where != "agent" or "\\" in mark
        references.append(texts[-1] if counts_here else line("203.0.113.9", CHROME + " " + before + after))
    assert quiet_of(*texts, use_native=True) == quiet_of(*references, use_native=False)


@pytest.mark.parametrize("use_native", [True, False])
def test_every_forwarded_chain_gives_the_same_ledger_with_and_without_triage(tmp_path: Path, use_native: bool) -> None:
    texts = [
        f'{line(address, agent, referer=referer)} "{chain}"'
        for chain in FORWARDED
        for address in ("10.0.0.7", "203.0.113.9", AI_ADDRESS, "2001:db8::1")
        for agent in (CHROME, GPTBOT)
        for referer in ("-", "https://chatgpt.com/")
    ]
    path = write(tmp_path, "lb.log", texts)
    with_triage, without = both_ways(
        tmp_path, [path], [("site", "site.example")], use_native=use_native, outlet="site", fmt="combined_xff"
    )
    assert with_triage == without
    assert any(row["attribution"] == "ip_attributed" for row in with_triage["fetches"])  # some hop was AI's


def test_quiet_lines_of_unknown_hosts_are_rejected_as_without_triage(tmp_path: Path) -> None:
    """Quiet lines are counted per host and day before their hosts are resolved; those of a host that is
    no outlet's are still rejects, each with its line number, as on the full path."""
    hosts = ["site.example", "elsewhere.example", "SITE.example:443", "nowhere.example.", "other.example"]
    texts = [line("203.0.113.9", CHROME, f"/news/{n}", host=hosts[n % len(hosts)]) for n in range(40)]
    texts += [line("203.0.113.9", GPTBOT, host="elsewhere.example")]
    path = write(tmp_path, "vhost.log", texts)
    outlets = [("site", "site.example"), ("other", "other.example")]
    with_triage, without = both_ways(tmp_path, [path], outlets, fmt="vhost_combined")
    assert with_triage == without
    assert len(with_triage["rejects"]) == 17  # 8 + 8 quiet lines of two unknown hosts, and the bot's


def test_behind_a_load_balancer_a_line_is_quiet_when_no_hop_is_in_an_ai_list() -> None:
    """Natively, a forwarded chain is no reason to take the full path: whichever hop detection picks as
    the client, none is in an AI-only list (any odd hop still sends the line the full way)."""
    forwarded = [
        "203.0.113.9, 10.0.0.2",
        " 203.0.113.9 ,\t2001:db8::1 ",
        f"{AI_ADDRESS}, 10.0.0.2",
        f"203.0.113.9, {AI_ADDRESS}",
        "unknown, 203.0.113.9",
        "203.0.113.9:443",
        "203.0.113.9,,10.0.0.1",
        "",
    ]
    texts = [f'{line("10.0.0.5", CHROME)} "{chain}"' for chain in forwarded]
    texts.append(f'{line(AI_ADDRESS, CHROME)} "203.0.113.9"')  # the address field is a hop too
    assert quiet_of(*texts, fmt="combined_xff") == [True, True] + [False] * 7


def test_quiet_lines_keep_their_time_and_host() -> None:
    text = line("203.0.113.9", CHROME, when="15/Oct/2026:01:30:00 +0500", host="WWW.Site.Example:443")
    parsed = Parser(get_format("vhost_combined")).parse(pl.Series("line", [text]), 41, triage=Detector())
    assert parsed.quiet.to_dicts() == [
        {
            "line_no": 41,
            "ts": pl.Series(["2026-10-14T20:30:00+00:00"]).str.to_datetime()[0],
            "host": "www.site.example",
            "class": "human",
        }
    ]
    assert parsed.parsed.height == 0


def test_small_blocks_give_the_same_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of batches (per-batch counts summed up along the way, two workers out of step) or one."""
    snapshots = []
    original = Source.batches
    for block_size in (None, 4_000):
        if block_size:
            monkeypatch.setattr(Source, "batches", lambda self, block_size=0: original(self, block_size=4_000))
        with Ledger(tmp_path / f"blocks-{block_size}.duckdb") as ledger:
            add_outlet(ledger, "websitec", "websitec.com")
            [result] = ingest_paths(ledger, [str(IMC)], outlet="websitec")
            snapshots.append(snapshot(ledger))
    assert snapshots[0] == snapshots[1]
    assert result.lines == 4141 and IMC.stat().st_size // 4_000 > 2 * COMPACT_AFTER


def test_sliced_parsing_and_detection_give_the_same_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A block's undecided lines are parsed, and its parsed lines detected, a slice at a time (bounding
    the memory of a block of bot traffic): slices of a few dozen lines give the ledger of one slice."""
    import ledger.ingest
    import ledger.parse

    calls = []
    detect = Detector.detect
    monkeypatch.setattr(Detector, "detect", lambda self, *args: calls.append(args[0].height) or detect(self, *args))
    snapshots = []
    for rows in (None, 37):
        if rows:
            monkeypatch.setattr(ledger.ingest, "DETECT_ROWS", rows)
            monkeypatch.setattr(ledger.parse, "REST_ROWS", rows - 14)
        with Ledger(tmp_path / f"slices-{rows}.duckdb") as db:
            add_outlet(db, "websitec", "websitec.com")
            ingest_paths(db, [str(IMC)], outlet="websitec")
            snapshots.append(snapshot(db))
    assert snapshots[0] == snapshots[1]
    assert max(calls) > 37 and max(calls[calls.index(max(calls)) + 1 :]) == 37  # one call, then slices


def test_encoded_formats_decide_on_the_parsed_fields() -> None:
    """CloudFront URL-encodes its user agents: the decision is made on the decoded ones."""
    row = (FIXTURES / "aws-cloudfront-logs__aws-cloudfront-logs.log").read_text().splitlines()[0].split("\t")
    lines = []
    for agent, client in [
        (CHROME, "203.0.113.9"),
        (GPTBOT, "203.0.113.9"),
        (CHROME, first_address("openai-gptbot")),
        ("curl/7.81.0", "203.0.113.9"),
    ]:
        fields = list(row)
        fields[4], fields[10] = client, agent.replace(" ", "%20").replace(";", "%3B")
        lines.append("\t".join(fields))
    parsed = Parser(get_format("cloudfront")).parse(pl.Series("line", lines), 1, triage=Detector())
    assert parsed.quiet.select("line_no", "class").rows() == [(1, "human"), (4, "other_bot")]
    assert parsed.parsed["line_no"].to_list() == [2, 3]
    assert parsed.parsed["user_agent"][0] == GPTBOT  # decoded before the decision


def _data_bytes(strings: pl.Series) -> int:
    _, _, *data = strings.to_arrow(compat_level=pl.CompatLevel.newest()).buffers()
    return sum(buffer.size for buffer in data if buffer is not None)


def test_cached_user_agents_are_copies_and_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache of classified user agents keeps its own copies (a view would keep a whole block of lines
    alive), and past its limit it starts again from the batch at hand."""
    from ledger.sources import split_lines

    agents = [f"{CHROME} build/{n}" for n in range(40)] + [GPTBOT]
    block = "".join(f"{agents[n % len(agents)]}\n" for n in range(20_000)).encode()
    batch = split_lines(block)
    assert _data_bytes(batch) > len(block) // 2  # the batch's strings are views over the block
    detector = Detector()
    cache = detector.classify_agents(batch)
    assert cache.height == len(agents)
    assert _data_bytes(cache["user_agent"]) < 20 * sum(map(len, agents))  # not the 2.4 MB block
    [bot] = cache.filter(pl.col("bot_index").is_not_null())["user_agent"].to_list()
    assert bot == GPTBOT
    monkeypatch.setattr(classify, "UA_CACHE_LIMIT", 50)
    later = pl.Series([f"{CHROME} build/{n}" for n in range(30, 60)])  # 20 new ones: over the limit
    cache = detector.classify_agents(later)
    assert sorted(cache["user_agent"].to_list()) == sorted(later.to_list())  # what this batch needs


def test_the_known_agents_are_the_cached_ones_of_each_kind_and_follow_the_cache() -> None:
    """What the native splitter looks user agents up in: the classified ones, people's (not generic) and
    other bots' (generic) that no registry entry declares, and declared bots', rebuilt when new ones are
    classified."""

    def kinds(known: native.KnownAgents | None) -> dict[str, int]:
        assert known is not None
        offsets = np.frombuffer(known.offsets, dtype=np.int64)
        return {known.data[a:b].decode(): kind for (a, b), kind in zip(pairwise(offsets), known.kinds, strict=True)}

    detector = Detector()
    assert detector.known_agents() is None
    detector.classify_agents(pl.Series([CHROME, GPTBOT, "curl/8.5.0", "ü browser"]))
    people, bots, declared = native.PERSON, native.OTHER_BOT, native.DECLARED
    assert kinds(detector.known_agents()) == {
        CHROME: people,
        GPTBOT: declared,
        "ü browser": people,
        "curl/8.5.0": bots,
    }
    detector.classify_agents(pl.Series([CHROME + " Edg/141", GOOGLEBOT]))
    assert kinds(detector.known_agents()) == {
        CHROME: people,
        GPTBOT: declared,
        "ü browser": people,
        "curl/8.5.0": bots,
        CHROME + " Edg/141": people,
        GOOGLEBOT: declared,
    }


HOST_PIECES = ["www.", "perplexity", ".ai", ".com", "kimi", "meta", "chat", "gpt", "x"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(HOST_PIECES), min_size=1, max_size=4).map("".join), min_size=1, max_size=8),
    st.lists(st.lists(st.sampled_from(HOST_PIECES), max_size=6).map("".join), min_size=1, max_size=20),
)
def test_the_hosts_the_native_scan_looks_for_are_found_in_the_same_texts(hosts: list[str], texts: list[str]) -> None:
    """The hosts left out (those that hold another one) change no answer: a text holds one of all the
    hosts exactly when it holds one of those kept."""
    kept = classify.shortest_needles(hosts)
    assert set(kept) <= set(hosts)
    assert not any(other != host and other in host for host in kept for other in kept)
    assert [any(h in t for h in hosts) for t in texts] == [any(h in t for h in kept) for t in texts]


def test_the_native_scan_looks_for_the_shortest_hosts_of_the_ai_products() -> None:
    needles = Detector().split_hints().needles
    assert "perplexity.ai" in needles and "www.perplexity.ai" not in needles
