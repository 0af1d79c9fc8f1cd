"""What an article page says about itself: canonical URL, title, publication time, language, word count.

Sources, in order of trust: JSON-LD (schema.org ``NewsArticle``/``Article``/``BlogPosting``), Open Graph and
``article:*`` meta tags, other common meta tags (``pubdate``, ``DC.date.issued``, ``itemprop``), then the
markup (``<title>``, ``<time datetime>``). Words are counted in ``articleBody`` when JSON-LD gives it,
otherwise in the page's ``articleBody``/``<article>``/``<main>``/``<body>`` text, leaving out scripts,
styles, navigation, asides, footers and forms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scrapy.http import HtmlResponse

from crawler.dates import parse_time

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "blogposting",
    "liveblogposting",
    "socialmediaposting",
}
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_SKIP = "ancestor::script or ancestor::style or ancestor::noscript or ancestor::template or ancestor::nav"
_SKIP += " or ancestor::aside or ancestor::footer or ancestor::form"
_PUBLISHED_META = (
    '//meta[@property="article:published_time"]/@content',
    '//meta[@itemprop="datePublished"]/@content',
    '//meta[@name="pubdate" or @name="publishdate" or @name="publish-date" or @name="date"]/@content',
    '//meta[@name="DC.date.issued" or @name="dc.date.issued" or @name="dcterms.created"]/@content',
    '//meta[@name="parsely-pub-date" or @name="sailthru.date"]/@content',
)


@dataclass(frozen=True)
class PageInfo:
    url: str
    canonical_url: str | None
    amp_url: str | None
    title: str | None
    published_at: datetime | None
    modified_at: datetime | None
    language: str | None
    words: int


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def _rel(response: HtmlResponse, rel: str) -> str | None:
    xpath = f'//link[contains(concat(" ", translate(normalize-space(@rel), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"), " "), " {rel} ")]/@href'  # noqa: E501
    href = response.xpath(xpath).get()
    return response.urljoin(href.strip()) if href and href.strip() else None


def _json_ld(response: HtmlResponse) -> Iterator[dict[str, Any]]:
    for block in response.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            data = json.loads(block)
        except json.JSONDecodeError:
            continue  # broken JSON-LD is common on the web; the meta tags still count
        yield from _nodes(data)


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item)
    elif isinstance(data, dict):
        yield data
        yield from _nodes(data.get("@graph", []))


def _article_ld(response: HtmlResponse) -> dict[str, Any]:
    for node in _json_ld(response):
        types = node.get("@type", [])
        names = {t.lower() for t in ([types] if isinstance(types, str) else types) if isinstance(t, str)}
        if names & ARTICLE_TYPES:
            return node
    return {}


def _first(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


def _meta(response: HtmlResponse, prop: str) -> str | None:
    return response.xpath(f'//meta[@property="{prop}" or @name="{prop}"]/@content').get()


def _published(response: HtmlResponse, ld: dict[str, Any]) -> datetime | None:
    candidates = [ld.get("datePublished"), *(response.xpath(x).get() for x in _PUBLISHED_META)]
    candidates.append(response.xpath("(//article//time/@datetime | //time/@datetime)[1]").get())
    for value in candidates:
        parsed = parse_time(value) if isinstance(value, str) else None
        if parsed is not None:
            return parsed
    return None


def _words(response: HtmlResponse, ld: dict[str, Any]) -> int:
    body = ld.get("articleBody")
    if isinstance(body, str) and body.strip():
        return count_words(body)
    for xpath in ('//*[@itemprop="articleBody"]', "//article", "//main", "//body"):
        found = [
            count_words(" ".join(node.xpath(f".//text()[not({_SKIP})]").getall())) for node in response.xpath(xpath)
        ]
        if found and max(found) > 0:
            return max(found)
    return 0


def parse_article(response: HtmlResponse) -> PageInfo:
    ld = _article_ld(response)
    in_language = ld.get("inLanguage")
    return PageInfo(
        url=response.url,
        canonical_url=_rel(response, "canonical"),
        amp_url=_rel(response, "amphtml"),
        title=_first(
            _meta(response, "og:title"),
            ld.get("headline"),
            _meta(response, "twitter:title"),
            response.xpath("//title/text()").get(),
            response.xpath("string(//h1)").get(),
        ),
        published_at=_published(response, ld),
        modified_at=parse_time(_first(_meta(response, "article:modified_time"), ld.get("dateModified"))),
        language=_first(
            response.xpath("/html/@lang").get(),
            in_language if isinstance(in_language, str) else None,
            _meta(response, "og:locale"),
        ),
        words=_words(response, ld),
    )
