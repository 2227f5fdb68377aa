"""SPDX license expressions: the project's one parser, normalization, ids and alternatives.

Every piece of licrawl that reads an expression goes through :func:`parse` (cached): the
SPDX document of a shard (which takes the ``LicenseExpression`` objects as they are), the
categories, the filter policy, the attribution line; nothing splits expression strings by
hand.

license-expression's ``get_spdx_licensing()`` maps some ``LicenseRef-`` ids onto ScanCode
aliases (``LicenseRef-PublicDomain`` becomes ``LicenseRef-scancode-public-domain``). We
build our own ``Licensing`` from the same bundled index with only the real SPDX ids and
their deprecated SPDX aliases (``GPL-2.0`` -> ``GPL-2.0-only``), so every ``LicenseRef-``
passes through unchanged and SPDX ids are put in their canonical case.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseExpression,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    Licensing,
)

from crawler.licenses.ids import spdx_exceptions, spdx_symbols

SPECIAL = frozenset({"NOASSERTION", "NONE"})
_REF = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$")


@cache
def licensing() -> Licensing:
    """The shared ``Licensing``: SPDX ids and exceptions with their deprecated aliases."""
    exceptions = spdx_exceptions()
    symbols = [
        LicenseSymbol(key, aliases=tuple(aliases), is_exception=key in exceptions)
        for key, aliases in spdx_symbols()
    ]
    return Licensing(symbols)


def _check_symbol(symbol: LicenseSymbol, known: dict[str, LicenseSymbol]) -> None:
    key = symbol.key
    if key in known or _REF.match(key):
        return
    if key.upper() in SPECIAL:
        raise ValueError(f"{key} cannot be combined with other licenses")
    raise ValueError(f"unknown license id {key!r} (not an SPDX id, not a LicenseRef-)")


@lru_cache(maxsize=4096)
def parse(expr: str) -> LicenseExpression:
    """Parse an SPDX expression; ``ValueError`` for syntax errors or unknown ids.

    Licenses are SPDX ids or ``LicenseRef-`` ids; the exception after ``WITH`` must be on
    the SPDX exception list (SPDX 2.3 has no user-defined exceptions). ``NOASSERTION``/
    ``NONE`` are not accepted here (see :func:`normalize_expression`).
    """
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError(f"empty license expression: {expr!r}")
    lic = licensing()
    try:
        parsed = lic.parse(expr, simple=False)
    except ExpressionError as exc:
        raise ValueError(f"invalid license expression {expr!r}: {exc}") from exc
    if parsed is None:
        raise ValueError(f"empty license expression: {expr!r}")
    known = lic.known_symbols
    for symbol in lic.license_symbols(parsed, unique=True, decompose=True):
        _check_symbol(symbol, known)
    for node in _walk(parsed):
        license_key = node.key if isinstance(node, LicenseSymbol) else None
        if isinstance(node, LicenseWithExceptionSymbol):
            license_key = node.license_symbol.key
            exception = node.exception_symbol.key
            if exception not in spdx_exceptions():  # SPDX 2.3 has no LicenseRef- exceptions
                raise ValueError(f"{exception!r} in {expr!r} is not an SPDX license exception")
        if license_key in spdx_exceptions():
            raise ValueError(f"{license_key!r} in {expr!r} is an exception, not a license")
    return parsed


def _walk(node: LicenseExpression):
    yield node
    for arg in getattr(node, "args", ()):
        yield from _walk(arg)


def normalize_expression(expr: str) -> str:
    """The normalized SPDX expression string for ``expr``.

    SPDX ids get their canonical case (``mit`` -> ``MIT``), deprecated ids their current
    form (``GPL-2.0`` -> ``GPL-2.0-only``), operators upper case, redundant parentheses
    removed; ``LicenseRef-`` ids are kept as written. ``NOASSERTION`` and ``NONE`` are
    returned upper case. Raises ``ValueError`` with the reason for invalid input (syntax
    error, unknown id, exception used as a license or vice versa).
    """
    if isinstance(expr, str) and expr.strip().upper() in SPECIAL:
        return expr.strip().upper()
    return parse(expr).render()


def expression_ids(expr: str) -> list[str]:
    """The license and exception ids of ``expr``, each occurrence, in order of appearance.

    ``"MIT OR (Apache-2.0 WITH LLVM-exception)"`` gives ``["MIT", "Apache-2.0",
    "LLVM-exception"]``, in their normalized form; ``NOASSERTION``/``NONE`` give themselves.
    Raises ``ValueError`` for an invalid expression.
    """
    if isinstance(expr, str) and expr.strip().upper() in SPECIAL:
        return [expr.strip().upper()]
    return [s.key for s in licensing().license_symbols(parse(expr), unique=False,
                                                       decompose=True)]


def or_terms(expr: str) -> list[str]:
    """The alternatives of ``expr``: its top-level ``OR`` terms, each rendered normalized.

    ``"MIT OR (GPL-2.0-only AND LicenseRef-X)"`` gives ``["MIT", "GPL-2.0-only AND
    LicenseRef-X"]``; nested alternatives are flattened (``"(MIT OR X11) OR 0BSD"`` gives
    three terms); an expression that is not an ``OR`` (``NOASSERTION`` included) gives
    itself, normalized. Raises ``ValueError`` for an invalid expression.
    """
    if isinstance(expr, str) and expr.strip().upper() in SPECIAL:
        return [expr.strip().upper()]
    return [node.render() for node in _alternatives(parse(expr))]


def _alternatives(node: LicenseExpression) -> list[LicenseExpression]:
    if is_or(node):
        return [term for arg in node.args for term in _alternatives(arg)]
    return [node]


def license_refs(expr: str) -> list[str]:
    """The ``LicenseRef-`` ids in ``expr``, first seen first."""
    if isinstance(expr, str) and expr.strip().upper() in SPECIAL:
        return []
    refs: list[str] = []
    for symbol in licensing().license_symbols(parse(expr), unique=True, decompose=True):
        if symbol.key.startswith("LicenseRef-") and symbol.key not in refs:
            refs.append(symbol.key)
    return refs


def is_and(node: LicenseExpression) -> bool:
    """True for an ``A AND B`` node."""
    return isinstance(node, AND)


def is_or(node: LicenseExpression) -> bool:
    """True for an ``A OR B`` node."""
    return isinstance(node, OR)


def base_key(node: LicenseExpression) -> str:
    """The license id of a leaf (the base license of ``A WITH E``)."""
    if isinstance(node, LicenseWithExceptionSymbol):
        return node.license_symbol.key
    return node.key
