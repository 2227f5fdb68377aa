"""The spiders' decisions on real Scrapy responses: what they follow and hand on."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import scrapy
from scrapy.http import HtmlResponse, Request, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.core.errors import ErrorRecord
from crawler.core.page import FetchedPage
from crawler.fetch.settings import build_settings
from crawler.spiders.site import SiteSpider
from crawler.spiders.sitemap import SitemapSpider
from crawler.spiders.urls import UrlsSpider

BASE = "https://fieldnotes.example"


def start(spider: Any) -> list[Any]:
    """Everything the spider's async ``start()`` yields."""

    async def collect() -> list[Any]:
        return [item async for item in spider.start()]

    return asyncio.run(collect())


def make(spider_cls: type[scrapy.Spider], **kwargs: Any) -> Any:
    # No reactor: these tests call the spiders' methods directly, nothing is downloaded.
    settings = build_settings({"LICRAWL_CRAWL_ID": "crawl-test",
                               "TWISTED_REACTOR_ENABLED": False})
    crawler = get_crawler(spider_cls, settings.copy_to_dict())
    return spider_cls.from_crawler(crawler, **kwargs)


def html(url: str, body: str, status: int = 200) -> HtmlResponse:
    return HtmlResponse(url, status=status, body=body.encode(),
                        headers={"Content-Type": "text/html; charset=utf-8"},
                        request=Request(url))


PAGE = """<html><body>
<a href="/a">a</a> <a href="https://fieldnotes.example/b#frag">b</a>
<a href="https://other.example/c">other host</a> <a href="mailto:x@y.z">mail</a>
<a href="ftp://fieldnotes.example/f">ftp</a> <a rel="nofollow" href="/nf">nf</a>
<a href="/doc.pdf">pdf by extension</a> <a href="https://sub.fieldnotes.example/d">sub</a>
</body></html>"""


def test_site_spider_follows_links_within_scope() -> None:
    spider = make(SiteSpider, seeds=[BASE + "/"])
    out = list(spider.parse(html(BASE + "/", PAGE)))
    assert isinstance(out[0], FetchedPage) and out[0].url == BASE + "/"
    assert [r.url for r in out[1:]] == [BASE + "/a", BASE + "/b"]
    assert spider.allowed_domains == ["fieldnotes.example"]


def test_site_spider_allow_hosts_and_error_pages() -> None:
    spider = make(SiteSpider, seeds=[BASE + "/"],
                  allow_hosts=["fieldnotes.example", "sub.fieldnotes.example"])
    urls = [r.url for r in spider.parse(html(BASE + "/", PAGE)) if isinstance(r, Request)]
    assert urls == [BASE + "/a", BASE + "/b", "https://sub.fieldnotes.example/d"]
    # an error page is handed on, its links are not followed
    out = list(spider.parse(html(BASE + "/x", PAGE, status=404)))
    assert len(out) == 1 and out[0].status == 404


def test_page_budget_counts_distinct_pages() -> None:
    spider = make(SiteSpider, seeds=[BASE + "/"], max_pages=2)
    assert spider.page_request(BASE + "/") is not None
    assert spider.page_request(BASE + "/a") is not None
    assert spider.page_request(BASE + "/a") is not None  # already counted
    assert spider.page_request(BASE + "/b") is None


def test_non_http_seed_becomes_an_error_record() -> None:
    spider = make(UrlsSpider, seeds=["ftp://fieldnotes.example/x", BASE + "/p"])
    out = start(spider)
    assert isinstance(out[0], ErrorRecord)
    assert (out[0].stage, out[0].reason, out[0].crawl_id) == (
        "fetch", "unsupported-scheme", "crawl-test")
    assert isinstance(out[1], Request) and out[1].url == BASE + "/p"
    assert list(spider.parse(html(BASE + "/p", PAGE)))[1:] == []  # follows nothing


def urlset(*paths: str) -> bytes:
    locs = "".join(f"<url><loc>{BASE}{p}</loc></url>" for p in paths)
    return (f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}'
            "</urlset>").encode()


def test_sitemap_seeds() -> None:
    spider = make(SitemapSpider, seeds=[BASE + "/", BASE + "/news-sitemap.xml"])
    out = start(spider)
    assert [(r.url, r.callback.__name__) for r in out] == [
        (BASE + "/robots.txt", "parse_robots"),
        (BASE + "/news-sitemap.xml", "parse_sitemap")]


def test_sitemap_from_robots_or_default() -> None:
    spider = make(SitemapSpider, seeds=[BASE + "/"])
    robots = TextResponse(BASE + "/robots.txt", body=b"User-agent: *\nDisallow:\n"
                          b"Sitemap: /s1.xml\nSitemap: https://fieldnotes.example/s2.xml.gz\n")
    assert [r.url for r in spider.parse_robots(robots)] == [BASE + "/s1.xml",
                                                            BASE + "/s2.xml.gz"]
    empty = TextResponse(BASE + "/robots.txt", body=b"User-agent: *\nDisallow:\n")
    assert [r.url for r in spider.parse_robots(empty)] == [BASE + "/sitemap.xml"]


def test_sitemap_index_gzip_and_scope() -> None:
    spider = make(SitemapSpider, seeds=[BASE + "/"])
    index = (b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             b"<sitemap><loc>https://fieldnotes.example/a.xml.gz</loc></sitemap>"
             b"</sitemapindex>")
    out = list(spider.parse_sitemap(XmlResponse(BASE + "/sitemap.xml", body=index)))
    assert [(r.url, r.callback.__name__) for r in out] == [(BASE + "/a.xml.gz",
                                                            "parse_sitemap")]
    body = gzip.compress(urlset("/p1", "/p2").replace(
        b"</urlset>", b"<url><loc>https://other.example/x</loc></url></urlset>"))
    gz = scrapy.http.Response(BASE + "/a.xml.gz", body=body,
                              headers={"Content-Type": "application/gzip"})
    assert [r.url for r in spider.parse_sitemap(gz)] == [BASE + "/p1", BASE + "/p2"]


def test_broken_sitemap_is_an_error_record() -> None:
    spider = make(SitemapSpider, seeds=[BASE + "/"])
    out = list(spider.parse_sitemap(html(BASE + "/sitemap.xml", "<html>nope</html>")))
    assert len(out) == 1 and isinstance(out[0], ErrorRecord)
    assert (out[0].reason, out[0].http_status) == ("bad-sitemap", 200)
    missing = list(spider.parse_sitemap(html(BASE + "/sitemap.xml", "", status=404)))
    assert missing[0].reason == "http-404"
