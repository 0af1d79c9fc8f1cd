"""Spider callbacks on responses built in memory: what each yields, with no network at all."""

from __future__ import annotations

import gzip

from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from crawler.failures import CrawlFailure
from crawler.spiders.robots import RobotsSpider
from crawler.spiders.sitemaps import SitemapsSpider
from ledger.articles import ArticleObservation
from ledger.robots import RobotsFetch
from tests.crawler.conftest import SITES


def respond(cls: type[Response], url: str, body: bytes, status: int = 200, **meta: object) -> Response:
    return cls(url=url, body=body, status=status, request=Request(url, meta=meta))


def sitemaps_spider(pages: bool = True) -> SitemapsSpider:
    crawler = get_crawler(SitemapsSpider)
    return SitemapsSpider.from_crawler(
        crawler,
        targets=[("alpha", "alpha.test")],
        origins={"alpha.test": "http://alpha.test"},
        domains={"alpha": ("alpha.test",)},
        pages=pages,
        max_bytes=1_000_000,
    )


def test_robots_callback_reports_the_answer_and_the_redirect() -> None:
    spider = RobotsSpider(targets=[], origins={})
    body = (SITES / "alpha.test" / "robots.txt").read_bytes()
    response = respond(
        TextResponse,
        "http://alpha.test/robots-moved.txt",
        body,
        outlet="alpha",
        domain="alpha.test",
        redirect_urls=["http://alpha.test/robots.txt"],
    )
    [item] = list(spider.parse_robots(response))
    assert isinstance(item, RobotsFetch)
    assert (item.outlet, item.host, item.url, item.final_url, item.status, item.body) == (
        "alpha",
        "alpha.test",
        "http://alpha.test/robots.txt",
        "http://alpha.test/robots-moved.txt",
        200,
        body,
    )
    failing = respond(TextResponse, "http://alpha.test/robots.txt", b"", 503, outlet="alpha", domain="alpha.test")
    fetch, failure = list(spider.parse_robots(failing))
    assert isinstance(fetch, RobotsFetch) and fetch.status == 503
    assert failure == CrawlFailure("alpha", "http://alpha.test/robots.txt", "robots", "http_5xx", "HTTP 503")


def test_sitemap_callback_unpacks_gzip_and_keeps_the_outlets_own_urls() -> None:
    spider = sitemaps_spider()
    body = gzip.compress((SITES / "alpha.test" / "sitemap-articles.xml").read_bytes())
    response = respond(Response, "http://alpha.test/s.xml.gz", body, outlet="alpha", depth=1)
    items = list(spider.parse_sitemap(response))
    assert all(isinstance(i, ArticleObservation) and i.source == "sitemap" for i in items)
    assert len(items) == 7 and "http://elsewhere.test/news/9" not in {i.url for i in items}
    assert set(spider.candidates["alpha"]) == {i.url for i in items}


def test_sitemap_index_children_are_followed_to_a_depth() -> None:
    spider = sitemaps_spider()
    body = (SITES / "alpha.test" / "sitemap_index.xml").read_bytes()
    deep = list(spider.parse_sitemap(respond(Response, "http://alpha.test/i.xml", body, outlet="alpha", depth=3)))
    assert {type(i) for i in deep} == {CrawlFailure} and len(deep) == 4
    shallow = list(spider.parse_sitemap(respond(Response, "http://alpha.test/i.xml", body, outlet="alpha", depth=0)))
    assert [r.meta["depth"] for r in shallow] == [1, 1, 1, 1]


def test_a_page_that_is_not_html_is_a_failure() -> None:
    spider = sitemaps_spider()
    response = respond(Response, "http://alpha.test/news/1.pdf", b"%PDF-1.7", outlet="alpha")
    [failure] = list(spider.parse_page(response))
    assert (failure.kind, failure.detail) == ("not_html", "not an HTML page (no Content-Type)")


def test_a_page_with_another_canonical_is_stored_under_both() -> None:
    spider = sitemaps_spider()
    body = (SITES / "alpha.test" / "news" / "3.html").read_bytes()
    items = list(spider.parse_page(respond(HtmlResponse, "http://alpha.test/news/3", body, outlet="alpha")))
    assert [(i.url, i.words, i.canonical_url) for i in items] == [
        ("http://alpha.test/news/3", 10, "http://alpha.test/news/3-third-story"),
        ("http://alpha.test/news/3-third-story", 10, "http://alpha.test/news/3-third-story"),
    ]
