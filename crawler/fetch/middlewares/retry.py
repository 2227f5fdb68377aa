"""Scrapy's retry policy with exponential backoff between attempts.

Scrapy retries 5xx, 408, 429 and network errors at once. This subclass keeps Scrapy's
decision (``RETRY_*`` settings) and holds each retry back before it is downloaded:
``LICRAWL_RETRY_BACKOFF_BASE * 2**(attempt - 1)`` seconds, or the server's
``Retry-After`` (seconds, or an HTTP date) when later, capped at
``LICRAWL_RETRY_BACKOFF_MAX``.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
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
            retry_after = retry_after_seconds(response.headers.get(b"Retry-After"))
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


def retry_after_seconds(value: bytes | None, now: datetime | None = None) -> float:
    """``Retry-After`` as seconds from ``now`` (default: the current time), at least 0.

    Both forms of RFC 9110 section 10.2.3: delta-seconds (``120``) and an HTTP date
    (``Wed, 21 Oct 2015 07:28:00 GMT``); a date in the past, or a value that is neither,
    counts as 0. The caller caps it.
    """
    if not value:
        return 0.0
    text = value.decode("latin-1").strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else 0.0
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return 0.0
    if when.tzinfo is None:  # "-0000" and obsolete zones: RFC 5322 means UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
