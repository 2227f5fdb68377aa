"""License identifiers: URL and phrase to SPDX, categories, expressions, policy checks.

Public API (pure functions, no HTML parsing):

* :func:`spdx_from_url`, :func:`spdx_from_badge`: license URL / CC badge image -> id;
  :func:`names_license_host`: a cheap pre-check before resolving a link
* :func:`spdx_from_name`, :func:`find_license_mentions`, :class:`Mention`: names in text
* :func:`category`, :data:`CATEGORY_ORDER`, :func:`more_restrictive`: SPEC §3 categories
* :func:`normalize_expression`, :func:`expression_ids`, :func:`or_terms`,
  :func:`license_refs`: SPDX expressions (one parser: :mod:`crawler.licenses.expressions`)
* :func:`license_info`, :class:`LicenseInfo`: name, URL, extracted text of an id
* :func:`expression_allowed`: filter policy check

See :mod:`crawler.licenses.urls` for URL normalization and :mod:`crawler.licenses.names`
for the name grammar.
"""

from crawler.licenses.allow import expression_allowed
from crawler.licenses.categories import CATEGORY_ORDER, category, more_restrictive
from crawler.licenses.expressions import (
    expression_ids,
    license_refs,
    normalize_expression,
    or_terms,
)
from crawler.licenses.info import LicenseInfo, license_info
from crawler.licenses.names import Mention, find_license_mentions, spdx_from_name
from crawler.licenses.urls import names_license_host, spdx_from_badge, spdx_from_url

__all__ = [
    "CATEGORY_ORDER",
    "LicenseInfo",
    "Mention",
    "category",
    "expression_allowed",
    "expression_ids",
    "find_license_mentions",
    "license_info",
    "license_refs",
    "more_restrictive",
    "names_license_host",
    "normalize_expression",
    "or_terms",
    "spdx_from_badge",
    "spdx_from_name",
    "spdx_from_url",
]
