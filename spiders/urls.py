"""``urls``: fetch a list of URLs, follow nothing."""

from __future__ import annotations

from crawler.spiders.base import LicrawlSpider


class UrlsSpider(LicrawlSpider):
    """Fetches exactly the seeds (redirects included); links are not followed."""

    name = "urls"
