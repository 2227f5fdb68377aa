"""A detection function that does no detection, for ``bench/bench_crawl.py --free-detection``.

It returns a valid record for any page at once, so a crawl run with it
(``LICRAWL_INSPECT_FN=noop_inspect.inspect``, ``bench/`` on ``PYTHONPATH``) shows how fast
the crawl process itself can go when detection costs nothing: the ceiling that more cores
for the detection workers would give.
"""

from __future__ import annotations

import hashlib
from typing import Any


def inspect(html: bytes, url: str | None = None, headers: Any = None,
            site_policy: Any = None, site: Any = None) -> dict[str, Any]:
    """A record with the page's URL as its text and nothing detected."""
    text = f"page {url}"
    return {"title": None, "text": text, "lang": None, "published": None, "authors": [],
            "copyright": None, "license": "NOASSERTION", "license_category": "unknown",
            "license_confidence": 0.0, "license_conflict": False, "license_evidence": [],
            "attribution": text, "tdm_reserved": None, "tdm_policy": None, "ai_optout": [],
            "text_sha1": hashlib.sha1(text.encode()).hexdigest(), "canonical_url": None}
