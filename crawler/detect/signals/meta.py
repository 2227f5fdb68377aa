"""License and rights evidence from ``<meta>`` elements in the page head.

Read: ``license``, ``og:license``, ``DCTERMS.license``/``dc.license`` (license grants),
``DC.rights``/``dc.rights``/``dcterms.rights``/``rights``/``copyright`` (rights
statements: a license name or URL is a grant, "All rights reserved" or a bare holder name
is a rights reservation). Names are matched case-insensitively on ``name``, ``property``
and ``itemprop``; the value is ``content`` or, as some sites write it, ``value``.
"""

from __future__ import annotations

import lxml.html

from crawler.core.evidence import NOASSERTION, Evidence, Kind, Qualifier, Where, qualified
from crawler.detect import lexicon
from crawler.detect.metas import page_metas
from crawler.detect.scoring import weigh
from crawler.licenses import find_license_mentions, spdx_from_name, spdx_from_url
from crawler.licenses.ids import ALL_RIGHTS_RESERVED

LICENSE_NAMES = frozenset(
    {
        "license",
        "og:license",
        "dcterms.license",
        "dc.license",
        "dcterms:license",
        "dc:license",
        "cc:license",
        "licence",
    }
)
RIGHTS_NAMES = frozenset(
    {
        "dc.rights",
        "dcterms.rights",
        "dc:rights",
        "dcterms:rights",
        "rights",
        "copyright",
        "dc.rights.license",
        "prism.copyright",
        "citation_copyright",
        "og:rights",
    }
)


def _grant(value: str) -> str | None:
    if value.lower().startswith(("http:", "https:", "//")):
        return spdx_from_url(value)
    named = spdx_from_name(value)
    if named:
        return named
    mentions = find_license_mentions(value)
    return mentions[0].spdx if len(mentions) == 1 else None


def meta_evidence(tree: lxml.html.HtmlElement) -> list[Evidence]:
    """Evidence from every license or rights ``<meta>`` of the page."""
    evidence = []
    for meta in page_metas(tree):
        name, value = meta.key, meta.value
        if meta.attribute == "http-equiv" or (
            name not in LICENSE_NAMES and name not in RIGHTS_NAMES
        ):
            continue
        shown = f"{name}={value}"[:300]
        spdx = _grant(value)
        if spdx == ALL_RIGHTS_RESERVED:
            # "All rights reserved" read as a name is a reservation, not a grant.
            spdx = None
        if spdx:
            evidence.append(
                Evidence(Kind.META, shown, spdx, Where.HEAD, weigh(Kind.META, Where.HEAD))
            )
        elif lexicon.RESERVED.search(value) and not lexicon.SOME_RIGHTS.search(value):
            evidence.append(
                Evidence(
                    Kind.RIGHTS_STATEMENT,
                    shown,
                    ALL_RIGHTS_RESERVED,
                    Where.HEAD,
                    weigh(Kind.RIGHTS_STATEMENT, Where.HEAD),
                )
            )
        elif name in LICENSE_NAMES:
            evidence.append(
                Evidence(
                    Kind.META,
                    shown,
                    NOASSERTION,
                    qualified(Where.HEAD, Qualifier.UNRECOGNISED),
                    0.0,
                )
            )
        elif not lexicon.SOME_RIGHTS.search(value):
            # A holder name or "(c) 2012 Publisher": a copyright notice, not a grant.
            evidence.append(
                Evidence(
                    Kind.COPYRIGHT_NOTICE,
                    shown,
                    ALL_RIGHTS_RESERVED,
                    Where.HEAD,
                    weigh(Kind.COPYRIGHT_NOTICE, Where.HEAD) * 0.6,
                )
            )
    return evidence
