"""``licrawl trace --index INDEX [FILE|-]``: whose text a model output reproduces, and under
what license."""

from __future__ import annotations

import argparse
import json
import sys

DESCRIPTION = """\
Read a text (a model output) from FILE or standard input and report, against a replication
index (`licrawl index`):

  verbatim spans      every maximal span of at least --min-words words (default 50)
                      that occurs in the corpus, matching normalized words (case,
                      punctuation and whitespace folded), with its position in the text
  near-verbatim       passages of at least --min-words words that one document holds
                      with a few words changed, inserted or dropped: exact 8-word seeds
                      shared with the document, chained along about the same alignment
                      (drift of at most 10 words, gaps of at most 20), covering at least
                      70% of the passage
  sources             for each span at most --max-sources documents (rarest spans
                      first), each with url, title, authors, license, category,
                      confidence, the attribution line of the filter's manifest, and a
                      verdict: how many words it reproduces and what its license asks
                      (credit, share alike, no commercial use, not licensed for reuse,
                      or license unknown)

--json prints the same as one JSON object: input_words, spans (start/end character
offsets, words, kind, occurrences, source_ids) and sources.

exit status: 0 whether or not something matched; 2 for a missing or invalid index or a
text that cannot be traced (empty, binary, not UTF-8, too long).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``trace`` subcommand."""
    from crawler.trace import DEFAULT_MAX_CHARS, DEFAULT_MAX_SOURCES, DEFAULT_MIN_WORDS

    parser = subparsers.add_parser(
        "trace", help="tell whose text a model output reproduces, under what license",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, metavar="INDEX",
                        help="index folder built by `licrawl index`")
    parser.add_argument("file", nargs="?", default="-", metavar="FILE",
                        help="the text to trace (UTF-8); - or nothing reads standard input")
    parser.add_argument("--min-words", type=int, default=DEFAULT_MIN_WORDS, metavar="N",
                        help=f"shortest span reported, in words (default {DEFAULT_MIN_WORDS})")
    parser.add_argument("--max-sources", type=int, default=DEFAULT_MAX_SOURCES, metavar="N",
                        help=f"source documents listed per span (default "
                        f"{DEFAULT_MAX_SOURCES})")
    parser.add_argument("--no-near", action="store_true",
                        help="verbatim spans only (no near-verbatim passages)")
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, metavar="N",
                        help=f"longest text traced at once (default {DEFAULT_MAX_CHARS:,})")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="threads searching the index shards (default 1; measured slower "
                        "than 1 on 2 cores, see the README)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def _read(name: str) -> str:
    """The text of FILE or stdin; raises ValueError with a clear message."""
    try:
        data = sys.stdin.buffer.read() if name == "-" else open(name, "rb").read()  # noqa: SIM115
    except OSError as exc:
        raise ValueError(f"{name}: cannot read ({exc.strerror or exc})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{'standard input' if name == '-' else name}: not UTF-8 text "
                         f"(byte {exc.start}); is it a binary file?") from exc


def run(args: argparse.Namespace) -> int:
    """Trace the text; the report (or JSON) on stdout, errors on stderr."""
    from crawler.trace import SEED_WORDS
    from crawler.trace.engine import IndexOpenError, TraceIndex, TraceInputError
    from crawler.trace.render import render

    if (args.min_words < SEED_WORDS or args.max_sources < 1 or args.jobs < 1
            or args.max_chars < 1):
        print(f"licrawl trace: error: --min-words must be at least {SEED_WORDS}, --max-sources, "
              "--jobs and --max-chars at least 1", file=sys.stderr)
        return 2
    try:
        index = TraceIndex.open(args.index, jobs=args.jobs)
    except IndexOpenError as exc:
        print(f"licrawl trace: error: {exc}", file=sys.stderr)
        return 2
    try:
        text = _read(args.file)
        result = index.trace(text, min_words=args.min_words, max_sources=args.max_sources,
                             near=not args.no_near, max_chars=args.max_chars).to_json()
    except (ValueError, TraceInputError) as exc:
        print(f"licrawl trace: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        sys.stdout.write(render(result, text))
    return 0
