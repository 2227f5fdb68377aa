"""``licrawl report IN... --out FILE.html``: one HTML page that shows a corpus at a glance.

Also the ``--report`` option of ``crawl``, ``process``, ``filter`` and ``dedup``
(:func:`add_report_option`, :func:`reported`): after a run that succeeded they print how
to get the report of their output, or write it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

DESCRIPTION = """\
Read record shards (crawl, process, filter or dedup output: files, folders or globs) and
write one self-contained HTML page (no script, nothing loaded from the network) with a
chart and its table for: documents by license category and by license; the top hosts,
split by category; opt-outs per host (robots.txt AI agents, TDMRep, noai, Content-Usage);
license confidence and conflicts; the evidence kinds that decided the claims; for dedup
output, cluster sizes, copies that disagree about the license and removed copies per
host; and example documents per category. With --state, the crawl job's runs over time:
documents written, license changes, new opt-outs and pages disappeared per run (the last
50 runs), from the summary each run wrote when it ended.

Only the needed columns are read, batch by batch: memory does not grow with the number
of rows (per-host counts grow with the number of hosts; tables list the top 20).

exit status: 0 when the page was written, 2 for bad input or a bad --state (the message
names the file or the state).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report", help="one HTML page of a corpus's licenses, opt-outs, evidence and "
        "duplicates", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", metavar="IN",
                        help="shard files, folders (searched for *.parquet) or glob patterns")
    parser.add_argument("--out", required=True, metavar="FILE.html",
                        help="the HTML file to write (replaced if it exists)")
    parser.add_argument("--title", metavar="T", help="page title (default: the inputs)")
    parser.add_argument("--state", metavar="DIR",
                        help="the crawl state of the job (licrawl crawl --state DIR or "
                        "redis://HOST:PORT/DB?name=JOB): add its runs over time")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the report; prints where it went."""
    from crawler.stages.report.build import write_report
    from crawler.stages.runner import StageError
    from crawler.state.store import StateError

    try:
        result = write_report(args.inputs, args.out, title=args.title, state=args.state)
    except StageError as exc:
        print(f"licrawl report: error: {exc}", file=sys.stderr)
        return 2
    except StateError as exc:
        print(f"licrawl report: error: --state {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"licrawl report: error: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    print(f"report of {result.rows:,} documents from {result.files:,} shard files "
          f"({result.hosts:,} hosts) written to {result.path}")
    return 0


def add_report_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--report`` to a command with ``--out DIR`` whose ``DIR/data`` holds shards."""
    parser.add_argument("--report", action="store_true",
                        help="at the end, also write DIR/report.html (licrawl report of "
                        "DIR/data)")


def reported(command: str, run_command: Callable[[argparse.Namespace], int]
             ) -> Callable[[argparse.Namespace], int]:
    """``run_command`` followed, when it returns 0, by :func:`after_run`."""

    def run_then_report(args: argparse.Namespace) -> int:
        return int(run_command(args) or 0) or after_run(args, command, args.out)

    return run_then_report


def after_run(args: argparse.Namespace, command: str, out: str | Path) -> int:
    """At the end of ``command``'s run into ``out``: write ``out/report.html`` when
    ``--report`` was given (returns 2 when that fails), else print how to get it."""
    data, page = Path(out) / "data", Path(out) / "report.html"
    state = getattr(args, "state", None)  # crawl and filter --state: the runs over time too
    if not getattr(args, "report", False):
        also = f" --state {state}" if state is not None else ""
        print(f"report: licrawl report {data} --out {page}{also}")
        return 0
    from crawler.stages.report.build import write_report
    from crawler.stages.runner import StageError
    from crawler.state.store import StateError

    try:
        result = write_report([data], page, state=state)
    except (StageError, StateError, OSError) as exc:
        print(f"licrawl {command}: error: report: {exc}", file=sys.stderr)
        return 2
    print(f"report: {result.path}")
    return 0
