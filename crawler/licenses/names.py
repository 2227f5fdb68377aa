"""License names in text -> SPDX ids.

One grammar serves :func:`find_license_mentions` (scan running text) and
:func:`spdx_from_name` (a name already isolated, e.g. a ``title`` or JSON-LD string):

* Creative Commons, full names in English, German, French, Spanish, Italian, Portuguese and
  Dutch ("Creative Commons Namensnennung - Weitergabe unter gleichen Bedingungen 3.0
  Deutschland", "Atribución-NoComercial 4.0 Internacional") and abbreviations ("CC BY-SA
  4.0", "CC-BY-NC", "CC BY NC SA 3.0", "CC-BY-SA-3.0-DE"); the version must follow the name
  directly (a version elsewhere is never borrowed); a port follows the version as a country
  name in any of those languages or an upper-case code; "Unported", "Generic",
  "International" (and translations) mean no port. Without a version:
  ``LicenseRef-CC-<TYPE>-unversioned``. A name followed directly by its abbreviation with a
  version ("Creative Commons Attribution Non Commercial (CC BY-NC 3.0)") or by a CC URL of
  the same type in parentheses takes that version.
* "CC0" (-> ``CC0-1.0``), "Public Domain Mark" (-> ``CC-PDM-1.0``), "Creative Commons Public
  Domain Dedication" (-> ``LicenseRef-PublicDomain``, or the CC0/PDM id of a license URL in
  parentheses right after it).
* Statements, read by :func:`spdx_from_name` only (running text is left to the text-signal
  lexicon, which needs the surrounding sentence): "public domain" and its translations
  (-> ``LicenseRef-PublicDomain``), "All rights reserved" and its translations
  (-> ``LicenseRef-All-Rights-Reserved``).
* GNU FDL/GPL/LGPL/AGPL with version, "or (at your option) any later version" and, for the
  FDL, "with no Invariant Sections" / "with the Invariant Sections being" ->
  ``GFDL-1.3-no-invariants-or-later`` and the like; a version alone gives ``-only``; no
  version gives ``LicenseRef-GFDL-unversioned`` (``GPL``, ``LGPL``, ``AGPL`` likewise).
* "MIT License" (bare "MIT" only right after "under"/"License:"), "Apache License, Version
  2.0", Open Government Licence (UK, ``LicenseRef-OGL-UK-unversioned`` without version),
  ODbL, ODC-By, PDDL, the Unlicense.

A mention is a name, not a grant: callers check the context ("licensed under", ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.licenses.ids import (
    ALL_RIGHTS_RESERVED,
    APACHE_UNVERSIONED,
    CC_VERSIONS,
    OGL_CANADA_UNVERSIONED,
    OGL_UK_UNVERSIONED,
    PORT_NAMES,
    PUBLIC_DOMAIN,
    cc_id,
    cc_type,
    gnu_unversioned,
    is_spdx_id,
    spdx_license_lookup,
    spdx_lookup,
)
from crawler.licenses.urls import spdx_from_url


@dataclass(frozen=True, slots=True)
class Mention:
    """A license name found in text: ``text[start:end] == matched``, mapped to ``spdx``."""

    start: int
    end: int
    matched: str
    spdx: str


_LICENSE_WORD = r"(?:Licen[cs]e|Lizenz|Licencia|Licenza|Licen[çc]a|Licentie)"

# Creative Commons license elements, by language.
_BY = (
    r"Attribution|Namensnennung|Paternit[ée]|Reconocimiento|Atribuci[óo]n|Attribuzione"
    r"|Atribui[çc][ãa]o|Naamsvermelding"
)
_NC = (
    r"Non[-\s]?Commercial|Nicht[-\s]?kommerziell|Keine\s+kommerzielle\s+Nutzung"
    r"|Pas\s+d['’]\s?Utilisation\s+Commerciale|No[-\s]?Comercial|Non[-\s]?commerciale"
    r"|(?:Uso\s+)?N[ãa]o[-\s]?Comercial|Niet[-\s]?Commercieel"
)
_ND = (
    r"No[-\s]?Derivatives|No[-\s]?Derivs|No[-\s]?Derivative[-\s]?Works|Keine\s+Bearbeitung(?:en)?"
    r"|Pas\s+de\s+Modification|Sin\s?Obra\s?Derivada|Sin\s?Derivadas|Sin\s?Derivar"
    r"|Non\s+opere\s+derivate|Sem\s?Deriva[çc][õo]es|Sem\s?Derivados"
    r"|Geen\s?Afgeleide\s?Werken"
)
_SA = (
    r"Share[-\s]?Alike|Weitergabe\s+unter\s+gleichen\s+Bedingungen"
    r"|Partage\s+dans\s+les\s+m[êe]mes\s+conditions"
    r"|Partage\s+des\s+conditions\s+initiales\s+[àa]\s+l['’]identique"
    r"|Compartir\s?Igual|Condividi\s+allo\s+stesso\s+modo|Compartilha\s?Igual"
    r"|Partilha\s?Igual|Gelijk\s?Delen"
)
_ELEM_WORD = rf"(?:{_BY}|{_NC}|{_ND}|{_SA})\b"
_ELEM_ABBR = r"(?:BY|NC|ND|SA)\b"
_SEP = r"\s*[-–—/,+]?\s*"
_ELEMENTS = re.compile(
    rf"(?P<BY>(?:{_BY}|\bBY)\b)|(?P<NC>(?:{_NC}|\bNC)\b)|(?P<ND>(?:{_ND}|\bND)\b)"
    rf"|(?P<SA>(?:{_SA}|\bSA)\b)",
    re.I,
)

_CC_FULL = (
    rf"Creative\s*Commons(?:\s*\(\s*CC\s*\))?(?:[\s\-–—]*{_LICENSE_WORD})?"
    rf"\s*[:\-–—(]?\s*(?:CC[\s\-]?)?"
    rf"(?P<fulltype>(?:{_ELEM_WORD}|{_ELEM_ABBR})(?:{_SEP}(?:{_ELEM_WORD}|{_ELEM_ABBR}))*)\)?"
)
_CC_ABBR = r"\bCC(?P<abbrsep>[\s\-_]?)(?P<abbrtype>BY(?:[\s\-_]?(?:NC|ND|SA)\b){0,2})\b"
_CC_BARE = rf"\b(?P<baretype>(?:{_BY})\b(?:{_SEP}{_ELEM_WORD})*)"

_NO_PORT = (
    r"Unported|Generic|Generisch|G[ée]n[ée]rique|Gen[ée]ric[ao]|Generica|Generiek"
    r"|International|Internacional|Internationaal|Internazionale|Universal"
)
_PORT_NAMES = "|".join(
    re.escape(n).replace(r"\ ", r"\s+") for n in sorted(PORT_NAMES, key=len, reverse=True)
)
_PORT_CODES = "|".join(sorted({c for c in PORT_NAMES.values()}, key=len, reverse=True))
_CC_TAIL = re.compile(
    rf"""
    (?:[\s\-–—]*(?:Public\s+)?{_LICENSE_WORD}\b(?=[\s,\-]*(?:v(?:ersion|\.)?\s*)?\d))?
    (?:[\s,\-]*(?:v(?:ersion|ersión|ersione|ersão|\.)?\s*)?
       (?P<version>\d{{1,2}}\.\d{{1,2}})(?![\d.]*\d)
       (?:[\s\-–—,]*\(?\s*
          (?:(?P<portname>{_PORT_NAMES})|(?-i:(?P<portcode>{_PORT_CODES}))|(?:{_NO_PORT}))
          \b\)?
       )?
    )?
    (?:[\s\-–—]*(?:Public\s+)?{_LICENSE_WORD}\b)?
    """,
    re.I | re.X,
)

_GNU_TAIL = re.compile(
    r"""
    (?:\s*\(\s*(?:GNU\s*)?(?:G?FDL|[AL]?GPL)\s*\))?
    (?:[\s,;]*(?:(?:as\s+)?published\s+by\s+the\s+Free\s+Software\s+Foundation[\s,;]*)?
       (?:either\s+)?(?:version|ver\.|v\.?)?\s*-?\s*v?(?P<version>\d(?:\.\d)?)\b
       (?:\s+of\s+the\s+Licen[cs]e)?)?
    (?:(?P<later>\s*\+|-or-later|[\s,;]*or\s+(?:\(at\s+your\s+option\)\s+)?(?:any\s+)?
        (?:later|newer)(?:\s+version)?)|(?P<only>-only))?
    (?:[\s,;]*(?:as\s+)?published\s+by\s+the\s+Free\s+Software\s+Foundation)?
    (?:[\s;,.]*with\s+(?:(?P<noinv>no\s+Invariant\s+Sections)
                       |(?P<inv>the\s+Invariant\s+Sections\s+being))
       (?:[^.]{0,300}?Back-Cover\s+Texts?)?)?
    """,
    re.I | re.X,
)
_VERSION_TAIL = re.compile(
    r"[\s,\-]*(?:v(?:ersion)?\.?\s*)?(?P<version>\d(?:\.\d)?)\b(?:\s+" + _LICENSE_WORD + r"\b)?",
    re.I,
)
_OGL_TAIL = re.compile(
    r"(?P<canada>\s*[-–—]?\s*Canada\b)?"
    r"(?:\s+for\s+public\s+sector\s+information)?(?:[\s\-]*\(?UK\)?)?"
    r"(?:[\s,\-]*(?:v(?:ersion)?\.?\s*)?(?P<version>[1-3])(?:\.0)?(?![.\w]))?",
    re.I,
)

_BRANCHES = [
    r"(?P<spdxid>\b(?:GFDL|[AL]?GPL)-\d\.\d(?:-(?:no-)?invariants)?-(?:only|or-later)\b)",
    r"(?P<cc0>\bCC-?0\b|\bCC\s+Zero\b|Creative\s+Commons\s+(?:CC-?0|Zero)\b)",
    r"(?P<pdm>(?:Creative\s+Commons\s+)?Public\s+Domain\s+Mark\b)",
    r"(?P<pddc>Public\s+Domain\s+Dedication\s+and\s+Certification\b)",
    r"(?P<pddl>(?:Open\s+Data\s+Commons\s+)?Public\s+Domain\s+Dedication\s+(?:and|&)\s+"
    r"Licen[cs]e\b|\b(?:ODC[-\s])?PDDL\b)",
    rf"(?P<ccfull>{_CC_FULL})",
    rf"(?P<ccabbr>{_CC_ABBR})",
    rf"(?P<ccbare>{_CC_BARE})",
    r"(?P<gfdl>GNU\s+Free\s+Documentation\s+Licen[cs]e|\bGNU[\s-]?FDL\b|\bGFDL\b)",
    r"(?P<agpl>GNU\s+Affero\s+General\s+Public\s+Licen[cs]e|\b(?:GNU[\s-]?)?AGPL(?![a-uw-z]))",
    r"(?P<lgpl>GNU\s+(?:(?P<library>Library)|Lesser)\s+General\s+Public\s+Licen[cs]e"
    r"|\b(?:GNU[\s-]?)?LGPL(?![a-uw-z]))",
    r"(?P<gpl>GNU\s+General\s+Public\s+Licen[cs]e|\b(?:GNU[\s-]?)?GPL(?![a-uw-z]))",
    r"(?P<mit>\bMIT[\s-]+Licen[cs]e\b|\bMIT[\s-]licensed\b|\bExpat\s+Licen[cs]e\b"
    r"|(?<=under\s)MIT\b(?=\s*(?:[.;,)]|$))|(?<=under\sthe\s)MIT\b(?=\s*(?:[.;,)]|$))"
    r"|(?<=Licen[cs]e:\s)MIT\b)",
    r"(?P<apache>\bApache(?:\s+Software)?\s+Licen[cs]e\b"
    r"|\bApache(?=[\s-]+(?:v(?:ersion)?\s*)?[12](?:\.[01])?\b))",
    r"(?P<ogl>Open\s+Government\s+Licen[cs]e|\bOGL[\s-]?UK\b)",
    r"(?P<odbl>(?:Open\s+Data\s+Commons\s+)?Open\s+Database\s+Licen[cs]e|\b(?:ODC-)?ODbL\b)",
    r"(?P<odcby>Open\s+Data\s+Commons\s+Attribution\s+Licen[cs]e|\bODC[-\s]By\b)",
    r"(?P<unlicense>\b(?:The\s+)?Unlicense\b)",
    r"(?P<arr>\bAll\s+rights\s+reserved\b|\bAlle\s+Rechte\s+vorbehalten\b"
    r"|\bTous\s+droits\s+r[ée]serv[ée]s\b|\bTodos\s+los\s+derechos\s+reservados\b"
    r"|\bTutti\s+i\s+diritti\s+riservati\b|\bTodos\s+os\s+direitos\s+reservados\b"
    r"|\bAlle\s+rechten\s+voorbehouden\b)",
    r"(?P<ccpdd>Creative\s+Commons\s+Public\s+Domain\s+Dedication(?:\s+waiver)?\b)",
    r"(?P<pd>\bpublic\s+domain\b|\bgemeinfrei\b|\bdomaine\s+public\b"
    r"|\bdominio\s+p[úu]blico\b|\bpubblico\s+dominio\b|\bdom[íi]nio\s+p[úu]blico\b"
    r"|\bpubliek\s+domein\b)",
]
_MENTION = re.compile("|".join(_BRANCHES), re.I)
_ADJ_URL = re.compile(r"\s*[(\[<]\s*((?:https?:)?//[^\s)\]>]+)\s*[)\]>]?")
_ADJ_OPEN = re.compile(r"\s*[(\[]?\s*")
_CC_TYPE_OF = re.compile(r"^(?:LicenseRef-)?CC-(?P<type>[A-Z-]+?)-(?:\d\.\d|unversioned)")
_SIMPLE = {
    "pddc": "CC-PDDC",
    "pddl": "PDDL-1.0",
    "mit": "MIT",
    "odcby": "ODC-By-1.0",
    "unlicense": "Unlicense",
    "ccpdd": PUBLIC_DOMAIN,
    "arr": ALL_RIGHTS_RESERVED,
    "pd": PUBLIC_DOMAIN,
}
# Statements rather than names: only spdx_from_name reads them (signals/text has its own
# lexicon for "placed in the public domain" and "all rights reserved" in running text).
_STATEMENTS = frozenset({"arr", "pd"})


def _cc(
    text: str, match: re.Match[str], kind: str, relaxed: bool
) -> tuple[int, str] | None:
    """(end, id) of a CC name match, with its version/port tail; ``None`` to skip."""
    phrase = match[{"ccfull": "fulltype", "ccabbr": "abbrtype", "ccbare": "baretype"}[kind]]
    found = [e.lastgroup for e in _ELEMENTS.finditer(phrase)]
    ctype = cc_type(frozenset(found))
    if ctype is None:
        return None
    tail = _CC_TAIL.match(text, match.end())
    version = tail["version"]
    if version is not None and version not in CC_VERSIONS:
        return None
    if version is None and kind == "ccbare" and len(found) < 2:
        return None
    if version is None and not relaxed:
        if kind == "ccabbr" and match["abbrsep"] in ("", " ") and "BY" not in phrase:
            return None
        if kind == "ccfull" and not any(e.group().isupper() or len(e.group()) > 2
                                        for e in _ELEMENTS.finditer(phrase)):
            return None
    port = None
    if tail["portname"]:
        port = PORT_NAMES[re.sub(r"\s+", " ", tail["portname"].lower())]
    elif tail["portcode"]:
        port = tail["portcode"]
    if port and version == "4.0":  # 4.0 has no ports: the word after it is something else
        return tail.end("version"), cc_id(ctype, version)
    return tail.end(), cc_id(ctype, version, port)


def _gnu(text: str, match: re.Match[str], family: str) -> tuple[int, str] | None:
    tail = _GNU_TAIL.match(text, match.end())
    version = tail["version"]
    if version is None:
        return tail.end(), gnu_unversioned(family)
    if family != "GFDL" and "." not in version:
        version += ".0"
    if family == "LGPL" and match["library"] and version not in ("2.0",):
        return None
    inv = "-invariants" if tail["inv"] else "-no-invariants" if tail["noinv"] else ""
    if inv and family != "GFDL":
        return None
    spdx = f"{family}-{version}{inv}-{'or-later' if tail['later'] else 'only'}"
    return (tail.end(), spdx) if is_spdx_id(spdx) else None


def _resolve(text: str, match: re.Match[str], relaxed: bool) -> tuple[int, str] | None:
    kind = match.lastgroup
    assert kind is not None
    if kind in _STATEMENTS and not relaxed:
        return None
    if kind in _SIMPLE:
        return match.end(), _SIMPLE[kind]
    if kind in ("ccfull", "ccabbr", "ccbare"):
        return _cc(text, match, kind, relaxed)
    if kind == "spdxid":
        spdx = spdx_lookup(match.group())
        return (match.end(), spdx) if spdx else None
    if kind == "cc0":
        tail = _CC_TAIL.match(text, match.end())
        if tail["version"] not in (None, "1.0"):
            return None
        end = tail.end()
        pdd = re.compile(r"\s*Public\s+Domain\s+Dedication\b", re.I).match(text, end)
        return (pdd.end() if pdd else end), "CC0-1.0"
    if kind == "pdm":
        tail = _CC_TAIL.match(text, match.end())
        return (tail.end(), "CC-PDM-1.0") if tail["version"] in (None, "1.0") else None
    if kind in ("gfdl", "agpl", "lgpl", "gpl"):
        return _gnu(text, match, "GFDL" if kind == "gfdl" else kind.upper())
    if kind == "apache":
        tail = _VERSION_TAIL.match(text, match.end())
        if tail is None:
            return match.end(), APACHE_UNVERSIONED
        spdx = spdx_lookup(f"Apache-{tail['version']}" + ("" if "." in tail["version"] else ".0"))
        return (tail.end(), spdx) if spdx else None
    if kind == "ogl":
        tail = _OGL_TAIL.match(text, match.end())
        version = tail["version"]
        if tail["canada"]:
            if version is None:
                return tail.end(), OGL_CANADA_UNVERSIONED
            return (tail.end(), "OGL-Canada-2.0") if version == "2" else None
        if version is None:
            return tail.end(), OGL_UK_UNVERSIONED
        return tail.end(), f"OGL-UK-{version}.0"
    if kind == "odbl":
        tail = _VERSION_TAIL.match(text, match.end())
        if tail and tail["version"] not in ("1", "1.0"):
            return None
        return (tail.end() if tail else match.end()), "ODbL-1.0"
    raise AssertionError(f"unhandled branch {kind}")


def _cc_type_of(spdx: str) -> str | None:
    match = _CC_TYPE_OF.match(spdx)
    return match["type"] if match else None


_PD_IDS = frozenset({"CC0-1.0", "CC-PDM-1.0", "CC-PDDC"})


def _adjacent_url_id(text: str, m: Mention) -> tuple[int, str] | None:
    """(end, id) of a license URL in parentheses right after ``m`` that refines it."""
    url = _ADJ_URL.match(text, m.end)
    spdx = spdx_from_url(url[1]) if url else None
    if spdx is None or spdx.endswith("-unversioned"):
        return None
    if m.spdx == PUBLIC_DOMAIN:
        return (url.end(), spdx) if spdx in _PD_IDS else None
    ctype = _cc_type_of(m.spdx)
    return (url.end(), spdx) if ctype is not None and _cc_type_of(spdx) == ctype else None


def _refine(text: str, mentions: list[Mention]) -> list[Mention]:
    """Merge an unversioned CC name with a directly following abbreviation of the same type
    ("... Non Commercial (CC BY-NC 3.0)") or license URL in parentheses, and "public
    domain" names with a following CC0 / PDM URL."""
    out: list[Mention] = []
    i = 0
    while i < len(mentions):
        m = mentions[i]
        unversioned = m.spdx.endswith("-unversioned")
        nxt = mentions[i + 1] if i + 1 < len(mentions) else None
        gap = _ADJ_OPEN.match(text, m.end)
        ctype = _cc_type_of(m.spdx) if unversioned else None
        if ctype and nxt and gap.end() == nxt.start and _cc_type_of(nxt.spdx) == ctype:
            end = nxt.end + 1 if "(" in gap[0] and text[nxt.end:nxt.end + 1] == ")" else nxt.end
            out.append(Mention(m.start, end, text[m.start:end], nxt.spdx))
            i += 2
            continue
        refined = _adjacent_url_id(text, m) if unversioned or m.spdx == PUBLIC_DOMAIN else None
        if refined:
            out.append(Mention(m.start, refined[0], text[m.start:refined[0]], refined[1]))
        else:
            out.append(m)
        i += 1
    return out


# Lower-case prefixes every mention starts with; a fast first pass over the lower-cased text
# finds candidate positions, where the full grammar is then tried.
_ANCHOR_WORDS = (
    "creative", "cc", "attribu", "atribu", "namensnennung", "paternit", "reconocimiento",
    "naamsvermelding", "public domain mark", "public domain dedication", "open", "gnu", "gfdl",
    "gpl", "lgpl", "agpl", "mit", "expat", "apache", "ogl", "odbl", "odc", "pddl", "unlicense",
)
_STATEMENT_WORDS = (
    "public", "all", "tous", "todos", "tutti", "gemeinfrei", "domaine", "dominio", "domínio",
    "pubblico", "publiek",
)


def _anchor_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation grouped by first letter (much faster than a flat one)."""
    by_first: dict[str, list[str]] = {}
    for word in words:
        by_first.setdefault(word[0], []).append(word[1:])
    parts = []
    for first, rests in sorted(by_first.items()):
        rests = sorted(set(rests), key=len, reverse=True)
        alternatives = "|".join(re.escape(r).replace(r"\ ", r"\s+") for r in rests)
        parts.append(f"{re.escape(first)}(?:{alternatives})")
    return re.compile("|".join(parts))


_ANCHOR = _anchor_pattern(_ANCHOR_WORDS)
_ANCHOR_RELAXED = _anchor_pattern(_ANCHOR_WORDS + _STATEMENT_WORDS)


def _lower_same_length(text: str) -> str:
    """``text.lower()`` with every character kept at its offset.

    U+0130 (İ) is the only character whose lower case is two characters long.
    """
    return text.replace("\u0130", "i").lower()


def _scan(text: str, relaxed: bool) -> list[Mention]:
    mentions: list[Mention] = []
    pos = 0
    anchors = _ANCHOR_RELAXED if relaxed else _ANCHOR
    for anchor in anchors.finditer(_lower_same_length(text)):
        start = anchor.start()
        if start < pos or (start and text[start - 1].isalnum()):
            continue
        match = _MENTION.match(text, start)
        if match is None:
            continue
        resolved = _resolve(text, match, relaxed)
        if resolved is None:
            continue
        end = max(resolved[0], match.end())
        while end > match.end() and text[end - 1].isspace():
            end -= 1
        mentions.append(Mention(start, end, text[start:end], resolved[1]))
        pos = end
    return _refine(text, mentions)


def find_license_mentions(text: str) -> list[Mention]:
    """Every license name or abbreviation in ``text``, in order, with offsets and SPDX id.

    Does not judge whether a mention is a grant; see the module docstring for the grammar.
    """
    return _scan(text, relaxed=False)


_URLISH = re.compile(r"^(?:https?:)?//|^[\w.-]+\.[a-z]{2,}/", re.I)


def spdx_from_name(name: str) -> str | None:
    """A license name or abbreviation isolated from text -> SPDX id, ``None`` if unknown.

    Accepts SPDX ids in any case (``cc-by-4.0``), our ``LicenseRef-`` ids, URLs (via
    :func:`~crawler.licenses.urls.spdx_from_url`) and every name the mention grammar knows,
    with relaxed rules for a name on its own ("cc by", "BY-SA 4.0", "Attribution"). A
    string naming two different licenses gives ``None``.
    """
    name = name.strip()
    if not name:
        return None
    direct = spdx_license_lookup(name)
    if direct:
        return direct
    if name.startswith("LicenseRef-"):
        return name if re.fullmatch(r"LicenseRef-[A-Za-z0-9.-]+", name) else None
    if _URLISH.match(name):
        return spdx_from_url(name)
    text = re.sub(r"_+", " ", name)
    if re.match(r"(?i)by\b", text):
        text = "CC " + text
    found = {m.spdx for m in _scan(text, relaxed=True)}
    return found.pop() if len(found) == 1 else None
