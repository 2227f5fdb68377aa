"""The SPDX license list and the shapes of the ids licrawl emits.

The list of real SPDX ids comes from license-expression's bundled ScanCode license index
(its ``spdx_license_key`` fields that are not ``LicenseRef-``). Creative Commons ids are
built from a type (``BY-SA``), a version (``3.0``) and an optional jurisdiction port
(``DE``): the SPDX id when the list has one, else a declared ``LicenseRef-CC-...`` of the
same shape. A CC license named without a version becomes ``LicenseRef-CC-<TYPE>-unversioned``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from license_expression import get_license_index

# Versions Creative Commons published for its licenses (2.1 exists only as ports).
CC_VERSIONS = frozenset({"1.0", "2.0", "2.1", "2.5", "3.0", "4.0"})

# Jurisdiction ports as they appear in creativecommons.org URLs (lower case) -> suffix.
_PORT_CODES = (
    "am", "ar", "at", "au", "az", "be", "bg", "br", "ca", "ch", "cl", "cn", "co", "cr", "cz",
    "de", "dk", "ec", "ee", "eg", "es", "fi", "fr", "ge", "gr", "gt", "hk", "hr", "hu", "ie",
    "igo", "il", "in", "it", "jo", "jp", "kr", "lu", "mk", "mt", "mx", "my", "nl", "no", "nz",
    "pe", "ph", "pl", "pr", "pt", "ro", "rs", "se", "sg", "si", "sk", "th", "tw", "ug", "uk",
    "us", "ve", "vn", "za",
)
CC_PORTS: dict[str, str] = {code: code.upper() for code in _PORT_CODES}
CC_PORTS["scotland"] = "SCOTLAND"

# Country names (several languages) -> port suffix, for license names in text. Names that
# are also common given names or US states (Georgia, Jordan, Israel, India) are left out: a
# credit such as "CC BY 2.0 Jordan Smith" must not become a port.
PORT_NAMES: dict[str, str] = {
    "deutschland": "DE", "germany": "DE", "allemagne": "DE", "alemania": "DE",
    "germania": "DE", "alemanha": "DE", "duitsland": "DE",
    "österreich": "AT", "oesterreich": "AT", "austria": "AT", "autriche": "AT",
    "oostenrijk": "AT", "áustria": "AT",
    "schweiz": "CH", "switzerland": "CH", "suisse": "CH", "svizzera": "CH", "suiza": "CH",
    "zwitserland": "CH", "suíça": "CH",
    "españa": "ES", "espana": "ES", "spain": "ES", "espagne": "ES", "spanien": "ES",
    "spagna": "ES", "espanha": "ES", "spanje": "ES",
    "france": "FR", "frankreich": "FR", "francia": "FR", "frança": "FR", "frankrijk": "FR",
    "italia": "IT", "italy": "IT", "italien": "IT", "italie": "IT", "itália": "IT",
    "italië": "IT",
    "nederland": "NL", "netherlands": "NL", "niederlande": "NL", "pays-bas": "NL",
    "países bajos": "NL", "paesi bassi": "NL", "holanda": "NL",
    "brasil": "BR", "brazil": "BR", "brasilien": "BR", "brésil": "BR", "brasile": "BR",
    "portugal": "PT",
    "usa": "US", "united states": "US", "estados unidos": "US", "vereinigte staaten": "US",
    "états-unis": "US", "stati uniti": "US", "verenigde staten": "US",
    "england and wales": "UK", "england & wales": "UK", "england und wales": "UK",
    "scotland": "SCOTLAND",
    "belgium": "BE", "belgië": "BE", "belgique": "BE", "belgien": "BE", "bélgica": "BE",
    "luxembourg": "LU", "luxemburg": "LU",
    "argentina": "AR", "chile": "CL", "colombia": "CO", "méxico": "MX", "mexico": "MX",
    "perú": "PE", "peru": "PE", "ecuador": "EC", "venezuela": "VE", "guatemala": "GT",
    "costa rica": "CR", "puerto rico": "PR",
    "japan": "JP", "japón": "JP", "japon": "JP", "giappone": "JP",
    "australia": "AU", "australien": "AU", "australie": "AU",
    "canada": "CA", "kanada": "CA", "new zealand": "NZ", "neuseeland": "NZ",
    "polska": "PL", "poland": "PL", "polen": "PL", "ireland": "IE", "irland": "IE",
    "greece": "GR", "griechenland": "GR", "czech republic": "CZ", "česko": "CZ",
    "croatia": "HR", "hrvatska": "HR", "denmark": "DK", "danmark": "DK", "dänemark": "DK",
    "sweden": "SE", "sverige": "SE", "schweden": "SE", "norway": "NO", "norge": "NO",
    "norwegen": "NO", "finland": "FI", "suomi": "FI", "finnland": "FI",
    "slovenia": "SI", "slovenija": "SI", "serbia": "RS", "srbija": "RS",
    "romania": "RO", "românia": "RO", "rumänien": "RO", "hungary": "HU",
    "magyarország": "HU", "ungarn": "HU", "hong kong": "HK",
    "taiwan": "TW", "china mainland": "CN", "china": "CN", "korea": "KR",
    "south korea": "KR", "singapore": "SG", "malaysia": "MY", "philippines": "PH",
    "south africa": "ZA", "uganda": "UG", "vietnam": "VN",
    "thailand": "TH", "bulgaria": "BG", "estonia": "EE", "macedonia": "MK", "malta": "MT",
    "egypt": "EG", "azerbaijan": "AZ", "slovakia": "SK",
    "armenia": "AM", "igo": "IGO",
}

# Human names of port suffixes, for LicenseInfo names ("... 3.0 Spain").
PORT_TITLES: dict[str, str] = {
    "AM": "Armenia", "AR": "Argentina", "AT": "Austria", "AU": "Australia",
    "AZ": "Azerbaijan", "BE": "Belgium", "BG": "Bulgaria", "BR": "Brazil", "CA": "Canada",
    "CH": "Switzerland", "CL": "Chile", "CN": "China Mainland", "CO": "Colombia",
    "CR": "Costa Rica", "CZ": "Czech Republic", "DE": "Germany", "DK": "Denmark",
    "EC": "Ecuador", "EE": "Estonia", "EG": "Egypt", "ES": "Spain", "FI": "Finland",
    "FR": "France", "GE": "Georgia", "GR": "Greece", "GT": "Guatemala", "HK": "Hong Kong",
    "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IGO": "IGO", "IL": "Israel",
    "IN": "India", "IT": "Italy", "JO": "Jordan", "JP": "Japan", "KR": "Korea",
    "LU": "Luxembourg", "MK": "Macedonia", "MT": "Malta", "MX": "Mexico", "MY": "Malaysia",
    "NL": "Netherlands", "NO": "Norway", "NZ": "New Zealand", "PE": "Peru",
    "PH": "Philippines", "PL": "Poland", "PR": "Puerto Rico", "PT": "Portugal",
    "RO": "Romania", "RS": "Serbia", "SCOTLAND": "Scotland", "SE": "Sweden",
    "SG": "Singapore", "SI": "Slovenia", "SK": "Slovakia", "TH": "Thailand", "TW": "Taiwan",
    "UG": "Uganda", "UK": "England and Wales", "US": "United States", "VE": "Venezuela",
    "VN": "Vietnam", "ZA": "South Africa",
}

# CC license elements in SPDX order; a type is a subset written in this order.
_CC_ELEMENTS = ("BY", "NC", "ND", "SA")
CC_TYPES = frozenset(
    {"BY", "BY-SA", "BY-ND", "BY-NC", "BY-NC-SA", "BY-NC-ND", "SA", "NC", "ND", "NC-SA",
     "NC-ND"}
)


def cc_type(elements: set[str] | frozenset[str]) -> str | None:
    """The CC type (``BY-NC-SA``) for a set of elements, ``None`` if no such license."""
    name = "-".join(e for e in _CC_ELEMENTS if e in elements)
    return name if name in CC_TYPES else None


@dataclass(frozen=True)
class _SpdxList:
    ids: dict[str, str]  # lower-case id or deprecated alias -> current SPDX id
    exceptions: frozenset[str]
    scancode_category: dict[str, str]  # SPDX id -> ScanCode category ("Permissive", ...)


@cache
def _spdx_list() -> _SpdxList:
    ids: dict[str, str] = {}
    exceptions: set[str] = set()
    categories: dict[str, str] = {}
    for entry in get_license_index():
        key = entry.get("spdx_license_key") or ""
        if not key or key.startswith("LicenseRef-"):
            continue
        if entry.get("is_exception"):
            exceptions.add(key)
        categories[key] = entry.get("category") or ""
        ids.setdefault(key.lower(), key)
        for alias in entry.get("other_spdx_license_keys") or ():
            if not alias.startswith("LicenseRef-"):
                ids.setdefault(alias.lower(), key)
    return _SpdxList(ids, frozenset(exceptions), categories)


def spdx_lookup(name: str) -> str | None:
    """The current SPDX id for an SPDX id or deprecated alias in any case, else ``None``."""
    return _spdx_list().ids.get(name.strip().lower())


def spdx_license_lookup(name: str) -> str | None:
    """:func:`spdx_lookup` for licenses only: an exception id (``Classpath-exception-2.0``)
    names no license (it only amends one, after ``WITH``) and gives ``None``."""
    found = spdx_lookup(name)
    return None if found in _spdx_list().exceptions else found


def is_spdx_id(name: str) -> bool:
    """True when ``name`` is exactly a current SPDX license or exception id."""
    return spdx_lookup(name) == name


def spdx_exceptions() -> frozenset[str]:
    """The SPDX license exception ids (``Classpath-exception-2.0``, ...)."""
    return _spdx_list().exceptions


def scancode_category(spdx_id: str) -> str:
    """ScanCode's category for an SPDX id (``Permissive``, ``Copyleft Limited``, ...) or ``""``."""
    return _spdx_list().scancode_category.get(spdx_id, "")


def spdx_symbols() -> list[tuple[str, list[str]]]:
    """Every SPDX id with its deprecated aliases, as ``(id, aliases)``."""
    grouped: dict[str, list[str]] = {}
    for alias, key in _spdx_list().ids.items():
        aliases = grouped.setdefault(key, [])
        if alias != key.lower():
            aliases.append(alias)
    return sorted(grouped.items())


def cc_id(ctype: str, version: str | None, port: str | None = None) -> str:
    """The id for a Creative Commons license: SPDX id if one exists, else a ``LicenseRef-``.

    ``ctype`` is a CC type such as ``BY-SA``; ``version`` like ``3.0`` or ``None`` when the
    source names no version; ``port`` a suffix from ``CC_PORTS`` or ``None`` for unported.
    """
    if version is None:
        return f"LicenseRef-CC-{ctype}-unversioned"
    base = f"CC-{ctype}-{version}" + (f"-{port}" if port else "")
    return base if is_spdx_id(base) else f"LicenseRef-{base}"


# Declared LicenseRef- ids other than the CC family, with their meaning.
PUBLIC_DOMAIN = "LicenseRef-PublicDomain"
ALL_RIGHTS_RESERVED = "LicenseRef-All-Rights-Reserved"
#: SPDX's word for "no license can be stated".
NOASSERTION = "NOASSERTION"
OGL_UK_UNVERSIONED = "LicenseRef-OGL-UK-unversioned"
OGL_CANADA_UNVERSIONED = "LicenseRef-OGL-Canada-unversioned"
OWFA_1_0 = "LicenseRef-OWFa-1.0"
APACHE_UNVERSIONED = "LicenseRef-Apache-unversioned"
W3C_DOCUMENT_2015 = "LicenseRef-W3C-Document-License-2015"
W3C_DOCUMENT_2023 = "LicenseRef-W3C-Document-License-2023"
W3C_SOFTWARE_2023 = "LicenseRef-W3C-Software-License-2023"
# Published by a W3C Community Group under its Contributor License Agreement.
W3C_COMMUNITY_CLA = "LicenseRef-W3C-Community-CLA"
# arXiv's perpetual, non-exclusive license to distribute: a license to arXiv only.
ARXIV_NONEXCLUSIVE_1_0 = "LicenseRef-arXiv-nonexclusive-distrib-1.0"
# The Code Project Open License, linked without its version (codeproject.com/info/cpol10.aspx).
CPOL_UNVERSIONED = "LicenseRef-CPOL-unversioned"

GNU_FAMILIES = ("GFDL", "GPL", "LGPL", "AGPL")


def gnu_unversioned(family: str) -> str:
    """``LicenseRef-GPL-unversioned`` style id for a GNU license named without a version."""
    return f"LicenseRef-{family}-unversioned"

