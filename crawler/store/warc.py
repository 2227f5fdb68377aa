"""WARC evidence: write every fetched response, stream responses back out of any WARC.

Writing (:class:`WarcWriter`)
    Gzip WARC/1.1 files, one gzip member per record, rotated by size. A file being written
    is named ``<name>.warc.gz.open``; it is renamed to ``<name>.warc.gz`` when it is
    rotated or the writer is closed (after one ``fsync``), so a ``*.warc.gz`` file is always
    complete and a crash (even SIGKILL) can only leave a ``.open`` file behind, whose
    complete records :func:`recover_open_warc` keeps. Names carry a UTC timestamp, the
    process id and a random suffix, so many writer processes can share one folder. Records
    are buffered, never ``fsync``-ed one by one, and compressed at zlib level 6 (warcio's
    own writer uses 9: 1.7x slower for 1% smaller files) outside the writer's lock, so
    writing is cheap enough to call from the Scrapy reactor thread.

    :class:`WarcRef` names a record: ``file`` is the *final* file name relative to the
    writer's ``root`` (default: the output folder itself), ``record_id`` its
    ``WARC-Record-ID``. Rows and error records store these two strings.

Reading (:func:`read_warc`, :func:`iter_responses`)
    Streams the HTTP responses of any WARC or ARC file (licrawl's, Common Crawl's, WARC
    0.17 to 1.1, ARC; plain, gzip per record, records spanning gzip members, or gzip as a
    whole), one record in memory at a time, as :class:`FetchedPage` values with the body
    decoded (chunked transfer and gzip/deflate/brotli content codings removed).
    :func:`read_warc` loses nothing: a response that gives no page, and the place where a
    file stops being readable, are :class:`WarcReadError` items naming the record's URL and
    id. A bad header costs one record at most (an unreadable ``WARC-Date`` falls back to
    the HTTP ``Date`` or the record before). :func:`iter_responses` gives the pages only.
"""

from __future__ import annotations

import base64
import hashlib
import http
import os
import secrets
import threading
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.core.errors import ErrorRecord
from crawler.core.fsutil import fsync_dir
from crawler.core.page import DEFAULT_MAX_BODY, FetchedPage, WarcRef, first_header
from crawler.core.records import HTML_TYPES, media_type
from crawler.core.version import __version__

GIB = 1024**3
WARC_VERSION = "WARC/1.1"
#: Revisit profiles :meth:`WarcWriter.write_revisit` writes (WARC 1.1, section 6.7).
REVISIT_PROFILES = ("server-not-modified", "identical-payload-digest")
OPEN_SUFFIX = ".open"
# Framing headers that describe bytes we no longer hold: the body handed to the writer is
# the payload as the HTTP client delivered it (de-chunked), so the original values are kept
# under a renamed header and Content-Length states the stored length.
_REFRAMED_HEADERS = ("transfer-encoding", "content-length")
ORIGINAL_HEADER_PREFIX = "X-Licrawl-Original-"


class WarcFormatError(ValueError):
    """A file that is not a readable WARC (missing, empty, or not WARC/ARC data)."""


def _utc(dt: datetime) -> datetime:
    """``dt`` as an aware UTC datetime (naive values are taken to be UTC already)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _warc_date(dt: datetime) -> str:
    """A WARC/1.1 date with microseconds: ``2024-05-01T12:30:00.123456Z``."""
    return _utc(dt).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def warc_date(dt: datetime) -> str:
    """``WARC-Date`` of a record written at ``dt`` (as :class:`WarcWriter` writes it)."""
    return _warc_date(dt)


def payload_digest(body: bytes) -> str:
    """``WARC-Payload-Digest`` of ``body``: ``sha1:`` and the base32 SHA-1."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")  # noqa: S324


def _new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _reframe(headers: list[tuple[str, str]], body_length: int) -> list[tuple[str, str]]:
    """Headers as stored: framing headers renamed, Content-Length set to the stored body."""
    out: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() in _REFRAMED_HEADERS:
            out.append((ORIGINAL_HEADER_PREFIX + name, value))
        else:
            out.append((name, value))
    out.append(("Content-Length", str(body_length)))
    return out


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class WarcWriter:
    """Write fetched responses as gzip WARC files under ``out_dir``, rotated by size.

    ``root`` is the folder :attr:`WarcRef.file` paths are relative to (default
    ``out_dir``; a crawl that writes into ``OUT/warc`` passes ``root=OUT`` so refs read
    ``warc/<name>.warc.gz``). A file ends with the first record that takes it to
    ``max_bytes`` or beyond, so a response and its request record always share a file.
    Thread-safe; use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        *,
        prefix: str = "licrawl",
        max_bytes: int = GIB,
        gzip: bool = True,
        root: str | os.PathLike[str] | None = None,
        info: dict[str, str] | None = None,
        compress_level: int = 6,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if not 1 <= compress_level <= 9:
            raise ValueError("compress_level must be 1..9")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.root = Path(root) if root is not None else self.out_dir
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.gzip = gzip
        self.compress_level = compress_level
        self.info = {"software": f"licrawl/{__version__}", "format": WARC_VERSION}
        self.info.update(info or {})
        self._stamp = f"{datetime.now(UTC):%Y%m%d%H%M%S}-{os.getpid()}-{secrets.token_hex(3)}"
        self._seq = 0
        self._lock = threading.Lock()
        self._fh: BinaryIO | None = None
        self._final: Path | None = None
        self._closed = False
        self.files: list[Path] = []

    # -- files -------------------------------------------------------------------------
    def _serialize(self, build: Callable[[WARCWriter], list[ArcWarcRecord]]) -> bytes:
        """The records ``build`` makes, each as its own gzip member (when gzip is on)."""
        buf = BytesIO()
        writer = WARCWriter(buf, gzip=False, warc_version=WARC_VERSION)
        parts = []
        for record in build(writer):
            writer.write_record(record)
            data = buf.getvalue()
            buf.seek(0)
            buf.truncate()
            if self.gzip:
                deflate = zlib.compressobj(self.compress_level, zlib.DEFLATED, 31)
                data = deflate.compress(data) + deflate.flush()
            parts.append(data)
        return b"".join(parts)

    def _open_next(self) -> None:
        self._seq += 1
        ext = ".warc.gz" if self.gzip else ".warc"
        final = self.out_dir / f"{self.prefix}-{self._stamp}-{self._seq:05d}{ext}"
        self._fh = open(final.with_name(final.name + OPEN_SUFFIX), "xb")  # noqa: SIM115
        self._final = final
        self._fh.write(self._serialize(lambda w: [w.create_warcinfo_record(final.name, self.info)]))

    def _finish_current(self) -> None:
        if self._fh is None or self._final is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._final.with_name(self._final.name + OPEN_SUFFIX), self._final)
        fsync_dir(self.out_dir)
        self.files.append(self._final)
        self._fh = None

    def _append(self, data: bytes) -> Path:
        """Write serialized records to the current file (rotating first); returns it."""
        with self._lock:
            if self._closed:
                raise ValueError("WarcWriter is closed")
            if self._fh is not None and self._fh.tell() >= self.max_bytes:
                self._finish_current()
            if self._fh is None:
                self._open_next()
            assert self._fh is not None and self._final is not None
            self._fh.write(data)
            return self._final

    def _ref_name(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- records -----------------------------------------------------------------------
    def write_response(
        self,
        url: str,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        body: bytes,
        fetched_at: datetime,
        request_headers: list[tuple[str, str]] | None = None,
        ip: str | None = None,
        *,
        method: str = "GET",
        protocol: str = "HTTP/1.1",
    ) -> WarcRef:
        """Write one response (and its ``request`` record when ``request_headers`` is given).

        ``body`` is the payload as delivered by the HTTP client (de-chunked; it may still be
        content-encoded if ``headers`` say so). ``Transfer-Encoding`` and ``Content-Length``
        are stored as ``X-Licrawl-Original-*`` and ``Content-Length`` is set to
        ``len(body)``, so any WARC reader decodes the stored record correctly. The two
        records point at each other with ``WARC-Concurrent-To``. Returns the response's ref.
        """
        date = _warc_date(fetched_at)
        resp_id = _new_record_id()
        req_id = _new_record_id() if request_headers is not None else None
        statusline = f"{int(status)} {reason or _reason(status)}"
        http_headers = StatusAndHeaders(
            statusline, _reframe(list(headers), len(body)), protocol=protocol
        )
        warc_headers = {"WARC-Record-ID": resp_id, "WARC-Date": date}
        if ip:
            warc_headers["WARC-IP-Address"] = ip
        if req_id:
            warc_headers["WARC-Concurrent-To"] = req_id

        def build(w: WARCWriter) -> list[ArcWarcRecord]:
            records = [
                w.create_warc_record(
                    url,
                    "response",
                    payload=BytesIO(body),
                    length=len(body),
                    warc_headers_dict=warc_headers,
                    http_headers=http_headers,
                )
            ]
            if req_id is not None and request_headers is not None:
                req_http = StatusAndHeaders(
                    f"{method} {_request_target(url)} {protocol}",
                    list(request_headers),
                    is_http_request=True,
                )
                records.append(
                    w.create_warc_record(
                        url,
                        "request",
                        payload=BytesIO(b""),
                        length=0,
                        warc_headers_dict={
                            "WARC-Record-ID": req_id,
                            "WARC-Date": date,
                            "WARC-Concurrent-To": resp_id,
                        },
                        http_headers=req_http,
                    )
                )
            return records

        return WarcRef(self._ref_name(self._append(self._serialize(build))), resp_id)

    def write_revisit(
        self,
        url: str,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        fetched_at: datetime,
        *,
        profile: str,
        refers_to_record: str | None,
        refers_to_date: str | None,
        payload_digest: str | None = None,
        protocol: str = "HTTP/1.1",
    ) -> WarcRef:
        """Write a ``revisit`` record: the response's status line and headers, no payload.

        ``profile`` is ``server-not-modified`` (a 304 to a conditional request) or
        ``identical-payload-digest`` (a 200 whose payload has ``payload_digest``, the same as
        the record it refers to). ``refers_to_record`` / ``refers_to_date`` name the earlier
        full response (``WARC-Refers-To``, ``WARC-Refers-To-Date``; the target URI is
        ``url``). Returns the revisit record's ref."""
        if profile not in REVISIT_PROFILES:
            raise ValueError(f"unknown revisit profile {profile!r}; one of {REVISIT_PROFILES}")
        rec_id = _new_record_id()
        warc_headers = {"WARC-Record-ID": rec_id, "WARC-Date": _warc_date(fetched_at),
                        "WARC-Profile": f"http://netpreserve.org/warc/1.1/revisit/{profile}",
                        "WARC-Refers-To-Target-URI": url}
        if refers_to_record:
            warc_headers["WARC-Refers-To"] = refers_to_record
        if refers_to_date:
            warc_headers["WARC-Refers-To-Date"] = refers_to_date
        if payload_digest:
            warc_headers["WARC-Payload-Digest"] = payload_digest
        http_headers = StatusAndHeaders(f"{int(status)} {reason or _reason(status)}",
                                        _reframe(list(headers), 0), protocol=protocol)
        data = self._serialize(lambda w: [w.create_warc_record(
            url, "revisit", payload=BytesIO(b""), length=0,
            warc_headers_dict=warc_headers, http_headers=http_headers)])
        return WarcRef(self._ref_name(self._append(data)), rec_id)

    def write_metadata(
        self, url: str, fields: dict[str, str], refers_to: WarcRef, fetched_at: datetime
    ) -> WarcRef:
        """Write a ``metadata`` record (``application/warc-fields``) about a response."""
        payload = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
        rec_id = _new_record_id()
        data = self._serialize(
            lambda w: [
                w.create_warc_record(
                    url,
                    "metadata",
                    payload=BytesIO(payload),
                    length=len(payload),
                    warc_content_type="application/warc-fields",
                    warc_headers_dict={
                        "WARC-Record-ID": rec_id,
                        "WARC-Date": _warc_date(fetched_at),
                        "WARC-Concurrent-To": refers_to.record_id,
                    },
                )
            ]
        )
        return WarcRef(self._ref_name(self._append(data)), rec_id)

    def flush(self) -> None:
        """Hand buffered records to the OS (no fsync)."""
        with self._lock:
            if self._fh is not None:
                self._fh.flush()

    def close(self) -> list[Path]:
        """Finish the current file (fsync + rename); returns every file written."""
        with self._lock:
            if not self._closed:
                self._finish_current()
                self._closed = True
            return list(self.files)

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


# -- reading ---------------------------------------------------------------------------
_GZIP_MAGIC = b"\x1f\x8b"
_TAIL_BYTES = 1 << 16  # decompressed bytes kept to name the record a file ends in
_BLOCK = 1 << 16
# Reasons of a :class:`WarcReadError`: one record (reading goes on), or the end of the file.
RECORD_REASONS = frozenset({"warc-bad-date", "warc-bad-http"})
FILE_REASONS = frozenset({"warc-truncated", "warc-unreadable"})


@dataclass(frozen=True, slots=True)
class WarcReadError:
    """A response record that gave no page, or the place where a file stops being readable.

    ``reason`` is ``warc-bad-date`` (no usable date: not the record's, not the HTTP
    ``Date``, not an earlier record's) or ``warc-bad-http`` (no HTTP status line) for one
    record, after which reading goes on; or ``warc-truncated`` (the file ends inside a
    record) or ``warc-unreadable`` (bytes that are no record, corrupt gzip data), the last
    item of the file. ``url`` and ``record_id`` name the record (``""`` / ``None`` when the
    bytes do not say); ``detail`` says what was wrong and where.
    """

    url: str
    record_id: str | None
    reason: str
    detail: str
    warc_file: str
    http_status: int | None = None

    @property
    def ends_file(self) -> bool:
        """True when nothing after this point of the file could be read."""
        return self.reason in FILE_REASONS

    def error_record(self, crawl_id: str | None = None) -> ErrorRecord:
        """This error as the run's :class:`~crawler.core.errors.ErrorRecord` (stage ``decode``)."""
        return ErrorRecord(url=self.url, stage="decode", reason=self.reason, detail=self.detail,
                           http_status=self.http_status, warc_file=self.warc_file,
                           warc_record_id=self.record_id, crawl_id=crawl_id)


class WarcReadFailed(EOFError):
    """:func:`iter_responses` met the point where a file stops being readable (``error``)."""

    def __init__(self, error: WarcReadError) -> None:
        super().__init__(f"{error.warc_file}: {error.reason}: {error.detail}"
                         + (f" ({error.url})" if error.url else ""))
        self.error = error


class _Tap:
    """The file's records as one stream of bytes for warcio's :class:`ArchiveIterator`.

    A gzip file is inflated as the concatenation of its members, so a record may span
    members and a file compressed as a whole reads too; what a member cut short holds is
    still handed out. Data that cannot be read (gzip cut short or corrupt, an I/O error)
    ends the stream and is described in ``failure`` (``cut_short`` when the file simply
    ends). ``tell`` counts the bytes handed out; the last :data:`_TAIL_BYTES` of them are
    kept so the record a file ends in can be named.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        start = raw.tell()  # 0, or the first byte of a range (:func:`read_warc`)
        self._gzip = raw.read(2) == _GZIP_MAGIC
        raw.seek(start)
        self._inflater: zlib._Decompress | None = None  # None between gzip members
        self._in = b""  # compressed bytes read and not inflated yet
        self._member_at = 0  # file offset of the current gzip member
        self._member_out = 0  # bytes inflated from it so far
        self.failure: str | None = None
        self.cut_short = False
        self._count = 0
        self._tail: deque[bytes] = deque()  # the last pieces handed out
        self._kept = 0

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end or after a failure."""
        if self.failure is not None:
            return b""
        try:
            data = self._inflate() if self._gzip else self._raw.read(size)
        except OSError as exc:
            self.failure = f"read error ({exc})"
            return b""
        self._count += len(data)
        self._tail.append(data)
        self._kept += len(data)
        while self._kept - len(self._tail[0]) >= _TAIL_BYTES:
            self._kept -= len(self._tail.popleft())
        return data

    def _inflate(self) -> bytes:
        """The next inflated bytes (at most :data:`_BLOCK` * 16, so a gzip bomb cannot
        fill memory)."""
        while True:
            if not self._in:
                self._in = self._raw.read(_BLOCK)
                if not self._in:
                    if self._inflater is not None:
                        self.failure, self.cut_short = "gzip data cut short", True
                    return b""
            if self._inflater is None:
                self._inflater = zlib.decompressobj(wbits=31)
                self._member_at, self._member_out = self._raw.tell() - len(self._in), 0
            try:
                out = self._inflater.decompress(self._in, _BLOCK * 16)
            except zlib.error:
                return self._salvage()
            self._member_out += len(out)
            if self._inflater.eof:
                self._in, self._inflater = self._inflater.unused_data, None
            else:
                self._in = self._inflater.unconsumed_tail
            if out:
                return out

    def _salvage(self) -> bytes:
        """The bytes of the current gzip member before its corrupt part that were not
        handed out yet (so the record it holds can be named); sets ``failure``."""
        self._raw.seek(self._member_at)
        inflater = zlib.decompressobj(wbits=31)
        skip, kept = self._member_out, []
        while piece := self._raw.read(512):
            try:
                data = inflater.decompress(piece)
            except zlib.error as exc:
                where = self._raw.tell() - len(piece)
                self.failure = f"corrupt gzip data near byte {where} of the file ({exc})"
                break
            cut = min(skip, len(data))
            skip -= cut
            kept.append(data[cut:])
        else:
            self.failure = "gzip data cut short"
        return b"".join(kept)

    def tell(self) -> int:
        """Bytes handed out so far (decompressed)."""
        return self._count

    def since(self, offset: int) -> bytes:
        """The bytes handed out from ``offset`` on, as far as they are still kept."""
        start = offset - (self._count - self._kept)
        return b"".join(self._tail)[max(start, 0):]


def _looks_like_arc(headers: StatusAndHeaders) -> bool:
    """True for an ARC file header (``filedesc://``) or a line with an ARC record's fields:
    URL, 12+ digit date, length."""
    uri = headers.get_header("uri") or ""
    date = headers.get_header("archive-date") or ""
    length = headers.get_header("length") or ""
    return uri.startswith("filedesc://") or (
        length.isdigit() and date.isdigit() and len(date) >= 12
        and ("://" in uri or uri.startswith("dns:")))


def check_warc(path: str | os.PathLike[str]) -> None:
    """Raise :class:`WarcFormatError` unless ``path`` is a WARC or ARC file.

    The first record must parse: a WARC version line with its headers, or an ARC header
    line with a URL, a date and a length (plain or gzip, whole or per record).
    """
    p = Path(path)
    if not p.is_file():
        raise WarcFormatError(f"{p}: no such file")
    try:
        with open(p, "rb") as fh:
            tap = _Tap(fh)
            first = next(iter(ArchiveIterator(tap)), None)
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        raise WarcFormatError(f"{p}: not a WARC/ARC file ({exc})") from exc
    if first is None:
        raise WarcFormatError(f"{p}: not a WARC/ARC file ({tap.failure or 'no records'})")
    if first.format == "arc" and not _looks_like_arc(first.rec_headers):
        line = " ".join(value for _, value in first.rec_headers.headers)
        raise WarcFormatError(f"{p}: not a WARC/ARC file (its first line {line[:80]!r} is "
                              "neither a WARC version line nor an ARC record header)")


def _record_date(value: str | None, *, arc: bool) -> datetime | None:
    """A record's date (``WARC-Date``, or an ARC's 14-digit date) as aware UTC, or ``None``."""
    if not value:
        return None
    try:
        if arc:
            if not value.isdigit() or len(value) < 12:
                return None
            return datetime.strptime(value[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(
                tzinfo=UTC)
        return _utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _http_date(headers: list[tuple[str, str]]) -> datetime | None:
    """The HTTP ``Date`` header as aware UTC, or ``None`` when missing or unreadable."""
    value = first_header(headers, "Date")
    if not value:
        return None
    try:
        return _utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None


def _header_names(head: bytes) -> tuple[str, str | None]:
    """URL and record id written in the header of a record that could not be read."""
    lines = head[:8192].decode("latin-1").lstrip("\r\n").splitlines()
    url, record_id = "", None
    for line in lines:
        if not line.strip():
            break
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "warc-target-uri":
            url = value.strip().strip("<>")
        elif sep and name.strip().lower() == "warc-record-id":
            record_id = value.strip()
    if not url and lines and "://" in lines[0].split(" ", 1)[0]:  # an ARC header line
        url = lines[0].split(" ", 1)[0]
    return url, record_id


class _Reader:
    """One pass over one file for :func:`read_warc` (the state it carries between records)."""

    def __init__(self, tap: _Tap, warc_file: str, basename: str, max_body: int,
                 url_filter: Callable[[str], bool] | None) -> None:
        self.tap, self.warc_file, self.basename = tap, warc_file, basename
        self.max_body, self.url_filter = max_body, url_filter
        self.ordinal = 0  # records read, for the ids of records that have none
        self.last_date: datetime | None = None  # the latest readable record date

    def items(self) -> Iterator[FetchedPage | WarcReadError]:
        """The pages and errors of the file, ending with an error where it stops."""
        it = ArchiveIterator(self.tap)
        records = iter(it)
        while True:
            try:
                record = next(records, None)
            except ArchiveLoadFailed as exc:
                yield self._end(it.offset, "warc-unreadable",
                                f"no record at byte {it.offset}: {str(exc).strip()}")
                return
            if record is None:
                break
            self.ordinal += 1
            item = self._item(record)
            if item is not None:
                yield item
                if isinstance(item, WarcReadError) and item.ends_file:
                    return
        failure = self.tap.failure
        if failure is None and self.tap.since(it.offset).strip():
            yield self._end(it.offset, "warc-truncated",
                            f"the file ends inside the record header at byte {it.offset}")
        elif failure is not None:
            reason = "warc-truncated" if self.tap.cut_short else "warc-unreadable"
            yield self._end(it.offset, reason, f"{failure}, after byte {it.offset}")

    def _end(self, offset: int, reason: str, detail: str) -> WarcReadError:
        url, record_id = _header_names(self.tap.since(offset))
        return WarcReadError(url, record_id, reason, detail, self.warc_file)

    def _item(self, record: ArcWarcRecord) -> FetchedPage | WarcReadError | None:
        """The page (or error) of one record; ``None`` for a record that is no response."""
        arc = record.format == "arc"
        head = record.rec_headers
        # warcio percent-encodes spaces in WARC-Target-URI; an ARC URI gets the same
        url = ((head.get_header("uri") or "").replace(" ", "%20") if arc
               else head.get_header("WARC-Target-URI") or "")
        raw_date = head.get_header("archive-date" if arc else "WARC-Date")
        date = _record_date(raw_date, arc=arc)
        if date is not None:
            self.last_date = date
        if record.rec_type not in ("response", "resource"):
            return None
        if urlsplit(url).scheme not in ("http", "https"):
            return None
        if record.rec_type == "resource" and media_type(record.content_type) not in HTML_TYPES:
            return None
        if self.url_filter is not None and not self.url_filter(url):
            return None
        record_id = (None if arc else head.get_header("WARC-Record-ID")) or self._made_id(
            url, raw_date)

        def error(reason: str, detail: str, status: int | None = None) -> WarcReadError:
            return WarcReadError(url, record_id, reason, detail, self.warc_file, status)

        status, headers, problem = 200, [("Content-Type", record.content_type or "")], ""
        if record.rec_type == "response":
            http = record.http_headers
            headers = list(http.headers) if http is not None else []
            code = http.get_statuscode() if http is not None else ""
            if code.isdigit():
                status = int(code)
            else:
                line = f"{http.protocol} {http.statusline}".strip() if http is not None else ""
                problem = (f"no HTTP status in the status line {line!r}" if http is not None
                           else "response record without an HTTP message")
        body = record.content_stream().read(self.max_body + 1) if not problem else b""
        while record.raw_stream.read(1 << 16):
            pass
        missing = getattr(record.raw_stream, "limit", 0)
        if missing > 0:
            cause = f"; {self.tap.failure}" if self.tap.failure else ""
            reason = "warc-unreadable" if self.tap.failure and not self.tap.cut_short else (
                "warc-truncated")
            return error(reason, f"record cut short: {missing} bytes of it missing{cause}")
        if problem:
            return error("warc-bad-http", problem)
        fetched_at = date or _http_date(headers) or self.last_date
        if fetched_at is None:
            return error("warc-bad-date", f"unusable date {raw_date!r}, no HTTP Date and no "
                         "earlier record date", status)
        return FetchedPage(url=url, status=status, headers=headers, body=body,
                           fetched_at=fetched_at, warc_file=self.warc_file,
                           warc_record_id=record_id,
                           ip=head.get_header("ip-address" if arc else "WARC-IP-Address"))

    def _made_id(self, url: str, raw_date: str | None) -> str:
        """A stable id for a record that has none (every ARC record): a UUID made from the
        file's name, the record's position in it, its URL and its date."""
        key = f"{self.basename}\n{self.ordinal}\n{url}\n{raw_date}"
        return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}>"


def read_warc(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    url_filter: Callable[[str], bool] | None = None,
    byte_range: tuple[int, int] | None = None,
) -> Iterator[FetchedPage | WarcReadError]:
    """Every HTTP response of a WARC or ARC file as a :class:`FetchedPage` or a
    :class:`WarcReadError`, in file order: nothing is dropped without a trace.

    Reads WARC 0.17 to 1.1 and ARC, plain or gzip (per record, several members per record,
    or the whole file as one), one record in memory at a time. ``response`` records with
    an ``http(s)`` URL are read, and ``resource`` records of HTML (``status`` 200, the
    record's ``Content-Type`` as the only header); ``warcinfo``, ``request``,
    ``metadata``, ``revisit`` records and other URLs (``dns:``) are skipped. A record
    whose ``WARC-Date`` cannot be read is dated by its HTTP ``Date``, else by the record
    before it; the bodies are decoded (chunked transfer, gzip/deflate/brotli content
    coding) and at most ``max_body + 1`` bytes of one are read (a longer body is cut there
    and is recognised as too large by :func:`crawler.core.records.classify_response`). A
    record without a ``WARC-Record-ID`` (every ARC record) gets a stable made-up one.
    ``warc_file`` of each item is ``name`` when given, else ``str(path)``; with
    ``url_filter``, only records whose URL it accepts are read. Where the file stops being
    readable (cut short, corrupt) the last item is a :class:`WarcReadError` whose
    :attr:`~WarcReadError.ends_file` is true, naming the record it stopped in when known.

    ``byte_range`` ``(start, end)`` reads only the records stored in those bytes of the
    file: ``start`` and ``end`` must be record boundaries of a gzip WARC
    (:func:`warc_split_points`). Records without a ``WARC-Record-ID`` get their made-up
    id from their position in the range, and a record without a readable date is dated by
    the records before it in the range only.
    """
    warc_file = name if name is not None else str(path)
    with open(path, "rb") as fh:
        raw = fh if byte_range is None else _Window(fh, *byte_range)
        reader = _Reader(_Tap(raw), warc_file, Path(path).name, max_body,  # type: ignore[arg-type]
                         url_filter)
        yield from reader.items()


class _Window:
    """Bytes ``start`` to ``end`` of an open file, read as if the file ended at ``end``;
    ``tell`` and ``seek`` use positions in the whole file."""

    def __init__(self, fh: BinaryIO, start: int, end: int) -> None:
        self._fh, self._end = fh, end
        fh.seek(start)

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that are left with ``-1``), never past ``end``."""
        left = max(0, self._end - self._fh.tell())
        return self._fh.read(left if size is None or size < 0 else min(size, left))

    def tell(self) -> int:
        """The position in the file."""
        return self._fh.tell()

    def seek(self, pos: int, whence: int = 0) -> int:
        """Move to ``pos`` of the file."""
        return self._fh.seek(pos, whence)


_SPLIT_SCAN = 1 << 20  # bytes searched for a record's gzip member past a split target
_MAX_MEMBER = 64 << 20  # a candidate member inflating to more than this is not checked


def _record_member_at(fh: BinaryIO, pos: int) -> bool:
    """True when a complete gzip member starts at ``pos`` (its CRC checked) and holds the
    start of a WARC record (``WARC/``)."""
    fh.seek(pos)
    inflater = zlib.decompressobj(wbits=31)
    head, out = b"", 0
    while not inflater.eof:
        chunk = fh.read(_BLOCK)
        if not chunk:
            return False
        try:
            data = inflater.decompress(chunk)
        except zlib.error:
            return False
        if len(head) < 5:
            head += data[:5]
            if len(head) >= 5 and not head.startswith(b"WARC/"):
                return False
        out += len(data)
        if out > _MAX_MEMBER:
            return False
    return head.startswith(b"WARC/")


def warc_split_points(path: str | os.PathLike[str], parts: int) -> list[tuple[int, int]]:
    """Cut a gzip WARC into about ``parts`` byte ranges of about equal size, each starting
    where a gzip member starts a WARC record, for :func:`read_warc`'s ``byte_range``.

    A plain WARC, an ARC file, a file compressed as one member, or one without record
    boundaries near the targets gives one range, the whole file. Each boundary is a gzip
    member that inflates completely (CRC checked) and begins with ``WARC/``.
    """
    size = os.path.getsize(path)
    whole = [(0, size)]
    if parts <= 1 or size == 0:
        return whole
    with open(path, "rb") as fh:
        if fh.read(2) != _GZIP_MAGIC or not _record_member_at(fh, 0):
            return whole
        cuts = [0]
        for k in range(1, parts):
            target = max(size * k // parts, cuts[-1] + 1)
            fh.seek(target)
            window = fh.read(_SPLIT_SCAN)
            found = None
            at = window.find(_GZIP_MAGIC + b"\x08")
            while at >= 0:
                if _record_member_at(fh, target + at):
                    found = target + at
                    break
                at = window.find(_GZIP_MAGIC + b"\x08", at + 1)
            if found is not None and found > cuts[-1] and found < size:
                cuts.append(found)
    cuts.append(size)
    return list(zip(cuts, cuts[1:], strict=False))


def iter_responses(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    url_filter: Callable[[str], bool] | None = None,
) -> Iterator[FetchedPage]:
    """The pages of :func:`read_warc` only: records that give no page are skipped, and
    :class:`WarcReadFailed` (an ``EOFError``) is raised where the file stops being
    readable. For readers that need only pages, such as robots.txt collection."""
    for item in read_warc(path, name=name, max_body=max_body, url_filter=url_filter):
        if isinstance(item, FetchedPage):
            yield item
        elif item.ends_file:
            raise WarcReadFailed(item)


def _complete_gzip_prefix(fh: BinaryIO) -> int:
    """Byte length of the leading run of complete gzip members in ``fh``."""
    pos = good_end = 0
    inflater = zlib.decompressobj(wbits=31)
    while chunk := fh.read(1 << 16):
        data = chunk
        while data:
            try:
                inflater.decompress(data)
            except zlib.error:
                return good_end
            if inflater.eof:
                pos += len(data) - len(inflater.unused_data)
                good_end = pos
                data = inflater.unused_data
                inflater = zlib.decompressobj(wbits=31)
            else:
                pos += len(data)
                data = b""
    return good_end


def recover_open_warc(path: str | os.PathLike[str]) -> Path:
    """Keep the complete records of a ``*.warc.gz.open`` left by a crash; returns the file.

    :class:`WarcWriter` writes one gzip member per record, so the file is cut after its
    last complete gzip member and renamed to its final name (the name the ``warc_file``
    values already written into rows use).
    """
    p = Path(path)
    if not p.name.endswith(".warc.gz" + OPEN_SUFFIX):
        raise ValueError(f"{p}: not an unfinished gzip WARC (*.warc.gz{OPEN_SUFFIX})")
    with open(p, "r+b") as fh:
        fh.truncate(_complete_gzip_prefix(fh))
    final = p.with_name(p.name[: -len(OPEN_SUFFIX)])
    os.replace(p, final)
    return final
