"""Fetch robots.txt and ``/.well-known/tdmrep.json`` once per host; obey robots.txt.

Takes the place of Scrapy's ``RobotsTxtMiddleware`` so that robots.txt is downloaded once
per host and used four ways: the rules for our own user agent (obeyed when
``ROBOTSTXT_OBEY`` is on), ``Crawl-delay`` (see :mod:`crawler.fetch.middlewares.crawl_delay`),
the rules for AI crawlers (stored in the host's :class:`~crawler.site.context.SiteContext`)
and its ``Sitemap:`` lines (read by the sitemap spider through
:meth:`~crawler.fetch.sites.SiteRegistry.fetch`). Both files go through the downloader like
any request (retries included), so they are archived in the WARC files.

robots.txt answers are read as RFC 9309 section 2.3.1 says: 2xx is parsed; 4xx (and
redirects that lead nowhere) mean there is none, everything is allowed; 5xx, 429 (as
Google does), a network error or a timeout mean it is *unavailable*, and nothing of the
host is allowed until a later fetch succeeds. That later fetch happens when a request for
the host arrives at least ``LICRAWL_ROBOTS_REFETCH_DELAY`` seconds after the failed one
(doubling after each further failure), at most ``LICRAWL_ROBOTS_REFETCHES`` times; after
that the host stays disallowed for the rest of the crawl. Every request refused meanwhile
ends as a :class:`RobotsUnavailable` failure (an error record ``robots-unavailable``).

In a crawl fleet (:attr:`~crawler.fetch.sites.SiteRegistry.shared`) the fleet fetches a
host's files once: the process that claims the host fetches them while the others wait for
its result, and an unavailable robots.txt is shared with its backoff, so the refetches
above count for the fleet, not for each process.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.http.request import NO_CALLBACK

from crawler.fetch.sites import (
    SharedFailure,
    SiteInfo,
    build_site_info,
    origin_of,
    registry_for,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Request meta key marking the site-level requests this middleware makes itself.
SITE_FETCH_META = "licrawl_site_fetch"

#: Seconds after a failed robots.txt fetch before the next one may start (doubling).
DEFAULT_REFETCH_DELAY = 60.0
#: robots.txt fetches after the first failed one, at most.
DEFAULT_REFETCHES = 3


class RobotsDisallowed(IgnoreRequest):
    """The host's robots.txt forbids our user agent to fetch the URL."""


class RobotsUnavailable(IgnoreRequest):
    """The host's robots.txt could not be read (5xx, 429, network error): disallow all."""


def unavailable_reason(status: int) -> str | None:
    """Why a robots.txt answer with HTTP ``status`` means "disallow all", else ``None``.

    5xx is a server error (RFC 9309 section 2.3.1.4); 429 asks us to come back later,
    which Google's crawler also treats as a server error.
    """
    if status >= 500 or status == 429:
        return f"robots.txt answered HTTP {status}"
    return None


@dataclass(slots=True)
class _Unreachable:
    """A host whose last robots.txt fetch failed."""

    refetches: int  # fetches made after the first failed one
    due: float  # time.monotonic() from which the next fetch may start
    tdmrep_json: str | None  # fetched with the first robots.txt; not fetched again


class SiteSignalsMiddleware:
    """Downloader middleware: per-host robots.txt + tdmrep.json, fetched once and cached."""

    #: Site files jump the queue: every page of the host waits for them.
    DOWNLOAD_PRIORITY = 1000

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.obey = settings.getbool("ROBOTSTXT_OBEY")
        self.user_agent = settings.get("ROBOTSTXT_USER_AGENT") or settings["USER_AGENT"]
        self.max_crawl_delay = settings.getfloat("LICRAWL_CRAWL_DELAY_MAX")
        self.refetch_delay = settings.getfloat("LICRAWL_ROBOTS_REFETCH_DELAY",
                                               DEFAULT_REFETCH_DELAY)
        self.max_refetches = settings.getint("LICRAWL_ROBOTS_REFETCHES", DEFAULT_REFETCHES)
        self.registry = registry_for(crawler)
        self.registry.fetcher = self.site_info
        self._pending: dict[str, asyncio.Future[SiteInfo]] = {}
        self._unreachable: dict[str, _Unreachable] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteSignalsMiddleware:
        """Build from the crawler's settings."""
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Make sure the host's signals are known, then apply its robots.txt rules."""
        if request.meta.get(SITE_FETCH_META) or request.meta.get("dont_obey_robotstxt"):
            return
        info = await self.site_info(origin_of(request.url))
        if not self.obey:
            return
        if info.unavailable is not None:
            self.crawler.stats.inc_value("robotstxt/unavailable")
            raise RobotsUnavailable(f"{info.unavailable}: all of the host is disallowed")
        if not info.allowed(request.url, self.user_agent):
            self.crawler.stats.inc_value("robotstxt/forbidden")
            raise RobotsDisallowed(f"Forbidden by robots.txt for {self.user_agent}")

    async def site_info(self, origin: str) -> SiteInfo:
        """The host's :class:`SiteInfo`, fetching its files on first use.

        A host whose robots.txt was unavailable has it fetched again once the backoff has
        passed (see the module documentation).
        """
        info = self.registry.get(origin)
        if info is not None and not self._refetch_due(origin):
            return info
        pending = self._pending.get(origin)
        if pending is None:
            pending = self._pending[origin] = asyncio.ensure_future(self._fetch(origin))
        # shield: one cancelled page request must not cancel the shared fetch
        return await asyncio.shield(pending)

    def _refetch_due(self, origin: str) -> bool:
        state = self._unreachable.get(origin)
        return (state is not None and state.refetches < self.max_refetches
                and time.monotonic() >= state.due)

    async def _fetch(self, origin: str) -> SiteInfo:
        shared, claimed = self.registry.shared, False
        try:
            if shared is not None:  # a fleet: another process may have read it, or be at it
                outcome = await shared.claim(origin)
                if isinstance(outcome, SiteInfo):
                    self._unreachable.pop(origin, None)
                    self.registry.set(origin, outcome)
                    return outcome
                claimed = outcome is None or outcome.mine
                if outcome is not None:
                    self._unreachable[origin] = _Unreachable(
                        outcome.refetches, time.monotonic() + outcome.retry_in,
                        outcome.tdmrep_json)
                    if not outcome.mine:
                        logger.info("%s/robots.txt: %s (read by another process of the "
                                    "fleet); nothing of the host is fetched until it can be "
                                    "read", origin, outcome.reason)
                        return self._remember(origin, None, outcome.tdmrep_json,
                                              outcome.reason)
            state = self._unreachable.get(origin)
            if state is None:
                (robots_txt, unavailable), tdmrep_json = await asyncio.gather(
                    self._fetch_robots(origin),
                    self._fetch_text(origin + "/.well-known/tdmrep.json"),
                )
                refetches = 0
            else:
                robots_txt, unavailable = await self._fetch_robots(origin)
                tdmrep_json, refetches = state.tdmrep_json, state.refetches + 1
            if unavailable is None:
                self._unreachable.pop(origin, None)
            else:
                wait = self.refetch_delay * 2**refetches
                self._unreachable[origin] = _Unreachable(
                    refetches, time.monotonic() + wait, tdmrep_json)
                if shared is not None:
                    shared.failed(origin, SharedFailure(
                        unavailable, refetches,
                        wait if refetches < self.max_refetches else math.inf, tdmrep_json))
                logger.warning("%s/robots.txt: %s; nothing of the host is fetched until it "
                               "can be read", origin, unavailable)
            info = self._remember(origin, robots_txt, tdmrep_json, unavailable)
            if shared is not None and unavailable is None:
                shared.read(origin, info)
            return info
        finally:
            self._pending.pop(origin, None)
            if claimed and shared is not None:
                shared.unclaim(origin)

    def _remember(self, origin: str, robots_txt: str | None, tdmrep_json: str | None,
                  unavailable: str | None) -> SiteInfo:
        """The host's :class:`SiteInfo` from its files, kept in the registry."""
        info = build_site_info(
            origin.split("://", 1)[1], robots_txt, tdmrep_json,
            user_agent=self.user_agent, max_crawl_delay=self.max_crawl_delay,
            unavailable=unavailable,
        )
        self.registry.set(origin, info)
        return info

    async def _fetch_robots(self, origin: str) -> tuple[str | None, str | None]:
        """``(text, None)`` when read; ``(None, None)`` when there is none (allow all);
        ``(None, why)`` when it is unavailable (disallow all)."""
        try:
            response = await self._download(origin + "/robots.txt")
        except IgnoreRequest as exc:
            message = str(exc).lower()
            if "redirect" in message or "offsite" in message:
                # redirects that lead to no robots.txt: none (RFC 9309 section 2.3.1.2)
                return None, None
            return None, f"robots.txt unreachable ({type(exc).__name__}: {exc})"
        except Exception as exc:  # noqa: BLE001 - network errors and timeouts alike
            return None, f"robots.txt unreachable ({type(exc).__name__}: {exc})"
        reason = unavailable_reason(response.status)
        if reason is not None:
            return None, reason
        if not 200 <= response.status < 300:
            return None, None
        return self._text(response), None

    async def _fetch_text(self, url: str) -> str | None:
        """The body of ``url`` when it answers 200, else ``None`` (absent or unreachable)."""
        try:
            response = await self._download(url)
        except Exception as exc:  # noqa: BLE001 - any failure means "no such file"
            logger.info("Could not fetch %s: %s", url, exc)
            return None
        if response.status != 200:
            return None
        return self._text(response)

    async def _download(self, url: str) -> Response:
        request = Request(
            url,
            priority=self.DOWNLOAD_PRIORITY,
            meta={SITE_FETCH_META: True, "dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        return await self.crawler.engine.download_async(request)

    def _text(self, response: Response) -> str:
        self.crawler.stats.inc_value("licrawl/site_files")
        if isinstance(response, TextResponse):
            return response.text
        return response.body.decode("utf-8", errors="replace")
