"""``licrawl serve-demo``: serve the bundled demo site on 127.0.0.1, and crawl it (offline)."""

from __future__ import annotations

import argparse
import sys
import threading
from importlib import resources
from pathlib import Path

from crawler.cli.crawl import job_crawl_id, job_settings, run_crawl


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve-demo`` subcommand."""
    p = subparsers.add_parser(
        "serve-demo",
        help="serve the bundled demo site on 127.0.0.1; with --out, crawl it too",
        description="Serve a small bundled site of real-looking pages (licenses, robots.txt "
        "AI rules, tdmrep.json) on 127.0.0.1, with no network needed. With --out DIR, crawl "
        "it with `licrawl crawl` settings into DIR and stop; without, serve until Ctrl-C.",
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: any free)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="crawl the demo site into DIR, then exit")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="detection worker processes for the crawl (default: cores)")
    p.set_defaults(func=run)


def demo_root() -> Path:
    """The folder of the bundled demo site."""
    return Path(str(resources.files("crawler.demo.site")))


def run(args: argparse.Namespace) -> int:
    """Serve the demo site; crawl it when ``--out`` is given (into a new or empty folder:
    the site gets a new port each run, so a second crawl would be a different site)."""
    if args.out is not None and args.out.is_dir() and any(args.out.iterdir()):
        print(f"licrawl serve-demo: {args.out} is not empty; the demo crawls into a new "
              f"folder (remove it, or give another --out)", file=sys.stderr)
        return 2
    from crawler.demo.localsite import LocalSite, static_handler

    try:
        site = LocalSite(static_handler(demo_root()), port=args.port).start()
    except OSError as exc:
        print(f"licrawl serve-demo: cannot listen on port {args.port}: {exc.strerror}",
              file=sys.stderr)
        return 2
    try:
        print(f"demo site: {site.url}/", file=sys.stderr, flush=True)
        if args.out is None:
            threading.Event().wait()  # until Ctrl-C
            return 0
        jobdir = args.out / "job"
        settings = job_settings(args.out, jobdir, job_crawl_id(jobdir, None), args.workers)
        return run_crawl([site.url + "/"], spider="site", settings=settings)
    except KeyboardInterrupt:
        return 0
    finally:
        site.stop()
