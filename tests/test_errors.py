"""Error records: written as JSON Lines by ErrorWriter, read back by read_errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.core.errors import ErrorRecord, ErrorWriter, read_errors

T0 = datetime(2024, 5, 1, 12, 30, 0, 5, tzinfo=UTC)


def test_write_and_read_back(tmp_path: Path) -> None:
    records = [
        ErrorRecord("https://a.example/x.pdf", "classify", "not-html", "application/pdf", 200,
                    T0, "warc/a.warc.gz", "<urn:uuid:1>", "c1"),
        ErrorRecord("https://a.example/slow", "timeout", "timeout", "over 30s", 200, T0,
                    crawl_id="c1"),
        ErrorRecord("https://b.example/", "fetch", "dns-error", "no such host ü"),
    ]
    with ErrorWriter(tmp_path / "errors") as w:
        for r in records:
            w.write(r)
        # every record is on disk before close (line-buffered)
        assert len(w.path.read_text("utf-8").splitlines()) == 3
    assert w.path.parent == tmp_path / "errors" and w.path.suffix == ".jsonl"
    assert list(read_errors(w.path)) == records
    assert list(read_errors(tmp_path / "errors")) == records
    first = json.loads(w.path.read_text("utf-8").splitlines()[0])
    assert first["fetched_at"] == "2024-05-01T12:30:00.000005+00:00"
    assert first["stage"] == "classify" and first["reason"] == "not-html"


def test_each_writer_has_its_own_file(tmp_path: Path) -> None:
    a, b = ErrorWriter(tmp_path), ErrorWriter(tmp_path)
    a.write(ErrorRecord("u1", "fetch", "x"))
    b.write(ErrorRecord("u2", "fetch", "y"))
    assert a.close() != b.close()
    assert sorted(r.url for r in read_errors(tmp_path)) == ["u1", "u2"]


def test_a_line_cut_by_a_crash_is_skipped(tmp_path: Path) -> None:
    w = ErrorWriter(tmp_path)
    w.write(ErrorRecord("u1", "inspect", "worker-crashed"))
    w.close()
    with open(w.path, "a", encoding="utf-8") as fh:
        fh.write('{"url": "u2", "sta')
    assert [r.url for r in read_errors(w.path)] == ["u1"]


def test_unknown_stage_is_refused_and_closed_writer_too(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="stage"):
        ErrorRecord("u", "parsing", "x")
    w = ErrorWriter(tmp_path)
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.write(ErrorRecord("u", "fetch", "x"))
