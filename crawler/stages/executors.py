"""Where a batch stage's tasks run: this machine's process pool, or a Ray cluster.

Every stage (``process``, ``filter``, ``dedup``, ``index``) cuts its work into picklable
tasks (WARC files or byte ranges of them, groups of input shards, index shards) and hands
them to one :class:`Executor`, which runs ``fn(task)`` for each and gives the results back
in task order. :class:`LocalExecutor` is the stages' process pool
(:func:`crawler.stages.pool.process_pool`, or this process for one worker);
:class:`RayExecutor` submits each task as a Ray task (``max_retries``: a task whose worker
dies is run again) on a cluster at ``address`` (``--ray-address``, else ``RAY_ADDRESS``),
or on a local Ray instance started for the run. Tasks write only below the run's
temporary output folder, under names that belong to the task, so a retried task first
removes what an earlier attempt left (:func:`clear_task_files`) and the output is the same
whichever worker ran which task, and however often.

Ray is an optional dependency (``pip install 'licrawl[ray]'``), imported only here and only
when a :class:`RayExecutor` is made.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from crawler.stages.pool import process_pool

EXECUTORS = ("local", "ray")
DEFAULT_MAX_RETRIES = 3  # Ray attempts after the first, for a task whose worker died
#: How long a failed run waits for the tasks it cancelled to end (force-cancelled: their
#: workers killed) before its caller removes what they were writing into.
CANCEL_SETTLE_SECONDS = 60.0


class ExecutorError(Exception):
    """An executor that cannot be used (Ray missing, cluster unreachable)."""


class Executor(Protocol):
    """Runs a stage's tasks: ``map`` gives ``fn(item)`` for each item, in item order."""

    name: str

    def default_workers(self) -> int:
        """Tasks that run at once when the stage is not told (CPUs here or in the cluster)."""

    def map(self, fn: Callable[[Any], Any], items: list[Any], workers: int,
            on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
        """``fn(item)`` for every item; results in item order, ``on_done(index, result)``
        called for each in item order as soon as it and every earlier one are done."""

    def close(self) -> None:
        """Release what the executor holds (a Ray instance it started)."""


class LocalExecutor:
    """This machine: ``workers`` processes of the stages' pool (``1``: this process)."""

    name = "local"

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs

    def default_workers(self) -> int:
        """``jobs``, else one per CPU."""
        return self.jobs or os.cpu_count() or 1

    def map(self, fn: Callable[[Any], Any], items: list[Any], workers: int,
            on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
        """See :class:`Executor`."""
        done = on_done or (lambda i, r: None)
        results: list[Any] = []
        if workers <= 1:
            for i, item in enumerate(items):
                results.append(fn(item))
                done(i, results[-1])
            return results
        pool = process_pool(workers, preload=["crawler.stages.runner"])
        try:
            futures = [pool.schedule(fn, args=(item,)) for item in items]
            for i, future in enumerate(futures):
                results.append(future.result())
                done(i, results[-1])
        except BaseException:
            pool.stop()
            pool.join()
            raise
        pool.close()
        pool.join()
        return results

    def close(self) -> None:
        """Nothing to release."""


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ExecutorError("--executor ray needs Ray, which is not installed: "
                            "pip install 'licrawl[ray]'") from exc
    return ray


class RayExecutor:
    """A Ray cluster: each item is one Ray task of ``num_cpus=1``.

    ``address`` (else ``RAY_ADDRESS``) connects to a running cluster; without either a
    local Ray instance with ``num_cpus`` CPUs (default: this machine's) is started, and
    stopped by :meth:`close`. Every node must see the run's input and output paths (a
    shared file system) and have licrawl installed. ``max_retries`` re-runs a task whose
    worker process died; an exception raised by a task fails the run (it would fail
    again). ``say`` gets one line when the cluster is up (how long the start took).
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None,
                 max_retries: int = DEFAULT_MAX_RETRIES,
                 say: Callable[[str], None] | None = None) -> None:
        ray = _import_ray()
        self._ray = ray
        self.max_retries = max_retries
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        started = time.monotonic()
        self._owned = not ray.is_initialized()
        if self._owned:
            try:
                if self.address:
                    ray.init(address=self.address, log_to_driver=True,
                             configure_logging=False)
                else:
                    ray.init(num_cpus=num_cpus or os.cpu_count() or 1,
                             include_dashboard=False, log_to_driver=True,
                             configure_logging=False)
            except Exception as exc:  # ConnectionError, RuntimeError, ... from ray.init
                where = self.address or "a local Ray instance"
                raise ExecutorError(f"cannot start or reach {where}: {exc}") from exc
        self.start_seconds = time.monotonic() - started
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        if say is not None:
            how = f"connected to {self.address}" if self.address else "local instance started"
            say(f"ray: {how} in {self.start_seconds:.1f}s, {self.cpus} CPUs")

    def default_workers(self) -> int:
        """The cluster's CPUs."""
        return self.cpus

    def map(self, fn: Callable[[Any], Any], items: list[Any], workers: int,
            on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
        """See :class:`Executor`; ``workers`` is left to the cluster's scheduler."""
        ray = self._ray
        done = on_done or (lambda i, r: None)
        remote = ray.remote(num_cpus=1, max_retries=self.max_retries)(fn)
        refs = [remote.remote(item) for item in items]
        index = {ref: i for i, ref in enumerate(refs)}
        results: dict[int, Any] = {}
        told = 0
        pending = list(refs)
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                for ref in ready:
                    results[index[ref]] = ray.get(ref)
                while told in results:
                    done(told, results[told])
                    told += 1
        except BaseException as exc:
            for ref in pending:
                ray.cancel(ref, force=True)
            if pending:  # cancelling only asks: a task may still be writing until it ends
                ray.wait(pending, num_returns=len(pending), timeout=CANCEL_SETTLE_SECONDS)
            if isinstance(exc, ray.exceptions.RayTaskError):
                cause = exc.as_instanceof_cause()
                if isinstance(cause, Exception) and not isinstance(
                        cause, ray.exceptions.RayError):
                    raise cause from None  # the task's own error (e.g. a StageError)
            raise
        return [results[i] for i in range(len(items))]

    def close(self) -> None:
        """Stop the Ray instance (or disconnect) when this executor started it."""
        if self._owned and self._ray.is_initialized():
            self._ray.shutdown()


def make_executor(name: str = "local", *, jobs: int | None = None,
                  ray_address: str | None = None,
                  say: Callable[[str], None] | None = None) -> Executor:
    """The executor called ``name`` (``local`` or ``ray``); ``jobs`` is the local pool's size,
    or the CPUs of a local Ray instance started for the run."""
    if name == "local":
        if ray_address:
            raise ExecutorError("--ray-address is for --executor ray")
        return LocalExecutor(jobs)
    if name == "ray":
        return RayExecutor(ray_address, num_cpus=jobs, say=say)
    raise ExecutorError(f"unknown executor {name!r}: use one of {', '.join(EXECUTORS)}")


def clear_task_files(root: Path, prefix: str) -> None:
    """Remove every file below ``root`` whose name starts with ``prefix-`` or
    ``.prefix-`` (what an earlier, killed attempt of the task owning ``prefix`` wrote)."""
    if not root.is_dir():
        return
    for pattern in (f"{prefix}-*", f".{prefix}-*"):
        for path in root.rglob(pattern):
            if path.is_file():
                path.unlink(missing_ok=True)


def say_to_stderr(stage: str) -> Callable[[str], None]:
    """A ``say`` for :func:`make_executor` that prints ``[licrawl STAGE] ...`` on stderr."""
    def say(text: str) -> None:
        print(f"[licrawl {stage}] {text}", file=sys.stderr, flush=True)
    return say

