"""What an index folder holds, and opening one safely.

::

    INDEX/
      index.json          format name and version, word rule, shards, indexed input files
      shard-00000/
        ids.npy           uint32 word ids of the shard's documents, 0xFFFFFFFF after each
        sa.npy            suffix array: int32 (int64 past 2**31 words) word positions,
                          sorted by the word-id sequence that starts there
        doc_starts.npy    int64 position of each document's first word in ids.npy
        vocab.npy         sorted uint64 hashes of the shard's distinct words; a word's id is
                          the rank of its hash
        docs.arrow        one row per document (Arrow IPC file, uncompressed, memory-mapped):
                          what a trace report says about it
      shard-00001/ ...

Readers use only the shards that ``index.json`` lists, so a shard folder left by an
interrupted ``--add`` is never read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa

INDEX_FILE = "index.json"
FORMAT_NAME = "licrawl-replication-index"
FORMAT_VERSION = 1  # bump when a reader of the old format can no longer read a new index
SEP = 0xFFFFFFFF  # ends each document in ids.npy; no word has this id
SHARD_FILES = ("ids.npy", "sa.npy", "doc_starts.npy", "vocab.npy", "docs.arrow")

#: What the index keeps per document (docs.arrow), in this order.
DOC_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("url", pa.string()),
    pa.field("title", pa.string()),
    pa.field("authors", pa.list_(pa.string())),
    pa.field("copyright", pa.string()),
    pa.field("license", pa.string()),
    pa.field("license_name", pa.string()),
    pa.field("license_url", pa.string()),
    pa.field("license_category", pa.string()),
    pa.field("license_confidence", pa.float32()),
    pa.field("no_license", pa.bool_()),
    pa.field("attribution", pa.string()),
    pa.field("warc_file", pa.string()),
    pa.field("warc_record_id", pa.string()),
])


class IndexOpenError(Exception):
    """A folder that is not a readable replication index; the message says why."""


def shard_name(number: int) -> str:
    """The folder name of index shard ``number``."""
    return f"shard-{number:05d}"


def read_manifest(index: Path) -> dict[str, Any]:
    """``index.json`` of an index folder, checked: this format, a version this licrawl
    reads, and every listed shard complete. Raises :class:`IndexOpenError`."""
    path = index / INDEX_FILE
    if not index.exists():
        raise IndexOpenError(f"{index}: no such index folder")
    if not path.is_file():
        raise IndexOpenError(f"{index}: not a licrawl index (no {INDEX_FILE}; build one "
                             "with `licrawl index`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexOpenError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexOpenError(f"{path}: not a licrawl replication index")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        built_by = manifest.get("licrawl_version", "another licrawl")
        raise IndexOpenError(
            f"{index}: index format version {version} (built by licrawl {built_by}); this "
            f"licrawl reads version {FORMAT_VERSION}: rebuild it with `licrawl index`")
    shards = manifest.get("shards")
    if not isinstance(shards, list):
        raise IndexOpenError(f"{path}: no shard list")
    for shard in shards:
        folder = index / str(shard.get("name", ""))
        missing = [f for f in SHARD_FILES if not (folder / f).is_file()]
        if missing:
            raise IndexOpenError(f"{folder}: incomplete index shard (missing "
                                 f"{', '.join(missing)})")
    return manifest


def write_manifest(index: Path, manifest: dict[str, Any]) -> None:
    """Write ``index.json`` atomically (a temporary file renamed over the old one)."""
    temp = index / f".{INDEX_FILE}.tmp"
    temp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temp, index / INDEX_FILE)
