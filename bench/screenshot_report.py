"""The README's screenshot of ``licrawl report``: the report page of the bundled demo
crawl, rendered in headless Chromium.

Crawls the demo site (``licrawl serve-demo --out``) unless ``--crawl`` names a crawl
folder already made, writes its report (``licrawl report``), opens the file in Debian's
chromium through chromedriver (Selenium) and saves a screenshot of the top of the page
(``--height`` pixels; 0: the whole page).

    python bench/screenshot_report.py [--out docs/report.png] [--width 1280] [--height 2400]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chromium import headless_chromium

REPO = Path(__file__).resolve().parent.parent


def licrawl(*args: str, cwd: Path | None = None) -> None:
    """Run ``licrawl ARGS`` with this interpreter (in ``cwd``); stop on failure."""
    result = subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True,
                            text=True, check=False, cwd=cwd)
    if result.returncode != 0:
        sys.exit(f"licrawl {' '.join(args)} failed:\n{result.stderr[-3000:]}")


def main() -> None:
    """Crawl, write the report, render it, save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report.png")
    parser.add_argument("--crawl", type=Path, help="an existing demo crawl folder")
    parser.add_argument("--width", type=int, default=1280, help="window width in pixels")
    parser.add_argument("--height", type=int, default=2400,
                        help="screenshot height in pixels (0: the whole page)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="licrawl-shot-") as tmp:
        work = Path(tmp)
        crawl = args.crawl or work / "crawl"
        if args.crawl is None:
            licrawl("serve-demo", "--out", str(crawl), "--workers", "1")
        page = work / "report.html"
        licrawl("report", crawl.name, "--out", str(page), "--title",
                "Riverside Naturalists (demo crawl)", cwd=crawl.resolve().parent)

        driver = headless_chromium(work / "profile", args.width)
        try:
            driver.get(page.as_uri())
            charts = driver.execute_script("return document.querySelectorAll('svg.chart').length")
            full = driver.execute_script("return document.documentElement.scrollHeight")
            height = min(full, args.height) if args.height else full
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": args.width, "height": height, "deviceScaleFactor": 1,
                "mobile": False})
            time.sleep(0.3)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
            print(f"{charts} charts; saved {args.out} ({args.width}x{height} of {full})")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
