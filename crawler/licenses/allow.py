"""Does a license expression satisfy a filter policy (allowed categories and ids)?"""

from __future__ import annotations

from license_expression import LicenseExpression

from crawler.licenses.categories import id_category
from crawler.licenses.expressions import SPECIAL, base_key, is_and, is_or, parse


def _allowed(
    node: LicenseExpression,
    categories: set[str] | None,
    allowed_ids: set[str] | None,
    denied_ids: set[str] | None,
) -> bool:
    if is_or(node):
        return any(_allowed(a, categories, allowed_ids, denied_ids) for a in node.args)
    if is_and(node):
        return all(_allowed(a, categories, allowed_ids, denied_ids) for a in node.args)
    key = base_key(node)
    if denied_ids and key in denied_ids:
        return False
    if allowed_ids and key in allowed_ids:
        return True
    return bool(categories) and id_category(key) in categories


def expression_allowed(
    expr: str,
    *,
    categories: set[str] | None,
    allowed_ids: set[str] | None,
    denied_ids: set[str] | None,
) -> bool:
    """True when ``expr`` satisfies the policy.

    One id passes when it is not in ``denied_ids`` and either its category is in
    ``categories`` or it is in ``allowed_ids`` (ids are compared in their normalized SPDX
    form). ``A OR B`` passes when any alternative passes, ``A AND B`` when all do, ``A WITH
    E`` as its base license. ``NOASSERTION``/``NONE`` never pass. Raises ``ValueError`` for
    an invalid expression.
    """
    if expr.strip().upper() in SPECIAL:
        return False
    return _allowed(
        parse(expr),
        categories,
        _normalized(allowed_ids),
        _normalized(denied_ids),
    )


def _normalized(ids: set[str] | None) -> set[str] | None:
    """Policy ids in the form the parser gives them (``mit`` -> ``MIT``)."""
    if not ids:
        return ids
    return {base_key(parse(i)) if i.strip().upper() not in SPECIAL else i for i in ids}
