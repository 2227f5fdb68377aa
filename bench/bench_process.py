"""Throughput of ``licrawl process`` against trafilatura alone, on the same pages, same run.

Builds one WARC of the dev pages under ``tests/pages/devset`` repeated to ``--records``
responses (each copy under its own URL) with licrawl's ``WarcWriter`` (its speed is printed
next to warcio's own gzip ``WARCWriter`` on the same responses), then times:

* baseline: ``trafilatura.bare_extraction`` (same options as ``crawler.detect.extract``) on every
  page, one process, no WARC reading, no writing;
* ``crawler.detect.inspect`` on every page, one process (detection alone, no pool);
* ``process_warcs`` (WARC reading, worker pool, full detection, Parquet + SPDX + error
  records) with 1 worker and with 2 workers, wall clock including pool start-up.

Reported: pages/s of each; per-core overhead = 1-worker time / baseline time (target
<= 1.3x; it includes everything inspect does beyond trafilatura); the pool's own cost =
1-worker time / inspect-alone time; 2-worker speedup = 1-worker time / 2-worker time
(target >= 1.7x; meaningful only with 2 otherwise idle cores: the load average before and
after is printed, and on a shared machine the figure varies from run to run).

    .venv/bin/python bench/bench_process.py                  # ~1,000 records
    .venv/bin/python bench/bench_process.py --records 300
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import trafilatura
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.detect.inspect import InspectError, inspect
from crawler.stages.process import process_warcs
from crawler.store.warc import WarcWriter

DEVSET = Path(__file__).resolve().parent.parent / "tests" / "pages" / "devset"
HEADERS = [("Content-Type", "text/html; charset=utf-8")]


def load_pages() -> list[tuple[str, bytes]]:
    """(url, html) of every labelled dev page."""
    labels = [json.loads(line) for line in
              (DEVSET / "labels.jsonl").read_text("utf-8").splitlines() if line.strip()]
    return [(lab["url"] or f"https://devset.invalid/{lab['file']}",
             (DEVSET / lab["file"]).read_bytes()) for lab in labels]


def repeat_pages(records: int) -> list[tuple[str, bytes]]:
    """``records`` (url, html) pairs cycling through the dev pages, each URL unique."""
    pages = load_pages()
    out = []
    for i in range(records):
        url, body = pages[i % len(pages)]
        out.append((f"{url}{'&' if '?' in url else '?'}copy={i // len(pages)}", body))
    return out


def build_warc(chosen: list[tuple[str, bytes]], folder: Path) -> Path:
    """A WARC with one response per (url, html) pair."""
    fetched = datetime(2024, 5, 1, tzinfo=UTC)
    with WarcWriter(folder, prefix="bench") as w:
        for url, body in chosen:
            w.write_response(url, 200, "OK", HEADERS, body, fetched)
    (path,) = w.files
    return path


def time_plain_warcio(pages: list[tuple[str, bytes]], folder: Path) -> float:
    """Seconds for warcio's own gzip ``WARCWriter`` to write the same responses."""
    start = time.perf_counter()
    with open(folder / "plain.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body in pages:
            writer.write_record(writer.create_warc_record(
                url, "response", payload=BytesIO(body), length=len(body),
                http_headers=StatusAndHeaders("200 OK", HEADERS, protocol="HTTP/1.1")))
    return time.perf_counter() - start


def time_baseline(pages: list[tuple[str, bytes]]) -> float:
    """Seconds for bare_extraction over every page in this process."""
    start = time.perf_counter()
    for url, body in pages:
        trafilatura.bare_extraction(body, url=url, with_metadata=True,
                                    include_comments=False, include_tables=True)
    return time.perf_counter() - start


def time_inspect(pages: list[tuple[str, bytes]]) -> float:
    """Seconds for crawler.detect.inspect over every page in this process (detection alone)."""
    start = time.perf_counter()
    for url, body in pages:
        with contextlib.suppress(InspectError):  # the same pages fail in every run
            inspect(body, url=url, headers=HEADERS)
    return time.perf_counter() - start


def time_process(warc: Path, out: Path, workers: int) -> tuple[float, int, int]:
    """Seconds, rows and errors of process_warcs over ``warc``."""
    start = time.perf_counter()
    summary = process_warcs([warc], out, workers=workers, crawl_id=f"bench-{workers}",
                            progress=False)
    return time.perf_counter() - start, summary.rows, summary.error_count


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    args = parser.parse_args()

    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"cores: {os.cpu_count()}, load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-process-") as tmp:
        folder = Path(tmp)
        chosen = repeat_pages(args.records)
        start = time.perf_counter()
        warc = build_warc(chosen, folder / "in")
        write_s = time.perf_counter() - start
        print(f"input: {len(chosen)} responses from {len(load_pages())} dev pages, "
              f"{sum(len(b) for _, b in chosen) / 2**20:.1f} MiB of HTML, "
              f"WARC {warc.stat().st_size / 2**20:.1f} MiB gzip")
        plain_s = time_plain_warcio(chosen, folder)
        print(f"WarcWriter: {len(chosen) / write_s:.0f} responses/s "
              f"({sum(len(b) for _, b in chosen) / 2**20 / write_s:.1f} MiB/s of HTML); "
              f"warcio WARCWriter(gzip=True): {len(chosen) / plain_s:.0f} responses/s")

        base = time_baseline(chosen)
        alone = time_inspect(chosen)
        t1, rows1, err1 = time_process(warc, folder / "out1", 1)
        t2, rows2, err2 = time_process(warc, folder / "out2", 2)

    n = len(chosen)
    print(f"{'run':<38} {'seconds':>8} {'pages/s':>8}")
    print(f"{'trafilatura.bare_extraction, 1 proc':<38} {base:8.2f} {n / base:8.1f}")
    print(f"{'crawler.detect.inspect, 1 proc (no pool)':<38} {alone:8.2f} {n / alone:8.1f}")
    print(f"{'process_warcs, 1 worker':<38} {t1:8.2f} {n / t1:8.1f}   "
          f"rows {rows1}, errors {err1}")
    print(f"{'process_warcs, 2 workers':<38} {t2:8.2f} {n / t2:8.1f}   "
          f"rows {rows2}, errors {err2}")
    print(f"per-core overhead (1 worker / baseline): {t1 / base:.2f}x  (target <= 1.3x)")
    print(f"pool + WARC + shards overhead (1 worker / inspect alone): {t1 / alone:.2f}x")
    print(f"2-worker speedup (1 worker / 2 workers): {t1 / t2:.2f}x  (target >= 1.7x)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
