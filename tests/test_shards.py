"""The Parquet shard writer: round trip, rotation, atomic names, metadata, crash safety."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import make_row
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from crawler.core.schema import SCHEMA_NAME_KEY, SCHEMA_VERSION_KEY, record_schema, schema_version
from crawler.store import spdx
from crawler.store.shards import (
    _ROWS_PER_BATCH,
    ShardWriter,
    _spdx_columns,
    iter_shard_files,
    rows_to_batch,
)

TESTS = Path(__file__).parent
NAME = re.compile(r"part-\d{8}T\d{6}-[A-Za-z0-9.-]+-\d+-[0-9a-f]{6}-\d{5}\.parquet")


def _rows(n: int, start: int = 0, text_size: int = 20) -> list[dict]:
    """``n`` distinct valid rows with exactly representable floats."""
    out = []
    for i in range(start, start + n):
        out.append(make_row(
            url=f"https://example.org/doc/{i}",
            text=f"document {i} " + "x" * text_size,
            fetched_at=datetime(2024, 5, 1, tzinfo=UTC) + timedelta(seconds=i),
            license_confidence=0.75,
            license_category=["permissive", "copyleft", "unknown"][i % 3],
            license=["CC-BY-4.0", "CC-BY-SA-4.0", "NOASSERTION"][i % 3],
            license_evidence=[{"kind": "meta", "value": "v", "spdx": "CC-BY-4.0",
                               "where": "head", "weight": 0.5}] if i % 2 else [],
        ))
    return out


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """The shard folder of an output folder, ``DIR/data`` (its SPDX documents: ``DIR/spdx``)."""
    return tmp_path / "data"


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_rows_read_back_equal_what_was_written(data: Path) -> None:
    rows = _rows(7)
    with ShardWriter(data) as writer:
        for row in rows:
            writer.write(row)
    assert writer.rows_written == 7
    [shard] = writer.completed
    table = pq.read_table(shard)
    assert table.to_pylist() == rows
    schema = table.schema
    assert pa.types.is_dictionary(schema.field("license_category").type)
    assert schema.field("fetched_at").type == pa.timestamp("us", tz="UTC")
    evidence = schema.field("license_evidence").type
    assert pa.types.is_list(evidence) and pa.types.is_struct(evidence.value_type)


def test_row_group_buffered_as_several_batches_reads_back_whole(data: Path) -> None:
    # more rows than are buffered as dicts: the row group is made of several Arrow batches,
    # each with its own license_category dictionary
    rows = _rows(2 * _ROWS_PER_BATCH + 7)
    with ShardWriter(data) as writer:
        for row in rows:
            writer.write(row)
    [shard] = writer.completed
    assert pq.ParquetFile(shard).metadata.num_row_groups == 1
    assert pq.read_table(shard).to_pylist() == rows
    files = parse_file(str(spdx.spdx_path_for(shard))).files
    assert [f.name for f in files] == [row["url"] for row in rows]


def test_rotation_by_rows_and_row_groups(data: Path) -> None:
    with ShardWriter(data, max_rows=10, row_group_rows=4) as writer:
        for row in _rows(25):
            writer.write(row)
    files = [pq.ParquetFile(p) for p in writer.completed]
    assert [f.metadata.num_rows for f in files] == [10, 10, 5]
    assert [f.metadata.num_row_groups for f in files] == [3, 3, 2]
    assert writer.close() == writer.completed  # closing twice is harmless
    names = [p.name for p in writer.completed]
    assert all(NAME.fullmatch(n) for n in names)
    assert [n[-13:-8] for n in names] == ["00001", "00002", "00003"]


def test_rotation_by_bytes(data: Path) -> None:
    rows = _rows(30, text_size=10_000)
    with ShardWriter(data, max_bytes=50_000, row_group_bytes=25_000) as writer:
        for row in rows:
            writer.write(row)
    counts = [pq.ParquetFile(p).metadata.num_rows for p in writer.completed]
    assert sum(counts) == 30
    assert len(counts) >= 6 and max(counts) <= 5
    assert all(pq.ParquetFile(p).metadata.num_row_groups >= 2 for p in writer.completed[:-1])


def test_write_batch_rotates_by_bytes(data: Path) -> None:
    table = pa.Table.from_batches([rows_to_batch(_rows(30, text_size=10_000))])
    with ShardWriter(data, max_bytes=50_000) as writer:
        writer.write_batch(table)
    counts = [pq.ParquetFile(p).metadata.num_rows for p in writer.completed]
    assert sum(counts) == 30
    assert len(counts) >= 6 and max(counts) <= 5
    assert pq.read_table(writer.completed).equals(table)


def test_write_batch_casts_and_rotates(data: Path) -> None:
    rows = _rows(25)
    table = pa.Table.from_batches([rows_to_batch(rows)])
    wide = table.set_column(table.schema.get_field_index("http_status"), "http_status",
                            table["http_status"].cast(pa.int64()))
    category = wide.schema.get_field_index("license_category")
    wide = wide.set_column(category, "license_category",
                           wide["license_category"].cast(pa.string()))
    with ShardWriter(data, max_rows=10) as writer:
        writer.write(rows[0])
        writer.write_batch(wide.slice(1))
    assert [pq.ParquetFile(p).metadata.num_rows for p in writer.completed] == [10, 10, 5]
    assert pq.read_table(writer.completed).to_pylist() == rows


def test_write_batch_rejects_nulls_and_empty_text(data: Path) -> None:
    table = pa.Table.from_batches([rows_to_batch(_rows(3))])
    url = table.schema.get_field_index("url")
    text = table.schema.get_field_index("text")
    with ShardWriter(data) as writer:
        with pytest.raises(ValueError, match=r"non-null column\(s\) \['url'\]"):
            writer.write_batch(table.set_column(url, "url", pa.array([None, "u", "v"],
                                                                      pa.string())))
        with pytest.raises(ValueError, match="empty text"):
            writer.write_batch(table.set_column(text, "text", pa.array(["", "a", "b"])))
        with pytest.raises(ValueError, match="column 'license'"):
            writer.write_batch(table.set_column(table.schema.get_field_index("license"),
                                                "license", pa.array(["MIT", "Bogus-9", "MIT"])))
        writer.write_batch(table)
    assert pq.read_table(writer.completed).num_rows == 3


def test_names_unique_across_writers_sharing_a_folder(data: Path) -> None:
    a = ShardWriter(data, max_rows=3)
    b = ShardWriter(data, max_rows=3)
    for row in _rows(9):
        a.write(row)
        b.write(row)
    shards = a.close() + b.close()
    assert len(shards) == 6 and len({p.name for p in shards}) == 6
    assert sorted(p.name for p in shards) == _visible(data)  # the folder holds only shards
    assert _visible(data.parent / "spdx") == sorted(spdx.spdx_path_for(p).name for p in shards)


def test_unfinished_shard_is_never_visible(data: Path) -> None:
    writer = ShardWriter(data, row_group_rows=2)
    for row in _rows(5):
        writer.write(row)
    hidden = [p.name for p in data.iterdir()]
    assert len(hidden) == 1 and hidden[0].startswith(".") and hidden[0].endswith(".tmp")
    assert list(iter_shard_files([data])) == []
    assert not (data.parent / "spdx").exists()  # no document before the shard ends
    writer.abort()
    assert list(data.iterdir()) == []
    assert writer.completed == []
    with pytest.raises(ValueError, match="closed"):
        writer.write(_rows(1)[0])


def test_exception_in_with_drops_only_the_open_shard(data: Path) -> None:
    with pytest.raises(RuntimeError), ShardWriter(data, max_rows=5,
                                                  row_group_rows=2) as writer:
        for row in _rows(8):
            writer.write(row)
        raise RuntimeError("crawl failed")
    [shard] = writer.completed
    assert _visible(data) == [shard.name]
    assert _visible(data.parent / "spdx") == [spdx.spdx_path_for(shard).name]
    assert [p for p in data.iterdir() if p.name.startswith(".")] == []
    assert [p for p in (data.parent / "spdx").iterdir() if p.name.startswith(".")] == []
    assert pq.read_table(shard).num_rows == 5


def test_metadata_and_codec(data: Path) -> None:
    with ShardWriter(data, extra_metadata={"crawl_id": "crawl-42", "note": "x"}) as writer:
        for row in _rows(3):
            writer.write(row)
    meta = pq.ParquetFile(writer.completed[0]).metadata
    kv = meta.metadata
    assert kv[SCHEMA_VERSION_KEY] == schema_version().encode()
    assert kv[SCHEMA_NAME_KEY] == record_schema().metadata[SCHEMA_NAME_KEY]
    assert kv[b"crawl_id"] == b"crawl-42" and kv[b"note"] == b"x"
    group = meta.row_group(0)
    assert {group.column(i).compression for i in range(group.num_columns)} == {"ZSTD"}
    [package] = parse_file(str(spdx.spdx_path_for(writer.completed[0]))).packages
    assert package.version == "crawl-42"  # the crawl id is the shard Package's version


def test_each_shard_has_a_valid_spdx_document(data: Path) -> None:
    rows = _rows(12)
    rows[0] = make_row(url="https://example.org/es", text="es",
                       license="LicenseRef-CC-BY-SA-3.0-ES", license_category="copyleft")
    rows[1] = make_row(url="https://example.org/pd", text="pd",
                       license="LicenseRef-PublicDomain", license_category="public-domain")
    with ShardWriter(data, max_rows=8) as writer:
        for row in rows:
            writer.write(row)
    for shard in writer.completed:
        doc_path = spdx.spdx_path_for(shard)
        doc = parse_file(str(doc_path))
        assert validate_full_spdx_document(doc) == []
        assert len(doc.files) == pq.ParquetFile(shard).metadata.num_rows
        [package] = doc.packages
        assert package.checksums[0].value == hashlib.sha1(shard.read_bytes()).hexdigest()
    first = json.loads(spdx.spdx_path_for(writer.completed[0]).read_text("utf-8"))
    declared = {info["licenseId"] for info in first["hasExtractedLicensingInfos"]}
    assert declared == {"LicenseRef-CC-BY-SA-3.0-ES", "LicenseRef-PublicDomain"}
    assert [f["licenseConcluded"] for f in first["files"][:2]] == [
        "LicenseRef-CC-BY-SA-3.0-ES", "LicenseRef-PublicDomain"]


def test_spdx_document_of_sliced_batches_follows_every_rows_evidence(data: Path) -> None:
    ids = ["CC-BY-4.0", "MIT", "NOASSERTION", "LicenseRef-All-Rights-Reserved", "CC0-1.0"]
    rows = []
    for i in range(40):
        evidence = [{"kind": "meta", "value": f"v{k}", "spdx": ids[(i + k) % 5] if k else None,
                     "where": "head", "weight": 0.5} for k in range(i % 4)]
        rows.append(make_row(url=f"https://example.org/e/{i}", text=f"evidence {i}",
                             license=ids[i % 5], license_evidence=evidence))
    table = pa.Table.from_pylist(rows, schema=record_schema())
    with ShardWriter(data, max_rows=15, row_group_rows=4) as writer:
        for start in range(3, 40, 9):  # slices at non-zero offsets, across row groups
            writer.write_batch(table.slice(start, 9))
    kept = rows[3:]
    written = [f for shard in writer.completed
               for f in json.loads(spdx.spdx_path_for(shard).read_text("utf-8"))["files"]]
    expected = spdx.build_document(kept, name="x", namespace="https://example.org/x").files
    assert [f["fileName"] for f in written] == [row["url"] for row in kept]
    assert [f["licenseInfoInFiles"] for f in written] == [
        [str(v) for v in f.license_info_in_file] for f in expected]
    assert {tuple(f["licenseInfoInFiles"]) for f in written} > {("NOASSERTION",)}
    # the columns kept for the document, from an array that starts at an offset
    sliced = pa.Table.from_batches([table.to_batches()[0].slice(7, 20)])
    assert sliced["license_evidence"].chunks[0].offset == 7
    assert _spdx_columns(sliced)["license_evidence"].to_pylist() == [
        [{"spdx": e["spdx"]} for e in row["license_evidence"]] for row in rows[7:27]]


def test_custom_schema_with_extra_column(data: Path) -> None:
    schema = record_schema().append(pa.field("filter_reason", pa.string()))
    rows = [dict(row, filter_reason="opted-out") for row in _rows(4)]
    with ShardWriter(data, schema=schema, prefix="excluded") as writer:
        for row in rows:
            writer.write(row)
    [shard] = writer.completed
    assert shard.name.startswith("excluded-")
    assert pq.read_table(shard).to_pylist() == rows
    assert validate_full_spdx_document(parse_file(str(spdx.spdx_path_for(shard)))) == []
    with pytest.raises(ValueError, match="spdx=True needs"):
        ShardWriter(data, schema=pa.schema([pa.field("text", pa.string())]))
    with ShardWriter(data, schema=pa.schema([pa.field("text", pa.string())]),
                     spdx=False) as plain:
        plain.write({"text": "hello"})
    assert not spdx.spdx_path_for(plain.completed[0]).exists()


@pytest.mark.parametrize(("change", "message"), [
    ({"text": ""}, "column 'text': empty"),
    ({"url": None}, "column 'url': null"),
    ({"http_status": "200"}, "column 'http_status': expected int"),
    ({"http_status": 70_000}, "out of range"),
    ({"fetched_at": datetime(2024, 1, 1)}, "column 'fetched_at': naive"),
    ({"licence": "MIT"}, "unknown column"),
    ({"license_evidence": [{"kind": "x", "spdx": 3}]}, "license_evidence.*'spdx'"),
    ({"license": "Foo-1.0"}, "column 'license'"),
    ({"text_sha1": "abc"}, "text_sha1"),
])
def test_bad_row_is_rejected_and_nothing_is_lost(data: Path, change: dict,
                                                 message: str) -> None:
    good = _rows(3)
    with ShardWriter(data) as writer:
        writer.write(good[0])
        with pytest.raises(ValueError, match=message):
            writer.write({**good[1], **change})
        writer.write(good[2])
    assert pq.read_table(writer.completed).to_pylist() == [good[0], good[2]]


def test_missing_column_and_rows_to_batch_errors_name_row_and_column() -> None:
    rows = _rows(3)
    del rows[2]["host"]
    with pytest.raises(ValueError, match=r"row 2 .*missing column 'host'"):
        rows_to_batch(rows)
    batch = rows_to_batch(_rows(2))
    assert batch.schema.equals(record_schema(), check_metadata=False)
    assert batch.num_rows == 2


def test_iter_shard_files_expands_folders_globs_and_files(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    for rel in ["a/1.parquet", "a/deep/2.parquet", "a/.3.parquet.tmp", "a/.4.parquet",
                ".hidden/5.parquet", "a/1.parquet.spdx.json", "b.parquet"]:
        (tmp_path / rel).write_bytes(b"")
    found = list(iter_shard_files([tmp_path / "a", str(tmp_path / "*.parquet"),
                                   tmp_path / "a" / "1.parquet"]))
    assert found == [tmp_path / "a/1.parquet", tmp_path / "a/deep/2.parquet",
                     tmp_path / "b.parquet"]
    with pytest.raises(FileNotFoundError):
        list(iter_shard_files([tmp_path / "missing"]))
    with pytest.raises(FileNotFoundError):
        list(iter_shard_files([str(tmp_path / "*.nothing")]))


def test_an_output_folder_gives_only_its_data_shards(tmp_path: Path) -> None:
    """A licrawl output folder (crawl, filter, dedup) holds other Parquet files beside its
    shards (copies.parquet, attribution.parquet): naming the folder reads data/ only."""
    out = tmp_path / "dedup-out"
    (out / "data").mkdir(parents=True)
    for rel in ["data/part-1.parquet", "copies.parquet", "attribution.parquet"]:
        (out / rel).write_bytes(b"")
    assert list(iter_shard_files([out])) == [out / "data" / "part-1.parquet"]
    # a folder above it is no output folder: every Parquet file under it, as before
    assert list(iter_shard_files([tmp_path])) == [out / "attribution.parquet",
                                                   out / "copies.parquet",
                                                   out / "data" / "part-1.parquet"]

_KILLED_WRITER = """
import sys, time
sys.path.insert(0, {tests!r})
from factories import make_row
from crawler.store.shards import ShardWriter
writer = ShardWriter({out!r}, max_rows=50, row_group_rows=10)
for i in range(125):
    writer.write(make_row(url=f"https://example.org/{{i}}", text=f"text {{i}}"))
print("ready", flush=True)
time.sleep(60)
"""


def test_sigkill_loses_at_most_the_unfinished_shard(data: Path) -> None:
    script = _KILLED_WRITER.format(tests=str(TESTS), out=str(data))
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    shards = list(iter_shard_files([data]))
    assert len(shards) == 2
    for shard in shards:
        assert pq.read_table(shard).num_rows == 50
        assert validate_full_spdx_document(parse_file(str(spdx.spdx_path_for(shard)))) == []
    leftovers = [p.name for p in data.iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 1 and leftovers[0].endswith(".parquet.tmp")
    assert _visible(data) == sorted(p.name for p in shards)
    assert _visible(data.parent / "spdx") == sorted(spdx.spdx_path_for(p).name for p in shards)
