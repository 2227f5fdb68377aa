"""The detection worker pool, process_warcs over WARC files, and ``licrawl process``."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from factories import make_row

from crawler.cli import main
from crawler.core.errors import ErrorRecord, read_errors
from crawler.core.page import FetchedPage
from crawler.stages.process import PageProcessor, PoolFull, process_warcs
from crawler.store.warc import WarcWriter

T0 = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
DEVSET = Path(__file__).parent / "pages" / "devset"
HTML_HEADERS = [("Content-Type", "text/html; charset=utf-8")]


# -- detection stand-ins, run in the workers (module level, so they pickle by name) ------
def fake_inspect(html: bytes, url: str | None = None, headers: Any = None,
                 site_policy: Any = None, site: Any = None) -> dict[str, Any]:
    """Behave like crawler.detect.inspect on tiny pages; markers in the body trigger failures."""
    if b"HANG" in html:
        time.sleep(60)
    if b"CRASH" in html:
        os._exit(3)
    if b"RAISE" in html:
        raise RuntimeError("detector bug")
    if b"SIGINT" in html:  # what Ctrl-C in a terminal sends the whole process group
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
    text = re.sub(rb"<[^>]+>", b" ", html).decode().strip()
    row = make_row(url=url or "", text=text)
    row["ai_optout"] = ["robots:GPTBot"] if site is not None else []
    return {k: row[k] for k in row if k not in (
        "id", "url", "host", "fetched_at", "http_status", "content_type", "warc_file",
        "warc_record_id", "crawl_id")}


def slow_inspect(html: bytes, url: str | None = None, headers: Any = None,
                 site_policy: Any = None, site: Any = None) -> dict[str, Any]:
    """fake_inspect, one second late."""
    time.sleep(1.0)
    return fake_inspect(html, url, headers, site_policy, site)


def page(url: str, body: bytes, status: int = 200,
         headers: list[tuple[str, str]] | None = None) -> FetchedPage:
    return FetchedPage(url, status, HTML_HEADERS if headers is None else headers, body, T0,
                       "warc/t.warc.gz", f"<urn:uuid:{hashlib.md5(url.encode()).hexdigest()}>")


@pytest.fixture(scope="module")
def pool() -> Iterator[PageProcessor]:
    with PageProcessor(2, timeout=2.0, crawl_id="t-pool", inspect_fn=fake_inspect) as p:
        yield p


def test_pool_gives_rows_and_error_records(pool: PageProcessor) -> None:
    ok = pool.submit(page("https://a.example/ok", b"<html><p>Fine text</p></html>"))
    raising = pool.submit(page("https://a.example/bug", b"<html>RAISE</html>"))
    empty = pool.submit(page("https://a.example/empty", b"<html><p></p></html>"))
    pdf = pool.submit(page("https://a.example/x.pdf", b"%PDF-1.4",
                           headers=[("Content-Type", "application/pdf")]))
    assert pdf.done()  # classified in the caller, no worker involved
    row = ok.result(timeout=30)
    assert isinstance(row, dict)
    assert row["url"] == "https://a.example/ok" and row["text"] == "Fine text"
    assert row["crawl_id"] == "t-pool" and row["warc_file"] == "warc/t.warc.gz"
    err = raising.result(timeout=30)
    assert isinstance(err, ErrorRecord)
    assert (err.stage, err.reason) == ("inspect", "exception")
    assert "detector bug" in err.detail and err.url == "https://a.example/bug"
    assert (empty.result(timeout=30).stage, empty.result().reason) == ("extract", "no-main-text")
    assert (pdf.result().stage, pdf.result().reason) == ("classify", "not-html")
    assert pdf.result().detail == "application/pdf"


def test_hung_page_times_out_and_the_pool_keeps_working(pool: PageProcessor) -> None:
    hung = pool.submit(page("https://a.example/hang", b"<html>HANG</html>"))
    after = [pool.submit(page(f"https://a.example/{i}", b"<p>text %d</p>" % i))
             for i in range(4)]
    err = hung.result(timeout=30)
    assert isinstance(err, ErrorRecord)
    assert (err.stage, err.reason, err.url) == ("timeout", "timeout", "https://a.example/hang")
    assert err.warc_record_id and err.http_status == 200
    assert [f.result(timeout=30)["text"] for f in after] == [f"text {i}" for i in range(4)]
    assert pool.pending == 0


def test_ctrl_c_in_the_worker_does_not_lose_the_page(pool: PageProcessor) -> None:
    result = pool.submit(page("https://a.example/ctrl-c", b"<p>SIGINT text</p>")).result(30)
    assert not isinstance(result, ErrorRecord), result
    assert result["text"] == "SIGINT text"


def test_crashed_worker_is_an_error_record_not_a_lost_url(pool: PageProcessor) -> None:
    crash = pool.submit(page("https://a.example/crash", b"<html>CRASH</html>"))
    err = crash.result(timeout=30)
    assert (err.stage, err.reason) == ("inspect", "worker-crashed")
    assert isinstance(pool.submit(page("https://a.example/z", b"<p>z</p>")).result(timeout=30),
                      dict)


def test_submit_is_bounded() -> None:
    with PageProcessor(1, crawl_id="t", max_pending=1, inspect_fn=slow_inspect) as p:
        first = p.submit(page("https://b.example/1", b"<p>one</p>"))
        with pytest.raises(PoolFull):
            p.submit(page("https://b.example/2", b"<p>two</p>"), block=False)
        t = time.monotonic()
        second = p.submit(page("https://b.example/2", b"<p>two</p>"))  # waits for a slot
        assert first.done() and time.monotonic() - t > 0.2
        assert second.result(timeout=30)["text"] == "two"


# -- process_warcs -----------------------------------------------------------------------
def write_test_warc(path: Path, pages: list[tuple[str, int, list, bytes]]) -> None:
    with WarcWriter(path.parent, prefix=path.name) as w:
        for url, status, headers, body in pages:
            w.write_response(url, status, "", headers, body, T0,
                             request_headers=[("User-Agent", "licrawl-test")])
    (written,) = w.files
    written.rename(path)


def small_warc_pages() -> list[tuple[str, int, list, bytes]]:
    return [
        ("https://a.example/robots.txt", 200, [("Content-Type", "text/plain")],
         b"User-agent: GPTBot\nDisallow: /\n"),
        ("https://a.example/one", 200, HTML_HEADERS, b"<html><p>Page one</p></html>"),
        ("https://a.example/old", 301, [("Location", "https://a.example/one")], b""),
        ("https://b.example/two", 200, [], b"<!doctype html><p>Page two</p>"),
        ("https://b.example/gone", 404, HTML_HEADERS, b"<p>Not found</p>"),
        ("https://b.example/f.pdf", 200, [("Content-Type", "application/pdf")], b"%PDF-1.4"),
        ("https://b.example/bug", 200, HTML_HEADERS, b"<p>RAISE</p>"),
    ]


def read_rows(out: Path) -> list[dict[str, Any]]:
    files = sorted((out / "data").glob("*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def test_process_warcs_with_fake_detection(tmp_path: Path) -> None:
    warc = tmp_path / "in.warc.gz"
    write_test_warc(warc, small_warc_pages())
    summary = process_warcs([warc], tmp_path / "out", workers=2, crawl_id="run1",
                            progress=False, inspect_fn=fake_inspect)
    rows = sorted(read_rows(tmp_path / "out"), key=lambda r: r["url"])
    assert [r["url"] for r in rows] == ["https://a.example/one", "https://b.example/two"]
    assert all(r["crawl_id"] == "run1" for r in rows)
    assert rows[0]["warc_file"] == str(warc)
    # the robots.txt of a.example reached its page as SiteContext, and is no row
    assert rows[0]["ai_optout"] == ["robots:GPTBot"] and rows[1]["ai_optout"] == []
    errors = {e.url: (e.stage, e.reason) for e in read_errors(tmp_path / "out" / "errors")}
    assert errors == {
        "https://a.example/old": ("classify", "redirect"),
        "https://b.example/gone": ("classify", "http-error"),
        "https://b.example/f.pdf": ("classify", "not-html"),
        "https://b.example/bug": ("inspect", "exception"),
    }
    assert (summary.records, summary.rows, summary.site_files, summary.error_count) == (
        7, 2, 1, 4)
    assert summary.opted_out_rows == 1 and summary.licenses["permissive"] == 2
    assert "rows         2" in summary.format()


def test_truncated_warc_keeps_what_was_read(tmp_path: Path) -> None:
    warc = tmp_path / "in.warc.gz"
    write_test_warc(warc, [(f"https://c.example/{i}", 200, HTML_HEADERS,
                            b"<p>page %d</p>" % i + os.urandom(3000).hex().encode())
                           for i in range(5)])
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(warc.read_bytes()[:-3000])
    summary = process_warcs([cut], tmp_path / "out", workers=1, progress=False,
                            inspect_fn=fake_inspect)
    assert summary.rows >= 3
    assert summary.errors["decode/warc-truncated"] == 1
    (err,) = [e for e in read_errors(tmp_path / "out" / "errors")]
    assert err.warc_file == str(cut) and err.stage == "decode"
    assert err.url.startswith("https://") and err.warc_record_id  # the record it stopped in
    assert summary.crawl_id.startswith("process-")


# -- end to end with real detection --------------------------------------------------------
def devset_pages(n: int) -> list[tuple[str, bytes]]:
    labels = [json.loads(line) for line in
              (DEVSET / "labels.jsonl").read_text("utf-8").splitlines() if line.strip()]
    return [(lab["url"] or f"https://devset.invalid/{lab['file']}",
             (DEVSET / lab["file"]).read_bytes()) for lab in labels[:n]]


def test_process_warcs_real_pages_end_to_end(tmp_path: Path) -> None:
    real = devset_pages(6)
    host = real[0][0].split("/")[2]
    warc = tmp_path / "real.warc.gz"
    write_test_warc(warc, [
        (f"https://{host}/robots.txt", 200, [("Content-Type", "text/plain")],
         b"User-agent: CCBot\nDisallow: /\n"),
        *[(url, 200, HTML_HEADERS, body) for url, body in real],
        ("https://example.net/doc.pdf", 200, [("Content-Type", "application/pdf")],
         b"%PDF-1.5 binary"),
        ("https://example.net/missing", 404, HTML_HEADERS, b"<h1>404</h1>"),
    ])
    out1, out2 = tmp_path / "out1", tmp_path / "out2"
    s1 = process_warcs([warc], out1, workers=2, crawl_id="one", progress=False)
    s2 = process_warcs([warc], out2, workers=1, crawl_id="two", progress=False)
    rows1, rows2 = (sorted(read_rows(o), key=lambda r: r["url"]) for o in (out1, out2))
    assert len(rows1) == s1.rows == 6
    assert [r["url"] for r in rows1] == sorted(url for url, _ in real)
    assert [r["id"] for r in rows1] == [r["id"] for r in rows2]  # same URL + text, same id
    assert {r["crawl_id"] for r in rows2} == {"two"}
    for r in rows1:
        assert r["text"] and r["text_sha1"] == hashlib.sha1(r["text"].encode()).hexdigest()
        assert r["id"] == hashlib.sha1(f"{r['url']}\n{r['text_sha1']}".encode()).hexdigest()
        assert r["warc_record_id"].startswith("<urn:uuid:")
    for r in rows1:
        assert ("robots:CCBot" in r["ai_optout"]) == (r["host"] == host)
    assert sorted((e.url, e.reason) for e in read_errors(out1 / "errors")) == [
        ("https://example.net/doc.pdf", "not-html"), ("https://example.net/missing",
                                                      "http-error")]
    assert s2.errors == s1.errors and s2.licenses == s1.licenses


# -- the command ---------------------------------------------------------------------------
def test_cli_missing_and_non_warc_files_exit_2(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["process", str(tmp_path / "nope.warc.gz"), "--out", str(tmp_path)]) == 2
    assert "nope.warc.gz: no such file" in capsys.readouterr().err
    html = tmp_path / "page.html"
    html.write_text("<html></html>")
    assert main(["process", str(html), "--out", str(tmp_path / "o")]) == 2
    assert "not a WARC" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_help_and_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["process", "--help"])
    assert exc.value.code == 0
    assert "--workers" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["process", "x.warc.gz"])  # --out is required
    assert exc.value.code == 2


def test_cli_runs_and_prints_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warc = tmp_path / "in.warc.gz"
    url, body = devset_pages(1)[0]
    write_test_warc(warc, [(url, 200, HTML_HEADERS, body),
                           ("https://example.net/x.pdf", 200,
                            [("Content-Type", "application/pdf")], b"%PDF")])
    code = main(["process", str(warc), "--out", str(tmp_path / "out"), "--workers", "1",
                 "--crawl-id", "cli-run", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0
    assert "rows         1" in captured.out and "classify/not-html" in captured.out
    assert "cli-run" in captured.out and captured.err == ""
    assert [r["crawl_id"] for r in read_rows(tmp_path / "out")] == ["cli-run"]


def test_cli_bad_site_policy_and_workers_exit_2(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    warc = tmp_path / "in.warc.gz"
    write_test_warc(warc, [("https://a.example/", 200, HTML_HEADERS, b"<p>x</p>")])
    policy = tmp_path / "policy.toml"
    policy.write_text("[[rule]]\nhost = 'a.example'\nlicense = 'NOT A LICENSE ((('\n")
    out = tmp_path / "out"
    assert main(["process", str(warc), "--out", str(out), "--site-policy", str(policy)]) == 2
    assert "rule 1: bad license" in capsys.readouterr().err
    assert main(["process", str(warc), "--out", str(out), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert main(["process", str(warc), "--out", str(out),
                 "--site-policy", str(tmp_path / "none.toml")]) == 2
    assert "none.toml" in capsys.readouterr().err
    assert not out.exists()
