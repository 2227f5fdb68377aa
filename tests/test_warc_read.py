"""Reading WARC and ARC files written by other tools: nothing lost without a trace.

The files are written here byte by byte in the shapes of real ones (warcio's, jwarc's and
resiliparse's test files, ClueWeb09, Webrecorder and wget output): ARC plain and gzip,
WARC/0.18 with LF line ends, records spanning gzip members, bad dates, files cut short.
"""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from crawler.cli import main as licrawl
from crawler.core.errors import read_errors
from crawler.core.page import FetchedPage
from crawler.core.records import classify_response
from crawler.stages.process import process_warcs
from crawler.store.warc import (
    WarcFormatError,
    WarcReadError,
    WarcReadFailed,
    WarcWriter,
    check_warc,
    iter_responses,
    read_warc,
)

HTML = b"<!doctype html><html><head><title>T</title></head><body><p>Hello</p></body></html>"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def http(status: str, headers: list[tuple[str, str]], body: bytes, eol: bytes = b"\r\n") -> bytes:
    """An HTTP response message."""
    head = b"".join(f"{k}: {v}".encode() + eol for k, v in headers)
    return f"HTTP/1.1 {status}".encode() + eol + head + eol + body


def warc_record(headers: list[tuple[str, str]], block: bytes, *, version: str = "WARC/1.0",
                eol: bytes = b"\r\n") -> bytes:
    """One WARC record; ``Content-Length`` is added unless ``headers`` has one."""
    if not any(k == "Content-Length" for k, _ in headers):
        headers = [*headers, ("Content-Length", str(len(block)))]
    head = b"".join(f"{k}: {v}".encode() + eol for k, v in headers)
    return version.encode() + eol + head + eol + block + eol + eol


def response(url: str, n: int, date: str, block: bytes, *, version: str = "WARC/1.0",
             eol: bytes = b"\r\n", record_id: bool = True) -> bytes:
    """A ``response`` record with id ``<urn:uuid:...-00000000000n>``."""
    headers = [("WARC-Type", "response"), ("WARC-Target-URI", url), ("WARC-Date", date)]
    if record_id:
        headers.append(("WARC-Record-ID", rid(n)))
    headers.append(("Content-Type", "application/http;msgtype=response"))
    return warc_record(headers, block, version=version, eol=eol)


def rid(n: int) -> str:
    return f"<urn:uuid:6f12f095-18a8-4415-8f04-{n:012d}>"


def warcinfo(version: str = "WARC/1.0", eol: bytes = b"\r\n",
             date: str = "2009-01-13T18:00:00-0800") -> bytes:
    return warc_record([("WARC-Type", "warcinfo"), ("WARC-Date", date),
                        ("WARC-Record-ID", rid(0)),
                        ("Content-Type", "application/warc-fields")],
                       b"software: test" + eol, version=version, eol=eol)


def read_all(path: Path, **kw: object) -> tuple[list[FetchedPage], list[WarcReadError]]:
    items = list(read_warc(path, **kw))  # type: ignore[arg-type]
    return ([i for i in items if isinstance(i, FetchedPage)],
            [i for i in items if isinstance(i, WarcReadError)])


def page_block(i: int, date: str | None = None) -> bytes:
    headers = [("Content-Type", "text/html")]
    if date:
        headers.append(("Date", date))
    return http("200 OK", headers, HTML.replace(b"Hello", b"Page %d" % i))


# -- ARC --------------------------------------------------------------------------------
ARC_DESC = b"1 0 LiveWeb Capture\nURL IP-address Archive-date Content-type Archive-length\n"


def arc_file(path: Path, *, compress: bool) -> None:
    """An ARC v1 file like warcio's example.arc: a filedesc header, then one record per
    capture (a dns lookup, a page, a 404, a URL with a space as in warcio's
    example-space-in-url.arc), each its own gzip member when compressed."""
    page = http("200 OK", [("Content-Type", "text/html"),
                           ("Date", "Sun, 16 Feb 2014 05:02:20 GMT")], HTML)
    missing = http("404 Not Found", [("Content-Type", "text/html")], b"<h1>gone</h1>")
    dns = b"example.com.\t300\tIN\tA\t93.184.216.119\n"
    records = [
        b"filedesc://%s 127.0.0.1 20140216050221 text/plain %d\n%s\n"
        % (path.name.encode(), len(ARC_DESC), ARC_DESC),
        b"dns:example.com 8.8.8.8 20140216050220 text/dns %d\n%s\n" % (len(dns), dns),
        b"http://example.com/ 93.184.216.119 20140216050221 text/html %d\n%s\n"
        % (len(page), page),
        b"http://example.com/gone 93.184.216.119 20140216050222 text/html %d\n%s\n"
        % (len(missing), missing),
        b"http://example.com/a?t=Live Web 93.184.216.119 20140216050223 text/html %d\n%s\n"
        % (len(page), page),
    ]
    path.write_bytes(b"".join(gzip.compress(r) if compress else r for r in records))


@pytest.mark.parametrize("compress", [False, True])
def test_arc_files_plain_and_gzip(tmp_path: Path, compress: bool) -> None:
    path = tmp_path / ("crawl.arc.gz" if compress else "crawl.arc")
    arc_file(path, compress=compress)
    check_warc(path)
    pages, errors = read_all(path, name="arc/crawl")
    assert errors == []
    assert [(p.url, p.status) for p in pages] == [("http://example.com/", 200),
                                                  ("http://example.com/gone", 404),
                                                  ("http://example.com/a?t=Live%20Web", 200)]
    first = pages[0]
    assert first.body == HTML and first.header("Content-Type") == "text/html"
    assert first.fetched_at == datetime(2014, 2, 16, 5, 2, 21, tzinfo=UTC)  # archive-date
    assert first.ip == "93.184.216.119" and first.warc_file == "arc/crawl"
    # ARC records have no ids: each gets a made-up one, the same on every read
    ids = [p.warc_record_id for p in pages]
    assert len(set(ids)) == 3 and all(i and i.startswith("<urn:uuid:") for i in ids)
    assert [p.warc_record_id for p in iter_responses(path)] == ids


def test_arc_header_with_bad_length_is_still_an_arc(tmp_path: Path) -> None:
    """warcio's bad.arc: a filedesc header with length -1 is an ARC file, not text."""
    path = tmp_path / "bad.arc"
    path.write_bytes(b"filedesc://bad.arc.gz 127.0.0.1 20140301000000 text/plain -1\n"
                     + ARC_DESC + b"\n")
    check_warc(path)


# -- WARC versions -----------------------------------------------------------------------
@pytest.mark.parametrize(("version", "eol"), [("WARC/1.1", b"\r\n"), ("WARC/1.0", b"\r\n"),
                                              ("WARC/0.18", b"\n")])
def test_warc_versions(tmp_path: Path, version: str, eol: bytes) -> None:
    """WARC/0.18 as ClueWeb09 wrote it: LF line ends, local-time dates, extra headers."""
    block = http("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(HTML)))],
                 HTML, eol)
    rec = warc_record([("WARC-Type", "response"), ("WARC-Target-URI", "http://cw.example/"),
                       ("WARC-Date", "2009-01-13T10:05:10-0800"), ("WARC-Record-ID", rid(1)),
                       ("WARC-TREC-ID", "clueweb09-en0000-00-00001"),
                       ("Content-Type", "application/http;msgtype=response")],
                      block, version=version, eol=eol)
    path = tmp_path / "v.warc.gz"
    path.write_bytes(gzip.compress(warcinfo(version, eol)) + gzip.compress(rec))
    check_warc(path)
    (page,) = iter_responses(path)
    assert (page.url, page.status, page.body, page.warc_record_id) == (
        "http://cw.example/", 200, HTML, rid(1))
    assert page.fetched_at == datetime(2009, 1, 13, 18, 5, 10, tzinfo=UTC)


# -- gzip layouts ------------------------------------------------------------------------
def three_records() -> list[bytes]:
    return [warcinfo()] + [response(f"http://ex.example/{i}", i, f"2024-05-01T12:00:0{i}Z",
                                    page_block(i)) for i in (1, 2, 3)]


def test_records_spanning_gzip_members(tmp_path: Path) -> None:
    """Like warcio's example-wrong-chunks.warc.gz: a record's HTTP headers in one gzip
    member and its body in the next; another record cut inside its WARC headers."""
    info, one, two, three = three_records()
    cut_two = two.index(b"<!doctype")
    cut_three = three.index(b"WARC-Date")
    members = [info, one, two[:cut_two], two[cut_two:], three[:cut_three], three[cut_three:]]
    path = tmp_path / "members.warc.gz"
    path.write_bytes(b"".join(gzip.compress(m) for m in members))
    pages, errors = read_all(path)
    assert errors == []
    assert [p.url for p in pages] == [f"http://ex.example/{i}" for i in (1, 2, 3)]
    assert [p.body for p in pages] == [HTML.replace(b"Hello", b"Page %d" % i)
                                       for i in (1, 2, 3)]


def test_file_gzipped_as_a_whole(tmp_path: Path) -> None:
    """``gzip crawl.warc``: one member for the whole file (warcio refuses it)."""
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(b"".join(three_records())))
    check_warc(path)
    pages, errors = read_all(path)
    assert errors == [] and [p.warc_record_id for p in pages] == [rid(1), rid(2), rid(3)]


# -- one bad header costs one record at most --------------------------------------------
def test_bad_warc_date_in_record_2_of_5(tmp_path: Path) -> None:
    """ClueWeb09's ``2008-10-294T05:21:46-0700``: record 2 is dated from its HTTP Date,
    and the records after it are read as if nothing happened."""
    dates = ["2008-10-29T05:21:45-0700", "2008-10-294T05:21:46-0700",
             "2008-10-29T05:21:47-0700", "2008-10-29T05:21:48-0700", "2008-10-29T05:21:49-0700"]
    recs = [warcinfo("WARC/0.18", b"\n")]
    for i, date in enumerate(dates, 1):
        recs.append(response(f"http://cw.example/{i}", i, date,
                             page_block(i, "Wed, 29 Oct 2008 12:21:40 GMT"),
                             version="WARC/0.18", eol=b"\n"))
    path = tmp_path / "clueweb.warc.gz"
    path.write_bytes(b"".join(gzip.compress(r) for r in recs))
    pages, errors = read_all(path)
    assert errors == []
    assert [p.url for p in pages] == [f"http://cw.example/{i}" for i in range(1, 6)]
    pst = timezone(timedelta(hours=-7))
    assert [p.fetched_at for p in pages] == [
        datetime(2008, 10, 29, 5, 21, 45, tzinfo=pst),
        datetime(2008, 10, 29, 12, 21, 40, tzinfo=UTC),  # the HTTP Date
        *[datetime(2008, 10, 29, 5, 21, s, tzinfo=pst) for s in (47, 48, 49)]]


def test_bad_date_without_http_date_uses_the_record_before(tmp_path: Path) -> None:
    path = tmp_path / "d.warc"
    path.write_bytes(b"".join([
        response("http://d.example/1", 1, "2024-05-01T12:00:00Z", page_block(1)),
        response("http://d.example/2", 2, "yesterday", page_block(2)),
    ]))
    pages, errors = read_all(path)
    assert errors == [] and [p.fetched_at for p in pages] == [T0, T0]


def test_undatable_record_is_one_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "d.warc"
    path.write_bytes(response("http://d.example/1", 1, "2009-03-65T08:43:19-0800",
                              page_block(1))
                     + response("http://d.example/2", 2, "2024-05-01T12:00:00Z", page_block(2)))
    pages, errors = read_all(path, name="in/d.warc")
    assert [p.url for p in pages] == ["http://d.example/2"]
    (err,) = errors
    assert (err.url, err.record_id, err.reason, err.ends_file) == (
        "http://d.example/1", rid(1), "warc-bad-date", False)
    assert "2009-03-65T08:43:19-0800" in err.detail
    rec = err.error_record("run1")
    assert (rec.stage, rec.reason, rec.url, rec.warc_file, rec.warc_record_id,
            rec.http_status, rec.crawl_id) == ("decode", "warc-bad-date", "http://d.example/1",
                                               "in/d.warc", rid(1), 200, "run1")


def test_response_without_http_status_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "h.warc"
    path.write_bytes(b"".join([
        response("http://h.example/1", 1, "2024-05-01T12:00:00Z", b"not http at all\r\n\r\n"),
        response("http://h.example/2", 2, "2024-05-01T12:00:00Z", b""),
        response("http://h.example/3", 3, "2024-05-01T12:00:00Z", page_block(3)),
    ]))
    pages, errors = read_all(path)
    assert [p.url for p in pages] == ["http://h.example/3"]
    assert [(e.url, e.record_id, e.reason) for e in errors] == [
        ("http://h.example/1", rid(1), "warc-bad-http"),
        ("http://h.example/2", rid(2), "warc-bad-http")]


def test_record_without_id_gets_a_stable_one(tmp_path: Path) -> None:
    path = tmp_path / "noid.warc"
    path.write_bytes(response("http://n.example/", 1, "2024-05-01T12:00:00Z", page_block(1),
                              record_id=False) * 2)
    ids = [p.warc_record_id for p in iter_responses(path)]
    assert ids == [p.warc_record_id for p in iter_responses(path)]
    assert len(set(ids)) == 2 and all(i and i.startswith("<urn:uuid:") for i in ids)


# -- files cut short ---------------------------------------------------------------------
def licrawl_warc(tmp_path: Path) -> tuple[Path, list[str]]:
    with WarcWriter(tmp_path / "w") as w:
        refs = [w.write_response(f"https://c.example/{i}", 200, "OK",
                                 [("Content-Type", "text/html")],
                                 HTML + os.urandom(3000).hex().encode(), T0)
                for i in range(3)]
    return next((tmp_path / "w").glob("*.warc.gz")), [r.record_id for r in refs]


def test_gzip_file_cut_inside_a_record_names_it(tmp_path: Path) -> None:
    path, ids = licrawl_warc(tmp_path)
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(path.read_bytes()[:-1500])
    pages, errors = read_all(cut)
    assert [p.warc_record_id for p in pages] == ids[:2]
    (err,) = errors
    assert (err.url, err.record_id, err.reason, err.ends_file) == (
        "https://c.example/2", ids[2], "warc-truncated", True)
    assert "cut short" in err.detail
    with pytest.raises(WarcReadFailed, match="https://c.example/2") as raised:
        list(iter_responses(cut))
    assert isinstance(raised.value, EOFError) and raised.value.error == err


def test_plain_file_cut_inside_a_body_or_header_names_the_record(tmp_path: Path) -> None:
    _, one, two, three = three_records()
    body_cut = tmp_path / "body.warc"
    body_cut.write_bytes(one + two + three[:-40])
    pages, errors = read_all(body_cut)
    assert [p.url for p in pages] == ["http://ex.example/1", "http://ex.example/2"]
    assert [(e.url, e.record_id, e.reason) for e in errors] == [
        ("http://ex.example/3", rid(3), "warc-truncated")]

    head_cut = tmp_path / "head.warc"
    head_cut.write_bytes(one + two + three[:three.index(b"Content-Type")])
    pages, errors = read_all(head_cut)
    assert len(pages) == 2
    assert [(e.url, e.record_id, e.reason) for e in errors] == [
        ("http://ex.example/3", rid(3), "warc-truncated")]


def test_gzip_member_cut_inside_the_warc_header(tmp_path: Path) -> None:
    _, one, two, three = three_records()
    member = gzip.compress(three[:three.index(b"Content-Type")])
    path = tmp_path / "g.warc.gz"
    path.write_bytes(gzip.compress(one) + gzip.compress(two) + member[:-8])  # no trailer
    pages, errors = read_all(path)
    assert len(pages) == 2
    assert [(e.url, e.record_id, e.reason) for e in errors] == [
        ("http://ex.example/3", rid(3), "warc-truncated")]


def test_garbage_between_records_ends_the_file_with_one_error(tmp_path: Path) -> None:
    _, one, two, three = three_records()
    path = tmp_path / "junk.warc"
    path.write_bytes(one + b"this is no record at all\r\n\r\n" + two + three)
    pages, errors = read_all(path)
    assert [p.url for p in pages] == ["http://ex.example/1"]
    (err,) = errors
    assert err.reason == "warc-unreadable" and err.ends_file and err.url == ""
    assert f"byte {len(one)}" in err.detail

    unknown = tmp_path / "v9.warc"  # a record that names itself but has an unknown version
    unknown.write_bytes(one + two.replace(b"WARC/1.0", b"WARC/9.9", 1) + three)
    pages, errors = read_all(unknown)
    assert [(e.url, e.record_id, e.reason) for e in errors] == [
        ("http://ex.example/2", rid(2), "warc-unreadable")]


def test_corrupt_gzip_data_ends_the_file_with_one_error(tmp_path: Path) -> None:
    path, ids = licrawl_warc(tmp_path)
    data = bytearray(path.read_bytes())
    data[-1200:-1100] = bytes(100)  # zeros inside the last record's deflate stream
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(bytes(data))
    pages, errors = read_all(bad)
    assert [p.warc_record_id for p in pages] == ids[:2]
    (err,) = errors
    assert err.ends_file and err.url == "https://c.example/2" and err.record_id == ids[2]
    assert "gzip" in err.detail


# -- resource records --------------------------------------------------------------------
def test_resource_records_with_html_are_pages(tmp_path: Path) -> None:
    """Webrecorder stores pages as ``resource`` records without HTTP headers; wget stores
    its log and arguments as ``metadata://`` resources."""
    recs = [
        warcinfo(),
        warc_record([("WARC-Type", "resource"), ("WARC-Target-URI", "http://example.com/"),
                     ("WARC-Date", "2017-04-29T01:30:41Z"), ("WARC-Record-ID", rid(1)),
                     ("Content-Type", "text/html; charset=utf-8")], HTML),
        warc_record([("WARC-Type", "resource"), ("WARC-Target-URI", "http://example.com/a.png"),
                     ("WARC-Date", "2017-04-29T01:30:42Z"), ("WARC-Record-ID", rid(2)),
                     ("Content-Type", "image/png")], b"\x89PNG\r\n"),
        warc_record([("WARC-Type", "resource"),
                     ("WARC-Target-URI", "metadata://gnu.org/software/wget/warc/wget.log"),
                     ("WARC-Date", "2017-04-29T01:30:43Z"), ("WARC-Record-ID", rid(3)),
                     ("Content-Type", "text/plain")], b"wget log"),
    ]
    path = tmp_path / "res.warc.gz"
    path.write_bytes(b"".join(gzip.compress(r) for r in recs))
    pages, errors = read_all(path)
    assert errors == []
    (page,) = pages
    assert (page.url, page.status, page.body, page.warc_record_id) == (
        "http://example.com/", 200, HTML, rid(1))
    assert page.headers == [("Content-Type", "text/html; charset=utf-8")]
    assert page.fetched_at == datetime(2017, 4, 29, 1, 30, 41, tzinfo=UTC)
    assert classify_response(page) is None  # a document candidate like any response


def test_url_filter_applies_to_record_errors(tmp_path: Path) -> None:
    path = tmp_path / "f.warc"
    path.write_bytes(response("http://f.example/robots.txt", 1, "2024-05-01T12:00:00Z",
                              http("200 OK", [], b"User-agent: *\n"))
                     + response("http://f.example/x", 2, "bad", b"not http\r\n\r\n"))
    pages, errors = read_all(path, url_filter=lambda u: u.endswith("/robots.txt"))
    assert [p.url for p in pages] == ["http://f.example/robots.txt"] and errors == []


# -- not a WARC --------------------------------------------------------------------------
def test_text_file_with_five_words_is_refused(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Five words look like an ARC header line to warcio; it is still not an ARC file."""
    text = tmp_path / "notes.txt"
    text.write_text("The quick brown fox jumps\nover the lazy dog\n")
    with pytest.raises(WarcFormatError, match="not a WARC/ARC file.*quick brown fox"):
        check_warc(text)
    assert licrawl(["process", str(text), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "not a WARC/ARC file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_process_gives_every_response_a_row_or_an_error_record(tmp_path: Path) -> None:
    """End to end through ``process_warcs``: an ARC.gz, a ClueWeb-style WARC/0.18 with a bad
    date, and a WARC cut short; every HTTP response is one row or one error record that
    names its URL."""
    arc = tmp_path / "in" / "a.arc.gz"
    arc.parent.mkdir()
    arc_file(arc, compress=True)
    clue = tmp_path / "in" / "clueweb.warc.gz"
    clue.write_bytes(b"".join(gzip.compress(r) for r in [
        warcinfo("WARC/0.18", b"\n"),
        *[response(f"http://cw.example/{i}", i, date, page_block(i, "Wed, 29 Oct 2008 "
                                                                 "12:21:40 GMT"),
                   version="WARC/0.18", eol=b"\n")
          for i, date in enumerate(["2008-10-29T05:21:45-0700", "2008-10-294T05:21:46-0700",
                                    "2008-10-29T05:21:47-0700"], 1)]]))
    cut = tmp_path / "in" / "cut.warc"
    whole = b"".join(response(f"http://cut.example/{i}", 10 + i, "2024-05-01T12:00:00Z",
                              page_block(i)) for i in range(3))
    cut.write_bytes(whole[:-40])
    summary = process_warcs([arc, clue, cut], tmp_path / "out", workers=1, progress=False)
    rows = [r for shard in summary.shards for r in pq.read_table(shard).to_pylist()]
    errors = list(read_errors(tmp_path / "out" / "errors"))
    seen = sorted([r["url"] for r in rows] + [e.url for e in errors])
    expected = sorted(["http://example.com/", "http://example.com/gone",
                       "http://example.com/a?t=Live%20Web",
                       *[f"http://cw.example/{i}" for i in (1, 2, 3)],
                       *[f"http://cut.example/{i}" for i in (0, 1, 2)]])
    assert seen == expected
    assert all(e.url and e.warc_record_id for e in errors)
    assert [e.reason for e in errors if e.url == "http://cut.example/2"] == ["warc-truncated"]
