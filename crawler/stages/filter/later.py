"""What happened to a document's URL after it was collected, from a crawl state folder.

``licrawl filter --state DIR`` looks up, per record batch, the latest observation of each
row's URL in the scheduled job's state (one query per 500 URLs) and gives the row
``removed`` (the page answers 404/410 now) or ``later-optout:<signal>`` (an opt-out the row
did not have is in force now), as :func:`crawler.state.changes.later_exclusion` decides.
The row keeps its own license: only its exclusion depends on the state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from crawler.state.changes import later_exclusion
from crawler.state.open import AnyState, is_redis_location, open_state

#: Exclusion reasons this check gives (``later-optout:`` + the signal, e.g.
#: ``later-optout:robots:GPTBot``).
REASON_LATER_OPTOUT_PREFIX = "later-optout:"
REASON_REMOVED = "removed"


class LaterChanges:
    """The later-change reasons of record batches, from the state in ``folder`` (or at a
    ``redis://`` URL).

    Picklable: only the folder travels to a worker or a Ray task, which opens the state
    read-only on its first batch (the folder must be on a path the tasks see)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder: str | Path = (str(folder) if is_redis_location(str(folder))
                                   else Path(folder).resolve())
        self._state: AnyState | None = None

    def check(self) -> None:
        """Open and close the state once, so that a bad folder fails before any task runs.
        Raises :class:`~crawler.state.store.StateError`."""
        open_state(self.folder).close()

    def reasons(self, batch: pa.RecordBatch) -> pa.Array:
        """Per row: ``removed``, ``later-optout:<signal>`` or null (nothing since, or a URL
        the state never saw)."""
        if self._state is None:
            self._state = open_state(self.folder)
        urls = batch.column("url").to_pylist()
        latest = self._state.latest(urls)
        out: list[str | None] = [None] * len(urls)
        if latest:
            optouts = batch.column("ai_optout").to_pylist()
            reserved = batch.column("tdm_reserved").to_pylist()
            for i, url in enumerate(urls):
                if (obs := latest.get(url)) is not None:
                    out[i] = later_exclusion(optouts[i] or (), bool(reserved[i]), obs)
        return pa.array(out, pa.string())

    def close(self) -> None:
        """Close the state, if this process opened it."""
        if self._state is not None:
            self._state.close()
            self._state = None

    def __getstate__(self) -> dict[str, Any]:
        return {"folder": self.folder}

    def __setstate__(self, data: dict[str, Any]) -> None:
        self.folder = data["folder"]
        self._state = None
