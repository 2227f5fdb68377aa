"""Each downloader middleware of crawler/fetch/middlewares on its own, built the Scrapy way.

Every middleware comes from ``from_crawler`` with a crawler of ``scrapy.utils.test.
get_crawler`` and licrawl's settings, and is given real Scrapy ``Request`` and ``Response``
objects. Where a middleware works on the downloader's slots, the crawler gets a real
``ExecutionEngine``. Downloads themselves are left to the crawl tests (test_crawl.py,
test_fetch_robots.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.test import get_crawler
from twisted.internet.error import TimeoutError as TxTimeoutError
from twisted.python.failure import Failure
from warcio.archiveiterator import ArchiveIterator

from crawler.fetch.failures import failure_record
from crawler.fetch.middlewares.crawl_delay import CrawlDelayMiddleware
from crawler.fetch.middlewares.retry import (
    NOT_BEFORE_META,
    RetryBackoffMiddleware,
    retry_after_seconds,
)
from crawler.fetch.middlewares.site_signals import (
    SITE_FETCH_META,
    RobotsDisallowed,
    RobotsUnavailable,
    SiteSignalsMiddleware,
    unavailable_reason,
)
from crawler.fetch.middlewares.warc_recorder import (
    WARC_META,
    WarcRecorderMiddleware,
    header_pairs,
    reason_phrase,
)
from crawler.fetch.settings import default_settings
from crawler.fetch.sites import build_site_info, registry_for

ORIGIN = "https://fieldnotes.example"
ROBOTS = "User-agent: licrawl\nCrawl-delay: 2\nDisallow: /private/\n"


def make_crawler(tmp_path: Path, **overrides: Any) -> Crawler:
    """A crawler with licrawl's settings and its spider (no item pipeline, no memory
    watcher), writing under ``tmp_path``."""
    settings = {**default_settings(), "LICRAWL_OUT_DIR": str(tmp_path),
                "LICRAWL_CRAWL_ID": "crawl-test", "ITEM_PIPELINES": {},
                "MEMUSAGE_ENABLED": False, **overrides}
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = crawler.spidercls.from_crawler(crawler)
    return crawler


def site_info(robots_txt: str | None, unavailable: str | None = None) -> Any:
    return build_site_info("fieldnotes.example", robots_txt, None, user_agent="licrawl",
                           max_crawl_delay=60.0, unavailable=unavailable)


@asynccontextmanager
async def with_engine(crawler: Crawler) -> AsyncIterator[ExecutionEngine]:
    """A real engine (and downloader) for ``crawler``, stopped on exit."""
    engine = crawler.engine = ExecutionEngine(crawler, lambda spider: None)
    try:
        yield engine
    finally:
        engine.downloader.close()
        await crawler.signals.send_catch_log_async(signals.engine_stopped)


# --- retry ----------------------------------------------------------------------------------

NOW = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (b"120", 120.0),
        (b" 5 ", 5.0),
        (b"Wed, 21 Oct 2015 07:28:00 GMT", 60.0),  # RFC 9110's example, a minute ahead
        (b"Wednesday, 21-Oct-15 07:28:30 GMT", 90.0),  # obsolete RFC 850 form
        (b"Wed, 21 Oct 2015 07:20:00 GMT", 0.0),  # in the past
        (b"-3", 0.0),
        (b"soon", 0.0),
        (b"nan", 0.0),
        (b"inf", 0.0),
        (b"", 0.0),
        (None, 0.0),
    ],
)
def test_retry_after_seconds(value: bytes | None, seconds: float) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def retry_middleware(tmp_path: Path) -> RetryBackoffMiddleware:
    crawler = make_crawler(tmp_path, LICRAWL_RETRY_BACKOFF_BASE=1.0,
                           LICRAWL_RETRY_BACKOFF_MAX=30.0)
    return RetryBackoffMiddleware.from_crawler(crawler)


def wait_of(request: Request) -> float:
    """Seconds from now until ``request`` may be downloaded."""
    return request.meta[NOT_BEFORE_META] - time.time()


def test_retry_backoff_doubles_per_attempt(tmp_path: Path) -> None:
    mw = retry_middleware(tmp_path)
    request = Request(ORIGIN + "/a")
    first = mw.process_response(request, Response(request.url, status=503, request=request))
    assert isinstance(first, Request) and first.meta["retry_times"] == 1
    assert 0.9 < wait_of(first) <= 1.0
    second = mw.process_exception(first, TxTimeoutError())
    assert isinstance(second, Request) and second.meta["retry_times"] == 2
    assert 1.9 < wait_of(second) <= 2.0
    # RETRY_TIMES = 2: the third failure is handed on
    last = Response(request.url, status=503, request=second)
    assert mw.process_response(second, last) is last
    ok = Response(request.url, status=200, request=request)
    assert mw.process_response(request, ok) is ok


def test_retry_after_date_and_seconds_are_honoured_and_capped(tmp_path: Path) -> None:
    mw = retry_middleware(tmp_path)
    request = Request(ORIGIN + "/a")
    in_ten = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    for value, low, high in [(in_ten, 8.5, 10.0), ("7", 6.9, 7.0),
                             (format_datetime(datetime.now(UTC) + timedelta(hours=1),
                                              usegmt=True), 29.9, 30.0)]:
        response = Response(request.url, status=503, headers={"Retry-After": value},
                            request=request)
        retry = mw.process_response(request, response)
        assert isinstance(retry, Request)
        assert low < wait_of(retry) <= high, value


def test_retry_waits_until_its_backoff_has_passed(tmp_path: Path) -> None:
    mw = retry_middleware(tmp_path)
    request = Request(ORIGIN + "/a", meta={NOT_BEFORE_META: time.time() + 0.3})
    started = time.monotonic()
    assert asyncio.run(mw.process_request(request)) is None
    assert time.monotonic() - started >= 0.25
    started = time.monotonic()
    asyncio.run(mw.process_request(Request(ORIGIN + "/b")))  # a first attempt: no wait
    assert time.monotonic() - started < 0.2  # (the backoff above is 0.3 s; a loaded CI
    # machine can take a tenth of a second to start and stop an event loop)


# --- site signals ---------------------------------------------------------------------------


def test_unavailable_reason_follows_rfc_9309() -> None:
    assert unavailable_reason(503) == "robots.txt answered HTTP 503"
    assert unavailable_reason(500) is not None and unavailable_reason(429) is not None
    for status in (200, 301, 401, 403, 404, 410):
        assert unavailable_reason(status) is None


def test_site_signals_obeys_the_known_rules(tmp_path: Path) -> None:
    crawler = make_crawler(tmp_path)
    mw = SiteSignalsMiddleware.from_crawler(crawler)
    registry = registry_for(crawler)
    assert registry.fetcher == mw.site_info  # the one robots.txt path, for the spiders too
    registry.set(ORIGIN, site_info(ROBOTS))

    async def run() -> None:
        assert await mw.process_request(Request(ORIGIN + "/articles/a")) is None
        with pytest.raises(RobotsDisallowed):
            await mw.process_request(Request(ORIGIN + "/private/draft"))
        # its own robots.txt / tdmrep.json requests, and requests told not to obey, pass
        for meta in ({SITE_FETCH_META: True}, {"dont_obey_robotstxt": True}):
            assert await mw.process_request(Request(ORIGIN + "/private/x", meta=meta)) is None
        assert (await registry.fetch(ORIGIN)).crawl_delay == 2.0

    asyncio.run(run())
    assert crawler.stats.get_value("robotstxt/forbidden") == 1


def test_site_signals_refuses_everything_while_robots_is_unavailable(tmp_path: Path) -> None:
    crawler = make_crawler(tmp_path)
    mw = SiteSignalsMiddleware.from_crawler(crawler)
    registry_for(crawler).set(ORIGIN, site_info(None, "robots.txt answered HTTP 503"))
    request = Request(ORIGIN + "/articles/a")
    with pytest.raises(RobotsUnavailable) as caught:
        asyncio.run(mw.process_request(request))
    assert crawler.stats.get_value("robotstxt/unavailable") == 1
    failure = Failure(caught.value)
    failure.request = request  # as Scrapy sets it for an errback
    record = failure_record(failure, "crawl-test")
    assert (record.url, record.stage, record.reason, record.http_status) == (
        request.url, "robots", "robots-unavailable", None)
    assert "HTTP 503" in record.detail
    # without ROBOTSTXT_OBEY robots.txt is read for its signals only
    lax_crawler = make_crawler(tmp_path, ROBOTSTXT_OBEY=False)
    lax = SiteSignalsMiddleware.from_crawler(lax_crawler)
    registry_for(lax_crawler).set(ORIGIN, site_info(None, "robots.txt answered HTTP 503"))
    assert asyncio.run(lax.process_request(request)) is None


# --- crawl delay ----------------------------------------------------------------------------


def test_crawl_delay_is_the_floor_of_the_host_slot(tmp_path: Path) -> None:
    crawler = make_crawler(tmp_path)
    registry_for(crawler).set(ORIGIN, site_info(ROBOTS))
    request, other = Request(ORIGIN + "/a"), Request("https://elsewhere.example/b")

    async def run() -> None:
        async with with_engine(crawler) as engine:
            mw = CrawlDelayMiddleware.from_crawler(crawler)
            downloader = engine.downloader
            # before the slot exists: it is created with the delay, without jitter
            mw.process_request(request)
            key, slot = downloader._get_slot(request)
            assert (slot.delay, slot.jitter) == (2.0, 0.0)
            # a host without Crawl-delay keeps the default
            mw.process_request(other)
            assert downloader._get_slot(other)[1].delay == crawler.settings.getfloat(
                "DOWNLOAD_DELAY")
            # AutoThrottle lowers the delay after a response: put back to the floor
            slot.delay = 0.5
            crawler.signals.send_catch_log(
                signals.response_downloaded, request=request, spider=None,
                response=Response(request.url, request=request))
            assert downloader.slots[key].delay == 2.0
            slot.delay = 5.0  # above the floor: left alone
            mw.process_request(request)
            assert slot.delay == 5.0

    asyncio.run(run())


# --- WARC recorder --------------------------------------------------------------------------


def test_warc_recorder_archives_each_raw_response(tmp_path: Path) -> None:
    crawler = make_crawler(tmp_path)
    mw = WarcRecorderMiddleware.from_crawler(crawler)
    request = Request(ORIGIN + "/missing", headers={"User-Agent": "licrawl/test"})
    response = Response(request.url, status=404, request=request, body=b"<h1>gone</h1>",
                        headers={"Content-Type": "text/html", "Set-Cookie": ["a=1", "b=2"]})
    assert mw.process_response(request, response) is response
    warc_file, record_id, fetched_at = request.meta[WARC_META]
    assert fetched_at.tzinfo is not None
    crawler.signals.send_catch_log(signals.engine_stopped)  # closes the file
    assert crawler.stats.get_value("licrawl/warc_records") == 1
    path = tmp_path / warc_file
    assert path.is_file() and path.name.endswith(".warc.gz")
    records, bodies = {}, {}
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            records[record.rec_type] = record
            bodies[record.rec_type] = record.content_stream().read()
    archived = records["response"]
    assert archived.rec_headers.get_header("WARC-Record-ID") == record_id
    assert archived.rec_headers.get_header("WARC-Target-URI") == request.url
    assert archived.http_headers.get_statuscode() == "404"
    assert [v for k, v in archived.http_headers.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert bodies["response"] == b"<h1>gone</h1>"
    assert records["request"].http_headers.get_header("User-Agent") == "licrawl/test"


def test_warc_recorder_helpers() -> None:
    response = Response(ORIGIN, headers={"Link": ["<a>; rel=x", "<b>; rel=y"]})
    assert header_pairs(response.headers) == [("Link", "<a>; rel=x"), ("Link", "<b>; rel=y")]
    assert reason_phrase(404) == "Not Found" and reason_phrase(599) == ""
