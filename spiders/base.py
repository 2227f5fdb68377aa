"""What every licrawl spider shares: seeds, host scope, page budget, pages and failures.

Spiders only decide what to fetch. Each response they receive is handed on as a
:class:`~crawler.core.page.FetchedPage` item, each failed request as an
:class:`~crawler.core.errors.ErrorRecord` item; the pipeline does the rest.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.core.errors import ErrorRecord
from crawler.core.page import FetchedPage, RevisitedPage
from crawler.fetch.failures import failure_record, unsupported_url_record
from crawler.fetch.frontier import frontier_for
from crawler.fetch.middlewares.warc_recorder import WARC_META, header_pairs
from crawler.fetch.recrawl import REVISIT_META, is_due, state_for

#: Spider state key: fingerprints of the pages requested so far (only with a page budget).
_REQUESTED = "licrawl_requested"


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


#: Between URLs: whitespace, or a comma before the next URL (a comma inside a URL stays).
_URL_SEPARATOR = re.compile(r"\s+|,\s*(?=https?://)", re.IGNORECASE)
#: Between host names: whitespace or commas.
_HOST_SEPARATOR = re.compile(r"[\s,]+")


def spider_arg_list(value: Iterable[str] | str, separator: re.Pattern[str]) -> list[str]:
    """A list spider argument: a string split at ``separator``, or the items given; blank
    items dropped."""
    items = separator.split(value) if isinstance(value, str) else value
    return [item.strip() for item in items if item.strip()]


def page_budget(value: int | str) -> int:
    """The ``max_pages`` spider argument as a number >= 0; ``ValueError`` saying what is
    wrong otherwise."""
    try:
        budget = int(value)
    except ValueError:
        budget = -1
    if budget < 0:
        raise ValueError(f"max_pages must be a whole number >= 0 (0: no limit), not {value!r}")
    return budget


def host_of(url: str) -> str:
    """The lower-case host name of ``url`` ("" when there is none)."""
    return (urlsplit(url).hostname or "").lower()


class LicrawlSpider(scrapy.Spider):
    """Base spider: requests seeds, counts pages against ``max_pages``, reports failures.

    ``seeds``: start URLs. ``max_pages``: at most this many page requests (0: no limit),
    kept across resumes in the spider state. ``allow_hosts``: the hosts in scope; by default
    the seeds' hosts. Spider arguments given on a command line (``scrapy crawl -a``, Scrapyd's
    ``schedule.json``) are strings: seeds separated by whitespace or commas, hosts likewise,
    the page budget as digits.
    """

    def __init__(
        self,
        seeds: Iterable[str] | str = (),
        *,
        max_pages: int | str = 0,
        allow_hosts: Iterable[str] | str = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.seeds = spider_arg_list(seeds, _URL_SEPARATOR)
        if not self.seeds:
            raise ValueError("no seeds: give the spider argument seeds (URLs separated by "
                             "spaces or commas)")
        self.max_pages = page_budget(max_pages)
        hosts = {h.lower() for h in spider_arg_list(allow_hosts, _HOST_SEPARATOR)}
        self.hosts = hosts or {host_of(s) for s in self.seeds if is_http_url(s)}
        # Replaced by Scrapy's SpiderState extension when a JOBDIR is used.
        self.state: dict[str, Any] = {}

    @property
    def crawl_id(self) -> str:
        """The crawl's identifier (``LICRAWL_CRAWL_ID``)."""
        return str(self.settings["LICRAWL_CRAWL_ID"])

    async def start(self) -> AsyncIterator[Any]:
        """The seeds (a seed that is not an http(s) URL becomes an error record), then, with
        a crawl state, every URL in scope an earlier run fetched that is due again."""
        for url in self.seeds:
            if not is_http_url(url):
                yield unsupported_url_record(url, self.crawl_id)
                continue
            async for request in self.seed_requests(url):
                yield request
        state = state_for(self.crawler)
        if state is None:
            return
        revisit_after, now = self.settings.getfloat("LICRAWL_REVISIT_AFTER"), time.time()
        for url, fetched in state.known_urls():
            if url in self.seeds or not self.in_scope(url):
                continue
            if is_due(fetched, revisit_after, now):
                request = self.page_request(url)
                if request is None:
                    return
                yield request

    def due(self, url: str, lastmod: str | None = None) -> bool:
        """Whether a link to ``url`` is fetched in this run: always without a crawl state;
        with one, unless an earlier run fetched it less than ``LICRAWL_REVISIT_AFTER``
        seconds ago or its sitemap ``lastmod`` is older than that fetch
        (:func:`crawler.fetch.recrawl.is_due`)."""
        state = state_for(self.crawler)
        if state is None:
            return True
        return is_due(state.last_fetched(url), self.settings.getfloat("LICRAWL_REVISIT_AFTER"),
                      time.time(), lastmod)

    async def seed_requests(self, url: str) -> AsyncIterator[scrapy.Request]:
        """The requests for one http(s) seed: its page by default."""
        request = self.page_request(url)
        if request is not None:
            yield request

    def in_scope(self, url: str) -> bool:
        """Whether ``url`` is http(s) on one of the hosts in scope."""
        return is_http_url(url) and host_of(url) in self.hosts

    def page_request(self, url: str, **kwargs: Any) -> scrapy.Request | None:
        """A request for a page, or ``None`` once the page budget is spent.

        With the crawl's frontier the budget is counted there (durable like the rest of the
        crawl's state, so a crawl resumed after ``kill -9`` keeps it); otherwise in the
        spider state, which Scrapy saves on a clean stop."""
        request = scrapy.Request(url, callback=self.parse, errback=self.errback, **kwargs)
        if self.max_pages <= 0:
            return request
        key = self.crawler.request_fingerprinter.fingerprint(request).hex()
        frontier = frontier_for(self.crawler)
        spend = getattr(frontier, "spend_budget", None)
        if spend is not None:  # a fleet's frontier: one budget, charged atomically
            return request if spend(key, self.max_pages) else None
        if frontier is not None:
            if frontier.seen(key):
                return request  # counted when it was first requested
            spent = int(frontier.get_meta(_REQUESTED) or 0)
            if spent >= self.max_pages:
                return None
            frontier.set_meta(_REQUESTED, str(spent + 1))
            frontier.commit()  # counted for good before the request can go out
            return request
        requested: set[str] = self.state.setdefault(_REQUESTED, set())
        if key not in requested:
            if len(requested) >= self.max_pages:
                return None
            requested.add(key)
        return request

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """Hand the page on; subclasses add the requests they follow."""
        yield self.page_item(response)

    def page_item(self, response: Response) -> FetchedPage | RevisitedPage:
        """The response as a :class:`FetchedPage`, with its WARC record; a page a recrawl
        found unchanged (archived as a revisit record) as a :class:`RevisitedPage`."""
        warc_file, warc_record_id, fetched_at = response.meta.get(
            WARC_META, (None, None, datetime.now(UTC))
        )
        profile = response.meta.get(REVISIT_META)
        if profile is not None:
            return RevisitedPage(url=response.url, status=response.status,
                                 headers=header_pairs(response.headers), fetched_at=fetched_at,
                                 profile=profile, warc_file=warc_file,
                                 warc_record_id=warc_record_id)
        return FetchedPage(
            url=response.url,
            status=response.status,
            headers=header_pairs(response.headers),
            body=response.body,
            fetched_at=fetched_at,
            warc_file=warc_file,
            warc_record_id=warc_record_id,
            ip=str(response.ip_address) if response.ip_address else None,
        )

    def errback(self, failure: Failure) -> Iterator[ErrorRecord]:
        """A failed request (download error, robots.txt, size, redirects) as an error record."""
        yield failure_record(failure, self.crawl_id)
