"""License URL -> SPDX id.

Normalization (SPEC §3), applied before any matching:

* surrounding whitespace, ``<``/``>`` and trailing sentence punctuation (``).,;:'"``) are
  dropped, so a URL cut out of running text ("(http://creativecommons.org/licenses/by/2.0)")
  still maps;
* the scheme (``http:``, ``https:``, protocol-relative ``//`` or none) is dropped, the URL
  is lower-cased, ``www.`` and a ``:80``/``:443`` port are removed from the host;
* the query (``?ref=chooser-v1``) and fragment are dropped, empty path segments (double or
  trailing slashes) are ignored;
* on creativecommons.org, trailing ``deed``, ``deed.<lang>``, ``legalcode``,
  ``legalcode.<lang>``, ``legalcode.txt`` and ``rdf`` segments are dropped.

Then each known license site is matched by its own rules; anything else is ``None``. A CC
license path keeps its version and port: ``licenses/by-sa/2.0`` is ``CC-BY-SA-2.0``,
``licenses/by/3.0/us`` is ``CC-BY-3.0-US``, a port the SPDX list lacks becomes
``LicenseRef-CC-BY-SA-3.0-ES``, a path without a version ``LicenseRef-CC-BY-unversioned``.
CC 4.0 has no ports, so ``licenses/by-sa/4.0/de/`` (a deed language) is ``CC-BY-SA-4.0``.
Unknown versions, ports or extra segments give ``None`` rather than a guess.

A license URL wrapped by a web archive or a redirector is unwrapped first (up to three
layers): ``web.archive.org/web/<timestamp>[xx_]/<url>`` (also with the inner scheme cut to
one slash, ``http:/creativecommons.org/...``) and a query parameter such as ``url=``,
``u=``, ``q=``, ``target=`` or ``dest=`` whose whole value is an absolute URL
(``google.com/url?q=...``, ``l.facebook.com/l.php?u=...``, tracking wrappers); the inner URL
is then mapped like any other. A URL on a license site itself is never unwrapped.

Badge images are handled by :func:`spdx_from_url` too (``i.creativecommons.org/l/...``,
``licensebuttons.net/l/...``, ``/p/zero/1.0/``, ``/p/mark/1.0/``, the CC press-kit
buttons); :func:`spdx_from_badge` accepts only badge image URLs.

GNU license URLs name one version and no "or later" clause, so ``gnu.org/licenses/
fdl-1.3.html`` is ``GFDL-1.3-only`` (``gpl-3.0`` is ``GPL-3.0-only``): the narrowest
reading that is certainly granted; a text saying "or any later version" refines it
(see :mod:`crawler.licenses.names`). Unversioned GNU URLs (``fdl.html``,
``copyleft/fdl.html``) give ``LicenseRef-GFDL-unversioned`` and the like. Where only one
version of a license was ever published (CC0, ODbL, ODC-By, PDDL), a URL without a version
maps to it: there is nothing to guess. ``w3.org/Consortium/Legal/2015/doc-license`` is the
W3C *Document* License, which grants no right to make derivatives; it is not
``W3C-20150513`` (the Software and Document License) and maps to
``LicenseRef-W3C-Document-License-2015``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from crawler.licenses.ids import (
    ARXIV_NONEXCLUSIVE_1_0,
    CC_PORTS,
    CC_VERSIONS,
    CPOL_UNVERSIONED,
    OGL_UK_UNVERSIONED,
    OWFA_1_0,
    W3C_COMMUNITY_CLA,
    W3C_DOCUMENT_2015,
    W3C_DOCUMENT_2023,
    W3C_SOFTWARE_2023,
    cc_id,
    cc_type,
    gnu_unversioned,
    is_spdx_id,
    spdx_license_lookup,
    spdx_lookup,
)

_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//")
_TRIM = " \t\r\n<>\"'“”‘’«»()[].,;:"
_CC_SUFFIX = re.compile(r"^(?:deed(?:\.[a-z_-]+)?|legalcode(?:\.[a-z_-]+)?|rdf)$")
_IMAGE = re.compile(r"\.(?:png|svg|gif|jpe?g|webp)$")
_BADGE_HOSTS = frozenset({"i.creativecommons.org", "licensebuttons.net", "i.licensebuttons.net"})
_PRESSKIT = re.compile(
    r"^presskit/buttons/\d+x\d+/(?:png|svg)/(?P<name>[a-z-]+)\.(?:png|svg)$"
)


_ARCHIVED = re.compile(
    r"^\s*(?:(?:[a-z][a-z0-9+.-]*:)?//)?(?:www\.)?(?:web\.)?archive\.org/web/\d{1,14}"
    r"(?:[a-z]{2}_)?/+(?P<inner>\S+)$", re.IGNORECASE)
_ONE_SLASH = re.compile(r"^(https?:)/(?!/)", re.IGNORECASE)
_ABSOLUTE = re.compile(r"^(?:https?:)?//[^/\s]+\.[^/\s]+", re.IGNORECASE)
_REDIRECT_KEYS = frozenset({"url", "u", "q", "target", "dest", "destination", "redirect",
                            "redirect_url", "to", "goto", "link", "out"})
_UNWRAP_DEPTH = 3


def unwrap(url: str) -> str:
    """The URL inside a web-archive or redirector wrapper (``url`` itself when it is not
    wrapped, or when it is on a license site already)."""
    for _ in range(_UNWRAP_DEPTH):
        archived = _ARCHIVED.match(url)
        if archived:
            inner = _ONE_SLASH.sub(r"\1//", archived["inner"])
            url = inner if _ABSOLUTE.match(inner) else "//" + inner
            continue
        if "?" not in url:  # the common case: no redirector, nothing to split
            return url
        parts = _split(url)
        if parts is None or parts[0] in _SITES:
            return url
        try:
            query = urlsplit(url.strip()).query
        except ValueError:
            return url
        targets = [value.strip() for key, value in parse_qsl(query)
                   if key.lower() in _REDIRECT_KEYS and _ABSOLUTE.match(value.strip())]
        if not targets:
            return url
        url = targets[0]
    return url


def _split(url: str) -> tuple[str, list[str]] | None:
    """(host, path segments) of a normalized URL, or ``None`` for something that is not one."""
    url = url.strip().strip(_TRIM).lower()
    match = _SCHEME.match(url)
    if match:
        url = url[match.end():]
    elif "/" not in url or "." not in url.split("/", 1)[0]:
        return None
    url = re.split(r"[?#]", url, maxsplit=1)[0]
    host, _, path = url.partition("/")
    host = host.rsplit("@", 1)[-1]
    host = re.sub(r":(?:80|443)$", "", host).removeprefix("www.").rstrip(".")
    if not host or ":" in host:
        return None
    return host, [s for s in path.split("/") if s]


def _cc_license(segments: list[str]) -> str | None:
    """``[type, version?, port?]`` of a CC license path -> id."""
    elements = segments[0].split("-")
    if len(set(elements)) != len(elements) or not set(elements) <= {"by", "nc", "nd", "sa"}:
        return None
    ctype = cc_type({e.upper() for e in elements})
    rest = segments[1:]
    if ctype is None or len(rest) > 2:
        return None
    if not rest:
        return cc_id(ctype, None)
    version = rest[0]
    if version not in CC_VERSIONS:
        return None
    if len(rest) == 1:
        return cc_id(ctype, version)
    port = CC_PORTS.get(rest[1])
    if port and version == "4.0":
        return cc_id(ctype, version)  # 4.0 has no ports: "/4.0/de/" is a deed language
    return cc_id(ctype, version, port) if port else None


def _creativecommons(segments: list[str]) -> str | None:
    while segments and _CC_SUFFIX.match(segments[-1]):
        segments = segments[:-1]
    if len(segments) < 2:
        return None
    head, rest = segments[0], segments[1:]
    if head == "licenses":
        if rest == ["publicdomain"]:
            return "CC-PDDC"
        return _cc_license(rest)
    if head == "publicdomain" and rest[0] in ("zero", "mark") and rest[1:] in ([], ["1.0"]):
        return "CC0-1.0" if rest[0] == "zero" else "CC-PDM-1.0"
    return None


def _badge(host: str, segments: list[str]) -> str | None:
    """Badge image URL -> id (``None`` when it is not a badge image)."""
    if not segments or not _IMAGE.search(segments[-1]):
        return None
    if host in _BADGE_HOSTS:
        head, rest = segments[0], segments[1:-1]
        if head == "l" and rest:
            return _cc_license(rest)
        if head == "p" and rest in (["zero", "1.0"], ["mark", "1.0"]):
            return "CC0-1.0" if rest[0] == "zero" else "CC-PDM-1.0"
        return None
    if host == "mirrors.creativecommons.org":
        match = _PRESSKIT.match("/".join(segments))
        if not match:
            return None
        name = match["name"]
        if name == "cc-zero":
            return "CC0-1.0"
        return _cc_license([name]) if name.startswith("by") else None
    return None


_GNU_NAME = re.compile(
    r"^(?P<family>gpl|lgpl|agpl|fdl)(?:-(?P<version>[0-9]\.[0-9]))?"
    r"(?:\.[a-z]{2}(?:-[a-z]{2})?)?(?:-standalone)?(?:\.html?|\.txt|\.md|\.tex|\.texi|\.xml)?$"
)


def _gnu(segments: list[str]) -> str | None:
    if segments[:1] == ["licenses"] and segments[1:2] == ["old-licenses"]:
        segments = segments[1:]
    if len(segments) != 2 or segments[0] not in ("licenses", "copyleft", "old-licenses"):
        return None
    match = _GNU_NAME.match(segments[1])
    if not match:
        return None
    family = "GFDL" if match["family"] == "fdl" else match["family"].upper()
    if match["version"] is None:
        return gnu_unversioned(family)
    spdx = f"{family}-{match['version']}-only"
    return spdx if is_spdx_id(spdx) else None


_OSI_OLD = {"mit-license": "MIT", "apache2.0": "Apache-2.0", "mit": "MIT"}


def _opensource(segments: list[str]) -> str | None:
    if len(segments) != 2 or segments[0] not in ("licenses", "license"):
        return None
    name = re.sub(r"\.(?:php|html?)$", "", segments[1])
    return _OSI_OLD.get(name) or spdx_license_lookup(name)


def _apache(segments: list[str]) -> str | None:
    if len(segments) != 2 or segments[0] != "licenses":
        return None
    match = re.fullmatch(r"license-([12]\.[01])(?:\.html|\.txt)?", segments[1])
    return spdx_lookup(f"Apache-{match[1]}") if match else None


_ODC = {"odbl": "ODbL-1.0", "by": "ODC-By-1.0", "odc-by": "ODC-By-1.0", "pddl": "PDDL-1.0"}


def _opendatacommons(segments: list[str]) -> str | None:
    if len(segments) < 2 or segments[0] != "licenses" or segments[1] not in _ODC:
        return None
    rest = [s for s in segments[2:] if s not in ("summary", "index.html", "summary.html")]
    return _ODC[segments[1]] if rest in ([], ["1.0"], ["1-0"]) else None


def _nationalarchives(segments: list[str]) -> str | None:
    if segments[:2] != ["doc", "open-government-licence"]:
        return None
    rest = segments[2:]
    if rest in ([], ["open-government-licence"], ["open-government-licence.htm"]):
        return OGL_UK_UNVERSIONED
    if len(rest) == 2 and rest[0] == "version" and rest[1] in ("1", "2", "3"):
        return f"OGL-UK-{rest[1]}.0"
    return None


_W3C = {
    "consortium/legal/2015/copyright-software-and-document": "W3C-20150513",
    "copyright/software-license-2015": "W3C-20150513",
    "consortium/legal/2015/doc-license": W3C_DOCUMENT_2015,
    "copyright/document-license-2023": W3C_DOCUMENT_2023,
    "copyright/software-license-2023": W3C_SOFTWARE_2023,
    "consortium/legal/2002/copyright-software-20021231": "W3C",
    "consortium/legal/copyright-software-19980720": "W3C-19980720",
    "community/about/agreements/cla": W3C_COMMUNITY_CLA,
}


def _w3(segments: list[str]) -> str | None:
    path = re.sub(r"\.html?$", "", "/".join(segments))
    return _W3C.get(path)


def _arxiv(segments: list[str]) -> str | None:
    found = segments == ["licenses", "nonexclusive-distrib", "1.0"]
    return ARXIV_NONEXCLUSIVE_1_0 if found else None


def _codeproject(segments: list[str]) -> str | None:
    return CPOL_UNVERSIONED if segments == ["info", "cpol10.aspx"] else None


def _spdx_org(segments: list[str]) -> str | None:
    if len(segments) != 2 or segments[0] != "licenses":
        return None
    name = re.sub(r"\.(?:html?|json|txt)$", "", segments[1])
    return spdx_license_lookup(name)


def _choosealicense(segments: list[str]) -> str | None:
    if len(segments) != 2 or segments[0] != "licenses":
        return None
    return spdx_license_lookup(segments[1])


def _unlicense(segments: list[str]) -> str | None:
    return "Unlicense" if not segments else None


def _openwebfoundation(segments: list[str]) -> str | None:
    if segments and re.fullmatch(r"owfa-1-0(?:\.html?)?", segments[-1]):
        return OWFA_1_0
    return None


_SITES: dict[str, Callable[[list[str]], str | None]] = {
    "creativecommons.org": _creativecommons,
    "gnu.org": _gnu,
    "opensource.org": _opensource,
    "apache.org": _apache,
    "opendatacommons.org": _opendatacommons,
    "nationalarchives.gov.uk": _nationalarchives,
    "w3.org": _w3,
    "spdx.org": _spdx_org,
    "choosealicense.com": _choosealicense,
    "unlicense.org": _unlicense,
    "openwebfoundation.org": _openwebfoundation,
    "codeproject.com": _codeproject,
    "arxiv.org": _arxiv,
}


# Lower-case literals (IGNORECASE would make the alternation five times slower).
_HOST_HINT = re.compile(
    "|".join(re.escape(host) for host in sorted(set(_SITES) | {"licensebuttons.net"}))
)


def names_license_host(url: str) -> bool:
    """Cheap pre-check: whether ``url`` mentions a host that :func:`spdx_from_url` knows.

    For scanning every link of a page: only those that pass are worth resolving and
    mapping."""
    return _HOST_HINT.search(url.lower()) is not None


def spdx_from_badge(url: str) -> str | None:
    """A CC badge image URL (``i.creativecommons.org/l/by-sa/4.0/88x31.png``,
    ``licensebuttons.net/l/by-nc/3.0/de/80x15.png``, ``.../p/zero/1.0/88x31.png``) -> id.

    ``None`` for anything that is not a recognised badge image, including license pages.
    """
    parts = _split(unwrap(url))
    return _badge(*parts) if parts else None


def spdx_from_url(url: str) -> str | None:
    """A license URL or CC badge image URL -> SPDX id or declared ``LicenseRef-`` id.

    ``None`` when the URL is not a recognised license URL (see the module docstring for
    the normalization and the per-site rules).
    """
    parts = _split(unwrap(url))
    if parts is None:
        return None
    host, segments = parts
    badge = _badge(host, segments)
    if badge is not None:
        return badge
    if not segments and host != "unlicense.org":
        return None
    site = _SITES.get(host)
    return site(segments) if site else None
