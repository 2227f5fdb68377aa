"""Speed of crawler.licenses.find_license_mentions on page text, against baselines.

Text: the copied dev pages in tests/pages/devset with tags stripped, repeated up to the
requested size. Baselines in the same run: ``str.lower()`` over the text (a floor: the scan
lower-cases once) and one case-insensitive search for "creative commons" (the cheapest
single-pattern scan one could do). Also times spdx_from_url and spdx_from_name per call.

    .venv/bin/python bench/bench_licenses.py               # 1 MB
    .venv/bin/python bench/bench_licenses.py --mb 4 --repeat 5
"""

from __future__ import annotations

import argparse
import html
import re
import time
from pathlib import Path

from crawler.licenses import find_license_mentions, spdx_from_name, spdx_from_url

PAGES = Path(__file__).resolve().parent.parent / "tests" / "pages" / "devset"


def page_text(size: int) -> str:
    """About ``size`` characters of visible text from the dev pages."""
    parts = []
    for page in sorted(PAGES.glob("*.html")):
        raw = page.read_text(encoding="utf-8", errors="replace")
        raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
        parts.append(re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw))))
    text = " ".join(parts)
    return (text * (size // max(len(text), 1) + 1))[:size]


def best_of(repeat: int, fn, *args) -> float:
    """Fastest of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0, help="text size in MB (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, best kept")
    args = parser.parse_args()

    text = page_text(int(args.mb * 1_000_000))
    cc = re.compile(r"creative\s+commons", re.I)
    find_license_mentions("warm up CC BY 4.0")
    lower = best_of(args.repeat, str.lower, text)
    single = best_of(args.repeat, lambda t: list(cc.finditer(t)), text)
    scan = best_of(args.repeat, find_license_mentions, text)
    found = len(find_license_mentions(text))
    print(f"text: {len(text):,} chars from {PAGES}")
    print(f"baseline str.lower():            {lower * 1000:8.1f} ms")
    print(f"baseline one re.I search:        {single * 1000:8.1f} ms")
    print(f"find_license_mentions:           {scan * 1000:8.1f} ms  ({found} mentions)")
    print(f"  per MB:                        {scan * 1000 / args.mb:8.1f} ms/MB")
    print(f"  ratio to str.lower():          {scan / lower:8.1f}x")
    print(f"  ratio to one re.I search:      {scan / single:8.1f}x")

    urls = ["http://creativecommons.org/licenses/by-sa/3.0/de/",
            "https://i.creativecommons.org/l/by-nc/4.0/88x31.png",
            "https://example.com/blog/2020/01/post/", "https://www.gnu.org/licenses/fdl-1.3.html"]
    names = ["Creative Commons Namensnennung 3.0 Österreich", "CC BY-SA 4.0", "MIT License",
             "Some other text"]
    n = 20_000
    t_url = best_of(args.repeat, lambda: [spdx_from_url(u) for u in urls * (n // len(urls))])
    t_name = best_of(args.repeat, lambda: [spdx_from_name(s) for s in names * (n // len(names))])
    print(f"spdx_from_url:                   {t_url / n * 1e6:8.2f} us/call")
    print(f"spdx_from_name:                  {t_name / n * 1e6:8.2f} us/call")


if __name__ == "__main__":
    main()
