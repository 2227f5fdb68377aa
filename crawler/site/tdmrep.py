"""TDMRep (W3C CG): ``/.well-known/tdmrep.json``, parsed and looked up by URL path."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from crawler.site.patterns import compile_pattern, url_path

__all__ = ["TdmRep", "tdm_flag"]


def tdm_flag(value: object) -> bool | None:
    text = str(value).strip()
    return {"1": True, "0": False}.get(text)


@dataclass(frozen=True, slots=True)
class _TdmRule:
    location: str
    regex: re.Pattern[str]
    reservation: bool | None
    policy: str | None


@dataclass(frozen=True, slots=True)
class TdmRep:
    """A site's ``/.well-known/tdmrep.json``: ordered location rules.

    ``error`` is set (and ``rules`` empty) when the file was not a valid TDMRep JSON array.
    """

    rules: tuple[_TdmRule, ...] = ()
    error: str | None = None

    @classmethod
    def parse(cls, json_text: str) -> TdmRep:
        """Parse the file; invalid JSON or shape gives an empty ``TdmRep`` with ``error``."""
        try:
            data = json.loads(json_text)
        except ValueError as exc:
            return cls((), f"invalid JSON: {exc}")
        if not isinstance(data, list):
            return cls((), "tdmrep.json is not a JSON array")
        rules = []
        for item in data:
            if not isinstance(item, dict) or not isinstance(item.get("location"), str):
                continue
            location = item["location"].strip()
            if not location.startswith("/"):
                location = "/" + location
            policy = item.get("tdm-policy")
            rules.append(
                _TdmRule(
                    location,
                    compile_pattern(location),
                    tdm_flag(item.get("tdm-reservation")),
                    policy.strip() if isinstance(policy, str) and policy.strip() else None,
                )
            )
        return cls(tuple(rules), None)

    def lookup(self, url: str) -> tuple[bool | None, str | None]:
        """``(reservation, policy)`` of the first rule whose location matches ``url``."""
        path = url_path(url)
        for rule in self.rules:
            if rule.regex.match(path):
                return rule.reservation, rule.policy
        return None, None
