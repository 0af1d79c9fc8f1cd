"""Sitemap documents read into entries: urlset, index, Google News, text lists, broken XML, dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.dates import parse_time
from crawler.sitemap import SitemapEntry, parse_sitemap
from tests.crawler.conftest import SITES

ALPHA = SITES / "alpha.test"


def test_sitemap_index_resolves_relative_children() -> None:
    doc = parse_sitemap((ALPHA / "sitemap_index.xml").read_bytes(), "http://alpha.test/sitemap_index.xml")
    assert (doc.kind, doc.error, doc.entries) == ("sitemapindex", None, ())
    assert doc.children == (
        "http://alpha.test/sitemap-news.xml",
        "http://alpha.test/sitemap-articles.xml.gz",
        "http://alpha.test/sitemap-broken.xml",
        "http://alpha.test/sitemap-missing.xml",
    )


def test_news_sitemap_gives_publication_title_and_language() -> None:
    doc = parse_sitemap((ALPHA / "sitemap-news.xml").read_bytes(), "http://alpha.test/sitemap-news.xml")
    assert doc.entries == (
        SitemapEntry(
            "http://alpha.test/news/1",
            news=True,
            published_at=datetime(2026, 10, 15, 4, 30, tzinfo=UTC),
            title="Бюджет 2027 жылға бекітілді",
            language="kk",
        ),
        SitemapEntry(
            "http://alpha.test/news/2/",
            news=True,
            published_at=datetime(2026, 10, 16, tzinfo=UTC),
            title="Парламент принял закон о СМИ",
            language="ru",
        ),
    )


def test_broken_xml_keeps_what_it_can_and_says_so() -> None:
    doc = parse_sitemap((ALPHA / "sitemap-broken.xml").read_bytes(), "http://alpha.test/sitemap-broken.xml")
    assert [e.loc for e in doc.entries] == ["http://alpha.test/news/4", "http://alpha.test/news/5"]
    assert doc.entries[0].lastmod == datetime(2026, 10, 1, tzinfo=UTC)
    assert doc.error is not None
    assert doc.error.startswith("not well-formed XML (") and doc.error.endswith("; 2 entries recovered")


@pytest.mark.parametrize(
    ("body", "kind", "error"),
    [
        (b"", "unknown", "empty document"),
        (
            b"<html><body>Not found</body></html>",
            "unknown",
            "root element <html> is neither <urlset> nor <sitemapindex>",
        ),
        (b"<<<", "unknown", None),
    ],
)
def test_documents_that_are_not_sitemaps(body: bytes, kind: str, error: str | None) -> None:
    doc = parse_sitemap(body, "http://alpha.test/x.xml")
    assert (doc.kind, doc.entries) == (kind, ())
    if error is not None:
        assert doc.error == error
    else:
        assert doc.error is not None and doc.error.startswith("not well-formed XML")


def test_entities_are_never_expanded() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a.test/&x;</loc></url></urlset>'
    )
    doc = parse_sitemap(body, "http://a.test/s.xml")
    assert all("root:" not in e.loc for e in doc.entries)


def test_text_sitemap() -> None:
    doc = parse_sitemap(b"http://alpha.test/a\n\nnot a url\nhttps://alpha.test/b\n", "http://alpha.test/s.txt")
    assert (doc.kind, [e.loc for e in doc.entries]) == ("text", ["http://alpha.test/a", "https://alpha.test/b"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-15", datetime(2026, 10, 15, tzinfo=UTC)),
        ("2026-10", datetime(2026, 10, 1, tzinfo=UTC)),
        ("2026-10-15T10:00:00Z", datetime(2026, 10, 15, 10, tzinfo=UTC)),
        ("2026-10-15T10:00+05:00", datetime(2026, 10, 15, 5, tzinfo=UTC)),
        ("2026-10-15T10:00:00.123456+00:00", datetime(2026, 10, 15, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-10-15 10:00:00", datetime(2026, 10, 15, 10, tzinfo=UTC)),
        ("Thu, 15 Oct 2026 10:00:00 GMT", datetime(2026, 10, 15, 10, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        ("3026-01-01", None),
    ],
)
def test_parse_time(text: str | None, expected: datetime | None) -> None:
    assert parse_time(text) == expected
