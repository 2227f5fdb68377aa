"""The crawl's item pipeline: pages to the worker pool, results to shards and error files.

The reactor only submits. Every response (:class:`~crawler.core.page.FetchedPage`, any
status: the pool classifies it) goes to a :class:`~crawler.stages.process.PageProcessor` with
its host's :class:`~crawler.site.context.SiteContext`; each finished future is queued for a
writer thread that hands it to the one :class:`~crawler.stages.sink.ResultSink` (rows to
``DIR/data/``, error records to ``DIR/errors/``, a row the schema refuses as a ``bad-row``
error record), as ``licrawl process`` does. At most
``LICRAWL_MAX_PENDING`` pages are between submission and written result: when full,
``process_item`` waits, Scrapy's scraper slot fills and the engine stops scheduling
downloads (back-pressure; ``CONCURRENT_ITEMS`` and ``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` in
:mod:`crawler.fetch.settings` keep that backlog small). On close
(normal end, Ctrl-C or SIGTERM) every submitted page is written before the shard is closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.utils.misc import load_object

from crawler.core.errors import ErrorRecord
from crawler.core.fsutil import atomic_write_text
from crawler.core.page import FetchedPage, RevisitedPage
from crawler.fetch.failures import dropped_reason, host_allowed, redirect_record
from crawler.fetch.frontier import FrontierObserver, frontier_for
from crawler.fetch.observe import DONE_SECONDS, StateRecorder
from crawler.fetch.recrawl import state_for
from crawler.fetch.sites import origin_of, registry_for
from crawler.site.context import SiteContext
from crawler.site.user_policy import SitePolicy
from crawler.stages.process import PageProcessor
from crawler.stages.sink import ResultSink, RunSummary
from crawler.store import shards
from crawler.store.warc import payload_digest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Submitted:
    """A page in the pool: what an error record needs if the worker fails."""

    url: str
    status: int
    fetched_at: datetime
    warc_file: str | None
    warc_record_id: str | None
    future: Future[Any]
    recrawl: _Validators | None = None


@dataclass(frozen=True, slots=True)
class _Validators:
    """What a recrawl keeps of a page besides its row: validators, payload digest, site."""

    etag: str | None
    last_modified: str | None
    payload: str
    site: SiteContext | None


@dataclass(frozen=True, slots=True)
class _Revisit:
    """A revisited page on its way to the writer thread, with its site's signals."""

    page: RevisitedPage
    site: SiteContext | None


_STOP = object()
#: Seconds without a result after which the writer thread flushes a recrawl's unchanged
#: pages waiting for their group (:meth:`StateRecorder.flush_waiting`).
QUIET_SECONDS = DONE_SECONDS


class CrawlPipeline:
    """Scrapy item pipeline for :class:`FetchedPage` and :class:`ErrorRecord` items."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.out_dir = Path(settings["LICRAWL_OUT_DIR"])
        self.crawl_id = str(settings["LICRAWL_CRAWL_ID"])
        self.workers = settings.getint("LICRAWL_WORKERS") or os.cpu_count() or 1
        self.max_pending = settings.getint("LICRAWL_MAX_PENDING") or 4 * self.workers
        self.page_timeout = settings.getfloat("LICRAWL_PAGE_TIMEOUT")
        policy_path = settings.get("LICRAWL_SITE_POLICY")
        self.site_policy = SitePolicy.load(policy_path) if policy_path else None
        inspect_path = settings.get("LICRAWL_INSPECT_FN")
        self.inspect_fn = load_object(inspect_path) if inspect_path else None
        self.registry = registry_for(crawler)
        self.summary = RunSummary(crawl_id=self.crawl_id)
        self.in_flight = 0
        self.recorder: StateRecorder | None = None
        self._started = time.monotonic()
        self._waiters: list[asyncio.Future[None]] = []
        self._results: queue.Queue[Any] = queue.Queue()
        crawler.signals.connect(self._request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(self._request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlPipeline:
        """Build from the crawler's settings."""
        return cls(crawler)

    async def open_spider(self) -> None:
        """Start the worker pool, the writers and the writer thread."""
        self._loop = asyncio.get_running_loop()
        self.processor = PageProcessor(
            self.workers, timeout=self.page_timeout, site_policy=self.site_policy,
            crawl_id=self.crawl_id, max_pending=self.max_pending, inspect_fn=self.inspect_fn,
        )
        # The workers start on another thread while the first pages download (in a recrawl,
        # where an unchanged site needs none, with the first page that needs them): pages
        # wait for them in _submit, the reactor never does.
        state = state_for(self.crawler)
        recrawl = state is not None and (state.run or 0) > 1
        self._workers_up: asyncio.Future[None] | None = None if recrawl else (
            asyncio.ensure_future(asyncio.to_thread(self._warm_up)))
        frontier = frontier_for(self.crawler)
        self.recorder = None if state is None else StateRecorder(
            state, self.summary, frontier.done_urls if frontier is not None else None)
        self.sink = ResultSink(
            self.out_dir, self.summary,
            observer=FrontierObserver(frontier) if frontier is not None else None,
            max_rows=self.crawler.settings.getint("LICRAWL_SHARD_MAX_ROWS"),
            row_group_bytes=self.crawler.settings.getint("LICRAWL_ROW_GROUP_BYTES"),
        )
        self._thread = threading.Thread(target=self._write_loop, name="licrawl-writer",
                                        daemon=True)
        self._thread.start()

    def _warm_up(self) -> None:
        """Off the reactor, at the first page to detect: workers up, Arrow loaded."""
        shards.warm_up()
        self.processor.start()

    async def process_item(self, item: Any) -> Any:
        """Submit a page to the pool (waiting while it is full), queue an error record or
        a revisited page."""
        if isinstance(item, ErrorRecord):
            self._results.put(item)
        elif isinstance(item, FetchedPage):
            await self._submit(item)
        elif isinstance(item, RevisitedPage):
            self._results.put(_Revisit(item, self._site_context(item.url)))
        return item

    def _site_context(self, url: str) -> SiteContext | None:
        site = self.registry.get(origin_of(url))
        return site.context if site is not None else None

    def _request_dropped(self, request: Request) -> None:
        """A redirect target the scheduler dropped as already seen is an error record."""
        record = redirect_record(request, dropped_reason(request), self.crawl_id)
        if record is not None:
            self._results.put(record)

    def _request_scheduled(self, request: Request) -> None:
        """A redirect leaving the spider's allowed hosts (Scrapy drops it) is an error."""
        allowed = getattr(self.crawler.spider, "allowed_domains", None)
        if allowed and not host_allowed(request.url, allowed):
            record = redirect_record(request, "offsite-redirect", self.crawl_id)
            if record is not None:
                self._results.put(record)

    async def _submit(self, page: FetchedPage) -> None:
        if self._workers_up is None:
            self._workers_up = asyncio.ensure_future(asyncio.to_thread(self._warm_up))
        if not self._workers_up.done():
            await self._workers_up
        while self.in_flight >= self.max_pending:
            waiter = self._loop.create_future()
            self._waiters.append(waiter)
            await waiter
        self.in_flight += 1
        context = self._site_context(page.url)
        try:
            future = self.processor.submit(page, context)
        except BaseException:
            self._release()  # nothing will be written for it: never wait for it on close
            raise
        recrawl = None if self.recorder is None else _Validators(
            page.header("ETag"), page.header("Last-Modified"), payload_digest(page.body),
            context)
        submitted = _Submitted(page.url, page.status, page.fetched_at, page.warc_file,
                               page.warc_record_id, future, recrawl)
        future.add_done_callback(lambda _f: self._results.put(submitted))

    def _release(self) -> None:
        """On the reactor: one result written, let a waiting page in."""
        self.in_flight -= 1
        while self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                break

    def _write_loop(self) -> None:
        """Writer thread: write results in arrival order until told to stop; when none
        comes for a while, let a recrawl's unchanged pages be marked done."""
        while True:
            try:
                entry = self._results.get(timeout=QUIET_SECONDS)
            except queue.Empty:
                if self.recorder is not None:
                    try:
                        self.recorder.flush_waiting()
                    except Exception:  # as a write that fails: logged, the crawl goes on
                        logger.exception("licrawl: could not commit the crawl state")
                continue
            if entry is _STOP:
                return
            try:
                self._write(entry)
            except Exception:  # a write that fails (disk full, ...) must not stop the crawl
                logger.exception("licrawl: could not write the result for %r", entry)
            finally:
                if isinstance(entry, _Submitted):
                    self._loop.call_soon_threadsafe(self._release)

    def _write(self, entry: ErrorRecord | _Submitted | _Revisit) -> None:
        """Write one entry; with a crawl state, record its observation too."""
        if isinstance(entry, _Revisit):
            assert self.recorder is not None, "revisits come only with a crawl state"
            self.recorder.revisit(entry.page, entry.site)
            return
        result = self._result(entry)
        if self.recorder is None:
            self.sink.put(result)
        elif isinstance(result, ErrorRecord):
            self.recorder.error(self.sink.put(result))  # type: ignore[arg-type]
        else:
            assert isinstance(entry, _Submitted) and entry.recrawl is not None
            kept = entry.recrawl
            self.recorder.row(result, self.sink, etag=kept.etag,
                              last_modified=kept.last_modified, payload=kept.payload,
                              site=kept.site)

    def _result(self, entry: ErrorRecord | _Submitted) -> dict[str, Any] | ErrorRecord:
        """The row or error record for a queued entry."""
        if isinstance(entry, _Submitted):
            try:
                return entry.future.result()
            except Exception as exc:  # noqa: BLE001 - a worker failure is an error record
                return ErrorRecord(
                    url=entry.url, stage="inspect", reason="worker-error",
                    detail=f"{type(exc).__name__}: {exc}"[:500], http_status=entry.status,
                    fetched_at=entry.fetched_at, warc_file=entry.warc_file,
                    warc_record_id=entry.warc_record_id, crawl_id=self.crawl_id,
                )
        return entry

    async def close_spider(self) -> None:
        """Drain: wait for every submitted page to be written, then close the files."""
        try:
            if self._workers_up is not None:
                await self._workers_up
        except Exception:  # each page submitted was an item error already; say it once more
            logger.exception("licrawl: the detection workers could not start")
        while self.in_flight > 0:
            waiter = self._loop.create_future()
            self._waiters.append(waiter)
            await waiter
        self._results.put(_STOP)
        await asyncio.to_thread(self._thread.join)
        await asyncio.to_thread(self._close_files)
        self._finish_summary()

    def _finish_summary(self) -> None:
        """Counts from the crawl's stats, the run's duration; written to the crawl state's
        run and to ``LICRAWL_SUMMARY_JSON`` (replaced atomically) when set."""
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        self.summary.records = int(stats.get("response_received_count", 0))
        self.summary.site_files = int(stats.get("licrawl/site_files", 0))
        self.summary.seconds = time.monotonic() - self._started
        if self.recorder is not None:
            self.recorder.flush()
            self.recorder.state.end_run(self.summary.as_dict())

    def _spider_closed(self, reason: str) -> None:
        """The run's summary to ``LICRAWL_SUMMARY_JSON`` (replaced atomically), when set."""
        path = self.crawler.settings.get("LICRAWL_SUMMARY_JSON")
        if path:
            data = {**self.summary.as_dict(), "finish_reason": reason}
            atomic_write_text(Path(path), json.dumps(data, indent=2) + "\n")

    def _close_files(self) -> None:
        self.processor.close()
        self.sink.close()
