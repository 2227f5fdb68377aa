"""Scrapy's retry policy with exponential backoff between attempts.

Scrapy retries 5xx, 408, 429 and network errors at once. This subclass keeps Scrapy's
decision (``RETRY_*`` settings) and holds each retry back before it is downloaded:
``LICRAWL_RETRY_BACKOFF_BASE * 2**(attempt - 1)`` seconds, or the server's
``Retry-After`` in seconds when larger, capped at ``LICRAWL_RETRY_BACKOFF_MAX``.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

#: Request meta key: wall-clock time before which a retry must not be downloaded.
NOT_BEFORE_META = "licrawl_retry_not_before"


class RetryBackoffMiddleware(RetryMiddleware):
    """Retry like Scrapy, waiting longer before each further attempt."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoffMiddleware:
        """Build from the crawler's settings."""
        mw = super().from_crawler(crawler)
        mw.backoff_base = crawler.settings.getfloat("LICRAWL_RETRY_BACKOFF_BASE")
        mw.backoff_max = crawler.settings.getfloat("LICRAWL_RETRY_BACKOFF_MAX")
        return mw

    async def process_request(self, request: Request) -> None:
        """Wait until a retried request's backoff has passed."""
        not_before = request.meta.get(NOT_BEFORE_META)
        if not_before is None:
            return
        wait = min(not_before - time.time(), self.backoff_max)
        if wait > 0:
            await asyncio.sleep(wait)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """Scrapy's decision; a retry also gets its backoff (or ``Retry-After``)."""
        result = super().process_response(request, response)
        if result is not response:
            retry_after = _retry_after_seconds(response.headers.get(b"Retry-After"))
            self._set_backoff(result, retry_after)
        return result

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        """Scrapy's decision for download errors and timeouts, with backoff."""
        result = super().process_exception(request, exception)
        if result is not None:
            self._set_backoff(result, 0.0)
        return result

    def _set_backoff(self, request: Request, retry_after: float) -> None:
        attempt = int(request.meta.get("retry_times", 1))
        delay = max(self.backoff_base * 2 ** (attempt - 1), retry_after)
        request.meta[NOT_BEFORE_META] = time.time() + min(delay, self.backoff_max)


def _retry_after_seconds(value: bytes | None) -> float:
    """``Retry-After`` in seconds (the delta-seconds form only; dates count as 0)."""
    if not value:
        return 0.0
    try:
        return max(0.0, float(value.decode("latin-1").strip()))
    except ValueError:
        return 0.0
