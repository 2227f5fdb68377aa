"""Open a job's crawl state wherever it is: a folder (SQLite, :class:`CrawlState`) or a
Redis URL (``redis://HOST:PORT/DB?name=JOB``, :class:`RedisCrawlState`, shared by a crawl
fleet). Both have the same methods; callers take either from :func:`open_state`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeAlias

from crawler.state.redis_store import DEFAULT_LEASE_TTL, check_redis_state, is_redis_location
from crawler.state.store import CrawlState
from crawler.state.store import check_state as check_folder

if TYPE_CHECKING:
    from crawler.state.redis_store import RedisCrawlState

__all__ = ["AnyState", "check_state", "is_redis_location", "open_state"]

#: A crawl state of either kind.
AnyState: TypeAlias = "CrawlState | RedisCrawlState"


def open_state(location: str | os.PathLike[str], run_id: str | None = None, *,
               lease_ttl: float = DEFAULT_LEASE_TTL) -> AnyState:
    """The state at ``location``, for run ``run_id`` (``None``: for reading). A Redis state's
    lock expires ``lease_ttl`` seconds after its run's last process stopped renewing it.
    Raises :class:`~crawler.state.store.StateError` /
    :class:`~crawler.state.store.StateLocked` as the state's constructor does."""
    if is_redis_location(location):
        from crawler.state.redis_store import RedisCrawlState

        return RedisCrawlState(str(location), run_id, lease_ttl=lease_ttl)
    return CrawlState(location, run_id)


def check_state(location: str | os.PathLike[str], run_id: str | None = None) -> None:
    """Whether a run (``run_id``, when known: a fleet's processes share their run's lock)
    could use the state now, taking nothing: see :func:`crawler.state.store.check_state`
    and :func:`crawler.state.redis_store.check_redis_state`."""
    if is_redis_location(location):
        check_redis_state(str(location), run_id)
    else:
        check_folder(location)
