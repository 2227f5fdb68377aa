"""The ``licrawl`` command line: parses arguments and hands them to the library."""

from __future__ import annotations

import argparse
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
    """Entry point of the ``licrawl`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
