"""A detection function for crawl tests: the real ``inspect``, but the page whose URL ends
in ``BAD_SUFFIX`` gets a value the record schema refuses (a string confidence)."""

from __future__ import annotations

from typing import Any

from crawler.detect.inspect import inspect as real_inspect

BAD_SUFFIX = "/articles/meta"


def inspect(html: bytes, url: str | None = None, headers: Any = None,
            site_policy: Any = None, site: Any = None) -> dict[str, Any]:
    """``crawler.detect.inspect``, with one schema-breaking value for one page."""
    record = real_inspect(html, url=url, headers=headers, site_policy=site_policy, site=site)
    if url is not None and url.endswith(BAD_SUFFIX):
        record["license_confidence"] = "very high"
    return record
