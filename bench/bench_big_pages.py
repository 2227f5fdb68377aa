"""Cost of ``crawler.detect.inspect`` on big and pathological pages: time and peak memory.

Generated pages, each inspected in a fresh subprocess (so that peak RSS is that case's):

* ``text-N``: an article of N MiB of ordinary paragraphs (1, 5, 10 and 20 MiB; 10 MiB is
  the crawl's body size limit), with a CC BY 4.0 statement in the footer;
* ``links-N``: a short article followed by N ``<a rel="license">`` links (1k, 10k, 50k),
  all to CC BY-SA 4.0, plus 500 distinct ones (one kind and place, many values);
* ``badges-N``: N license links wrapping a badge image and no text;
* ``nested-N``: an article wrapped in N nested ``<div>`` elements (deep nesting). libxml2,
  the parser under lxml and trafilatura, stops at a depth of 255: what is nested deeper
  (the whole article of ``nested-5000``) is not read, so that case shows bounded cost, not
  text found.

For each case it prints the page size, the seconds of one ``inspect`` call (the best of
``--rounds``), the time per MiB (so that linear growth shows as a flat column), the peak
RSS of the process and the RSS it had before the page was built (imports only), the
license found and the number of evidence items kept.

    python bench/bench_big_pages.py [--rounds N] [--cases text-1,links-50000,...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CASES = (
    "text-1",
    "text-5",
    "text-10",
    "text-20",
    "links-1000",
    "links-10000",
    "links-50000",
    "badges-50000",
    "nested-200",
    "nested-5000",
)
_WORDS = [
    "harbour",
    "town",
    "storm",
    "stone",
    "piers",
    "walkers",
    "summer",
    "letters",
    "drawings",
    "photographs",
    "works",
    "hand",
    "years",
    "river",
    "bridge",
    "market",
    "square",
    "church",
    "tower",
    "bells",
    "morning",
    "evening",
    "council",
    "records",
    "archive",
    "merchants",
    "ships",
    "cargo",
    "wool",
    "salt",
    "grain",
    "mill",
    "water",
    "wheel",
    "road",
    "coach",
]
_HEAD = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
    "<meta name='author' content='Jane Doe'></head><body><header><nav><a href='/'>Home</a>"
    "</nav></header><article><h1>{title}</h1><p class='byline'>By Jane Doe</p>"
)
_FOOT = (
    "</article><footer><p>Text is licensed under "
    "<a href='https://creativecommons.org/licenses/by/4.0/'>CC BY 4.0</a>.</p>"
    "</footer></body></html>"
)


def _paragraph(i: int) -> str:
    """One paragraph of about 600 characters, different from its neighbours."""
    words = [_WORDS[(i * 7 + k * 13 + k * k) % len(_WORDS)] for k in range(90)]
    return f"<p>Paragraph {i}: " + " ".join(words).capitalize() + ".</p>\n"


def _article(size: int) -> str:
    parts, length, i = [], 0, 0
    while length < size:
        p = _paragraph(i)
        parts.append(p)
        length += len(p)
        i += 1
    return "".join(parts)


def build(case: str) -> str:
    """The HTML of one generated case (see the module docstring)."""
    kind, n = case.rsplit("-", 1)
    count = int(n)
    if kind == "text":
        return _HEAD.format(title="A long article") + _article(count * 2**20) + _FOOT
    if kind == "links":
        same = (
            "<li><a rel='license' href='https://creativecommons.org/licenses/by-sa/4.0/'>"
            "CC BY-SA 4.0</a></li>\n"
        )
        distinct = "".join(
            f"<li><a rel='license' href='https://example.org/licenses/{i}'>terms {i}</a></li>\n"
            for i in range(500)
        )
        return (
            _HEAD.format(title="Many license links")
            + _article(20_000)
            + "</article><ul class='licenses'>"
            + same * count
            + distinct
            + "</ul><article>"
            + _FOOT
        )
    if kind == "badges":
        badge = (
            "<li><a rel='license' href='https://creativecommons.org/licenses/by-sa/4.0/'>"
            "<img src='https://i.creativecommons.org/l/by-sa/4.0/88x31.png'></a></li>\n"
        )
        return (
            _HEAD.format(title="Many license badges")
            + _article(20_000)
            + "</article><ul class='badges'>"
            + badge * count
            + "</ul><article>"
            + _FOOT
        )
    if kind == "nested":
        body = _article(200_000)
        return (
            _HEAD.format(title="Deeply nested")
            + "<div class='wrap'>" * count
            + body
            + "</div>" * count
            + _FOOT
        )
    raise SystemExit(f"unknown case {case!r}")


def run_case(case: str, rounds: int) -> dict[str, object]:
    """Build and inspect one case in this process; the figures as a dict."""
    from crawler import inspect

    inspect(build("links-10").encode("utf-8"))  # imports, caches, the language model
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    html = build(case)
    best = float("inf")
    record: dict[str, object] = {}
    for _ in range(rounds):
        start = time.perf_counter()
        record = inspect(html.encode("utf-8"), url="https://example.org/page")
        best = min(best, time.perf_counter() - start)
    return {
        "case": case,
        "mib": len(html.encode("utf-8")) / 2**20,
        "seconds": best,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mib": rss_before,
        "license": record["license"],
        "evidence": len(record["license_evidence"]),
        "text_chars": len(record["text"]),
    }


def main() -> None:
    """Run every case in its own subprocess and print one line per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_case(args.one, args.rounds)))
        return
    print(
        f"{'case':<13}{'MiB':>7}{'seconds':>9}{'s/MiB':>8}{'peak RSS':>10}{'imports':>9}"
        f"  {'license':<14}{'evidence':>9}{'text chars':>12}"
    )
    for case in args.cases.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--one", case, "--rounds", str(args.rounds)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{r['case']:<13}{r['mib']:>7.2f}{r['seconds']:>9.2f}{r['seconds'] / r['mib']:>8.2f}"
            f"{r['peak_rss_mib']:>9.0f}M{r['rss_before_mib']:>8.0f}M  {r['license']:<14}"
            f"{r['evidence']:>9}{r['text_chars']:>12}",
            flush=True,
        )


if __name__ == "__main__":
    main()
