"""Scrapy scheduler and spider middleware that keep the crawl in a frontier on disk.

:class:`FrontierScheduler` (Scrapy's ``SCHEDULER`` setting) stores every request in the
frontier as it is scheduled, serialized with :meth:`scrapy.Request.to_dict`,
and is the crawl's seen-set (it takes the place of Scrapy's dupefilter): a request whose
fingerprint was seen is dropped (Scrapy then sends ``request_dropped``) unless it has
``dont_filter``. Each request it hands out carries its frontier key in ``meta``
(:data:`KEY_META`); Scrapy copies meta into the requests its middlewares derive from it, so
a retry puts its entry back in the queue and a redirect target takes over from the request
that redirected (which is done). robots.txt and tdmrep.json are downloaded by the site-signals
middleware through the engine directly and never enter the frontier.

:class:`FrontierSpiderMiddleware` sees each response's output: the requests it yields are
scheduled first, then the page's WARC record is noted (``fetched``), then the page item goes
to the pipeline; a response that yields no item (a sitemap, robots.txt read for sitemaps) is
done once its requests are scheduled. The sink marks the rest done as rows are published
and error records written (:class:`crawler.fetch.frontier.FrontierObserver`).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.utils.request import request_from_dict

from crawler.core.page import FetchedPage, WarcRef
from crawler.fetch.frontier import (
    FRONTIER_FILE,
    Frontier,
    SqliteFrontier,
    attach_frontier,
    frontier_for,
)
from crawler.fetch.job import job_dir
from crawler.fetch.middlewares.warc_recorder import WarcRecorderMiddleware
from crawler.fetch.pipeline import CrawlPipeline
from crawler.fetch.resume import rebuild_pages

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.spiders import Spider

logger = logging.getLogger(__name__)

#: Request meta key: the frontier key of the request this one is (or was derived from).
KEY_META = "licrawl_frontier_key"

def frontier_path(settings: Any) -> Path:
    """Where the crawl's frontier lives: in the job folder (:func:`~crawler.fetch.job.job_dir`)."""
    return job_dir(settings) / FRONTIER_FILE


class FrontierScheduler(BaseScheduler):
    """A Scrapy scheduler backed by a :class:`~crawler.fetch.frontier.Frontier`."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.frontier: Frontier | None = None
        #: Requests that cannot be serialized (a callback that is not a spider method):
        #: kept in memory, so they do not survive a crash.
        self._memory: dict[str, Request] = {}
        #: Set when the frontier is shared by a fleet (``LICRAWL_FRONTIER``, Redis).
        self.fleet: Any = None
        crawler.signals.connect(self._rebuild, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        """Build for ``crawler``."""
        return cls(crawler)

    def open(self, spider: Spider) -> None:
        """Open the frontier; requests leased by a run that died go back to the queue."""
        self.spider = spider
        frontier: Frontier
        if self.crawler.settings.get("LICRAWL_FRONTIER"):
            from crawler.fetch.fleet_crawl import FleetMember, open_fleet_frontier

            fleet_frontier = open_fleet_frontier(
                self.crawler, str(frontier_path(self.crawler.settings).parent))
            self.fleet = FleetMember(self.crawler, fleet_frontier, KEY_META)
            frontier = fleet_frontier
        else:
            frontier = SqliteFrontier(frontier_path(self.crawler.settings))
        requeued = frontier.requeue_leases()
        if requeued:
            logger.info("Frontier: %d request(s) in flight when the last run stopped are "
                        "queued again", requeued)
        self.frontier = frontier
        attach_frontier(self.crawler, frontier)

    async def _rebuild(self) -> None:
        """Pages fetched by a run that died, whose rows were not published: from WARC."""
        if self.frontier is not None:
            await rebuild_pages(self.crawler, self.frontier,
                                Path(self.crawler.settings["LICRAWL_OUT_DIR"]),
                                self.crawler.get_item_pipeline(CrawlPipeline))

    def close(self, reason: str) -> None:
        """Close the frontier: what is queued stays queued for the next run."""
        if self.fleet is not None:
            self.fleet.cancel()
        if self.frontier is not None:
            self.frontier.close()
            attach_frontier(self.crawler, None)

    def has_pending_requests(self) -> bool:
        """Whether a request is waiting in the frontier."""
        return self.frontier is not None and self.frontier.has_queued()

    def enqueue_request(self, request: Request) -> bool:
        """Store ``request`` unless its fingerprint was seen (``dont_filter`` overrides)."""
        assert self.frontier is not None, "scheduler not open"
        key = self.crawler.request_fingerprinter.fingerprint(request).hex()
        parent = request.meta.get(KEY_META)
        if not request.dont_filter and parent is None and self.frontier.seen(key):
            self.stats.inc_value("dupefilter/filtered")  # most links: no need to serialize
            return False
        chain = request.meta.get("redirect_urls") or [request.url]
        try:
            payload = pickle.dumps(self._as_dict(request), protocol=pickle.HIGHEST_PROTOCOL)
        except (ValueError, TypeError, AttributeError, pickle.PicklingError) as exc:
            logger.warning("Request %s kept in memory only (cannot be stored: %s)",
                           request, exc)
            payload = b""
        queued = self.frontier.enqueue(
            key, request.url, payload, priority=request.priority,
            depth=int(request.meta.get("depth", 0)), origin=chain[0],
            force=request.dont_filter, parent=parent)
        if not queued:
            self.stats.inc_value("dupefilter/filtered")
            return False
        if not payload:
            self._memory[key] = request
        self.stats.inc_value("scheduler/enqueued")
        return True

    def _as_dict(self, request: Request) -> dict[str, Any]:
        """``request.to_dict(spider=...)``, without its search of every spider attribute for
        the callback's name (``inspect.getmembers``, 0.2 ms a request): a bound method of
        the spider is named by its function's name, checked."""
        names: dict[str, str | None] = {}
        for field in ("callback", "errback"):
            func = getattr(request, field)
            if func is None:
                names[field] = None
                continue
            name = getattr(getattr(func, "__func__", None), "__name__", None)
            if (getattr(func, "__self__", None) is not self.spider or name is None
                    or getattr(getattr(self.spider, name, None), "__func__", None)
                    is not func.__func__):
                return request.to_dict(spider=self.spider)  # anything else: Scrapy's way
            names[field] = name
        data = request.replace(callback=None, errback=None).to_dict()
        data.update(names)
        return data

    def next_request(self) -> Request | None:
        """The next request from the frontier (it is now leased)."""
        assert self.frontier is not None, "scheduler not open"
        lease = self.frontier.lease()
        if lease is None:
            if self.fleet is not None and self.frontier.has_queued():
                self.fleet.wake_later()  # a host may be fetched later
            return None
        if lease.payload:
            request = request_from_dict(pickle.loads(lease.payload), spider=self.spider)  # noqa: S301 - our own file
        else:
            memory = self._memory.pop(lease.key, None)
            if memory is None:  # an unserializable request of a run that died: lost
                logger.error("Frontier: request %s could not be stored and is lost",
                             lease.key)
                self.frontier.mark_done([lease.key])
                return None
            request = memory
        request.meta[KEY_META] = lease.key
        self.stats.inc_value("scheduler/dequeued")
        return request


class FrontierSpiderMiddleware:
    """Spider middleware: children scheduled before their page; pages noted as fetched."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._recorder: WarcRecorderMiddleware | None = None
        crawler.signals.connect(self._find_recorder, signal=signals.engine_started)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierSpiderMiddleware:
        """Build for ``crawler``."""
        return cls(crawler)

    def _find_recorder(self) -> None:
        assert self.crawler.engine is not None
        for mw in self.crawler.engine.downloader.middleware.middlewares:
            if isinstance(mw, WarcRecorderMiddleware):
                self._recorder = mw

    def process_spider_output(self, response: Response, result: Iterable[Any]
                              ) -> Iterator[Any]:
        """Requests first, then the response's items (after noting their WARC record)."""
        items: list[Any] = []
        for output in result:
            if isinstance(output, Request):
                yield output
            else:
                items.append(output)
        self._note(response, items)
        yield from items

    async def process_spider_output_async(self, response: Response,
                                          result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The same for asynchronous callbacks."""
        items: list[Any] = []
        async for output in result:
            if isinstance(output, Request):
                yield output
            else:
                items.append(output)
        self._note(response, items)
        for item in items:
            yield item

    def _note(self, response: Response, items: list[Any]) -> None:
        """Tell the frontier: fetched (a page, in WARC) or done (nothing to write)."""
        frontier = frontier_for(self.crawler)
        key = response.request.meta.get(KEY_META) if response.request is not None else None
        if frontier is None or key is None:
            return
        pages = [i for i in items if isinstance(i, FetchedPage) and i.warc_record_id]
        if pages:
            if self._recorder is not None:
                self._recorder.writer.flush()  # the record reaches the OS before we point at it
            page = pages[0]
            assert page.warc_file is not None and page.warc_record_id is not None
            frontier.mark_fetched(key, WarcRef(page.warc_file, page.warc_record_id))
        elif not items:
            frontier.mark_done([key])
