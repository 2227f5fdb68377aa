"""``licrawl process WARC... --out DIR``: detect licenses in already fetched pages."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crawler.cli.options import add_executor_options, open_executor
from crawler.cli.report import add_report_option, reported

DESCRIPTION = """\
Read WARC files (licrawl's own, Common Crawl's, any gzip or plain WARC), run license,
author and opt-out detection on every HTML response in worker processes, and write
document rows to DIR/data/ (zstd Parquet + SPDX document per shard) and one error record
per response that gave no row to DIR/errors/ (JSON Lines). robots.txt and tdmrep.json
responses found in any of the files are applied to the pages of their host (give a
Common Crawl robotstxt WARC beside the content WARCs to use it). Progress goes to stderr,
a summary to stdout.

exit status: 0 when the run completed, 2 for a missing or non-WARC input or a bad option.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``process`` subcommand."""
    parser = subparsers.add_parser(
        "process", help="detect licenses in the responses of WARC files",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warcs", nargs="+", type=Path, metavar="WARC",
                        help="WARC file(s), .warc or .warc.gz")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="output folder (rows in DIR/data/, error records in DIR/errors/)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="detection worker processes (default: CPU count, %(default)s)")
    parser.add_argument("--site-policy", type=Path, metavar="FILE",
                        help="site policy file: host or URL pattern -> SPDX license")
    parser.add_argument("--crawl-id", metavar="ID",
                        help="crawl_id of the rows (default: process-<UTC time>-<random>)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="seconds of detection per page before it is abandoned as a "
                        "timeout error (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress lines on stderr")
    add_executor_options(parser)
    add_report_option(parser)
    parser.set_defaults(func=reported("process", run))


def _fail(message: str) -> int:
    print(f"licrawl process: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Check the inputs, process the WARCs, print the summary."""
    if args.workers < 1:
        return _fail("--workers must be at least 1")
    if args.timeout <= 0:
        return _fail("--timeout must be positive")
    # The workers' fork server imports detection on one core while this process imports
    # the rest (WARC reading, Parquet, SPDX) on the other.
    from crawler.stages.pool import DETECT_PRELOAD, start_forkserver

    if args.executor == "local":
        start_forkserver(DETECT_PRELOAD)
    from crawler.site.user_policy import SitePolicy
    from crawler.stages.process import process_warcs
    from crawler.store.warc import WarcFormatError, check_warc
    try:
        for path in args.warcs:
            check_warc(path)
    except WarcFormatError as exc:
        return _fail(str(exc))
    site_policy = None
    if args.site_policy is not None:
        try:
            site_policy = SitePolicy.load(args.site_policy)
        except ValueError as exc:
            return _fail(str(exc))
    from crawler.stages.executors import ExecutorError

    try:
        with open_executor(args, "process", cpus=args.workers) as executor:
            summary = process_warcs(list(args.warcs), args.out, workers=args.workers,
                                    crawl_id=args.crawl_id, site_policy=site_policy,
                                    timeout=args.timeout, progress=not args.quiet,
                                    executor=executor)
    except ExecutorError as exc:
        return _fail(str(exc))
    print(summary.format())
    return 0
