"""A small bundled web site of real-looking pages for ``licrawl serve-demo`` (offline)."""
