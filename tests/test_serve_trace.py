"""``licrawl serve-trace``: the JSON API and the page, in a real headless Chromium.

Once per module, two local sites are crawled with ``licrawl crawl``: the origin of
tests/site/mirrors.py (the same articles under CC BY, CC BY-SA, "All rights reserved" and
no license at all) and a *hostile* site whose title and text carry HTML markup and script
as text; the crawl is indexed with ``licrawl index``, and ``licrawl serve-trace`` serves
the index from a subprocess on a free port of 127.0.0.1 (stopped with Ctrl-C, which must
exit 0). The API tests post texts that copy crawled documents and compare the answer with
what the engine says in this process; the browser tests drive Debian's chromium through
chromedriver (Selenium): paste, click Trace, read the highlighted spans, the license
badges and verdicts from the DOM, and check that nothing from the input or the corpus ran
as markup or script and that the console has no errors.
"""

from __future__ import annotations

import json
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from crawler.demo.localsite import LocalSite, Reply
from crawler.trace import DEFAULT_MAX_CHARS as ENGINE_MAX_CHARS
from crawler.trace.engine import TraceIndex

sys.path.insert(0, str(Path(__file__).parent / "site"))
from mirrors import ARTICLES, make_mirror_sites  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0", "-s",
        "DOWNLOAD_TIMEOUT=2", "-s", "LICRAWL_RETRY_BACKOFF_BASE=0.05", "--workers", "1"]
HTML = [("Content-Type", "text/html; charset=utf-8")]
# urllib without the environment's proxies: every request here goes to 127.0.0.1
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# The hostile page: markup in its title and text, escaped in the HTML, so the crawl keeps it
# as text, e.g. the title ``<img src=x onerror="window.__pwned='title'"> Notes on weirs``.
HOSTILE_TITLE = "&lt;img src=x onerror=\"window.__pwned='title'\"&gt; Notes on weirs"
HOSTILE_TEXT = (
    "A weir is a low wall built across a river to raise the water upstream and control its "
    "flow. Millers used them to feed their wheels, and the pools below still hold the "
    "biggest trout in the valley. To show markup on a web page you write "
    "<script>window.__pwned='text'</script> or <img src=x onerror=\"window.__pwned='img'\"> "
    "with escaped angle brackets, so that the browser prints them instead of running them. "
    "Old weirs also block fish that migrate upstream to spawn, which is why many are now "
    "being lowered or fitted with fish passes.")
HOSTILE_PAGE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{HOSTILE_TITLE}</title>
<link rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/">
</head><body><main><article><h1>{HOSTILE_TITLE}</h1>
<p>{HOSTILE_TEXT.replace("<", "&lt;").replace(">", "&gt;")}</p>
</article></main></body></html>""".encode()


def hostile_handler(path: str) -> Reply | None:
    """The hostile site: a home page linking to ``/weirs``."""
    if path == "/":
        return Reply(200, HTML, b'<!doctype html><html><head><title>Weirs</title></head>'
                     b'<body><a href="/weirs">weirs</a></body></html>')
    if path == "/weirs":
        return Reply(200, HTML, HOSTILE_PAGE)
    return None


def paragraphs(key: str, count: int | None = None) -> str:
    """The first ``count`` paragraphs of a mirror-site article, as one line."""
    return " ".join(ARTICLES[key][1][:count])


DELTA = paragraphs("delta", 2)  # ~100 words, CC BY-SA 4.0 at /blog/delta
OXBOW_EDITED = (paragraphs("oxbow", 2)  # ~115 words of an "All rights reserved" page, edited
                .replace("scouring the bank", "eroding the bank")
                .replace("Year after year", "Each year")
                .replace("single night", "single stormy night")
                .replace("Reeds move in", "Reeds creep in"))
# the delta article with its last paragraph edited: a verbatim span of the first two and a
# near-verbatim passage from the middle of the second to the end, overlapping it
DELTA_THEN_EDITED = " ".join([*ARTICLES["delta"][1][:2], ARTICLES["delta"][1][2]
                              .replace("Engineers who fix", "Engineers that fix")
                              .replace("compacts under", "settles under")
                              .replace("slowly gains", "gradually gains")])
UNRELATED = ("The committee met on Tuesday to discuss the budget for next year. Members agreed "
             "that the library needs new shelves, that the car park lights should be "
             "repaired before winter, and that the summer fair will move to the school "
             "field. ") * 3

# `licrawl serve-trace` through the real entry point (``-c`` so a test can run a prelude)
_RUN = ("import sys\n"
        "from crawler.cli import main\n"
        "sys.exit(main(['serve-trace', *sys.argv[1:]]))\n")


def serve_trace(*args: str, prelude: str = "") -> list[str]:
    """The command line of ``licrawl serve-trace ARGS`` with this interpreter (``prelude``:
    Python run first)."""
    return [sys.executable, "-c", prelude + _RUN, *args]


# --------------------------------------------------------------------------- fixtures

@dataclass
class Server:
    """A running ``licrawl serve-trace``."""

    url: str  # http://127.0.0.1:PORT/
    process: subprocess.Popen[str]
    stderr: Path


@dataclass
class Corpus:
    """The module's crawl, its index, and the engine opened in this process."""

    crawl: Path
    index: Path
    engine: TraceIndex
    origin: str  # http://127.0.0.1:PORT of the mirror sites' origin


def start_server(index: Path, log: Path, *args: str) -> Server:
    """Start serve-trace on a free port; wait for the URL it prints."""
    with log.open("w") as err:
        process = subprocess.Popen(serve_trace("--index", str(index), "--port", "0", *args),
                                   stdout=subprocess.PIPE, stderr=err, text=True)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 60)
    line = process.stdout.readline() if ready else ""
    found = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not found:
        process.kill()
        pytest.fail(f"serve-trace did not start: {line!r} {log.read_text()[-3000:]}")
    return Server(found.group(0), process, log)


def stop_server(server: Server) -> None:
    """Ctrl-C the server; it must stop cleanly (exit 0, no traceback)."""
    server.process.send_signal(signal.SIGINT)
    try:
        code = server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise
    log = server.stderr.read_text()
    assert code == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    base = tmp_path_factory.mktemp("serve-trace")
    origin, _mirror = make_mirror_sites()
    with origin, LocalSite(hostile_handler) as hostile:
        # the hostile site as "localhost": another host, so both are crawled side by side
        result = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "crawl", origin.url + "/",
             hostile.url.replace("127.0.0.1", "localhost") + "/", "--out",
             str(base / "crawl"), *FAST],
            capture_output=True, text=True, timeout=180, check=False)
        origin_url = origin.url
    assert result.returncode == 0, result.stderr[-3000:]
    index = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "index", str(base / "crawl"), "--out",
         str(base / "index"), "--quiet"],
        capture_output=True, text=True, timeout=180, check=False)
    assert index.returncode == 0, index.stderr[-3000:]
    return Corpus(base / "crawl", base / "index", TraceIndex.open(base / "index"), origin_url)


@pytest.fixture(scope="module")
def server(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(corpus.index, tmp_path_factory.mktemp("log") / "serve.err")
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def small_server(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[Server]:
    """A server that accepts texts of at most 2,000 characters."""
    running = start_server(corpus.index, tmp_path_factory.mktemp("log") / "serve.err",
                           "--max-chars", "2000")
    yield running
    stop_server(running)


# --------------------------------------------------------------------------- HTTP helpers

def request(url: str, data: bytes | None = None, method: str = "GET"
            ) -> tuple[int, Message, bytes]:
    """(status, headers (any case), body) of one request (errors are answers too)."""
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with OPENER.open(req, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def post_trace(server: Server, payload: Any) -> tuple[int, dict[str, Any]]:
    """POST /api/trace with ``payload`` (bytes as they are, anything else as JSON)."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    status, headers, body = request(server.url + "api/trace", data, "POST")
    assert headers["Content-Type"].startswith("application/json"), headers
    return status, json.loads(body)


def trace_ok(server: Server, text: str, **extra: Any) -> dict[str, Any]:
    """The API's answer for ``text``, which must be 200."""
    status, answer = post_trace(server, {"text": text, **extra})
    assert status == 200, answer
    return answer


def without_timing(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without its elapsed time."""
    return {k: v for k, v in answer.items() if k != "milliseconds"}


def engine_answer(corpus: Corpus, text: str, **kwargs: Any) -> dict[str, Any]:
    """What the engine answers in this process (JSON round trip, no timing)."""
    return without_timing(json.loads(json.dumps(corpus.engine.trace(text, **kwargs).to_json())))


def source_at(answer: dict[str, Any], path: str) -> dict[str, Any]:
    """The source of ``answer`` whose URL ends in ``path``."""
    [found] = [s for s in answer["sources"] if s["url"].endswith(path)]
    return found


# --------------------------------------------------------------------------- API

def test_the_api_answers_what_the_engine_says_for_a_copied_text(corpus: Corpus,
                                                                server: Server) -> None:
    text = "Here is what I found about deltas.\n\n" + DELTA + "\n\nI hope this helps."
    answer = trace_ok(server, text)
    assert without_timing(answer) == engine_answer(corpus, text)
    [span] = answer["spans"]
    assert span["kind"] == "verbatim"
    assert span["words"] >= 60
    copied = text[span["start"]:span["end"]]
    assert copied.startswith("A delta grows where a river slows down")
    assert copied.endswith("while a new one grows beside it")
    [source] = answer["sources"]
    assert span["source_ids"] == [source["id"]]
    assert source["url"] == corpus.origin + "/blog/delta"
    assert source["title"] == "How a delta grows"
    assert source["license"] == "CC-BY-SA-4.0"
    assert source["license_category"] == "copyleft"
    assert source["license_url"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert source["words_matched"] == span["words"]
    assert "CC BY-SA 4.0" in source["verdict"] and source["url"] in source["verdict"]
    assert source["url"] in source["attribution"]


@pytest.mark.parametrize(("text", "paths", "licenses"), [
    (paragraphs("springs"), ["/notes/springs"], ["NOASSERTION"]),
    (paragraphs("meanders"), ["/blog/meanders", "/aggregator/meanders"],
     ["CC-BY-4.0", "NOASSERTION"]),
    (paragraphs("terraces", 2), ["/blog/terraces", "/scraped/terraces",
                                  "/aggregator/terraces", "/optout/terraces"],
     ["CC-BY-4.0", "LicenseRef-All-Rights-Reserved", "NOASSERTION", "NOASSERTION"]),
], ids=["no-license", "cc-by-and-copy", "four-copies"])
def test_every_copy_of_a_text_is_a_source_with_its_own_license(
        corpus: Corpus, server: Server, text: str, paths: list[str],
        licenses: list[str]) -> None:
    answer = trace_ok(server, text)
    assert without_timing(answer) == engine_answer(corpus, text)
    [span] = answer["spans"]
    assert span["kind"] == "verbatim" and span["words"] >= 50
    assert sorted(s["url"] for s in answer["sources"]) == sorted(corpus.origin + p
                                                                 for p in paths)
    for path, license_id in zip(paths, licenses, strict=True):
        source = source_at(answer, path)
        assert source["license"] == license_id
        assert source["id"] in span["source_ids"]
        if license_id == "NOASSERTION":
            assert source["license_category"] == "unknown"
            assert "NOASSERTION" in source["verdict"]
        if license_id == "LicenseRef-All-Rights-Reserved":
            assert source["license_category"] == "reserved"
            assert "not licensed for reuse" in source["verdict"]


def test_an_edited_copy_is_a_near_verbatim_passage(corpus: Corpus, server: Server) -> None:
    answer = trace_ok(server, OXBOW_EDITED)
    assert without_timing(answer) == engine_answer(corpus, OXBOW_EDITED)
    kinds = {s["kind"] for s in answer["spans"]}
    assert "near" in kinds
    source = source_at(answer, "/blog/oxbow")
    assert source["license"] == "LicenseRef-All-Rights-Reserved"
    assert "not licensed for reuse" in source["verdict"]


def test_a_text_that_copies_nothing_has_no_spans(server: Server) -> None:
    answer = trace_ok(server, UNRELATED)
    assert answer["spans"] == [] and answer["sources"] == []
    assert answer["input_words"] > 50


def test_min_words_is_passed_on(corpus: Corpus, server: Server) -> None:
    assert trace_ok(server, DELTA, min_words=500)["spans"] == []
    answer = trace_ok(server, DELTA, min_words=20)
    assert answer["min_words"] == 20
    assert without_timing(answer) == engine_answer(corpus, DELTA, min_words=20)


def test_concurrent_traces_get_their_own_answers(server: Server) -> None:
    texts = [DELTA, OXBOW_EDITED, UNRELATED, paragraphs("terraces")] * 3
    alone = {text: without_timing(trace_ok(server, text)) for text in set(texts)}
    with ThreadPoolExecutor(len(texts)) as pool:
        together = list(pool.map(lambda t: without_timing(trace_ok(server, t)), texts))
    assert together == [alone[t] for t in texts]


def test_info(corpus: Corpus, server: Server) -> None:
    status, _, body = request(server.url + "api/info")
    assert status == 200
    info = json.loads(body)
    assert info == json.loads(json.dumps(corpus.engine.info))
    assert info["documents"] >= 13 and info["shards"] >= 1


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    ({}, 'no "text"'),
    ({"words": "hello"}, 'no "text"'),
    ({"text": 42}, '"text" must be a string'),
    ({"text": "hello", "min_words": "fifty"}, '"min_words"'),
    ({"text": "hello", "min_words": True}, '"min_words"'),
    ({"text": "hello", "min_words": 0}, '"min_words"'),
    ({"text": "hello", "min_words": 1.5}, '"min_words"'),
], ids=["broken", "not-utf8", "array", "no-text", "other-key", "number", "min-str",
        "min-bool", "min-zero", "min-float"])
def test_a_bad_request_is_400_with_a_message(server: Server, body: Any, message: str) -> None:
    status, answer = post_trace(server, body)
    assert status == 400
    assert message in answer["error"]


@pytest.mark.parametrize("text", ["", "  \n\t ", "\x00\x01\x02 binary " * 50],
                         ids=["empty", "blank", "binary"])
def test_a_text_the_engine_refuses_is_400_with_its_message(corpus: Corpus, server: Server,
                                                          text: str) -> None:
    status, answer = post_trace(server, {"text": text})
    assert status == 400
    with pytest.raises(ValueError) as refused:  # TraceInputError is a ValueError
        corpus.engine.trace(text)
    assert answer == {"error": str(refused.value)}


def test_text_over_max_chars_is_413(small_server: Server) -> None:
    words = ("river " * 400)[:2000]
    assert trace_ok(small_server, words)["spans"] == []
    status, answer = post_trace(small_server, {"text": words + "x"})
    assert status == 413
    assert "2,001 characters" in answer["error"] and "2,000" in answer["error"]
    status, answer = post_trace(small_server, {"text": "w " * 60_000})  # a 120 kB body
    assert status == 413
    assert "too large" in answer["error"]


def test_routes_page_headers_and_json_errors(server: Server) -> None:
    status, headers, body = request(server.url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    policy = headers["Content-Security-Policy"]
    assert "script-src 'sha256-" in policy and "unsafe-inline" not in policy
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert b'id="text"' in body
    status, _, body = request(server.url + "api/trace")
    assert status == 405 and "error" in json.loads(body)
    status, _, body = request(server.url + "nowhere")
    assert status == 404 and "error" in json.loads(body)


def test_the_page_is_self_contained_and_builds_nodes_only_from_text() -> None:
    page = Path(__file__).parent.parent / "crawler" / "trace" / "static" / "trace.html"
    html = page.read_text("utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched
    assert not re.search(r"@import|url\(", html)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function"):
        assert sink not in html, sink


# --------------------------------------------------------------------------- command line

def run_cli(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """Run serve-trace to completion (it must not start serving)."""
    return subprocess.run(serve_trace(*args, prelude=prelude), capture_output=True, text=True,
                          timeout=60, check=False)


def assert_clear_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, one ``licrawl serve-trace: error:`` line naming ``words``, no traceback."""
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("licrawl serve-trace: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_help_says_what_it_serves() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for words in ("--index", "--host", "--port", "--max-chars", "POST /api/trace",
                  "GET  /api/info", "licrawl[serve]"):
        assert words in result.stdout


def test_a_missing_or_invalid_index_is_exit_2(tmp_path: Path) -> None:
    assert_clear_error(run_cli("--index", str(tmp_path / "none")), str(tmp_path / "none"))
    (tmp_path / "empty").mkdir()
    assert_clear_error(run_cli("--index", str(tmp_path / "empty")))
    (tmp_path / "file.txt").write_text("not an index")
    assert_clear_error(run_cli("--index", str(tmp_path / "file.txt")))


def test_a_port_in_use_is_exit_2(corpus: Corpus) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_cli("--index", str(corpus.index), "--port", port)
    assert_clear_error(result, "cannot listen", port, "--port")


def test_bad_options_are_exit_2(corpus: Corpus) -> None:
    assert_clear_error(run_cli("--index", str(corpus.index), "--max-chars", "0"),
                       "--max-chars")
    assert_clear_error(run_cli("--index", str(corpus.index), "--max-chars",
                               str(ENGINE_MAX_CHARS + 1)),
                       "--max-chars", f"{ENGINE_MAX_CHARS:,}")
    assert_clear_error(run_cli("--index", str(corpus.index), "--port", "70000"), "--port")


def test_without_the_serve_extra_it_says_what_to_install(corpus: Corpus) -> None:
    # starlette and uvicorn made unimportable, as when the `serve` extra is not installed
    blocked = "import sys\nsys.modules['starlette'] = None\nsys.modules['uvicorn'] = None\n"
    result = run_cli("--index", str(corpus.index), prelude=blocked)
    assert_clear_error(result, "pip install 'licrawl[serve]'")


# --------------------------------------------------------------------------- browser

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="the browser tests need Debian's chromium and chromium-driver (/usr/bin/chromium, "
    "/usr/bin/chromedriver): apt-get install chromium chromium-driver")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium through chromedriver, with its console log kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="licrawl-chromium-") as profile:
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-proxy-server", f"--user-data-dir={profile}",
                     "--window-size=1280,1000"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def console_errors(driver: Any) -> list[dict[str, Any]]:
    """The console entries of level SEVERE since the last call."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def trace_in_page(driver: Any, server: Server, text: str, *, typed: bool = False,
                  min_words: str | None = None) -> None:
    """Open the page, paste (or type) ``text``, click Trace and wait for the answer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(server.url)
    console_errors(driver)  # drop anything logged before
    area = driver.find_element(By.ID, "text")
    if typed:
        area.send_keys(text)
    else:  # a paste: the value set at once (chromedriver cannot type beyond the BMP)
        driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", area, text)
    if min_words is not None:
        field = driver.find_element(By.ID, "min-words")
        field.clear()
        field.send_keys(min_words)
    driver.find_element(By.ID, "trace").click()
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return !document.getElementById('trace').disabled && "
        "(!document.getElementById('results').hidden || "
        "!document.getElementById('error').hidden);"))


def page_state(driver: Any) -> dict[str, Any]:
    """What the page shows, read from the DOM in one go."""
    return driver.execute_script("""
      const q = (s, root) => Array.from((root || document).querySelectorAll(s));
      const out = document.getElementById('output');
      return {
        text: Array.from(out.childNodes)  // the text without the source numbers
          .filter(n => !(n.nodeType === 1 && n.matches('sup.ref')))
          .map(n => n.textContent).join(''),
        marks: q('#output mark.hl').map(m => ({spans: m.getAttribute('data-spans').split(' '),
                                               text: m.textContent,
                                               classes: Array.from(m.classList)})),
        refs: q('#output sup.ref').map(r => r.textContent),
        sources: q('#sources li.source').map(li => {
          const badge = li.querySelector('.badge');
          const title = li.querySelector('.src-title');
          return {id: li.getAttribute('data-source-id'),
                  title: title.textContent, href: title.getAttribute('href'),
                  badge: badge.textContent, badgeTag: badge.tagName,
                  badgeHref: badge.getAttribute('href'),
                  badgeClasses: Array.from(badge.classList),
                  cardClasses: Array.from(li.classList),
                  meta: li.querySelector('.src-meta').textContent,
                  verdict: li.querySelector('.verdict').textContent,
                  attribution: (li.querySelector('.attribution') || {}).textContent};
        }),
        headline: document.getElementById('headline').textContent,
        nomatch: document.getElementById('nomatch').hidden ? null
          : document.getElementById('nomatch').textContent,
        error: document.getElementById('error').hidden ? null
          : document.getElementById('error').textContent,
        legend: q('#category-legend .swatch').map(s => [s.getAttribute('data-category'),
                                                         s.textContent]),
        // in the text only highlights and source numbers; no media or script anywhere
        injected: q('#output *:not(mark.hl):not(sup.ref), #results img, #results script, '
                    + '#results iframe, #error *:not(strong)').length,
        pwned: window.__pwned === undefined ? null : String(window.__pwned),
      };
    """)


def assert_page_shows(state: dict[str, Any], text: str, answer: dict[str, Any]) -> None:
    """The page shows ``text`` whole, each span of ``answer`` highlighted in its style, and
    each source with its license badge, verdict and attribution."""
    assert state["text"] == text  # nothing lost, nothing added, markup shown as text
    spans = answer["spans"]
    assert {i for m in state["marks"] for i in m["spans"]} == {str(i) for i in range(len(spans))}
    for i, span in enumerate(spans):
        shown = "".join(m["text"] for m in state["marks"] if str(i) in m["spans"])
        assert shown == text[span["start"]:span["end"]]  # offsets in code points
    for mark in state["marks"]:
        kinds = {spans[int(i)]["kind"] for i in mark["spans"]}
        assert set(mark["classes"]) == {"hl"} | {f"hl-{k}" for k in kinds}
    assert len(state["refs"]) == len({s["end"] for s in spans})
    assert [s["id"] for s in state["sources"]] == [s["id"] for s in answer["sources"]]
    for shown, source in zip(state["sources"], answer["sources"], strict=True):
        assert shown["title"] == source["title"]
        assert shown["href"] == source["url"]
        assert shown["badge"] == (source["license_name"] or (
            "license unknown" if source["license"] == "NOASSERTION" else source["license"]))
        assert f"cat-{source['license_category']}" in shown["badgeClasses"]
        assert f"cat-{source['license_category']}" in shown["cardClasses"]
        if source["license_url"]:
            assert shown["badgeTag"] == "A" and shown["badgeHref"] == source["license_url"]
        else:
            assert shown["badgeTag"] == "SPAN" and shown["badgeHref"] is None
        assert shown["verdict"] == source["verdict"]
        assert shown["attribution"] == "Attribution" + source["attribution"]
    assert state["injected"] == 0 and state["pwned"] is None


@needs_chromium
def test_browser_highlights_spans_and_shows_licenses(browser: Any, server: Server,
                                                     corpus: Corpus) -> None:
    from selenium.webdriver.common.by import By

    # an emoji first (two UTF-16 units, one code point), a verbatim copy of a CC BY-SA
    # article, an edited copy of an "All rights reserved" one, and a CC BY article copied by
    # an unlicensed aggregator
    text = ("\U0001f642 Sure! Here is an overview.\n\n" + DELTA + "\n\nAnd on meanders: "
            + OXBOW_EDITED + "\n\n" + paragraphs("meanders") + "\nThat is all.")
    answer = trace_ok(server, text)
    assert {s["kind"] for s in answer["spans"]} == {"verbatim", "near"}
    assert {s["license_category"] for s in answer["sources"]} == {"copyleft", "reserved",
                                                                  "permissive", "unknown"}
    trace_in_page(browser, server, text)
    state = page_state(browser)
    assert_page_shows(state, text, answer)
    assert state["headline"] == f"{len(answer['spans'])} matched spans from " \
                                f"{len(answer['sources'])} source documents"
    assert len(state["marks"]) == len(answer["spans"])  # these spans do not overlap
    badges = {s["badge"]: s["badgeClasses"] for s in state["sources"]}
    assert "cat-copyleft" in badges["Creative Commons Attribution-ShareAlike 4.0 International"]
    assert "cat-reserved" in badges["All rights reserved"]
    assert [c for c, _ in state["legend"]] == ["public-domain", "permissive", "copyleft",
                                               "noncommercial", "no-derivatives", "reserved",
                                               "unknown"]
    # a highlight selects its sources
    near = answer["spans"].index(next(s for s in answer["spans"] if s["kind"] == "near"))
    browser.find_element(By.CSS_SELECTOR, f'mark.hl[data-spans="{near}"]').click()
    selected = browser.find_elements(By.CSS_SELECTOR, "li.source.selected")
    assert [e.get_attribute("data-source-id") for e in selected] == \
        answer["spans"][near]["source_ids"]
    assert console_errors(browser) == []


@needs_chromium
def test_browser_shows_markup_from_input_and_corpus_as_text(browser: Any,
                                                            server: Server) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    text = ("<b>Bold?</b> <img src=x onerror=\"window.__pwned='input'\"> Here it is: "
            + HOSTILE_TEXT + " <script>window.__pwned='input-script'</script>")
    answer = trace_ok(server, text)
    [source] = answer["sources"]
    assert source["title"].startswith("<img src=x onerror=")  # the corpus carries markup
    assert source["license_category"] == "noncommercial"
    trace_in_page(browser, server, text, typed=True)
    state = page_state(browser)
    assert_page_shows(state, text, answer)
    assert "<script>window.__pwned='text'</script>" in state["marks"][0]["text"]
    assert state["sources"][0]["title"] == source["title"]
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it is the check
    assert console_errors(browser) == []


@needs_chromium
def test_browser_highlights_overlapping_spans(browser: Any, server: Server) -> None:
    answer = trace_ok(server, DELTA_THEN_EDITED)
    verbatim, near = sorted(answer["spans"], key=lambda s: s["kind"] != "verbatim")
    assert (verbatim["kind"], near["kind"]) == ("verbatim", "near")
    assert near["start"] < verbatim["end"] < near["end"]  # they overlap, the near one runs on
    trace_in_page(browser, server, DELTA_THEN_EDITED)
    state = page_state(browser)
    assert_page_shows(state, DELTA_THEN_EDITED, answer)  # each span's pieces, in its styles
    both = [m for m in state["marks"] if {"hl-verbatim", "hl-near"} <= set(m["classes"])]
    assert both and all(m["spans"] == ["0", "1"] for m in both)
    assert ["hl", "hl-near"] in [m["classes"] for m in state["marks"]]  # the edited end
    assert console_errors(browser) == []


@needs_chromium
def test_browser_says_when_nothing_matched(browser: Any, server: Server) -> None:
    trace_in_page(browser, server, UNRELATED)
    state = page_state(browser)
    assert state["headline"] == "Nothing matched"
    assert state["nomatch"] is not None and "No passage of 50 words" in state["nomatch"]
    assert state["marks"] == [] and state["sources"] == [] and state["error"] is None
    assert state["text"] == UNRELATED
    trace_in_page(browser, server, DELTA, min_words="500")
    state = page_state(browser)
    assert state["marks"] == [] and "No passage of 500 words" in state["nomatch"]
    assert console_errors(browser) == []


@needs_chromium
def test_browser_shows_the_api_error(browser: Any, server: Server) -> None:
    for text in ["", "\x00\x01 binary " * 30]:
        status, answer = post_trace(server, {"text": text})
        assert status == 400
        trace_in_page(browser, server, text)
        state = page_state(browser)
        assert state["error"] is not None and answer["error"] in state["error"]
        assert "HTTP 400" in state["error"]
        # the only console error is the browser's note of the 400 answer
        errors = console_errors(browser)
        assert errors and all("400" in e["message"] for e in errors), errors
