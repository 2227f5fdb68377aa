"""``licrawl index``: plan index shards over the input row groups, build them on the process
pool, publish the index atomically.

Input files are checked first (licrawl shards, readable schema version), then cut into
index shards of about ``shard_text_bytes`` of text each, by Parquet row group (a large file
gives several index shards, many small files share one), in input order; each shard is
built by one worker (:func:`crawler.stages.index.build.build_shard`).

A new index is built in a temporary sibling folder renamed into place when complete.
``add=True`` builds new shards for more input into a hidden folder inside the index, moves
them in and only then rewrites ``index.json`` (atomically): until that moment, readers see
the old index; a crash leaves only a hidden folder, removed by the next ``--add``. An input
file already in the index (same Parquet footer) is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crawler.core.version import __version__
from crawler.stages import DEFAULT_BATCH_ROWS
from crawler.stages.executors import Executor, LocalExecutor
from crawler.stages.index.build import ShardBuilt, ShardTask, build_shard
from crawler.stages.index.layout import (
    FORMAT_NAME,
    FORMAT_VERSION,
    IndexOpenError,
    read_manifest,
    shard_name,
    write_manifest,
)
from crawler.stages.index.words import RULE
from crawler.stages.progress import Progress
from crawler.stages.runner import (
    StageError,
    check_target,
    collect_inputs,
    open_shard,
    publish,
    temp_sibling,
)

DEFAULT_SHARD_TEXT_BYTES = 256 << 20  # text per index shard: ~40M words, ~1.5 GiB to build
_ADDING_PREFIX = ".adding-"


def fingerprint(path: Path) -> str:
    """SHA-256 of a Parquet file's footer (its schema, row groups and statistics): the same
    file under another name or path has the same fingerprint."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - 8))
        tail = fh.read(8)
        footer = int.from_bytes(tail[:4], "little") if len(tail) == 8 else 0
        fh.seek(max(0, size - 8 - footer))
        return hashlib.sha256(fh.read()).hexdigest()


def plan_shards(files: list[Path], shard_text_bytes: int
                ) -> list[tuple[tuple[Path, tuple[int, ...]], ...]]:
    """Consecutive row groups of ``files`` grouped into index shards of about
    ``shard_text_bytes`` of (uncompressed) text each."""
    shards: list[tuple[tuple[Path, tuple[int, ...]], ...]] = []
    current: list[tuple[Path, list[int]]] = []
    size = 0
    for path in files:
        parquet, _ = open_shard(path)
        meta = parquet.metadata
        text = parquet.schema_arrow.get_field_index("text")
        for group in range(meta.num_row_groups):
            rows = meta.row_group(group)
            if rows.num_rows == 0:
                continue
            if size >= shard_text_bytes:
                shards.append(tuple((p, tuple(g)) for p, g in current))
                current, size = [], 0
            if not current or current[-1][0] != path:
                current.append((path, []))
            current[-1][1].append(group)
            size += rows.column(text).total_uncompressed_size
    if current:
        shards.append(tuple((p, tuple(g)) for p, g in current))
    return shards


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_index(inputs: Iterable[str | Path], out_dir: str | Path, *, add: bool = False,
                overwrite: bool = False, jobs: int | None = None,
                shard_text_bytes: int = DEFAULT_SHARD_TEXT_BYTES,
                batch_rows: int = DEFAULT_BATCH_ROWS, progress: bool = False,
                executor: Executor | None = None) -> dict[str, Any]:
    """Build a replication index of the ``text`` of ``inputs`` into ``out_dir`` (or, with
    ``add``, add shards for them to the index there); returns the run's report.

    ``jobs`` worker processes (default: one per CPU, at most one per index shard) build
    shards of about ``shard_text_bytes`` of text, on ``executor`` (default: this machine's
    process pool; a Ray executor's default ``jobs`` is the cluster's CPUs). Raises
    :class:`StageError` for bad input or options, naming the file.
    """
    out = Path(out_dir)
    executor = executor or LocalExecutor(jobs)
    if shard_text_bytes < 1:
        raise StageError("the shard size must be positive")
    if add and overwrite:
        raise StageError("--add and --overwrite do not go together")
    if add:
        try:
            manifest = read_manifest(out)
        except IndexOpenError as exc:
            raise StageError(f"cannot add to it: {exc}") from exc
    else:
        check_target(out, overwrite)
        manifest = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                    "words_rule": RULE, "created": _now(), "shards": [], "inputs": []}
    files = collect_inputs(inputs)
    inside = [p for p in files if out.resolve() in p.resolve().parents]
    if inside:
        raise StageError(f"{inside[0]}: an input lies inside the index folder {out}")
    known = {entry["fingerprint"]: entry["path"] for entry in manifest["inputs"]}
    prints: dict[Path, str] = {}
    given: dict[str, Path] = {}
    for path in files:  # fail fast, before building anything
        open_shard(path)
        prints[path] = fingerprint(path)
        if prints[path] in known:
            raise StageError(f"{path}: already in the index (as {known[prints[path]]})")
        if prints[path] in given:
            raise StageError(f"{path}: given twice (same Parquet footer as "
                             f"{given[prints[path]]})")
        given[prints[path]] = path
    # past every listed shard and every shard folder an interrupted --add may have left
    names = [s["name"] for s in manifest["shards"]] + [p.name for p in out.glob("shard-*")]
    first = 1 + max((int(n.rsplit("-", 1)[1]) for n in names
                     if n.rsplit("-", 1)[-1].isdigit()), default=-1)
    planned = plan_shards(files, shard_text_bytes)
    workers = max(1, min(jobs or executor.default_workers(), len(planned) or 1))
    shown = Progress("index", interval=2.0, enabled=progress)

    if add:
        for stale in out.glob(_ADDING_PREFIX + "*"):
            shutil.rmtree(stale, ignore_errors=True)
        temp = out / f"{_ADDING_PREFIX}{secrets.token_hex(4)}"
        temp.mkdir()
    else:
        temp = temp_sibling(out)
    tasks = [ShardTask(first + i, parts, temp / shard_name(first + i), batch_rows)
             for i, parts in enumerate(planned)]
    totals = {"docs": 0, "words": 0}
    shown.note(f"{len(files)} input files, {len(tasks)} index shards to build on "
               f"{workers} worker{'s' if workers != 1 else ''}")

    def on_done(index: int, built: ShardBuilt) -> None:
        totals["docs"] += built.docs
        totals["words"] += built.words
        shown.tick(lambda: f"[{index + 1}/{len(tasks)} shards] {totals['docs']:,} documents, "
                           f"{totals['words']:,} words, "
                           f"{shown.rate(totals['words']):,.0f} words/s",
                   force=index + 1 == len(tasks))

    try:
        built = executor.map(build_shard, tasks, workers, on_done)
        new_shards = [{"name": shard_name(b.number), "documents": b.docs, "words": b.words,
                       "vocabulary": b.vocab, "bytes": b.bytes} for b in built]
        manifest["shards"] = manifest["shards"] + new_shards
        manifest["inputs"] = manifest["inputs"] + [
            {"path": str(p.resolve()), "fingerprint": prints[p]} for p in files]
        manifest["licrawl_version"] = __version__
        manifest["updated"] = _now()
        manifest["documents"] = sum(s["documents"] for s in manifest["shards"])
        manifest["words"] = sum(s["words"] for s in manifest["shards"])
        if add:
            for shard in new_shards:
                (temp / shard["name"]).rename(out / shard["name"])
            write_manifest(out, manifest)
            shutil.rmtree(temp)
        else:
            write_manifest(temp, manifest)
            publish(temp, out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    added_bytes = sum(s["bytes"] for s in new_shards)
    return {"index": str(out), "added": add, "input_files": len(files),
            "shards_built": len(new_shards), "documents_added": totals["docs"],
            "words_added": totals["words"], "bytes_added": added_bytes,
            "bytes_per_word": round(added_bytes / totals["words"], 2) if totals["words"] else None,
            "seconds": round(shown.elapsed, 2),
            "words_per_second": round(totals["words"] / shown.elapsed),
            "shards": len(manifest["shards"]), "documents": manifest["documents"],
            "words": manifest["words"]}
