"""Options every batch stage command shares (``filter``, ``dedup``, ``index``; the executor
options ``process`` too)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from crawler.stages import DEFAULT_BATCH_ROWS

if TYPE_CHECKING:
    from crawler.stages.executors import Executor


def add_stage_options(parser: argparse.ArgumentParser, *, overwrite_help: str,
                      jobs_help: str = "worker processes (default: one per CPU, at most one "
                      "per file)") -> None:
    """Add ``--overwrite``, ``--jobs``, ``--batch-rows`` and ``--quiet``."""
    parser.add_argument("--overwrite", action="store_true", help=overwrite_help)
    parser.add_argument("--jobs", type=int, metavar="N", help=jobs_help)
    parser.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS, metavar="N",
                        help=f"rows read at a time per worker (default {DEFAULT_BATCH_ROWS})")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_executor_options(parser)


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--executor {local,ray}`` and ``--ray-address``."""
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="where the tasks run: local worker processes (default), or a "
                        "Ray cluster (pip install 'licrawl[ray]'); with ray, inputs and "
                        "output must be on a path every node sees")
    parser.add_argument("--ray-address", metavar="ADDR",
                        help="Ray cluster to use (default: $RAY_ADDRESS, else a local Ray "
                        "instance started for the run with --jobs/--workers CPUs)")


def stage_option_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the shared stage options, or ``None``."""
    if args.jobs is not None and args.jobs < 1:
        return "--jobs must be at least 1"
    if args.batch_rows < 1:
        return "--batch-rows must be at least 1"
    return None


@contextmanager
def open_executor(args: argparse.Namespace, stage: str,
                  cpus: int | None = None) -> Iterator[Executor]:
    """The executor ``args`` ask for (closed after the block); ``cpus`` for a local Ray
    instance (default ``args.jobs``). Raises
    :class:`~crawler.stages.executors.ExecutorError` when Ray is missing or unreachable."""
    from crawler.stages.executors import make_executor, say_to_stderr

    quiet = getattr(args, "quiet", False)
    executor = make_executor(args.executor, jobs=cpus or getattr(args, "jobs", None),
                             ray_address=args.ray_address,
                             say=None if quiet else say_to_stderr(stage))
    try:
        yield executor
    finally:
        executor.close()
