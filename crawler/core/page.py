"""The fetched page every stage shares, and the reference to the WARC record that keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

__all__ = ["DEFAULT_MAX_BODY", "FetchedPage", "RevisitedPage", "WarcRef", "first_header"]

# The largest body a page may have to be a document (larger ones are error records).
DEFAULT_MAX_BODY = 16 * 1024 * 1024


def first_header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` in ``(name, value)`` pairs (case-insensitive), or
    ``None``."""
    lname = name.lower()
    return next((value for key, value in headers if key.lower() == lname), None)


@dataclass(frozen=True, slots=True)
class WarcRef:
    """Where a record is kept: ``file`` relative to the writer's root, and its record id."""

    file: str
    record_id: str


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One HTTP response as fetched: what the crawl hands on and what a WARC gives back.

    ``body`` is the decoded payload; ``headers`` the response headers as sent;
    ``fetched_at`` is timezone-aware UTC; ``warc_file`` / ``warc_record_id`` say where the
    raw response is kept (``None`` when it is not kept in a WARC).
    """

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    warc_file: str | None = None
    warc_record_id: str | None = None
    ip: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return first_header(self.headers, name)

    @property
    def host(self) -> str:
        """Host of ``url``, lower-case (empty for a URL without one)."""
        return (urlsplit(self.url).hostname or "").lower()


@dataclass(frozen=True, slots=True)
class RevisitedPage:
    """A page a recrawl found unchanged without reading it again: a 304 to a conditional
    request (``profile="server-not-modified"``) or a 200 with the same payload as before
    (``"identical-payload-digest"``). Kept in WARC as a ``revisit`` record
    (``warc_file``/``warc_record_id``); it gives an observation, not a row."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    fetched_at: datetime
    profile: str
    warc_file: str | None = None
    warc_record_id: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return first_header(self.headers, name)
