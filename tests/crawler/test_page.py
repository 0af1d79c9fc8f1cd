"""Article metadata from HtmlResponse bodies: canonical, title, publication time, language, word count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy.http import HtmlResponse

from crawler.page import count_words, parse_article
from tests.crawler.conftest import SITES


def page(body: str, url: str = "https://alpha.kz/news/1") -> HtmlResponse:
    return HtmlResponse(url=url, body=body.encode(), encoding="utf-8")


def fixture(name: str) -> HtmlResponse:
    return page((SITES / "alpha.test" / "news" / name).read_text(), url="http://alpha.test/news/x")


def test_meta_tags_page() -> None:
    info = parse_article(fixture("1.html"))
    assert info.canonical_url == "http://alpha.test/news/1"
    assert info.amp_url == "http://alpha.test/news/1/amp"
    assert info.title == "Бюджет 2027 жылға бекітілді"  # og:title before <title>
    assert info.published_at == datetime(2026, 10, 15, 4, 30, tzinfo=UTC)
    assert info.language == "kk"
    assert info.words == 21  # the <article>: not the nav, the footer or the script


def test_json_ld_page_with_graph_list_types_and_broken_blocks() -> None:
    info = parse_article(fixture("2.html"))
    assert info.title == "Парламент принял закон о СМИ"
    assert info.published_at == datetime(2026, 10, 16, 8, 0, tzinfo=UTC)
    assert info.modified_at == datetime(2026, 10, 16, 10, 0, tzinfo=UTC)
    assert info.language == "ru"
    assert info.words == 16  # articleBody, not the teaser in <main>
    assert info.canonical_url == "http://alpha.test/news/2/"  # rel="Canonical", relative


def test_markup_only_page() -> None:
    info = parse_article(fixture("3.html"))
    assert info.canonical_url == "http://alpha.test/news/3-third-story"
    assert info.published_at == datetime(2026, 10, 10, 1, 0, tzinfo=UTC)  # <time datetime>, +06:00
    assert info.words == 10  # itemprop=articleBody; the aside is left out
    assert (info.title, info.language, info.amp_url) == ("Third story", "en", None)


@pytest.mark.parametrize(
    ("head", "published"),
    [
        ('<meta name="pubdate" content="2026-10-01T10:00:00Z">', datetime(2026, 10, 1, 10, tzinfo=UTC)),
        ('<meta itemprop="datePublished" content="2026-10-02">', datetime(2026, 10, 2, tzinfo=UTC)),
        ('<meta name="DC.date.issued" content="2026-10-03 12:00:00">', datetime(2026, 10, 3, 12, tzinfo=UTC)),
        ('<meta name="date" content="Sat, 03 Oct 2026 12:00:00 +0300">', datetime(2026, 10, 3, 9, tzinfo=UTC)),
        ('<meta name="pubdate" content="not a date">', None),
        ('<meta name="pubdate" content="1890-01-01">', None),
        ("", None),
    ],
)
def test_publication_time_sources(head: str, published: datetime | None) -> None:
    info = parse_article(page(f"<html><head>{head}</head><body><p>Text</p></body></html>"))
    assert info.published_at == published


def test_a_page_without_metadata() -> None:
    info = parse_article(page("<html><body><h1>Only a heading</h1><script>x y z</script></body></html>"))
    assert (info.canonical_url, info.title, info.published_at, info.language, info.words) == (
        None,
        "Only a heading",
        None,
        None,
        3,
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("one two  three", 3),
        ("Қазақстан Республикасының Парламенті", 3),
        ("don't re-use e-mail", 3),
        ("2026 жылы 15 қазанда", 4),
        ("— … !", 0),
    ],
)
def test_count_words(text: str, words: int) -> None:
    assert count_words(text) == words
