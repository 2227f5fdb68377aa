"""Honour robots.txt ``Crawl-delay`` (Scrapy ignores it).

The delay for our user agent comes from :class:`~crawler.fetch.sites.SiteRegistry` (filled
by :class:`~crawler.fetch.middlewares.site_signals.SiteSignalsMiddleware`, which runs first). It
becomes the floor of the host's downloader slot delay, without jitter, before each request
of that host is queued and again after each response, after AutoThrottle has adjusted the
slot (AutoThrottle would otherwise bring the delay back down to ``DOWNLOAD_DELAY``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals

from crawler.fetch.sites import origin_of, registry_for

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class CrawlDelayMiddleware:
    """Downloader middleware keeping each host's slot delay at or above its Crawl-delay."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.registry = registry_for(crawler)
        # Connected after AutoThrottle's handler (extensions are built before the
        # downloader), so this runs after it on every downloaded response.
        crawler.signals.connect(self._response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        """Build for ``crawler``."""
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Before the request enters its slot's queue, set the slot's delay floor."""
        self._apply(request)

    def _response_downloaded(self, response: Response, request: Request) -> None:
        self._apply(request)

    def _apply(self, request: Request) -> None:
        info = self.registry.get(origin_of(request.url))
        if info is None or info.crawl_delay <= 0:
            return
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            # The slot is created when the request is queued; create it with the delay.
            downloader.per_slot_settings.setdefault(
                key, {"delay": info.crawl_delay, "jitter": 0.0}
            )
            return
        slot.jitter = 0.0
        if slot.delay < info.crawl_delay:
            slot.delay = info.crawl_delay
