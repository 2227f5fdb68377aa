"""The one sink: every result of detection ends here as a shard row or an error record.

The crawl pipeline and ``licrawl process`` both hand their results (a row dict, or an
:class:`~crawler.core.errors.ErrorRecord`) to a :class:`ResultSink`. It writes rows to a
:class:`~crawler.store.shards.ShardWriter` under ``DIR/data/`` and error records to an
:class:`~crawler.core.errors.ErrorWriter` under ``DIR/errors/``, and counts both in a
:class:`RunSummary`. A row the record schema refuses is not lost: it becomes a ``bad-row``
error record that names its URL and WARC record, whoever produced it.

The sink is not thread-safe: one thread writes (the crawl's writer thread, or the thread
that feeds ``process``'s worker pool).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from crawler.core.errors import ErrorRecord, ErrorWriter
from crawler.stages import ranked
from crawler.stages.detect_task import Result
from crawler.store.shards import ShardWriter

DATA_DIR = "data"
ERRORS_DIR = "errors"


#: Outcomes of a recrawl's pages, and the changes since the previous run it counts.
RECRAWL_OUTCOMES = ("new", "changed", "unchanged", "removed", "error")
RECRAWL_CHANGES = ("license changed", "opted out", "disappeared", "back")


@dataclass
class RunSummary:
    """What one crawl or ``process`` run wrote."""

    crawl_id: str
    records: int = 0  # HTTP response records read (process) or responses handed on (crawl)
    rows: int = 0
    site_files: int = 0  # robots.txt / tdmrep.json responses used as site context
    errors: Counter[str] = field(default_factory=Counter)  # "stage/reason" -> count
    licenses: Counter[str] = field(default_factory=Counter)  # license_category -> rows
    opt_outs: Counter[str] = field(default_factory=Counter)  # signal -> rows
    opted_out_rows: int = 0
    # With a crawl state (recrawls): outcomes (new, changed, unchanged, removed, error) and
    # changes since the previous run (license changed, opted out, disappeared, back).
    changes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    shards: list[Path] = field(default_factory=list)
    error_file: Path | None = None

    @property
    def error_count(self) -> int:
        """All error records of the run."""
        return sum(self.errors.values())

    def add(self, result: Result) -> None:
        """Count one written result."""
        if isinstance(result, ErrorRecord):
            self.errors[f"{result.stage}/{result.reason}"] += 1
            return
        self.rows += 1
        self.licenses[result["license_category"]] += 1
        signals = set(result["ai_optout"])  # a TDMRep reservation is in it as "tdmrep"
        if result["tdm_reserved"]:
            signals.add("tdmrep")
        self.opt_outs.update(signals)
        self.opted_out_rows += bool(signals)

    def merge(self, other: RunSummary) -> None:
        """Add the counts and files of another part of the same run (a task of
        ``process`` on an executor)."""
        self.records += other.records
        self.rows += other.rows
        self.site_files += other.site_files
        self.errors.update(other.errors)
        self.licenses.update(other.licenses)
        self.opt_outs.update(other.opt_outs)
        self.opted_out_rows += other.opted_out_rows
        self.changes.update(other.changes)
        self.shards += other.shards

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data (``licrawl crawl --summary-json``)."""
        data: dict[str, Any] = {
            "crawl_id": self.crawl_id, "records": self.records, "rows": self.rows,
            "site_files": self.site_files, "errors": self.error_count,
            "errors_by_reason": dict(sorted(self.errors.items())),
            "licenses": dict(ranked(self.licenses)), "opted_out_rows": self.opted_out_rows,
            "opt_outs": dict(ranked(self.opt_outs)), "seconds": round(self.seconds, 3),
            "shards": [str(p) for p in self.shards],
            "error_file": str(self.error_file) if self.error_file is not None else None,
        }
        if self.changes:
            data["pages"] = {k: self.changes[k] for k in RECRAWL_OUTCOMES}
            data["since_previous_run"] = {k.replace(" ", "_"): self.changes[k]
                                          for k in RECRAWL_CHANGES}
        return data

    def format(self) -> str:
        """A human-readable report."""
        rate = self.records / self.seconds if self.seconds else 0.0
        lines = [f"crawl id     {self.crawl_id}",
                 f"records      {self.records} in {self.seconds:.1f}s ({rate:.1f}/s)",
                 f"rows         {self.rows}",
                 f"site files   {self.site_files} (robots.txt, tdmrep.json)",
                 f"errors       {self.error_count}"]
        lines += [f"  {k:<28} {v}" for k, v in sorted(self.errors.items())]
        lines.append("licenses")
        lines += [f"  {k:<28} {v}" for k, v in ranked(self.licenses)]
        lines.append(f"opted out    {self.opted_out_rows} rows")
        lines += [f"  {k:<28} {v}" for k, v in ranked(self.opt_outs)]
        if self.changes:
            outcomes = ", ".join(f"{self.changes[k]} {k}" for k in RECRAWL_OUTCOMES)
            lines.append(f"pages        {outcomes}")
            lines.append("since the previous run")
            lines += [f"  {k:<28} {self.changes[k]}" for k in RECRAWL_CHANGES]
        lines += [f"shard        {p}" for p in self.shards]
        if self.error_file is not None:
            lines.append(f"error file   {self.error_file}")
        return "\n".join(lines)


def bad_row_record(row: dict[str, Any], detail: str, crawl_id: str | None) -> ErrorRecord:
    """The error record for a row the schema refused: it keeps the row's URL and WARC ref."""
    status, fetched_at = row.get("http_status"), row.get("fetched_at")
    warc_file, record_id = row.get("warc_file"), row.get("warc_record_id")
    return ErrorRecord(
        url=str(row.get("url") or ""), stage="inspect", reason="bad-row", detail=detail[:500],
        http_status=status if isinstance(status, int) else None,
        fetched_at=fetched_at if isinstance(fetched_at, datetime) else None,
        warc_file=warc_file if isinstance(warc_file, str) else None,
        warc_record_id=record_id if isinstance(record_id, str) else None,
        crawl_id=crawl_id)


class SinkObserver(Protocol):
    """Told when results become durable (the crawl's frontier marks their URLs done)."""

    def before_publish(self) -> None:
        """A shard is about to be published (renamed into place)."""

    def before_error(self) -> None:
        """An error record is about to be written."""

    def published(self, urls: list[str]) -> None:
        """A shard holding the rows of these URLs is published."""

    def error_written(self, url: str) -> None:
        """An error record for ``url`` is written (handed to the OS)."""


class ResultSink:
    """Rows to ``out_dir/data/``, error records to ``out_dir/errors/``, both counted.

    ``shard_options`` go to the :class:`ShardWriter` (``max_rows``, ``row_group_bytes``,
    ...); the shards carry ``crawl_id`` in their metadata. ``observer`` (optional) is told
    which URLs' results are durable: error records as written, rows when their shard is
    published. ``error_prefix`` starts the error file's name.
    """

    def __init__(self, out_dir: str | Path, summary: RunSummary, *,
                 observer: SinkObserver | None = None, error_prefix: str = "errors",
                 **shard_options: Any) -> None:
        out = Path(out_dir)
        self.summary = summary
        self.shards = ShardWriter(
            out / DATA_DIR, extra_metadata={"crawl_id": summary.crawl_id},
            before_publish=observer.before_publish if observer is not None else None,
            **shard_options)
        self.errors = ErrorWriter(out / ERRORS_DIR, prefix=error_prefix)
        self.observer = observer
        self._unpublished: list[str] = []  # URLs of the open shard's rows (with an observer)

    def put(self, result: Result) -> Result:
        """Write and count one result; returns what was written (a refused row comes back
        as its ``bad-row`` error record)."""
        if not isinstance(result, ErrorRecord):
            try:
                self._write_row(result)
            except ValueError as exc:  # the schema refused the row
                result = bad_row_record(result, str(exc), self.summary.crawl_id)
        if isinstance(result, ErrorRecord):
            if self.observer is not None:
                self.observer.before_error()
            self.errors.write(result)
            if self.observer is not None:
                self.observer.error_written(result.url)
        self.summary.add(result)
        return result

    def _write_row(self, row: dict[str, Any]) -> None:
        if self.observer is None:
            self.shards.write(row)
            return
        published = len(self.shards.completed)
        self.shards.write(row)
        self._unpublished.append(str(row["url"]))
        if len(self.shards.completed) > published:
            self._tell_published()

    def _tell_published(self) -> None:
        if self.observer is not None and self._unpublished:
            self.observer.published(self._unpublished)
        self._unpublished = []

    def close(self) -> RunSummary:
        """Publish the last shard and close the error file; returns the summary."""
        self.summary.shards = self.shards.close()
        self._tell_published()
        self.summary.error_file = self.errors.close()
        return self.summary

    def abort(self) -> None:
        """Drop the unfinished shard (published shards stay) and close the error file."""
        self.shards.abort()
        self.errors.close()
