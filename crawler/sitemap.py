"""Sitemaps (sitemaps.org 0.9, sitemap indexes, Google News sitemaps, plain-text lists) read into entries.

Parsing is strict first; a document that is not well-formed XML is read again in lxml's recovery mode, so
what can be salvaged is kept, and the error is reported. Entities are never resolved and nothing is
fetched from the network while parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from crawler.dates import parse_time


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: datetime | None = None
    news: bool = False  # a Google News entry
    published_at: datetime | None = None
    title: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class SitemapDoc:
    kind: str  # urlset | sitemapindex | text | unknown
    entries: tuple[SitemapEntry, ...] = ()
    children: tuple[str, ...] = ()  # sitemaps named by an index
    error: str | None = None


def _parser(recover: bool) -> etree.XMLParser:
    return etree.XMLParser(
        recover=recover, resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True
    )


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _child(element: etree._Element, *path: str) -> etree._Element | None:
    current: etree._Element | None = element
    for name in path:
        if current is None:
            return None
        current = next((c for c in current if _local(c.tag) == name), None)
    return current


def parse_sitemap(body: bytes, base_url: str) -> SitemapDoc:
    """Entries (or child sitemaps) of one sitemap document; relative locations resolve against ``base_url``."""
    stripped = body.lstrip()
    if not stripped:
        return SitemapDoc("unknown", error="empty document")
    if not stripped.startswith(b"<"):
        return _text_sitemap(stripped, base_url)
    error = None
    try:
        root = etree.fromstring(stripped, _parser(recover=False))
    except etree.XMLSyntaxError as exc:
        error = f"not well-formed XML ({exc})"
        root = etree.fromstring(stripped, _parser(recover=True))
    if root is None:
        return SitemapDoc("unknown", error=error or "no XML root element")
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children = tuple(_absolute(base_url, loc) for s in root if (loc := _text(_child(s, "loc"))))
        return SitemapDoc(kind, children=children, error=_recovered(error, len(children)))
    if kind != "urlset":
        return SitemapDoc("unknown", error=error or f"root element <{kind}> is neither <urlset> nor <sitemapindex>")
    entries = tuple(e for u in root if _local(u.tag) == "url" and (e := _entry(u, base_url)) is not None)
    return SitemapDoc(kind, entries=entries, error=_recovered(error, len(entries)))


def _recovered(error: str | None, count: int) -> str | None:
    return f"{error}; {count} entries recovered" if error else None


def _absolute(base_url: str, loc: str) -> str:
    return loc if loc.startswith(("http://", "https://")) else urljoin(base_url, loc)


def _entry(url: etree._Element, base_url: str) -> SitemapEntry | None:
    parts = {_local(child.tag): child for child in url}
    loc = _text(parts.get("loc"))
    if not loc:
        return None
    news = parts.get("news")
    return SitemapEntry(
        loc=_absolute(base_url, loc),
        lastmod=parse_time(_text(parts.get("lastmod"))),
        news=news is not None,
        published_at=parse_time(_text(_child(news, "publication_date"))) if news is not None else None,
        title=_text(_child(news, "title")) if news is not None else None,
        language=_text(_child(news, "publication", "language")) if news is not None else None,
    )


def _text_sitemap(body: bytes, base_url: str) -> SitemapDoc:
    lines = body.decode("utf-8", errors="replace").splitlines()
    urls = [line.strip() for line in lines if line.strip().startswith(("http://", "https://"))]
    return SitemapDoc("text", entries=tuple(SitemapEntry(urljoin(base_url, u)) for u in urls))
