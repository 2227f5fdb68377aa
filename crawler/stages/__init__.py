"""Batch stages over fetched pages and shards: ``process`` (WARC -> records), ``filter``;
the stage runner they share."""

DEFAULT_BATCH_ROWS = 1024  # rows a stage reads at a time per worker
