"""How much each piece of evidence is trusted: signal kind x position on the page.

``weight = KIND_WEIGHT[kind] * WHERE_FACTOR[where]``, both tables keyed by the enums of
:mod:`crawler.core.evidence` and complete: every :class:`Kind` (but ``omitted``, which is
never weighed) and every :class:`Where` has an entry, so an unknown combination is an
error (``ValueError``), never a default weight. A ``where`` with a qualifier
(``footer:mention``, ``main:images-only``) weighs 0 unless :data:`QUALIFIED_FACTOR` lists
it. Evidence whose scope is not the page's text (image captions, comment sections,
embedded media, statements about photos or code) keeps weight 0: it is recorded for
reviewers and never decides anything.

The resolver combines the weights of the evidence that supports the chosen license as
independent votes, ``confidence = 1 - prod(1 - w)``, then lowers it when signals disagree.

| kind | base | what it is |
|---|---|---|
| ``http-link`` | 0.95 | HTTP ``Link: <...>; rel="license"`` |
| ``rel-license`` | 0.90 | ``<a>``/``<link>`` whose ``rel`` has the word ``license`` |
| ``rdfa`` | 0.90 | ccREL / RDFa ``cc:license``, ``dct:license`` about the page |
| ``jsonld``, ``microdata`` | 0.85 | schema.org ``license`` of the page's main entity |
| ``meta`` | 0.80 | ``<meta name="license">``, ``og:license``, ``DCTERMS.license``, ``DC.rights`` |
| ``link`` | 0.75 | a plain link to a license inside a grant sentence ("licensed under <a>") |
| ``text`` | 0.75 | a license statement in the visible text |
| ``badge`` | 0.70 | a license badge image (88x31 buttons) outside a license link |
| ``rights-statement`` | 0.70 | "All rights reserved" and its translations, reuse-forbidding terms |
| ``copyright-notice`` | 0.50 | a bare "(c) 2015 Publisher" notice |
| ``rights-link`` | 0.50 | structured ``license`` pointing at the site's terms or legal notice |
| ``site-policy`` | 0.60 | the user's site policy for this host or URL |
| ``html-comment`` | 0.40 | a statement or RDF inside an HTML comment |
| ``script-json`` | 0.40 | a ``"license"`` value in the page's embedded JSON state |

| where | factor |
|---|---|
| ``header``, ``head``, ``jsonld``, ``main``, ``html-comment``, ``script``, ``site-policy`` | 1.0 |
| ``footer``, ``jsonld:site`` (a ``WebSite``'s license) | 0.9 |
| ``sidebar`` | 0.85 |
| ``body`` | 0.8 |
| ``page-header`` | 0.7 |
| ``nav`` | 0.5 |
| ``caption``, ``comment``, ``media``, any other qualified ``where`` (``...:images-only``) | 0 |
"""

from __future__ import annotations

from crawler.core.evidence import Kind, Where, split_where

KIND_WEIGHT: dict[Kind, float] = {
    Kind.HTTP_LINK: 0.95,
    Kind.REL_LICENSE: 0.90,
    Kind.RDFA: 0.90,
    Kind.JSONLD: 0.85,
    Kind.MICRODATA: 0.85,
    Kind.META: 0.80,
    Kind.LINK: 0.75,
    Kind.TEXT: 0.75,
    Kind.BADGE: 0.70,
    Kind.RIGHTS_STATEMENT: 0.70,
    Kind.COPYRIGHT_NOTICE: 0.50,
    Kind.RIGHTS_LINK: 0.50,
    Kind.SITE_POLICY: 0.60,
    Kind.HTML_COMMENT: 0.40,
    Kind.SCRIPT_JSON: 0.40,
}

PLACE_FACTOR: dict[Where, float] = {
    Where.HEADER: 1.0,
    Where.HEAD: 1.0,
    Where.JSONLD: 1.0,
    Where.MICRODATA: 1.0,
    Where.RDFA: 1.0,
    Where.MAIN: 1.0,
    Where.HTML_COMMENT: 1.0,
    Where.SCRIPT: 1.0,
    Where.SITE_POLICY: 1.0,
    Where.FOOTER: 0.9,
    Where.SIDEBAR: 0.85,
    Where.BODY: 0.8,
    Where.PAGE_HEADER: 0.7,
    Where.NAV: 0.5,
    Where.CAPTION: 0.0,
    Where.COMMENT: 0.0,
    Where.MEDIA: 0.0,
}
# The only qualified positions that weigh anything: a ``WebSite``'s license.
QUALIFIED_FACTOR: dict[str, float] = {"jsonld:site": 0.9, "microdata:site": 0.9}
# Every position that can carry weight, with its factor.
WHERE_FACTOR: dict[str, float] = {
    **{str(w): f for w, f in PLACE_FACTOR.items() if f > 0},
    **QUALIFIED_FACTOR,
}

# Positions that speak for the page itself rather than for the whole site.
PAGE_LEVEL = frozenset(
    {Where.HEADER, Where.HEAD, Where.JSONLD, Where.MICRODATA, Where.RDFA, Where.MAIN}
)
# Positions whose evidence is hidden from a reader: trusted less than anything visible.
HIDDEN = frozenset({Where.HTML_COMMENT, Where.SCRIPT})


def weigh(kind: str, where: str) -> float:
    """The weight of one piece of evidence: ``KIND_WEIGHT[kind] * factor(where)``; 0 for
    scoped-out positions (``caption``, ``footer:images-only`` ...). ValueError for an
    unknown kind or position, or for ``omitted`` (a count, never weighed)."""
    try:
        base = KIND_WEIGHT[Kind(kind)]
    except KeyError:
        raise ValueError(f"evidence of kind {kind!r} is never weighed") from None
    place, qualifier = split_where(where)
    factor = PLACE_FACTOR[place] if qualifier is None else QUALIFIED_FACTOR.get(str(where), 0.0)
    return round(base * factor, 3)
