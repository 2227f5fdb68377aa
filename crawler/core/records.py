"""From a fetched response to a document row (SPEC section 1), and the checks before parsing.

:func:`classify_response` says, from status, headers and the first bytes of the body, why a
response cannot be a document (or ``None`` when it may be one); it never parses HTML.
:func:`build_row` joins a page and the result of :func:`crawler.detect.inspect` into a full row.

Row conventions:

* ``id`` is ``sha1(url + "\\n" + text_sha1)`` in hex, where ``url`` is the final URL (after
  redirects) exactly as fetched and ``text_sha1`` the hex SHA-1 of the main text: the same
  final URL with the same text gives the same id in every crawl and every re-processing.
* ``host`` is the URL's host, lower-case, with internationalised names in their ASCII
  (IDNA / punycode) form.
* ``content_type`` is the ``Content-Type`` header as sent, parameters included
  (``text/html; charset=utf-8``), surrounding whitespace removed; ``""`` when the server sent
  none (the body was then sniffed as HTML).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from crawler.core.page import DEFAULT_MAX_BODY, FetchedPage
from crawler.core.schema import required_column_names

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
SNIFF_BYTES = 1024
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<title", b"<meta")

# Columns build_row takes from the page and the run; every other column comes from inspect.
_PAGE_COLUMNS = frozenset({"id", "url", "host", "fetched_at", "http_status", "content_type",
                           "warc_file", "warc_record_id", "crawl_id"})

REASONS = {
    "http-error": "HTTP status 4xx/5xx (or any non-2xx, non-3xx status)",
    "redirect": "3xx response: the document is at its target",
    "empty-body": "no body",
    "too-large": "body larger than the size limit",
    "not-html": "Content-Type is not HTML, or no type and the body does not look like HTML",
}


def media_type(content_type: str | None) -> str:
    """``text/html`` from ``Text/HTML; charset=UTF-8``: lower-case, parameters dropped."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def looks_like_html(body: bytes) -> bool:
    """Sniff the first bytes of a body with no Content-Type: markup, and no NUL bytes."""
    head = body[:SNIFF_BYTES]
    if b"\x00" in head:
        return False
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return any(marker in head for marker in _HTML_MARKERS)


def classify_response(page: FetchedPage, *, max_bytes: int = DEFAULT_MAX_BODY) -> str | None:
    """Why ``page`` cannot be a document (a key of :data:`REASONS`), or ``None`` if it may be.

    Checked in order: status (``http-error`` for >= 400 and other non-2xx/3xx,
    ``redirect`` for 3xx), ``empty-body``, ``too-large`` (more than ``max_bytes``), then the
    media type (``text/html`` or ``application/xhtml+xml``; when the header is missing or
    empty the body is sniffed).
    """
    if 300 <= page.status < 400:
        return "redirect"
    if not 200 <= page.status < 300:
        return "http-error"
    if not page.body.strip():
        return "empty-body"
    if len(page.body) > max_bytes:
        return "too-large"
    mtype = media_type(page.header("Content-Type"))
    if mtype:
        return None if mtype in HTML_TYPES else "not-html"
    return None if looks_like_html(page.body) else "not-html"


def host_of(url: str) -> str:
    """Host of ``url``: lower-case, IDNA (punycode) for non-ASCII names."""
    host = (urlsplit(url).hostname or "").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def row_id(url: str, text_sha1: str) -> str:
    """The stable document id: hex SHA-1 of ``url + "\\n" + text_sha1``."""
    return hashlib.sha1(f"{url}\n{text_sha1}".encode()).hexdigest()


def build_row(page: FetchedPage, result: dict[str, Any], *, crawl_id: str) -> dict[str, Any]:
    """The full document row for ``page`` given ``result = crawler.detect.inspect(...)``.

    Columns come in schema order. Raises ``ValueError`` when the result has no main text
    (a row's ``text`` is never empty) or lacks a column inspect is meant to give.
    """
    if not result.get("text"):
        raise ValueError(f"{page.url}: no main text; not a document row")
    row: dict[str, Any] = {}
    for name in required_column_names():
        if name in _PAGE_COLUMNS:
            continue
        if name not in result:
            raise ValueError(f"inspect result lacks column {name!r}")
        row[name] = result[name]
    row.update(
        id=row_id(page.url, result["text_sha1"]),
        url=page.url,
        host=host_of(page.url),
        fetched_at=page.fetched_at,
        http_status=page.status,
        content_type=(page.header("Content-Type") or "").strip(),
        warc_file=page.warc_file,
        warc_record_id=page.warc_record_id,
        crawl_id=crawl_id,
    )
    return {name: row[name] for name in required_column_names()}
