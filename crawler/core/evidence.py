"""The unit every signal reader returns: one piece of license evidence, and its vocabulary.

``kind`` is a :class:`Kind`; ``where`` is a :class:`Where` (the position on the page),
optionally followed by ``:`` and a :class:`Qualifier` or a scope (``<word>-only``) that
says why the evidence does not speak for the page's text: ``main``, ``footer:mention``,
``jsonld:site``, ``footer:images-only``. Both are checked when an :class:`Evidence` is made:
an unknown kind, position or qualifier raises :class:`ValueError`. Being ``StrEnum``s,
they are stored as the same plain strings as before (``"rel-license"``, ``"footer"``).

Evidence of one kind and place is bounded (:func:`bound_evidence`): exact repeats are
dropped, at most :data:`MAX_PER_PLACE` distinct items are kept, and what was dropped is
counted in one summary item of kind ``omitted`` (``value`` ``"49990 more rel-license"``,
``where`` the group's, ``spdx`` ``NOASSERTION``, weight 0).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What the signal is (see :mod:`crawler.detect.scoring` for how much each weighs)."""

    HTTP_LINK = "http-link"
    REL_LICENSE = "rel-license"
    RDFA = "rdfa"
    JSONLD = "jsonld"
    MICRODATA = "microdata"
    META = "meta"
    LINK = "link"
    TEXT = "text"
    BADGE = "badge"
    RIGHTS_STATEMENT = "rights-statement"
    COPYRIGHT_NOTICE = "copyright-notice"
    RIGHTS_LINK = "rights-link"
    SITE_POLICY = "site-policy"
    HTML_COMMENT = "html-comment"
    SCRIPT_JSON = "script-json"
    #: A count of evidence left out of the record (see :func:`bound_evidence`).
    OMITTED = "omitted"


class Where(StrEnum):
    """Where the signal was found: a region of the page or a source of structured data."""

    HEADER = "header"  # the HTTP response headers
    HEAD = "head"
    JSONLD = "jsonld"
    MICRODATA = "microdata"
    RDFA = "rdfa"
    MAIN = "main"
    HTML_COMMENT = "html-comment"
    SCRIPT = "script"
    SITE_POLICY = "site-policy"
    FOOTER = "footer"
    SIDEBAR = "sidebar"
    BODY = "body"
    PAGE_HEADER = "page-header"
    NAV = "nav"
    CAPTION = "caption"
    COMMENT = "comment"
    MEDIA = "media"


class Qualifier(StrEnum):
    """Why evidence at a position is not (or not only) about the page's text."""

    UNRECOGNISED = "unrecognised"  # a license marker whose target maps to no license
    MENTION = "mention"  # a license named without a grant
    ABOUT = "about"  # the article talks about a license
    SOFTWARE_ONLY = "software-only"  # a software license with no content as its subject
    POLICY_NOTE = "policy-note"  # says what a license should be
    SITE = "site"  # structured data about the whole site
    MEDIA = "media"  # structured data about an embedded media object
    ILLUSTRATION = "illustration"  # a badge image inside the article, not in a link
    CONTRADICTED = "contradicted"  # a public-domain status beside a recent copyright notice


# "images-only", "source-code-only", "foto's-only": a scope word of the lexicon.
_SCOPE = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*-only")
NOASSERTION = "NOASSERTION"
#: Distinct items of one kind and place kept in a record.
MAX_PER_PLACE = 20


def split_where(where: str) -> tuple[Where, str | None]:
    """``(position, qualifier or None)`` of a ``where``; ValueError if it is not valid."""
    place, sep, qualifier = str(where).partition(":")
    try:
        position = Where(place)
    except ValueError:
        raise ValueError(f"unknown evidence position {where!r}") from None
    if not sep:
        return position, None
    if qualifier in Qualifier.__members__.values() or _SCOPE.fullmatch(qualifier):
        return position, qualifier
    raise ValueError(f"unknown evidence qualifier {where!r}")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One license signal seen on a page.

    ``kind`` names the signal; ``value`` is the raw URL or text as found; ``spdx`` the SPDX
    id it maps to (``NOASSERTION`` when it maps to nothing); ``where`` the position on the
    page (see the module docstring); ``weight`` how much the resolver trusts it (0..1).
    ``kind`` and ``where`` are checked: an unknown one raises :class:`ValueError`.
    """

    kind: Kind
    value: str
    spdx: str
    where: str
    weight: float = 0.0

    def __post_init__(self) -> None:
        try:
            kind = Kind(self.kind)
        except ValueError:
            raise ValueError(f"unknown evidence kind {self.kind!r}") from None
        split_where(self.where)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "where", str(self.where))

    def as_dict(self) -> dict[str, object]:
        """The evidence as a plain dict, as stored in ``license_evidence``."""
        return {
            "kind": str(self.kind),
            "value": self.value,
            "spdx": self.spdx,
            "where": self.where,
            "weight": self.weight,
        }


def omitted(kind: str, where: str, count: int) -> Evidence:
    """The summary item for ``count`` pieces of evidence of ``kind`` at ``where`` left out."""
    return Evidence(Kind.OMITTED, f"{count} more {Kind(kind)}", NOASSERTION, where, 0.0)


def omitted_count(ev: Evidence) -> tuple[Kind, int]:
    """``(kind left out, how many)`` of a summary item made by :func:`omitted`."""
    count, _more, kind = ev.value.split(" ", 2)
    return Kind(kind), int(count)


def bound_evidence(evidence: Iterable[Evidence]) -> list[Evidence]:
    """The evidence with exact repeats dropped and at most :data:`MAX_PER_PLACE` distinct
    items per ``(kind, where)``; every item left out is counted in one ``omitted`` item per
    group, appended after the kept ones (summary items already in ``evidence``, from a
    reader that stopped judging, are merged in).

    Within a group the strongest item of each SPDX id is kept first, so that no license
    seen in a group disappears from the record, then the others in page order; kept items
    stay in page order.
    """
    items: list[Evidence] = []
    dropped: Counter[tuple[Kind, str]] = Counter()
    seen: set[Evidence] = set()
    for ev in evidence:
        if ev.kind == Kind.OMITTED:
            kind, count = omitted_count(ev)
            dropped[kind, ev.where] += count
        elif ev in seen:
            dropped[ev.kind, ev.where] += 1
        else:
            seen.add(ev)
            items.append(ev)
    groups: dict[tuple[Kind, str], list[int]] = {}
    for i, ev in enumerate(items):
        groups.setdefault((ev.kind, ev.where), []).append(i)
    keep: set[int] = set()
    for key, members in groups.items():
        if len(members) <= MAX_PER_PLACE:
            keep.update(members)
            continue
        best: dict[str, int] = {}
        for i in members:
            if items[i].spdx not in best or items[i].weight > items[best[items[i].spdx]].weight:
                best[items[i].spdx] = i
        chosen = set(best.values())
        for i in members:
            if len(chosen) >= MAX_PER_PLACE:
                break
            chosen.add(i)
        keep.update(chosen)
        dropped[key] += len(members) - len(chosen)
    out = [ev for i, ev in enumerate(items) if i in keep]
    out += [omitted(kind, where, n) for (kind, where), n in dropped.items() if n]
    return out


def qualified(where: str, qualifier: Qualifier) -> str:
    """``where`` with a qualifier: ``qualified(Where.FOOTER, Qualifier.MENTION)`` is
    ``"footer:mention"``."""
    return f"{where}:{qualifier}"


def scoped(where: str, scope: str) -> str:
    """``where`` scoped to what a statement is about: ``scoped(Where.MAIN, "source code")``
    is ``"main:source-code-only"``."""
    return f"{where}:{scope.lower().replace(' ', '-')}-only"
