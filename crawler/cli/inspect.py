"""``licrawl inspect``: what license, authors and opt-outs one saved page carries, and why."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: Evidence lines ``licrawl inspect`` prints before summing up the rest.
SHOWN_EVIDENCE = 40
_EPILOG = """examples:
  licrawl inspect page.html --url https://example.org/post
  curl -s https://example.org/ | licrawl inspect - --url https://example.org/
  licrawl inspect page.html --json --header 'Link: <https://example.org/l>; rel="license"'
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` subcommand."""
    parser = subparsers.add_parser(
        "inspect",
        help="detect license, authors and opt-outs of one saved HTML page",
        description="Read one HTML page (a file, or - for standard input) and print its "
        "license (SPDX), category, confidence, every piece of evidence with where it was "
        "found, the authors and the opt-out signals.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE|-", help="HTML file, or - to read standard input")
    parser.add_argument("--url", help="the page's URL (resolves relative links, names the source)")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'Name: value'",
        help="a response header, e.g. 'Link: <...>; rel=\"license\"' (repeatable)",
    )
    parser.add_argument("--site-policy", metavar="FILE", help="site policy file (TOML or JSON)")
    parser.add_argument("--json", action="store_true", help="print the full record as JSON")
    parser.set_defaults(func=run)


def _headers(raw: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in raw:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header wants 'Name: value', got {item!r}")
        pairs.append((name.strip(), value.strip()))
    return pairs


def run(args: argparse.Namespace) -> int:
    """Inspect the page and print the summary or the JSON record; 2 on bad input.

    Every error message names what it is about: the page file (or standard input), the
    site policy file, or the ``--header`` option."""
    from crawler.detect.extract import InspectError
    from crawler.detect.inspect import inspect
    from crawler.site.user_policy import SitePolicy, SitePolicyError

    source = "standard input" if args.file == "-" else args.file
    try:
        headers = _headers(args.header)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        policy = SitePolicy.load(args.site_policy) if args.site_policy else None
    except (OSError, ValueError, SitePolicyError) as exc:
        reason = str(exc) if isinstance(exc, SitePolicyError) else _reason(exc)
        named = reason if args.site_policy in reason else f"{args.site_policy}: {reason}"
        return _fail(f"site policy error: {named}")
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
        record = inspect(data, url=args.url, headers=headers, site_policy=policy)
    except InspectError as exc:
        return _fail(f"{source}: not an HTML page: {exc}")
    except (OSError, ValueError) as exc:
        return _fail(f"{source}: error: {_reason(exc)}")
    if args.json:
        json.dump(record, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(summary(record))
    return 0


def _reason(exc: Exception) -> str:
    """The message of ``exc`` without a repeated file name (``OSError`` carries one)."""
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _fail(message: str) -> int:
    print(f"licrawl inspect: {message}", file=sys.stderr)
    return 2


def summary(record: dict[str, Any]) -> str:
    """A readable summary of an inspect record."""
    lines = [
        f"license     {record['license']}  ({record['license_category']}, "
        f"confidence {record['license_confidence']:.2f}"
        + (", CONFLICT" if record["license_conflict"] else "")
        + ")",
        f"title       {record['title'] or '-'}",
        f"authors     {', '.join(record['authors']) or '-'}",
        f"copyright   {record['copyright'] or '-'}",
        f"attribution {record['attribution'] or '-'}",
        f"lang        {record['lang'] or '-'}   published {record['published'] or '-'}   "
        f"text {len(record['text'])} chars",
        f"opt-outs    {', '.join(record['ai_optout']) or 'none'}"
        + (
            f"   (TDM reserved, policy {record['tdm_policy'] or '-'})"
            if record["tdm_reserved"]
            else ""
        ),
        "evidence:",
    ]
    lines += evidence_lines(record["license_evidence"])
    lines.append("  (x: seen but not about the page's text, weight 0; `where` says why)")
    return "\n".join(lines) + "\n"


def evidence_lines(evidence: list[dict[str, Any]]) -> list[str]:
    """The evidence, strongest first, at most :data:`SHOWN_EVIDENCE` lines; what is left
    out (by the record's own bound, see :func:`crawler.core.evidence.bound_evidence`, or
    here) is summed up as "... and 49,990 more" lines."""
    from crawler.core.evidence import Evidence, Kind, omitted_count

    if not evidence:
        return ["  (no license or rights signal on the page)"]
    shown = [ev for ev in evidence if ev["kind"] != Kind.OMITTED]
    shown.sort(key=lambda e: -e["weight"])
    lines = []
    for ev in shown[:SHOWN_EVIDENCE]:
        value = " ".join(str(ev["value"]).split())
        if len(value) > 90:
            value = value[:87] + "..."
        mark = " " if ev["weight"] > 0 else "x"
        lines.append(
            f" {mark} {ev['weight']:.2f}  {ev['kind']:<16} {ev['spdx']:<32} "
            f"{ev['where']:<22} {value}"
        )
    for ev in evidence:
        if ev["kind"] == Kind.OMITTED:
            kind, count = omitted_count(Evidence(**ev))
            lines.append(f"   ... and {count:,} more {kind} at {ev['where']}")
    if len(shown) > SHOWN_EVIDENCE:
        lines.append(f"   ... and {len(shown) - SHOWN_EVIDENCE:,} more (see --json)")
    return lines
