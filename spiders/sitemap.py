"""``sitemap``: fetch the pages listed in a site's sitemaps.

A seed may be a sitemap (``.xml`` or ``.xml.gz``, plain or gzip, urlset or index), or any
other URL of a site (its ``robots.txt`` included), in which case the site's ``/robots.txt``
is read for ``Sitemap:`` lines, and ``/sitemap.xml`` is tried when it names none. Listed
pages outside the hosts in scope are skipped.

robots.txt is fetched once per host: the spider takes it from the site-signals middleware
(:meth:`crawler.fetch.sites.SiteRegistry.fetch`), which fetches it anyway to obey it. Only
when that middleware is not enabled does the spider request robots.txt itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from lxml.etree import XMLSyntaxError
from scrapy.http import Response
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.core.errors import ErrorRecord
from crawler.fetch.sites import origin_of, registry_for
from crawler.spiders.base import LicrawlSpider, is_http_url


def _sitemap_kind(url: str) -> str:
    """``sitemap`` for a sitemap URL, else ``site``."""
    path = urlsplit(url).path.lower()
    if path.endswith((".xml", ".xml.gz")) or "sitemap" in path.rsplit("/", 1)[-1]:
        return "sitemap"
    return "site"


class SitemapSpider(LicrawlSpider):
    """Reads robots.txt ``Sitemap:`` lines, sitemap indexes and (gzip) sitemaps."""

    name = "sitemap"

    async def seed_requests(self, url: str) -> AsyncIterator[scrapy.Request]:
        """A sitemap seed is fetched as a sitemap; any other gives its site's sitemaps."""
        if _sitemap_kind(url) == "sitemap":
            yield self.sitemap_request(url)
            return
        origin = origin_of(url)
        registry = registry_for(self.crawler)
        if registry.fetcher is None:  # no site-signals middleware: read robots.txt here
            yield scrapy.Request(origin + "/robots.txt", callback=self.parse_robots,
                                 errback=self.robots_errback)
            return
        info = await registry.fetch(origin)
        robots_txt = info.robots_txt if info is not None else None
        for sitemap in self.sitemaps_from_robots(robots_txt, origin + "/robots.txt"):
            yield self.sitemap_request(sitemap)

    def sitemap_request(self, url: str) -> scrapy.Request:
        """A request for a sitemap or sitemap index."""
        return scrapy.Request(url, callback=self.parse_sitemap, errback=self.errback)

    @staticmethod
    def sitemaps_from_robots(robots_txt: str | bytes | None, robots_url: str) -> list[str]:
        """The sitemaps a robots.txt names, or the site's ``/sitemap.xml`` when none."""
        urls = [u for u in sitemap_urls_from_robots(robots_txt or "", base_url=robots_url)
                if is_http_url(u)]
        if not urls:
            parts = urlsplit(robots_url)
            urls = [f"{parts.scheme}://{parts.netloc}/sitemap.xml"]
        return urls

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        """The sitemaps named in robots.txt, or ``/sitemap.xml`` when it names none."""
        body = response.body if response.status == 200 else b""
        for url in self.sitemaps_from_robots(body, response.url):
            yield self.sitemap_request(url)

    def robots_errback(self, failure: Any) -> Iterator[scrapy.Request]:
        """robots.txt unreachable: try ``/sitemap.xml``."""
        parts = urlsplit(failure.request.url)
        yield self.sitemap_request(f"{parts.scheme}://{parts.netloc}/sitemap.xml")

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """Sub-sitemaps of an index, pages of a urlset; a broken sitemap is an error."""
        if response.status != 200:
            yield self._sitemap_error(response, f"http-{response.status}",
                                      f"HTTP {response.status}")
            return
        body = response.body
        try:
            if gzip_magic_number(response):
                body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
            sitemap = Sitemap(body)
        except (OSError, ValueError, XMLSyntaxError) as exc:
            yield self._sitemap_error(response, "bad-sitemap", f"{type(exc).__name__}: {exc}")
            return
        if sitemap.type not in ("urlset", "sitemapindex"):
            yield self._sitemap_error(response, "bad-sitemap", f"root element {sitemap.type!r}")
            return
        for entry in sitemap:
            loc = str(entry.get("loc", "")).strip()
            if not is_http_url(loc):
                continue
            if sitemap.type == "sitemapindex":
                yield self.sitemap_request(loc)
            elif (sitemap.type == "urlset" and self.in_scope(loc)
                  and self.due(loc, entry.get("lastmod"))):
                request = self.page_request(loc)
                if request is None:
                    return
                yield request

    def _sitemap_error(self, response: Response, reason: str, detail: str) -> ErrorRecord:
        page = self.page_item(response)
        return ErrorRecord(
            url=response.url, stage="fetch", reason=reason, detail=detail[:500],
            http_status=response.status, fetched_at=page.fetched_at or datetime.now(UTC),
            warc_file=page.warc_file, warc_record_id=page.warc_record_id,
            crawl_id=self.crawl_id,
        )
