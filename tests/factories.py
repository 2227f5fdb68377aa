"""Test helpers that build valid document records (SPEC section 1) for any test to use."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit


def make_row(**overrides: Any) -> dict[str, Any]:
    """A valid record dict with every column of ``crawler.core.schema.record_schema()``.

    Keyword arguments replace columns. When ``text`` or ``url`` is overridden and ``id``,
    ``text_sha1`` or ``host`` are not, those derived columns are recomputed so the row stays
    consistent.
    """
    url = overrides.get("url", "https://example.org/articles/hello")
    text = overrides.get("text", "Hello world. This article is licensed under CC BY 4.0.")
    text_sha1 = hashlib.sha1(text.encode()).hexdigest()
    row: dict[str, Any] = {
        "id": hashlib.sha1(f"{url}\n{text_sha1}".encode()).hexdigest(),
        "url": url,
        "canonical_url": None,
        "host": (urlsplit(url).hostname or "").lower(),
        "fetched_at": datetime(2024, 5, 1, 12, 30, 0, tzinfo=UTC),
        "http_status": 200,
        "content_type": "text/html; charset=utf-8",
        "title": "Hello",
        "text": text,
        "lang": "en",
        "published": "2024-04-30",
        "authors": ["Jane Doe"],
        "copyright": "© 2024 Jane Doe",
        "license": "CC-BY-4.0",
        "license_category": "permissive",
        "license_confidence": 0.9,
        "license_conflict": False,
        "license_evidence": [
            {"kind": "rel-license", "value": "https://creativecommons.org/licenses/by/4.0/",
             "spdx": "CC-BY-4.0", "where": "main", "weight": 0.9},
        ],
        "attribution": '"Hello" by Jane Doe, https://example.org/articles/hello, CC BY 4.0',
        "tdm_reserved": False,
        "tdm_policy": None,
        "ai_optout": [],
        "text_sha1": text_sha1,
        "warc_file": "crawl-00001.warc.gz",
        "warc_record_id": "<urn:uuid:00000000-0000-4000-8000-000000000001>",
        "crawl_id": "test-crawl",
        # optional columns (schema 1.1, filled by licrawl dedup): null elsewhere
        "dup_cluster": None,
        "dup_count": None,
        "dup_licenses": None,
        "dup_license_conflict": None,
        "dup_urls": None,
    }
    row.update(overrides)
    return row
