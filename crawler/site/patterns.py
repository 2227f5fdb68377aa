"""URL path patterns as robots.txt (RFC 9309) and TDMRep write them: ``*`` and ``$``."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

__all__ = ["compile_pattern", "url_path"]


def url_path(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return unquote(path + (f"?{parts.query}" if parts.query else ""))


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """RFC 9309 path pattern: prefix match, ``*`` any run, trailing ``$`` end of path."""
    pattern = unquote(pattern)
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(piece) for piece in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""), re.DOTALL)
