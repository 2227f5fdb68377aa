"""The detection workers' side of :class:`~crawler.stages.process.PageProcessor`.

What runs in a worker process: its start-up (:func:`init_worker`) and its task
(:func:`detect_page`: :func:`crawler.detect.inspect` and
:func:`crawler.core.records.build_row` on one page). Kept apart from
:mod:`crawler.stages.process` so that a worker loads detection and the record helpers
only: the parent side's shard writer, SPDX and WARC modules (pyarrow, spdx-tools, warcio)
are not imported into every worker (half a second of CPU each, at the start of every
crawl). Light itself (detection is imported by :func:`init_worker`), so the parent can
name these functions without loading detection; the fork server preloads both
(:mod:`crawler.stages.detect_server`).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crawler.core.errors import ErrorRecord
from crawler.core.page import FetchedPage
from crawler.core.records import build_row
from crawler.site.context import SiteContext
from crawler.site.user_policy import SitePolicy

InspectFn = Callable[..., dict[str, Any]]
"""A detection function with :func:`crawler.detect.inspect`'s signature."""

Result = dict[str, Any] | ErrorRecord
"""What a page becomes: its row, or the error record saying why there is none."""


@dataclass(frozen=True)
class _WorkerState:
    inspect: InspectFn
    inspect_error: type[Exception]
    site_policy: SitePolicy | None
    crawl_id: str


_STATE: _WorkerState | None = None


def init_worker(inspect_fn: InspectFn | None, site_policy: SitePolicy | None,
                crawl_id: str) -> None:
    """Worker start-up: keep the run's detection function and settings.

    Ctrl-C in a terminal signals the whole process group; workers ignore SIGINT so that
    the pages in flight finish and become rows while the crawl drains and stops.
    """
    global _STATE
    from crawler.detect.inspect import InspectError, inspect

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STATE = _WorkerState(inspect_fn or inspect, InspectError, site_policy, crawl_id)


def error_record(page: FetchedPage, stage: str, reason: str, detail: str,
                 crawl_id: str | None) -> ErrorRecord:
    """The error record of ``page`` (its URL, status, time and WARC record) for ``stage``."""
    return ErrorRecord(url=page.url, stage=stage, reason=reason, detail=detail,
                       http_status=page.status, fetched_at=page.fetched_at,
                       warc_file=page.warc_file, warc_record_id=page.warc_record_id,
                       crawl_id=crawl_id)


def ready() -> None:
    """A task that does nothing: its answer says the pool's workers are up."""


def detect_page(page: FetchedPage, site: SiteContext | None) -> Result:
    """The worker task: inspect one page and build its row (or say why not)."""
    state = _STATE
    assert state is not None, "worker not initialised"
    try:
        result = state.inspect(page.body, url=page.url, headers=page.headers,
                               site_policy=state.site_policy, site=site)
        if not result.get("text"):
            return error_record(page, "extract", "no-main-text", "", state.crawl_id)
        return build_row(page, result, crawl_id=state.crawl_id)
    except state.inspect_error as exc:
        return error_record(page, "decode", "not-a-page", str(exc), state.crawl_id)
    except Exception as exc:  # any bug in detection costs one page, never the run
        return error_record(page, "inspect", "exception", f"{type(exc).__name__}: {exc}",
                            state.crawl_id)
