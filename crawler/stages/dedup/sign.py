"""Dedup's first pass, one task per group of input files: signatures and copy records.

A task reads its files batch by batch (never more than one batch of texts at a time) and
writes two files into the run's work folder:

* ``copies-tNNNNN.parquet``: one row per input row, in input order, without the text: what
  ``copies.parquet`` reports about a copy, plus the columns the keep rule ranks by and
  the row's place (input file, signature index);
* ``sigs-tNNNNN.u32``: the MinHash signatures of the task's distinct texts (by
  ``text_sha1``; an exact duplicate within the task is signed once), ``num_perm`` uint32
  values each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crawler.stages.dedup.keep import (
    CANONICAL_COLUMN,
    LEVEL_COLUMN,
    canonical_ranks,
    claim_levels,
)
from crawler.stages.dedup.minhash import DedupParams, WordHasher, signatures
from crawler.stages.runner import open_shard, read_batches

COPY_COLUMNS = ["id", "url", "host", "license", "license_category", "license_confidence",
                "authors", "copyright", "published", "fetched_at", "warc_file",
                "warc_record_id", "text_sha1", "tdm_reserved", "ai_optout"]
"""Columns of the input kept per copy (``copies.parquet`` shows them)."""
PREVIOUS_COLUMNS = {"dup_count": "_prev_count", "dup_licenses": "_prev_licenses",
                    "dup_urls": "_prev_urls"}
"""What an earlier dedup found about a row (input that is dedup output), kept as these."""
_READ_COLUMNS = COPY_COLUMNS + ["canonical_url", "license_evidence", "text",
                                *PREVIOUS_COLUMNS]
FILE_COLUMN = "_file"  # position of the row's input file in the run
SIG_COLUMN = "_sig"  # index of the row's signature in its task's signature file


@dataclass(frozen=True)
class SignTask:
    """One first-pass task: its files (``first_file`` is the run position of the first)."""

    index: int
    paths: tuple[Path, ...]
    first_file: int
    work_dir: Path
    params: DedupParams
    batch_rows: int

    @property
    def copies_path(self) -> Path:
        """The task's copy records."""
        return self.work_dir / f"copies-t{self.index:05d}.parquet"

    @property
    def sigs_path(self) -> Path:
        """The task's signatures, raw uint32, ``num_perm`` per distinct text."""
        return self.work_dir / f"sigs-t{self.index:05d}.u32"


@dataclass(frozen=True)
class SignResult:
    """What a first-pass task wrote."""

    task: SignTask
    rows: int
    signatures: int
    rows_per_file: tuple[int, ...]


def sign_files(task: SignTask) -> SignResult:
    """Run one first-pass task (in a worker process)."""
    seen: dict[str, int] = {}
    hasher = WordHasher()
    writer: pq.ParquetWriter | None = None
    rows_per_file: list[int] = []
    try:
        with task.sigs_path.open("wb") as sig_out:
            for offset, path in enumerate(task.paths):
                parquet, _dropped = open_shard(path)
                file_rows = 0
                for batch in read_batches(path, parquet, task.batch_rows, _READ_COLUMNS):
                    local = np.empty(batch.num_rows, dtype=np.int32)
                    new_rows: list[int] = []
                    for i, sha1 in enumerate(batch.column("text_sha1").to_pylist()):
                        index = seen.get(sha1)
                        if index is None:
                            index = seen[sha1] = len(seen)
                            new_rows.append(i)
                        local[i] = index
                    if new_rows:
                        texts = batch.column("text").take(pa.array(new_rows, pa.int32()))
                        sig_out.write(signatures(texts, task.params, hasher).tobytes())
                    part = _copy_part(batch, task.first_file + offset, local)
                    if writer is None:
                        writer = pq.ParquetWriter(task.copies_path, part.schema,
                                                  compression="zstd")
                    writer.write_table(part)
                    file_rows += batch.num_rows
                rows_per_file.append(file_rows)
    finally:
        if writer is not None:
            writer.close()
    return SignResult(task, sum(rows_per_file), len(seen), tuple(rows_per_file))


def _copy_part(batch: pa.RecordBatch, file_index: int, local: np.ndarray) -> pa.Table:
    columns = {name: batch.column(name) for name in COPY_COLUMNS}
    columns["license_category"] = columns["license_category"].cast(pa.string())
    columns[LEVEL_COLUMN] = claim_levels(batch)
    columns[CANONICAL_COLUMN] = canonical_ranks(batch)
    for name, internal in PREVIOUS_COLUMNS.items():
        columns[internal] = batch.column(name)
    columns[FILE_COLUMN] = pa.array(np.full(batch.num_rows, file_index, dtype=np.int32))
    columns[SIG_COLUMN] = pa.array(local)
    return pa.table(columns)
