"""``licrawl history``: observations, changes, --since, --json, --runs and bad state folders,
on state folders recorded with CrawlState as three weekly runs of a job would."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.cli import main
from tests.helpers.crawl_state import DAY, T0, gone, page, record_id, record_run

A = "https://site.example/a"  # CC BY, then all rights reserved
B = "https://site.example/b"  # opts out of GPTBot, then reserves TDM
C = "https://site.example/c"  # removed, then back again
RUNS = [("2026-11-01", T0), ("2026-11-08", T0 + 7 * DAY), ("2026-11-15", T0 + 14 * DAY)]
ARR = "LicenseRef-All-Rights-Reserved"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """Three runs of a job over A, B and C."""
    folder = tmp_path / "state"
    (r1, t1), (r2, t2), (r3, t3) = RUNS
    record_run(folder, r1, t1, [page(A, t1 + 1), page(B, t1 + 2, license="CC-BY-SA-4.0",
                                                      license_category="copyleft"),
                                page(C, t1 + 3, license="MIT")],
               {"rows": 3, "errors": 0})
    record_run(folder, r2, t2, [
        page(A, t2 + 1, "changed", license=ARR, license_category="all-rights-reserved",
             text_sha1="1" * 40, warc_file="crawl-00002.warc.gz"),
        page(B, t2 + 2, "unchanged", license="CC-BY-SA-4.0", license_category="copyleft",
             ai_optout=("robots:GPTBot",), warc_file="crawl-00002.warc.gz",
             ref_record_id=record_id(B, t1 + 2)),
        gone(C, t2 + 3)], {"rows": 1, "changed": 1, "removed": 1})
    record_run(folder, r3, t3, [
        page(A, t3 + 1, "unchanged", license=ARR, license_category="all-rights-reserved",
             text_sha1="1" * 40),
        page(B, t3 + 2, "unchanged", license="CC-BY-SA-4.0", license_category="copyleft",
             ai_optout=("robots:GPTBot", "tdmrep"), tdm_reserved=True),
        page(C, t3 + 3, license="MIT")], {"rows": 1})
    return folder


def history(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["history", *args])
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


# --------------------------------------------------------------------------- observations

def test_observations_as_a_table_per_url(state: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    code, out, err = history(capsys, str(state), A, C)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == A
    assert lines[1].split() == ["time", "run", "outcome", "status", "license", "category",
                                "opt-outs", "tdm", "warc"]
    assert lines[2].split() == ["2026-11-01T06:00:01Z", "2026-11-01", "new", "200",
                                "CC-BY-4.0", "permissive", "-", "no",
                                f"crawl-00001.warc.gz#{record_id(A, T0 + 1)}"]
    assert lines[3].split()[:7] == ["2026-11-08T06:00:01Z", "2026-11-08", "changed", "200",
                                    ARR, "all-rights-reserved", "-"]
    assert lines[5] == "" and lines[6] == C
    assert lines[9].split() == ["2026-11-08T06:00:03Z", "2026-11-08", "removed", "404", "-",
                                "-", "-", "-", "-"]
    assert lines[-1] == "6 observations of 2 URLs"
    # the columns of one URL line up
    assert lines[2].index("CC-BY-4.0") == lines[3].index(ARR) == lines[1].index("license")


def test_revisit_shows_the_record_it_refers_to(state: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = history(capsys, str(state), B)
    row = next(line for line in out.splitlines() if "2026-11-08T" in line)
    assert "robots:GPTBot" in row
    assert row.endswith(f"crawl-00002.warc.gz#{record_id(B, T0 + 7 * DAY + 2)} "
                        f"(refers to {record_id(B, T0 + 2)})")


def test_observations_as_json(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = history(capsys, str(state), "--json")
    assert code == 0
    objects = json_lines(out)
    assert [(o["url"], o["run"], o["outcome"]) for o in objects] == [
        (A, "2026-11-01", "new"), (A, "2026-11-08", "changed"), (A, "2026-11-15", "unchanged"),
        (B, "2026-11-01", "new"), (B, "2026-11-08", "unchanged"),
        (B, "2026-11-15", "unchanged"),
        (C, "2026-11-01", "new"), (C, "2026-11-08", "removed"), (C, "2026-11-15", "new")]
    b3 = objects[5]
    assert b3["time"] == "2026-11-15T06:00:02+00:00"
    assert b3["ai_optout"] == ["robots:GPTBot", "tdmrep"] and b3["tdm_reserved"] is True
    assert b3["license"] == "CC-BY-SA-4.0" and b3["license_category"] == "copyleft"
    assert b3["status"] == 200 and b3["warc_file"] == "crawl-00001.warc.gz"
    assert objects[7]["status"] == 404 and objects[7]["license"] is None
    assert objects[4]["ref_record_id"] == record_id(B, T0 + 2)


def test_since_keeps_later_observations_only(state: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = history(capsys, str(state), "--json", "--since", "2026-11-08")
    assert {o["run"] for o in json_lines(out)} == {"2026-11-08", "2026-11-15"}
    # a time with an offset: 2026-11-15T07:00:02+01:00 is B's third observation exactly
    _, out, _ = history(capsys, str(state), "--json", "--since", "2026-11-15T07:00:02+01:00")
    assert [(o["url"], o["run"]) for o in json_lines(out)] == [(B, "2026-11-15"),
                                                               (C, "2026-11-15")]


def test_unknown_url_is_said_on_stderr(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = history(capsys, str(state), A, "https://site.example/nope")
    assert code == 0 and out.startswith(A)
    assert err == "licrawl history: no observations of https://site.example/nope\n"


def test_more_observations_than_one_page_of_the_store(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    """The store is read in pages of 2,000; every observation comes out once, in order."""
    urls = [f"https://many.example/{i:05d}" for i in range(1500)]
    record_run(tmp_path, "r1", T0, [page(u, T0 + 1) for u in urls])
    record_run(tmp_path, "r2", T0 + DAY, [page(u, T0 + DAY + 1, "unchanged") for u in urls])
    _, out, _ = history(capsys, str(tmp_path), "--json")
    got = [(o["url"], o["run"]) for o in json_lines(out)]
    assert got == [(u, r) for u in urls for r in ("r1", "r2")]


# --------------------------------------------------------------------------- changes

def test_changes_as_text(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = history(capsys, str(state), "--changes")
    assert code == 0
    assert out.splitlines() == [
        A,
        f"  2026-11-08T06:00:01Z  2026-11-08  license  CC-BY-4.0 -> {ARR}",
        B,
        "  2026-11-08T06:00:02Z  2026-11-08  opt-out  added robots:GPTBot",
        "  2026-11-15T06:00:02Z  2026-11-15  tdm      reservation added",
        C,
        "  2026-11-08T06:00:03Z  2026-11-08  status   page removed",
        "  2026-11-15T06:00:03Z  2026-11-15  status   page back again",
        "5 changes in 3 URLs",
    ]


def test_changes_as_json(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = history(capsys, str(state), "--changes", "--json")
    assert code == 0
    assert json_lines(out) == [
        {"url": A, "time": "2026-11-08T06:00:01+00:00", "field": "license",
         "old": "CC-BY-4.0", "new": ARR},
        {"url": B, "time": "2026-11-08T06:00:02+00:00", "field": "ai_optout",
         "old": [], "new": ["robots:GPTBot"]},
        {"url": B, "time": "2026-11-15T06:00:02+00:00", "field": "tdm_reserved",
         "old": False, "new": True},
        {"url": C, "time": "2026-11-08T06:00:03+00:00", "field": "status",
         "old": "present", "new": "removed"},
        {"url": C, "time": "2026-11-15T06:00:03+00:00", "field": "status",
         "old": "removed", "new": "present"},
    ]


def test_changes_since_compare_with_the_observation_before(
        state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--since 2026-11-10 leaves the third run's changes, each found against the second
    run's observation (which is before that date)."""
    _, out, _ = history(capsys, str(state), "--changes", "--json", "--since", "2026-11-10")
    assert [(o["url"], o["field"], o["new"]) for o in json_lines(out)] == [
        (B, "tdm_reserved", True), (C, "status", "present")]
    _, out, _ = history(capsys, str(state), C, "--changes", "--since", "2026-11-10")
    assert out.splitlines()[-1] == "1 change in 1 URL since 2026-11-10T00:00:00Z"


def test_an_opt_out_removed_and_a_license_back(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    record_run(tmp_path, "r1", T0, [page(A, T0, ai_optout=("meta:noai", "robots:CCBot"))])
    record_run(tmp_path, "r2", T0 + DAY, [page(A, T0 + DAY, "changed", license="MIT",
                                               ai_optout=("robots:CCBot",))])
    _, out, _ = history(capsys, str(tmp_path), "--changes")
    assert out.splitlines()[1:3] == [
        "  2026-11-02T06:00:00Z  r2  license  CC-BY-4.0 -> MIT",
        "  2026-11-02T06:00:00Z  r2  opt-out  removed meta:noai"]


# --------------------------------------------------------------------------- runs

def test_runs_with_their_summaries(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = history(capsys, str(state), "--runs")
    assert code == 0
    assert out.splitlines()[1] == ("2026-11-08  started 2026-11-08T06:00:00Z  ended "
                                   "2026-11-08T06:10:00Z  rows=1  changed=1  removed=1")
    _, out, _ = history(capsys, str(state), "--runs", "--json")
    assert json_lines(out)[0] == {"run": "2026-11-01", "started": "2026-11-01T06:00:00+00:00",
                                  "ended": "2026-11-01T06:10:00+00:00",
                                  "summary": {"rows": 3, "errors": 0}}


# --------------------------------------------------------------------------- bad input

def test_missing_state_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = history(capsys, str(tmp_path / "none"))
    assert code == 2 and out == ""
    assert err == f"licrawl history: {tmp_path / 'none'}: no crawl state here " \
                  "(state.sqlite missing)\n"


def test_corrupt_state_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "state.sqlite").write_bytes(b"not a database, just bytes\n" * 100)
    code, out, err = history(capsys, str(tmp_path), "--changes")
    assert code == 2 and out == ""
    assert err.startswith(f"licrawl history: {tmp_path / 'state.sqlite'}: not a usable "
                          "crawl state (file is not a database)")


def test_state_of_a_newer_format(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(state / "state.sqlite") as db:
        db.execute("PRAGMA user_version=99")
    code, out, err = history(capsys, str(state))
    assert code == 2 and out == ""
    assert err == (f"licrawl history: {state / 'state.sqlite'} was written by a newer licrawl "
                   "(state format 99; this one reads up to 1)\n")


@pytest.mark.parametrize("date", ["yesterday", "2026-13-01", "01/11/2026"])
def test_bad_since_date(state: Path, capsys: pytest.CaptureFixture[str], date: str) -> None:
    code, out, err = history(capsys, str(state), "--since", date)
    assert code == 2 and out == ""
    assert err.startswith(f"licrawl history: --since {date!r}: not an ISO 8601 date")


def test_runs_takes_no_url(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = history(capsys, str(state), A, "--runs")
    assert code == 2 and "--runs lists the runs" in err


def test_the_licrawl_command_prints_history_and_stops_quietly_at_a_closed_pipe(
        state: Path) -> None:
    """The console entry point, in a pipe that its reader closes after one line."""
    proc = subprocess.run(
        f"{sys.executable} -m crawler.cli history {state} | head -n 1", shell=True,
        capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout == f"{A}\n"
    assert proc.stderr == ""
