"""Fetch robots.txt and ``/.well-known/tdmrep.json`` once per host; obey robots.txt.

Takes the place of Scrapy's ``RobotsTxtMiddleware`` so that robots.txt is downloaded once
per host and used three ways: the rules for our own user agent (obeyed when
``ROBOTSTXT_OBEY`` is on), ``Crawl-delay`` (see :mod:`crawler.fetch.middlewares.crawl_delay`) and
the rules for AI crawlers (stored in the host's :class:`~crawler.site.context.SiteContext`). Both
files go through the downloader like any request, so they are archived in the WARC files.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.http.request import NO_CALLBACK

from crawler.fetch.sites import SiteInfo, build_site_info, origin_of, registry_for

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Request meta key marking the site-level requests this middleware makes itself.
SITE_FETCH_META = "licrawl_site_fetch"


class RobotsDisallowed(IgnoreRequest):
    """The host's robots.txt forbids our user agent to fetch the URL."""


class SiteSignalsMiddleware:
    """Downloader middleware: per-host robots.txt + tdmrep.json, fetched once and cached."""

    #: Site files jump the queue: every page of the host waits for them.
    DOWNLOAD_PRIORITY = 1000

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.obey = crawler.settings.getbool("ROBOTSTXT_OBEY")
        self.user_agent = (
            crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings["USER_AGENT"]
        )
        self.max_crawl_delay = crawler.settings.getfloat("LICRAWL_CRAWL_DELAY_MAX")
        self.registry = registry_for(crawler)
        self._pending: dict[str, asyncio.Future[SiteInfo]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteSignalsMiddleware:
        """Build from the crawler's settings."""
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Make sure the host's signals are known, then apply its robots.txt rules."""
        if request.meta.get(SITE_FETCH_META) or request.meta.get("dont_obey_robotstxt"):
            return
        info = await self.site_info(origin_of(request.url))
        if self.obey and not info.allowed(request.url, self.user_agent):
            self.crawler.stats.inc_value("robotstxt/forbidden")
            raise RobotsDisallowed(f"Forbidden by robots.txt for {self.user_agent}")

    async def site_info(self, origin: str) -> SiteInfo:
        """The host's :class:`SiteInfo`, fetching its files on first use."""
        info = self.registry.get(origin)
        if info is not None:
            return info
        pending = self._pending.get(origin)
        if pending is None:
            pending = self._pending[origin] = asyncio.ensure_future(self._fetch(origin))
        # shield: one cancelled page request must not cancel the shared fetch
        return await asyncio.shield(pending)

    async def _fetch(self, origin: str) -> SiteInfo:
        robots_txt, tdmrep_json = await asyncio.gather(
            self._fetch_text(origin + "/robots.txt"),
            self._fetch_text(origin + "/.well-known/tdmrep.json"),
        )
        info = build_site_info(
            origin.split("://", 1)[1], robots_txt, tdmrep_json,
            user_agent=self.user_agent, max_crawl_delay=self.max_crawl_delay,
        )
        self.registry.set(origin, info)
        self._pending.pop(origin, None)
        return info

    async def _fetch_text(self, url: str) -> str | None:
        """The body of ``url`` when it answers 200, else ``None`` (absent or unreachable)."""
        request = Request(
            url,
            priority=self.DOWNLOAD_PRIORITY,
            meta={SITE_FETCH_META: True, "dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        try:
            response: Response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # noqa: BLE001 - any failure means "no such file"
            logger.info("Could not fetch %s: %s", url, exc)
            return None
        if response.status != 200:
            return None
        self.crawler.stats.inc_value("licrawl/site_files")
        if isinstance(response, TextResponse):
            return response.text
        return response.body.decode("utf-8", errors="replace")
