"""The types every stage shares: fetched page, evidence, record schema, error records.

Nothing here imports a heavy library (Scrapy, trafilatura, pyarrow, spdx-tools)."""
