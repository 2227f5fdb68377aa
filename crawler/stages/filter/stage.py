"""``licrawl filter``: a subset of shards by license policy, with attribution and a report.

:class:`FilterStage` is a :class:`~crawler.stages.runner.ShardStage`: it judges each record
batch with vectorized ``pyarrow.compute`` (the license policy is evaluated once per distinct
``license`` value), counts what it saw, and writes an attribution manifest part per task.
The stage runner does the rest (reading, kept and excluded shards with their SPDX
documents, the pool, progress, the temporary folder renamed into place when complete).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from crawler.core.locations import shown_location
from crawler.licenses.expressions import parse
from crawler.licenses.ids import NOASSERTION
from crawler.stages import DEFAULT_BATCH_ROWS
from crawler.stages.executors import Executor
from crawler.stages.filter.later import LaterChanges
from crawler.stages.filter.manifest import ManifestWriter, merge_manifests
from crawler.stages.filter.policy import (
    REASON_CONFLICT,
    REASON_DUP_CONFLICT,
    REASON_INVALID,
    REASON_LOW_CONFIDENCE,
    REASON_NO_AUTHOR,
    REASON_NO_LICENSE,
    REASON_NO_URL,
    REASON_OPTOUT_PREFIX,
    REASON_OPTOUT_TDMREP,
    SUBSETS,
    Policy,
)
from crawler.stages.filter.report import FilterCounts, build_report
from crawler.stages.runner import (
    DATA_DIR,
    ShardStage,
    StageError,
    StageRun,
    TaskContext,
    TaskStep,
    run_stage,
)

REPORT_FILE = "report.json"
_MANIFEST_PARTS = ".manifest-parts"


class FilterError(StageError):
    """Filter settings that cannot work (unknown subset, missing policy, bad threshold)."""


@dataclass(frozen=True)
class Rules:
    """The checks a row must pass, resolved from the subset, the policy and the flags.

    ``policy`` is ``None`` when no license check applies (``attributed`` without a policy);
    ``min_confidence`` is ``None`` when no confidence check applies. ``later`` looks up what
    a crawl state saw of each URL since (``None``: no state); ``check_later`` excludes the
    rows it finds removed or opted out since, else they are only counted.
    """

    subset: str
    policy: Policy | None
    min_confidence: float | None
    check_optout: bool
    check_conflict: bool
    check_dup_conflict: bool
    check_attribution: bool
    later: LaterChanges | None = None
    check_later: bool = False

    @classmethod
    def build(cls, subset: str, policy: Policy | None, *, min_confidence: float | None = None,
              allow_optout: bool = False, allow_conflict: bool = False,
              allow_dup_conflict: bool = False, state_dir: str | Path | None = None,
              ignore_later_changes: bool = False) -> Rules:
        """Resolve the rules of a run.

        ``licensed-only`` needs a policy. ``attributed`` checks attribution, plus the policy
        when one is given. ``min_confidence`` overrides the policy's; ``allow_optout``,
        ``allow_conflict`` and ``allow_dup_conflict`` (copies found by ``licrawl dedup``
        disagree about the license) let those rows pass whatever the policy says.
        ``state_dir``: a crawl state folder whose later observations exclude rows (``removed``,
        ``later-optout:<signal>``) unless ``ignore_later_changes``; it is opened once here
        (:class:`~crawler.state.store.StateError` for a bad one).
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
        dup_conflict_ok = allow_dup_conflict or (policy is not None
                                                 and policy.allow_dup_conflict)
        later = None if state_dir is None else LaterChanges(state_dir)
        if later is not None:
            later.check()
        return cls(subset=subset, policy=policy, min_confidence=min_confidence,
                   check_optout=not optout_ok, check_conflict=not conflict_ok,
                   check_dup_conflict=not dup_conflict_ok,
                   check_attribution=subset == "attributed", later=later,
                   check_later=later is not None and not ignore_later_changes)

    def describe(self) -> dict[str, Any]:
        """The rules as plain data, for ``report.json``."""
        return {
            "subset": self.subset,
            "policy": self.policy.describe() if self.policy else None,
            "min_confidence": self.min_confidence,
            "exclude_optout": self.check_optout,
            "exclude_conflict": self.check_conflict,
            "exclude_dup_conflict": self.check_dup_conflict,
            "require_attribution": self.check_attribution,
            "state": shown_location(str(self.later.folder)) if self.later else None,
            "exclude_later_changes": self.check_later,
        }


# ---------------------------------------------------------------------------------------
# Judging a batch


def _null_string(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def _reason_where(mask: pa.Array, reason: str) -> pa.Array:
    """``reason`` where ``mask`` is true, null elsewhere."""
    return pc.if_else(pc.fill_null(mask, False), pa.scalar(reason),
                      pa.scalar(None, pa.string()))


def _per_license(licenses: pa.Array, judge: Callable[[str], str | None]) -> pa.Array:
    """Per-row reason (null: none) from ``judge``, called once per distinct license value
    (a missing one is ``NOASSERTION``)."""
    encoded = pc.dictionary_encode(pc.fill_null(licenses, NOASSERTION))
    verdicts = pa.array([judge(v) for v in encoded.dictionary.to_pylist()], pa.string())
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
        pc.or_(pc.equal(licenses, NOASSERTION),
               pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(licenses)), 0)), True)
    return [_reason_where(no_author, REASON_NO_AUTHOR), _reason_where(no_url, REASON_NO_URL),
            _reason_where(no_license, REASON_NO_LICENSE), _per_license(licenses, _invalid_reason)]


def _invalid_reason(value: str) -> str | None:
    """``license-invalid`` for a license value that is not an SPDX expression (an unknown
    license status, which no attribution can name); ``NOASSERTION`` and empty values are
    the no-license check's."""
    if value == NOASSERTION or not value.strip():
        return None
    try:
        parse(value)
    except ValueError:
        return REASON_INVALID
    return None


def judge_batch(batch: pa.RecordBatch, rules: Rules, later: pa.Array | None = None
                ) -> tuple[pa.Array, dict[str, pa.Array]]:
    """Judge record rows: (first failing reason per row, null when kept; per-check reasons).

    Checks run in a fixed order: license, confidence, opt-out, later changes (``later``:
    the rows' reasons from :meth:`LaterChanges.reasons`, applied when
    ``rules.check_later``), conflict, dup-conflict (only rows of ``licrawl dedup`` output
    have the flag), attribution.
    """
    checks: dict[str, pa.Array] = {}
    if rules.policy is not None:
        checks["license"] = _per_license(batch.column("license"),
                                         rules.policy.license_reason)
    if rules.min_confidence is not None:
        confidence = batch.column("license_confidence")
        low = pc.fill_null(pc.less(confidence, pa.scalar(rules.min_confidence,
                                                         confidence.type)), True)
        checks["confidence"] = _reason_where(low, REASON_LOW_CONFIDENCE)
    if rules.check_optout:
        checks["optout"] = _optout_reasons(batch)
    if rules.check_later and later is not None:
        checks["later"] = later
    if rules.check_conflict:
        checks["conflict"] = _reason_where(batch.column("license_conflict"), REASON_CONFLICT)
    if rules.check_dup_conflict:
        checks["dup-conflict"] = _reason_where(batch.column("dup_license_conflict"),
                                               REASON_DUP_CONFLICT)
    if rules.check_attribution:
        for i, reasons in enumerate(_attribution_reasons(batch)):
            checks[f"attribution-{i}"] = reasons
    if not checks:
        return _null_string(batch.num_rows), checks
    arrays = list(checks.values())
    first = arrays[0] if len(arrays) == 1 else pc.coalesce(*arrays)
    return first, checks


# ---------------------------------------------------------------------------------------
# The stage


@dataclass(frozen=True)
class FilterStage(ShardStage[FilterCounts], TaskStep[FilterCounts]):
    """The filter as a stage: exclusion reasons by :func:`judge_batch`, a manifest part
    per task, ``report.json`` at the end."""

    rules: Rules
    name: ClassVar[str] = "filter"

    @property
    def output_metadata(self) -> dict[str, str]:
        """Subset and policy name, in every kept shard."""
        return {"licrawl.filter.subset": self.rules.subset,
                "licrawl.filter.policy": self.rules.policy.name if self.rules.policy else ""}

    def new_counts(self) -> FilterCounts:
        """Empty counters."""
        return FilterCounts()

    def step(self, batch: pa.RecordBatch, counts: FilterCounts) -> pa.Array:
        """Judge and count one batch (rows removed or opted out since are counted apart,
        excluded or not)."""
        later = self.rules.later.reasons(batch) if self.rules.later is not None else None
        reasons, checks = judge_batch(batch, self.rules, later)
        counts.add_batch(batch, reasons, checks)
        if later is not None:
            counts.add_later(later)
        return reasons

    def open_task(self, task: TaskContext) -> None:
        """Open the task's manifest part."""
        parquet_part, text_part = _manifest_part(task)
        parquet_part.parent.mkdir(exist_ok=True)
        task.extras["manifest"] = ManifestWriter(parquet_part, text_part)

    def on_kept(self, task: TaskContext, kept: pa.RecordBatch) -> None:
        """Add kept rows to the manifest part."""
        task.extras["manifest"].add(kept)

    def close_task(self, task: TaskContext, *, ok: bool) -> None:
        """Close (or drop) the manifest part; close the crawl state."""
        manifest = task.extras.get("manifest")
        if manifest is not None:
            manifest.close() if ok else manifest.abort()
        if self.rules.later is not None:
            self.rules.later.close()

    def on_file(self, counts: FilterCounts, path: Path, dropped_columns: list[str]) -> None:
        """Count the file and the columns it had that this version drops."""
        counts.files += 1
        if dropped_columns:
            counts.dropped_columns[str(path)] = dropped_columns

    def progress_line(self, counts: FilterCounts) -> str:
        """Rows kept so far."""
        return f"{counts.kept:,}/{counts.rows_in:,} rows kept"

    def finish(self, run: StageRun[FilterCounts]) -> dict[str, Any]:
        """Merge the manifest parts in input order and write ``report.json``."""
        merge_manifests([_manifest_part(task) for task in run.tasks], run.temp_out)
        shutil.rmtree(run.temp_out / _MANIFEST_PARTS, ignore_errors=True)
        report = build_report(
            run.counts, settings=self.rules.describe(), inputs=[str(p) for p in run.files],
            input_bytes=run.input_bytes,
            outputs={"folder": str(run.out),
                     "shards": sorted(f"{DATA_DIR}/{p.name}"
                                      for p in (run.temp_out / DATA_DIR).glob("*.parquet")),
                     "excluded_folder": str(run.excluded) if run.excluded else None},
            elapsed=run.progress.elapsed)
        _write_json(run.temp_out / REPORT_FILE, report)
        return report


def _manifest_part(task: TaskContext) -> tuple[Path, Path]:
    folder = task.out_dir / _MANIFEST_PARTS
    return folder / f"{task.prefix}.parquet", folder / f"{task.prefix}.txt"


def filter_shards(inputs: Iterable[str | Path], out_dir: str | Path, rules: Rules, *,
                  excluded_dir: str | Path | None = None, overwrite: bool = False,
                  jobs: int | None = None, batch_rows: int = DEFAULT_BATCH_ROWS,
                  shard_rows: int | None = None, shard_bytes: int | None = None,
                  progress: bool = False, executor: Executor | None = None
                  ) -> dict[str, Any]:
    """Filter shards into ``out_dir``; returns the report (also written as ``report.json``).

    Options as :func:`crawler.stages.runner.run_stage` (``executor``: where the tasks
    run); ``progress`` prints progress lines on stderr.
    """
    return run_stage(FilterStage(rules), inputs, out_dir, excluded_dir=excluded_dir,
                     overwrite=overwrite, jobs=jobs, batch_rows=batch_rows,
                     shard_rows=shard_rows, shard_bytes=shard_bytes, progress=progress,
                     executor=executor)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


