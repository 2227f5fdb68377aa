"""``licrawl crawl``: crawl seeds politely into shards, WARC evidence and error records."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SPIDERS = ("site", "sitemap", "urls")
#: File in the job folder that keeps the crawl id across resumes.
JOB_STATE_FILE = "licrawl-job.json"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``crawl`` subcommand."""
    p = subparsers.add_parser(
        "crawl",
        help="crawl seeds into Parquet shards, WARC evidence and error records",
        description="Crawl SEED URLs politely (robots.txt, Crawl-delay, AutoThrottle) and "
        "write one row per document to DIR/data/*.parquet (SPDX documents: DIR/spdx/), every "
        "response to DIR/warc/*.warc.gz and every URL without a row to DIR/errors/*.jsonl. Exit "
        "status 0 when the crawl ran, whatever the pages returned.",
    )
    p.add_argument("seeds", nargs="*", metavar="SEED", help="start URL(s)")
    p.add_argument("--seeds", dest="seeds_file", type=Path, metavar="FILE",
                   help="file of start URLs, one a line (# comments allowed)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    p.add_argument("--spider", choices=SPIDERS, default="site",
                   help="site: follow links within the hosts in scope (default); sitemap: "
                   "pages listed in the sites' sitemaps; urls: the seeds only")
    p.add_argument("--max-pages", type=int, default=0, metavar="N",
                   help="request at most N pages (0: no limit)")
    p.add_argument("--depth", type=int, default=None, metavar="N",
                   help="follow links at most N steps from the seeds (Scrapy DEPTH_LIMIT)")
    p.add_argument("--allow-host", action="append", default=[], metavar="H",
                   help="host in scope (repeatable); default: the seeds' hosts")
    p.add_argument("--site-policy", type=Path, metavar="FILE",
                   help="host/URL pattern -> SPDX license file (TOML or JSON)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="detection worker processes (default: the number of cores)")
    p.add_argument("--jobdir", type=Path, metavar="DIR",
                   help="keep the crawl's state (its frontier) here instead of DIR/job; "
                   "after any stop (Ctrl-C, SIGTERM, kill -9, power cut) the same command "
                   "resumes the crawl")
    p.add_argument("--frontier", metavar="URL",
                   help="share the crawl with other processes through this Redis "
                   "(redis://HOST:PORT/DB): every process started with the same --frontier "
                   "and --crawl-name takes part in one crawl (one queue, seen-set, page "
                   "budget and per-host politeness); stopping all and starting again resumes")
    p.add_argument("--crawl-name", default="licrawl", metavar="NAME",
                   help="the crawl's name in the --frontier Redis (default: licrawl)")
    p.add_argument("--frontier-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="with --frontier: how long Redis errors are retried (with backoff) "
                   "before the process stops cleanly (default: 60)")
    p.add_argument("--contact-url", metavar="URL",
                   help="contact URL shown in the user agent")
    p.add_argument("--crawl-id", metavar="ID",
                   help="crawl identifier stored in every row (default: generated, kept "
                   "across resumes)")
    p.add_argument("-s", "--set", dest="settings", action="append", default=[],
                   metavar="NAME=VALUE", help="any Scrapy or LICRAWL_* setting (repeatable)")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"licrawl crawl: {message}", file=sys.stderr)
    return 2


def read_seeds(args: argparse.Namespace) -> list[str]:
    """Seeds from the arguments, then from ``--seeds FILE`` (blank lines and ``#`` skipped)."""
    seeds = [s for s in args.seeds if s.strip()]
    if args.seeds_file is not None:
        for line in args.seeds_file.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                seeds.append(line)
    return seeds


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` strings as a dict; ``ValueError`` for a pair without ``=``."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"bad setting {pair!r}, expected NAME=VALUE")
        out[name.strip()] = value
    return out


def job_crawl_id(jobdir: Path, requested: str | None) -> str:
    """The crawl id: ``requested``, the one stored in ``jobdir``, or a new one (stored).

    The file is replaced atomically, so a crash never leaves half of it.
    """
    state_file = jobdir / JOB_STATE_FILE
    if requested is None and state_file.is_file():
        return str(json.loads(state_file.read_text(encoding="utf-8"))["crawl_id"])
    crawl_id = requested or f"crawl-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_name(state_file.name + ".tmp")
    tmp.write_text(json.dumps({"crawl_id": crawl_id}), encoding="utf-8")
    os.replace(tmp, state_file)
    return crawl_id


def job_dir(args: argparse.Namespace) -> Path:
    """The folder of the crawl's state: ``--jobdir``, else ``OUT/job``."""
    return args.jobdir if args.jobdir is not None else args.out / "job"


def resume_message(crawl_id: str, out: Path, jobdir: Path) -> str | None:
    """Prepare the job's frontier for this run (see :mod:`crawler.fetch.resume`) and say
    what the crawl resumes from; ``None`` for a new crawl.

    Raises :class:`~crawler.fetch.frontier.FrontierError` when the frontier cannot be used.
    """
    from crawler.fetch.frontier import FRONTIER_FILE, SqliteFrontier
    from crawler.fetch.resume import prepare

    with SqliteFrontier(jobdir / FRONTIER_FILE) as frontier:
        state = prepare(frontier, out)
    if not state.started:
        return None
    counts = state.counts
    if counts.unfinished == 0 and counts.queued == 0:
        return (f"crawl {crawl_id} finished before ({counts.done} done): only seeds it has "
                f"not seen are fetched")
    lines = [f"resuming crawl {crawl_id}: {counts.done} done, {counts.queued} queued, "
             f"{counts.fetched} to rebuild from WARC"]
    if state.recovered_warcs:
        lines.append(f"  recovered {len(state.recovered_warcs)} unfinished WARC file(s)")
    return "\n".join(lines)


def job_settings(out: Path, jobdir: Path, crawl_id: str, workers: int | None
                 ) -> dict[str, Any]:
    """The settings every crawl of a job needs: where it writes, where its state is kept
    (``JOBDIR`` too: Scrapy's spider state, and Scrapy's own scheduler when one is chosen
    with ``-s SCHEDULER=...``), its id and, when given, the worker count."""
    settings: dict[str, Any] = {"LICRAWL_OUT_DIR": str(out), "LICRAWL_JOB_DIR": str(jobdir),
                                "JOBDIR": str(jobdir), "LICRAWL_CRAWL_ID": crawl_id}
    if workers is not None:
        settings["LICRAWL_WORKERS"] = workers
    return settings


def crawl_settings(
    args: argparse.Namespace, crawl_id: str, user_settings: dict[str, str]
) -> dict[str, Any]:
    """The setting overrides of this run: options first, then the ``-s`` pairs."""
    overrides = job_settings(args.out, job_dir(args), crawl_id, args.workers)
    if args.site_policy is not None:
        overrides["LICRAWL_SITE_POLICY"] = str(args.site_policy)
    if args.depth is not None:
        overrides["DEPTH_LIMIT"] = args.depth
    if args.contact_url:
        overrides["LICRAWL_CONTACT_URL"] = args.contact_url
    overrides.update(user_settings)
    return overrides


def run(args: argparse.Namespace) -> int:
    """Run the crawl; print progress while it runs and a summary at the end."""
    try:
        seeds = read_seeds(args)
        user_settings = parse_settings(args.settings)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return _fail(str(exc))
    if not seeds:
        return _fail("no seeds: give SEED arguments or --seeds FILE")
    if args.max_pages < 0 or (args.depth is not None and args.depth < 0):
        return _fail("--max-pages and --depth must be >= 0")
    if args.workers is not None and args.workers < 1:
        return _fail("--workers must be >= 1")
    if args.site_policy is not None:
        from crawler.site.user_policy import SitePolicy

        try:
            SitePolicy.load(args.site_policy)
        except ValueError as exc:
            return _fail(f"--site-policy: {exc}")
    from crawler.fetch.frontier import FrontierError

    if args.frontier:
        return run_fleet(args, seeds, user_settings)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        crawl_id = job_crawl_id(job_dir(args), args.crawl_id)
        message = resume_message(crawl_id, args.out, job_dir(args))
    except OSError as exc:
        return _fail(f"cannot write {exc.filename}: {exc.strerror}")
    except FrontierError as exc:
        return _fail(str(exc))
    if message:
        print(message, file=sys.stderr, flush=True)
    return run_crawl(
        seeds, spider=args.spider, settings=crawl_settings(args, crawl_id, user_settings),
        max_pages=args.max_pages, allow_hosts=args.allow_host,
    )


def fleet_join(args: argparse.Namespace) -> tuple[str, str]:
    """Join the fleet's frontier: the crawl id (the fleet's, stored on first start) and what
    this process starts from. Before the crawl starts, as :func:`resume_message` does for a
    frontier of one's own: changes a run kept while Redis was away are applied, WARC files
    of dead processes recovered, entries whose result is in ``--out`` marked done, and the
    requests of processes dead for longer than the lease timeout queued again.

    Raises :class:`~crawler.fetch.frontier.FrontierError` when Redis cannot be used.
    """
    from crawler.fetch.fleet import RedisFrontier
    from crawler.fetch.resume import reconcile, recover_warcs, remove_leftovers

    jobdir = job_dir(args)
    with RedisFrontier(args.frontier, args.crawl_name, give_up_after=args.frontier_timeout
                       ) as frontier:
        frontier.ping()
        generated = f"crawl-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        crawl_id = frontier.setdefault_meta("crawl_id", args.crawl_id or generated)
        if args.crawl_id and args.crawl_id != crawl_id:
            print(f"licrawl crawl: crawl {args.crawl_name!r} has id {crawl_id}; "
                  f"--crawl-id {args.crawl_id} ignored", file=sys.stderr)
        replayed = frontier.replay_spills(jobdir) if jobdir.is_dir() else 0
        warc_dir = args.out / "warc"
        recovered = recover_warcs(warc_dir) if warc_dir.is_dir() else []
        remove_leftovers(args.out)
        reconciled = reconcile(frontier, args.out)
        requeued = frontier.requeue_leases()
        counts = frontier.counts()
    lines = [f"crawl {crawl_id} on {args.frontier} as {args.crawl_name!r}: {counts.done} done, "
             f"{counts.queued} queued, {counts.leased + counts.fetched} in other processes"]
    for n, what in ((replayed, "change(s) kept while Redis was away applied"),
                    (len(recovered), "unfinished WARC file(s) recovered"),
                    (reconciled, "result(s) found in the output marked done"),
                    (requeued, "request(s) of stopped processes queued again")):
        if n:
            lines.append(f"  {n} {what}")
    return crawl_id, "\n".join(lines)


def run_fleet(args: argparse.Namespace, seeds: list[str], user_settings: dict[str, str]
              ) -> int:
    """``licrawl crawl --frontier``: this process as a member of a crawl fleet."""
    from crawler.fetch.frontier import FrontierError

    try:
        args.out.mkdir(parents=True, exist_ok=True)
        crawl_id, message = fleet_join(args)
    except OSError as exc:
        return _fail(f"cannot write {exc.filename}: {exc.strerror}")
    except (FrontierError, ValueError) as exc:
        return _fail(str(exc))
    print(message, file=sys.stderr, flush=True)
    settings = crawl_settings(args, crawl_id, {})
    del settings["JOBDIR"]  # no per-process Scrapy state: the budget is the fleet's
    settings.update({"LICRAWL_FRONTIER": args.frontier, "LICRAWL_CRAWL_NAME": args.crawl_name,
                     "LICRAWL_FRONTIER_TIMEOUT": args.frontier_timeout})
    settings.update(user_settings)
    return run_crawl(seeds, spider=args.spider, settings=settings, max_pages=args.max_pages,
                     allow_hosts=args.allow_host)


def run_crawl(
    seeds: list[str],
    *,
    spider: str,
    settings: dict[str, Any],
    max_pages: int = 0,
    allow_hosts: list[str] | None = None,
) -> int:
    """Run one crawl in this process (it owns the reactor) and print its summary.

    Returns 0 when the crawl ran, 1 when it could not start.
    """
    from crawler.stages.pool import DETECT_PRELOAD, start_forkserver

    # The detection workers' fork server imports detection on the other core meanwhile.
    start_forkserver(DETECT_PRELOAD)
    # Imported here, not at module level: `licrawl --help` must not load Scrapy.
    from scrapy.crawler import AsyncCrawlerProcess

    from crawler.fetch.pipeline import CrawlPipeline
    from crawler.fetch.settings import build_settings
    from crawler.spiders.site import SiteSpider
    from crawler.spiders.sitemap import SitemapSpider
    from crawler.spiders.urls import UrlsSpider

    spider_cls = {"site": SiteSpider, "sitemap": SitemapSpider, "urls": UrlsSpider}[spider]
    process = AsyncCrawlerProcess(build_settings(settings))
    crawler = process.create_crawler(spider_cls)
    started = time.monotonic()
    process.crawl(crawler, seeds=seeds, max_pages=max_pages, allow_hosts=allow_hosts or [])
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    pipeline = crawler.get_item_pipeline(CrawlPipeline) if crawler.engine else None
    if pipeline is None or "finish_reason" not in stats:
        print("licrawl crawl: the crawl could not start (see the log above)", file=sys.stderr)
        return 1
    summary = pipeline.summary
    summary.records = int(stats.get("response_received_count", 0))
    summary.site_files = int(stats.get("licrawl/site_files", 0))
    summary.seconds = time.monotonic() - started
    print(summary.format())
    reason = stats["finish_reason"]
    if reason == "frontier_unavailable" or stats.get("licrawl/frontier_down"):
        print(f"stopped: the frontier is unavailable ({stats.get('licrawl/frontier_down')}); "
              f"every page fetched is written, and what Redis could not take is kept in "
              f"{settings.get('LICRAWL_JOB_DIR')}/frontier-spill-*.pickle: run the same "
              f"command again once Redis is back", file=sys.stderr)
        return 3
    if reason != "finished":
        print(f"stopped: {reason} (run the same command again to resume)")
    return 0
