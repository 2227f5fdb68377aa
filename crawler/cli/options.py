"""Options every batch stage command shares (``filter``, ``dedup``, ``index``)."""

from __future__ import annotations

import argparse

from crawler.stages import DEFAULT_BATCH_ROWS


def add_stage_options(parser: argparse.ArgumentParser, *, overwrite_help: str,
                      jobs_help: str = "worker processes (default: one per CPU, at most one "
                      "per file)") -> None:
    """Add ``--overwrite``, ``--jobs``, ``--batch-rows`` and ``--quiet``."""
    parser.add_argument("--overwrite", action="store_true", help=overwrite_help)
    parser.add_argument("--jobs", type=int, metavar="N", help=jobs_help)
    parser.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS, metavar="N",
                        help=f"rows read at a time per worker (default {DEFAULT_BATCH_ROWS})")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def stage_option_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the shared stage options, or ``None``."""
    if args.jobs is not None and args.jobs < 1:
        return "--jobs must be at least 1"
    if args.batch_rows < 1:
        return "--batch-rows must be at least 1"
    return None
