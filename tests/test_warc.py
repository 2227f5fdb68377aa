"""WARC evidence: writing with WarcWriter, reading any WARC back with iter_responses."""

from __future__ import annotations

import gzip
import os
import pickle
import signal
import subprocess
import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from crawler.core.page import FetchedPage
from crawler.store.warc import (
    WarcFormatError,
    WarcWriter,
    check_warc,
    iter_responses,
    recover_open_warc,
)

T0 = datetime(2024, 5, 1, 12, 30, 0, 123456, tzinfo=UTC)
PAGE = b"<!doctype html><html><head><title>Hi</title></head><body><p>Hello</p></body></html>"


def _records(path: Path) -> list[tuple[str, dict[str, str], bytes]]:
    """(type, WARC headers, content) of every record, read with plain warcio."""
    out = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            out.append((rec.rec_type, dict(rec.rec_headers.headers),
                        rec.content_stream().read()))
    return out


def test_round_trip_with_request_redirect_and_404(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        redirect = w.write_response(
            "http://example.org/old", 301, "Moved Permanently",
            [("Location", "https://example.org/new"), ("Content-Length", "0")], b"", T0,
            request_headers=[("User-Agent", "licrawl"), ("Accept", "*/*")], ip="127.0.0.1")
        page = w.write_response(
            "https://example.org/new", 200, "OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Transfer-Encoding", "chunked"),
             ("Link", '<https://creativecommons.org/licenses/by/4.0/>; rel="license"')],
            PAGE, T0, request_headers=[("User-Agent", "licrawl")])
        missing = w.write_response("https://example.org/gone", 404, "",
                                   [("Content-Type", "text/html")], b"<h1>nope</h1>", T0)
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert [f.name for f in files] == [page.file]
    assert not list(tmp_path.glob("*.open"))
    assert redirect.file == page.file == missing.file

    got = list(iter_responses(files[0], name=page.file))
    assert [(p.url, p.status) for p in got] == [
        ("http://example.org/old", 301), ("https://example.org/new", 200),
        ("https://example.org/gone", 404)]
    assert [p.warc_record_id for p in got] == [redirect.record_id, page.record_id,
                                               missing.record_id]
    assert all(p.warc_file == page.file for p in got)
    new = got[1]
    assert new.body == PAGE
    assert new.fetched_at == T0
    assert new.header("content-type") == "text/html; charset=utf-8"
    assert new.header("Link").startswith("<https://creativecommons.org/")
    assert new.header("Transfer-Encoding") is None
    assert new.header("X-Licrawl-Original-Transfer-Encoding") == "chunked"
    assert new.header("Content-Length") == str(len(PAGE))
    assert got[0].ip == "127.0.0.1" and got[0].header("Location") == "https://example.org/new"
    assert got[2].body == b"<h1>nope</h1>"

    records = _records(files[0])
    assert [r[0] for r in records] == ["warcinfo", "response", "request", "response",
                                       "request", "response"]
    assert "licrawl" in records[0][2].decode()
    (_, resp, _), (_, req, _) = records[1], records[2]
    assert resp["WARC-Record-ID"] == redirect.record_id
    assert resp["WARC-Concurrent-To"] == req["WARC-Record-ID"]
    assert req["WARC-Concurrent-To"] == redirect.record_id
    assert req["WARC-Target-URI"] == "http://example.org/old"
    assert "WARC-Concurrent-To" not in records[5][1]  # no request headers, no request record


def test_request_record_carries_request_line(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        w.write_response("https://example.org/a?b=1", 200, "OK", [], PAGE, T0,
                         request_headers=[("User-Agent", "licrawl")])
    path = next(tmp_path.glob("*.warc.gz"))
    with open(path, "rb") as fh:
        req = [r for r in ArchiveIterator(fh) if r.rec_type == "request"][0]
        assert req.http_headers.protocol == "GET"
        assert req.http_headers.statusline == "/a?b=1 HTTP/1.1"
        assert req.http_headers.get_header("User-Agent") == "licrawl"


def test_rotation_by_size_gives_complete_files_with_warcinfo(tmp_path: Path) -> None:
    refs = []
    with WarcWriter(tmp_path / "warc", max_bytes=4000, root=tmp_path, prefix="t") as w:
        for i in range(12):
            refs.append(w.write_response(f"https://example.org/{i}", 200, "OK",
                                         [("Content-Type", "text/html")],
                                         os.urandom(1500), T0))
    files = sorted((tmp_path / "warc").glob("t-*.warc.gz"))
    assert len(files) >= 3
    assert {r.file for r in refs} == {f"warc/{f.name}" for f in files}
    seen = []
    for f in files:
        assert f.stat().st_size < 4000 + 3000  # rotated once the limit is passed
        types = [r[0] for r in _records(f)]
        assert types[0] == "warcinfo" and types.count("warcinfo") == 1
        seen += [(f"warc/{f.name}", p.warc_record_id) for p in iter_responses(f)]
    assert seen == [(r.file, r.record_id) for r in refs]


def test_unfinished_file_is_open_until_close_and_recoverable(tmp_path: Path) -> None:
    w = WarcWriter(tmp_path)
    refs = [w.write_response(f"https://example.org/{i}", 200, "OK", [], os.urandom(2000), T0)
            for i in range(3)]
    w.flush()
    (open_file,) = tmp_path.glob("*.warc.gz.open")
    assert not list(tmp_path.glob("*.warc.gz"))
    # a crash in the middle of the last record: cut its gzip member short
    crashed = tmp_path / "crashed.warc.gz.open"
    crashed.write_bytes(open_file.read_bytes()[:-100])
    recovered = recover_open_warc(crashed)
    assert recovered.name == "crashed.warc.gz"
    assert [p.warc_record_id for p in iter_responses(recovered)] == [
        r.record_id for r in refs[:2]]
    w.close()
    assert [f.name for f in tmp_path.glob("*.warc.gz")] != []
    with pytest.raises(ValueError, match="closed"):
        w.write_response("https://example.org/late", 200, "OK", [], b"x", T0)


def test_writer_names_are_unique_per_writer(tmp_path: Path) -> None:
    a, b = WarcWriter(tmp_path), WarcWriter(tmp_path)
    ra = a.write_response("https://a.example/", 200, "OK", [], b"a", T0)
    rb = b.write_response("https://b.example/", 200, "OK", [], b"b", T0)
    a.close()
    b.close()
    assert ra.file != rb.file
    assert len(list(tmp_path.glob("*.warc.gz"))) == 2


def _http(status: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


def _chunked(body: bytes) -> bytes:
    half = len(body) // 2
    parts = [body[:half], body[half:]]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def write_cc_style_warc(path: Path, *, compress: bool = True) -> None:
    """A Common-Crawl-like WARC/1.0: several hosts, request/metadata/revisit records, raw
    HTTP payloads with chunked transfer coding and gzip content coding."""
    gz_body = gzip.compress(b"<html><body>gzipped page</body></html>")
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=compress, warc_version="1.0")
        w.write_record(w.create_warcinfo_record(path.name, {"software": "test"}))

        def resp(url: str, raw: bytes, date: str) -> None:
            w.write_record(w.create_warc_record(
                url, "request", payload=BytesIO(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
            rec = w.create_warc_record(url, "response", payload=BytesIO(raw), length=len(raw),
                                       warc_headers_dict={"WARC-Date": date,
                                                          "WARC-IP-Address": "10.0.0.1"})
            w.write_record(rec)
            w.write_record(w.create_warc_record(
                url, "metadata", payload=BytesIO(b"fetchTimeMs: 12\r\n"),
                warc_content_type="application/warc-fields"))

        resp("https://one.example/a", _http("200 OK", [("Content-Type", "text/html")],
                                            PAGE), "2024-03-01T10:00:00Z")
        resp("https://two.example/b", _http("200 OK", [
            ("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")],
            _chunked(PAGE)), "2024-03-01T10:00:01Z")
        resp("https://three.example/c", _http("200 OK", [
            ("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
            ("Content-Length", str(len(gz_body)))], gz_body), "2024-03-01T10:00:02Z")
        resp("https://two.example/doc.pdf", _http("200 OK", [
            ("Content-Type", "application/pdf")], b"%PDF-1.4 ..."), "2024-03-01T10:00:03Z")
        w.write_record(w.create_revisit_record(
            "https://one.example/a", digest="sha1:AAAA", refers_to_uri="https://one.example/a",
            refers_to_date="2024-02-01T10:00:00Z"))
        w.write_record(w.create_warc_record("dns:one.example", "response",
                                            payload=BytesIO(b"one.example. 300 IN A 10.0.0.1"),
                                            warc_content_type="text/dns"))


@pytest.mark.parametrize("compress", [True, False])
def test_common_crawl_style_warc(tmp_path: Path, compress: bool) -> None:
    path = tmp_path / ("cc.warc.gz" if compress else "cc.warc")
    write_cc_style_warc(path, compress=compress)
    pages = list(iter_responses(path))
    assert [p.url for p in pages] == ["https://one.example/a", "https://two.example/b",
                                      "https://three.example/c", "https://two.example/doc.pdf"]
    assert [p.host for p in pages] == ["one.example", "two.example", "three.example",
                                       "two.example"]
    assert pages[0].body == PAGE and pages[1].body == PAGE  # chunked coding removed
    assert pages[2].body == b"<html><body>gzipped page</body></html>"  # content coding too
    assert pages[0].fetched_at == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert pages[0].ip == "10.0.0.1" and pages[0].warc_file == str(path)
    assert all(p.warc_record_id and p.warc_record_id.startswith("<urn:uuid:") for p in pages)


def test_iter_responses_caps_body_size(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        w.write_response("https://example.org/big", 200, "OK", [], b"x" * 10_000, T0)
    (page,) = iter_responses(next(tmp_path.glob("*.warc.gz")), max_body=100)
    assert len(page.body) == 101


def test_fetched_page_pickles() -> None:
    page = FetchedPage("https://Example.ORG/x", 200, [("A", "b")], b"body", T0, "f", "<id>")
    assert pickle.loads(pickle.dumps(page)) == page
    assert page.host == "example.org"


def test_check_warc_rejects_missing_empty_and_non_warc(tmp_path: Path) -> None:
    with pytest.raises(WarcFormatError, match="no such file"):
        check_warc(tmp_path / "missing.warc.gz")
    (tmp_path / "empty.warc").write_bytes(b"")
    with pytest.raises(WarcFormatError, match="not a WARC"):
        check_warc(tmp_path / "empty.warc")
    (tmp_path / "page.html").write_bytes(PAGE)
    with pytest.raises(WarcFormatError, match="not a WARC"):
        check_warc(tmp_path / "page.html")
    (tmp_path / "page.html.gz").write_bytes(gzip.compress(PAGE))
    with pytest.raises(WarcFormatError, match="not a WARC"):
        check_warc(tmp_path / "page.html.gz")
    write_cc_style_warc(tmp_path / "ok.warc.gz")
    check_warc(tmp_path / "ok.warc.gz")


def test_a_record_cut_short_is_never_yielded(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        refs = [w.write_response(f"https://example.org/{i}", 200, "OK", [], os.urandom(4000),
                                 T0) for i in range(3)]
    path = next(tmp_path.glob("*.warc.gz"))
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(path.read_bytes()[:-2000])
    seen = []
    with pytest.raises(EOFError, match="cut short"):
        for p in iter_responses(cut):
            seen.append(p.warc_record_id)
    assert seen == [r.record_id for r in refs[:2]]


def test_metadata_record_points_at_its_response(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        resp = w.write_response("https://example.org/ä?q=ü", 200, "OK", [], PAGE, T0)
        meta = w.write_metadata("https://example.org/ä?q=ü", {"robots": "allowed"}, resp, T0)
    records = _records(next(tmp_path.glob("*.warc.gz")))
    (_, headers, content) = [r for r in records if r[0] == "metadata"][0]
    assert headers["WARC-Record-ID"] == meta.record_id
    assert headers["WARC-Concurrent-To"] == resp.record_id
    assert content == b"robots: allowed\r\n"
    (page,) = iter_responses(next(tmp_path.glob("*.warc.gz")))
    assert page.url == "https://example.org/ä?q=ü"


KILLED_WRITER = """
import os, sys
from datetime import datetime, UTC
from crawler.store.warc import WarcWriter
w = WarcWriter(sys.argv[1], max_bytes=20_000)
i = 0
while True:
    w.write_response(f"https://example.org/{i}", 200, "OK", [], os.urandom(3000),
                     datetime.now(UTC))
    i += 1
    if i == 40:
        print("ready", flush=True)
"""


def test_sigkill_leaves_closed_files_intact(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    closed = sorted(tmp_path.glob("*.warc.gz"))
    assert len(closed) >= 3
    for f in closed:  # every closed file reads to the end without error
        assert len(list(iter_responses(f))) >= 5
    (unfinished,) = tmp_path.glob("*.warc.gz.open")
    recovered = recover_open_warc(unfinished)
    list(iter_responses(recovered))  # whatever was complete, read without error
