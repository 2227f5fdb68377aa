"""A crawl process as a member of a fleet: what the scheduler adds when the frontier is in
Redis (:mod:`crawler.fetch.fleet`).

* A request's host place is given back as soon as the request leaves the downloader
  (``request_left_downloader``), so the host's delay counts from then, fleet-wide.
* robots.txt and tdmrep.json are read once per host for the fleet: what this process fetched
  is stored in Redis with the WARC references of both files, and a host another process
  already read is taken from Redis when the site-signals middleware first asks for it
  (:meth:`FleetMember.claim`). The process that fetches a host's files holds a claim on the
  host in Redis meanwhile; the others wait for its result. An unavailable robots.txt (5xx,
  429, unreachable) is stored with its backoff: the fleet fetches it again once when it is
  due, not once per process.
* When no host may be fetched yet, the engine is woken when the first one may (Scrapy's
  engine otherwise asks the scheduler again only every 5 seconds when idle).
* When Redis stays away past the frontier's bound, the spider is closed with the reason
  :data:`DOWN_REASON` (what is fetched is written; what Redis could not take is spilled).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from scrapy import signals

from crawler.core.page import WarcRef
from crawler.fetch.fleet import (
    DEFAULT_GIVE_UP_AFTER,
    DEFAULT_LEASE_TTL,
    FrontierUnavailable,
    RedisFrontier,
)
from crawler.fetch.middlewares.site_signals import SITE_FETCH_META
from crawler.fetch.middlewares.warc_recorder import WARC_META
from crawler.fetch.sites import (
    SharedFailure,
    SiteInfo,
    build_site_info,
    origin_of,
    registry_for,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: The spider's close reason when the frontier's Redis went away for good.
DOWN_REASON = "frontier_unavailable"
_ROBOTS, _TDMREP = "/robots.txt", "/.well-known/tdmrep.json"
_NONE = "\x00"  # stored for "the host has no such file"
#: Seconds between two looks at a host whose files another process is fetching.
CLAIM_POLL = 0.1


def _failure(stored: dict[str, str]) -> SharedFailure | None:
    """The unavailable robots.txt stored for a host, or ``None``."""
    if "unavailable" not in stored:
        return None
    tdmrep = stored.get("tdmrep_json", _NONE)
    return SharedFailure(stored["unavailable"], int(stored.get("refetches", "0")),
                         float(stored.get("retry_at", "0")) - time.time(),
                         None if tdmrep == _NONE else tdmrep)


def open_fleet_frontier(crawler: Crawler, spill_dir: str) -> RedisFrontier:
    """The crawl's :class:`RedisFrontier`, from its ``LICRAWL_FRONTIER*`` settings."""
    settings = crawler.settings
    concurrency = (settings.getint("LICRAWL_FLEET_HOST_CONCURRENCY")
                   or settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") or 1)
    return RedisFrontier(
        settings["LICRAWL_FRONTIER"], settings.get("LICRAWL_CRAWL_NAME") or "licrawl",
        delay=settings.getfloat("DOWNLOAD_DELAY"), host_concurrency=concurrency,
        lease_ttl=settings.getfloat("LICRAWL_LEASE_TTL", DEFAULT_LEASE_TTL),
        give_up_after=settings.getfloat("LICRAWL_FRONTIER_TIMEOUT", DEFAULT_GIVE_UP_AFTER),
        spill_dir=spill_dir)


class FleetMember:
    """Signals, shared site files and engine wake-ups of one fleet process."""

    def __init__(self, crawler: Crawler, frontier: RedisFrontier, key_meta: str) -> None:
        self.crawler = crawler
        self.frontier = frontier
        self.key_meta = key_meta
        self.registry = registry_for(crawler)
        self._site_files: dict[str, tuple[int, str]] = {}  # url -> (status, text)
        self._wake: Any = None
        self.registry.shared = self
        settings = crawler.settings
        retries = settings.getint("RETRY_TIMES") if settings.getbool("RETRY_ENABLED") else 0
        #: Seconds a claim on a host's robots.txt holds: its fetch with every retry.
        self.claim_ttl = (settings.getfloat("DOWNLOAD_TIMEOUT") * (retries + 1)
                          + settings.getfloat("LICRAWL_RETRY_BACKOFF_MAX") * retries + 5.0)
        crawler.signals.connect(self._left_downloader, signal=signals.request_left_downloader)
        crawler.signals.connect(self._response_received, signal=signals.response_received)
        frontier.on_down = self._down

    # -- host places ------------------------------------------------------------------
    def _left_downloader(self, request: Request) -> None:
        key = request.meta.get(self.key_meta)
        if key is not None and not request.meta.get(SITE_FETCH_META):
            self.frontier.release(key)

    # -- site files -------------------------------------------------------------------
    def _response_received(self, response: Response, request: Request) -> None:
        if not request.meta.get(SITE_FETCH_META):
            return
        url = request.url
        name = "robots" if url.endswith(_ROBOTS) else "tdmrep" if url.endswith(_TDMREP) else None
        if name is None:
            return
        text = response.body.decode("utf-8", errors="replace")
        self._site_files[url] = (response.status, text)
        ref = request.meta.get(WARC_META)
        if ref is not None and ref[0] and ref[1]:
            self.frontier.site_warc(origin_of(url), name, WarcRef(ref[0], ref[1]))

    # -- one robots.txt fetch per host for the fleet (SharedSites) -----------------------
    def read(self, origin: str, info: SiteInfo) -> None:
        """See :meth:`crawler.fetch.sites.SharedSites.read`: the files with their WARC
        references (an unavailable robots.txt is shared by :meth:`failed`)."""
        status, tdmrep = self._site_files.pop(origin + _TDMREP, (0, ""))
        self._site_files.pop(origin + _ROBOTS, None)
        fields = {"robots_txt": info.robots_txt if info.robots_txt is not None else _NONE,
                  "tdmrep_json": tdmrep if status == 200 else _NONE}
        self.frontier.put_site(origin, fields, info.crawl_delay)

    def _site_info(self, origin: str, stored: dict[str, str]) -> SiteInfo:
        """The :class:`SiteInfo` of files another process stored for ``origin``."""
        settings = self.crawler.settings
        robots = stored.get("robots_txt", _NONE)
        tdmrep = stored.get("tdmrep_json", _NONE)
        return build_site_info(
            origin.split("://", 1)[1], None if robots == _NONE else robots,
            None if tdmrep == _NONE else tdmrep,
            user_agent=settings.get("ROBOTSTXT_USER_AGENT") or settings["USER_AGENT"],
            max_crawl_delay=settings.getfloat("LICRAWL_CRAWL_DELAY_MAX"))

    async def claim(self, origin: str) -> SiteInfo | SharedFailure | None:
        """See :meth:`crawler.fetch.sites.SharedSites.claim`. While another process holds
        the host's claim this one asks Redis again every :data:`CLAIM_POLL` seconds; a
        claim whose holder died runs out after :attr:`claim_ttl`. With Redis away this
        process fetches the files itself."""
        while True:
            try:
                stored = self.frontier.site_fields(origin)
                if "robots_txt" in stored:
                    self.crawler.stats.inc_value("licrawl/fleet_site_files_shared")
                    return self._site_info(origin, stored)
                failure = _failure(stored)
                if failure is not None and failure.retry_in > 0:
                    return failure
                if self.frontier.claim_site(origin, self.claim_ttl):
                    return None if failure is None else replace(failure, mine=True)
            except FrontierUnavailable:
                return None
            await asyncio.sleep(CLAIM_POLL)

    def failed(self, origin: str, failure: SharedFailure) -> None:
        """See :meth:`crawler.fetch.sites.SharedSites.failed`."""
        self.frontier.site_failed(origin, failure.reason, failure.refetches,
                                  time.time() + failure.retry_in,
                                  _NONE if failure.tdmrep_json is None else failure.tdmrep_json)

    def unclaim(self, origin: str) -> None:
        """See :meth:`crawler.fetch.sites.SharedSites.unclaim`."""
        self.frontier.unclaim_site(origin)

    # -- engine wake-ups ----------------------------------------------------------------
    def wake_later(self) -> None:
        """No request may go out now but some will: ask the engine again when one may."""
        if self._wake is not None and self._wake.active():
            return
        from twisted.internet import reactor

        hint = self.frontier.wait_hint
        delay = 0.1 if hint < 0 else min(max(hint, 0.005), 1.0)
        self._wake = reactor.callLater(delay, self._kick)  # type: ignore[attr-defined]

    def _kick(self) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None) if engine is not None else None
        if slot is not None:
            slot.nextcall.schedule()

    def cancel(self) -> None:
        """Stop the wake-ups (the scheduler closes)."""
        if self._wake is not None and self._wake.active():
            self._wake.cancel()

    # -- Redis gone ----------------------------------------------------------------------
    def _down(self, why: str) -> None:
        from twisted.internet import reactor

        self.crawler.stats.set_value("licrawl/frontier_down", why)
        reactor.callFromThread(self._close_spider)  # type: ignore[attr-defined]

    def _close_spider(self) -> None:
        engine = self.crawler.engine
        if engine is None or getattr(engine, "_slot", None) is None:
            return
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(engine.close_spider_async(reason=DOWN_REASON))
