"""``licrawl index IN... --out INDEX``: a replication index for ``licrawl trace``."""

from __future__ import annotations

import argparse
import sys

from crawler.cli.options import add_stage_options, open_executor, stage_option_error

DESCRIPTION = """\
Build a replication index over the text of record shards (crawl, process, filter or dedup
output), for `licrawl trace` and `licrawl serve-trace`:

  INDEX/index.json     format version, word rule, shards, indexed input files
  INDEX/shard-NNNNN/   a suffix array over the word ids of its documents, the words'
                       hashes, and per document what a trace report needs (id, url,
                       title, authors, copyright, license, category, confidence,
                       attribution line, WARC file and record id)

Words are normalized (case, punctuation and whitespace folded; each CJK character is a
word). Index shards hold about --shard-mb MiB of text each and are built in parallel;
building one takes about 40 bytes of memory per word (~1.5 GiB at the default size).
A new index is written to a temporary folder renamed into place when complete; --add
builds shards for more input and adds them to an existing index, which readers see only
once every new shard is in place. An input file already in the index is refused.

exit status: 0 when the index was built, 2 for bad input or a bad option (nothing written).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``index`` subcommand."""
    parser = subparsers.add_parser(
        "index", help="build a replication index for `licrawl trace`",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", metavar="IN",
                        help="shard files, folders (searched for *.parquet) or glob patterns")
    parser.add_argument("--out", required=True, metavar="INDEX",
                        help="index folder (must not exist or be empty, see --overwrite "
                        "and --add)")
    parser.add_argument("--add", action="store_true",
                        help="add the inputs to the existing index at --out as new shards")
    parser.add_argument("--shard-mb", type=int, default=256, metavar="MB",
                        help="text per index shard in MiB (default 256)")
    add_stage_options(parser, overwrite_help="replace an existing folder (only once the new "
                      "index is done)", jobs_help="worker processes (default: one per CPU, "
                      "at most one per index shard)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the index; prints a summary on stdout, progress on stderr."""
    from crawler.stages.executors import ExecutorError
    from crawler.stages.index.stage import build_index
    from crawler.stages.runner import StageError

    try:
        if stage_option_error(args) or args.shard_mb < 1:
            raise StageError(stage_option_error(args) or "--shard-mb must be at least 1")
        with open_executor(args, "index") as executor:
            report = build_index(args.inputs, args.out, add=args.add, overwrite=args.overwrite,
                                 jobs=args.jobs, shard_text_bytes=args.shard_mb << 20,
                                 batch_rows=args.batch_rows, progress=not args.quiet,
                                 executor=executor)
    except (StageError, ExecutorError) as exc:
        print(f"licrawl index: error: {exc}", file=sys.stderr)
        return 2
    verb = "added to" if report["added"] else "built"
    print(f"index {verb} {report['index']}: {report['documents_added']:,} documents, "
          f"{report['words_added']:,} words in {report['shards_built']} new shard(s) "
          f"({report['bytes_per_word'] or 0} bytes per word, "
          f"{report['words_per_second']:,} words/s)")
    print(f"the index now holds {report['documents']:,} documents, {report['words']:,} "
          f"words in {report['shards']} shard(s); query it with "
          f"`licrawl trace --index {report['index']} FILE`")
    return 0
