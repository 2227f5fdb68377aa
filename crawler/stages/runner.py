"""The stage protocol over record shards: read shards -> step -> write, in datatrove's spirit.

A stage (``filter`` today; ``dedup`` and ``index`` next) is a small picklable
:class:`ShardStage` whose :meth:`~ShardStage.step` judges one record batch and returns, per
row, the reason to exclude it (null: keep). :func:`run_stage` does everything else, the same
way for every stage:

* inputs: shard files, folders and globs expanded; each file checked before anything is
  written (a licrawl shard of a readable schema version), errors name the file;
* outputs: built in a temporary sibling folder ``DIR.tmp-<random>`` and renamed to ``DIR``
  only when complete (a crash leaves no half result); kept rows as shards with their SPDX
  documents under ``DIR/data/``; with an exclusion folder, excluded rows under
  ``EXCLUDED/data/`` with a ``filter_reason`` column and SPDX documents too, as datatrove's
  exclusion writer stamps why a document was dropped;
* work: tasks of consecutive input files (about four tasks per worker, so a slow file
  does not idle the others, and few enough that output shards stay large) on an
  :class:`~crawler.stages.executors.Executor`: the stages' process pool (``jobs``; ``1``
  runs in this process) or a Ray cluster; each task with its own writers, named after the
  task's position, so the output does not depend on which worker ran what (and a task
  run again after its worker died first removes what the dead attempt wrote);
* counting and progress: per task the stage's counters, merged in input order; one
  :class:`~crawler.stages.progress.Progress` line now and then.
"""

from __future__ import annotations

import secrets
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crawler.core.schema import (
    SCHEMA_NAME_KEY,
    SCHEMA_VERSION_KEY,
    column_names,
    record_schema,
    required_column_names,
    schema_definition,
    schema_version,
)
from crawler.stages import DEFAULT_BATCH_ROWS
from crawler.stages.executors import Executor, LocalExecutor, clear_task_files
from crawler.stages.progress import Progress
from crawler.store.shards import ShardWriter, iter_shard_files

DATA_DIR = "data"
TASKS_PER_WORKER = 4  # tasks of consecutive input files per worker process
REASON_COLUMN = "filter_reason"


class StageError(Exception):
    """A stage run that cannot proceed; the message names the file or folder at fault."""


class Counts(Protocol):
    """What a stage counts per task; the runner merges the tasks' counts in input order."""

    def merge(self, other: Any) -> None:
        """Add another task's counts to these."""


CountsT = TypeVar("CountsT", bound=Counts)


@dataclass
class TaskContext:
    """One task's view of the run: its input, its output folder and its writers."""

    index: int  # position of the task in the run
    paths: tuple[Path, ...]  # its input files, consecutive in the run's order
    out_dir: Path  # the run's temporary output folder
    prefix: str  # output file names start with this (``part-t00003``)
    extras: dict[str, Any] = field(default_factory=dict)  # what the stage opened for the task


class TaskStep(ABC, Generic[CountsT]):
    """What a task runs over its record batches. Subclasses are picklable values.

    ``step`` returns the exclusion reason per row (a string array, null = keep) and counts
    what it saw; ``transform_kept`` may add to the kept rows (same schema) before they are
    written; ``on_kept`` sees the kept rows as written (e.g. for a manifest); ``open_task``
    and ``close_task`` open and close a task's own extra writers; ``on_file`` is told when
    an input file is done.
    """

    @abstractmethod
    def new_counts(self) -> CountsT:
        """Empty counters for one task."""

    @abstractmethod
    def step(self, batch: pa.RecordBatch, counts: CountsT) -> pa.Array:
        """The exclusion reason of each row of ``batch`` (null: keep)."""

    def transform_kept(self, kept: pa.RecordBatch) -> pa.RecordBatch:
        """The kept rows of one batch as they are written (default: unchanged)."""
        return kept

    def open_task(self, task: TaskContext) -> None:
        """Open the task's extra writers into ``task.extras`` (default: none)."""

    def on_kept(self, task: TaskContext, kept: pa.RecordBatch) -> None:
        """See the rows kept from one batch (default: nothing)."""

    def close_task(self, task: TaskContext, *, ok: bool) -> None:
        """Close (``ok``) or drop (not ``ok``) the task's extra writers."""

    def on_file(self, counts: CountsT, path: Path, dropped_columns: list[str]) -> None:
        """Count one finished input file (default: nothing)."""


class ShardStage(ABC, Generic[CountsT]):
    """One stage of a run, in the parent: it names the run, gives each task its
    :class:`TaskStep`, and completes the output.

    A stage whose tasks all run the same step is a :class:`TaskStep` too (``filter``):
    ``for_task`` gives the stage itself. A stage that needs the whole input before it can
    judge a row (``dedup``) does that work in ``prepare``, which runs once after the inputs
    are checked and before the tasks, and may use the pool through
    :meth:`PreparedRun.map`; ``for_task`` then gives each task a step with its share of the
    decisions. ``finish`` runs once on the complete temporary folder and returns the report.
    """

    name: ClassVar[str]

    @property
    def output_metadata(self) -> dict[str, str]:
        """Extra Parquet metadata for the kept shards."""
        return {}

    @abstractmethod
    def new_counts(self) -> CountsT:
        """Empty counters, which the tasks' counts are merged into."""

    def prepare(self, run: PreparedRun) -> None:
        """Work over the whole checked input before the tasks run (default: none)."""

    def for_task(self, index: int, paths: tuple[Path, ...]) -> TaskStep[CountsT]:
        """The step task ``index`` (reading ``paths``) runs: the stage itself when it is a
        :class:`TaskStep`."""
        if isinstance(self, TaskStep):
            return self
        raise TypeError(f"{type(self).__name__} is no TaskStep and must define for_task")

    @abstractmethod
    def finish(self, run: StageRun[CountsT]) -> dict[str, Any]:
        """Complete the temporary output folder (merge parts, write the report); return
        the report."""

    def progress_line(self, counts: CountsT) -> str:
        """The progress line after some files (default: files done)."""
        return ""


@dataclass
class PreparedRun:
    """The checked input and the temporary output, as :meth:`ShardStage.prepare` sees them."""

    files: list[Path]
    task_paths: list[tuple[Path, ...]]  # the input files of each task, in run order
    temp_out: Path
    workers: int
    progress: Progress
    executor: Executor = field(default_factory=LocalExecutor)

    def map(self, fn: Callable[[Any], Any], items: list[Any],
            on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
        """``fn(item)`` for every item on the run's executor; results in item order
        (``on_done(index, result)`` is called for each, in order)."""
        return self.executor.map(fn, items, self.workers, on_done)


@dataclass
class StageRun(Generic[CountsT]):
    """A finished run as :meth:`ShardStage.finish` sees it."""

    files: list[Path]
    input_bytes: int
    out: Path  # the final output folder
    temp_out: Path  # where everything is, until published
    excluded: Path | None
    tasks: list[TaskContext]
    counts: CountsT
    progress: Progress


# ---------------------------------------------------------------------------------------
# Reading input shards


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def shard_version(parquet: pq.ParquetFile) -> str:
    """The record schema version a shard says it follows (empty when it says none)."""
    meta = parquet.schema_arrow.metadata or {}
    return meta.get(SCHEMA_VERSION_KEY, b"").decode(errors="replace")


def open_shard(path: Path) -> tuple[pq.ParquetFile, list[str]]:
    """Open an input shard and check it: a Parquet file of a licrawl record schema with the
    same major version and every required column (a shard of an older minor version may
    lack the optional ones). Returns the file and the names of columns this version does
    not know (dropped from the output). Raises :class:`StageError` naming the file."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise StageError(f"{path}: not a readable Parquet file ({exc})") from exc
    schema = parquet.schema_arrow
    meta = schema.metadata or {}
    expected_name = schema_definition()["name"]
    name = meta.get(SCHEMA_NAME_KEY, b"").decode(errors="replace")
    version = meta.get(SCHEMA_VERSION_KEY, b"").decode(errors="replace")
    if name != expected_name or not version:
        raise StageError(f"{path}: not a licrawl shard (Parquet metadata has no "
                         f"{SCHEMA_NAME_KEY.decode()}={expected_name} and schema version)")
    if _major(version) != _major(schema_version()):
        raise StageError(f"{path}: record schema version {version} is not supported "
                         f"(this licrawl reads {_major(schema_version())}.x)")
    missing = [c for c in required_column_names() if c not in schema.names]
    if missing:
        raise StageError(f"{path}: missing columns {', '.join(missing)}")
    return parquet, [c for c in schema.names if c not in set(column_names())]


def read_batches(path: Path, parquet: pq.ParquetFile, batch_rows: int,
                 columns: list[str] | None = None,
                 row_groups: list[int] | None = None) -> Iterator[pa.RecordBatch]:
    """The rows of a checked shard as record-schema batches of at most ``batch_rows``
    (only ``columns``, in that order, when given; only the Parquet ``row_groups`` when
    given); optional columns the shard lacks are nulls."""
    full = record_schema()
    target = pa.schema([full.field(name) for name in columns] if columns else list(full),
                       metadata=full.metadata)
    present = set(parquet.schema_arrow.names)
    read = [name for name in target.names if name in present]
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=read,
                                          row_groups=row_groups):
            if len(read) < len(target.names):
                batch = pa.RecordBatch.from_arrays(
                    [batch.column(name) if name in present
                     else pa.nulls(batch.num_rows, target.field(name).type)
                     for name in target.names], names=target.names)
            if not batch.schema.equals(target, check_metadata=False):
                batch = batch.cast(target)
            yield batch
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise StageError(f"{path}: cannot read rows ({exc})") from exc


def collect_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand shard files, folders and globs; a path or pattern that matches nothing is an
    error, an existing folder without shards gives no files."""
    try:
        return list(iter_shard_files(inputs))
    except FileNotFoundError as exc:
        raise StageError(str(exc)) from exc


def excluded_schema() -> pa.Schema:
    """Schema of excluded rows: the record schema plus a ``filter_reason`` string column."""
    return record_schema().append(pa.field(REASON_COLUMN, pa.string(), nullable=False))


# ---------------------------------------------------------------------------------------
# One task: one input file


@dataclass(frozen=True)
class _Task:
    stage: TaskStep[Any]
    index: int
    paths: tuple[Path, ...]
    out_dir: Path
    excluded_dir: Path | None
    batch_rows: int
    shard_limits: dict[str, int]
    metadata: dict[str, str]


def _run_task(task: _Task) -> tuple[Counts, TaskContext]:
    """Read the task's input files through the stage into its own writers."""
    stage = task.stage
    counts = stage.new_counts()
    ctx = TaskContext(task.index, task.paths, task.out_dir, f"part-t{task.index:05d}")
    for root in (task.out_dir, task.excluded_dir):  # an earlier attempt's files, if any
        if root is not None:
            clear_task_files(root, ctx.prefix)
    kept_writer = ShardWriter(task.out_dir / DATA_DIR, prefix=ctx.prefix,
                              extra_metadata=task.metadata, **task.shard_limits)
    excluded_writer = (ShardWriter(task.excluded_dir / DATA_DIR, prefix=ctx.prefix,
                                   schema=excluded_schema(), spdx_lenient=True,
                                   **task.shard_limits)
                       if task.excluded_dir is not None else None)
    stage.open_task(ctx)
    try:
        for path in task.paths:
            _run_file(stage, ctx, counts, path, task.batch_rows, kept_writer, excluded_writer)
    except BaseException:
        kept_writer.abort()
        if excluded_writer is not None:
            excluded_writer.abort()
        stage.close_task(ctx, ok=False)
        raise
    kept_writer.close()
    if excluded_writer is not None:
        excluded_writer.close()
    stage.close_task(ctx, ok=True)
    ctx.extras.clear()  # writers stay in the worker; the parent needs index, paths, prefix
    return counts, ctx


def _run_file(stage: TaskStep[Any], ctx: TaskContext, counts: Counts, path: Path,
              batch_rows: int, kept_writer: ShardWriter,
              excluded_writer: ShardWriter | None) -> None:
    """One input file, batch by batch: kept rows to ``kept_writer``, the rest (with their
    reason) to ``excluded_writer``."""
    parquet, dropped = open_shard(path)
    for batch in read_batches(path, parquet, batch_rows):
        reasons = stage.step(batch, counts)
        kept_mask = pc.is_null(reasons)
        kept = batch.filter(kept_mask)
        if kept.num_rows:
            kept = stage.transform_kept(kept)
            kept_writer.write_batch(kept)
            stage.on_kept(ctx, kept)
        if excluded_writer is not None and kept.num_rows < batch.num_rows:
            excluded_mask = pc.invert(kept_mask)
            excluded_writer.write_batch(batch.filter(excluded_mask).append_column(
                REASON_COLUMN, reasons.filter(excluded_mask)))
    stage.on_file(counts, path, dropped)


# ---------------------------------------------------------------------------------------
# The whole run


def temp_sibling(target: Path) -> Path:
    """A new empty folder beside ``target`` to build it in (``DIR.tmp-<random>``)."""
    temp = target.parent / f"{target.name}.tmp-{secrets.token_hex(4)}"
    temp.mkdir(parents=True)
    return temp


def check_target(target: Path, overwrite: bool) -> None:
    """Refuse an output path that is a file, or a non-empty folder without ``overwrite``."""
    if target.exists() and not target.is_dir():
        raise StageError(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise StageError(f"{target}: folder exists and is not empty (use --overwrite)")


def publish(temp: Path, target: Path) -> None:
    """Move a finished temp folder to ``target``, replacing an old one."""
    old = None
    if target.exists():
        old = target.parent / f"{target.name}.old-{secrets.token_hex(4)}"
        target.rename(old)
    temp.rename(target)
    if old is not None:
        shutil.rmtree(old)


def map_in_order(fn: Callable[[Any], Any], items: list[Any], jobs: int,
                 on_done: Callable[[int, Any], None]) -> list[Any]:
    """``fn(item)`` for each item, in this process (``jobs == 1``) or on the process pool;
    results in item order, ``on_done(index, result)`` called for each in item order
    (:meth:`LocalExecutor.map <crawler.stages.executors.LocalExecutor.map>`)."""
    return LocalExecutor(jobs).map(fn, items, jobs, on_done)


def run_stage(stage: ShardStage[CountsT], inputs: Iterable[str | Path], out_dir: str | Path, *,
              excluded_dir: str | Path | None = None, overwrite: bool = False,
              jobs: int | None = None, batch_rows: int = DEFAULT_BATCH_ROWS,
              shard_rows: int | None = None, shard_bytes: int | None = None,
              progress: bool = True, executor: Executor | None = None) -> dict[str, Any]:
    """Run ``stage`` over ``inputs`` into ``out_dir`` (and excluded rows into
    ``excluded_dir``); returns the stage's report.

    ``jobs`` worker processes (default: one per CPU, at most one per file; ``1`` runs in
    this process) read ``batch_rows`` rows at a time; ``shard_rows``/``shard_bytes``
    override the shard writer's rotation limits. ``executor`` runs the tasks (default:
    :class:`~crawler.stages.executors.LocalExecutor`; a Ray executor's default ``jobs`` is
    the cluster's CPUs).
    """
    executor = executor or LocalExecutor(jobs)
    out = Path(out_dir)
    excluded = Path(excluded_dir) if excluded_dir is not None else None
    for target in (out, excluded):
        if target is not None:
            check_target(target, overwrite)
    if excluded is not None and excluded.resolve() == out.resolve():
        raise StageError(f"{excluded}: the excluded folder must differ from the output")
    files = collect_inputs(inputs)
    for target in (out, excluded):
        inside = [p for p in files if target is not None and target.resolve() in
                  p.resolve().parents]
        if inside:
            raise StageError(f"{inside[0]}: an input lies inside the output folder {target}")
    for path in files:  # fail fast, before writing anything
        open_shard(path)
    sizes = {path: path.stat().st_size for path in files}
    input_bytes = sum(sizes.values())
    workers = max(1, min(jobs or executor.default_workers(), len(files) or 1))
    limits = {k: v for k, v in (("max_rows", shard_rows), ("max_bytes", shard_bytes)) if v}
    shown = Progress(stage.name, interval=2.0, enabled=progress)

    temp_out = temp_sibling(out)
    temp_excluded = temp_sibling(excluded) if excluded is not None else None
    try:
        (temp_out / DATA_DIR).mkdir()
        per_task = max(1, len(files) // (TASKS_PER_WORKER * workers))
        task_paths = [tuple(files[start:start + per_task])
                      for start in range(0, len(files), per_task)]
        stage.prepare(PreparedRun(files, task_paths, temp_out, workers, shown, executor))
        tasks = [_Task(stage.for_task(i, paths), i, paths, temp_out, temp_excluded,
                       batch_rows, limits, stage.output_metadata)
                 for i, paths in enumerate(task_paths)]
        total = stage.new_counts()
        done = {"files": 0, "bytes": 0}

        def on_done(index: int, result: tuple[Counts, TaskContext]) -> None:
            task, counts = tasks[index], result[0]
            total.merge(counts)
            done["files"] += len(task.paths)
            done["bytes"] += sum(sizes[path] for path in task.paths)
            shown.tick(lambda: f"[{done['files']}/{len(files)} files, "
                               f"{100 * done['bytes'] / max(input_bytes, 1):.0f}%, "
                               f"{done['bytes'] / 2**20 / shown.elapsed:.1f} MiB/s] "
                               + stage.progress_line(total),
                       force=done["files"] == len(files))

        results = executor.map(_run_task, tasks, workers, on_done)
        run = StageRun(files, input_bytes, out, temp_out, excluded,
                       [ctx for _, ctx in results], total, shown)
        report = stage.finish(run)
        if temp_excluded is not None and excluded is not None:
            publish(temp_excluded, excluded)
        publish(temp_out, out)
    except BaseException:
        shutil.rmtree(temp_out, ignore_errors=True)
        if temp_excluded is not None:
            shutil.rmtree(temp_excluded, ignore_errors=True)
        raise
    return report
