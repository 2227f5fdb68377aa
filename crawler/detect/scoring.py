"""How much each piece of evidence is trusted: signal kind x position on the page.

``weight = KIND_WEIGHT[kind] * WHERE_FACTOR[where]``. Evidence whose scope is not the
page's text (image captions, comment sections, embedded media, statements about photos or
code) keeps weight 0: it is recorded for reviewers and never decides anything.

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
| anything scoped out (``caption``, ``comment``, ``media``, ``...:images-only`` ...) | 0 |
"""

from __future__ import annotations

KIND_WEIGHT: dict[str, float] = {
    "http-link": 0.95,
    "rel-license": 0.90,
    "rdfa": 0.90,
    "jsonld": 0.85,
    "microdata": 0.85,
    "meta": 0.80,
    "link": 0.75,
    "text": 0.75,
    "badge": 0.70,
    "rights-statement": 0.70,
    "copyright-notice": 0.50,
    "rights-link": 0.50,
    "site-policy": 0.60,
    "html-comment": 0.40,
    "script-json": 0.40,
}

WHERE_FACTOR: dict[str, float] = {
    "header": 1.0,
    "head": 1.0,
    "jsonld": 1.0,
    "microdata": 1.0,
    "rdfa": 1.0,
    "main": 1.0,
    "html-comment": 1.0,
    "script": 1.0,
    "site-policy": 1.0,
    "footer": 0.9,
    "jsonld:site": 0.9,
    "microdata:site": 0.9,
    "sidebar": 0.85,
    "body": 0.8,
    "page-header": 0.7,
    "nav": 0.5,
}

# Positions that speak for the page itself rather than for the whole site.
PAGE_LEVEL = frozenset({"header", "head", "jsonld", "microdata", "rdfa", "main"})
# Positions whose evidence is hidden from a reader: trusted less than anything visible.
HIDDEN = frozenset({"html-comment", "script"})


def weigh(kind: str, where: str) -> float:
    """The weight of one piece of evidence; 0 for scoped-out positions (``caption`` ...)."""
    return round(KIND_WEIGHT.get(kind, 0.5) * WHERE_FACTOR.get(where, 0.0), 3)
