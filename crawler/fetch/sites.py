"""What each host told us, fetched once per crawl: robots.txt and ``tdmrep.json``.

One :class:`SiteRegistry` per Scrapy crawler (see :func:`registry_for`) is shared by the
middlewares that fill and read it and by the pipeline that hands a host's
:class:`~crawler.site.context.SiteContext` to the workers with each page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from protego import Protego

from crawler.site.context import SiteContext

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """The signals of one host (``scheme://netloc``).

    ``robots`` is the parsed robots.txt (``None`` when the host has none: everything is
    allowed); ``robots_txt`` its text (for ``Sitemap:`` lines); ``crawl_delay`` the
    ``Crawl-delay`` for our user agent in seconds (0 when unset); ``context`` the
    site-level AI/TDM signals. ``unavailable`` says why robots.txt could not be read (a
    5xx or 429 answer, a network error or a timeout): then nothing is allowed (RFC 9309
    section 2.3.1.4).
    """

    robots: Protego | None
    crawl_delay: float
    context: SiteContext
    robots_txt: str | None = None
    unavailable: str | None = None

    def allowed(self, url: str, user_agent: str) -> bool:
        """Whether robots.txt lets ``user_agent`` fetch ``url`` (never when unavailable)."""
        if self.unavailable is not None:
            return False
        return self.robots is None or self.robots.can_fetch(url, user_agent)


def build_site_info(
    host: str,
    robots_txt: str | None,
    tdmrep_json: str | None,
    *,
    user_agent: str,
    max_crawl_delay: float,
    unavailable: str | None = None,
) -> SiteInfo:
    """Parse what a host served into a :class:`SiteInfo` for ``user_agent``.

    ``robots_txt`` is ``None`` when the host has no robots.txt, or when it could not be
    read: then ``unavailable`` says why.
    """
    robots = Protego.parse(robots_txt) if robots_txt is not None else None
    delay = 0.0
    if robots is not None:
        value = robots.crawl_delay(user_agent)
        if value is not None and value > 0:
            delay = min(float(value), max_crawl_delay)
    context = SiteContext.from_texts(host, robots_txt, tdmrep_json)
    return SiteInfo(robots=robots, crawl_delay=delay, context=context,
                    robots_txt=robots_txt, unavailable=unavailable)


#: Fetches a host's files and returns its :class:`SiteInfo` (given ``scheme://netloc``).
SiteFetcher = Callable[[str], Awaitable[SiteInfo]]


@dataclass(frozen=True, slots=True)
class SharedFailure:
    """A host whose robots.txt a process of the fleet found unavailable.

    ``refetches``: fetches made after the first failed one; ``retry_in``: seconds from now
    until the next fetch may start (``inf``: never); ``mine``: this process holds the
    host's claim and fetches it again now.
    """

    reason: str
    refetches: int
    retry_in: float
    tdmrep_json: str | None
    mine: bool = False


class SharedSites(Protocol):
    """What a crawl fleet shares of each host's robots.txt, so that the fleet fetches it
    once (:class:`crawler.fetch.fleet_crawl.FleetMember`)."""

    async def claim(self, origin: str) -> SiteInfo | SharedFailure | None:
        """Another process's result for ``origin`` (waiting while one fetches it), or
        ``None`` once this process holds the host's claim and is to fetch it first; a
        :class:`SharedFailure` with ``mine`` set when it is to fetch it again."""

    def read(self, origin: str, info: SiteInfo) -> None:
        """This process read ``origin``'s files: store them for the fleet."""

    def failed(self, origin: str, failure: SharedFailure) -> None:
        """This process found ``origin``'s robots.txt unavailable: tell the fleet."""

    def unclaim(self, origin: str) -> None:
        """This process is done fetching ``origin``'s files (its result is shared)."""


class SiteRegistry:
    """Known hosts of one crawl, keyed by ``scheme://netloc`` (lower-case)."""

    def __init__(self) -> None:
        self._sites: dict[str, SiteInfo] = {}
        #: Set by the site-signals middleware, the one place that fetches robots.txt.
        self.fetcher: SiteFetcher | None = None
        #: Set in a crawl fleet: robots.txt fetched once per host for the fleet.
        self.shared: SharedSites | None = None

    def get(self, origin: str) -> SiteInfo | None:
        """The host's :class:`SiteInfo`, or ``None`` when it has not been fetched yet."""
        return self._sites.get(origin.lower())

    def set(self, origin: str, info: SiteInfo) -> None:
        """Remember a host's signals for the rest of the crawl."""
        self._sites[origin.lower()] = info

    async def fetch(self, origin: str) -> SiteInfo | None:
        """The host's :class:`SiteInfo`, fetched on first use by :attr:`fetcher`.

        ``None`` when no fetcher is set (the site-signals middleware is not enabled) and
        the host is not known.
        """
        if self.fetcher is None:
            return self.get(origin)
        return await self.fetcher(origin)

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
