"""Why a URL of the crawl gave no page: Scrapy failures and HTTP errors as error records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotSupported,
    UnsupportedURLSchemeError,
)
from twisted.internet.error import DNSLookupError, TimeoutError

from crawler.core.errors import ErrorRecord
from crawler.fetch.middlewares.site_signals import RobotsDisallowed, RobotsUnavailable
from crawler.fetch.middlewares.warc_recorder import WARC_META

if TYPE_CHECKING:
    from scrapy import Request
    from twisted.python.failure import Failure

#: Exception type -> (stage, reason), checked in order (subclasses first).
_EXCEPTION_REASONS: list[tuple[type[BaseException], str, str]] = [
    (RobotsDisallowed, "robots", "robots-disallowed"),
    (RobotsUnavailable, "robots", "robots-unavailable"),
    (DownloadCancelledError, "fetch", "too-large"),
    (DownloadTimeoutError, "fetch", "download-timeout"),
    (TimeoutError, "fetch", "download-timeout"),
    (CannotResolveHostError, "fetch", "dns-error"),
    (DNSLookupError, "fetch", "dns-error"),
    (DownloadConnectionRefusedError, "fetch", "connection-refused"),
    (UnsupportedURLSchemeError, "fetch", "unsupported-scheme"),
    (NotSupported, "fetch", "unsupported-scheme"),
]


def classify_failure(exc: BaseException) -> tuple[str, str]:
    """``(stage, reason)`` for an exception that ended a request."""
    for exc_type, stage, reason in _EXCEPTION_REASONS:
        if isinstance(exc, exc_type):
            return stage, reason
    if isinstance(exc, IgnoreRequest):
        message = str(exc)
        if "max redirections" in message:
            return "fetch", "redirect-limit"
        if "offsite" in message.lower():
            return "fetch", "offsite-redirect"
        return "fetch", "ignored"
    return "fetch", "download-error"


def failure_record(failure: Failure, crawl_id: str) -> ErrorRecord:
    """The error record of a failed request (Scrapy errback ``failure``)."""
    exc = failure.value
    stage, reason = classify_failure(exc)
    request: Request | None = getattr(failure, "request", None)
    url = request.url if request is not None else ""
    detail = f"{type(exc).__name__}: {exc}"
    chain = request.meta.get("redirect_urls") if request is not None else None
    if chain:
        # the URL that was asked for gets the record; the redirect target is in the detail
        url, detail = chain[0], f"{detail} (redirected to {request.url})"
    warc_file = warc_record_id = None
    fetched_at = datetime.now(UTC)
    if request is not None and WARC_META in request.meta:
        warc_file, warc_record_id, fetched_at = request.meta[WARC_META]
    status = getattr(getattr(exc, "response", None), "status", None)
    return ErrorRecord(
        url=url,
        stage=stage,
        reason=reason,
        detail=detail[:500],
        http_status=status,
        fetched_at=fetched_at,
        warc_file=warc_file,
        warc_record_id=warc_record_id,
        crawl_id=crawl_id,
    )


def unsupported_url_record(url: str, crawl_id: str) -> ErrorRecord:
    """The error record of a seed that is not an http(s) URL."""
    return ErrorRecord(
        url=url, stage="fetch", reason="unsupported-scheme",
        detail="only http and https URLs are crawled", http_status=None,
        fetched_at=datetime.now(UTC), warc_file=None, warc_record_id=None,
        crawl_id=crawl_id,
    )




def redirect_record(request: Request, reason: str, crawl_id: str) -> ErrorRecord | None:
    """The error record of a redirect target that will not be fetched, else ``None``.

    A redirect whose target was already seen (a loop, or a page fetched under another
    URL) or lies outside the allowed hosts is dropped by Scrapy's scheduler and never
    reaches an errback; the URL that redirected (the first of ``redirect_urls``) gets the
    record, with the WARC record of the last redirect response.
    """
    chain: list[str] = request.meta.get("redirect_urls") or []
    if not chain:
        return None
    warc_file = warc_record_id = None
    fetched_at = datetime.now(UTC)
    if WARC_META in request.meta:
        warc_file, warc_record_id, fetched_at = request.meta[WARC_META]
    return ErrorRecord(
        url=chain[0], stage="fetch", reason=reason, detail=f"-> {request.url}"[:500],
        http_status=None, fetched_at=fetched_at, warc_file=warc_file,
        warc_record_id=warc_record_id, crawl_id=crawl_id,
    )


def dropped_reason(request: Request) -> str:
    """Why the scheduler dropped a redirect target: ``redirect-loop`` or ``-duplicate``."""
    chain: list[str] = request.meta.get("redirect_urls") or []
    return "redirect-loop" if request.url in chain else "redirect-duplicate"


def host_allowed(url: str, domains: list[str]) -> bool:
    """Whether ``url``'s host is one of ``domains`` or a subdomain (Scrapy's offsite rule)."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in domains)
