"""``licrawl crawl``: crawl seeds politely into shards, WARC evidence and error records."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from crawler.cli.report import add_report_option, reported
from crawler.fetch.job import job_crawl_id  # noqa: F401 - serve_demo imports it from here

SPIDERS = ("site", "sitemap", "urls")
#: Exit status of a run whose crawl state another run holds (EX_TEMPFAIL: try again later).
EXIT_LOCKED = 75


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
    p.add_argument("--state", metavar="DIR",
                   help="a scheduled job's crawl state, kept across runs (a folder, or "
                   "redis://HOST:PORT/DB?name=JOB shared by a --frontier fleet): every URL an "
                   "earlier run fetched is asked again conditionally (If-None-Match, "
                   "If-Modified-Since; 304s are kept as WARC revisit records), only new and "
                   "changed pages give rows, and each URL's license and opt-outs are "
                   "recorded per run (licrawl history DIR). Two runs on one state never "
                   f"overlap: the second exits at once with status {EXIT_LOCKED}")
    p.add_argument("--revisit-after", default="0", metavar="DURATION",
                   help="with --state: skip URLs an earlier run fetched less than DURATION "
                   "ago (0, 90s, 30m, 12h, 7d, 2w; default 0: revisit every known URL; seeds "
                   "are always fetched; a sitemap lastmod after the last fetch overrides it)")
    p.add_argument("--summary-json", type=Path, metavar="FILE",
                   help="write the run's summary as JSON to FILE at the end (rows, errors "
                   "by reason, new/changed/unchanged/removed pages, license changes, "
                   "opt-outs, duration), for schedulers")
    p.add_argument("-s", "--set", dest="settings", action="append", default=[],
                   metavar="NAME=VALUE", help="any Scrapy or LICRAWL_* setting (repeatable)")
    add_report_option(p)
    p.set_defaults(func=reported("crawl", run))


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


def job_dir(args: argparse.Namespace) -> Path:
    """The folder of the crawl's state: ``--jobdir``, else ``OUT/job``."""
    return args.jobdir if args.jobdir is not None else args.out / "job"


def job_settings(out: Path, jobdir: Path, crawl_id: str, workers: int | None
                 ) -> dict[str, Any]:
    """The settings every crawl of a job needs: where it writes, where its state is kept
    (Scrapy's ``JOBDIR`` follows, see :class:`crawler.fetch.job.JobAddon`), its id (empty:
    the job's own, see :func:`crawler.fetch.job.prepare_job`) and, when given, the worker
    count."""
    settings: dict[str, Any] = {"LICRAWL_OUT_DIR": str(out), "LICRAWL_JOB_DIR": str(jobdir),
                                "LICRAWL_CRAWL_ID": crawl_id}
    if workers is not None:
        settings["LICRAWL_WORKERS"] = workers
    return settings


def crawl_settings(args: argparse.Namespace, user_settings: dict[str, str]) -> dict[str, Any]:
    """The setting overrides of this run: options first, then the ``-s`` pairs."""
    overrides = job_settings(args.out, job_dir(args), args.crawl_id or "", args.workers)
    if args.site_policy is not None:
        overrides["LICRAWL_SITE_POLICY"] = str(args.site_policy)
    if args.depth is not None:
        overrides["DEPTH_LIMIT"] = args.depth
    if args.contact_url:
        overrides["LICRAWL_CONTACT_URL"] = args.contact_url
    if args.frontier:
        overrides.update({"LICRAWL_FRONTIER": args.frontier,
                          "LICRAWL_CRAWL_NAME": args.crawl_name,
                          "LICRAWL_FRONTIER_TIMEOUT": args.frontier_timeout})
    if args.state is not None:
        from crawler.fetch.recrawl import parse_duration

        overrides["LICRAWL_STATE_DIR"] = str(args.state)
        overrides["LICRAWL_REVISIT_AFTER"] = parse_duration(args.revisit_after)
    if args.summary_json is not None:
        overrides["LICRAWL_SUMMARY_JSON"] = str(args.summary_json)
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
    from crawler.fetch.job import prepare_job
    from crawler.state.store import StateError, StateLocked

    try:
        settings = crawl_settings(args, user_settings)
    except ValueError as exc:
        return _fail(f"--revisit-after: {exc}")
    _start_detection_imports(settings)
    try:
        start = prepare_job(settings)
    except OSError as exc:
        return _fail(f"cannot write {exc.filename}: {exc.strerror}")
    except StateLocked as exc:
        print(f"licrawl crawl: {exc}: not started", file=sys.stderr)
        return EXIT_LOCKED
    except (FrontierError, StateError, ValueError) as exc:
        return _fail(str(exc))
    if start.message:
        print(start.message, file=sys.stderr, flush=True)
    settings.update(start.settings())
    return run_crawl(seeds, spider=args.spider, settings=settings, max_pages=args.max_pages,
                     allow_hosts=args.allow_host)


def _start_detection_imports(settings: dict[str, Any]) -> None:
    """Start the detection workers' fork server, which imports detection (about a second
    of CPU) on the other core while this process prepares the job and imports Scrapy. Not
    in a recrawl, where most pages may be unchanged: the pool starts it when a page needs
    it. Starting it again does nothing."""
    from crawler.stages.pool import DETECT_PRELOAD, start_forkserver
    from crawler.state.store import STATE_FILE

    state = settings.get("LICRAWL_STATE_DIR")
    if not (state and (Path(state) / STATE_FILE).is_file()):
        start_forkserver(DETECT_PRELOAD)


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
    _start_detection_imports(settings)
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
    process.crawl(crawler, seeds=seeds, max_pages=max_pages, allow_hosts=allow_hosts or [])
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    pipeline = crawler.get_item_pipeline(CrawlPipeline) if crawler.engine else None
    if pipeline is None or "finish_reason" not in stats:
        print("licrawl crawl: the crawl could not start (see the log above)", file=sys.stderr)
        return 1
    print(pipeline.summary.format())  # completed by the pipeline when it closed
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
