"""Archive every raw response in gzip WARC files under ``DIR/warc/``.

Placed closest to the downloader, so it sees each response as it came off the network:
pages, robots.txt and tdmrep.json, redirects, retried 5xx and error pages, before
decompression, redirects or retries act on them. The WARC file and record id of a response
are stored in its request's meta (:data:`WARC_META`), from where the spider copies them
into the page it hands on, so that each row finds its record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals

from crawler.core.page import WarcRef
from crawler.fetch.recrawl import PREVIOUS_META, REVISIT_META
from crawler.store.warc import WarcWriter, payload_digest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Headers, Response

#: Request meta key: ``(warc_file, warc_record_id, fetched_at)`` of the latest response.
WARC_META = "licrawl_warc"


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """Scrapy headers as ``(name, value)`` string pairs, repeated names kept in order."""
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


def reason_phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status ("" for unknown codes)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class WarcRecorderMiddleware:
    """Downloader middleware writing each response to the crawl's WARC files."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        out_dir = Path(settings["LICRAWL_OUT_DIR"]) / "warc"
        out_dir.mkdir(parents=True, exist_ok=True)
        self.writer = WarcWriter(
            out_dir,
            prefix="crawl",
            root=out_dir.parent,
            max_bytes=settings.getint("LICRAWL_WARC_MAX_BYTES"),
            gzip=True,
        )
        self.stats = crawler.stats
        crawler.signals.connect(self._close, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorderMiddleware:
        """Build from the crawler's settings."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """Write the response to WARC and remember where, in ``request.meta``: as a
        ``revisit`` record when a recrawl finds the page unchanged (see :meth:`_revisit`)."""
        fetched_at = datetime.now(UTC)
        request.meta.pop(REVISIT_META, None)
        revisit = self._revisit(request, response, fetched_at)
        if revisit is not None:
            request.meta[WARC_META] = (revisit.file, revisit.record_id, fetched_at)
            self.stats.inc_value("licrawl/warc_revisits")
            return response
        ref = self.writer.write_response(
            response.url,
            response.status,
            reason_phrase(response.status),
            header_pairs(response.headers),
            response.body,
            fetched_at,
            request_headers=header_pairs(request.headers),
            ip=str(response.ip_address) if response.ip_address else None,
        )
        request.meta[WARC_META] = (ref.file, ref.record_id, fetched_at)
        self.stats.inc_value("licrawl/warc_records")
        return response

    def _revisit(self, request: Request, response: Response, fetched_at: datetime
                 ) -> WarcRef | None:
        """A ``revisit`` record for a page an earlier run kept (``PREVIOUS_META``) that is
        unchanged: a 304 to the conditional request (``server-not-modified``), or a 200
        whose payload digest is the one kept (``identical-payload-digest``)."""
        previous = request.meta.get(PREVIOUS_META)
        page = previous.page if previous is not None else None
        if page is None:
            return None
        if response.status == 304 and (b"If-None-Match" in request.headers
                                       or b"If-Modified-Since" in request.headers):
            profile, digest = "server-not-modified", None
        elif (response.status == 200 and page.payload_digest
              and payload_digest(response.body) == page.payload_digest):
            profile, digest = "identical-payload-digest", page.payload_digest
        else:
            return None
        request.meta[REVISIT_META] = profile
        return self.writer.write_revisit(
            response.url, response.status, reason_phrase(response.status),
            header_pairs(response.headers), fetched_at, profile=profile,
            refers_to_record=page.ref_record_id, refers_to_date=page.ref_date,
            payload_digest=digest)

    def _close(self) -> None:
        self.writer.close()
