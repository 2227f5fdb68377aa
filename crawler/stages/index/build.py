"""Build one index shard from a run of Parquet row groups (in a worker process).

The documents' words become uint32 ids (the rank of each word's hash among the shard's
distinct word hashes), with a separator after each document; ``pydivsufsort`` sorts the
suffixes of that sequence (as big-endian bytes, so byte order is word-id order) and only
the suffixes that start on a word are kept. Peak memory is about 40 bytes per word of the
shard (the byte-level suffix array alone is 16; measured: 1.4 GiB for 36M words), which is
why shards are bounded by text size.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crawler.stages.filter.manifest import LicenseLookup, manifest_batch
from crawler.stages.index.layout import DOC_SCHEMA, SEP
from crawler.stages.index.words import split_words, word_hashes
from crawler.stages.runner import open_shard, read_batches

#: Record columns an index reads.
READ_COLUMNS = ["id", "url", "title", "authors", "copyright", "license", "license_category",
                "license_confidence", "warc_file", "warc_record_id", "dup_urls", "text"]


@dataclass(frozen=True)
class ShardTask:
    """One index shard to build: ``parts`` are (input file, its row groups), in order."""

    number: int
    parts: tuple[tuple[Path, tuple[int, ...]], ...]
    out: Path
    batch_rows: int


@dataclass
class ShardBuilt:
    """What a built shard holds and what building it took."""

    number: int
    docs: int
    words: int
    vocab: int
    bytes: int
    seconds: float


def doc_rows(batch: pa.RecordBatch, lookup: LicenseLookup) -> pa.RecordBatch:
    """The ``docs.arrow`` rows of a record batch: what a trace report says of each document
    (its record's license and category), with the attribution line the filter's manifest
    writes."""
    names, urls, labels = lookup.columns(batch.column("license"))
    manifest, _ = manifest_batch(batch, names, urls, labels)
    columns = {
        "license_name": manifest.column("license_name"),
        "license_url": manifest.column("license_url"),
        "no_license": manifest.column("no_license"),
        "attribution": manifest.column("attribution"),
    }
    return pa.RecordBatch.from_arrays(
        [columns[f.name] if f.name in columns else batch.column(f.name).cast(f.type)
         for f in DOC_SCHEMA], schema=DOC_SCHEMA)


def build_shard(task: ShardTask) -> ShardBuilt:
    """Build index shard ``task.number`` into the folder ``task.out``."""
    started = time.monotonic()
    lookup = LicenseLookup()
    parts: list[tuple[np.ndarray, np.ndarray]] = []  # per batch: word hashes, word indices
    counts: list[np.ndarray] = []
    docs: list[pa.RecordBatch] = []
    for path, row_groups in task.parts:
        parquet, _ = open_shard(path)
        for batch in read_batches(path, parquet, task.batch_rows, columns=READ_COLUMNS,
                                  row_groups=list(row_groups)):
            flat, per_doc = split_words(batch.column("text"))
            encoded = pc.dictionary_encode(flat)
            parts.append((word_hashes(encoded.dictionary.to_pylist()),
                          encoded.indices.to_numpy(zero_copy_only=False)))
            counts.append(per_doc)
            docs.append(doc_rows(batch, lookup))
    vocab = (np.unique(np.concatenate([h for h, _ in parts])) if parts
             else np.empty(0, np.uint64))
    per_doc = np.concatenate(counts) if counts else np.empty(0, np.int64)
    seps = np.cumsum(per_doc + 1) - 1
    ids = np.full(int(per_doc.sum()) + len(per_doc), SEP, dtype=np.uint32)
    is_word = np.ones(len(ids), dtype=bool)
    is_word[seps] = False
    if parts:
        ids[is_word] = np.concatenate(
            [np.searchsorted(vocab, hashes).astype(np.uint32)[index] for hashes, index in parts])
    del parts, is_word
    pa.default_memory_pool().release_unused()  # Arrow's buffers from splitting, before sorting
    doc_starts = np.concatenate([[0], seps[:-1] + 1]).astype(np.int64) if len(seps) \
        else np.empty(0, np.int64)
    sa = suffix_array(ids)

    if task.out.exists():  # left by an attempt whose worker died (Ray runs it again)
        shutil.rmtree(task.out)
    task.out.mkdir(parents=True)
    np.save(task.out / "ids.npy", ids)
    np.save(task.out / "sa.npy", sa)
    np.save(task.out / "doc_starts.npy", doc_starts)
    np.save(task.out / "vocab.npy", vocab)
    table = pa.Table.from_batches(docs, schema=DOC_SCHEMA)
    with pa.OSFile(str(task.out / "docs.arrow"), "wb") as sink, \
            pa.ipc.new_file(sink, DOC_SCHEMA) as writer:
        writer.write_table(table)
    size = sum(f.stat().st_size for f in task.out.iterdir())
    return ShardBuilt(task.number, len(per_doc), int(per_doc.sum()), len(vocab), size,
                      time.monotonic() - started)


def suffix_array(ids: np.ndarray) -> np.ndarray:
    """The word positions of ``ids`` (uint32 word ids) sorted by the suffix that starts
    there, separators left out: int32 below 2**31 words, else int64."""
    from pydivsufsort import divsufsort

    if len(ids) == 0:
        return np.empty(0, np.int32)
    by_byte = divsufsort(ids.astype(">u4").view(np.uint8))
    # suffixes that start on a word: position % 4 == 0, read from each position's low byte
    # (a uint8 view, no temporary of the array's width)
    low = by_byte.view(np.uint8)[::by_byte.itemsize] if sys.byteorder == "little" \
        else by_byte.view(np.uint8)[by_byte.itemsize - 1::by_byte.itemsize]
    sa = by_byte[(low & 3) == 0]
    del by_byte, low
    np.right_shift(sa, 2, out=sa)
    sa = sa[ids[sa] != SEP]
    return sa.astype(np.int32) if len(ids) < 2**31 else sa.astype(np.int64)
