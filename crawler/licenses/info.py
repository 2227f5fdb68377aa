"""Human name, canonical URL and SPDX extracted text of a license id."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from crawler.licenses.ids import (
    ALL_RIGHTS_RESERVED,
    APACHE_UNVERSIONED,
    ARXIV_NONEXCLUSIVE_1_0,
    CC_TYPES,
    CC_VERSIONS,
    CPOL_UNVERSIONED,
    OGL_CANADA_UNVERSIONED,
    OGL_UK_UNVERSIONED,
    OWFA_1_0,
    PORT_TITLES,
    PUBLIC_DOMAIN,
    W3C_COMMUNITY_CLA,
    W3C_DOCUMENT_2015,
    W3C_DOCUMENT_2023,
    W3C_SOFTWARE_2023,
    is_spdx_id,
)


@dataclass(frozen=True, slots=True)
class LicenseInfo:
    """What to print about a license: ``id``, human ``name``, canonical ``url`` (or
    ``None``) and, for ``LicenseRef-`` ids, ``text`` usable as SPDX ``extractedText``
    (empty for SPDX list ids, whose text SPDX already has)."""

    id: str
    name: str
    url: str | None
    text: str


_FIXED: dict[str, tuple[str, str | None]] = {
    PUBLIC_DOMAIN: ("Public domain", None),
    ALL_RIGHTS_RESERVED: ("All rights reserved", None),
    OGL_UK_UNVERSIONED: (
        "Open Government Licence (UK), version not stated",
        "https://www.nationalarchives.gov.uk/doc/open-government-licence/",
    ),
    OGL_CANADA_UNVERSIONED: (
        "Open Government Licence - Canada, version not stated",
        "https://open.canada.ca/en/open-government-licence-canada",
    ),
    OWFA_1_0: (
        "Open Web Foundation Agreement 1.0",
        "http://www.openwebfoundation.org/legal/the-owf-1-0-agreements/owfa-1-0",
    ),
    W3C_DOCUMENT_2015: (
        "W3C Document License (2015)",
        "https://www.w3.org/Consortium/Legal/2015/doc-license",
    ),
    W3C_DOCUMENT_2023: (
        "W3C Document License (2023)",
        "https://www.w3.org/copyright/document-license-2023/",
    ),
    W3C_SOFTWARE_2023: (
        "W3C Software and Document License (2023)",
        "https://www.w3.org/copyright/software-license-2023/",
    ),
    W3C_COMMUNITY_CLA: (
        "W3C Community Contributor License Agreement",
        "https://www.w3.org/community/about/agreements/cla/",
    ),
    ARXIV_NONEXCLUSIVE_1_0: (
        "arXiv.org perpetual, non-exclusive license to distribute 1.0 (a license to arXiv only)",
        "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    ),
    CPOL_UNVERSIONED: (
        "The Code Project Open License (CPOL), version not stated",
        "https://www.codeproject.com/info/cpol10.aspx",
    ),
    APACHE_UNVERSIONED: (
        "Apache License, version not stated",
        "https://www.apache.org/licenses/",
    ),
    "LicenseRef-GFDL-unversioned": (
        "GNU Free Documentation License, version not stated",
        "https://www.gnu.org/licenses/fdl.html",
    ),
    "LicenseRef-GPL-unversioned": (
        "GNU General Public License, version not stated",
        "https://www.gnu.org/licenses/gpl.html",
    ),
    "LicenseRef-LGPL-unversioned": (
        "GNU Lesser General Public License, version not stated",
        "https://www.gnu.org/licenses/lgpl.html",
    ),
    "LicenseRef-AGPL-unversioned": (
        "GNU Affero General Public License, version not stated",
        "https://www.gnu.org/licenses/agpl.html",
    ),
    "CC0-1.0": ("CC0 1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "CC-PDM-1.0": ("Public Domain Mark 1.0", "https://creativecommons.org/publicdomain/mark/1.0/"),
    "CC-PDDC": (
        "Creative Commons Public Domain Dedication and Certification",
        "https://creativecommons.org/licenses/publicdomain/",
    ),
    "MIT": ("MIT License", "https://opensource.org/license/mit"),
    "Apache-2.0": ("Apache License 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    "ODbL-1.0": (
        "Open Data Commons Open Database License v1.0",
        "https://opendatacommons.org/licenses/odbl/1-0/",
    ),
    "ODC-By-1.0": (
        "Open Data Commons Attribution License v1.0",
        "https://opendatacommons.org/licenses/by/1-0/",
    ),
    "PDDL-1.0": (
        "Open Data Commons Public Domain Dedication and License v1.0",
        "https://opendatacommons.org/licenses/pddl/1-0/",
    ),
    "W3C-20150513": (
        "W3C Software and Document Notice and License (2015-05-13)",
        "https://www.w3.org/Consortium/Legal/2015/copyright-software-and-document",
    ),
    "Unlicense": ("The Unlicense", "https://unlicense.org/"),
}
_TEXTS = {
    PUBLIC_DOMAIN: "The work is stated to be in the public domain.",
    ALL_RIGHTS_RESERVED: "All rights reserved: no license to reuse the work is granted.",
}

_CC = re.compile(
    r"^(?P<ref>LicenseRef-)?CC-(?P<type>[A-Z-]+?)-"
    r"(?:(?P<version>\d\.\d)(?:-(?P<port>[A-Z]+))?|unversioned)$"
)
_CC_WORDS = {"BY": "Attribution", "NC": "NonCommercial", "SA": "ShareAlike"}
_GNU = re.compile(
    r"^(?P<family>GFDL|GPL|LGPL|AGPL)-(?P<version>\d\.\d)"
    r"(?:-(?P<inv>no-invariants|invariants))?-(?P<scope>only|or-later)$"
)
_GNU_NAMES = {
    "GFDL": ("GNU Free Documentation License", "fdl"),
    "GPL": ("GNU General Public License", "gpl"),
    "LGPL": ("GNU Lesser General Public License", "lgpl"),
    "AGPL": ("GNU Affero General Public License", "agpl"),
}
_OGL = re.compile(r"^OGL-UK-(?P<version>[123])\.0$")


def _cc_info(match: re.Match[str]) -> tuple[str, str | None] | None:
    ctype, version, port = match["type"], match["version"], match["port"]
    if (
        ctype not in CC_TYPES
        or (version is not None and version not in CC_VERSIONS)
        or (port and port not in PORT_TITLES)
    ):
        return None
    nd = "NoDerivatives" if version == "4.0" else "NoDerivs"
    words = "-".join(_CC_WORDS.get(e, nd) for e in ctype.split("-"))
    if version is None:
        return f"Creative Commons {words}, version not stated", None
    if port:
        where = PORT_TITLES[port]
    else:
        where = {"4.0": "International", "3.0": "Unported"}.get(version, "Generic")
    slug = "nd-nc" if ctype == "NC-ND" else ctype.lower()
    url = f"https://creativecommons.org/licenses/{slug}/{version}/"
    return f"Creative Commons {words} {version} {where}", url + (f"{port.lower()}/" if port else "")


def _gnu_info(match: re.Match[str]) -> tuple[str, str]:
    family, version = match["family"], match["version"]
    title, slug = _GNU_NAMES[family]
    if family == "LGPL" and version == "2.0":
        title = "GNU Library General Public License"
    name = f"{title} v{version} {'only' if match['scope'] == 'only' else 'or later'}"
    if match["inv"]:
        name += f" - {match['inv'].replace('-', ' ')}"
    current = {"GFDL": "1.3", "GPL": "3.0", "LGPL": "3.0", "AGPL": "3.0"}[family]
    folder = "licenses/" if version == current else "licenses/old-licenses/"
    return name, f"https://www.gnu.org/{folder}{slug}-{version}.html"


def _describe(spdx_id: str) -> tuple[str, str | None] | None:
    if spdx_id in _FIXED:
        return _FIXED[spdx_id]
    match = _CC.match(spdx_id)
    if match:
        return _cc_info(match)
    match = _GNU.match(spdx_id)
    if match and is_spdx_id(spdx_id):
        return _gnu_info(match)
    match = _OGL.match(spdx_id)
    if match:
        return (
            f"Open Government Licence v{match['version']}.0",
            f"https://www.nationalarchives.gov.uk/doc/open-government-licence/version/"
            f"{match['version']}/",
        )
    return None


@lru_cache(maxsize=1024)
def license_info(spdx_id: str) -> LicenseInfo:
    """Name, URL and extracted text for one license id; never raises.

    Known ids get their official name and canonical URL. Other SPDX ids are named by their
    id with their spdx.org page; unknown ``LicenseRef-`` ids get a generic description.
    """
    described = _describe(spdx_id)
    is_ref = spdx_id.startswith("LicenseRef-")
    if described is None:
        if is_spdx_id(spdx_id):
            return LicenseInfo(spdx_id, spdx_id, f"https://spdx.org/licenses/{spdx_id}.html", "")
        text = f"{spdx_id}: a license licrawl has no description of." if is_ref else ""
        return LicenseInfo(spdx_id, spdx_id, None, text)
    name, url = described
    if not is_ref:
        return LicenseInfo(spdx_id, name, url, "")
    text = _TEXTS.get(spdx_id) or (f"{name}, {url}" if url else f"{name}.")
    return LicenseInfo(spdx_id, name, url, text)
