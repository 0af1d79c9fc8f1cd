"""The article inventory and URL matching on a real DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.articles import (
    ArticleObservation,
    article_for_url,
    coverage,
    fetch_articles,
    inventory,
    known_pages,
    match_key,
    record_articles,
)
from ledger.errors import ConfigError
from ledger.ingest import ingest_paths
from ledger.period import Period
from ledger.store.db import Ledger
from tests.conftest import add_outlet

GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"
T0 = datetime(2026, 10, 1, tzinfo=UTC)
T1 = datetime(2026, 10, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://alpha.kz/news/1", "alpha.kz/news/1"),
        ("HTTP://WWW.Alpha.KZ/news/1/", "alpha.kz/news/1"),  # scheme and host case, www., trailing slash
        ("https://alpha.kz:443/news/1#comments", "alpha.kz/news/1"),  # port and fragment
        ("https://alpha.kz/News/1", "alpha.kz/News/1"),  # paths are case-sensitive
        ("https://alpha.kz/news/1?utm_source=chatgpt.com&utm_medium=x", "alpha.kz/news/1"),
        ("https://alpha.kz/news/1?fbclid=abc&id=7", "alpha.kz/news/1?id=7"),
        ("https://alpha.kz/list?page=2&cat=5", "alpha.kz/list?cat=5&page=2"),  # parameters sorted
        ("https://alpha.kz/news/1/amp", "alpha.kz/news/1"),  # AMP variants
        ("https://alpha.kz/news/1/amp/", "alpha.kz/news/1"),
        ("https://alpha.kz/amp/news/1", "alpha.kz/news/1"),
        ("https://amp.alpha.kz/news/1", "alpha.kz/news/1"),
        ("https://alpha.kz/news/1?amp=1", "alpha.kz/news/1"),
        ("https://alpha.kz/news/1?outputType=amp", "alpha.kz/news/1"),
        ("https://alpha.kz/news/1.amp.html", "alpha.kz/news/1.html"),
        ("https://alpha.kz/news/1.amp", "alpha.kz/news/1"),
        ("https://alpha.kz/news/ampere", "alpha.kz/news/ampere"),  # not an AMP variant
        ("https://alpha.kz/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/", "alpha.kz/новости"),  # decoded
        ("https://alpha.kz/новости", "alpha.kz/новости"),
        ("https://alpha.kz/bad%FF/", "alpha.kz/bad%FF"),  # not UTF-8: kept as it is
        ("https://alpha.kz/", "alpha.kz"),
        ("https://m.alpha.kz/news/1", "m.alpha.kz/news/1"),  # a mobile host is another site
    ],
)
def test_match_key(ledger: Ledger, url: str, key: str) -> None:
    assert match_key(ledger, url) == key


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    with Ledger(tmp_path_factory.mktemp("keys") / "keys.duckdb") as opened:
        yield opened


@settings(max_examples=80, deadline=None)
@given(
    path=st.lists(st.text("abcxyz019-_", min_size=1, max_size=6), min_size=1, max_size=4).map("/".join),
    params=st.lists(
        st.tuples(st.sampled_from("abcd"), st.text("0123", max_size=2)), max_size=3, unique_by=lambda p: p[0]
    ),
    tracking=st.booleans(),
    slash=st.booleans(),
    upper_host=st.booleans(),
)
def test_match_key_ignores_what_does_not_name_another_page(
    keys: Ledger,
    path: str,
    params: list[tuple[str, str]],
    tracking: bool,
    slash: bool,
    upper_host: bool,
) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    plain = f"https://alpha.kz/{path}" + (f"?{query}" if query else "")
    varied_query = "&".join(f"{k}={v}" for k, v in reversed(params))
    if tracking:
        varied_query = "&".join(filter(None, ["utm_source=x", varied_query, "gclid=1"]))
    host = "WWW.ALPHA.KZ" if upper_host else "alpha.kz"
    varied = f"http://{host}/{path}" + ("/" if slash else "") + (f"?{varied_query}" if varied_query else "")
    key = match_key(keys, plain)
    assert match_key(keys, varied) == key
    assert match_key(keys, f"https://{key}") == key  # a key is its own key


def obs(url: str, source: str = "sitemap", when: datetime = T0, **extra: object) -> ArticleObservation:
    return ArticleObservation(outlet="alpha", url=url, source=source, crawled_at=when, **extra)  # type: ignore[arg-type]


def test_unchanged_observations_are_stored_once_and_fields_fold_into_the_inventory(ledger: Ledger) -> None:
    add_outlet(ledger, "alpha", "alpha.kz")
    published = datetime(2026, 9, 30, 8, tzinfo=UTC)
    entry = obs("https://alpha.kz/news/1/", lastmod=T0, sitemap_url="https://alpha.kz/sitemap.xml")
    assert record_articles(ledger, [entry, entry]) == 1
    assert record_articles(ledger, [obs(entry.url, when=T1, lastmod=T0, sitemap_url=entry.sitemap_url)]) == 0
    news = obs(entry.url, "news_sitemap", published_at=published, title="Budget", language="kk")
    page = obs("https://alpha.kz/news/1", "page", when=T1, words=812, title="Budget 2027", canonical_url=entry.url)
    assert record_articles(ledger, [news, page]) == 2
    [row] = inventory(ledger, "alpha").to_pylist()
    assert (row["title"], row["language"], row["words"], row["published_at"], row["lastmod"]) == (
        "Budget 2027",
        "kk",
        812,
        published,
        T0,
    )
    assert known_pages(ledger, "alpha") == {"https://alpha.kz/news/1"}
    with pytest.raises(ConfigError, match="unknown article source 'rss'"):
        record_articles(ledger, [obs(entry.url, "rss")])


def test_article_for_url_matches_amp_and_tracking_variants(ledger: Ledger) -> None:
    add_outlet(ledger, "alpha", "alpha.kz")
    record_articles(ledger, [obs("https://alpha.kz/news/1/", "page", words=300, published_at=T0)])
    for url in (
        "https://alpha.kz/news/1",
        "https://www.alpha.kz/news/1/amp?utm_source=x",
        "http://alpha.kz/amp/news/1",
    ):
        found = article_for_url(ledger, url)
        assert found is not None and (found.words, found.published_at) == (300, T0)
    assert article_for_url(ledger, "https://alpha.kz/news/2") is None


def test_fetches_get_their_article_by_canonical_url(ledger: Ledger, tmp_path: Path) -> None:
    add_outlet(ledger, "alpha", "alpha.kz")
    record_articles(
        ledger,
        [
            obs("https://alpha.kz/news/1/", "page", words=300, published_at=T0),
            obs("https://alpha.kz/news/2", "news_sitemap", published_at=T1, title="Two"),
        ],
    )
    log = tmp_path / "a.log"
    lines = [
        ("/news/1/amp?utm_source=chatgpt.com", "15/Oct/2026:10:00:00 +0000"),
        ("/news/2/", "15/Oct/2026:11:00:00 +0000"),
        ("/news/3", "15/Oct/2026:12:00:00 +0000"),
    ]
    log.write_text("".join(f'203.0.113.9 - - [{w}] "GET {p} HTTP/1.1" 200 10 "-" "{GPTBOT}"\n' for p, w in lines))
    ingest_paths(ledger, [str(log)], outlet="alpha")
    rows = fetch_articles(ledger, Period.month("2026-10")).to_pylist()
    assert [(r["article_url"], r["words"], r["published_at"]) for r in rows] == [
        ("https://alpha.kz/news/1/", 300, T0),
        ("https://alpha.kz/news/2", None, T1),
        (None, None, None),
    ]
    assert fetch_articles(ledger, Period.month("2026-11")).num_rows == 0
    assert coverage(ledger, ["alpha"]) == {"alpha": (3, 2)}
