"""A crawl process as a member of a fleet: what the scheduler adds when the frontier is in
Redis (:mod:`crawler.fetch.fleet`).

* A request's host place is given back as soon as the request leaves the downloader
  (``request_left_downloader``), so the host's delay counts from then, fleet-wide.
* robots.txt and tdmrep.json are read once per host for the fleet: what this process fetched
  is stored in Redis with the WARC references of both files, and a host another process
  already read is taken from Redis before its first request is handed out here.
* When no host may be fetched yet, the engine is woken when the first one may (Scrapy's
  engine otherwise asks the scheduler again only every 5 seconds when idle).
* When Redis stays away past the frontier's bound, the spider is closed with the reason
  :data:`DOWN_REASON` (what is fetched is written; what Redis could not take is spilled).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals

from crawler.core.page import WarcRef
from crawler.fetch.fleet import (
    DEFAULT_GIVE_UP_AFTER,
    DEFAULT_LEASE_TTL,
    RedisFrontier,
)
from crawler.fetch.middlewares.site_signals import SITE_FETCH_META
from crawler.fetch.middlewares.warc_recorder import WARC_META
from crawler.fetch.sites import SiteInfo, build_site_info, origin_of, registry_for

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: The spider's close reason when the frontier's Redis went away for good.
DOWN_REASON = "frontier_unavailable"
_ROBOTS, _TDMREP = "/robots.txt", "/.well-known/tdmrep.json"
_NONE = "\x00"  # stored for "the host has no such file"


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
        self.registry.listeners.append(self._share_site)
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

    def _share_site(self, origin: str, info: SiteInfo) -> None:
        """This process read a host's files: store them for the fleet (unless robots.txt
        was unavailable: then each process tries again on its own)."""
        if info.unavailable is not None:
            return
        status, tdmrep = self._site_files.pop(origin + _TDMREP, (0, ""))
        self._site_files.pop(origin + _ROBOTS, None)
        fields = {"robots_txt": info.robots_txt if info.robots_txt is not None else _NONE,
                  "tdmrep_json": tdmrep if status == 200 else _NONE}
        self.frontier.put_site(origin, fields, info.crawl_delay)

    def load_site(self, url: str) -> None:
        """Before a request goes out: its host's files from the fleet, when another
        process read them (so this one does not fetch them again)."""
        origin = origin_of(url)
        if self.registry.get(origin) is not None:
            return
        stored = self.frontier.get_site(origin)
        if stored is None:
            return
        settings = self.crawler.settings
        robots = stored.get("robots_txt", _NONE)
        tdmrep = stored.get("tdmrep_json", _NONE)
        info = build_site_info(
            origin.split("://", 1)[1], None if robots == _NONE else robots,
            None if tdmrep == _NONE else tdmrep,
            user_agent=settings.get("ROBOTSTXT_USER_AGENT") or settings["USER_AGENT"],
            max_crawl_delay=settings.getfloat("LICRAWL_CRAWL_DELAY_MAX"))
        self.registry.set(origin, info, notify=False)
        self.crawler.stats.inc_value("licrawl/fleet_site_files_shared")

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
