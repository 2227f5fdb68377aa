"""``licrawl inspect``: what license, authors and opt-outs one saved page carries, and why."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from crawler.detect.extract import InspectError
from crawler.detect.inspect import inspect
from crawler.site.user_policy import SitePolicy, SitePolicyError

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
    """Inspect the page and print the summary or the JSON record; 2 on bad input."""
    try:
        headers = _headers(args.header)
        policy = SitePolicy.load(args.site_policy) if args.site_policy else None
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
        record = inspect(data, url=args.url, headers=headers, site_policy=policy)
    except (OSError, ValueError, SitePolicyError) as exc:
        kind = "not an HTML page" if isinstance(exc, InspectError) else "error"
        print(f"licrawl inspect: {kind}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(record, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(summary(record))
    return 0


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
    evidence = sorted(record["license_evidence"], key=lambda e: -e["weight"])
    if not evidence:
        lines.append("  (no license or rights signal on the page)")
    for ev in evidence:
        value = " ".join(str(ev["value"]).split())
        if len(value) > 90:
            value = value[:87] + "..."
        mark = " " if ev["weight"] > 0 else "x"
        lines.append(
            f" {mark} {ev['weight']:.2f}  {ev['kind']:<16} {ev['spdx']:<32} "
            f"{ev['where']:<22} {value}"
        )
    lines.append("  (x: seen but not about the page's text, weight 0; `where` says why)")
    return "\n".join(lines) + "\n"
