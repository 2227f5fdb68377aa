"""``licrawl dedup``: one row per duplicate cluster, every copy's provenance kept.

:class:`DedupStage` is a :class:`~crawler.stages.runner.ShardStage` in three steps:

1. ``prepare`` (parent): the first pass signs every input file on the workers
   (:mod:`~crawler.stages.dedup.sign`), then clusters and picks the kept copies
   (:mod:`~crawler.stages.dedup.clusters`);
2. the tasks (workers): the runner reads the input again; each task's
   :class:`KeptRows` stage keeps the chosen rows and adds the ``dup_*`` columns and the
   union of the copies' opt-outs;
3. ``finish`` (parent): ``copies.parquet`` (every input row, kept or not, streamed from the
   first pass's copy records) and ``report.json``.

Everything is written in the runner's temporary folder and renamed into place when
complete; the first pass's work files are removed before that.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crawler.stages import DEFAULT_BATCH_ROWS
from crawler.stages.dedup.clusters import KEPT_COLUMNS, Plan, plan_clusters
from crawler.stages.dedup.keep import DEFAULT_KEEP, KEEP_RULES
from crawler.stages.dedup.minhash import DedupParams, DedupSettingsError
from crawler.stages.dedup.report import build_report
from crawler.stages.dedup.sign import COPY_COLUMNS, SignResult, SignTask, sign_files
from crawler.stages.executors import Executor
from crawler.stages.runner import (
    DATA_DIR,
    PreparedRun,
    ShardStage,
    StageError,
    StageRun,
    TaskStep,
    open_shard,
    run_stage,
    shard_version,
)

COPIES_FILE = "copies.parquet"
REPORT_FILE = "report.json"
REASON_DUPLICATE = "duplicate"
_WORK_DIR = ".dedup-work"


def copies_schema() -> pa.Schema:
    """Schema of ``copies.parquet``: one row per input row."""
    return pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("host", pa.string(), nullable=False),
        pa.field("dup_cluster", pa.string(), nullable=False),
        pa.field("kept", pa.bool_(), nullable=False),
        pa.field("similarity", pa.float32(), nullable=False),
        pa.field("match", pa.string()),
        pa.field("license", pa.string(), nullable=False),
        pa.field("license_category", pa.string(), nullable=False),
        pa.field("license_confidence", pa.float32(), nullable=False),
        pa.field("authors", pa.list_(pa.string())),
        pa.field("copyright", pa.string()),
        pa.field("published", pa.string()),
        pa.field("fetched_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("warc_file", pa.string()),
        pa.field("warc_record_id", pa.string()),
        pa.field("text_sha1", pa.string(), nullable=False),
        pa.field("tdm_reserved", pa.bool_(), nullable=False),
        pa.field("ai_optout", pa.list_(pa.string())),
    ])


@dataclass
class DedupCounts:
    """What the second pass counts per task."""

    rows_in: int = 0
    kept: int = 0

    def merge(self, other: DedupCounts) -> None:
        """Add another task's counts."""
        self.rows_in += other.rows_in
        self.kept += other.kept


@dataclass
class KeptRows(TaskStep[DedupCounts]):
    """One second-pass task: keeps the planned rows of its files, in order, and sets
    their ``dup_*`` and opt-out columns."""

    masks: list[np.ndarray]  # per file of the task: kept flag per row
    columns: list[pa.Table]  # per file: KEPT_COLUMNS of its kept rows, in order
    name: ClassVar[str] = "dedup"
    _file: int = 0
    _row: int = 0
    _kept: int = 0

    def new_counts(self) -> DedupCounts:
        """Empty counters."""
        return DedupCounts()

    def step(self, batch: pa.RecordBatch, counts: DedupCounts) -> pa.Array:
        """``duplicate`` for the rows of the batch that are not kept."""
        mask = self.masks[self._file][self._row:self._row + batch.num_rows]
        if len(mask) != batch.num_rows:
            raise StageError("an input file changed while dedup ran (more rows than before)")
        self._row += batch.num_rows
        counts.rows_in += batch.num_rows
        counts.kept += int(mask.sum())
        return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()),
                          pa.scalar(REASON_DUPLICATE))

    def transform_kept(self, kept: pa.RecordBatch) -> pa.RecordBatch:
        """Set the planned ``dup_*`` and opt-out columns of the kept rows."""
        planned = self.columns[self._file].slice(self._kept, kept.num_rows)
        self._kept += kept.num_rows
        if not pc.all(pc.equal(planned.column("dup_cluster"), kept.column("id"))).as_py():
            raise StageError("an input file changed while dedup ran (ids differ)")
        arrays = []
        for name in kept.schema.names:
            column = planned.column(name) if name in KEPT_COLUMNS else kept.column(name)
            arrays.append(column.combine_chunks() if isinstance(column, pa.ChunkedArray)
                          else column)
        return pa.RecordBatch.from_arrays(
            [a.cast(kept.schema.field(n).type) for a, n in zip(arrays, kept.schema.names,
                                                                strict=True)],
            schema=kept.schema)

    def on_file(self, counts: DedupCounts, path: Path, dropped_columns: list[str]) -> None:
        """Move on to the task's next file."""
        if self._row != len(self.masks[self._file]):
            raise StageError(f"{path}: changed while dedup ran (fewer rows than before)")
        self._file, self._row, self._kept = self._file + 1, 0, 0


@dataclass
class DedupStage(ShardStage[DedupCounts]):
    """``licrawl dedup`` as a stage (see the module docstring)."""

    params: DedupParams = field(default_factory=DedupParams)
    keep: str = DEFAULT_KEEP
    batch_rows: int = DEFAULT_BATCH_ROWS
    name: ClassVar[str] = "dedup"
    _plan: Plan | None = None
    _results: list[SignResult] = field(default_factory=list)
    _kept_before: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    _file_offsets: dict[Path, tuple[int, int]] = field(default_factory=dict)  # start, rows

    def __post_init__(self) -> None:
        if self.keep not in KEEP_RULES:
            raise DedupSettingsError(
                f"unknown keep rule {self.keep!r}: use one of {', '.join(KEEP_RULES)}")

    @property
    def output_metadata(self) -> dict[str, str]:
        """The dedup settings, in every kept shard."""
        return {"licrawl.dedup.settings": json.dumps(self.params.describe(), sort_keys=True),
                "licrawl.dedup.keep": self.keep}

    def new_counts(self) -> DedupCounts:
        """Empty counters."""
        return DedupCounts()

    def prepare(self, run: PreparedRun) -> None:
        """Check the input's schema versions, sign every file, cluster."""
        _check_same_version(run.files)
        work = run.temp_out / _WORK_DIR
        work.mkdir()
        tasks, first = [], 0
        for index, paths in enumerate(run.task_paths):
            tasks.append(SignTask(index, paths, first, work, self.params, self.batch_rows))
            first += len(paths)
        done = {"files": 0, "rows": 0}

        def on_done(index: int, result: SignResult) -> None:
            done["files"] += len(result.task.paths)
            done["rows"] += result.rows
            run.progress.tick(lambda: f"[signatures: {done['files']}/{len(run.files)} files] "
                                      f"{done['rows']:,} rows",
                              force=done["files"] == len(run.files))

        self._results = run.map(sign_files, tasks, on_done)
        pa.default_memory_pool().release_unused()  # what the first pass freed (jobs=1)
        self._plan = plan_clusters(self._results, run.files, self.params, self.keep,
                                   say=lambda m: run.progress.note(m))
        self._kept_before = np.concatenate([[0], np.cumsum(self._plan.kept)])
        self._file_offsets = {}
        offset = 0
        for path, rows in zip(run.files, self._plan.file_rows, strict=True):
            self._file_offsets[path] = (offset, rows)
            offset += rows

    def for_task(self, index: int, paths: tuple[Path, ...]) -> TaskStep[DedupCounts]:
        """The task's kept-row stage, with its files' share of the plan."""
        plan = self._plan
        assert plan is not None, "prepare runs first"
        masks, columns = [], []
        kept_before = self._kept_before
        for path in paths:
            start, rows = self._file_offsets[path]
            masks.append(plan.kept[start:start + rows])
            lo, hi = int(kept_before[start]), int(kept_before[start + rows])
            # a copy, not a slice: a pickled slice would carry the whole table
            columns.append(plan.kept_columns.take(pa.array(np.arange(lo, hi))))
        return KeptRows(masks, columns)

    def progress_line(self, counts: DedupCounts) -> str:
        """Rows kept so far."""
        return f"{counts.kept:,}/{counts.rows_in:,} rows kept"

    def finish(self, run: StageRun[DedupCounts]) -> dict[str, Any]:
        """Write ``copies.parquet`` and ``report.json``; drop the work files."""
        plan = self._plan
        assert plan is not None, "prepare runs first"
        _write_copies(self._results, plan, run.temp_out / COPIES_FILE)
        shutil.rmtree(run.temp_out / _WORK_DIR, ignore_errors=True)
        report = build_report(
            plan.stats, kept=run.counts.kept, settings={**self.params.describe(),
                                                        "keep": self.keep},
            inputs=[str(p) for p in run.files], input_bytes=run.input_bytes,
            outputs={"folder": str(run.out), "copies": COPIES_FILE,
                     "shards": sorted(f"{DATA_DIR}/{p.name}"
                                      for p in (run.temp_out / DATA_DIR).glob("*.parquet"))},
            elapsed=run.progress.elapsed)
        (run.temp_out / REPORT_FILE).write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
        return report


def _check_same_version(files: list[Path]) -> None:
    """Every input shard must follow one record schema version."""
    first: tuple[Path, str] | None = None
    for path in files:
        parquet, _ = open_shard(path)
        version = shard_version(parquet)
        if first is None:
            first = (path, version)
        elif version != first[1]:
            raise StageError(f"{path}: record schema version {version}, but {first[0]} has "
                             f"{first[1]}; dedup needs one version (re-process or filter "
                             "the older shards first)")


def _write_copies(results: list[SignResult], plan: Plan, path: Path) -> None:
    """Every input row's copy record with its cluster, streamed task part by part."""
    schema = copies_schema()
    start = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for result in results:
            if not result.rows:
                continue
            for batch in pq.ParquetFile(result.task.copies_path).iter_batches(
                    batch_size=65536, columns=COPY_COLUMNS):
                end = start + batch.num_rows
                extra = {"dup_cluster": plan.cluster_id.slice(start, batch.num_rows),
                         "kept": pa.array(plan.kept[start:end]),
                         "similarity": pa.array(plan.similarity[start:end]),
                         "match": plan.match.slice(start, batch.num_rows)}
                writer.write_table(pa.table(
                    [extra[f.name] if f.name in extra else batch.column(f.name)
                     for f in schema], schema=schema))
                start = end
        if start == 0:
            writer.write_table(schema.empty_table())


def dedup_shards(inputs: Iterable[str | Path], out_dir: str | Path,
                 params: DedupParams | None = None, *, keep: str = DEFAULT_KEEP,
                 overwrite: bool = False, jobs: int | None = None,
                 batch_rows: int = DEFAULT_BATCH_ROWS, shard_rows: int | None = None,
                 shard_bytes: int | None = None, progress: bool = False,
                 executor: Executor | None = None) -> dict[str, Any]:
    """Deduplicate shards into ``out_dir``; returns the report (also ``report.json``).

    Options as :func:`crawler.stages.runner.run_stage` (``executor``: where the tasks of
    both passes run); ``progress`` prints progress lines on stderr.
    """
    stage = DedupStage(params or DedupParams(), keep, batch_rows)
    return run_stage(stage, inputs, out_dir, overwrite=overwrite, jobs=jobs,
                     batch_rows=batch_rows, shard_rows=shard_rows, shard_bytes=shard_bytes,
                     progress=progress, executor=executor)

