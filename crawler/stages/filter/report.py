"""Counting what ``licrawl filter`` kept and excluded, and telling it (``report.json``, table).

Workers each fill a :class:`FilterCounts` batch by batch with vectorized value counts; the
main process merges them and renders the report. Kept works without a license (all rights
reserved, or none found; see :func:`crawler.stages.filter.manifest.has_no_license`) are
counted, since a subset whose rules allow them (``attributed``) may hold some.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from crawler.stages import ranked
from crawler.stages.filter.manifest import has_no_license

TOP_HOSTS = 20


@dataclass
class FilterCounts:
    """Counters of one filter run (or one worker's part of it); merge with :meth:`merge`."""

    files: int = 0
    rows_in: int = 0
    kept: int = 0
    kept_without_license: int = 0
    excluded: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)
    optout_signals: Counter[str] = field(default_factory=Counter)
    category_kept: Counter[str] = field(default_factory=Counter)
    category_excluded: Counter[str] = field(default_factory=Counter)
    hosts_kept: Counter[str] = field(default_factory=Counter)
    hosts_excluded: Counter[str] = field(default_factory=Counter)
    later: Counter[str] = field(default_factory=Counter)
    dropped_columns: dict[str, list[str]] = field(default_factory=dict)

    def add_batch(self, batch: pa.RecordBatch, reasons: pa.Array,
                  failing: dict[str, pa.Array]) -> None:
        """Count one judged batch.

        ``reasons`` holds the first failing reason per row (null when kept); ``failing``
        maps each check to its per-row reason (null when the check passed).
        """
        kept_mask = pc.is_null(reasons)
        n_kept = pc.sum(kept_mask).as_py() or 0
        self.rows_in += batch.num_rows
        self.kept += n_kept
        self.excluded += batch.num_rows - n_kept
        if n_kept:
            self.kept_without_license += _count_no_license(
                batch.column("license").filter(kept_mask))
        _count(self.reasons, reasons)
        for check in failing.values():
            _count(self.checks, check)
        optout = batch.column("ai_optout")
        _count(self.optout_signals, pc.list_flatten(optout))
        tdm = pc.sum(pc.fill_null(batch.column("tdm_reserved"), False)).as_py() or 0
        if tdm:
            self.optout_signals["tdm_reserved"] += tdm
        excluded_mask = pc.invert(kept_mask)
        category = batch.column("license_category")
        if pa.types.is_dictionary(category.type):
            category = category.dictionary_decode()
        host = batch.column("host")
        _count(self.category_kept, category.filter(kept_mask))
        _count(self.category_excluded, category.filter(excluded_mask))
        _count(self.hosts_kept, host.filter(kept_mask))
        _count(self.hosts_excluded, host.filter(excluded_mask))

    def add_later(self, later: pa.Array) -> None:
        """Count the rows a crawl state finds removed or opted out since (``later`` per
        row, null: nothing since), whether or not they were excluded for it."""
        _count(self.later, later)

    def merge(self, other: FilterCounts) -> None:
        """Add another worker's counts to these."""
        self.files += other.files
        self.rows_in += other.rows_in
        self.kept += other.kept
        self.kept_without_license += other.kept_without_license
        self.excluded += other.excluded
        for name in ("reasons", "checks", "optout_signals", "category_kept",
                     "category_excluded", "hosts_kept", "hosts_excluded", "later"):
            getattr(self, name).update(getattr(other, name))
        self.dropped_columns.update(other.dropped_columns)


def _count(counter: Counter[str], values: pa.Array) -> None:
    """Add the non-null values of ``values`` to ``counter``."""
    if len(values) == 0:
        return
    counts = pc.value_counts(values)
    for value, n in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(),
                        strict=True):
        if value is not None:
            counter[value] += n


def _count_no_license(licenses: pa.Array) -> int:
    """How many of ``licenses`` grant no license, judged once per distinct value."""
    counts = pc.value_counts(pc.fill_null(licenses, "NOASSERTION"))
    return sum(n for value, n in zip(counts.field("values").to_pylist(),
                                     counts.field("counts").to_pylist(), strict=True)
               if has_no_license(value))


def _applied_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with the policy block as applied: ``--allow-optout`` and
    ``--allow-conflict`` and ``--allow-dup-conflict`` (``exclude_*`` false) override the
    policy file's ``allow_optout``, ``allow_conflict`` and ``allow_dup_conflict``."""
    policy = settings.get("policy")
    if not policy:
        return settings
    return {**settings, "policy": {**policy,
                                   "allow_optout": not settings["exclude_optout"],
                                   "allow_conflict": not settings["exclude_conflict"],
                                   "allow_dup_conflict": not settings["exclude_dup_conflict"]}}


def build_report(counts: FilterCounts, *, settings: dict[str, Any], inputs: list[str],
                 input_bytes: int, outputs: dict[str, Any], elapsed: float) -> dict[str, Any]:
    """The content of ``report.json``; ``kept_without_license`` counts the kept works that
    have no license (all rights reserved, or none found); ``later_changes`` the rows whose
    URL the crawl state (``--state``) finds removed or opted out since, by reason, excluded
    for it or not (empty without a state)."""
    return {
        "settings": _applied_settings(settings),
        "inputs": {"files": inputs, "file_count": len(inputs), "bytes": input_bytes,
                   "rows": counts.rows_in, "dropped_columns": counts.dropped_columns},
        "outputs": outputs,
        "kept": counts.kept,
        "kept_without_license": counts.kept_without_license,
        "excluded": counts.excluded,
        "excluded_by_reason": dict(ranked(counts.reasons)),
        "failing_checks": dict(ranked(counts.checks)),
        "optout_signals": dict(ranked(counts.optout_signals)),
        "later_changes": dict(ranked(counts.later)),
        "by_category": {"kept": dict(ranked(counts.category_kept)),
                        "excluded": dict(ranked(counts.category_excluded))},
        "top_hosts": {"kept": ranked(counts.hosts_kept, TOP_HOSTS),
                      "excluded": ranked(counts.hosts_excluded, TOP_HOSTS)},
        "elapsed_seconds": round(elapsed, 3),
    }


def format_table(report: dict[str, Any], *, top: int = 10) -> str:
    """A readable summary of a report: counts, reasons and top hosts."""
    total = report["inputs"]["rows"]
    settings = report["settings"]
    policy = settings.get("policy") or {}
    lines = [
        f"licrawl filter: subset {settings['subset']}, policy {policy.get('name', '(none)')}, "
        f"min confidence {_or_off(settings['min_confidence'])}",
        f"input     {report['inputs']['file_count']:,} files, {total:,} rows, "
        f"{report['inputs']['bytes'] / 2**20:,.1f} MiB",
        f"kept      {report['kept']:>12,}  {_share(report['kept'], total)}",
        *([f"  no license{report['kept_without_license']:>10,}  "
           f"{_share(report['kept_without_license'], total)}  of the kept: all rights "
           "reserved or none found"] if report["kept_without_license"] else []),
        f"excluded  {report['excluded']:>12,}  {_share(report['excluded'], total)}",
    ]
    if settings.get("state"):
        lines.append(_later_line(report, settings))
    if report["excluded_by_reason"]:
        lines += ["", f"{'excluded by reason (first failing check)':<42}{'rows':>12}  share"]
        lines += [f"  {reason:<40}{n:>12,}  {_share(n, total)}"
                  for reason, n in report["excluded_by_reason"].items()]
    for label, key in (("top hosts kept", "kept"), ("top hosts excluded", "excluded")):
        hosts = report["top_hosts"][key][:top]
        if hosts:
            lines += ["", f"{label:<42}{'rows':>12}"]
            lines += [f"  {host:<40}{n:>12,}" for host, n in hosts]
    return "\n".join(lines)


def _later_line(report: dict[str, Any], settings: dict[str, Any]) -> str:
    """What the crawl state says happened since the rows were collected."""
    later = report.get("later_changes", {})
    removed = later.get("removed", 0)
    optout = sum(n for reason, n in later.items() if reason != "removed")
    fate = ("excluded" if settings.get("exclude_later_changes")
            else "kept (--ignore-later-changes)")
    return (f"since     {removed:,} removed, {optout:,} opted out later, per the crawl state "
            f"{settings['state']}: {fate}")


def _or_off(value: object) -> str:
    return "off" if value is None else str(value)


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:5.1f}%" if total else "    -"
