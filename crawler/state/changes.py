"""The transitions that matter in a URL's observations: license, opt-outs, presence.

Observations come in run order per URL. A page observation (outcome ``new``, ``changed``
or ``unchanged``) carries the license and opt-outs in force then; ``removed`` (404/410) and
``error`` carry none and are compared only for presence. Each :class:`Change` names its
``field`` (``license``, ``ai_optout``, ``tdm_reserved``, ``status``) and the values before
and after, as ``licrawl history --changes --json`` prints them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from crawler.state.store import Observation

__all__ = ["PAGE_OUTCOMES", "Change", "changes_between", "walk_changes", "later_exclusion"]

#: Outcomes of an observation that saw the page (and so its license and opt-outs).
PAGE_OUTCOMES = frozenset({"new", "changed", "unchanged"})


@dataclass(frozen=True, slots=True)
class Change:
    """One transition of ``field`` for ``url`` at ``time`` (Unix seconds), in run ``run_id``."""

    url: str
    time: float
    field: str
    old: Any
    new: Any
    run_id: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``licrawl history --json`` (``time`` as ISO 8601 UTC)."""
        from datetime import UTC, datetime

        return {"url": self.url,
                "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="seconds"),
                "field": self.field, "old": self.old, "new": self.new}


def changes_between(page: Observation | None, last: Observation | None, obs: Observation
                    ) -> list[Change]:
    """What changed with ``obs``, given the URL's latest earlier page observation ``page``
    and its latest earlier observation of any kind ``last`` (either ``None``: none)."""
    out: list[Change] = []

    def change(field: str, old: Any, new: Any) -> None:
        out.append(Change(obs.url, obs.time, field, old, new, obs.run_id))

    if obs.outcome == "removed" and last is not None and last.outcome != "removed":
        change("status", "present", "removed")
    if obs.outcome in PAGE_OUTCOMES and last is not None and last.outcome == "removed":
        change("status", "removed", "present")
    if obs.outcome not in PAGE_OUTCOMES or page is None:
        return out
    if (obs.license or "NOASSERTION") != (page.license or "NOASSERTION"):
        change("license", page.license, obs.license)
    if set(obs.ai_optout) - {"tdmrep"} != set(page.ai_optout) - {"tdmrep"}:
        change("ai_optout", sorted(set(page.ai_optout) - {"tdmrep"}),
               sorted(set(obs.ai_optout) - {"tdmrep"}))
    if bool(obs.tdm_reserved) != bool(page.tdm_reserved):
        change("tdm_reserved", bool(page.tdm_reserved), bool(obs.tdm_reserved))
    return out


def walk_changes(observations: Iterable[Observation]) -> Iterator[Change]:
    """Every change in ``observations`` (grouped by URL, each URL's in run order)."""
    url: str | None = None
    page: Observation | None = None
    last: Observation | None = None
    for obs in observations:
        if obs.url != url:
            url, page, last = obs.url, None, None
        yield from changes_between(page, last, obs)
        last = obs
        if obs.outcome in PAGE_OUTCOMES:
            page = obs


def later_exclusion(row_optout: Iterable[str], row_tdm_reserved: bool,
                    latest: Observation | None) -> str | None:
    """Why a document collected with these opt-outs is excluded now, given the latest
    observation of its URL: ``removed`` (the page answers 404/410), ``later-optout:<signal>``
    (a signal the row did not have is in force: ``robots:GPTBot``, ``meta:noai``,
    ``tdmrep``, ...), or ``None``."""
    if latest is None:
        return None
    if latest.outcome == "removed":
        return "removed"
    if latest.outcome not in PAGE_OUTCOMES:
        return None
    had = set(row_optout)
    added = sorted(set(latest.ai_optout) - had - {"tdmrep"})
    if added:
        return f"later-optout:{added[0]}"
    if latest.tdm_reserved and not row_tdm_reserved:
        return "later-optout:tdmrep"
    return None
