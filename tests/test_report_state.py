"""``licrawl report --state``: the runs of a crawl job over time, in a real headless Chromium.

The state is made by two real crawl runs of tests/site/changing.py's ChangingSite (the
fixture of tests/test_recrawl.py; run 2 after the site changed: a license changed,
robots.txt opts out of GPTBot, a page is gone) and a third run that started and was
stopped before its end (no summary). The page's runs table is read back from the rendered
DOM and compared with the summaries read back from the state, and with what
``licrawl history STATE --runs --json`` prints.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.state.store import CrawlState

sys.path.insert(0, str(Path(__file__).parent))
import test_recrawl  # noqa: E402
import test_serve_trace  # noqa: E402
from helpers.crawl_state import DAY, T0, record_run  # noqa: E402
from test_report import number, open_page, run_cli  # noqa: E402
from test_serve_trace import console_errors, needs_chromium  # noqa: E402

# the fixtures of those modules: two crawls of a changing site, a headless Chromium
runs = test_recrawl.runs
browser = test_serve_trace.browser

COUNT_HEADERS = ["rows", "new", "changed", "unchanged", "removed", "license changed",
                 "opted out", "disappeared"]
DASH = "\u2013"


@pytest.fixture(scope="module")
def job(runs: dict[str, Any]) -> dict[str, Path]:
    """tests/test_recrawl.py's two crawl runs of a changing site into one state, then a run
    stopped before its end; the report of run 2's shards with ``--state``."""
    tmp = runs["tmp"]
    CrawlState(tmp / "state", "crawl-stopped").close()  # started, never ended
    page = tmp / "report.html"
    assert run_cli("report", str(tmp / "run2" / "data"), "--out", str(page), "--state",
                   str(tmp / "state")) == 0
    return {"tmp": tmp, "state": tmp / "state", "page": page}


def utc(seconds: float) -> str:
    """The page's form of a time."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def expected_row(run_id: str, started: float, ended: float | None,
                 summary: dict[str, Any]) -> list[str]:
    """The table row a run must have, from its summary (independent of the report code)."""
    pages = summary.get("pages", {})
    since = summary.get("since_previous_run", {})
    values = [summary.get("rows"), pages.get("new"), pages.get("changed"),
              pages.get("unchanged"), pages.get("removed"), since.get("license_changed"),
              since.get("opted_out"), since.get("disappeared")]
    return [run_id, utc(started), "running or stopped" if ended is None else utc(ended),
            *[DASH if v is None else f"{v:,}" for v in values]]


@needs_chromium
def test_runs_chart_is_drawn_and_table_equals_the_state(browser: Any,
                                                        job: dict[str, Path]) -> None:
    console_errors(browser)  # start clean
    tables = open_page(browser, job["page"])
    assert console_errors(browser) == []
    chart = browser.execute_script("""
        const svg = document.querySelector('#runs svg.chart');
        if (!svg) return null;
        const box = svg.getBoundingClientRect();
        return {width: box.width, height: box.height,
                lines: svg.querySelectorAll('g[id^="line2d_"] path').length,
                axes: svg.querySelectorAll('g[id^="axes_"]').length,
                legend: Array.from(svg.querySelectorAll('g[id^="legend_"] text'),
                                   t => t.textContent)};""")
    assert chart is not None
    assert chart["width"] > 300 and chart["height"] > 200, chart
    assert chart["axes"] == 2 and chart["lines"] >= 4, chart
    assert chart["legend"] == ["license changes", "new opt-outs", "pages disappeared"]
    assert "<script" not in job["page"].read_text("utf-8")

    with CrawlState(job["state"]) as state:
        runs = state.runs()
    assert len(runs) == 3 and runs[2][0] == "crawl-stopped" and runs[2][3] == {}
    table = tables["t-runs"]
    assert table["headers"] == ["run", "started", "ended", *COUNT_HEADERS]
    assert table["rows"] == [expected_row(*run) for run in runs]
    # the second run's summary, as tests/test_recrawl.py knows it
    second = dict(zip(COUNT_HEADERS, table["rows"][1][3:], strict=True))
    assert {k: number(v) for k, v in second.items()} == {
        "rows": 2, "new": 1, "changed": 1, "unchanged": 5, "removed": 1,
        "license changed": 1, "opted out": 6, "disappeared": 1}
    # the stopped run: no numbers made up
    assert table["rows"][2][2:] == ["running or stopped"] + [DASH] * len(COUNT_HEADERS)
    assert "3 runs" in browser.find_element("css selector", "#runs p.about").text

    history = subprocess.run([sys.executable, "-m", "crawler.cli", "history",
                              str(job["state"]), "--runs", "--json"],
                             capture_output=True, text=True, timeout=60, check=True)
    listed = [json.loads(line) for line in history.stdout.splitlines()]
    assert [expected_row(r["run"], datetime.fromisoformat(r["started"]).timestamp(),
                         None if r["ended"] is None
                         else datetime.fromisoformat(r["ended"]).timestamp(), r["summary"])
            for r in listed] == table["rows"]


@needs_chromium
def test_runs_table_keeps_the_last_50_runs_and_says_so(browser: Any, job: dict[str, Path],
                                                      tmp_path: Path) -> None:
    state = tmp_path / "state"
    for i in range(53):
        record_run(state, f"run-{i:02d}", T0 + i * DAY, [],
                   {"rows": i, "pages": {"new": i, "changed": 0, "unchanged": 0,
                                         "removed": 0, "error": 0},
                    "since_previous_run": {"license_changed": i % 3, "opted_out": i % 2,
                                           "disappeared": 0, "back": 0}})
    page = tmp_path / "report.html"
    assert run_cli("report", str(job["tmp"] / "run2" / "data"), "--out", str(page),
                   "--state", str(state)) == 0
    table = open_page(browser, page)["t-runs"]
    assert [r[0] for r in table["rows"]] == [f"run-{i:02d}" for i in range(3, 53)]
    assert [number(r[3]) for r in table["rows"]] == list(range(3, 53))
    assert [number(r[8]) for r in table["rows"]] == [i % 3 for i in range(3, 53)]
    assert "the last 50 of 53 runs" in browser.find_element(
        "css selector", "#runs p.about").text
    assert browser.execute_script(
        "return document.querySelectorAll('#runs svg.chart g[id^=\"line2d_\"]').length") >= 4


def test_without_state_there_is_no_runs_section(job: dict[str, Path], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert run_cli("report", str(job["tmp"] / "run2" / "data"), "--out", str(page)) == 0
    html = page.read_text("utf-8")
    assert 'id="runs"' not in html and 'id="t-runs"' not in html
    assert 'id="runs"' in job["page"].read_text("utf-8")


@pytest.mark.parametrize("kind", ["missing", "corrupt", "newer"])
def test_bad_state_is_a_clear_error_and_nothing_is_written(
        kind: str, job: dict[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "state"
    if kind == "corrupt":
        bad.mkdir()
        (bad / "state.sqlite").write_bytes(b"\0garbage" * 512)
    elif kind == "newer":
        record_run(bad, "r1", T0, [], {"rows": 1})
        with sqlite3.connect(bad / "state.sqlite") as db:
            db.execute("PRAGMA user_version=99")
    page = tmp_path / "out" / "report.html"
    code = run_cli("report", str(job["tmp"] / "run2" / "data"), "--out", str(page),
                   "--state", str(bad))
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"licrawl report: error: --state {bad}")
    assert {"missing": "no crawl state here (state.sqlite missing)",
            "corrupt": "not a usable crawl state",
            "newer": "was written by a newer licrawl (state format 99"}[kind] in err
    assert not (tmp_path / "out").exists()
