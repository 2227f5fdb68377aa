"""Batch stages over fetched pages and shards: ``process`` (WARC -> records), ``filter``;
the stage runner they share."""

from __future__ import annotations

from collections import Counter

DEFAULT_BATCH_ROWS = 1024  # rows a stage reads at a time per worker


def ranked(counter: Counter[str], limit: int | None = None) -> list[tuple[str, int]]:
    """``counter``'s items, most frequent first and equal counts by name, so a report never
    depends on the order rows came in."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]
