"""Recrawls of a scheduled job: the run's crawl state, conditional requests, what is due.

With ``LICRAWL_STATE_DIR`` (``licrawl crawl --state DIR`` or ``redis://...``) the
:class:`CrawlStateExtension` opens the job's crawl state for this run
(:func:`~crawler.state.open.open_state`; run id: the crawl id), holding its lock until the
engine stops; :func:`state_for` finds it. The
:class:`ConditionalRequestMiddleware` asks, for each page a run before this one fetched,
``If-None-Match`` / ``If-Modified-Since`` with the validators it kept, and puts what those
runs knew in ``request.meta[PREVIOUS_META]``: the WARC recorder then writes a 304 (or a 200
with the same payload) as a ``revisit`` record, the spider hands it on as a
:class:`~crawler.core.page.RevisitedPage`, and the pipeline records the observation.

A server whose 304 cannot be trusted (an answer to a request that asked nothing, or with
an ETag other than the one asked for) gets the page asked again without validators: a
full fetch, never a page taken as unchanged on a wrong answer.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.state.open import AnyState, open_state

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

__all__ = ["PREVIOUS_META", "REVISIT_META", "CrawlStateExtension",
           "ConditionalRequestMiddleware", "is_due", "parse_duration", "state_for"]

#: Request meta: the :class:`~crawler.state.store.Previous` of a conditional request.
PREVIOUS_META = "licrawl_previous"
#: Request meta: the revisit profile the WARC recorder wrote for the response, if any.
REVISIT_META = "licrawl_revisit"
#: Request meta: ask without validators (a full fetch after a 304 that cannot be trusted).
UNCONDITIONAL_META = "licrawl_unconditional"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str) -> float:
    """Seconds in ``0``, ``90s``, ``30m``, ``12h``, ``7d``, ``2w`` (a bare number:
    seconds); ``ValueError`` with the accepted forms otherwise."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise ValueError(f"bad duration {text!r}: a number with s, m, h, d or w (e.g. 0, 90s, "
                         f"12h, 7d)")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def _lastmod(value: str | None) -> float | None:
    """A sitemap ``lastmod`` (W3C datetime) as Unix seconds, ``None`` if unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:  # a date, or a time without zone: read as UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def is_due(last_fetched: float | None, revisit_after: float, now: float,
           lastmod: str | None = None) -> bool:
    """Whether a URL last fetched at ``last_fetched`` (Unix seconds, ``None``: never) is
    fetched in this run: never fetched, fetched ``revisit_after`` seconds ago or more, its
    sitemap ``lastmod`` after that fetch, or a fetch time in the future (the clock went
    back: fetch rather than trust it). A ``lastmod`` before the last fetch skips the URL."""
    if last_fetched is None or last_fetched > now:
        return True
    modified = _lastmod(lastmod)
    if modified is not None:
        return modified > last_fetched
    return now - last_fetched >= revisit_after


_STATES: WeakKeyDictionary[Any, AnyState] = WeakKeyDictionary()


def state_for(crawler: Any) -> AnyState | None:
    """The crawl state open for ``crawler``'s run, or ``None`` (no ``LICRAWL_STATE_DIR``)."""
    return _STATES.get(crawler)


class CrawlStateExtension:
    """Opens the job's crawl state for this run (``LICRAWL_STATE_DIR``), closes it when the
    engine stops. Raises :class:`~crawler.state.store.StateLocked` when another run holds
    it, :class:`~crawler.state.store.StateError` when it cannot be used."""

    def __init__(self, crawler: Crawler) -> None:
        folder = crawler.settings.get("LICRAWL_STATE_DIR")
        # Without a state there is nothing to do. No message: Scrapy logs a NotConfigured
        # that has one as a warning, on every crawl.
        if not folder:
            raise NotConfigured
        self.state = open_state(folder, str(crawler.settings["LICRAWL_CRAWL_ID"]),
                                lease_ttl=crawler.settings.getfloat("LICRAWL_LEASE_TTL", 60.0))
        _STATES[crawler] = self.state
        self.crawler = crawler
        crawler.signals.connect(self._close, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlStateExtension:
        """Build for ``crawler``."""
        return cls(crawler)

    def _close(self) -> None:
        _STATES.pop(self.crawler, None)
        self.state.close()


def _conditional(request: Request) -> bool:
    return b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers


class ConditionalRequestMiddleware:
    """Downloader middleware: validators on requests for pages known to earlier runs; a
    full fetch instead of a 304 that cannot be trusted."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        """Build for ``crawler``."""
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Ask with the validators the latest earlier page observation kept."""
        state = state_for(self.crawler)
        if state is None or request.method != "GET" or request.meta.get(UNCONDITIONAL_META):
            return
        previous = state.previous(request.url)
        if previous is None or previous.page is None:
            return
        request.meta[PREVIOUS_META] = previous
        if previous.page.etag:
            request.headers[b"If-None-Match"] = previous.page.etag
        if previous.page.last_modified:
            request.headers[b"If-Modified-Since"] = previous.page.last_modified
        if _conditional(request):
            self.stats.inc_value("licrawl/conditional_requests")

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """A 304 to a request that asked nothing, or with another ETag than the one asked
        for: ask again without validators (once)."""
        if response.status != 304 or request.meta.get(UNCONDITIONAL_META):
            return response
        asked = request.headers.get(b"If-None-Match")
        answered = response.headers.get(b"ETag")
        if _conditional(request) and not (asked and answered and asked != answered):
            self.stats.inc_value("licrawl/not_modified")
            return response
        self.stats.inc_value("licrawl/untrusted_304")
        headers = {k: v for k, v in request.headers.items()
                   if k not in (b"If-None-Match", b"If-Modified-Since")}
        meta = {**request.meta, UNCONDITIONAL_META: True}
        meta.pop(PREVIOUS_META, None)
        return request.replace(headers=headers, meta=meta, dont_filter=True)
