"""Parquet shard writer: rotation, atomic rename, an SPDX document per shard (SPEC §1).

A shard is written as ``.<name>.tmp`` in the output folder and renamed to ``<name>`` only
when complete, after its SPDX document is in place in the sibling ``spdx`` folder (written
there as a hidden ``.*.tmp`` file and renamed, see :mod:`crawler.store.spdx`), so every
visible ``*.parquet`` is whole and has its SPDX document, and every visible SPDX document is
whole. The shard folder holds only shards, so readers can be pointed at the folder. A crash
or SIGKILL loses at most the unfinished shard and leaves only hidden ``.*.tmp`` files (and
at worst the SPDX document of a shard that was about to be renamed) behind. Names carry
the start time, host, pid, a random token and a sequence number, so any number of writer
processes can share one folder::

    DIR/data/part-20240501T123000-host-4242-a1b2c3-00001.parquet
    DIR/spdx/part-20240501T123000-host-4242-a1b2c3-00001.spdx.json

Memory is bounded: at most one row group of pending rows is buffered (as Arrow batches, all
but the last thousand rows), plus the few SPDX columns of the open shard (no text) for its
SPDX document; Arrow's memory pool gives its unused memory back after each row group.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crawler.core.fsutil import fsync_dir
from crawler.core.schema import SCHEMA_NAME_KEY, SCHEMA_VERSION_KEY, record_schema
from crawler.store import spdx as spdx_doc

ROW_GROUP_MAX_BYTES = 128 * 2**20
"""Upper bound on the (estimated, uncompressed) size of one row group."""

_SPDX_BATCH_ROWS = 4096
_ROWS_PER_BATCH = 1024
"""Row dicts buffered before they become an Arrow batch of the pending row group (a row as
Python objects takes several times its Arrow size)."""
_HOST_BAD = re.compile(r"[^A-Za-z0-9.\-]")
_GLOB_CHARS = re.compile(r"[*?\[]")


# --------------------------------------------------------------------------- row checks

Checker = Callable[[Any], str | None]
"""Says why a value cannot be stored in a column (None when it can)."""


def _kind_checker(kinds: type | tuple[type, ...], label: str) -> Checker:
    allow_bool = kinds is bool

    def check(value: Any) -> str | None:
        if isinstance(value, kinds) and (allow_bool or not isinstance(value, bool)):
            return None
        return f"expected {label}, got {type(value).__name__}"

    return check


def _int_checker(arrow_type: pa.DataType) -> Checker:
    bits = arrow_type.bit_width
    if pa.types.is_signed_integer(arrow_type):
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        low, high = 0, 2**bits - 1

    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected int, got {type(value).__name__}"
        return None if low <= value <= high else f"{value} out of range for {arrow_type}"

    return check


def _timestamp_checker(arrow_type: pa.TimestampType) -> Checker:
    aware = arrow_type.tz is not None

    def check(value: Any) -> str | None:
        if not isinstance(value, datetime):
            return f"expected datetime, got {type(value).__name__}"
        if aware and value.tzinfo is None:
            return "naive datetime: give it a timezone (UTC)"
        return None

    return check


def _list_checker(item: pa.Field) -> Checker:
    check_item = _field_checker(item)

    def check(value: Any) -> str | None:
        if not isinstance(value, list | tuple):
            return f"expected list, got {type(value).__name__}"
        for i, element in enumerate(value):
            problem = check_item(element)
            if problem:
                return f"item {i}: {problem}"
        return None

    return check


def _struct_checker(arrow_type: pa.StructType) -> Checker:
    fields = [arrow_type.field(i) for i in range(arrow_type.num_fields)]
    checks = [(f.name, _field_checker(f)) for f in fields]
    names = {f.name for f in fields}

    def check(value: Any) -> str | None:
        if not isinstance(value, Mapping):
            return f"expected dict, got {type(value).__name__}"
        if not names.issuperset(value):
            return f"unknown field(s) {sorted(set(value) - names)}"
        for name, check_field in checks:
            problem = check_field(value.get(name))
            if problem:
                return f"field {name!r}: {problem}"
        return None

    return check


def _type_checker(arrow_type: pa.DataType) -> Checker:
    """A checker for values of ``arrow_type`` (anything pyarrow converts is let through)."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return _kind_checker(str, "str")
    if pa.types.is_boolean(arrow_type):
        return _kind_checker(bool, "bool")
    if pa.types.is_integer(arrow_type):
        return _int_checker(arrow_type)
    if pa.types.is_floating(arrow_type):
        return _kind_checker((int, float), "float")
    if pa.types.is_timestamp(arrow_type):
        return _timestamp_checker(arrow_type)
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return _list_checker(arrow_type.value_field)
    if pa.types.is_struct(arrow_type):
        return _struct_checker(arrow_type)
    return lambda value: None


def _field_checker(field: pa.Field) -> Checker:
    """A checker for a field: its type, and null only where the field allows it."""
    check_type = _type_checker(field.type)
    nullable = field.nullable

    def check(value: Any) -> str | None:
        if value is None:
            return None if nullable else "null in a non-null column"
        return check_type(value)

    return check


_Checkers = tuple[frozenset[str], tuple[tuple[str, bool, Checker], ...]]


@lru_cache(maxsize=32)
def _schema_checkers(schema: pa.Schema) -> _Checkers:
    """The column names of ``schema`` and (column, nullable, checker) for each column."""
    return frozenset(schema.names), tuple((f.name, f.nullable, _field_checker(f)) for f in schema)


def check_row(row: Mapping[str, Any], schema: pa.Schema, index: int = 0) -> None:
    """Raise ``ValueError`` (naming the row and column) unless ``row`` fits ``schema``.

    Every key must be a column; non-null columns must be present and not None; values must
    have the column's type (timestamps timezone-aware); a ``text`` column is never empty.
    """
    names, checkers = _schema_checkers(schema)
    problem = None
    if not names.issuperset(row):
        problem = f"unknown column(s) {[key for key in row if key not in names]}"
    else:
        for name, nullable, check in checkers:
            if name not in row:
                if not nullable:
                    problem = f"missing column {name!r}"
                    break
                continue
            error = check(row[name])
            if error:
                problem = f"column {name!r}: {error}"
                break
        else:
            if "text" in row and not row["text"]:
                problem = "column 'text': empty text"
    if problem:
        where = f"row {index} (id={row.get('id')!r})" if "id" in row else f"row {index}"
        raise ValueError(f"{where}: {problem}")


def warm_up() -> None:
    """Load now what the first rows' conversion to Arrow would load then: pyarrow imports
    pandas (when installed) on its first conversion of Python objects, a third of a second
    of CPU. A crawl calls this while it waits for its first pages, not while it writes."""
    pa.array([0], type=pa.int64())


def rows_to_batch(rows: list[Mapping[str, Any]], schema: pa.Schema | None = None) -> pa.RecordBatch:
    """Convert record dicts to a RecordBatch of ``schema`` (default: the record schema).

    ``license_category`` becomes dictionary-encoded, datetimes UTC timestamps, evidence
    dicts a list of structs. Raises ``ValueError`` naming the row and column of a bad value.
    """
    schema = schema if schema is not None else record_schema()
    for index, row in enumerate(rows):
        check_row(row, schema, index)
    return pa.RecordBatch.from_pylist(list(rows), schema=schema)


def _estimate_bytes(value: Any) -> int:
    """Rough uncompressed Arrow size of a Python value."""
    if isinstance(value, str):
        return len(value) + 4
    if isinstance(value, list | tuple):
        return 4 + sum(_estimate_bytes(v) for v in value)
    if isinstance(value, Mapping):
        return sum(_estimate_bytes(v) for v in value.values())
    return 8


# --------------------------------------------------------------------------- reading


def iter_shard_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Expand files, folders and glob patterns into shard files, each once, in order.

    A folder gives its ``*.parquet`` files recursively (sorted), skipping hidden and
    temporary files and folders (names starting with ``.``); a licrawl output folder (one
    with a ``data`` subfolder: crawl, process, filter or dedup output) gives the shards of
    its ``data`` folder only, not its other Parquet files (``copies.parquet``,
    ``attribution.parquet``); a glob pattern gives its
    matches; a file is given as is. Raises ``FileNotFoundError`` for a path that does not
    exist or a pattern that matches nothing.
    """
    seen: set[Path] = set()
    for raw in paths:
        text = str(raw)
        if _GLOB_CHARS.search(text) and not Path(text).exists():
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise FileNotFoundError(f"no files match {text!r}")
            candidates = [Path(m) for m in matches]
        else:
            candidates = [Path(text)]
        for path in candidates:
            for found in _expand(path):
                key = found.resolve()
                if key not in seen:
                    seen.add(key)
                    yield found


def _expand(path: Path) -> Iterator[Path]:
    """One path: a file, or the visible ``*.parquet`` files under a folder (under its
    ``data`` subfolder when it has one)."""
    if path.is_dir() and (path / "data").is_dir():
        path = path / "data"
    if path.is_dir():
        for found in sorted(path.rglob("*.parquet")):
            rel = found.relative_to(path).parts
            if found.is_file() and not any(part.startswith(".") for part in rel):
                yield found
    elif path.is_file():
        yield path
    else:
        raise FileNotFoundError(f"no such file or folder: {path}")


# --------------------------------------------------------------------------- writing


class ShardWriter:
    """Write records to rotating zstd Parquet shards with an SPDX document each.

    Shards go to ``out_dir`` (by convention ``DIR/data``), their SPDX documents to the
    sibling folder ``spdx`` (``DIR/spdx``, see :func:`crawler.store.spdx.spdx_path_for`).

    ``max_rows`` / ``max_bytes`` (estimated uncompressed) end a shard; ``row_group_rows`` /
    ``row_group_bytes`` end a row group. ``schema`` defaults to the record schema; a custom
    schema (e.g. the filter's, with an extra column) works as long as, with ``spdx=True``,
    it has the columns of :data:`crawler.store.spdx.SPDX_COLUMNS`. With ``spdx_lenient`` a
    license value that is no SPDX expression is accepted and stands as ``NOASSERTION`` in
    the document (for shards of excluded rows). ``extra_metadata`` (e.g.
    ``{"crawl_id": ...}``) goes into every shard's Parquet key-value metadata next to the
    schema name and version; its ``crawl_id`` is also the version of the shard Package in
    the SPDX document. ``before_publish`` (optional) is called before each shard is renamed
    into place (the crawl makes its frontier durable there). Not thread-safe: one writer
    per thread or process.

    ``completed`` lists the shards finished so far; ``rows_written`` counts the rows stored
    in shard files so far (buffered rows count once their row group is written; after
    :meth:`close` it is every accepted row). Finishing a shard builds, validates (spdx-tools'
    validator, linear here) and writes its SPDX document in the calling thread: about
    30 µs per row, under two seconds for a 50,000-row shard (``bench/bench_spdx.py``).
    """

    def __init__(
        self,
        out_dir: str | Path,
        *,
        prefix: str = "part",
        max_rows: int = 50_000,
        max_bytes: int = 256 * 2**20,
        row_group_rows: int = 10_000,
        row_group_bytes: int = ROW_GROUP_MAX_BYTES,
        schema: pa.Schema | None = None,
        spdx: bool = True,
        spdx_lenient: bool = False,
        extra_metadata: dict[str, str] | None = None,
        before_publish: Callable[[], None] | None = None,
    ) -> None:
        if min(max_rows, max_bytes, row_group_rows, row_group_bytes) <= 0:
            raise ValueError("max_rows, max_bytes, row_group_rows and row_group_bytes must be > 0")
        if "/" in prefix or prefix.startswith("."):
            raise ValueError(f"bad shard prefix {prefix!r}")
        base = schema if schema is not None else record_schema()
        if spdx:
            missing = [c for c in spdx_doc.SPDX_COLUMNS if c not in base.names]
            if missing:
                raise ValueError(f"spdx=True needs the column(s) {missing} in the schema")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.row_group_rows = row_group_rows
        self.row_group_bytes = row_group_bytes
        self.spdx = spdx
        self.spdx_lenient = spdx_lenient
        self.before_publish = before_publish
        self.schema = base.with_metadata(_metadata(base, extra_metadata or {}))
        self._crawl_id = (extra_metadata or {}).get("crawl_id")
        self.completed: list[Path] = []
        self.rows_written = 0
        self._started = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self._host = _HOST_BAD.sub("-", socket.gethostname().split(".")[0]) or "host"
        self._pid = os.getpid()
        self._token = secrets.token_hex(3)
        self._seq = 0
        self._closed = False
        # pending row group
        self._rows: list[Mapping[str, Any]] = []
        self._batches: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        # open shard
        self._name: str | None = None
        self._tmp: Path | None = None
        self._file: IO[bytes] | None = None
        self._writer: pq.ParquetWriter | None = None
        self._shard_rows = 0
        self._shard_bytes = 0
        self._spdx_parts: list[pa.Table] = []

    # ----------------------------------------------------------------- public API

    def write(self, row: Mapping[str, Any]) -> None:
        """Add one record dict (column name -> value); ``ValueError`` if it is bad.

        A rejected row leaves the writer as it was.
        """
        self._check_open()
        check_row(row, self.schema, self.rows_written + self._pending_rows)
        if self.spdx:
            self._check_spdx_row(row)
        self._rows.append(dict(row))  # a copy: callers may reuse their dict
        if len(self._rows) >= _ROWS_PER_BATCH:
            self._flush_rows_to_batch()
        size = sum(_estimate_bytes(v) for v in row.values())
        self._added(1, size)

    def write_batch(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Add rows already in the schema's columns (cast to the schema's types if needed)."""
        self._check_open()
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        missing = [n for n in self.schema.names if n not in table.column_names]
        if missing:
            raise ValueError(f"batch lacks column(s) {missing}")
        extra = [n for n in table.column_names if n not in self.schema.names]
        if extra:
            raise ValueError(f"batch has unknown column(s) {extra}")
        table = table.select(self.schema.names)
        nulls = [f.name for f in self.schema if not f.nullable and table[f.name].null_count]
        if nulls:
            raise ValueError(f"null value(s) in non-null column(s) {nulls}")
        if not table.schema.equals(self.schema, check_metadata=False):
            table = table.cast(self.schema)
        if "text" in table.column_names and table.num_rows:
            empty = pc.sum(pc.equal(pc.utf8_length(table["text"]), 0)).as_py() or 0
            if empty:
                raise ValueError(f"column 'text': {empty} empty text(s) in batch")
        if self.spdx:
            self._check_spdx_table(table)
        offset = 0
        while offset < table.num_rows:
            room = self.max_rows - self._shard_rows
            part = table.slice(offset, room)
            per_row = max(1, part.nbytes // max(1, part.num_rows))
            byte_room = max(1, -(-(self.max_bytes - self._shard_bytes) // per_row))
            part = part.slice(0, byte_room)
            self._flush_rows_to_batch()
            self._batches.extend(part.combine_chunks().to_batches())
            offset += part.num_rows
            self._added(part.num_rows, part.nbytes)

    def close(self) -> list[Path]:
        """Finish the open shard and return every shard this writer completed."""
        if not self._closed:
            self._finish_shard()
            self._closed = True
        return list(self.completed)

    def abort(self) -> None:
        """Drop the unfinished shard (its temporary files are removed); completed ones stay."""
        self._rows.clear()
        self._batches.clear()
        self._pending_rows = self._pending_bytes = 0
        self._spdx_parts.clear()
        with contextlib.suppress(Exception):  # the shard is being discarded either way
            self._close_files()
        if self._file is not None:
            self._file.close()
            self._file = None
        self._writer = None
        for tmp in (self._tmp, self._spdx_tmp()):
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        self._reset_shard()
        self._closed = True

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # ----------------------------------------------------------------- internals

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("ShardWriter is closed")

    def _check_spdx_row(self, row: Mapping[str, Any]) -> None:
        """The row's values must make a valid SPDX File (checked now, not at shard end)."""
        where = f"row {self.rows_written + self._pending_rows} (id={row.get('id')!r})"
        try:
            spdx_doc.check_sha1(row["text_sha1"])
            if not self.spdx_lenient:
                evidence = row.get("license_evidence") or ()
                spdx_doc.check_licenses(row["license"], (e.get("spdx") for e in evidence))
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None

    def _check_spdx_table(self, table: pa.Table) -> None:
        """Batch version of :meth:`_check_spdx_row`, on distinct values."""
        bad = pc.invert(pc.match_substring_regex(table["text_sha1"], r"^[0-9a-f]{40}$"))
        if pc.any(bad).as_py():
            value = table["text_sha1"].filter(bad)[0].as_py()
            spdx_doc.check_sha1(value)
        if self.spdx_lenient:
            return
        evidence = pc.list_flatten(table["license_evidence"])
        evidence_spdx = pc.unique(pc.struct_field(evidence, "spdx")).to_pylist()
        for value in pc.unique(table["license"]).to_pylist():
            spdx_doc.check_licenses(value, ())
        spdx_doc.check_licenses(spdx_doc.NOASSERTION, evidence_spdx)

    def _added(self, rows: int, size: int) -> None:
        """Account for rows just buffered; write a row group / finish the shard when due."""
        self._pending_rows += rows
        self._pending_bytes += size
        self._shard_rows += rows
        self._shard_bytes += size
        if self._shard_rows >= self.max_rows or self._shard_bytes >= self.max_bytes:
            self._finish_shard()
        elif (
            self._pending_rows >= self.row_group_rows or self._pending_bytes >= self.row_group_bytes
        ):
            self._write_row_group()

    def _flush_rows_to_batch(self) -> None:
        """Turn buffered row dicts into a batch, keeping write order with later batches."""
        if self._rows:
            self._batches.append(pa.RecordBatch.from_pylist(self._rows, schema=self.schema))
            self._rows = []

    def _write_row_group(self) -> None:
        """Write the pending rows to the open shard (opening it if needed)."""
        self._flush_rows_to_batch()
        if not self._batches:
            return
        table = pa.Table.from_batches(self._batches, schema=self.schema)
        self._batches = []
        if self._writer is None:
            self._open_shard()
        assert self._writer is not None
        self._writer.write_table(table, row_group_size=self.row_group_rows)
        if self.spdx:
            self._spdx_parts.append(_spdx_columns(table))
        self.rows_written += table.num_rows
        self._pending_rows = self._pending_bytes = 0
        del table  # its buffers go back to Arrow's pool, which keeps freed pages unless told
        pa.default_memory_pool().release_unused()

    def _open_shard(self) -> None:
        """Open a new temporary shard file with a unique name."""
        if os.getpid() != self._pid:  # forked: never share names with the parent
            self._pid, self._token = os.getpid(), secrets.token_hex(3)
        self._seq += 1
        self._name = (
            f"{self.prefix}-{self._started}-{self._host}-{self._pid}-"
            f"{self._token}-{self._seq:05d}.parquet"
        )
        self._tmp = self.out_dir / f".{self._name}.tmp"
        self._file = open(self._tmp, "xb")  # noqa: SIM115 - closed in _close_files
        self._writer = pq.ParquetWriter(self._file, self.schema, compression="zstd")

    def _close_files(self) -> None:
        """Close the Parquet writer and its file, syncing the bytes to disk."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def _spdx_tmp(self) -> Path | None:
        """Temporary name of the open shard's SPDX document."""
        if self._name is None:
            return None
        final = spdx_doc.spdx_path_for(self.out_dir / self._name)
        return final.with_name(f".{final.name}.tmp")

    def _finish_shard(self) -> None:
        """Write the last row group, the SPDX document, then rename the shard into place."""
        self._write_row_group()
        if self._tmp is None or self._name is None:
            return
        self._close_files()
        if self.before_publish is not None:
            self.before_publish()
        final = self.out_dir / self._name
        if self.spdx:
            spdx_doc.write_shard_spdx(
                self._spdx_rows(), final, shard_sha1=spdx_doc.file_sha1(self._tmp),
                version=self._crawl_id, lenient=self.spdx_lenient,
            )
        os.replace(self._tmp, final)
        fsync_dir(self.out_dir)
        self.completed.append(final)
        self._reset_shard()

    def _spdx_rows(self) -> Iterator[dict[str, Any]]:
        """The SPDX columns of the finished shard, as row dicts, a few thousand at a time."""
        for part in self._spdx_parts:
            for batch in part.to_batches(max_chunksize=_SPDX_BATCH_ROWS):
                yield from batch.to_pylist()

    def _reset_shard(self) -> None:
        self._name = self._tmp = None
        self._shard_rows = self._shard_bytes = 0
        self._spdx_parts = []


def _spdx_columns(table: pa.Table) -> pa.Table:
    """The columns the SPDX document is made from, evidence cut down to its ``spdx`` field.

    The document reads nothing else of the evidence; the smaller structs are kept in
    memory until the shard ends and turn into Python dicts several times faster.
    """
    part = table.select(list(spdx_doc.SPDX_COLUMNS)).combine_chunks()
    evidence = part["license_evidence"].combine_chunks()
    spdx_only = pa.StructArray.from_arrays(
        [pc.struct_field(evidence.values, "spdx")], names=["spdx"]
    )
    slim = pa.ListArray.from_arrays(evidence.offsets, spdx_only, mask=evidence.is_null())
    return part.set_column(
        part.schema.get_field_index("license_evidence"), "license_evidence", slim
    )


def _metadata(schema: pa.Schema, extra: Mapping[str, str]) -> dict[bytes, bytes]:
    """Key-value metadata of a shard: the schema's, its name and version, then ``extra``."""
    meta = dict(schema.metadata or {})
    standard = record_schema().metadata
    meta.setdefault(SCHEMA_NAME_KEY, standard[SCHEMA_NAME_KEY])
    meta.setdefault(SCHEMA_VERSION_KEY, standard[SCHEMA_VERSION_KEY])
    for key, value in extra.items():
        meta[str(key).encode()] = str(value).encode()
    return meta
