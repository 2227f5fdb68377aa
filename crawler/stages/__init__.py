"""Batch stages over fetched pages and shards: ``process`` (WARC -> records), ``filter``;
the stage runner they share."""
