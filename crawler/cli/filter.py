"""``licrawl filter``: write the subset of shards a policy allows, with attribution and a report."""

from __future__ import annotations

import argparse
import sys

from crawler.cli.options import add_stage_options, open_executor, stage_option_error
from crawler.cli.report import add_report_option, reported
from crawler.stages.filter.policy import (
    DEFAULT_POLICY,
    SUBSETS,
    PolicyError,
    load_policy,
    preset_names,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``filter`` subcommand."""
    parser = subparsers.add_parser(
        "filter",
        help="subset shards by license policy, with SPDX, attribution manifest and report",
        description="Read record shards and write the subset a policy allows (same schema, "
        "an SPDX document per shard), an attribution manifest (attribution.parquet, "
        "ATTRIBUTION.txt) and report.json with every exclusion counted by reason.",
    )
    parser.add_argument("inputs", nargs="+", metavar="IN",
                        help="shard files, folders (searched for *.parquet) or glob patterns")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output folder (must not exist or be empty, see --overwrite)")
    parser.add_argument("--subset", choices=SUBSETS, default="licensed-only",
                        help="licensed-only: what the policy allows (default); attributed: "
                        "documents that can be credited (author or copyright holder, source "
                        "URL, license status), judged by a policy too when --policy is given")
    parser.add_argument("--policy", metavar="NAME|FILE",
                        help=f"preset ({', '.join(preset_names())}) or policy file (.toml); "
                        f"default for licensed-only: {DEFAULT_POLICY}")
    parser.add_argument("--min-confidence", type=float, metavar="X",
                        help="minimum license_confidence (overrides the policy's)")
    parser.add_argument("--allow-optout", action="store_true",
                        help="keep rows with a TDMRep reservation or AI opt-out signal")
    parser.add_argument("--allow-conflict", action="store_true",
                        help="keep rows whose license signals conflict")
    parser.add_argument("--allow-dup-conflict", action="store_true",
                        help="keep rows of licrawl dedup output whose copies disagree about "
                        "the license (default: excluded as dup-conflict)")
    parser.add_argument("--state", metavar="DIR",
                        help="the crawl state of the job that collected the shards (licrawl "
                        "crawl --state DIR or redis://HOST:PORT/DB?name=JOB): exclude "
                        "documents whose URL has since been removed (404/410) or opted out "
                        "(reasons removed, "
                        "later-optout:<signal>); each document keeps its own license")
    parser.add_argument("--ignore-later-changes", action="store_true",
                        help="with --state: keep those documents (still counted in the "
                        "report)")
    parser.add_argument("--excluded", metavar="DIR",
                        help="also write the excluded rows here, with a filter_reason column")
    add_stage_options(parser, overwrite_help="replace existing output folders (only once "
                      "the new ones are done)")
    add_report_option(parser)
    parser.set_defaults(func=reported("filter", run))


def run(args: argparse.Namespace) -> int:
    """Run the filter; prints the summary table on stdout, progress on stderr."""
    from crawler.stages.executors import ExecutorError
    from crawler.stages.filter.report import format_table
    from crawler.stages.filter.stage import FilterError, Rules, filter_shards
    from crawler.stages.runner import StageError
    from crawler.state.store import StateError

    try:
        if error := stage_option_error(args):
            raise FilterError(error)
        if args.ignore_later_changes and args.state is None:
            raise FilterError("--ignore-later-changes needs --state DIR")
        policy = (load_policy(args.policy)
                  if args.policy is not None or args.subset == "licensed-only" else None)
        rules = Rules.build(args.subset, policy, min_confidence=args.min_confidence,
                            allow_optout=args.allow_optout, allow_conflict=args.allow_conflict,
                            allow_dup_conflict=args.allow_dup_conflict,
                            state_dir=args.state,
                            ignore_later_changes=args.ignore_later_changes)
        with open_executor(args, "filter") as executor:
            report = filter_shards(
                args.inputs, args.out, rules, excluded_dir=args.excluded,
                overwrite=args.overwrite, jobs=args.jobs, batch_rows=args.batch_rows,
                progress=not args.quiet, executor=executor)
    except (StageError, PolicyError, ExecutorError, StateError) as exc:
        print(f"licrawl filter: error: {exc}", file=sys.stderr)
        return 2
    print(format_table(report))
    return 0
