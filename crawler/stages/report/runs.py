"""The runs of a scheduled crawl job, for ``licrawl report --state``: read from its crawl
state (a folder or a ``redis://`` URL), one :class:`RunRow` per run.

Each number comes from the summary the run wrote when it ended (``RunSummary.as_dict``:
``rows``, ``pages`` and ``since_previous_run``); a run still going, or killed, has no
summary and its numbers are ``None``, never zeros. Only the last :data:`MAX_RUNS` runs are
kept: the page stays small however long the job has run.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

from crawler.state.open import open_state
from crawler.state.store import StateError

MAX_RUNS = 50

#: The numbers of a run, by table header: where each is in the run's summary.
RUN_COUNTS: dict[str, tuple[str, ...]] = {
    "rows": ("rows",),
    "new": ("pages", "new"),
    "changed": ("pages", "changed"),
    "unchanged": ("pages", "unchanged"),
    "removed": ("pages", "removed"),
    "license changed": ("since_previous_run", "license_changed"),
    "opted out": ("since_previous_run", "opted_out"),
    "disappeared": ("since_previous_run", "disappeared"),
}


@dataclass(frozen=True)
class RunRow:
    """One run: its id, start and end (Unix seconds; ``ended`` is ``None`` while it runs or
    when it was stopped) and its numbers by :data:`RUN_COUNTS` header (``None``: not in
    its summary)."""

    run_id: str
    started: float
    ended: float | None
    counts: dict[str, int | None]


@dataclass(frozen=True)
class RunHistory:
    """The last runs of a job, oldest first, and how many it has in all."""

    location: str
    runs: list[RunRow]
    total: int


def _count(summary: dict[str, object], path: tuple[str, ...]) -> int | None:
    value: object = summary
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def run_row(run_id: str, started: float, ended: float | None,
            summary: dict[str, object]) -> RunRow:
    """A run as :meth:`~crawler.state.store.CrawlState.runs` gives it, as a row."""
    return RunRow(run_id, float(started), None if ended is None else float(ended),
                  {header: _count(summary, path) for header, path in RUN_COUNTS.items()})


def read_runs(location: str | os.PathLike[str], limit: int = MAX_RUNS) -> RunHistory:
    """The last ``limit`` runs recorded in the crawl state at ``location`` (opened for
    reading). Raises :class:`~crawler.state.store.StateError` naming it when it is missing,
    not a crawl state, from a newer licrawl or unreadable."""
    state = open_state(location)
    try:
        runs = state.runs()
    except (sqlite3.DatabaseError, ValueError) as exc:  # a damaged table or summary
        raise StateError(f"{location}: cannot read the crawl state ({exc})") from exc
    finally:
        state.close()
    return RunHistory(str(location), [run_row(*run) for run in runs[-limit:]], len(runs))
