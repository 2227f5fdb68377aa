"""Site policies: the user's own knowledge of a site's license (SPEC section 2, signal 9).

A site policy file maps hosts or URL patterns to an SPDX expression with a note (where the
user found it). :mod:`crawler.detect.inspect` uses the first matching rule as ``site-policy``
evidence when the page itself says nothing stronger.

File format: TOML (``.toml``) or JSON (any other suffix), a list of rules under ``rule``
(TOML ``[[rule]]`` tables, or a JSON object ``{"rule": [...]}``). Each rule has exactly one
of:

* ``host``: a host name, lower-case match; ``*.example.org`` matches every subdomain of
  ``example.org`` (not ``example.org`` itself);
* ``url``: a glob over the whole URL (``*`` any run of characters, ``?`` one character),
  e.g. ``https://example.org/blog/*``;
* ``regex``: a Python regular expression searched in the whole URL;

plus ``license`` (an SPDX expression, validated and normalized; ``LicenseRef-`` ids
allowed) and an optional ``note``. Rules are tried in file order and the first match wins,
so put specific rules before general ones. Example::

    [[rule]]
    url = "https://example.org/docs/*"
    license = "CC-BY-SA-4.0"
    note = "Docs footer, checked 2024-05-01"

    [[rule]]
    host = "example.org"
    license = "LicenseRef-All-Rights-Reserved"
    note = "https://example.org/terms"
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.licenses.expressions import normalize_expression

_KINDS = ("host", "url", "regex")


class SitePolicyError(ValueError):
    """A site policy file that cannot be used; the message says which rule and why."""


@dataclass(frozen=True, slots=True)
class SitePolicyRule:
    """One rule: ``kind`` (``host``, ``url`` or ``regex``) and ``pattern`` -> ``spdx``."""

    kind: str
    pattern: str
    spdx: str
    note: str
    _regex: re.Pattern[str]

    @classmethod
    def create(cls, kind: str, pattern: str, spdx: str, note: str = "") -> SitePolicyRule:
        """A validated rule: ``spdx`` normalized, ``pattern`` compiled."""
        if kind not in _KINDS:
            raise SitePolicyError(f"unknown rule kind {kind!r}; one of {', '.join(_KINDS)}")
        if not pattern:
            raise SitePolicyError(f"empty {kind} pattern")
        try:
            spdx = normalize_expression(spdx)
        except ValueError as exc:
            raise SitePolicyError(f"bad license {spdx!r}: {exc}") from exc
        if spdx in ("NOASSERTION", "NONE"):
            raise SitePolicyError(f"license {spdx} says nothing; remove the rule instead")
        if kind == "host":
            host = pattern.lower().rstrip(".")
            regex = (r"(?:[^.]+\.)+" + re.escape(host[2:]) if host.startswith("*.")
                     else re.escape(host))
            compiled = re.compile(regex)
        elif kind == "url":
            compiled = re.compile(fnmatch.translate(pattern))
        else:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise SitePolicyError(f"bad regex {pattern!r}: {exc}") from exc
        return cls(kind, pattern, spdx, note, compiled)

    def matches(self, url: str) -> bool:
        """Whether the rule applies to ``url``."""
        if self.kind == "host":
            host = (urlsplit(url).hostname or "").lower().rstrip(".")
            return self._regex.fullmatch(host) is not None
        if self.kind == "url":
            return self._regex.match(url) is not None
        return self._regex.search(url) is not None


@dataclass(frozen=True, slots=True)
class SitePolicy:
    """An ordered list of :class:`SitePolicyRule`; picklable (it travels to the workers)."""

    rules: tuple[SitePolicyRule, ...]
    source: str = ""

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SitePolicy:
        """Read a policy file (TOML or JSON, see the module doc); :class:`SitePolicyError`
        (a ``ValueError``) names the bad rule."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise SitePolicyError(f"cannot read {p}: {exc.strerror or exc}") from exc
        try:
            data = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise SitePolicyError(f"{p}: not valid {p.suffix.lstrip('.') or 'JSON'}: "
                                  f"{exc}") from exc
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "") -> SitePolicy:
        """Build from parsed file content: ``{"rule": [{...}, ...]}``."""
        if not isinstance(data, dict) or not isinstance(data.get("rule"), list):
            raise SitePolicyError("expected a list of rules under 'rule'")
        rules = []
        for i, entry in enumerate(data["rule"], start=1):
            if not isinstance(entry, dict):
                raise SitePolicyError(f"rule {i}: expected a table/object")
            unknown = set(entry) - {*_KINDS, "license", "note"}
            if unknown:
                raise SitePolicyError(f"rule {i}: unknown key(s) {sorted(unknown)}")
            kinds = [k for k in _KINDS if k in entry]
            if len(kinds) != 1:
                raise SitePolicyError(f"rule {i}: needs exactly one of host, url, regex")
            if not isinstance(entry.get("license"), str):
                raise SitePolicyError(f"rule {i}: needs a license (SPDX expression)")
            note = entry.get("note", "")
            if not isinstance(note, str) or not isinstance(entry[kinds[0]], str):
                raise SitePolicyError(f"rule {i}: pattern and note must be strings")
            try:
                rules.append(SitePolicyRule.create(kinds[0], entry[kinds[0]],
                                                   entry["license"], note))
            except SitePolicyError as exc:
                raise SitePolicyError(f"rule {i}: {exc}") from exc
        return cls(tuple(rules), source)

    def match(self, url: str) -> SitePolicyRule | None:
        """The first rule that applies to ``url``, or ``None``."""
        for rule in self.rules:
            if rule.matches(url):
                return rule
        return None
