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

Reading (:func:`iter_responses`)
    Streams the HTTP ``response`` records of any WARC (licrawl's, Common Crawl's, gzip or
    not), one record in memory at a time, as :class:`FetchedPage` values with the body
    decoded (chunked transfer and gzip/deflate/brotli content codings removed).
"""

from __future__ import annotations

import http
import os
import secrets
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.limitreader import LimitReader
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.core.fsutil import fsync_dir
from crawler.core.page import DEFAULT_MAX_BODY, FetchedPage, WarcRef
from crawler.core.version import __version__

GIB = 1024**3
WARC_VERSION = "WARC/1.1"
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


def _parse_warc_date(value: str | None) -> datetime:
    """Parse a ``WARC-Date`` (seconds or fractions, ``Z`` suffix) into aware UTC."""
    if not value:
        raise WarcFormatError("record without WARC-Date")
    return _utc(datetime.fromisoformat(value))


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
def check_warc(path: str | os.PathLike[str]) -> None:
    """Raise :class:`WarcFormatError` unless ``path`` is a file whose first record parses."""
    p = Path(path)
    if not p.is_file():
        raise WarcFormatError(f"{p}: no such file")
    try:
        with open(p, "rb") as fh:
            first = next(iter(ArchiveIterator(fh)), None)
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        raise WarcFormatError(f"{p}: not a WARC file ({exc})") from exc
    if first is None:
        raise WarcFormatError(f"{p}: not a WARC file (no records)")


def _check_complete(raw: LimitReader, url: str) -> None:
    """Read the rest of a record's block; ``EOFError`` if the file ends before it does."""
    while raw.read(1 << 16):
        pass
    if raw.limit > 0:
        raise EOFError(f"record for {url} is cut short ({raw.limit} bytes missing)")


def iter_responses(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    url_filter: Callable[[str], bool] | None = None,
) -> Iterator[FetchedPage]:
    """Stream the HTTP ``response`` records of a WARC as :class:`FetchedPage` values.

    Other record types (``warcinfo``, ``request``, ``revisit``, ``metadata``, ...) and
    responses without HTTP headers (``dns:`` etc.) are skipped. ``warc_file`` of each page
    is ``name`` when given, else ``str(path)``. At most ``max_body + 1`` bytes of a body are
    read, so one huge record cannot exhaust memory; a longer body is cut there (and is
    recognised as too large by :func:`crawler.core.records.classify_response`). With
    ``url_filter``, only records whose target URI it accepts are read. Raises
    :class:`warcio.exceptions.ArchiveLoadFailed` (or ``EOFError`` / ``zlib.error``) where
    the file stops being readable, including a last record cut short (never yielded).
    """
    warc_file = name if name is not None else str(path)
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            url = record.rec_headers.get_header("WARC-Target-URI") or ""
            if urlsplit(url).scheme not in ("http", "https"):
                continue
            if url_filter is not None and not url_filter(url):
                continue
            try:
                status = int(record.http_headers.get_statuscode())
            except ValueError:
                continue
            body = record.content_stream().read(max_body + 1)
            _check_complete(record.raw_stream, url)
            yield FetchedPage(
                url=url,
                status=status,
                headers=list(record.http_headers.headers),
                body=body,
                fetched_at=_parse_warc_date(record.rec_headers.get_header("WARC-Date")),
                warc_file=warc_file,
                warc_record_id=record.rec_headers.get_header("WARC-Record-ID"),
                ip=record.rec_headers.get_header("WARC-IP-Address"),
            )


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
