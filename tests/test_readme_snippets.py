"""The README's crawl snippets, run as written: the offline demo, then reading its shard
folder ``out/data`` with pyarrow, pandas, polars, DuckDB and Hugging Face ``datasets``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

DEMO = [sys.executable, "-m", "crawler.cli", "serve-demo", "--out", "out", "--workers", "1"]

PYARROW = """
import pyarrow.dataset as ds

table = ds.dataset("out/data", format="parquet").to_table(
    columns=["url", "license", "license_category", "ai_optout"],
    filter=ds.field("license_category").isin(["public-domain", "permissive", "copyleft"]),
)
print(table.num_rows, sorted(set(table.column("license").to_pylist())))
"""

PANDAS = """
import pandas as pd

df = pd.read_parquet("out/data", columns=["url", "license", "license_category"])
print(len(df), df["license"].value_counts().to_dict())
"""

POLARS = """
import polars as pl

counts = pl.scan_parquet("out/data/*.parquet").group_by("license").len().sort("license")
print(counts.collect().rows())
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

docs = load_dataset("parquet", data_dir="out/data", split="train")
print(len(docs), docs[0]["url"], docs[0]["license"])
"""


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the README's demo command in a fresh folder."""
    cwd = tmp_path_factory.mktemp("readme")
    result = subprocess.run(DEMO, cwd=cwd, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = re.search(r"^rows +(\d+)$", result.stdout, re.M)
    assert rows and int(rows[1]) == len(_shard_rows(cwd)) > 0
    return cwd


def _shard_rows(cwd: Path) -> list[dict]:
    """The demo's rows, read shard file by shard file (not through a folder reader)."""
    return [row for shard in sorted((cwd / "out" / "data").glob("*.parquet"))
            for row in pq.read_table(shard, columns=["url", "license", "license_category",
                                                  "ai_optout"]).to_pylist()]


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
    shards = sorted(p.name for p in (out / "data").iterdir())
    assert shards and all(name.endswith(".parquet") for name in shards)  # shards only
    assert sorted(p.name for p in (out / "spdx").iterdir()) == [
        name.removesuffix(".parquet") + ".spdx.json" for name in shards]
    assert list((out / "warc").glob("*.warc.gz"))
    errors = [json.loads(line) for f in (out / "errors").glob("*.jsonl")
              for line in f.read_text().splitlines()]
    assert [(e["stage"], e["reason"]) for e in errors] == [("robots", "robots-disallowed")]


def test_pyarrow_snippet(demo_dir: Path) -> None:
    printed = run_snippet(PYARROW, demo_dir)
    licensed = [r for r in _shard_rows(demo_dir)
                if r["license_category"] in ("public-domain", "permissive", "copyleft")]
    assert licensed
    assert printed == f"{len(licensed)} {sorted({r['license'] for r in licensed})}\n"


def test_pandas_snippet(demo_dir: Path) -> None:
    printed = run_snippet(PANDAS, demo_dir)
    rows = _shard_rows(demo_dir)
    assert printed.startswith(f"{len(rows)} {{")
    assert all(f"'{r['license']}':" in printed for r in rows)


def test_polars_snippet(demo_dir: Path) -> None:
    printed = run_snippet(POLARS, demo_dir)
    licenses = [r["license"] for r in _shard_rows(demo_dir)]
    assert printed == f"{sorted((x, licenses.count(x)) for x in set(licenses))}\n"


def test_duckdb_snippet(demo_dir: Path) -> None:
    printed = run_snippet(DUCKDB, demo_dir)
    assert all(r["license"] in printed for r in _shard_rows(demo_dir)
               if "meta:noai" not in r["ai_optout"])


def test_datasets_snippet(demo_dir: Path, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    printed = run_snippet(DATASETS, demo_dir)
    assert printed.startswith(f"{len(_shard_rows(demo_dir))} http://127.0.0.1:")


def test_snippets_are_the_readme_s() -> None:
    """Each snippet run here is a ``python`` block of the README, character for character."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    for snippet in (PYARROW, PANDAS, POLARS, DUCKDB, DATASETS):
        assert snippet.lstrip("\n") in blocks
