"""License categories (SPEC §3) for ids and whole expressions.

A single id is categorized by its family (Creative Commons type, GNU, OGL, W3C, our declared
``LicenseRef-`` ids), then by ScanCode's category in license-expression's bundled index
(``Permissive``, ``Public Domain``, ``Copyleft``, ``Copyleft Limited``); anything else,
``NOASSERTION`` and unrecognised ``LicenseRef-`` ids are ``unknown``. Compound expressions:
``A OR B`` takes the more open category, ``A AND B`` the more restrictive, ``A WITH E`` the
category of ``A``.
"""

from __future__ import annotations

import re

from license_expression import LicenseExpression

from crawler.licenses.expressions import SPECIAL, base_key, is_and, is_or, parse
from crawler.licenses.ids import (
    ALL_RIGHTS_RESERVED,
    APACHE_UNVERSIONED,
    ARXIV_NONEXCLUSIVE_1_0,
    CC_TYPES,
    CC_VERSIONS,
    GNU_FAMILIES,
    OGL_CANADA_UNVERSIONED,
    OGL_UK_UNVERSIONED,
    OWFA_1_0,
    PORT_TITLES,
    PUBLIC_DOMAIN,
    W3C_DOCUMENT_2015,
    W3C_DOCUMENT_2023,
    W3C_SOFTWARE_2023,
    is_spdx_id,
    scancode_category,
)

CATEGORY_ORDER: tuple[str, ...] = (
    "public-domain",
    "permissive",
    "copyleft",
    "noncommercial",
    "no-derivatives",
    "reserved",
    "unknown",
)
_RANK = {name: rank for rank, name in enumerate(CATEGORY_ORDER)}

_CC = re.compile(
    r"^(?P<ref>LicenseRef-)?CC-(?P<type>[A-Z-]+?)-"
    r"(?:(?P<version>\d\.\d)(?:-(?P<port>[A-Z]+))?|(?P<unversioned>unversioned))$"
)
_GNU_REF = re.compile(rf"^LicenseRef-(?:{'|'.join(GNU_FAMILIES)})-unversioned$")
_FIXED: dict[str, str] = {
    PUBLIC_DOMAIN: "public-domain",
    "CC0-1.0": "public-domain",
    "CC-PDM-1.0": "public-domain",
    "CC-PDDC": "public-domain",
    "PDDL-1.0": "public-domain",
    "Unlicense": "public-domain",
    ALL_RIGHTS_RESERVED: "reserved",
    # grants arXiv the right to distribute, nobody else anything
    ARXIV_NONEXCLUSIVE_1_0: "reserved",
    OGL_UK_UNVERSIONED: "permissive",
    OGL_CANADA_UNVERSIONED: "permissive",
    OWFA_1_0: "permissive",
    W3C_SOFTWARE_2023: "permissive",
    APACHE_UNVERSIONED: "permissive",
    W3C_DOCUMENT_2015: "no-derivatives",
    W3C_DOCUMENT_2023: "no-derivatives",
    "ODbL-1.0": "copyleft",
}
_SCANCODE = {
    "Public Domain": "public-domain",
    "Permissive": "permissive",
    "Copyleft": "copyleft",
    "Copyleft Limited": "copyleft",
}


def cc_type_category(ctype: str) -> str:
    """Category of a CC type such as ``BY-NC-SA``."""
    elements = set(ctype.split("-"))
    if "ND" in elements:
        return "no-derivatives"
    if "NC" in elements:
        return "noncommercial"
    if "SA" in elements:
        return "copyleft"
    return "permissive"


def _cc_category(spdx_id: str) -> str | None:
    match = _CC.match(spdx_id)
    if not match or match["type"] not in CC_TYPES:
        return None
    if match["ref"] is None:
        return cc_type_category(match["type"]) if is_spdx_id(spdx_id) else None
    if match["unversioned"] is None and (
        match["version"] not in CC_VERSIONS
        or (match["port"] is not None and match["port"] not in PORT_TITLES)
    ):
        return None
    return cc_type_category(match["type"])


def id_category(spdx_id: str) -> str:
    """Category of one license id (no operators)."""
    if spdx_id in _FIXED:
        return _FIXED[spdx_id]
    cc = _cc_category(spdx_id)
    if cc is not None:
        return cc
    if _GNU_REF.match(spdx_id):
        return "copyleft"
    if not is_spdx_id(spdx_id):
        return "unknown"
    if spdx_id.startswith(("GFDL-", "GPL-", "LGPL-", "AGPL-")):
        return "copyleft"
    if spdx_id.startswith(("OGL-", "W3C")):
        return "permissive"
    return _SCANCODE.get(scancode_category(spdx_id), "unknown")


def _node_category(node: LicenseExpression) -> str:
    if is_or(node):
        return min((_node_category(a) for a in node.args), key=_RANK.__getitem__)
    if is_and(node):
        return max((_node_category(a) for a in node.args), key=_RANK.__getitem__)
    return id_category(base_key(node))


def category(expr: str) -> str:
    """The SPEC §3 category of an SPDX expression (``unknown`` for NOASSERTION).

    ``A OR B``: the more open of the terms; ``A AND B``: the more restrictive; ``A WITH E``:
    the base license's. Raises ``ValueError`` for an invalid expression.
    """
    if expr.strip().upper() in SPECIAL:
        return "unknown"
    return _node_category(parse(expr))


def more_restrictive(a: str, b: str) -> str:
    """The more restrictive of two expressions by category; ``a`` on a tie."""
    return b if _RANK[category(b)] > _RANK[category(a)] else a
