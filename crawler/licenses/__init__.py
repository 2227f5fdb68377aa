"""License identifiers: URL and phrase to SPDX, categories, and the resolver."""
