"""The README's screenshot of ``licrawl serve-trace``: a model output that copies two
documents of the bundled demo site under different licenses, traced in headless Chromium.

Crawls the demo site (``licrawl serve-demo --out``), indexes it (``licrawl index``), serves
the index with the serve-trace app (uvicorn in a thread on a free port of 127.0.0.1), pastes
a text into the page, clicks Trace and saves a full-page screenshot. The text copies one
article verbatim (CC BY 4.0) and another with a few words changed (a near-verbatim passage
of a CC BY-SA 4.0 article). Needs Debian's chromium and chromium-driver and Selenium.

    python bench/screenshot_serve_trace.py [--out docs/serve-trace.png] [--width 1280]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import uvicorn
from chromium import headless_chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from crawler.cli.serve_trace import bind, url_of
from crawler.trace.engine import TraceIndex
from crawler.trace.web import create_app

REPO = Path(__file__).resolve().parent.parent
#: (demo page, words replaced in its text: empty for a verbatim copy)
COPIED = [
    ("/articles/spring-migration.html", []),
    ("/articles/bat-walk.html", [("Eleven of us", "A dozen of us"),
                                 ("within minutes of sunset", "soon after sunset"),
                                 ("was heard passing", "was heard")]),
]


def licrawl(*args: str) -> None:
    """Run ``licrawl ARGS`` with this interpreter; stop on failure."""
    result = subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"licrawl {' '.join(args)} failed:\n{result.stderr[-3000:]}")


def page_texts(crawl: Path) -> dict[str, str]:
    """The crawl's text per URL path, without the title line."""
    texts = {}
    for shard in sorted((crawl / "data").glob("*.parquet")):
        for row in pq.read_table(shard, columns=["url", "text"]).to_pylist():
            path = "/" + row["url"].split("/", 3)[3]
            title, _, body = row["text"].partition("\n")
            texts[path] = (body or title).replace("\n", " ")
    return texts


def model_output(texts: dict[str, str]) -> str:
    """A plausible model answer made of the copied texts."""
    parts = []
    for path, edits in COPIED:
        text = texts[path]
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new)
        parts.append(text)
    return ("Here is a short diary of the year on the river, as you asked.\n\n"
            f"In spring: {parts[0]}\n\n"
            f"In summer, the bat walk: {parts[1]}\n\n"
            "Let me know if you would like the autumn and winter months as well.")


def main() -> None:
    """Build the index, serve it, drive the page, save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "serve-trace.png")
    parser.add_argument("--width", type=int, default=1280, help="window width in pixels")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="licrawl-shot-") as tmp:
        work = Path(tmp)
        licrawl("serve-demo", "--out", str(work / "crawl"), "--workers", "1")
        licrawl("index", str(work / "crawl"), "--out", str(work / "index"), "--quiet")
        text = model_output(page_texts(work / "crawl"))

        sock = bind("127.0.0.1", 0)
        app = create_app(TraceIndex.open(work / "index"))
        server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()

        driver = headless_chromium(work / "profile", args.width)
        try:
            for _ in range(100):
                if server.started:
                    break
                time.sleep(0.05)
            driver.get(url_of(sock))
            area = driver.find_element(By.ID, "text")
            driver.execute_script("arguments[0].value = arguments[1];", area, text)
            driver.find_element(By.ID, "trace").click()
            WebDriverWait(driver, 30).until(lambda d: d.execute_script(
                "return !document.getElementById('trace').disabled && "
                "(!document.getElementById('results').hidden || "
                "!document.getElementById('error').hidden);"))
            error = driver.find_element(By.ID, "error")
            if error.is_displayed():
                sys.exit(f"the page shows an error: {error.text}")
            kinds = driver.execute_script(
                "return Array.from(document.querySelectorAll('#output mark.hl'))"
                ".map(m => m.className)")
            badges = [b.text for b in driver.find_elements(By.CSS_SELECTOR, ".badge")]
            print(f"highlights: {kinds}\nbadges: {badges}")
            # the whole page in one image: a viewport as tall as the document
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": args.width, "height": height, "deviceScaleFactor": 1,
                "mobile": False})
            time.sleep(0.3)
            height = driver.execute_script("return document.documentElement.scrollHeight")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
            print(f"saved {args.out} ({args.width}x{height})")
        finally:
            driver.quit()
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()


if __name__ == "__main__":
    main()
