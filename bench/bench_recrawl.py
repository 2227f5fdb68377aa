"""Recrawl benchmark: a scheduled job's second and third runs against a local site with ETags.

Serves a synthetic site of N article pages on 127.0.0.1 (the tree of bench_crawl.py, each
page with an ``ETag``; the server answers ``If-None-Match`` with 304 as web servers do), then
times three ``licrawl crawl --state`` runs of it as whole processes (start-up included), one
state folder, a new output folder each:

1. the first crawl (every page new);
2. a recrawl of the unchanged site: bytes the server sent and seconds, as ratios to run 1
   (targets: at most 10% of the bytes, at most 0.5x the time), and the rows it wrote (0);
3. a recrawl after 5% of the pages changed: the rows it wrote must be exactly those pages.

Usage: ``.venv/bin/python bench/bench_recrawl.py [--pages 2000] [--changed 0.05]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from bench_crawl import COMMON, synthetic_site  # noqa: E402

from crawler.demo.localsite import LocalSite, Reply  # noqa: E402


def with_etags(site: LocalSite, changed: set[int]) -> None:
    """Give every page of ``site`` an ETag; pages in ``changed`` get new text and ETag."""
    plain = site.handler

    def handle(path: str) -> Reply | None:
        reply = plain(path)
        if reply is None or path == "/robots.txt":
            return reply
        k = 0 if path == "/" else int(path[3:])
        body = reply.body
        if k in changed:
            body = body.replace(b"<h1>", b"<h1>Revised: ", 1)
        tag = f'"p{k}-{"b" if k in changed else "a"}"'
        return Reply(reply.status, [*reply.headers, ("ETag", tag)], body)

    site.handler = handle


def run(site: LocalSite, out: Path, state: Path) -> tuple[float, int, int]:
    """One crawl run as a whole process: (seconds, bytes the site sent, rows written)."""
    before = len(site.log)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "crawler.cli", "crawl", site.url + "/", "--out",
                    str(out), "--state", str(state), *COMMON, "-s",
                    "LICRAWL_PROGRESS_INTERVAL=0"], check=True, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    sent = sum(r.sent for r in site.log[before:])
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in (out / "data").glob("*.parquet"))
    return seconds, sent, rows


def main() -> None:
    """Run the three crawls and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--changed", type=float, default=0.05,
                        help="share of pages changed before the third run")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.2f}")
    changed: set[int] = set()
    with synthetic_site(args.pages) as site, tempfile.TemporaryDirectory() as tmp:
        with_etags(site, changed)
        state = Path(tmp) / "state"
        first = run(site, Path(tmp) / "run1", state)
        second = run(site, Path(tmp) / "run2", state)
        step = max(1, round(1 / args.changed))
        changed.update(range(1, args.pages, step))
        third = run(site, Path(tmp) / "run3", state)
        written = {r["url"] for p in (Path(tmp) / "run3" / "data").glob("*.parquet")
                   for r in pq.read_table(p, columns=["url"]).to_pylist()}
        state_bytes = sum(f.stat().st_size for f in state.iterdir())
    print(f"run 1 (first crawl):      {first[0]:6.1f} s, {first[1] / 1e6:7.2f} MB sent, "
          f"{first[2]} rows")
    print(f"run 2 (nothing changed):  {second[0]:6.1f} s, {second[1] / 1e6:7.2f} MB sent, "
          f"{second[2]} rows")
    print(f"  bytes run 2 / run 1: {second[1] / first[1]:.3f} (target <= 0.10); "
          f"time run 2 / run 1: {second[0] / first[0]:.2f} (target <= 0.5)")
    expected = {f"{site.url}/p/{k}" for k in changed}
    print(f"run 3 ({len(changed)} pages changed): {third[0]:6.1f} s, {third[1] / 1e6:7.2f} MB "
          f"sent, {third[2]} rows; rows are exactly the changed pages: {written == expected}")
    print(f"state folder after 3 runs: {state_bytes / 1e6:.1f} MB for {args.pages} URLs")


if __name__ == "__main__":
    main()
