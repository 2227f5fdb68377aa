"""The one worker-pool approach of every stage: pebble process pools on ``forkserver``.

``forkserver`` is safe beside the Twisted reactor's threads (a plain ``fork`` of a threaded
process is not) and cheaper than ``spawn`` for many workers: the fork server imports the
``preload`` modules once, and every worker (and every replacement of a worker killed after a
timeout or a crash) forks from it without importing them again. Programs that use a pool
need the usual ``if __name__ == "__main__":`` guard of the start method.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from typing import Any

from pebble import ProcessPool

DETECT_PRELOAD = ("crawler.stages.detect_server",)
"""What the fork server of detection workers imports (:mod:`crawler.stages.detect_server`)."""


def process_pool(workers: int, *, preload: Iterable[str] = (), max_tasks: int = 0,
                 initializer: Callable[..., Any] | None = None,
                 initargs: tuple[Any, ...] = ()) -> ProcessPool:
    """A pebble :class:`ProcessPool` of ``workers`` processes started by a fork server that
    has imported ``preload``; ``max_tasks`` recycles a worker after that many tasks (0:
    never)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return ProcessPool(max_workers=max(1, workers), max_tasks=max_tasks,
                       initializer=initializer, initargs=initargs, context=context)


def start_forkserver(preload: Iterable[str]) -> None:
    """Start the fork server now, importing ``preload``, without waiting for it.

    A program that will use a pool calls this before its own slow imports and set-up: the
    fork server imports ``preload`` on another core meanwhile, and the pool's first worker
    forks from it at once. A pool made later with the same ``preload`` uses this server (a
    running fork server is never replaced; its preload cannot change).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    from multiprocessing import forkserver

    forkserver.ensure_running()
