"""licrawl: a corpus license-tracking crawler.

The public entry point for detection is :func:`inspect` (``crawler.detect.inspect``): one
fetched page in, one record (license, authors, opt-outs, each with evidence) out. It is
loaded on first use, so ``import crawler`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.core.version import __version__

if TYPE_CHECKING:
    from crawler.detect.inspect import inspect

__all__ = ["__version__", "inspect"]


def __getattr__(name: str) -> Any:
    """Load :func:`inspect` lazily (it pulls in trafilatura, lxml and extruct)."""
    if name == "inspect":
        from crawler.detect.inspect import inspect

        return inspect
    raise AttributeError(f"module 'crawler' has no attribute {name!r}")
