"""What the fork server of the detection workers loads before it forks any worker.

Imported by the fork server only (``preload`` of :func:`crawler.stages.pool.process_pool`):
the worker side of the pool (:mod:`crawler.stages.detect_task`, pebble's worker loop), the
detection modules, and the state they would otherwise build on a worker's first page
(py3langid's language model: 0.6 s of CPU), so every worker, and every replacement of a
worker killed after a timeout or a crash, starts ready and imports nothing. What is loaded
by then is moved out of the cyclic garbage collector's sight (``gc.freeze``): a worker's
full collections then skip the modules' objects (about 1% of its time), and do not write
to the memory it shares with the fork server.
"""

from __future__ import annotations

import gc

import pebble.pool.process  # noqa: F401 - the worker loop each worker runs

import crawler.stages.detect_task  # noqa: F401 - each worker's start-up and task
from crawler.detect.inspect import warm_up

warm_up()
gc.freeze()
