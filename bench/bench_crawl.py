"""Crawl benchmark: licrawl vs a bare Scrapy spider on a local site; peak memory by size.

Serves a synthetic site of N real-looking pages on 127.0.0.1 (a tree: page k links to pages
10k+1 .. 10k+10, and to the home page), then

1. crawls it with a bare Scrapy spider that only fetches and follows links (no robots.txt,
   no WARC, no detection), delays off: the baseline pages/s;
2. crawls it with ``licrawl crawl`` (robots.txt, WARC, detection in workers, shards),
   delays off and the same concurrency: pages/s and the ratio to the baseline;
3. crawls sites of ``--pages`` and ``--big-pages`` pages with licrawl and prints the peak
   RSS (sampled from /proc) of the crawl process and of its largest detection worker for
   each (it must not grow with the crawl).

Usage: ``.venv/bin/python bench/bench_crawl.py [--pages 2000] [--big-pages 20000]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import scrapy
from scrapy.linkextractors import LinkExtractor

from crawler.localsite import LocalSite, Reply

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


def descendants(pid: int) -> list[int]:
    """Ids of every process below ``pid`` (the detection workers and their fork server)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def timed(cmd: list[str]) -> tuple[float, int, int, str]:
    """Run ``cmd``: wall seconds, peak RSS (MiB) of the process itself and of its largest
    descendant (sampled every 0.2 s), stdout."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    peaks = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peaks[0] = max(peaks[0], rss_mib(proc.pid))
            peaks[1] = max([peaks[1], *(rss_mib(p) for p in descendants(proc.pid))])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout = proc.stdout.read() if proc.stdout else ""
    proc.wait()
    done.set()
    sampler.join()
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return seconds, peaks[0], peaks[1], stdout


def licrawl_crawl(url: str, out: Path) -> tuple[float, int, int, str]:
    """``licrawl crawl`` of ``url`` into ``out``, delays off."""
    return timed([sys.executable, "-m", "crawler.cli", "crawl", url + "/", "--out", str(out),
                  *COMMON, "-s", "LICRAWL_PROGRESS_INTERVAL=0"])


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--big-pages", type=int, default=20000)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; workers: default (cores)")
    with synthetic_site(args.pages) as site, tempfile.TemporaryDirectory() as tmp:
        base_s, base_rss, _, _ = timed([sys.executable, __file__, "--baseline-run",
                                        site.url + "/"])
        served = sum(r.path != "/robots.txt" for r in site.log)
        lic_s, lic_rss, lic_workers, summary = licrawl_crawl(site.url, Path(tmp) / "out")
        rows = next(line for line in summary.splitlines() if line.startswith("rows"))
        print(f"baseline (bare Scrapy, fetch only): {args.pages} pages in {base_s:.1f}s = "
              f"{args.pages / base_s:.1f} pages/s, peak RSS {base_rss} MiB "
              f"({served} page requests)")
        print(f"licrawl crawl: {args.pages} pages in {lic_s:.1f}s = {args.pages / lic_s:.1f} "
              f"pages/s ({rows.split()[-1]} rows)")
        print(f"ratio licrawl / baseline pages/s: {base_s / lic_s:.2f}")
    with synthetic_site(args.big_pages) as site, tempfile.TemporaryDirectory() as tmp:
        big_s, big_rss, big_workers, _ = licrawl_crawl(site.url, Path(tmp) / "out")
        print(f"licrawl crawl: {args.big_pages} pages in {big_s:.1f}s = "
              f"{args.big_pages / big_s:.1f} pages/s")
    print(f"peak RSS of the crawl process: {lic_rss} MiB at {args.pages} pages, "
          f"{big_rss} MiB at {args.big_pages} pages (ratio {big_rss / lic_rss:.2f})")
    print(f"peak RSS of the largest detection worker: {lic_workers} MiB at {args.pages} "
          f"pages, {big_workers} MiB at {args.big_pages} pages")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--baseline-run":
        run_baseline(sys.argv[2])
    else:
        main()
