"""``licrawl process`` on a 2-CPU local Ray cluster against the local executor.

Issue 11, Performance: ``process`` on a 4x copy of a 700-page WARC with ``--executor ray``
on a 2-CPU local cluster should take at most 1.25x the local executor's time, the cluster's
start excluded and printed apart; and the Ray task overhead (issue 11, item 4).

The bench

1. builds four gzip WARCs with bench/bench_process_wall.py's builder: the labelled dev
   pages cycled under unique URLs, ``--records`` responses per file (default 848, the
   smallest whole number of cycles giving at least 700), so the four files hold four times
   the pages of one, each page under its own URL;
2. starts a local Ray instance in this process (``ray.init(num_cpus=2)``; Ray binds it to
   this machine's own address, not to 127.0.0.1) and times that start;
3. times, as whole processes (wall clock from spawn to exit, ``--runs`` times, alternating):

   a. ``licrawl process W1..W4 --out DIR --workers 2 --quiet`` (local executor);
   b. ``licrawl process W1..W4 --out DIR --executor ray --ray-address ADDR --quiet``
      (the cluster of step 2, already up: its start is not in b);

   and once ``--executor ray`` without an address (the command starts its own 2-CPU Ray
   instance and stops it: cluster start included), for reference;
4. checks that a and b wrote the same row ids;
5. measures Ray's per-task overhead on the same cluster: ``--tasks`` empty tasks submitted
   at once (tasks/s, microseconds each), and empty tasks one at a time (round trip).

It prints the figures, the medians, and the ratio b/a.

    .venv/bin/python bench/bench_ray.py               # 4 x 848 records, 3 runs each
    .venv/bin/python bench/bench_ray.py --runs 1 --records 700
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_process_wall import (  # noqa: E402
    MIN_RECORDS,
    cycle,
    dev_pages,
    licrawl_command,
    loadavg,
    write_warc,
)

COPIES = 4
CPUS = 2


def build_warcs(folder: Path, records: int) -> list[Path]:
    """``COPIES`` WARCs of ``records`` responses each, every URL unique."""
    pages = cycle(dev_pages(), records * COPIES)
    paths = []
    for i in range(COPIES):
        path = folder / f"copy-{i}.warc.gz"
        write_warc(pages[i * records:(i + 1) * records], path)
        paths.append(path)
    return paths


def run_timed(cmd: list[str], log: Path) -> float:
    """Wall seconds of ``cmd`` from spawn to exit; its stderr goes to ``log``."""
    started = time.perf_counter()
    with log.open("w") as err:
        result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=err, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({result.returncode}):\n"
                         f"{log.read_text()[-3000:]}")
    return seconds


def row_ids(out: Path) -> list[str]:
    """The sorted row ids of a process output folder."""
    return sorted(i for f in (out / "data").glob("*.parquet")
                  for i in pq.read_table(f, columns=["id"]).column("id").to_pylist())


def task_overhead(ray: object, tasks: int) -> tuple[float, float]:
    """(empty tasks/s submitted at once, seconds per empty task one at a time)."""
    @ray.remote(num_cpus=1)  # type: ignore[attr-defined]
    def nothing() -> None:
        return None

    ray.get([nothing.remote() for _ in range(200)])  # type: ignore[attr-defined]  # warm
    started = time.perf_counter()
    ray.get([nothing.remote() for _ in range(tasks)])  # type: ignore[attr-defined]
    batch = tasks / (time.perf_counter() - started)
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        ray.get(nothing.remote())  # type: ignore[attr-defined]
    return batch, (time.perf_counter() - started) / rounds


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=0,
                        help="responses per WARC (default: whole cycles of the dev pages, "
                        f">= {MIN_RECORDS})")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each variant")
    parser.add_argument("--tasks", type=int, default=5000,
                        help="empty tasks for the overhead figure")
    args = parser.parse_args()
    import ray

    pages = dev_pages()
    records = args.records or len(pages) * math.ceil(MIN_RECORDS / len(pages))
    licrawl = licrawl_command()
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        base = Path(tmp)
        warcs = build_warcs(base, records)
        size = sum(p.stat().st_size for p in warcs) / 2**20
        print(f"input: {COPIES} WARCs x {records} responses = {COPIES * records} pages "
              f"({len(pages)} dev pages cycled, unique URLs), {size:.1f} MiB gzip")
        print(f"load average before: {loadavg()}")

        started = time.perf_counter()
        ray.init(num_cpus=CPUS, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        cluster_start = time.perf_counter() - started
        address = ray.get_runtime_context().gcs_address
        print(f"ray {ray.__version__}: local cluster ({CPUS} CPUs) started in "
              f"{cluster_start:.2f}s at {address} (not in the ray times below)")

        local_s: list[float] = []
        ray_s: list[float] = []
        common = ["process", *map(str, warcs), "--quiet"]
        try:
            for run in range(args.runs):
                for name, extra, times in (
                        ("local", ["--workers", str(CPUS)], local_s),
                        ("ray", ["--executor", "ray", "--ray-address", address], ray_s)):
                    out = base / f"{name}-{run}"
                    seconds = run_timed([licrawl, *common, "--out", str(out), *extra],
                                        base / f"{name}-{run}.log")
                    times.append(seconds)
                    print(f"  run {run + 1} {name:<5} {seconds:7.2f}s "
                          f"({COPIES * records / seconds:.1f} pages/s)", flush=True)
            same = row_ids(base / "local-0") == row_ids(base / "ray-0")
            print(f"same row ids local vs ray: {same} ({len(row_ids(base / 'ray-0'))} rows)")
            batch, single = task_overhead(ray, args.tasks)
        finally:
            ray.shutdown()

        own = run_timed([licrawl, "process", *map(str, warcs), "--out", str(base / "ray-own"),
                         "--executor", "ray", "--workers", str(CPUS)], base / "ray-own.log")
        started_line = next((line for line in (base / "ray-own.log").read_text().splitlines()
                             if "ray:" in line), "")
        print(f"  ray, own instance started by the command: {own:.2f}s "
              f"(start included; {started_line.strip() or 'no start line'})")
        print(f"load average after: {loadavg()}")

    med_local, med_ray = statistics.median(local_s), statistics.median(ray_s)
    print(f"\nlocal executor (--workers {CPUS}): median {med_local:.2f}s, min "
          f"{min(local_s):.2f}s, {COPIES * records / med_local:.1f} pages/s")
    print(f"ray executor ({CPUS}-CPU local cluster, start excluded): median {med_ray:.2f}s, "
          f"min {min(ray_s):.2f}s, {COPIES * records / med_ray:.1f} pages/s")
    print(f"ratio ray/local: {med_ray / med_local:.3f} of the medians, "
          f"{min(ray_s) / min(local_s):.3f} of the mins (target <= 1.25)")
    print(f"cluster start: {cluster_start:.2f}s (ray.init, num_cpus={CPUS})")
    print(f"ray task overhead: {batch:,.0f} empty tasks/s submitted at once "
          f"({1e6 / batch:.0f} us each), {single * 1e3:.2f} ms per empty task one at a time "
          f"(submit + get round trip); {os.cpu_count()} CPUs on this machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
