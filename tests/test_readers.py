"""Readers accept a shard folder: ``DIR/data`` holds only Parquet shards (the SPDX documents
are in ``DIR/spdx``), so the way training pipelines point at a dataset, the folder, works
with pyarrow, pandas, polars, DuckDB and Hugging Face ``datasets``."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from factories import make_row

from crawler.store.shards import ShardWriter
from crawler.store.spdx import spdx_path_for

ROWS = 7
MAX_ROWS = 4  # two shards: 4 + 3 rows


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder written by the real ShardWriter: two shards and their documents."""
    out = tmp_path_factory.mktemp("readers") / "out"
    licenses = ["CC-BY-4.0", "NOASSERTION", "LicenseRef-PublicDomain", "MIT"]
    with ShardWriter(out / "data", max_rows=MAX_ROWS,
                     extra_metadata={"crawl_id": "crawl-readers"}) as writer:
        for i in range(ROWS):
            writer.write(make_row(url=f"https://example.org/r/{i}", text=f"text {i}",
                                  license=licenses[i % len(licenses)]))
    assert len(writer.completed) == 2
    return out


def _ids(values: Iterable[object]) -> list[str]:
    return sorted(str(v) for v in values)


@pytest.fixture(scope="module")
def expected(out: Path) -> list[str]:
    """The row ids, read shard by shard."""
    return _ids(i for shard in sorted((out / "data").glob("*.parquet"))
                for i in pq.read_table(shard, columns=["id"])["id"].to_pylist())


def test_layout_shards_in_data_documents_in_spdx(out: Path, expected: list[str]) -> None:
    shards = sorted((out / "data").iterdir())
    assert [p.suffix for p in shards] == [".parquet", ".parquet"]
    assert sorted((out / "spdx").iterdir()) == [spdx_path_for(p) for p in shards]
    assert len(expected) == ROWS


def test_pyarrow_dataset_reads_the_folder(out: Path, expected: list[str]) -> None:
    table = ds.dataset(out / "data", format="parquet").to_table()
    assert _ids(table["id"].to_pylist()) == expected
    assert table.num_columns == len(pq.read_schema(next((out / "data").iterdir())))


def test_pyarrow_read_table_reads_the_folder(out: Path, expected: list[str]) -> None:
    assert _ids(pq.read_table(out / "data")["id"].to_pylist()) == expected
    assert _ids(pq.read_table(str(out / "data"))["id"].to_pylist()) == expected


def test_pandas_reads_the_folder(out: Path, expected: list[str]) -> None:
    frame = pd.read_parquet(out / "data")
    assert _ids(frame["id"]) == expected
    assert set(frame["license"]) == {"CC-BY-4.0", "NOASSERTION", "LicenseRef-PublicDomain",
                                     "MIT"}


def test_polars_reads_the_folder(out: Path, expected: list[str]) -> None:
    scanned = pl.scan_parquet(f"{out}/data/*.parquet").select("id").collect()
    assert _ids(scanned["id"]) == expected
    assert _ids(pl.read_parquet(out / "data")["id"]) == expected
    assert _ids(pl.read_parquet(f"{out}/data/")["id"]) == expected


@pytest.mark.parametrize("pattern", ["*.parquet", "**/*.parquet", "**"])
def test_duckdb_reads_the_folder(out: Path, expected: list[str], pattern: str) -> None:
    rows = duckdb.sql(f"SELECT id FROM read_parquet('{out}/data/{pattern}')").fetchall()
    assert _ids(r[0] for r in rows) == expected


def test_hf_datasets_reads_the_folder(out: Path, expected: list[str], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from datasets import load_dataset

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    docs = load_dataset("parquet", data_dir=str(out / "data"), split="train",
                        cache_dir=str(tmp_path / "hf-cache"))
    assert _ids(docs["id"]) == expected


def test_a_document_inside_the_folder_would_break_the_readers(out: Path,
                                                              tmp_path: Path) -> None:
    # the old layout (data/<shard>.parquet.spdx.json): what the move is for
    old = tmp_path / "data"
    shutil.copytree(out / "data", old)
    shard = next(old.iterdir())
    shutil.copy(spdx_path_for(out / "data" / shard.name), old / (shard.name + ".spdx.json"))
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(old)
    with pytest.raises(pa.ArrowInvalid):
        ds.dataset(old, format="parquet").to_table()
