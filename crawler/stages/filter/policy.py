"""Filter policies (SPEC section 4): which licenses a subset may hold, and why a row fails.

A policy is a small TOML file (format: ``schemas/policies/README.md``). The presets
``open`` (the default), ``permissive``, ``public-domain`` and ``noncommercial-ok`` ship as
files in ``schemas/policies/``; a user passes a preset name or a path to their own file.

This module also owns the vocabulary of exclusion reasons, so the filter, its report and
its users share one list of stable names.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from crawler.licenses import (
    CATEGORY_ORDER,
    category,
    expression_allowed,
    expression_ids,
    normalize_expression,
)

DEFAULT_POLICY = "open"

# Exclusion reasons, in the order the filter checks them (the first failing one is counted).
REASON_CATEGORY_PREFIX = "category:"  # + license category, e.g. "category:noncommercial"
REASON_DENIED_PREFIX = "license-denied:"  # + an SPDX id the policy denies
REASON_INVALID = "license-invalid"  # the license column is not a valid SPDX expression
REASON_LOW_CONFIDENCE = "low-confidence"
REASON_OPTOUT_PREFIX = "optout:"  # + the ai_optout signal, e.g. "optout:robots:GPTBot"
REASON_OPTOUT_TDMREP = "optout:tdmrep"
REASON_CONFLICT = "conflict"
REASON_DUP_CONFLICT = "dup-conflict"  # licrawl dedup: copies of the text disagree
REASON_NO_AUTHOR = "no-attribution:author"
REASON_NO_URL = "no-attribution:url"
REASON_NO_LICENSE = "no-attribution:license"

_KEYS = {
    "name": str,
    "description": str,
    "categories": list,
    "allowed_ids": list,
    "denied_ids": list,
    "min_confidence": (int, float),
    "allow_optout": bool,
    "allow_conflict": bool,
    "allow_dup_conflict": bool,
}


#: The subsets ``licrawl filter`` can write.
SUBSETS = ("licensed-only", "attributed")

class PolicyError(ValueError):
    """A policy name or file that cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class Policy:
    """What a subset may hold.

    A license expression passes when ``crawler.licenses.expression_allowed`` says so for
    ``categories``, ``allowed_ids`` and ``denied_ids`` (``A OR B`` when either passes,
    ``A AND B`` when both do, ``NOASSERTION`` never).
    """

    name: str
    categories: frozenset[str]
    allowed_ids: frozenset[str] = frozenset()
    denied_ids: frozenset[str] = frozenset()
    min_confidence: float = 0.0
    allow_optout: bool = False
    allow_conflict: bool = False
    allow_dup_conflict: bool = False
    description: str = ""
    source: str = ""
    _cache: dict[str, str | None] = field(default_factory=dict, init=False, compare=False,
                                          repr=False)

    def license_reason(self, expression: str | None) -> str | None:
        """``None`` when ``expression`` passes the policy, else its exclusion reason.

        The reason is ``license-invalid`` for a value that is not an SPDX expression,
        ``license-denied:<id>`` when the expression names a denied id, else
        ``category:<category of the expression>``. Results are cached per expression, so a
        corpus costs one evaluation per distinct license value.
        """
        key = expression or "NOASSERTION"
        try:
            return self._cache[key]
        except KeyError:
            pass
        reason = self._cache[key] = self._judge(key)
        return reason

    def _judge(self, expression: str) -> str | None:
        try:
            if expression_allowed(expression, categories=set(self.categories),
                                  allowed_ids=set(self.allowed_ids),
                                  denied_ids=set(self.denied_ids)):
                return None
        except ValueError:
            return REASON_INVALID
        denied = [i for i in expression_ids(normalize_expression(expression))
                  if i in self.denied_ids]
        if denied:
            return REASON_DENIED_PREFIX + denied[0]
        return REASON_CATEGORY_PREFIX + category(expression)

    def describe(self) -> dict[str, Any]:
        """The policy as plain data, for ``report.json``."""
        return {
            "name": self.name,
            "source": self.source,
            "description": self.description,
            "categories": sorted(self.categories, key=_category_rank),
            "allowed_ids": sorted(self.allowed_ids),
            "denied_ids": sorted(self.denied_ids),
            "min_confidence": self.min_confidence,
            "allow_optout": self.allow_optout,
            "allow_conflict": self.allow_conflict,
            "allow_dup_conflict": self.allow_dup_conflict,
        }


def preset_names() -> list[str]:
    """Names of the policies shipped in ``schemas/policies/``."""
    folder = resources.files("crawler.schemas").joinpath("policies")
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                  if p.name.endswith(".toml"))


def load_policy(name_or_path: str | Path | None = None) -> Policy:
    """Load a preset by name, or a policy file by path; ``None`` loads the default ``open``.

    A value that names an existing file, or ends in ``.toml``, is read as a file.
    Raises :class:`PolicyError` naming the preset or file on any problem.
    """
    spec = str(name_or_path) if name_or_path is not None else DEFAULT_POLICY
    path = Path(spec)
    if path.is_file() or spec.endswith(".toml"):
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise PolicyError(f"policy file {spec}: cannot read it ({exc.strerror})") from exc
        return parse_policy(text, source=str(path))
    if spec not in preset_names():
        raise PolicyError(f"unknown policy {spec!r}: use one of {', '.join(preset_names())} "
                          "or the path of a policy file (.toml)")
    text = (resources.files("crawler.schemas").joinpath("policies", f"{spec}.toml")
            .read_text("utf-8"))
    return parse_policy(text, source=f"preset:{spec}")


def parse_policy(text: str, *, source: str) -> Policy:
    """Parse and validate the TOML text of a policy; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy {source}: not valid TOML ({exc})") from exc
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise PolicyError(f"policy {source}: unknown keys {', '.join(unknown)} "
                          f"(known: {', '.join(_KEYS)})")
    for key, kind in _KEYS.items():
        value = data.get(key)
        if value is not None and (not isinstance(value, kind)
                                  or (kind is not bool and isinstance(value, bool))):
            raise PolicyError(f"policy {source}: {key} has the wrong type "
                              f"({type(value).__name__})")
    categories = _string_list(data, "categories", source)
    bad = sorted(c for c in categories if c not in CATEGORY_ORDER)
    if bad:
        raise PolicyError(f"policy {source}: unknown categories {', '.join(bad)} "
                          f"(known: {', '.join(CATEGORY_ORDER)})")
    allowed = _id_set(data, "allowed_ids", source)
    denied = _id_set(data, "denied_ids", source)
    if not categories and not allowed:
        raise PolicyError(f"policy {source}: allows nothing (give categories or allowed_ids)")
    min_confidence = float(data.get("min_confidence", 0.0))
    if not 0.0 <= min_confidence <= 1.0:
        raise PolicyError(f"policy {source}: min_confidence must be within 0..1")
    return Policy(
        name=str(data.get("name") or Path(source).stem),
        categories=frozenset(categories),
        allowed_ids=allowed,
        denied_ids=denied,
        min_confidence=min_confidence,
        allow_optout=bool(data.get("allow_optout", False)),
        allow_conflict=bool(data.get("allow_conflict", False)),
        allow_dup_conflict=bool(data.get("allow_dup_conflict", False)),
        description=str(data.get("description", "")),
        source=source,
    )


def _string_list(data: dict[str, Any], key: str, source: str) -> list[str]:
    values = data.get(key, [])
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise PolicyError(f"policy {source}: {key} must be a list of non-empty strings")
    return [v.strip() for v in values]


def _id_set(data: dict[str, Any], key: str, source: str) -> frozenset[str]:
    """The SPDX ids of ``key``, normalized (canonical case, current form)."""
    ids = set()
    for value in _string_list(data, key, source):
        try:
            normalized = normalize_expression(value)
        except ValueError as exc:
            raise PolicyError(f"policy {source}: {key}: {exc}") from exc
        if len(expression_ids(normalized)) != 1:
            raise PolicyError(f"policy {source}: {key}: {value!r} is not a single license id")
        ids.add(normalized)
    return frozenset(ids)


def _category_rank(name: str) -> int:
    return list(CATEGORY_ORDER).index(name) if name in CATEGORY_ORDER else len(CATEGORY_ORDER)
