"""``licrawl filter --state DIR``: documents whose URL was removed or opted out after they
were collected are excluded (``removed``, ``later-optout:<signal>``), keep their own
license otherwise, and are counted in the report; ``--ignore-later-changes`` keeps them.

The state folders are recorded with CrawlState as a job's runs would; the shards are built
with the test factories and read back with pyarrow."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler.cli import main
from crawler.core.schema import record_schema
from crawler.state.store import CrawlState
from tests.factories import make_row
from tests.helpers.crawl_state import DAY, T0, gone, page, record_run

SITE = "https://site.example"
ARR = "LicenseRef-All-Rights-Reserved"
#: url -> the row collected in the first run, and what the second run saw of the URL
CASES: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
    # now all rights reserved, but collected under CC BY: kept with CC-BY-4.0
    "relicensed": ({}, {"outcome": "changed", "license": ARR,
                        "license_category": "all-rights-reserved"}),
    "gptbot-later": ({}, {"ai_optout": ("robots:GPTBot",)}),
    "noai-later": ({}, {"ai_optout": ("meta:noai", "robots:CCBot")}),  # the first signal
    "tdm-later": ({}, {"tdm_reserved": True, "ai_optout": ("tdmrep",)}),
    "removed": ({}, None),
    "same-optout": ({"ai_optout": ["robots:GPTBot"]}, {"ai_optout": ("robots:GPTBot",)}),
    "error-now": ({}, {"outcome": "error", "status": 503, "text_sha1": None,
                       "license": None}),
    "never-seen": ({}, {}),  # not in the state at all
    "unchanged": ({}, {}),
}
EXPECTED_EXCLUDED = {
    "gptbot-later": "later-optout:robots:GPTBot",
    "noai-later": "later-optout:meta:noai",
    "tdm-later": "later-optout:tdmrep",
    "removed": "removed",
    "same-optout": "optout:robots:GPTBot",  # the row's own opt-out, as without --state
}


def url(name: str) -> str:
    return f"{SITE}/{name}"


def build_job(tmp_path: Path) -> tuple[Path, Path]:
    """The first run's shard of every case and a state of two runs; (shard, state)."""
    state = tmp_path / "state"
    rows, first, second = [], [], []
    for name, (row, later) in CASES.items():
        rows.append(make_row(url=url(name), text=f"The {name} page. Licensed CC BY 4.0.",
                             **row))
        if name == "never-seen":
            continue
        first.append(page(url(name), T0 + 1, ai_optout=tuple(row.get("ai_optout", ()))))
        if later is None:
            second.append(gone(url(name), T0 + DAY + 1, status=410))
        else:
            fields = {"outcome": "unchanged", **later}
            second.append(page(url(name), T0 + DAY + 1, **fields))
    record_run(state, "r1", T0, first)
    record_run(state, "r2", T0 + DAY, second)
    shard = tmp_path / "in" / "part-00000.parquet"
    shard.parent.mkdir()
    pq.write_table(pa.Table.from_pylist(rows, schema=record_schema()), shard)
    return shard, state


def read_rows(folder: Path) -> list[dict[str, Any]]:
    files = sorted((folder / "data").glob("*.parquet"))
    return pa.concat_tables(pq.read_table(f) for f in files).to_pylist() if files else []


def licrawl_filter(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["filter", *args, "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def job(tmp_path: Path) -> tuple[Path, Path]:
    return build_job(tmp_path)


def test_later_changes_exclude_with_their_reasons(
        tmp_path: Path, job: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    shard, state = job
    code, out, err = licrawl_filter(capsys, str(shard), "--out", str(tmp_path / "out"),
                                    "--excluded", str(tmp_path / "x"), "--state", str(state),
                                    "--batch-rows", "4")
    assert code == 0, err
    excluded = {r["url"]: r["filter_reason"] for r in read_rows(tmp_path / "x")}
    assert excluded == {url(n): reason for n, reason in EXPECTED_EXCLUDED.items()}
    kept = {r["url"]: r for r in read_rows(tmp_path / "out")}
    assert sorted(kept) == sorted(url(n) for n in CASES if n not in EXPECTED_EXCLUDED)
    assert kept[url("relicensed")]["license"] == "CC-BY-4.0"  # the row's own license
    assert kept[url("relicensed")]["license_category"] == "permissive"

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["excluded_by_reason"] == {
        "later-optout:meta:noai": 1, "later-optout:robots:GPTBot": 1,
        "later-optout:tdmrep": 1, "optout:robots:GPTBot": 1, "removed": 1}
    assert report["later_changes"] == {"later-optout:meta:noai": 1,
                                       "later-optout:robots:GPTBot": 1,
                                       "later-optout:tdmrep": 1, "removed": 1}
    assert report["kept"] == 4 and report["excluded"] == 5
    assert report["settings"]["state"] == str(state.resolve())
    assert report["settings"]["exclude_later_changes"] is True
    assert (f"since     1 removed, 3 opted out later, per the crawl state {state.resolve()}: "
            "excluded") in out.splitlines()
    assert "  removed  " in out and "  later-optout:tdmrep  " in out


def test_ignore_later_changes_keeps_them_and_still_counts_them(
        tmp_path: Path, job: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    shard, state = job
    code, out, _ = licrawl_filter(capsys, str(shard), "--out", str(tmp_path / "out"),
                                  "--excluded", str(tmp_path / "x"), "--state", str(state),
                                  "--ignore-later-changes")
    assert code == 0
    assert {r["url"]: r["filter_reason"] for r in read_rows(tmp_path / "x")} == {
        url("same-optout"): "optout:robots:GPTBot"}
    assert len(read_rows(tmp_path / "out")) == len(CASES) - 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["excluded_by_reason"] == {"optout:robots:GPTBot": 1}
    assert sum(report["later_changes"].values()) == 4
    assert report["settings"]["exclude_later_changes"] is False
    assert "opted out later" in out and "kept (--ignore-later-changes)" in out


def test_without_state_nothing_changes(tmp_path: Path, job: tuple[Path, Path],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    shard, _ = job
    code, out, _ = licrawl_filter(capsys, str(shard), "--out", str(tmp_path / "out"))
    assert code == 0 and "since " not in out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["excluded_by_reason"] == {"optout:robots:GPTBot": 1}
    assert report["later_changes"] == {} and report["settings"]["state"] is None


def test_later_reasons_in_worker_processes(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Two shards in two worker processes (the state opened in each), small batches."""
    shard, state = build_job(tmp_path)
    other = shard.with_name("part-00001.parquet")
    table = pq.read_table(shard)
    pq.write_table(table.set_column(table.schema.get_field_index("id"), "id",
                                    pa.array([f"{i:040x}" for i in range(table.num_rows)])),
                   other)
    code, _, err = licrawl_filter(capsys, str(shard.parent), "--out", str(tmp_path / "out"),
                                  "--excluded", str(tmp_path / "x"), "--state", str(state),
                                  "--jobs", "2", "--batch-rows", "3")
    assert code == 0, err
    reasons = sorted(r["filter_reason"] for r in read_rows(tmp_path / "x"))
    assert reasons == sorted(list(EXPECTED_EXCLUDED.values()) * 2)


def test_the_latest_run_decides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Removed in run 2, back in run 3 without opt-out: kept; opted out in run 2, not in
    run 3: kept; present in run 2, removed in run 3: removed."""
    shard, state = build_job(tmp_path)
    with CrawlState(state, "r3", now=T0 + 2 * DAY) as s:
        s.record(page(url("removed"), T0 + 2 * DAY))
        s.record(page(url("gptbot-later"), T0 + 2 * DAY))
        s.record(gone(url("unchanged"), T0 + 2 * DAY))
    code, _, _ = licrawl_filter(capsys, str(shard), "--out", str(tmp_path / "out"),
                                "--excluded", str(tmp_path / "x"), "--state", str(state))
    assert code == 0
    excluded = {r["url"]: r["filter_reason"] for r in read_rows(tmp_path / "x")}
    assert url("removed") not in excluded and url("gptbot-later") not in excluded
    assert excluded[url("unchanged")] == "removed"


def test_latest_of_many_urls_in_chunks(tmp_path: Path) -> None:
    """CrawlState.latest over more URLs than one query takes; unknown URLs left out."""
    urls = [f"{SITE}/many/{i}" for i in range(1200)]
    record_run(tmp_path, "r1", T0, [page(u, T0) for u in urls])
    record_run(tmp_path, "r2", T0 + DAY, [gone(u, T0 + DAY) for u in urls[::2]])
    with CrawlState(tmp_path) as state:
        latest = state.latest([*urls, f"{SITE}/unknown", urls[0]])
    assert sorted(latest) == sorted(urls)
    assert {latest[u].outcome for u in urls[::2]} == {"removed"}
    assert {latest[u].run_id for u in urls[1::2]} == {"r1"}


# --------------------------------------------------------------------------- bad input

def test_bad_state_folders_are_clear_errors(tmp_path: Path, job: tuple[Path, Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    shard, state = job
    out = str(tmp_path / "out")
    code, _, err = licrawl_filter(capsys, str(shard), "--out", out, "--state",
                                  str(tmp_path / "none"))
    assert code == 2
    assert err == (f"licrawl filter: error: {tmp_path / 'none'}: no crawl state here "
                   "(state.sqlite missing)\n")
    with sqlite3.connect(state / "state.sqlite") as db:
        db.execute("PRAGMA user_version=99")
    code, _, err = licrawl_filter(capsys, str(shard), "--out", out, "--state", str(state))
    assert code == 2 and "was written by a newer licrawl (state format 99" in err
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "state.sqlite").write_bytes(b"\0garbage" * 512)
    code, _, err = licrawl_filter(capsys, str(shard), "--out", out, "--state", str(corrupt))
    assert code == 2 and "not a usable crawl state" in err
    assert not (tmp_path / "out").exists()


def test_ignore_later_changes_needs_state(tmp_path: Path, job: tuple[Path, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    shard, _ = job
    code, _, err = licrawl_filter(capsys, str(shard), "--out", str(tmp_path / "out"),
                                  "--ignore-later-changes")
    assert code == 2
    assert err == "licrawl filter: error: --ignore-later-changes needs --state DIR\n"


def test_on_ray(tmp_path: Path, job: tuple[Path, Path],
                capsys: pytest.CaptureFixture[str]) -> None:
    """The state path travels to Ray tasks (a local Ray instance started by the command)."""
    pytest.importorskip("ray")
    shard, state = job
    code, _, err = licrawl_filter(capsys, str(shard), "--out", str(tmp_path / "out"),
                                  "--excluded", str(tmp_path / "x"), "--state", str(state),
                                  "--executor", "ray", "--jobs", "1")
    assert code == 0, err[-2000:]
    excluded = {r["url"]: r["filter_reason"] for r in read_rows(tmp_path / "x")}
    assert excluded == {url(n): reason for n, reason in EXPECTED_EXCLUDED.items()}
