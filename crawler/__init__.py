"""licrawl: a corpus license-tracking crawler.

The public entry point for detection is :func:`inspect`: one fetched page in, one record
(license, authors, opt-outs, each with evidence) out.
"""

from crawler.inspect import inspect

__all__ = ["inspect"]
__version__ = "0.1.0"
