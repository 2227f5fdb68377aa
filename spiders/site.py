"""``site``: start from the seeds and follow links within the hosts in scope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag

from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor

from crawler.spiders.base import LicrawlSpider

#: Content types whose links are followed.
_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


class SiteSpider(LicrawlSpider):
    """Follows ``<a>``/``<area>`` links of HTML pages within the hosts in scope.

    Depth is limited by Scrapy's ``DEPTH_LIMIT`` (``licrawl crawl --depth``), the number of
    pages by ``max_pages``. Links marked ``rel="nofollow"`` are not followed. Redirects
    leaving the hosts in scope are refused (Scrapy's offsite check, via ``allowed_domains``).
    """

    name = "site"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_domains = sorted(self.hosts)
        self.link_extractor = LinkExtractor(unique=True)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """The page, then requests for its in-scope links (HTML pages with status 200 only)."""
        yield self.page_item(response)
        content_type = response.headers.get(b"Content-Type", b"").split(b";")[0].strip().lower()
        if (
            response.status != 200
            or not isinstance(response, TextResponse)
            or content_type not in _HTML_TYPES
        ):
            return
        for link in self.link_extractor.extract_links(response):
            url = urldefrag(link.url)[0]  # one page, whatever the anchor
            if link.nofollow or not self.in_scope(url) or not self.due(url):
                continue
            request = self.page_request(url)
            if request is None:
                return
            yield request
