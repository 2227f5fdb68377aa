"""License evidence from structured data: JSON-LD, microdata and RDFa (via extruct).

Only the page's *main entity* licenses the page: a schema.org ``license`` on an article,
blog post, web page or other creative work at the top of the data (or in ``@graph``). A
``license`` on an embedded ``ImageObject``/``VideoObject``, on a ``comment`` or on any
nested object is recorded with weight 0 (``where="jsonld:media"``). A top-level
``WebSite``'s ``license`` speaks for the whole site, like a footer (``jsonld:site``).
RDFa ``cc:license`` / ``dct:license`` triples count when their subject is the page itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag

from crawler.core.evidence import NOASSERTION, Evidence, Kind, Qualifier, Where, qualified
from crawler.detect.scoring import weigh
from crawler.licenses import spdx_from_name, spdx_from_url
from crawler.licenses.ids import ALL_RIGHTS_RESERVED

MAIN_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "blogposting",
        "scholarlyarticle",
        "techarticle",
        "report",
        "webpage",
        "aboutpage",
        "itempage",
        "collectionpage",
        "creativework",
        "book",
        "chapter",
        "blog",
        "liveblogposting",
        "socialmediaposting",
        "discussionforumposting",
        "howto",
        "recipe",
        "review",
        "course",
        "learningresource",
        "thesis",
        "medicalscholarlyarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reportagenewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "askpublicnewsarticle",
        "satiricalarticle",
        "advertisercontentarticle",
        "qapage",
        "faqpage",
        "profilepage",
        "presentationdigitaldocument",
        "textdigitaldocument",
        "digitaldocument",
        "publicationissue",
        "episode",
        "podcastepisode",
    }
)
# A ``WebSite`` item's license is a site-wide statement, like a theme footer's.
SITE_TYPES = frozenset({"website"})
_LICENSE_KEYS = ("license", "http://schema.org/license", "https://schema.org/license")
# A copyright value that credits a picture, not the text.
_CREDIT = re.compile(
    r"\s*(?:credits?|photos?|photograph\w*|illustrations?|images?|pictures?|fotos?|bild\w*|"
    r"graphics?|video)\b",
    re.I,
)
_COPYRIGHT_KEYS = ("copyrightNotice", "copyrightHolder", "copyrightYear")
_RDFA_LICENSE = ("http://creativecommons.org/ns#license", "http://purl.org/dc/terms/license")


def _types(item: dict[str, Any]) -> set[str]:
    raw = item.get("@type") or item.get("type") or []
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower() for v in values}


def _license_values(value: Any) -> Iterator[str]:
    """Strings of a schema.org ``license``: text, URL, ``{"@id"|"url"|"name"}``, or a list."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _license_values(v)
    elif isinstance(value, dict):
        for key in ("@id", "url", "name", "@value"):
            if isinstance(value.get(key), str):
                yield value[key]
                return


# A "license" that is the site's legal notice or terms page reserves rights rather than
# granting any (e.g. "license": "https://elpais.com/estaticos/aviso-legal/").
_TERMS_URL = re.compile(
    r"aviso[-_]legal|legal[-_]?notice|mentions[-_]legales|impressum|terms|conditions|"
    r"nutzungsbedingungen|condiciones|terminos|términos|copyright|rights|permissions|"
    r"reprints?|syndication",
    re.I,
)


def _map(value: str) -> str:
    value = value.strip()
    if value.lower().startswith(("http:", "https:", "//")):
        return spdx_from_url(value) or NOASSERTION
    return spdx_from_name(value) or spdx_from_url(value) or NOASSERTION


def _evidence(source: Kind, value: str, main: bool, site: bool = False) -> Evidence:
    """One schema.org/RDFa ``license`` value; ``source`` is both the kind and the place."""
    place = Where(source)
    spdx = _map(value)
    if spdx == NOASSERTION:
        if main and value.lower().startswith(("http", "//")) and _TERMS_URL.search(value):
            return Evidence(
                Kind.RIGHTS_LINK,
                value[:300],
                ALL_RIGHTS_RESERVED,
                place,
                weigh(Kind.RIGHTS_LINK, place),
            )
        return Evidence(source, value[:300], spdx, qualified(place, Qualifier.UNRECOGNISED), 0.0)
    where = place if main else qualified(place, Qualifier.SITE if site else Qualifier.MEDIA)
    return Evidence(source, value[:300], spdx, where, weigh(source, where))


def _walk(item: Any, main: bool, source: Kind) -> Iterator[Evidence]:
    """License evidence of ``item`` and its nested objects (nested ones never main)."""
    if isinstance(item, list):
        for sub in item:
            yield from _walk(sub, main, source)
        return
    if not isinstance(item, dict):
        return
    if "properties" in item and source == Kind.MICRODATA:
        item = {"@type": item.get("type"), **item["properties"]}
    types = _types(item)
    if main and source == Kind.JSONLD and types & MAIN_TYPES:
        notice = _copyright_notice(item)
        if notice:
            place = Where(source)
            yield Evidence(
                Kind.COPYRIGHT_NOTICE,
                notice,
                ALL_RIGHTS_RESERVED,
                place,
                weigh(Kind.COPYRIGHT_NOTICE, place),
            )
    for key in _LICENSE_KEYS:
        if key in item:
            for value in _license_values(item[key]):
                yield _evidence(
                    source,
                    value,
                    main and bool(types & MAIN_TYPES),
                    main and bool(types & SITE_TYPES),
                )
    for key, value in item.items():
        if key in _LICENSE_KEYS or key == "@graph":
            continue
        if isinstance(value, dict | list):
            yield from _walk(value, False, source)
    if "@graph" in item:
        yield from _walk(item["@graph"], main, source)


def _copyright_notice(item: dict[str, Any]) -> str | None:
    """The main entity's copyright as a notice ("copyrightYear 2023; copyrightHolder
    https://techcrunch.com/#organization"): schema.org's ``copyrightNotice``,
    ``copyrightHolder`` or ``copyrightYear``, the same statement a visible "© 2023
    TechCrunch" makes. ``None`` when it has none. Read from JSON-LD only: microdata
    gathers every ``itemprop`` below the article into it, image credits of its figures
    too ("Credit Illustration by ..."), and a value that reads as a media credit is
    skipped."""
    parts = []
    for key in _COPYRIGHT_KEYS:
        values = [
            v for v in _license_values(item.get(key)) if v.strip() and not _CREDIT.match(v)
        ]
        if not values and isinstance(item.get(key), int):
            values = [str(item[key])]
        if values:
            parts.append(f"{key} {', '.join(values)}")
    return "; ".join(parts)[:300] or None


def _rdfa(items: list[Any], page_url: str | None) -> Iterator[Evidence]:
    page = urldefrag(page_url)[0] if page_url else ""
    for node in items:
        if not isinstance(node, dict):
            continue
        subject = urldefrag(str(node.get("@id", "")))[0]
        about_page = subject in ("", page) or subject.startswith("_:")
        for predicate in _RDFA_LICENSE:
            for obj in node.get(predicate, []):
                value = obj.get("@id") or obj.get("@value") if isinstance(obj, dict) else None
                if not isinstance(value, str):
                    continue
                yield _evidence(Kind.RDFA, value, about_page)


def structured_evidence(structured: dict[str, list[Any]], page_url: str | None) -> list[Evidence]:
    """License evidence from extruct's JSON-LD, microdata and RDFa output for one page."""
    evidence = list(_walk(structured.get("json-ld", []), True, Kind.JSONLD))
    evidence += _walk(structured.get("microdata", []), True, Kind.MICRODATA)
    evidence += _rdfa(structured.get("rdfa", []), page_url)
    return evidence
