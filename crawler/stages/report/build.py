"""``licrawl report``: shard sets in, one self-contained HTML page out.

Inputs are expanded and every file checked (a licrawl shard of a readable schema version)
before anything is read, by the stage runner's own functions, so bad input is refused the
same way as by ``filter`` and ``dedup``: a :class:`~crawler.stages.runner.StageError`
naming the file. The shards are then read once, only the columns the report needs, batch
by batch (:class:`~crawler.stages.report.tally.Tally`), while matplotlib is imported in a
thread beside the scan. With a crawl state (``--state``), its runs are read before the
scan too, so that a bad state is refused before anything is written. The page is written
to a temporary sibling and renamed into place.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.stages.report.runs import RunHistory, read_runs
from crawler.stages.report.tally import COLUMNS, Tally
from crawler.stages.runner import collect_inputs, open_shard, read_batches

REPORT_BATCH_ROWS = 65_536  # rows per batch: vectorized counting wants large batches
REPORT_FILE = "report.html"


@dataclass(frozen=True)
class ReportResult:
    """What a report run wrote."""

    path: Path
    files: int
    rows: int
    hosts: int


def _describe_inputs(inputs: list[str], files: int) -> str:
    shown = ", ".join(inputs[:5]) + (f" and {len(inputs) - 5} more" if len(inputs) > 5 else "")
    return f"Input: {shown} ({files:,} shard file{'s' if files != 1 else ''})."


def scan(checked: list[tuple[Path, pq.ParquetFile]],
         batch_rows: int = REPORT_BATCH_ROWS) -> Tally:
    """Count checked shard files into a :class:`Tally`, batch by batch, then read the URLs
    of its example rows."""
    tally = Tally()
    for path, parquet in checked:
        for batch in read_batches(path, parquet, batch_rows, columns=COLUMNS):
            tally.add(batch)
    _fill_example_urls(tally, checked)
    return tally


def _fill_example_urls(tally: Tally, checked: list[tuple[Path, pq.ParquetFile]]) -> None:
    """Each example's ``url``, read from the row group that holds its row."""
    wanted = sorted((ex["row"], ex) for rows in tally.examples.values() for ex in rows)
    first_row = 0
    for path, parquet in checked:
        meta = parquet.metadata
        for group in range(meta.num_row_groups):
            size = meta.row_group(group).num_rows
            mine = [ex for row, ex in wanted if first_row <= row < first_row + size]
            if mine:
                urls = pa.concat_arrays([b.column("url") for b in read_batches(
                    path, parquet, size, columns=["url"], row_groups=[group])])
                for ex in mine:
                    ex["url"] = urls[ex["row"] - first_row].as_py()
            first_row += size


def write_report(inputs: Iterable[str | Path], out: str | Path, *, title: str | None = None,
                 state: str | os.PathLike[str] | None = None,
                 batch_rows: int = REPORT_BATCH_ROWS) -> ReportResult:
    """Write the report page of the shards ``inputs`` (files, folders, globs) to ``out``,
    with the runs of the crawl ``state`` (a folder or ``redis://`` URL) when given.

    Raises :class:`~crawler.stages.runner.StageError` naming the file for bad input, and
    :class:`~crawler.state.store.StateError` naming the state for a bad one; nothing is
    written then.
    """
    names = [str(i) for i in inputs]
    paths = collect_inputs(names)
    checked = [(path, open_shard(path)[0]) for path in paths]  # all before the first read
    history: RunHistory | None = None if state is None else read_runs(state)
    charting = threading.Thread(target=importlib.import_module,
                                args=("crawler.stages.report.sections",), daemon=True)
    charting.start()
    tally = scan(checked, batch_rows)
    charting.join()
    from crawler.stages.report.page import render_page
    from crawler.stages.report.sections import build_sections

    sections = build_sections(tally, history)
    hosts = tally.hosts.table().column("host").unique()
    facts = [("documents", f"{tally.rows:,}"), ("hosts", f"{len(hosts):,}"),
             ("license claims", _percent(tally.claims, tally.rows)),
             ("opted out", _percent(sum(r["optout"] for r in tally.hosts.rows()), tally.rows))]
    if tally.deduplicated_rows:
        facts.append(("removed copies", f"{tally.removed_copies:,}"))
    if history is not None:
        facts.append(("crawl runs", f"{history.total:,}"))
    html = render_page(title or f"licrawl report: {', '.join(names[:3])}", facts,
                       [_describe_inputs(names, len(paths))], sections)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    temp.write_text(html, encoding="utf-8")
    temp.replace(target)
    return ReportResult(target, len(paths), tally.rows, len(hosts))


def _percent(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "-"
