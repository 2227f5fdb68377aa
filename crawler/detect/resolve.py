"""Evidence in, one license claim out: SPDX expression, category, confidence, conflict.

Rules, in order (SPEC section 2 and the first rule of the product: prefer precision):

1. Only evidence with weight > 0 decides (scoped-out signals have weight 0).
2. Grants are every license other than ``LicenseRef-All-Rights-Reserved``. A less specific
   grant is folded into a more specific one of the same family seen on the page
   ("Creative Commons BY-SA" + a ``by-sa/2.5/ch`` link is ``LicenseRef-CC-BY-SA-2.5-CH``,
   "dedicated to the public domain" + a CC0 link is ``CC0-1.0``, a link to
   ``fdl-1.3.html`` + "Version 1.3 or any later version" is ``GFDL-1.3-or-later``); a
   version is never invented.
3. Grants are ranked by level: page-level (HTTP header, head, structured data about the
   page, the article itself) beats site-level (footer, sidebar, body), which beats hidden
   signals (HTML comments, embedded JSON state), which beat the user's site policy. The
   highest level that has a grant decides.
4. At that level one license wins outright. A dual-grant ``A OR B`` that covers the others
   wins. Versions of one license that disagree (the head's metadata says CC BY 3.0, the
   article's own statement CC BY 4.0) are a conflict that the version stated in the
   article decides. Anything else is a conflict: ``license_conflict = true``, the more restrictive
   license (between licenses of the same category, e.g. two versions of BY-SA, the one
   with the most support), and half the confidence.
5. A copyright notice or "All rights reserved" beside a grant does not cancel it (licensed
   works are still copyrighted); it only lowers the confidence a little. A visible
   reservation does beat a grant that is only hidden or only the site policy (a bare
   copyright notice does not block the site policy), and an explicit "All rights
   reserved" inside the article beats a grant that is only site-wide (a guest post on a
   CC-licensed blog): the statement scoped to the article wins, as grants do.
6. No grant: any reservation gives ``LicenseRef-All-Rights-Reserved``, except a bare
   copyright notice beside a visible grant that names no license ("Content available
   under a Creative Commons license"): the text is licensed, under terms the page does
   not say, so ``NOASSERTION``. Nothing: ``NOASSERTION`` with confidence 0.

Confidence is ``1 - prod(1 - w)`` over the distinct pieces of evidence that support the
claim, at any level (a footer link that agrees with the page's JSON-LD adds to it; the
same URL seen by two readers counts once).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from crawler.core.evidence import Evidence, Kind, Where
from crawler.detect.scoring import HIDDEN, PAGE_LEVEL
from crawler.licenses import category, more_restrictive, or_terms
from crawler.licenses.ids import ALL_RIGHTS_RESERVED, NOASSERTION, PUBLIC_DOMAIN

_LEVELS = ("page", "site", "hidden", "policy")
_CC_ID = re.compile(
    r"^(?:LicenseRef-)?CC-(?P<type>BY(?:-NC)?(?:-ND|-SA)?)-(?:(?P<version>\d\.\d)(?:-(?P<port>[A-Z]{2,}))?|unversioned)$"
)
# Public-domain tools a plain "dedicated to the public domain" statement is folded into.
_PD_TOOLS = frozenset({"CC0-1.0", "CC-PDM-1.0", "CC-PDDC"})
_GNU_ONLY = re.compile(r"^(?P<base>(?:GFDL|GPL|LGPL|AGPL)-\d\.\d+)-only$")
_FAMILY_ID = re.compile(r"^(?:LicenseRef-)?(?P<family>OGL-UK|GFDL|GPL|LGPL|AGPL)-(?P<rest>.+)$")


@dataclass(frozen=True, slots=True)
class Resolution:
    """The license claim for one page."""

    license: str
    category: str
    confidence: float
    conflict: bool


def level(ev: Evidence) -> str:
    """``page``, ``site``, ``hidden`` or ``policy``: how directly the evidence speaks for
    this page's text."""
    where = ev.where
    if where in PAGE_LEVEL:
        return "page"
    if where in HIDDEN:
        return "hidden"
    if where == Where.SITE_POLICY:
        return "policy"
    return "site"


def _specificity(spdx: str) -> tuple[str, str, int] | None:
    """(family, version, rank) of a CC or versioned-family id; rank grows with detail."""
    m = _CC_ID.match(spdx)
    if m:
        version = m.group("version") or ""
        return "CC-" + m.group("type"), version, (0 if not version else 2 if m.group("port") else 1)
    if spdx == PUBLIC_DOMAIN:
        return "public-domain", "", 0
    if spdx in _PD_TOOLS:
        return "public-domain", spdx, 1
    m = _FAMILY_ID.match(spdx)
    if m:
        unversioned = m.group("rest") == "unversioned"
        return m.group("family"), "" if unversioned else m.group("rest"), 0 if unversioned else 1
    return None


def _is_url(value: str) -> bool:
    return value.strip().lower().startswith(("http:", "https:", "//"))


def _fold_gnu_urls(grants: list[Evidence]) -> list[Evidence]:
    """A GNU license URL (``fdl-1.3.html`` -> ``GFDL-1.3-only``) names the license text, not
    whether the grant is "only" or "or any later version", nor the GFDL's invariant-section
    options: when the page's own words state exactly one of those for the same version,
    the link is read as that."""
    worded = {ev.spdx for ev in grants if not _is_url(ev.value)}
    folded = []
    for ev in grants:
        m = _GNU_ONLY.match(ev.spdx)
        if m and _is_url(ev.value):
            refined = {s for s in worded if s != ev.spdx and s.startswith(m.group("base") + "-")}
            if len(refined) == 1:
                ev = Evidence(ev.kind, ev.value, refined.pop(), ev.where, ev.weight)
        folded.append(ev)
    return folded


def _fold(grants: list[Evidence]) -> list[Evidence]:
    """Fold each grant into the single more specific id of its family, if the page has one."""
    grants = _fold_gnu_urls(grants)
    ids = {ev.spdx for ev in grants}
    target: dict[str, str] = {}
    for spdx in ids:
        mine = _specificity(spdx)
        if mine is None:
            continue
        family, version, rank = mine
        better = {
            other
            for other in ids
            if (theirs := _specificity(other))
            and theirs[0] == family
            and theirs[2] > rank
            and (not version or theirs[1] == version or theirs[1].startswith(version + "-"))
        }
        if len(better) == 1:
            target[spdx] = better.pop()
        elif len(better) > 1:
            # Several refinements: keep the most detailed one only if they all agree.
            best = {
                b for b in better if _specificity(b)[2] == max(_specificity(x)[2] for x in better)
            }
            if len(best) == 1:
                target[spdx] = best.pop()
    return [
        Evidence(ev.kind, ev.value, target.get(ev.spdx, ev.spdx), ev.where, ev.weight)
        for ev in grants
    ]


def _support(evidence: Iterable[Evidence]) -> float:
    """``1 - prod(1 - w)`` over distinct values (max weight per value). The product is
    taken in order of weight: in the order evidence was found, rounding could move the
    third decimal of the confidence."""
    best: dict[str, float] = {}
    for ev in evidence:
        key = ev.value.strip().lower().rstrip("/")
        best[key] = max(best.get(key, 0.0), ev.weight)
    remaining = 1.0
    for w in sorted(best.values()):
        remaining *= 1.0 - min(w, 0.99)
    return 1.0 - remaining


def _terms(spdx: str) -> set[str]:
    """The alternatives of a license expression (itself when it offers no choice)."""
    return set(or_terms(spdx))


def resolve(evidence: Iterable[Evidence]) -> Resolution:
    """Turn a page's evidence into its license claim (see the module docstring)."""
    evidence = list(evidence)
    live = [ev for ev in evidence if ev.weight > 0 and ev.spdx != NOASSERTION]
    # A visible grant that names no license ("available under a Creative Commons license").
    unnamed_grant = any(
        ev.weight > 0 and ev.spdx == NOASSERTION and level(ev) in ("page", "site")
        for ev in evidence
    )
    grants = _fold([ev for ev in live if ev.spdx != ALL_RIGHTS_RESERVED])
    reserved = [ev for ev in live if ev.spdx == ALL_RIGHTS_RESERVED]
    visible_reservation = [ev for ev in reserved if level(ev) in ("page", "site")]
    explicit_reservation = [ev for ev in visible_reservation if ev.kind == Kind.RIGHTS_STATEMENT]

    if grants:
        top = min(_LEVELS.index(level(ev)) for ev in grants)
        article_reservation = [ev for ev in explicit_reservation if ev.where == Where.MAIN]
        blocked = (
            (top == _LEVELS.index("site") and article_reservation)
            or (top == _LEVELS.index("hidden") and visible_reservation)
            or (top == _LEVELS.index("policy") and explicit_reservation)
        )
        if not blocked:
            candidates = [ev for ev in grants if _LEVELS.index(level(ev)) == top]
            return _choose(candidates, grants, bool(reserved))
    if reserved and not (unnamed_grant and not explicit_reservation):
        confidence = _support(reserved)
        return Resolution(
            ALL_RIGHTS_RESERVED, category(ALL_RIGHTS_RESERVED), round(confidence, 3), False
        )
    return Resolution(NOASSERTION, category(NOASSERTION), 0.0, False)


# Signals a reader sees in the article itself.
_VISIBLE_KINDS = frozenset({Kind.TEXT, Kind.LINK, Kind.REL_LICENSE, Kind.BADGE})


def _visible_version(by_id: dict[str, list[Evidence]]) -> str | None:
    """When page-level grants name one license family and differ only in version (the
    head's ``DC.rights`` says CC BY 3.0, the article's own statement CC BY 4.0), the
    statement the reader sees in the article decides: metadata is often a template's
    stale copy. ``None`` unless exactly one of the versions is stated in the article."""
    families = {spec[0] if (spec := _specificity(s)) else None for s in by_id}
    if len(families) != 1 or None in families:
        return None
    visible = [
        spdx
        for spdx, evs in by_id.items()
        if any(ev.where == Where.MAIN and ev.kind in _VISIBLE_KINDS for ev in evs)
    ]
    return visible[0] if len(visible) == 1 else None


def _choose(
    candidates: list[Evidence], grants: list[Evidence], reservation_seen: bool
) -> Resolution:
    """The license among the top-level ``candidates``; its confidence counts every grant
    on the page (any level) that agrees with it."""
    by_id: dict[str, list[Evidence]] = {}
    for ev in candidates:
        by_id.setdefault(ev.spdx, []).append(ev)
    conflict = False
    if len(by_id) == 1:
        chosen = next(iter(by_id))
    else:
        others = set(by_id)
        dual = [spdx for spdx in by_id
                if len(_terms(spdx)) > 1 and _terms(spdx) >= others - {spdx}]
        visible = _visible_version(by_id)
        if dual:
            chosen = max(dual, key=lambda s: (len(_terms(s)), s))
        elif visible:
            conflict = True
            chosen = visible
        else:
            conflict = True
            # most support first; equal support by id, so the order evidence was found in
            # never changes the claim
            ranked = sorted(by_id, key=lambda s: (-_support(by_id[s]), s))
            chosen = ranked[0]
            for spdx in ranked[1:]:
                chosen = more_restrictive(chosen, spdx)
    support = [
        ev for ev in grants if ev.spdx == chosen or ev.spdx in _terms(chosen)
    ]
    confidence = _support(support)
    if conflict:
        confidence *= 0.5
    elif reservation_seen:
        confidence *= 0.95
    return Resolution(chosen, category(chosen), round(confidence, 3), conflict)
