"""Checks on the reviewed bot registry (ledger/registry/bots.toml) through the matcher that reads it.

The data file is the thing under test: every example must land on its own entry, patterns that reach
into other entries' examples must be declared, robots-only tokens must never be returned, real browser
user agents (tests/data/browser_user_agents.txt) must never look like bots, and the registry must cover
the ai-robots-txt list and reproduce the bot counts of a real access log.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.detect.registry import AI_PURPOSES, PURPOSES, _first_match_expr, load_registry
from tests.conftest import DATA, IMC, IMC_AI_BOTS

REPO = Path(__file__).resolve().parents[2]
# The shared reference folder sits beside the repository (locally and in CI); tests that need it skip
# when it is absent.
AI_ROBOTS_JSON = REPO.parent / "shared" / "reference" / "ai-robots-txt_robots.json"

REG = load_registry()
FETCHERS = [b for b in REG.bots if not b.robots_only]
ROBOTS_ONLY = [b for b in REG.bots if b.robots_only]

# The ip_lists ids wired to published ranges in ledger/registry/ip_lists.toml.
ALLOWED_IP_LISTS = {
    "openai-gptbot",
    "openai-searchbot",
    "openai-chatgpt-user",
    "google-common",
    "google-special",
    "google-user-triggered",
    "anthropic",
    "apple",
    "perplexity-bot",
    "perplexity-user",
    "amazon",
    "bing",
    "commoncrawl",
    "duckduckgo",
    "meta",
    "yandex",
    "ahrefs",
    "kagi",
    "seranking",
}

# ai-robots-txt/ai.robots.txt robots.json @ 738c80df (2026-08-22, MIT): every key whose `operator` is
# not "Unclear at this time." (115 of 166). Copied here so the test runs without shared/.
AI_ROBOTS_KNOWN_OPERATOR = (
    "AgentTimes",
    "AI2Bot",
    "AI2Bot-DeepResearchEval",
    "Ai2Bot-Dolma",
    "aiHitBot",
    "AIWebIndex",
    "amazon-kendra",
    "Amazonbot",
    "AmazonBuyForMe",
    "Amzn-User",
    "Andibot",
    "Anomura",
    "anthropic-ai",
    "Applebot-Extended",
    "atlassian-bot",
    "Awario",
    "bedrockbot",
    "bigsur.ai",
    "Bravebot",
    "Brightbot 1.0",
    "BuddyBot",
    "Bytespider",
    "CCBot",
    "ChatGPT Agent",
    "ChatGPT-User",
    "Claude-SearchBot",
    "Claude-User",
    "Claude-Web",
    "ClaudeBot",
    "Cloudflare-AutoRAG",
    "cohere-ai",
    "cohere-training-data-crawler",
    "Cotoyogi",
    "CragCrawler",
    "Crawlspace",
    "Datenbank Crawler",
    "DeepSeekBot",
    "Devin",
    "Diffbot",
    "Echobot Bot",
    "EchoboxBot",
    "ExaSearchBot",
    "FacebookBot",
    "facebookexternalhit",
    "Factset_spyderbot",
    "FirecrawlAgent",
    "FriendlyCrawler",
    "GeistHaus-PageFetcher",
    "Google-CloudVertexBot",
    "Google-Extended",
    "Google-Firebase",
    "GoogleAgent-Mariner",
    "GoogleAgent-URLContext",
    "GoogleOther",
    "GoogleOther-Image",
    "GoogleOther-Video",
    "GPTBot",
    "iaskspider/2.0",
    "ICC-Crawler",
    "ImagesiftBot",
    "img2dataset",
    "ISSCyberRiskCrawler",
    "kagi-fetcher",
    "Kimi-User",
    "KlaviyoAIBot",
    "LAIONDownloader",
    "Lightpanda",
    "Linguee Bot",
    "Manus-User",
    "meta-externalagent",
    "meta-webindexer",
    "MistralAI-User",
    "MistralAI-User/1.0",
    "Mozilla-Tabstack",
    "NagetBot",
    "netEstate Imprint Crawler",
    "OAI-SearchBot",
    "omgili",
    "omgilibot",
    "OpenAI",
    "PanguBot",
    "Panscient",
    "panscient.com",
    "Perplexity-User",
    "PerplexityBot",
    "PetalBot",
    "PhindBot",
    "Poggio-Citations",
    "Poseidon Research Crawler",
    "QualifiedBot",
    "Querit-SearchBot",
    "QueritBot",
    "QuillBot",
    "quillbot.com",
    "Reflectionbot",
    "SBIntuitionsBot",
    "Scrapy",
    "SemrushBot-OCOB",
    "SemrushBot-SWA",
    "ShapBot",
    "Sidetrade indexer bot",
    "TerraCotta",
    "Thinkbot",
    "TikTokSpider",
    "Timpibot",
    "TongyiBot",
    "TwinAgent",
    "VelenPublicWebCrawler",
    "WARDBot",
    "wpbot",
    "YaK",
    "YandexAdditional",
    "YandexAdditionalBot",
    "YiyanBot",
    "YouBot",
)
# The other 51 keys (operator "Unclear at this time."). The registry covers them too, naming the operator
# where the UA or the description does, or keeping generic words robots-only.
AI_ROBOTS_UNCLEAR_OPERATOR = (
    "AddSearchBot",
    "amazon-QBusiness",
    "Amzn-SearchBot",
    "ApifyBot",
    "ApifyWebsiteContentCrawler",
    "Applebot",
    "Aranet-SearchBot",
    "AzureAI-SearchBot",
    "Brightbot",
    "Channel3Bot",
    "ChatGLM-Spider",
    "Claude-Code",
    "CloudVertexBot",
    "Code",
    "Crawl4AI",
    "Cursor",
    "DuckAssistBot",
    "ExaBot",
    "Gemini-Deep-Research",
    "Google-Agent",
    "Google-Gemini-CLI",
    "Google-NotebookLM",
    "HenkBot",
    "iAskBot",
    "iaskspider",
    "imageSpider",
    "Kangaroo Bot",
    "KunatoCrawler",
    "laion-huggingface-processor",
    "LCC",
    "LinerBot",
    "LinkupBot",
    "Meta-ExternalAgent",
    "meta-externalfetcher",
    "Meta-ExternalFetcher",
    "MyCentralAIScraperBot",
    "newsai",
    "NotebookLM",
    "NovaAct",
    "opencode",
    "Operator",
    "Shap-User",
    "Spider",
    "TavilyBot",
    "Terra Cotta",
    "Trae",
    "UseAI",
    "Webzio-Extended",
    "webzio-extended",
    "WRTNBot",
    "ZanistaBot",
)


def _browser_lines() -> list[tuple[int, str]]:
    """(line number, UA) for each non-comment line of browser_user_agents.txt."""
    lines = (DATA / "browser_user_agents.txt").read_text(encoding="utf-8").splitlines()
    return [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]


_MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(")


def _names(bot) -> set[str]:
    return {n.lower() for n in (bot.token, *bot.patterns, *bot.robots_tokens)}


# --------------------------------------------------------------------------------------------------
# Shape of the data
# --------------------------------------------------------------------------------------------------


def test_registry_loads_with_a_version() -> None:
    assert REG.bots
    assert REG.version


def test_tokens_are_unique_case_insensitively() -> None:
    counts = Counter(b.token.lower() for b in REG.bots)
    assert [t for t, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("bot", REG.bots, ids=lambda b: b.token)
def test_entry_fields(bot) -> None:
    assert bot.purpose in PURPOSES
    assert bot.ai == (bot.purpose in AI_PURPOSES)
    assert bot.operator.strip() and bot.description.strip()
    assert bot.docs.startswith(("https://", "http://"))
    assert bot.token.lower() in {t.lower() for t in bot.robots_tokens}
    # ai-robots-txt values come with Markdown links ("[Meta](https://...)"); they must be normalised.
    for text in (bot.operator, bot.description):
        assert not _MARKDOWN_LINK.search(text)


@pytest.mark.parametrize("bot", REG.bots, ids=lambda b: b.token)
def test_verification_is_consistent(bot) -> None:
    assert set(bot.ip_lists) <= ALLOWED_IP_LISTS
    if bot.verification == "ip":
        assert bot.ip_lists
    elif bot.verification == "rdns":
        assert bot.rdns_suffixes and not bot.ip_lists
    else:
        assert bot.verification == "none"
        assert not bot.ip_lists and not bot.rdns_suffixes


# --------------------------------------------------------------------------------------------------
# Examples and patterns
# --------------------------------------------------------------------------------------------------

EXAMPLES = [
    pytest.param(bot.token, ua, id=f"{bot.token}#{i}") for bot in FETCHERS for i, ua in enumerate(bot.examples, start=1)
]


@pytest.mark.parametrize(("token", "ua"), EXAMPLES)
def test_every_example_classifies_to_its_own_entry(token: str, ua: str) -> None:
    (found,) = REG.classify([ua])
    assert found is not None, f"{ua!r} matched nothing"
    assert found.token == token


@pytest.mark.parametrize("bot", FETCHERS, ids=lambda b: b.token)
def test_cross_matches_are_declared_as_overlaps(bot) -> None:
    """A pattern that also matches another entry's example must be declared (and nothing else)."""
    regexes = [re.compile(r) for r in bot.regexes()]
    reached = {
        other.token
        for other in REG.bots
        if other is not bot and any(r.search(ua) for r in regexes for ua in other.examples)
    }
    assert reached == set(bot.overlaps)


@pytest.mark.parametrize("bot", [b for b in REG.bots if b.overlaps], ids=lambda b: b.token)
def test_overlapping_entries_come_after_the_specific_ones(bot) -> None:
    order = {b.token: i for i, b in enumerate(REG.bots)}
    assert all(order[other] < order[bot.token] for other in bot.overlaps)


# --------------------------------------------------------------------------------------------------
# Robots-only tokens
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bot", ROBOTS_ONLY, ids=lambda b: b.token)
def test_robots_only_entries_have_no_examples_and_are_never_returned(bot) -> None:
    assert bot.examples == ()
    spoofed = [
        form.format(name)
        for name in bot.robots_tokens
        for form in ("{}", "Mozilla/5.0 (compatible; {}/1.0; +http://www.google.com/bot.html)")
    ]
    assert all(found is None or found.token != bot.token for found in REG.classify(spoofed))


def test_a_ua_claiming_google_extended_is_not_attributed_to_it() -> None:
    # A real spoof recorded in crawler-user-agents: Google sends no request as Google-Extended.
    (found,) = REG.classify(["Mozilla/5.0 (compatible; Google-Extended/1.0; +http://www.google.com/bot.html)"])
    assert found is None


def test_classify_never_returns_robots_only_entries() -> None:
    every_example = [ua for bot in REG.bots for ua in bot.examples]
    assert not any(found.robots_only for found in REG.classify(every_example) if found is not None)


# --------------------------------------------------------------------------------------------------
# People must not look like bots
# --------------------------------------------------------------------------------------------------


def test_browser_list_is_substantial() -> None:
    uas = [ua for _, ua in _browser_lines()]
    assert len(uas) >= 60
    assert len(set(uas)) == len(uas)


@pytest.mark.parametrize(("line", "ua"), _browser_lines(), ids=[f"line{n}" for n, _ in _browser_lines()])
def test_browser_is_not_a_bot(line: int, ua: str) -> None:
    assert REG.classify([ua]) == [None]


# Strings that contain a registry word but belong to someone else (all real, from crawler-user-agents).
NEAR_MISSES = [
    ("Screaming Frog SEO Spider/5.1", "Screaming Frog SEO Spider"),  # not the 'Spider' scraper
    ("Speedy Spider (http://www.entireweb.com/about/search_tech/speedy_spider/)", None),
    ("Mozilla/5.0 (compatible; Exabot/3.0; +http://www.exabot.com/go/robot)", None),  # Exalead, not Exa
    ("Mozilla/5.0 (compatible; Operator/1.0; +https://www.example.com/bot.html)", None),
    ("FreshRSS/1.11.2 (Linux; https://freshrss.org) like Googlebot", None),
    ("Mozilla/5.0 (compatible; heritrix/2.0.2 +http://aihit.com)", "heritrix"),  # not aiHitBot
    ("Mozilla/5.0 (compatible; DuckDuckGo-Favicons-Bot/1.0; +http://duckduckgo.com)", None),
]


@pytest.mark.parametrize(("ua", "expected"), NEAR_MISSES, ids=[ua[:40] for ua, _ in NEAR_MISSES])
def test_near_misses(ua: str, expected: str | None) -> None:
    (found,) = REG.classify([ua])
    assert (found.token if found else None) == expected


# --------------------------------------------------------------------------------------------------
# Coverage of ai-robots-txt
# --------------------------------------------------------------------------------------------------

ALL_NAMES = set().union(*(_names(b) for b in REG.bots))


@pytest.mark.parametrize("token", AI_ROBOTS_KNOWN_OPERATOR)
def test_ai_robots_txt_bot_with_known_operator_is_covered(token: str) -> None:
    assert token.lower() in ALL_NAMES


@pytest.mark.parametrize("token", AI_ROBOTS_UNCLEAR_OPERATOR)
def test_ai_robots_txt_bot_with_unclear_operator_is_covered(token: str) -> None:
    assert token.lower() in ALL_NAMES


def test_embedded_ai_robots_txt_lists_match_the_reference_file() -> None:
    if not AI_ROBOTS_JSON.exists():
        pytest.skip(f"{AI_ROBOTS_JSON} not present")
    data = json.loads(AI_ROBOTS_JSON.read_text(encoding="utf-8"))
    unclear = {k for k, v in data.items() if v["operator"].strip() == "Unclear at this time."}
    assert set(AI_ROBOTS_KNOWN_OPERATOR) == set(data) - unclear
    assert set(AI_ROBOTS_UNCLEAR_OPERATOR) == unclear


# --------------------------------------------------------------------------------------------------
# A real access log
# --------------------------------------------------------------------------------------------------

_LAST_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"\s*$')


def test_imc_log_ai_bot_counts() -> None:
    lines = IMC.read_text(encoding="utf-8", errors="replace").splitlines()
    assert len(lines) == 4141
    user_agents = []
    for line in lines:
        match = _LAST_QUOTED.search(line)
        user_agents.append(match.group(1) if match else None)
    found = Counter(bot.token for bot in REG.classify(user_agents) if bot is not None and bot.ai)
    assert dict(found) == IMC_AI_BOTS


PATTERNS = [pattern for bot in load_registry().fetchers for pattern in bot.patterns]
# Text around a pattern: word characters (which break a whole-token match), separators, non-ASCII
# letters whose Unicode case folding the regexes honour (KELVIN SIGN folds to 'k', LONG S to 's').
AROUND = st.text(alphabet="ab-_/ ;()0.\u212a\u017f\u00e9\u0131", max_size=6)


def _mixed_case(text: str, flips: list[bool]) -> str:
    return "".join(c.swapcase() if flip else c for c, flip in zip(text, flips + [False] * len(text), strict=False))


agents = st.one_of(
    st.builds(
        lambda before, pattern, flips, after: before + _mixed_case(pattern, flips) + after,
        AROUND,
        st.sampled_from(PATTERNS),
        st.lists(st.booleans(), max_size=12),
        AROUND,
    ),
    st.builds(  # a pattern with a letter swapped for a non-ASCII look-alike that folds to it
        lambda pattern, at: pattern.replace("k", "\u212a", 1).replace("s", "\u017f", 1) if at else pattern,
        st.sampled_from(PATTERNS),
        st.booleans(),
    ),
    st.text(max_size=30),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(agents, min_size=1, max_size=20))
def test_only_the_entries_whose_patterns_a_ua_holds_are_tried_and_that_changes_no_classification(
    uas: list[str],
) -> None:
    """A UA takes only the regexes of the entries whose patterns it holds as text (or every regex, with a
    non-ASCII character): the result is what every regex on every UA gives, the first entry that matches."""
    registry = load_registry()
    series = pl.Series("ua", uas, dtype=pl.String)
    everything = pl.DataFrame({"ua": series}).select(_first_match_expr(registry.fetchers)).to_series()
    assert registry.classify_series(series).to_list() == everything.to_list()


REFERERS = [
    "https://chatgpt.com/",
    "https://CHATGPT.com/c/1?x=y",
    "https://www.perplexity.ai/search/abc",
    "https://user@chat.openai.com:443/",
    "https://notchatgpt.com/",
    "https://chatgpt.com./",
    "https://gemini.google.com",
    "android-app://com.openai.chatgpt/",
    "-",
    "",
    "chatgpt.com",
    "https://ü.chatgpt.com/",
    None,
]
PATHS = ["/a", "/a?utm_source=chatgpt.com", "/a?x=1&UTM_SOURCE=Perplexity", "/a?utm_source=", None]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(REFERERS), st.sampled_from(PATHS)), min_size=1, max_size=40))
def test_referers_read_once_each_are_read_as_row_by_row(rows: list[tuple[str | None, str | None]]) -> None:
    """A batch with a few referers, many times each, reads each one's host once: every row gets what
    reading it on its own gives (its host, product and operator)."""
    from ledger.detect.referrals import load_referrers, referral_columns

    frame = pl.DataFrame(rows * 4, schema={"referer": pl.String, "path": pl.String}, orient="row")
    together = referral_columns(frame, load_referrers())
    alone = pl.concat([referral_columns(frame.slice(k, 1), load_referrers()) for k in range(frame.height)])
    assert together.to_dicts() == alone.to_dicts()
    assert together.columns == ["referer", "path", "referer_host", "product", "ref_operator"]
