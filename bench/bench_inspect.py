"""Cost of detection: ``crawler.detect.inspect`` against ``trafilatura.bare_extraction`` alone.

Both run in the same process on the same pages (the 75 labelled dev pages under
``tests/pages/devset``, decoded to str), interleaved page by page so that machine noise
hits both alike. The baseline is what a pipeline without licrawl would run anyway: main
text plus metadata (``with_metadata=True``, comments excluded). The figure that matters is
the ratio: the issue asks that detection cost at most 25% on top of extraction.

    python bench/bench_inspect.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import trafilatura

from crawler import inspect

PAGES = Path(__file__).resolve().parent.parent / "tests" / "pages" / "devset"


def _round(baseline, detection, pages: list[str]) -> tuple[float, float]:
    """One pass over the pages, each page timed with both functions back to back."""
    base = insp = 0.0
    for html in pages:
        start = time.perf_counter()
        baseline(html)
        middle = time.perf_counter()
        detection(html)
        insp += time.perf_counter() - middle
        base += middle - start
    return base, insp


def main() -> None:
    """Run the benchmark and print per-page times and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pages = [p.read_bytes().decode("utf-8", "replace") for p in sorted(PAGES.glob("*.html"))]
    size = sum(len(p) for p in pages) / 2**20

    def baseline(html: str) -> None:
        trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)

    def detection(html: str) -> None:
        inspect(html, url="https://example.org/page")

    baseline(pages[0])  # warm imports and caches on both sides
    detection(pages[0])
    base_runs, insp_runs = [], []
    for _ in range(args.rounds):
        base, insp = _round(baseline, detection, pages)
        base_runs.append(base)
        insp_runs.append(insp)
    base, insp = statistics.median(base_runs), statistics.median(insp_runs)
    n = len(pages)
    print(f"pages: {n} ({size:.1f} MiB of HTML), rounds: {args.rounds}, median of rounds")
    print(f"trafilatura.bare_extraction: {base / n * 1000:7.1f} ms/page  {n / base:6.1f} pages/s")
    print(f"crawler.inspect:             {insp / n * 1000:7.1f} ms/page  {n / insp:6.1f} pages/s")
    print(f"ratio inspect / bare_extraction: {insp / base:.2f}x "
          f"(detection adds {100 * (insp / base - 1):+.0f}%; target <= +25%)")


if __name__ == "__main__":
    main()
