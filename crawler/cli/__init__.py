"""The ``licrawl`` command line: parses arguments and hands them to the library."""

from __future__ import annotations

import argparse
import gc
import importlib
import sys

# Each subcommand lives in crawler/cli/<name>.py with register(subparsers) and run(args);
# register() imports nothing heavy (run() imports what the command uses), so --help is quick.
SUBCOMMANDS = ["inspect", "crawl", "frontier", "process", "filter", "dedup", "index", "trace",
               "serve-trace", "serve-demo", "report", "history"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="licrawl",
        description="Crawl pages and tell, for every document, who wrote it, under what "
        "license, and whether its owner opted out.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        module = importlib.import_module("crawler.cli." + name.replace("-", "_"))
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``licrawl`` command; its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


def console_main() -> int:
    """The ``licrawl`` console script (and ``python -m crawler.cli``): :func:`main`, then a
    quick exit.

    At exit Python clears its modules and runs the cyclic garbage collector over every
    object a command loaded (Scrapy, Twisted, pyarrow, pandas): 0.4-0.5 s of a one-page
    crawl. Every file a command writes is closed (and fsync-ed) before :func:`main`
    returns, so what is left is frozen (``gc.freeze``): freed by reference counting as the
    modules are cleared, never searched for cycles. Only at process end: :func:`main`
    itself (called by tests, many times in one process) does not freeze.
    """
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(console_main())
