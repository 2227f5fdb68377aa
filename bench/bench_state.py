"""Cost of the crawl state (``licrawl crawl --state DIR``) at 1M URLs: bytes, record time,
lookup time.

Issue 12, Performance: "State cost: bytes per URL and per observation, and lookup time per
URL at 1M URLs". The bench times whole child processes, each a fresh Python:

1. ``record r1``: one run recording ``--urls`` new-page observations with
   :meth:`CrawlState.record` (URLs of ~60 characters on 1,000 hosts, an ETag, a
   Last-Modified, payload and text digests, a license, a WARC file and record id; one in
   ten with an AI opt-out signal), then ``end_run``;
2. ``record r2``: a second run over the same URLs, 95% ``unchanged`` (a revisit: the
   record it refers to and its date), 5% ``changed``;
3. ``lookup``: :meth:`CrawlState.previous` for ``--lookups`` random URLs, in a run r3 (as
   the crawl asks before each request), and :meth:`CrawlState.latest` for the same URLs in
   batches of 1,024 (as ``licrawl filter --state`` asks per record batch), read-only;
4. baselines in the same run: the same observations as a JSON-lines log (bytes, time to
   write), and a bare SQLite primary-key lookup (``SELECT id FROM urls WHERE url = ?``) of
   the same URLs in the same file.

It prints the state file's size after each run (bytes per URL, per observation), each
child's wall time and its time per observation, lookup times per URL, and the ratios
against the baselines.

    .venv/bin/python bench/bench_state.py                 # 1,000,000 URLs x 2 runs
    .venv/bin/python bench/bench_state.py --urls 100000   # quicker
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.state.store import STATE_FILE, CrawlState, Observation  # noqa: E402

T0 = 1_793_520_000.0  # 2026-11-01T06:00:00Z
DAY = 86_400.0
LICENSES = ("CC-BY-4.0", "CC-BY-SA-4.0", "MIT", "LicenseRef-All-Rights-Reserved",
            "NOASSERTION")


def url_of(i: int) -> str:
    """The i-th URL: 1,000 hosts, paths like a blog's."""
    return (f"https://www.host{i % 1000:04d}.example/articles/2026/11/"
            f"a-post-about-things-{i:08d}.html")


def observation(i: int, run: int) -> Observation:
    """What run ``run`` (1 or 2) saw of URL ``i``."""
    url = url_of(i)
    changed = run == 1 or i % 20 == 0
    text = hashlib.sha1(f"{url} {run if changed else 1}".encode()).hexdigest()
    when = T0 + (run - 1) * 7 * DAY + i * 0.01
    record = f"<urn:uuid:{hashlib.md5(f'{url} {run}'.encode()).hexdigest()}>"
    first = f"<urn:uuid:{hashlib.md5(f'{url} 1'.encode()).hexdigest()}>"
    return Observation(
        url=url, time=when, outcome="new" if run == 1 else ("changed" if changed
                                                            else "unchanged"),
        status=200, etag=f'"{text[:16]}"', last_modified="Sun, 01 Nov 2026 06:00:00 GMT",
        payload_digest="sha1:" + text[:32].upper(), text_sha1=text,
        license=LICENSES[i % len(LICENSES)], license_category="permissive",
        tdm_reserved=False, ai_optout=("robots:GPTBot",) if i % 10 == 0 else (),
        warc_file=f"crawl-r{run}-{i // 50_000:05d}.warc.gz", warc_record_id=record,
        ref_record_id=None if changed else first,
        ref_date=None if changed else "2026-11-01T06:00:00Z")


def observations(n: int, run: int) -> Iterator[Observation]:
    for i in range(n):
        yield observation(i, run)


# -- children -----------------------------------------------------------------------------
def child_record(folder: Path, n: int, run: int) -> dict[str, float]:
    started = time.perf_counter()
    with CrawlState(folder, f"r{run}", now=T0 + (run - 1) * 7 * DAY) as state:
        for obs in observations(n, run):
            state.record(obs)
        state.end_run({"rows": n})
    return {"seconds": time.perf_counter() - started}


def child_jsonl(path: Path, n: int) -> dict[str, float]:
    started = time.perf_counter()
    for run in (1, 2):
        for _ in observations(n, run):
            pass
    generate = time.perf_counter() - started
    started = time.perf_counter()
    with path.open("w", encoding="utf-8") as out:
        for run in (1, 2):
            for obs in observations(n, run):
                data = {k: getattr(obs, k) for k in Observation.__slots__}
                out.write(json.dumps(data) + "\n")
    return {"seconds": time.perf_counter() - started, "generate": generate}


def child_lookup(folder: Path, n: int, lookups: int) -> dict[str, float]:
    sample = [url_of(i) for i in random.Random(12).sample(range(n), lookups)]
    with CrawlState(folder, "r3", now=T0 + 14 * DAY) as state:
        started = time.perf_counter()
        found = sum(state.previous(u) is not None for u in sample)
        previous = time.perf_counter() - started
    assert found == lookups, found
    with CrawlState(folder) as state:
        started = time.perf_counter()
        got = sum(len(state.latest(sample[k:k + 1024])) for k in range(0, lookups, 1024))
        latest = time.perf_counter() - started
    assert got == lookups, got
    db = sqlite3.connect(folder / STATE_FILE)
    started = time.perf_counter()
    bare = sum(db.execute("SELECT id FROM urls WHERE url = ?", (u,)).fetchone() is not None
               for u in sample)
    pk = time.perf_counter() - started
    db.close()
    assert bare == lookups
    return {"previous": previous, "latest": latest, "pk": pk}


def run_child(*args: str) -> tuple[float, dict[str, float]]:
    """Run this file as a child process; (wall seconds, what it printed)."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", *args], check=True,
                          capture_output=True, text=True)
    return time.perf_counter() - started, json.loads(proc.stdout)


def size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith(STATE_FILE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, *rest = args.child
        if kind == "record":
            result = child_record(Path(path), args.urls, int(rest[0]))
        elif kind == "jsonl":
            result = child_jsonl(Path(path), args.urls)
        else:
            result = child_lookup(Path(path), args.urls, args.lookups)
        print(json.dumps(result))
        return

    n = args.urls
    print(f"crawl state bench: {n:,} URLs x 2 runs, {args.lookups:,} lookups; "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-state-") as tmp:
        folder = Path(tmp) / "state"
        common = ["--urls", str(n), "--lookups", str(args.lookups)]
        wall1, r1 = run_child("record", str(folder), "1", *common)
        size1 = size(folder)
        wall2, r2 = run_child("record", str(folder), "2", *common)
        size2 = size(folder)
        wall_j, rj = run_child("jsonl", str(Path(tmp) / "log.jsonl"), *common)
        size_j = (Path(tmp) / "log.jsonl").stat().st_size
        wall_l, rl = run_child("lookup", str(folder), *common)
    print(f"after run 1     {size1 / 2**20:9.1f} MiB  {size1 / n:7.1f} B/URL (1 observation each)")
    print(f"after run 2     {size2 / 2**20:9.1f} MiB  {size2 / n:7.1f} B/URL  "
          f"{size2 / (2 * n):7.1f} B/observation  (run 2 added {(size2 - size1) / n:.1f} B/URL)")
    print(f"JSON-lines log  {size_j / 2**20:9.1f} MiB  {size_j / (2 * n):7.1f} B/observation "
          f" state/log {size2 / size_j:.2f}x")
    gen = rj["generate"] / (2 * n)  # making one observation, in every timing below
    print(f"(making the observations: {gen * 1e6:.1f} us each, taken out of the figures)")
    for label, wall, inner in (("record run 1", wall1, r1), ("record run 2", wall2, r2)):
        net = inner["seconds"] / n - gen
        print(f"{label}    {wall:7.1f} s whole process, {net * 1e6:6.1f} us per observation "
              f"({1 / net:,.0f}/s)")
    log = rj["seconds"] / (2 * n) - gen
    state = (r1["seconds"] + r2["seconds"]) / (2 * n) - gen
    print(f"JSON-lines log  {wall_j:7.1f} s whole process (both runs, and making them once "
          f"more), {log * 1e6:6.1f} us per observation; state record / log {state / log:.1f}x")
    k = args.lookups
    print(f"lookup process  {wall_l:7.1f} s whole process")
    print(f"previous(url)   {rl['previous'] / k * 1e6:7.1f} us per URL (random {k:,} of {n:,}, "
          f"2 observations each)")
    print(f"latest(urls)    {rl['latest'] / k * 1e6:7.1f} us per URL (batches of 1,024)")
    print(f"bare PK lookup  {rl['pk'] / k * 1e6:7.1f} us per URL; previous / bare "
          f"{rl['previous'] / rl['pk']:.1f}x, latest / bare {rl['latest'] / rl['pk']:.1f}x")
    print(f"load after      {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
