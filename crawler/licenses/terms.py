"""What a license asks of someone who reuses the work, in plain words, and its short name.

The wording comes from the license's SPDX id and category (SPEC §3): Creative Commons
licenses by their elements (BY: credit, link the license, indicate changes; SA: share
alike; NC: no commercial use; ND: no adaptations), the GNU family by its copyleft, other
ids by their category. ``A OR B`` offers a choice, ``A AND B`` asks for both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.licenses.categories import category, id_category
from crawler.licenses.expressions import expression_ids, or_terms
from crawler.licenses.ids import ALL_RIGHTS_RESERVED
from crawler.licenses.info import license_info

NOASSERTION = "NOASSERTION"
_CC = re.compile(r"^(?:LicenseRef-)?CC-(?P<type>[A-Z-]+?)-"
                 r"(?:(?P<version>\d\.\d)(?:-(?P<port>[A-Z]+))?|unversioned)$")
_CC_CONDITIONS = (
    ("BY", "credit the author, link the license, indicate changes"),
    ("SA", "share alike (adaptations under the same license)"),
    ("NC", "no commercial use"),
    ("ND", "no adaptations: share only unchanged copies"),
)
_BY_CATEGORY = {
    "public-domain": "no conditions (crediting the source is still good practice)",
    "permissive": "keep the copyright notice and the license terms with the copy",
    "copyleft": "keep the copyright notice and the license, share adaptations under the "
                "same license",
    "noncommercial": "keep the notice, no commercial use",
    "no-derivatives": "keep the notice, no adaptations: share only unchanged copies",
    "reserved": "not licensed for reuse",
}


@dataclass(frozen=True)
class LicenseTerms:
    """``name``: short readable name of the expression (``CC BY-SA 4.0``); ``category``;
    ``conditions``: what reuse asks, in plain words; ``licensed``: whether any license to
    reuse is granted."""

    name: str
    category: str
    conditions: str
    licensed: bool


def short_name(spdx_id: str) -> str:
    """A short readable name of one id: ``CC BY-SA 4.0``, ``CC BY 3.0 DE``, or the
    license's full name."""
    match = _CC.match(spdx_id)
    if match and match["type"] not in ("PDDC", "PDM"):
        version = match["version"] or "(version not stated)"
        port = f" {match['port']}" if match["port"] else ""
        return f"CC {match['type']} {version}{port}"
    if spdx_id == NOASSERTION:
        return "license unknown (NOASSERTION)"
    return license_info(spdx_id).name


def _id_conditions(spdx_id: str) -> str:
    match = _CC.match(spdx_id)
    if match and match["type"] not in ("PDDC", "PDM"):
        elements = set(match["type"].split("-"))
        return ", ".join(text for element, text in _CC_CONDITIONS if element in elements)
    return _BY_CATEGORY.get(id_category(spdx_id), "check its terms before reuse")


def license_terms(expression: str | None) -> LicenseTerms:
    """The terms of an SPDX license expression (``NOASSERTION`` or empty: unknown; an
    invalid expression: named as written, terms unknown)."""
    expr = (expression or "").strip() or NOASSERTION
    if expr.upper() in (NOASSERTION, "NONE"):
        return LicenseTerms("license unknown (NOASSERTION)", "unknown",
                            "no license is known; treat it as not licensed for reuse", False)
    try:
        ids = expression_ids(expr)
        alternatives = or_terms(expr)
        cat = category(expr)
    except ValueError:
        return LicenseTerms(expr, "unknown", "not a valid license expression: check the "
                            "source's terms before reuse", False)
    name = re.sub(r"[^\s()]+", lambda m: short_name(m[0]) if m[0] in ids else m[0], expr)
    if ids == [ALL_RIGHTS_RESERVED]:
        return LicenseTerms("All rights reserved", "reserved", "not licensed for reuse", False)
    if len(ids) == 1:
        return LicenseTerms(name, cat, _id_conditions(ids[0]), cat != "unknown")
    if len(alternatives) > 1:
        choices = "; or ".join(f"{terms.name}: {terms.conditions}"
                               for terms in map(license_terms, alternatives))
        return LicenseTerms(name, cat, f"choose one: {choices}", cat != "reserved")
    parts = dict.fromkeys(_id_conditions(i) for i in ids)
    return LicenseTerms(name, cat, "all of: " + "; ".join(parts), cat not in ("reserved",
                                                                               "unknown"))
