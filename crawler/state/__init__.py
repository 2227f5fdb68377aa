"""The crawl state of scheduled jobs: per-URL observations across runs (see store)."""
