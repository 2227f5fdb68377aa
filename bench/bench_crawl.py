"""Crawl benchmark: licrawl vs a bare Scrapy spider on a local site; peak memory by size.

Serves a synthetic site of N real-looking pages on 127.0.0.1 (a tree: page k links to pages
10k+1 .. 10k+10, and to the home page), then

1. crawls it with a bare Scrapy spider that only fetches and follows links (no robots.txt,
   no WARC, no detection), delays off: the baseline pages/s;
2. crawls it with ``licrawl crawl`` (robots.txt, WARC, detection in workers, shards),
   delays off and the same concurrency: pages/s and the ratio to the baseline; with
   ``--free-detection`` also with a detection function that does nothing
   (:mod:`noop_inspect`): how fast the crawl process itself can go. Each crawl's CPU time is
   split between the crawl process, the workers' fork server and each worker;
3. crawls sites of ``--pages`` and ``--big-pages`` pages with licrawl and prints the peak
   RSS (sampled from /proc) of the crawl process and of its largest detection worker for
   each (it must not grow with the crawl), and, for the big crawl, the RSS every
   ``--trace-every`` pages (current and peak so far): a plateau, not a slope;
4. prints the size of the big crawl's frontier on disk per URL seen (the seen-set and the
   queue live there, not in the crawl process's memory).

Usage: ``.venv/bin/python bench/bench_crawl.py [--pages 2000] [--big-pages 20000]
[--trace-every 2000] [--repeat N] [--free-detection] [-s NAME=VALUE ...]``
(``-s``: a setting for the licrawl crawls).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import scrapy
from scrapy.linkextractors import LinkExtractor

from crawler.demo.localsite import LocalSite, Reply

sys.path.insert(0, str(Path(__file__).parent))
from proctree import cpu_seconds, descendants, parent_of  # noqa: E402

FANOUT = 10
HTML = [("Content-Type", "text/html; charset=utf-8")]
PARAGRAPH = ("<p>The survey team walked the transect at dawn and recorded every bird heard "
             "or seen within fifty metres of the path, noting the habitat and the weather. "
             "Numbers of wrens and robins were stable, while chiffchaffs arrived a week "
             "earlier than in the previous year.</p>\n")
LICENSES = ["https://creativecommons.org/licenses/by/4.0/",
            "https://creativecommons.org/licenses/by-sa/4.0/", None]
COMMON = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s",
          "CONCURRENT_REQUESTS=32", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s",
          "LOG_LEVEL=WARNING"]


def synthetic_site(pages: int) -> LocalSite:
    """A site of ``pages`` article pages at ``/p/0`` .. ``/p/{pages-1}`` (``/`` = ``/p/0``)."""

    def handle(path: str) -> Reply | None:
        if path == "/robots.txt":
            return Reply(200, [("Content-Type", "text/plain")], b"User-agent: *\nAllow: /\n")
        if path == "/":
            path = "/p/0"
        if not path.startswith("/p/"):
            return None
        k = int(path[3:])
        if k >= pages:
            return None
        children = range(FANOUT * k + 1, min(FANOUT * k + FANOUT + 1, pages))
        links = "".join(f'<li><a href="/p/{c}">Survey note {c}</a></li>' for c in children)
        license_url = LICENSES[k % len(LICENSES)]
        footer = (f'<a rel="license" href="{license_url}">License</a>' if license_url
                  else "© 2024 The Survey Team")
        body = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Survey "
                f"note {k}</title><meta name=author content='Ann Lee'></head><body><header>"
                f"<a href='/'>Home</a></header><main><article><h1>Survey note {k}</h1>"
                f"{PARAGRAPH * 6}<ul>{links}</ul></article></main><footer>{footer}"
                f"</footer></body></html>")
        return Reply(200, HTML, body.encode())

    return LocalSite(handle)


class FetchOnlySpider(scrapy.Spider):
    """The baseline: fetch pages and follow their links, nothing else."""

    name = "fetch-only"

    def __init__(self, start_url: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.start_url = start_url
        self.links = LinkExtractor()

    async def start(self):  # type: ignore[no-untyped-def]
        """The home page."""
        yield scrapy.Request(self.start_url)

    def parse(self, response):  # type: ignore[no-untyped-def]
        """Follow every link."""
        for link in self.links.extract_links(response):
            yield response.follow(link.url)


def run_baseline(url: str) -> None:
    """Child process: crawl ``url`` with the bare spider."""
    from scrapy.crawler import AsyncCrawlerProcess

    settings = dict(pair.split("=", 1) for pair in COMMON[1::2])
    settings.update({"ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False})
    process = AsyncCrawlerProcess(settings)
    process.crawl(FetchOnlySpider, start_url=url)
    process.start()


def rss_mib(pid: int) -> int:
    """Resident set size of process ``pid`` in MiB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1]) // 1024


@dataclass
class Run:
    """One timed child process: wall seconds, peak RSS (MiB) of the process and of its
    largest descendant, its stdout, and the RSS trace by pages served."""

    seconds: float
    rss: int
    workers: int
    stdout: str
    trace: list[tuple[int, int, int, int]] = field(default_factory=list)
    """(pages served, RSS now, peak RSS so far, largest worker now), every N pages."""
    cpu: dict[int, float] = field(default_factory=dict)
    """CPU seconds of the process and each descendant (last sampled: a tail of up to
    0.2 s is missed)."""
    parents: dict[int, int] = field(default_factory=dict)

    def cpu_split(self, root: int) -> tuple[float, float, list[float]]:
        """CPU seconds of the crawl process, of its direct children (the fork server)
        and of each process below those (the detection workers)."""
        children = [p for p, parent in self.parents.items() if parent == root]
        below = [p for p in self.cpu if p != root and p not in children]
        return (self.cpu.get(root, 0.0), sum(self.cpu.get(p, 0.0) for p in children),
                sorted((self.cpu[p] for p in below), reverse=True))

    def cpu_line(self) -> str:
        """The CPU split as one line."""
        main, server, workers = self.cpu_split(self.pid)
        if not workers:
            return f"CPU {main:.1f} s"
        return (f"CPU {main:.1f} s in the crawl process, {server:.1f} s fork server, "
                f"{' + '.join(f'{w:.1f}' for w in workers)} s detection workers "
                f"({main + server + sum(workers):.1f} s in all)")

    pid: int = 0


def timed(cmd: list[str], site: LocalSite | None = None, every: int = 0,
          env: dict[str, str] | None = None) -> Run:
    """Run ``cmd``, sampling RSS and CPU time every 0.2 s; with ``site`` and ``every``,
    also note the RSS each time ``every`` more pages have been served."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env)
    peaks = [0, 0]
    trace: list[tuple[int, int, int, int]] = []
    cpu: dict[int, float] = {}
    parents: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            below = descendants(proc.pid)
            for pid in [proc.pid, *below]:
                used = cpu_seconds(pid)
                if used is not None:
                    cpu[pid] = used
                if pid not in parents and (parent := parent_of(pid)) is not None:
                    parents[pid] = parent
            rss = rss_mib(proc.pid)
            workers = max([0, *(rss_mib(p) for p in below)])
            peaks[0], peaks[1] = max(peaks[0], rss), max(peaks[1], workers)
            if site is not None and every and rss:
                served = pages_served(site)
                if served >= every * (len(trace) + 1):
                    trace.append((served, rss, peaks[0], workers))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout = proc.stdout.read() if proc.stdout else ""
    proc.wait()
    done.set()
    sampler.join()
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return Run(seconds, peaks[0], peaks[1], stdout, trace, cpu, parents, proc.pid)


def pages_served(site: LocalSite) -> int:
    """Page requests the site has answered so far (robots.txt not counted)."""
    return sum(r.path != "/robots.txt" for r in list(site.log))


def licrawl_crawl(site: LocalSite, out: Path, extra: list[str], every: int = 0,
                  free_detection: bool = False) -> Run:
    """``licrawl crawl`` of ``site`` into ``out``, delays off, ``extra`` settings
    (``NAME=VALUE``); RSS noted every ``every`` pages. ``free_detection``: the workers run
    :mod:`noop_inspect` instead of detection."""
    settings = [arg for pair in extra for arg in ("-s", pair)]
    env = None
    if free_detection:
        settings += ["-s", "LICRAWL_INSPECT_FN=noop_inspect.inspect"]
        path = os.environ.get("PYTHONPATH")
        bench = str(Path(__file__).parent)
        env = {**os.environ, "PYTHONPATH": bench + (os.pathsep + path if path else "")}
    return timed([sys.executable, "-m", "crawler.cli", "crawl", site.url + "/", "--out",
                  str(out), *COMMON, "-s", "LICRAWL_PROGRESS_INTERVAL=0", *settings],
                 site, every, env)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--big-pages", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="pairs of baseline and licrawl crawls, alternated (median ratio)")
    parser.add_argument("--free-detection", action="store_true",
                        help="in each pair, also crawl with detection replaced by a no-op "
                        "(bench/noop_inspect.py): the crawl process's own ceiling")
    parser.add_argument("--trace-every", type=int, default=2000, metavar="N",
                        help="note the big crawl's RSS every N pages (0: no trace)")
    parser.add_argument("-s", "--set", dest="settings", action="append", default=[],
                        metavar="NAME=VALUE", help="a setting for the licrawl crawls "
                        "(repeatable), e.g. to compare with Scrapy's default")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; workers: default (cores)")
    ratios = []
    free: list[float] = []
    for attempt in range(args.repeat):  # alternated, so that a slow moment hits both
        with synthetic_site(args.pages) as site, tempfile.TemporaryDirectory() as tmp:
            base = timed([sys.executable, __file__, "--baseline-run", site.url + "/"])
            served = pages_served(site)
            small = licrawl_crawl(site, Path(tmp) / "out", args.settings)
            rows = next(line for line in small.stdout.splitlines() if line.startswith("rows"))
            print(f"baseline (bare Scrapy, fetch only): {args.pages} pages in "
                  f"{base.seconds:.1f}s = {args.pages / base.seconds:.1f} pages/s, peak RSS "
                  f"{base.rss} MiB ({served} page requests); {base.cpu_line()}")
            print(f"licrawl crawl: {args.pages} pages in {small.seconds:.1f}s = "
                  f"{args.pages / small.seconds:.1f} pages/s ({rows.split()[-1]} rows); "
                  f"{small.cpu_line()}")
            ratios.append(base.seconds / small.seconds)
            print(f"ratio licrawl / baseline pages/s (pair {attempt + 1}): {ratios[-1]:.2f}")
            if args.free_detection:
                noop = licrawl_crawl(site, Path(tmp) / "noop", args.settings,
                                     free_detection=True)
                free.append(base.seconds / noop.seconds)
                print(f"licrawl crawl, detection a no-op: {noop.seconds:.1f}s, ratio "
                      f"{free[-1]:.2f}; {noop.cpu_line()}")
    print(f"ratio licrawl / baseline pages/s: median {statistics.median(ratios):.2f} of "
          f"{len(ratios)} pairs (min {min(ratios):.2f}, max {max(ratios):.2f})")
    if free:
        print(f"ratio with detection a no-op (the crawl process's own ceiling): median "
              f"{statistics.median(free):.2f} (min {min(free):.2f}, max {max(free):.2f})")
    with synthetic_site(args.big_pages) as site, tempfile.TemporaryDirectory() as tmp:
        big = licrawl_crawl(site, Path(tmp) / "out", args.settings, args.trace_every)
        print(f"licrawl crawl: {args.big_pages} pages in {big.seconds:.1f}s = "
              f"{args.big_pages / big.seconds:.1f} pages/s")
        frontier = sum(f.stat().st_size for f in (Path(tmp) / "out" / "job").glob("frontier*"))
    if big.trace:
        print(f"RSS of the {args.big_pages}-page crawl by pages fetched (MiB): crawl process "
              "now / peak so far, largest detection worker now")
        for pages, rss, peak, workers in big.trace:
            print(f"  {pages:>7} pages: {rss:>4} / {peak:>4}, worker {workers:>4}")
    print(f"peak RSS of the crawl process: {small.rss} MiB at {args.pages} pages, "
          f"{big.rss} MiB at {args.big_pages} pages (ratio {big.rss / small.rss:.2f})")
    half = next((t for t in big.trace if t[0] >= args.big_pages // 2), None)
    if half is not None:
        print(f"peak RSS growth over the second half of the {args.big_pages}-page crawl: "
              f"{half[2]} MiB at {half[0]} pages -> {big.rss} MiB at the end "
              f"({big.rss - half[2]:+d} MiB)")
    print(f"peak RSS of the largest detection worker: {small.workers} MiB at {args.pages} "
          f"pages, {big.workers} MiB at {args.big_pages} pages")
    if frontier:
        print(f"frontier on disk (seen-set, queue, per-URL state): {frontier / 2**20:.1f} MiB "
              f"after {args.big_pages} pages ({frontier / args.big_pages:.0f} B/URL), not in "
              f"the crawl process's memory")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--baseline-run":
        run_baseline(sys.argv[2])
    else:
        main()
