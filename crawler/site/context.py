"""Site-level signals a crawl gathers once per host and hands to ``inspect``.

``SiteContext`` is a frozen, picklable value: it travels to worker processes with each
page. It never fetches; the crawl fetches ``/robots.txt`` and ``/.well-known/tdmrep.json``
and builds it with :meth:`SiteContext.from_texts`.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.site.robots import RobotsAIRules
from crawler.site.tdmrep import TdmRep

__all__ = ["SiteContext"]


@dataclass(frozen=True, slots=True)
class SiteContext:
    """A host's robots.txt AI rules and TDMRep file (either may be missing)."""

    host: str
    robots: RobotsAIRules | None = None
    tdmrep: TdmRep | None = None

    @classmethod
    def from_texts(
        cls, host: str, robots_txt: str | None, tdmrep_json: str | None
    ) -> SiteContext:
        """Build from the fetched texts (``None`` when the file was absent or not fetched).

        An invalid tdmrep.json gives an empty ``TdmRep`` whose ``error`` says why.
        """
        return cls(
            host.lower(),
            RobotsAIRules.parse(robots_txt) if robots_txt is not None else None,
            TdmRep.parse(tdmrep_json) if tdmrep_json is not None else None,
        )

    def optouts_for(self, url: str) -> list[str]:
        """robots.txt opt-outs (``robots:<Bot>``, ``content-usage:...``) for ``url``."""
        return self.robots.optouts_for(url) if self.robots is not None else []

    def tdm_for(self, url: str) -> tuple[bool | None, str | None]:
        """``(reservation, policy)`` from tdmrep.json for ``url``; ``(None, None)`` if silent."""
        return self.tdmrep.lookup(url) if self.tdmrep is not None else (None, None)
