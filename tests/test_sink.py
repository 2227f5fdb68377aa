"""The one sink: rows to shards, error records to JSONL, a refused row as a ``bad-row``
error record, for ``process`` and for a real crawl alike."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from crawler.core.errors import ErrorRecord, read_errors
from crawler.stages.sink import ResultSink, RunSummary

sys.path.insert(0, str(Path(__file__).parent / "site"))
sys.path.insert(0, str(Path(__file__).parent))
from factories import make_row  # noqa: E402
from helpers.badrow_inspect import BAD_SUFFIX  # noqa: E402
from testsite import make_site  # noqa: E402

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0", "-s",
        "DOWNLOAD_TIMEOUT=1", "-s", "LICRAWL_RETRY_BACKOFF_BASE=0.05", "-s",
        "DOWNLOAD_MAXSIZE=200000", "--workers", "1"]


def test_sink_writes_rows_and_turns_a_refused_row_into_an_error_record(tmp_path: Path) -> None:
    summary = RunSummary(crawl_id="t-sink")
    sink = ResultSink(tmp_path, summary)
    good = make_row(url="https://example.org/good")
    bad = make_row(url="https://example.org/bad", warc_file="warc/a.warc.gz",
                   warc_record_id="<urn:uuid:1>")
    bad["license_confidence"] = "very high"
    written = sink.put(bad)
    sink.put(good)
    sink.put(ErrorRecord(url="https://example.org/gone", stage="fetch", reason="http-error",
                         http_status=404, fetched_at=datetime(2024, 1, 1, tzinfo=UTC)))
    sink.close()
    assert isinstance(written, ErrorRecord) and written.reason == "bad-row"
    rows = [r for shard in summary.shards for r in pq.read_table(shard).to_pylist()]
    assert [r["url"] for r in rows] == ["https://example.org/good"]
    errors = {e.url: e for e in read_errors(tmp_path / "errors")}
    assert set(errors) == {"https://example.org/bad", "https://example.org/gone"}
    assert errors["https://example.org/bad"].stage == "inspect"
    assert "license_confidence" in errors["https://example.org/bad"].detail
    assert errors["https://example.org/bad"].warc_record_id == "<urn:uuid:1>"
    assert summary.rows == 1 and summary.errors == {"inspect/bad-row": 1, "fetch/http-error": 1}


def test_crawl_keeps_a_row_the_schema_refuses_as_an_error_record(tmp_path: Path) -> None:
    tests = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tests), os.environ.get("PYTHONPATH", "")])}
    with make_site(crawl_delay=0) as site:
        out = tmp_path / "out"
        result = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "crawl", site.url + "/", "--out", str(out),
             "-s", "LICRAWL_INSPECT_FN=helpers.badrow_inspect.inspect", *FAST],
            capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [r for shard in sorted((out / "data").glob("*.parquet"))
            for r in pq.read_table(shard).to_pylist()]
    errors = list(read_errors(out / "errors"))
    bad = [e for e in errors if e.url.endswith(BAD_SUFFIX)]
    assert len(bad) == 1 and bad[0].reason == "bad-row"
    assert bad[0].warc_file and bad[0].warc_record_id
    assert not [r for r in rows if r["url"].endswith(BAD_SUFFIX)]
    assert len(rows) > 5  # the other pages still became rows
    assert "inspect/bad-row" in result.stdout + result.stderr
