"""``licrawl dedup IN... --out DIR``: one row per duplicate cluster, every copy kept on record."""

from __future__ import annotations

import argparse
import sys

from crawler.cli.options import add_stage_options, open_executor, stage_option_error
from crawler.cli.report import add_report_option, reported

DESCRIPTION = """\
Find exact (same text_sha1) and near duplicates (MinHash + LSH over word n-grams of the
normalized text, each candidate pair confirmed by its estimated Jaccard similarity) in
record shards, and write:

  DIR/data/*.parquet   one row per cluster, the kept copy, with dup_cluster, dup_count,
                       dup_licenses, dup_license_conflict, dup_urls, and the union of the
                       copies' opt-outs (an SPDX document per shard in DIR/spdx/)
  DIR/copies.parquet   every input row, kept or not: its URL, cluster, similarity to the
                       kept copy, license, authors and WARC record
  DIR/report.json      counts, cluster sizes, license conflicts, top hosts of removed copies

Copies disagree about the license when their license values, NOASSERTION left aside, are
not all the same SPDX expression; `licrawl filter` excludes such rows unless
--allow-dup-conflict. Everything is written to a temporary folder renamed into place when
complete. Progress goes to stderr, the summary to stdout.

keep rules (which copy of a cluster is kept; every rule ends in the smallest id):
  license        best supported license claim (page-level grant > site-level > site
                 policy, then higher confidence), then the likely original (canonical URL
                 is itself, earliest published, earliest fetched)   [default]
  original       the likely original first, then the license claim
  first-fetched  earliest fetched_at

exit status: 0 when the run completed, 2 for bad input or a bad option (nothing written).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``dedup`` subcommand."""
    parser = subparsers.add_parser(
        "dedup", help="cluster exact and near duplicates, keep every copy's provenance",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", metavar="IN",
                        help="shard files, folders (searched for *.parquet) or glob patterns "
                        "(crawl, process or filter output)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output folder (must not exist or be empty, see --overwrite)")
    parser.add_argument("--threshold", type=float, default=0.8, metavar="J",
                        help="estimated Jaccard similarity at which two texts are near "
                        "duplicates (default 0.8)")
    parser.add_argument("--ngram", type=int, default=5, metavar="N",
                        help="words per n-gram (default 5)")
    parser.add_argument("--num-perm", type=int, default=112, metavar="K",
                        help="MinHash hashes per text (default 112)")
    parser.add_argument("--bands", type=int, default=14, metavar="B",
                        help="LSH bands; --num-perm must be a multiple (default 14, so 8 "
                        "rows per band)")
    parser.add_argument("--keep", default="license",
                        choices=("license", "original", "first-fetched"),
                        help="which copy of a cluster is kept (default license; see below)")
    add_stage_options(parser, overwrite_help="replace an existing output folder (only once "
                      "the new one is done)")
    add_report_option(parser)
    parser.set_defaults(func=reported("dedup", run))


def run(args: argparse.Namespace) -> int:
    """Run dedup; prints the summary on stdout, progress on stderr."""
    from crawler.stages.dedup.minhash import DedupParams, DedupSettingsError
    from crawler.stages.dedup.report import format_summary
    from crawler.stages.dedup.stage import dedup_shards
    from crawler.stages.executors import ExecutorError
    from crawler.stages.runner import StageError

    try:
        if error := stage_option_error(args):
            raise DedupSettingsError(error)
        params = DedupParams(ngram=args.ngram, num_perm=args.num_perm, bands=args.bands,
                             threshold=args.threshold)
        with open_executor(args, "dedup") as executor:
            report = dedup_shards(args.inputs, args.out, params, keep=args.keep,
                                  overwrite=args.overwrite, jobs=args.jobs,
                                  batch_rows=args.batch_rows, progress=not args.quiet,
                                  executor=executor)
    except (StageError, DedupSettingsError, ExecutorError) as exc:
        print(f"licrawl dedup: error: {exc}", file=sys.stderr)
        return 2
    print(format_summary(report))
    print(f"\nwritten to {args.out}: data/ (kept rows), copies.parquet (every copy), "
          "report.json")
    return 0
