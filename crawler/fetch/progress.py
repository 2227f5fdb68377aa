"""A progress line on stderr every ``LICRAWL_PROGRESS_INTERVAL`` seconds during a crawl."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.fetch.pipeline import CrawlPipeline
from crawler.stages.progress import Progress

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class ProgressReporter:
    """Scrapy extension: pages fetched, rows and errors written, pages in the workers."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressReporter:
        """Build from ``LICRAWL_PROGRESS_INTERVAL``; disabled when it is 0."""
        interval = crawler.settings.getfloat("LICRAWL_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        return cls(crawler, interval)

    def _opened(self) -> None:
        self._progress = Progress("crawl", interval=self.interval)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _closed(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self._progress.print(self.line())

    def line(self) -> str:
        """The current progress line."""
        fetched = int(self.crawler.stats.get_value("response_received_count", 0))
        rate = self._progress.rate(fetched)
        pipeline = self.crawler.get_item_pipeline(CrawlPipeline)
        if pipeline is None:
            return f"{fetched} responses ({rate:.1f}/s)"
        summary = pipeline.summary
        return (f"{fetched} responses ({rate:.1f}/s), "
                f"{summary.rows} rows, {summary.error_count} errors, "
                f"{pipeline.in_flight} in workers")
