"""``licrawl filter``: a subset of shards by license policy, with attribution and a report.

Reads record shards batch by batch (bounded memory), judges each batch with vectorized
``pyarrow.compute`` (the license policy is evaluated once per distinct ``license`` value),
and writes kept rows as shards of the same schema (with their SPDX documents), excluded
rows with a ``filter_reason`` column when asked, an attribution manifest and
``report.json``. Files run in parallel worker processes, each with its own writers.

Every output folder is built under a temporary sibling ``DIR.tmp-<random>`` and renamed
to ``DIR`` only when complete, so a crash leaves no half result.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crawler.core.schema import (
    SCHEMA_NAME_KEY,
    SCHEMA_VERSION_KEY,
    column_names,
    record_schema,
    schema_definition,
    schema_version,
)
from crawler.stages.filter.manifest import ManifestWriter, merge_manifests
from crawler.stages.filter.policy import (
    REASON_CONFLICT,
    REASON_LOW_CONFIDENCE,
    REASON_NO_AUTHOR,
    REASON_NO_LICENSE,
    REASON_NO_URL,
    REASON_OPTOUT_PREFIX,
    REASON_OPTOUT_TDMREP,
    Policy,
)
from crawler.stages.filter.report import FilterCounts, build_report
from crawler.store.shards import ShardWriter, iter_shard_files

SUBSETS = ("licensed-only", "attributed")
REASON_COLUMN = "filter_reason"
REPORT_FILE = "report.json"
DATA_DIR = "data"
DEFAULT_BATCH_ROWS = 1024
_MANIFEST_PARTS = ".manifest-parts"

ProgressFn = Callable[[str], None]


class FilterError(Exception):
    """A filter run that cannot proceed; the message names the file or folder at fault."""


@dataclass(frozen=True)
class Rules:
    """The checks a row must pass, resolved from the subset, the policy and the flags.

    ``policy`` is ``None`` when no license check applies (``attributed`` without a policy);
    ``min_confidence`` is ``None`` when no confidence check applies.
    """

    subset: str
    policy: Policy | None
    min_confidence: float | None
    check_optout: bool
    check_conflict: bool
    check_attribution: bool

    @classmethod
    def build(cls, subset: str, policy: Policy | None, *, min_confidence: float | None = None,
              allow_optout: bool = False, allow_conflict: bool = False) -> Rules:
        """Resolve the rules of a run.

        ``licensed-only`` needs a policy. ``attributed`` checks attribution, plus the policy
        when one is given. ``min_confidence`` overrides the policy's; ``allow_optout`` and
        ``allow_conflict`` let those rows pass whatever the policy says.
        """
        if subset not in SUBSETS:
            raise FilterError(f"unknown subset {subset!r}: use one of {', '.join(SUBSETS)}")
        if subset == "licensed-only" and policy is None:
            raise FilterError("the licensed-only subset needs a policy")
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise FilterError("--min-confidence must be within 0..1")
        if min_confidence is None and policy is not None:
            min_confidence = policy.min_confidence
        optout_ok = allow_optout or (policy is not None and policy.allow_optout)
        conflict_ok = allow_conflict or (policy is not None and policy.allow_conflict)
        return cls(subset=subset, policy=policy, min_confidence=min_confidence,
                   check_optout=not optout_ok, check_conflict=not conflict_ok,
                   check_attribution=subset == "attributed")

    def describe(self) -> dict[str, Any]:
        """The rules as plain data, for ``report.json``."""
        return {
            "subset": self.subset,
            "policy": self.policy.describe() if self.policy else None,
            "min_confidence": self.min_confidence,
            "exclude_optout": self.check_optout,
            "exclude_conflict": self.check_conflict,
            "require_attribution": self.check_attribution,
        }


# ---------------------------------------------------------------------------------------
# Judging a batch


def _null_string(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def _reason_where(mask: pa.Array, reason: str) -> pa.Array:
    """``reason`` where ``mask`` is true, null elsewhere."""
    return pc.if_else(pc.fill_null(mask, False), pa.scalar(reason),
                      pa.scalar(None, pa.string()))


def _license_reasons(licenses: pa.Array, policy: Policy) -> pa.Array:
    """Per-row license reason, the policy judged once per distinct license value."""
    encoded = pc.dictionary_encode(pc.fill_null(licenses, "NOASSERTION"))
    verdicts = pa.array([policy.license_reason(v) for v in encoded.dictionary.to_pylist()],
                        pa.string())
    return verdicts.take(encoded.indices)


def _optout_reasons(batch: pa.RecordBatch) -> pa.Array:
    """``optout:tdmrep`` for TDMRep reservations, else ``optout:<first ai_optout signal>``."""
    signals = batch.column("ai_optout")
    lengths = pc.fill_null(pc.list_value_length(signals), 0)
    starts = signals.offsets[: len(signals)]
    first_index = pc.if_else(pc.greater(lengths, 0), starts, pa.scalar(None, starts.type))
    first = signals.values.take(first_index)
    from_list = pc.binary_join_element_wise(REASON_OPTOUT_PREFIX, first, "")
    tdm = _reason_where(batch.column("tdm_reserved"), REASON_OPTOUT_TDMREP)
    return pc.coalesce(tdm, from_list)


def _attribution_reasons(batch: pa.RecordBatch) -> list[pa.Array]:
    """Per-row reasons for a missing author or copyright holder, source URL, license."""
    has_author = pc.fill_null(pc.greater(pc.list_value_length(batch.column("authors")), 0),
                              False)
    holder = pc.replace_substring_regex(
        pc.fill_null(batch.column("copyright"), ""),
        r"(?i)©|\(c\)|copyright|all rights reserved|[\d\s\p{P}]", "")
    has_holder = pc.greater(pc.utf8_length(holder), 0)
    no_author = pc.invert(pc.or_(has_author, has_holder))
    no_url = pc.invert(pc.fill_null(
        pc.match_substring_regex(batch.column("url"), r"^(?i:https?)://[^/\s]+"), False))
    licenses = batch.column("license")
    no_license = pc.fill_null(
        pc.or_(pc.equal(licenses, "NOASSERTION"),
               pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(licenses)), 0)), True)
    return [_reason_where(no_author, REASON_NO_AUTHOR), _reason_where(no_url, REASON_NO_URL),
            _reason_where(no_license, REASON_NO_LICENSE)]


def judge_batch(batch: pa.RecordBatch, rules: Rules) -> tuple[pa.Array, dict[str, pa.Array]]:
    """Judge record rows: (first failing reason per row, null when kept; per-check reasons).

    Checks run in a fixed order: license, confidence, opt-out, conflict, attribution.
    """
    checks: dict[str, pa.Array] = {}
    if rules.policy is not None:
        checks["license"] = _license_reasons(batch.column("license"), rules.policy)
    if rules.min_confidence is not None:
        confidence = batch.column("license_confidence")
        low = pc.fill_null(pc.less(confidence, pa.scalar(rules.min_confidence,
                                                         confidence.type)), True)
        checks["confidence"] = _reason_where(low, REASON_LOW_CONFIDENCE)
    if rules.check_optout:
        checks["optout"] = _optout_reasons(batch)
    if rules.check_conflict:
        checks["conflict"] = _reason_where(batch.column("license_conflict"), REASON_CONFLICT)
    if rules.check_attribution:
        for i, reasons in enumerate(_attribution_reasons(batch)):
            checks[f"attribution-{i}"] = reasons
    if not checks:
        return _null_string(batch.num_rows), checks
    arrays = list(checks.values())
    first = arrays[0] if len(arrays) == 1 else pc.coalesce(*arrays)
    return first, checks


# ---------------------------------------------------------------------------------------
# Reading input shards


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def open_shard(path: Path) -> tuple[pq.ParquetFile, list[str]]:
    """Open an input shard and check it: a Parquet file of a licrawl record schema with the
    same major version and every column. Returns the file and the names of columns this
    version does not know (dropped from the output). Raises :class:`FilterError` naming
    the file."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise FilterError(f"{path}: not a readable Parquet file ({exc})") from exc
    schema = parquet.schema_arrow
    meta = schema.metadata or {}
    expected_name = schema_definition()["name"]
    name = meta.get(SCHEMA_NAME_KEY, b"").decode(errors="replace")
    version = meta.get(SCHEMA_VERSION_KEY, b"").decode(errors="replace")
    if name != expected_name or not version:
        raise FilterError(f"{path}: not a licrawl shard (Parquet metadata has no "
                          f"{SCHEMA_NAME_KEY.decode()}={expected_name} and schema version)")
    if _major(version) != _major(schema_version()):
        raise FilterError(f"{path}: record schema version {version} is not supported "
                          f"(this licrawl reads {_major(schema_version())}.x)")
    missing = [c for c in column_names() if c not in schema.names]
    if missing:
        raise FilterError(f"{path}: missing columns {', '.join(missing)}")
    return parquet, [c for c in schema.names if c not in set(column_names())]


def _read_batches(path: Path, parquet: pq.ParquetFile, batch_rows: int
                  ) -> Iterator[pa.RecordBatch]:
    """The rows of a checked shard as record-schema batches of at most ``batch_rows``."""
    target = record_schema()
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=column_names()):
            if not batch.schema.equals(target, check_metadata=False):
                batch = batch.cast(target)
            yield batch
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FilterError(f"{path}: cannot read rows ({exc})") from exc


# ---------------------------------------------------------------------------------------
# One worker: files in, writers out


@dataclass(frozen=True)
class _WorkerSetup:
    worker_id: int
    out_dir: Path
    excluded_dir: Path | None
    rules: Rules
    batch_rows: int
    shard_rows: int | None
    shard_bytes: int | None


def excluded_schema() -> pa.Schema:
    """Schema of excluded rows: the record schema plus a ``filter_reason`` string column."""
    return record_schema().append(pa.field(REASON_COLUMN, pa.string(), nullable=False))


def _shard_limits(setup: _WorkerSetup) -> dict[str, int]:
    limits = {}
    if setup.shard_rows:
        limits["max_rows"] = setup.shard_rows
    if setup.shard_bytes:
        limits["max_bytes"] = setup.shard_bytes
    return limits


def _manifest_part(setup: _WorkerSetup) -> tuple[Path, Path]:
    folder = setup.out_dir / _MANIFEST_PARTS
    return (folder / f"w{setup.worker_id:03d}.parquet", folder / f"w{setup.worker_id:03d}.txt")


def _run_worker(setup: _WorkerSetup, paths: Iterable[Path],
                on_file: Callable[[dict[str, Any]], None]) -> FilterCounts:
    """Filter ``paths`` one after the other into this worker's writers."""
    counts = FilterCounts()
    prefix = f"part-w{setup.worker_id:03d}"
    parquet_part, text_part = _manifest_part(setup)
    metadata = {"licrawl.filter.subset": setup.rules.subset,
                "licrawl.filter.policy": setup.rules.policy.name if setup.rules.policy else ""}
    kept_writer = ShardWriter(setup.out_dir / DATA_DIR, prefix=prefix, extra_metadata=metadata,
                              **_shard_limits(setup))
    excluded_writer = (ShardWriter(setup.excluded_dir, prefix=prefix, schema=excluded_schema(),
                                   spdx=False, **_shard_limits(setup))
                       if setup.excluded_dir else None)
    manifest = ManifestWriter(parquet_part, text_part)
    try:
        for path in paths:
            parquet, dropped = open_shard(path)
            if dropped:
                counts.dropped_columns[str(path)] = dropped
            before = (counts.rows_in, counts.kept)
            for batch in _read_batches(path, parquet, setup.batch_rows):
                reasons, checks = judge_batch(batch, setup.rules)
                counts.add_batch(batch, reasons, checks)
                kept_mask = pc.is_null(reasons)
                kept = batch.filter(kept_mask)
                if kept.num_rows:
                    kept_writer.write_batch(kept)
                    manifest.add(kept)
                if excluded_writer is not None and kept.num_rows < batch.num_rows:
                    excluded_mask = pc.invert(kept_mask)
                    excluded = batch.filter(excluded_mask).append_column(
                        REASON_COLUMN, reasons.filter(excluded_mask))
                    excluded_writer.write_batch(excluded)
            counts.files += 1
            on_file({"path": str(path), "rows": counts.rows_in - before[0],
                     "kept": counts.kept - before[1], "bytes": path.stat().st_size})
    except BaseException:
        kept_writer.abort()
        if excluded_writer is not None:
            excluded_writer.abort()
        manifest.abort()
        raise
    kept_writer.close()
    if excluded_writer is not None:
        excluded_writer.close()
    manifest.close()
    return counts


def _worker_main(setup: _WorkerSetup, tasks: Any, results: Any) -> None:
    """Process entry point: take paths from ``tasks`` until ``None``, report on ``results``."""
    try:
        paths = (Path(p) for p in iter(tasks.get, None))
        counts = _run_worker(setup, paths, lambda info: results.put(("file", info)))
        results.put(("done", setup.worker_id, counts))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        message = str(exc) if isinstance(exc, FilterError) else f"{type(exc).__name__}: {exc}"
        results.put(("error", setup.worker_id, message))


def _run_pool(setups: list[_WorkerSetup], files: list[Path],
              on_file: Callable[[dict[str, Any]], None]) -> FilterCounts:
    """Run one process per setup over a shared queue of files; merge their counts."""
    ctx = mp.get_context("spawn")
    tasks, results = ctx.Queue(), ctx.Queue()
    for path in files:
        tasks.put(str(path))
    for _ in setups:
        tasks.put(None)
    procs = {s.worker_id: ctx.Process(target=_worker_main, args=(s, tasks, results),
                                      daemon=True) for s in setups}
    for proc in procs.values():
        proc.start()
    total, pending = FilterCounts(), set(procs)
    try:
        while pending:
            try:
                message = results.get(timeout=1.0)
            except queue.Empty:
                dead = [i for i in pending if procs[i].exitcode not in (None, 0)]
                if dead:
                    raise FilterError(f"filter worker {dead[0]} died "
                                      f"(exit code {procs[dead[0]].exitcode})") from None
                continue
            if message[0] == "file":
                on_file(message[1])
            elif message[0] == "done":
                total.merge(message[2])
                pending.discard(message[1])
            else:
                raise FilterError(message[2])
    finally:
        for proc in procs.values():
            if proc.is_alive() and pending:
                proc.terminate()
            proc.join()
    return total


# ---------------------------------------------------------------------------------------
# The whole run


def _temp_sibling(target: Path) -> Path:
    temp = target.parent / f"{target.name}.tmp-{secrets.token_hex(4)}"
    temp.mkdir(parents=True)
    return temp


def _check_target(target: Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise FilterError(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise FilterError(f"{target}: folder exists and is not empty (use --overwrite)")


def _publish(temp: Path, target: Path) -> None:
    """Move a finished temp folder to ``target``, replacing an old one."""
    old = None
    if target.exists():
        old = target.parent / f"{target.name}.old-{secrets.token_hex(4)}"
        target.rename(old)
    temp.rename(target)
    if old is not None:
        shutil.rmtree(old)


def collect_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand shard files, folders and globs; a path or pattern that matches nothing is an
    error, an existing folder without shards gives no files."""
    try:
        return list(iter_shard_files(inputs))
    except FileNotFoundError as exc:
        raise FilterError(str(exc)) from exc


def filter_shards(inputs: Iterable[str | Path], out_dir: str | Path, rules: Rules, *,
                  excluded_dir: str | Path | None = None, overwrite: bool = False,
                  jobs: int | None = None, batch_rows: int = DEFAULT_BATCH_ROWS,
                  shard_rows: int | None = None, shard_bytes: int | None = None,
                  progress: ProgressFn | None = None) -> dict[str, Any]:
    """Filter shards into ``out_dir``; returns the report (also written as ``report.json``).

    ``jobs`` worker processes (default: one per CPU, at most one per file; ``1`` runs in
    this process) read ``batch_rows`` rows at a time. ``shard_rows``/``shard_bytes``
    override the shard writer's rotation limits. ``progress`` receives one line per file.
    """
    started = time.monotonic()
    out = Path(out_dir)
    excluded = Path(excluded_dir) if excluded_dir is not None else None
    for target in (out, excluded):
        if target is not None:
            _check_target(target, overwrite)
    if excluded is not None and excluded.resolve() == out.resolve():
        raise FilterError(f"{excluded}: the excluded folder must differ from the output")
    files = collect_inputs(inputs)
    for target in (out, excluded):
        inside = [p for p in files if target is not None and target.resolve() in
                  p.resolve().parents]
        if inside:
            raise FilterError(f"{inside[0]}: an input lies inside the output folder {target}")
    for path in files:  # fail fast, before writing anything
        open_shard(path)
    input_bytes = sum(p.stat().st_size for p in files)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(files) or 1))

    temp_out = _temp_sibling(out)
    temp_excluded = _temp_sibling(excluded) if excluded is not None else None
    try:
        (temp_out / _MANIFEST_PARTS).mkdir()
        (temp_out / DATA_DIR).mkdir()
        setups = [_WorkerSetup(i, temp_out, temp_excluded, rules, batch_rows, shard_rows,
                               shard_bytes) for i in range(workers)]
        on_file = _progress_printer(progress, len(files), input_bytes, started)
        if workers == 1:
            counts = _run_worker(setups[0], files, on_file)
        else:
            counts = _run_pool(setups, files, on_file)
        merge_manifests([_manifest_part(s) for s in setups], temp_out)
        shutil.rmtree(temp_out / _MANIFEST_PARTS)
        report = build_report(
            counts, settings=rules.describe(), inputs=[str(p) for p in files],
            input_bytes=input_bytes,
            outputs={"folder": str(out),
                     "shards": sorted(f"{DATA_DIR}/{p.name}"
                                      for p in (temp_out / DATA_DIR).glob("*.parquet")),
                     "excluded_folder": str(excluded) if excluded else None},
            elapsed=time.monotonic() - started)
        _write_json(temp_out / REPORT_FILE, report)
        if temp_excluded is not None and excluded is not None:
            _publish(temp_excluded, excluded)
        _publish(temp_out, out)
    except BaseException:
        shutil.rmtree(temp_out, ignore_errors=True)
        if temp_excluded is not None:
            shutil.rmtree(temp_excluded, ignore_errors=True)
        raise
    return report


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _progress_printer(progress: ProgressFn | None, total_files: int, total_bytes: int,
                      started: float) -> Callable[[dict[str, Any]], None]:
    state = {"files": 0, "bytes": 0, "rows": 0, "kept": 0}

    def on_file(info: dict[str, Any]) -> None:
        for key in ("bytes", "rows", "kept"):
            state[key] += info[key]
        state["files"] += 1
        if progress is None:
            return
        elapsed = max(time.monotonic() - started, 1e-6)
        progress(f"[{state['files']}/{total_files} files, "
                 f"{100 * state['bytes'] / max(total_bytes, 1):.0f}%] {info['path']}: "
                 f"{info['kept']:,}/{info['rows']:,} kept; total {state['kept']:,}/"
                 f"{state['rows']:,} kept, {state['bytes'] / 2**20 / elapsed:.1f} MiB/s")

    return on_file
