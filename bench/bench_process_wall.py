"""Whole-process cost of ``licrawl process --workers 1`` against warcio + trafilatura alone.

Issue 10, item 4: the whole ``licrawl process --workers 1`` run (start-up, WARC reading,
detection, Parquet shards, SPDX documents, error records) should take at most 1.30x the
time of a script that reads the same WARC with warcio and runs
``trafilatura.bare_extraction(..., with_metadata=True)`` on every response, both timed as
whole processes.

The bench

1. builds one gzip WARC (warcio's ``WARCWriter``, ``response`` records with HTTP headers) of
   real saved pages: the labelled dev pages (``tests/pages/devset``, 75, and
   ``tests/pages/devset2/pages``, 137) plus every ``*.html`` / ``*.htm`` file under each
   ``--pages DIR`` (e.g. trafilatura's ``tests/eval`` fixtures), cycled under unique URLs up
   to ``--records`` responses (default: the smallest whole number of cycles giving at
   least 700);
2. times, as whole processes (``subprocess``, wall clock from spawn to exit, interpreter
   start-up and imports included), ``--runs`` times each, alternating a/b:

   a. baseline: ``python bench/wall_baseline.py WARC``, which reads the WARC with warcio's
      ``ArchiveIterator`` and calls ``trafilatura.bare_extraction(body, url=...,
      with_metadata=True, include_comments=False, include_tables=True)`` on every HTML
      response (the two options are the ones ``crawler/detect/extract.py`` passes);
   b. ``licrawl process WARC --out DIR --workers 1 --quiet`` (the venv's console script);

3. prints pages, median and min seconds, pages/s, the ratio b/a (of the medians, of the
   mins, and the median of the per-pair ratios) and the load average before and after.

``--profile`` also runs b's work in this process under cProfile, the way a worker does it
(``read_warc`` -> ``classify_response`` -> the worker task ``detect_page`` -> ``ResultSink``),
and prints the top cumulative and tottime entries.

    .venv/bin/python bench/bench_process_wall.py                       # 848 records, 5 runs
    .venv/bin/python bench/bench_process_wall.py --pages /tmp/trafilatura/tests/eval
    .venv/bin/python bench/bench_process_wall.py --runs 3 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctree import _children  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEV_SETS = (ROOT / "tests" / "pages" / "devset", ROOT / "tests" / "pages" / "devset2")
BASELINE = Path(__file__).resolve().parent / "wall_baseline.py"
MIN_RECORDS = 700
SAMPLE_S = 0.5  # CPU sampling interval of a child's descendants (each sample scans /proc)
HTTP_HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Server", "bench")]


def dev_pages() -> list[tuple[str, bytes]]:
    """(url, html) of every labelled dev page, in label order."""
    out = []
    for folder in DEV_SETS:
        pages = folder / "pages" if (folder / "pages").is_dir() else folder
        for line in (folder / "labels.jsonl").read_text("utf-8").splitlines():
            if line.strip():
                label = json.loads(line)
                url = label.get("url") or f"https://{folder.name}.invalid/{label['file']}"
                out.append((url, (pages / label["file"]).read_bytes()))
    return out


def folder_pages(folder: Path) -> list[tuple[str, bytes]]:
    """(url, html) of every ``*.html`` / ``*.htm`` file under ``folder``, sorted by path;
    the URL is made up from the file's path (the pages carry no URL of their own)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".html", ".htm")
                   and p.is_file())
    return [(f"https://{folder.name}.invalid/{quote(p.relative_to(folder).as_posix())}",
             p.read_bytes()) for p in files]


def cycle(pages: list[tuple[str, bytes]], records: int) -> list[tuple[str, bytes]]:
    """``records`` (url, html) pairs cycling through ``pages``, each URL unique."""
    out = []
    for i in range(records):
        url, body = pages[i % len(pages)]
        copy = i // len(pages)
        out.append((url if copy == 0 else f"{url}{'&' if '?' in url else '?'}copy={copy}",
                    body))
    return out


def write_warc(pages: list[tuple[str, bytes]], path: Path) -> None:
    """A gzip WARC with one ``response`` record (HTTP headers, HTML body) per page."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body in pages:
            http = StatusAndHeaders("200 OK", [*HTTP_HEADERS,
                                               ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), length=len(body),
                http_headers=http))


def licrawl_command() -> str:
    """The ``licrawl`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "licrawl"
    if script.exists():
        return str(script)
    found = shutil.which("licrawl")
    if not found:
        raise SystemExit("licrawl console script not found (pip install -e . in the venv)")
    return found


def _cpu_ticks(pid: int) -> int:
    """utime + stime of process ``pid`` in clock ticks (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])


def timed(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds of ``cmd`` as a whole process (spawn to exit) and the CPU seconds of
    its process tree (the child's own from ``wait4``; its descendants' (fork server,
    worker) as last sampled every SAMPLE_S seconds); output to ``log``."""
    seen: dict[int, int] = {}
    done = threading.Event()

    def sample(root: int) -> None:
        while not done.wait(SAMPLE_S):
            tree = _children()
            todo = list(tree.get(root, []))
            while todo:
                child = todo.pop()
                todo.extend(tree.get(child, []))
                seen[child] = max(seen.get(child, 0), _cpu_ticks(child))

    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        sampler = threading.Thread(target=sample, args=(proc.pid,), daemon=True)
        sampler.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n"
                         f"{log.read_text('utf-8', 'replace')[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime + sum(seen.values()) / os.sysconf("SC_CLK_TCK")
    return seconds, cpu


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def profile_process(warc: Path, out_dir: Path, top: int) -> None:
    """b's work in this process under cProfile, the way the worker pool does it."""
    from crawler.core.records import classify_response
    from crawler.stages import detect_task
    from crawler.stages.sink import ResultSink, RunSummary
    from crawler.store.warc import WarcReadError, read_warc

    summary = RunSummary(crawl_id="bench-profile")
    prof = cProfile.Profile()
    prof.enable()
    detect_task.init_worker(None, None, summary.crawl_id)
    sink = ResultSink(out_dir, summary)
    for item in read_warc(warc, name=warc.name):
        if isinstance(item, WarcReadError):
            sink.put(item.error_record(summary.crawl_id))
            continue
        summary.records += 1
        if classify_response(item) is not None:
            continue
        sink.put(detect_task.detect_page(item, None))
    sink.close()
    prof.disable()
    print(f"\nprofile (in-process): {summary.records} records, {summary.rows} rows, "
          f"{summary.error_count} errors")
    for key in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats(key).print_stats(top)
        lines = text.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print(f"\n-- top {top} by {key} --")
        print("\n".join(lines[start - 2:]))


def main() -> int:
    """Build the WARC, time a and b, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=0,
                        help=f"responses in the WARC (default: whole cycles of the pages, "
                        f"at least {MIN_RECORDS})")
    parser.add_argument("--pages", type=Path, action="append", default=[], metavar="DIR",
                        help="a folder of more real saved pages (*.html, *.htm); repeatable")
    parser.add_argument("--no-devset", action="store_true",
                        help="use only the --pages folders, not the dev pages")
    parser.add_argument("--runs", type=int, default=5,
                        help="runs of each (default 5; 0 with --profile: profile only)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile b's work in-process (cProfile)")
    parser.add_argument("--top", type=int, default=35, help="profile entries shown")
    parser.add_argument("--before", type=Path, metavar="SRC",
                        help="also time b with the crawler package of SRC (a git worktree "
                        "of an older commit, put first on PYTHONPATH), interleaved: before "
                        "and after in the same conditions")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the WARC and outputs in DIR and keep them")
    args = parser.parse_args()

    pages = [] if args.no_devset else dev_pages()
    for folder in args.pages:
        pages += folder_pages(folder)
    if not pages:
        raise SystemExit("no pages")
    records = args.records or math.ceil(MIN_RECORDS / len(pages)) * len(pages)
    chosen = cycle(pages, records)

    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"cores: {os.cpu_count()}, load average before: {loadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-wall-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        warc = folder / "bench.warc.gz"
        write_warc(chosen, warc)
        print(f"input: {records} responses from {len(pages)} distinct real pages "
              f"({'dev sets' if not args.no_devset else ''}"
              f"{' + ' if args.pages and not args.no_devset else ''}"
              f"{', '.join(str(p) for p in args.pages)}), "
              f"{sum(len(b) for _, b in chosen) / 2**20:.1f} MiB of HTML, "
              f"WARC {warc.stat().st_size / 2**20:.1f} MiB gzip")
        base_cmd = [sys.executable, str(BASELINE), str(warc)]
        licrawl = licrawl_command()
        kinds = ["a", "b"] + (["b0"] if args.before else [])
        times: dict[str, list[float]] = {k: [] for k in kinds}
        cpus: dict[str, list[float]] = {k: [] for k in kinds}
        before_env = None
        if args.before:
            before_env = dict(os.environ, PYTHONPATH=str(args.before.resolve()))
        for run in range(args.runs):
            out = folder / f"out-{run}"
            order = kinds[run % len(kinds):] + kinds[:run % len(kinds)]  # rotate
            for which in order:
                shutil.rmtree(out, ignore_errors=True)
                cmd = base_cmd if which == "a" else [
                    licrawl, "process", str(warc), "--out", str(out), "--workers", "1",
                    "--quiet", "--crawl-id", f"bench-{run}"]
                wall, cpu = timed(cmd, folder / f"log-{which}-{run}.txt",
                                  before_env if which == "b0" else None)
                times[which].append(wall)
                cpus[which].append(cpu)
            print(f"run {run + 1}: " + "  ".join(
                f"{k} {times[k][-1]:.2f}s (cpu {cpus[k][-1]:.2f})" for k in kinds)
                + f"  b/a {times['b'][-1] / times['a'][-1]:.3f}"
                + (f"  b0/a {times['b0'][-1] / times['a'][-1]:.3f}" if args.before else "")
                + f"  (load {loadavg()})", flush=True)
        if args.runs:
            base_log = (folder / "log-a-0.txt").read_text("utf-8").strip()
            proc_log = (folder / "log-b-0.txt").read_text("utf-8")
        if args.profile:
            profile_process(warc, folder / "out-profile", args.top)
    print(f"load average after: {loadavg()}")
    if not args.runs:
        return 0
    print(f"baseline says: {base_log}")
    print("licrawl process says: " + " | ".join(
        line.strip() for line in proc_log.splitlines()
        if line.startswith(("records", "rows", "errors"))))
    print(f"\n{'run (whole process)':<44} {'median s':>9} {'min s':>7} {'pages/s':>8} "
          f"{'cpu s':>7}")
    names = {"a": "a: warcio + trafilatura.bare_extraction",
             "b": "b: licrawl process --workers 1",
             "b0": "b0: the same, code of --before"}
    for which in kinds:
        med = statistics.median(times[which])
        print(f"{names[which]:<44} {med:9.2f} {min(times[which]):7.2f} {records / med:8.1f} "
              f"{statistics.median(cpus[which]):7.2f}")
    pairs = [b / a for a, b in zip(times["a"], times["b"], strict=True)]
    print(f"ratio b/a: median {statistics.median(times['b']) / statistics.median(times['a']):.3f}"
          f", min {min(times['b']) / min(times['a']):.3f}, "
          f"median of pairs {statistics.median(pairs):.3f}  (target <= 1.30); "
          f"cpu b/a (median) {statistics.median(cpus['b']) / statistics.median(cpus['a']):.3f}")
    if args.before:
        pairs0 = [b / a for a, b in zip(times["a"], times["b0"], strict=True)]
        print(f"ratio b0/a (before): median "
              f"{statistics.median(times['b0']) / statistics.median(times['a']):.3f}, "
              f"min {min(times['b0']) / min(times['a']):.3f}, "
              f"median of pairs {statistics.median(pairs0):.3f}; cpu b0/a (median) "
              f"{statistics.median(cpus['b0']) / statistics.median(cpus['a']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
