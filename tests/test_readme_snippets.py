"""The README's crawl snippets, run as written: the offline demo, then reading its shards
with pyarrow, DuckDB and Hugging Face ``datasets``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = [sys.executable, "-m", "crawler.cli", "serve-demo", "--out", "out", "--workers", "1"]

PYARROW = """
import glob

import pyarrow.dataset as ds

# the .spdx.json documents live beside the shards: list the .parquet files
table = ds.dataset(sorted(glob.glob("out/data/*.parquet")), format="parquet").to_table(
    columns=["url", "license", "license_category", "ai_optout"],
    filter=ds.field("license_category").isin(["public-domain", "permissive", "copyleft"]),
)
print(table.num_rows, sorted(set(table.column("license").to_pylist())))
"""

DUCKDB = """
import duckdb

duckdb.sql(\"\"\"
    SELECT license, count(*) AS n
    FROM 'out/data/*.parquet'
    WHERE len(ai_optout) = 0 OR NOT list_contains(ai_optout, 'meta:noai')
    GROUP BY license ORDER BY n DESC, license
\"\"\").show()
"""

DATASETS = """
from datasets import load_dataset

docs = load_dataset("parquet", data_files="out/data/*.parquet", split="train")
print(len(docs), docs[0]["url"], docs[0]["license"])
"""


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the README's demo command in a fresh folder."""
    cwd = tmp_path_factory.mktemp("readme")
    result = subprocess.run(DEMO, cwd=cwd, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rows         10" in result.stdout
    return cwd


def run_snippet(code: str, cwd: Path) -> str:
    """Execute a snippet in ``cwd``; its printed output."""
    out = io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<readme>", "exec"), {})  # noqa: S102 - the README's code
    finally:
        os.chdir(old)
    return out.getvalue()


def test_demo_output_layout(demo_dir: Path) -> None:
    out = demo_dir / "out"
    assert list((out / "data").glob("*.parquet"))
    assert list((out / "data").glob("*.parquet.spdx.json"))
    assert list((out / "warc").glob("*.warc.gz"))
    errors = [json.loads(line) for f in (out / "errors").glob("*.jsonl")
              for line in f.read_text().splitlines()]
    assert [(e["stage"], e["reason"]) for e in errors] == [("robots", "robots-disallowed")]


def test_pyarrow_snippet(demo_dir: Path) -> None:
    printed = run_snippet(PYARROW, demo_dir)
    assert printed.startswith("5 ")
    assert "CC-BY-4.0" in printed and "CC0-1.0" in printed


def test_duckdb_snippet(demo_dir: Path) -> None:
    printed = run_snippet(DUCKDB, demo_dir)
    assert "NOASSERTION" in printed and "CC-BY-SA-4.0" in printed


def test_datasets_snippet(demo_dir: Path, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    printed = run_snippet(DATASETS, demo_dir)
    assert printed.startswith("10 http://127.0.0.1:")
