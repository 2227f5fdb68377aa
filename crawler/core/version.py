"""licrawl's version, in one place (the WARC writer and the user agent name it)."""

__version__ = "0.1.0"
