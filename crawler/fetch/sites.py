"""What each host told us, fetched once per crawl: robots.txt and ``tdmrep.json``.

One :class:`SiteRegistry` per Scrapy crawler (see :func:`registry_for`) is shared by the
middlewares that fill and read it and by the pipeline that hands a host's
:class:`~crawler.site.context.SiteContext` to the workers with each page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from protego import Protego

from crawler.site.context import SiteContext

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """The signals of one host (``scheme://netloc``).

    ``robots`` is the parsed robots.txt (``None`` when there is none or it could not be
    fetched: everything is allowed); ``crawl_delay`` the ``Crawl-delay`` for our user
    agent in seconds (0 when unset); ``context`` the site-level AI/TDM signals.
    """

    robots: Protego | None
    crawl_delay: float
    context: SiteContext

    def allowed(self, url: str, user_agent: str) -> bool:
        """Whether robots.txt lets ``user_agent`` fetch ``url``."""
        return self.robots is None or self.robots.can_fetch(url, user_agent)


def build_site_info(
    host: str,
    robots_txt: str | None,
    tdmrep_json: str | None,
    *,
    user_agent: str,
    max_crawl_delay: float,
) -> SiteInfo:
    """Parse what a host served into a :class:`SiteInfo` for ``user_agent``."""
    robots = Protego.parse(robots_txt) if robots_txt is not None else None
    delay = 0.0
    if robots is not None:
        value = robots.crawl_delay(user_agent)
        if value is not None and value > 0:
            delay = min(float(value), max_crawl_delay)
    context = SiteContext.from_texts(host, robots_txt, tdmrep_json)
    return SiteInfo(robots=robots, crawl_delay=delay, context=context)


class SiteRegistry:
    """Known hosts of one crawl, keyed by ``scheme://netloc`` (lower-case)."""

    def __init__(self) -> None:
        self._sites: dict[str, SiteInfo] = {}

    def get(self, origin: str) -> SiteInfo | None:
        """The host's :class:`SiteInfo`, or ``None`` when it has not been fetched yet."""
        return self._sites.get(origin.lower())

    def set(self, origin: str, info: SiteInfo) -> None:
        """Remember a host's signals for the rest of the crawl."""
        self._sites[origin.lower()] = info

    def __len__(self) -> int:
        return len(self._sites)


_REGISTRIES: WeakKeyDictionary[Crawler, SiteRegistry] = WeakKeyDictionary()


def registry_for(crawler: Crawler) -> SiteRegistry:
    """The :class:`SiteRegistry` of ``crawler``, created on first use."""
    registry = _REGISTRIES.get(crawler)
    if registry is None:
        registry = _REGISTRIES[crawler] = SiteRegistry()
    return registry


def origin_of(url: str) -> str:
    """``scheme://netloc`` of ``url``, lower-case: the registry key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
