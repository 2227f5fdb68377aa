"""classify_response and build_row: from a fetched response to a document row."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from factories import make_row

from crawler.core.page import FetchedPage
from crawler.core.records import build_row, classify_response, host_of, looks_like_html, row_id
from crawler.core.schema import record_schema, required_column_names

T0 = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
HTML = b"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>"


def page(status: int = 200, headers: list[tuple[str, str]] | None = None,
         body: bytes = HTML, url: str = "https://Example.org/a") -> FetchedPage:
    if headers is None:
        headers = [("Content-Type", "text/html; charset=utf-8")]
    return FetchedPage(url, status, headers, body, T0, "warc/x.warc.gz", "<urn:uuid:1>")


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({}, None),
    ({"headers": [("content-type", "application/xhtml+xml")]}, None),
    ({"headers": [("Content-Type", " TEXT/HTML ;charset=latin-1")]}, None),
    ({"status": 404}, "http-error"),
    ({"status": 500}, "http-error"),
    ({"status": 101}, "http-error"),
    ({"status": 301, "body": b"", "headers": [("Location", "/b")]}, "redirect"),
    ({"status": 302, "body": b"<html>moved</html>"}, "redirect"),
    ({"headers": [("Content-Type", "application/pdf")], "body": b"%PDF-1.7 ..."}, "not-html"),
    ({"headers": [("Content-Type", "text/plain")]}, "not-html"),
    ({"headers": [("Content-Type", "image/png")], "body": b"\x89PNG\r\n"}, "not-html"),
    ({"headers": []}, None),  # missing type: sniffed as HTML
    ({"headers": [("Content-Type", "")], "body": b"\n  <html><p>x</p></html>"}, None),
    ({"headers": [], "body": b"%PDF-1.4\x00\x01 binary"}, "not-html"),
    ({"headers": [], "body": b"just some words, no markup"}, "not-html"),
    ({"body": b""}, "empty-body"),
    ({"body": b"  \r\n "}, "empty-body"),
    ({"status": 204, "body": b""}, "empty-body"),
])
def test_classify_response(kwargs: dict, reason: str | None) -> None:
    assert classify_response(page(**kwargs)) == reason


def test_classify_too_large() -> None:
    assert classify_response(page(body=HTML + b" " * 100), max_bytes=len(HTML) + 50) == \
        "too-large"
    assert classify_response(page(), max_bytes=len(HTML)) is None


def test_sniffing_needs_markup_near_the_start() -> None:
    assert looks_like_html(b"\xef\xbb\xbf<!doctype HTML>")
    assert not looks_like_html(b"x" * 2000 + b"<html>")


def inspect_result(**overrides: object) -> dict:
    row = make_row(**overrides)
    for name in ("id", "url", "host", "fetched_at", "http_status", "content_type",
                 "warc_file", "warc_record_id", "crawl_id"):
        row.pop(name)
    return row


def test_build_row_is_a_full_valid_row() -> None:
    result = inspect_result(text="Some main text.")
    row = build_row(page(), result, crawl_id="c1")
    assert list(row) == required_column_names()  # the optional ones are dedup's
    assert row["url"] == "https://Example.org/a"
    assert row["host"] == "example.org"
    assert row["content_type"] == "text/html; charset=utf-8"
    assert row["http_status"] == 200 and row["fetched_at"] == T0
    assert row["warc_file"] == "warc/x.warc.gz" and row["warc_record_id"] == "<urn:uuid:1>"
    assert row["crawl_id"] == "c1"
    sha = hashlib.sha1(b"Some main text.").hexdigest()
    assert row["text_sha1"] == sha
    assert row["id"] == hashlib.sha1(f"https://Example.org/a\n{sha}".encode()).hexdigest()
    assert row["license"] == result["license"]
    table = pa.Table.from_pylist([row], schema=record_schema())
    assert table.num_rows == 1


def test_id_is_stable_across_crawls_and_changes_with_text_or_url() -> None:
    a = build_row(page(), inspect_result(text="T"), crawl_id="one")
    b = build_row(page(headers=[]), inspect_result(text="T"), crawl_id="two")
    c = build_row(page(), inspect_result(text="T2"), crawl_id="one")
    d = build_row(page(url="https://example.org/b"), inspect_result(text="T"), crawl_id="one")
    assert a["id"] == b["id"] == row_id("https://Example.org/a", a["text_sha1"])
    assert len({a["id"], c["id"], d["id"]}) == 3
    assert b["content_type"] == ""


def test_build_row_refuses_empty_text_and_missing_columns() -> None:
    with pytest.raises(ValueError, match="no main text"):
        build_row(page(), inspect_result(text=""), crawl_id="c")
    result = inspect_result()
    del result["license"]
    with pytest.raises(ValueError, match="license"):
        build_row(page(), result, crawl_id="c")


def test_host_is_lower_case_and_idna() -> None:
    assert host_of("https://WWW.Example.ORG:8080/x") == "www.example.org"
    assert host_of("https://bücher.example/") == "xn--bcher-kva.example"
    assert host_of("https://xn--bcher-kva.example/") == "xn--bcher-kva.example"
