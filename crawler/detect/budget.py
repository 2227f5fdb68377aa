"""A bound on how many similar signals a reader judges on one page.

Judging a license mention or link (its sentence, its scope, its region) costs a fraction
of a millisecond; a page with 50,000 copies of the same link would cost seconds for no new
information. A reader asks :meth:`Budget.allow` with a key naming what the candidate is
(kind, SPDX id, region); the first :data:`JUDGED_PER_KEY` of each key are judged, the rest
only counted, and :meth:`Budget.omitted` turns the counts into ``omitted`` summary items
(see :func:`crawler.core.evidence.bound_evidence`).
"""

from __future__ import annotations

from collections import Counter

from crawler.core.evidence import Evidence, Kind, omitted

#: Candidates of one key judged on one page: well above what any real page repeats.
JUDGED_PER_KEY = 100


class Budget:
    """Counts candidates per ``(kind, spdx, where)`` and says which ones to judge."""

    def __init__(self, limit: int = JUDGED_PER_KEY) -> None:
        self.limit = limit
        self._seen: Counter[tuple[Kind, str, str]] = Counter()

    def allow(self, kind: Kind, spdx: str, where: str) -> bool:
        """Whether this candidate is judged (the first ``limit`` of its key are)."""
        key = (kind, spdx, str(where))
        self._seen[key] += 1
        return self._seen[key] <= self.limit

    def omitted(self) -> list[Evidence]:
        """One summary item per key with candidates left unjudged."""
        dropped: Counter[tuple[Kind, str]] = Counter()
        for (kind, _spdx, where), n in self._seen.items():
            if n > self.limit:
                dropped[kind, where] += n - self.limit
        return [omitted(kind, where, n) for (kind, where), n in dropped.items()]
