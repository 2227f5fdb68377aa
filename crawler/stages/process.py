"""Run detection over fetched pages in worker processes, and over whole WARC files.

:class:`PageProcessor` is the worker pool the crawl and ``licrawl process`` share. Each page
is first classified in the calling process (status, type, size: no parsing, and nothing
that cannot be a document is shipped to a worker); a worker then runs
:func:`crawler.detect.inspect` and :func:`crawler.core.records.build_row`, so the HTML is
parsed only there. Every submitted page ends as a row dict or an
:class:`~crawler.core.errors.ErrorRecord`: a task over the time limit is killed with its
worker (``stage="timeout"``), a worker that dies is
replaced (``stage="inspect"``, ``reason="worker-crashed"``).

The pool is the stages' one kind (:func:`crawler.stages.pool.process_pool`); its fork
server preloads :mod:`crawler.stages.detect_server` (:mod:`crawler.detect.inspect` and the
language model), so a worker replaced after a timeout or a crash does not import the
detection modules again. :func:`process_warcs` starts that fork server before anything else
(``licrawl process`` even before its own imports), so the detection modules load on one
core while the parent sets up on the other.

:func:`process_warcs` streams WARC files through the pool into shards and error records.
On another :class:`~crawler.stages.executors.Executor` (Ray) the same work runs as tasks:
one per WARC file, or per byte range of a large gzip WARC (cut where a gzip member starts
a record, :func:`crawler.store.warc.warc_split_points`); each task streams its records
through a one-worker pool of its own into shards and an error file named after the task,
in a temporary sibling of the output folder, whose files are moved into the output folder
only when every task is done.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import secrets
import shutil
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pebble import ProcessExpired

from crawler.core.page import DEFAULT_MAX_BODY, FetchedPage
from crawler.core.records import classify_response
from crawler.site.context import SiteContext
from crawler.site.user_policy import SitePolicy
from crawler.stages.detect_task import (
    InspectFn,
    Result,
    detect_page,
    error_record,
    init_worker,
    ready,
)
from crawler.stages.executors import Executor, clear_task_files
from crawler.stages.pool import DETECT_PRELOAD, process_pool, start_forkserver
from crawler.stages.progress import Progress
from crawler.stages.runner import temp_sibling
from crawler.stages.sink import ResultSink, RunSummary
from crawler.store.warc import WarcReadError, check_warc, read_warc, warc_split_points

ROBOTS_PATH = "/robots.txt"
TDMREP_PATH = "/.well-known/tdmrep.json"
TASKS_PER_WORKER = 2000  # recycle workers now and then so parser memory cannot creep
RANGES_PER_CPU = 2  # executor tasks per cluster CPU (byte ranges of the WARC files)
MIN_RANGE_BYTES = 8 << 20  # a WARC file is cut into ranges of at least this much


class PoolFull(RuntimeError):
    """``submit(..., block=False)`` found ``max_pending`` pages already in flight."""


# -- parent side -------------------------------------------------------------------------
class PageProcessor:
    """A bounded pool of detection workers: ``submit`` pages, get rows or error records.

    ``workers`` processes; ``timeout`` seconds per page; ``site_policy`` and ``crawl_id``
    are sent to each worker once. At most ``max_pending`` pages (default ``4 * workers``)
    are in flight: ``submit`` waits for a free slot (or raises :class:`PoolFull` when
    ``block=False``), which is the producer's back-pressure. ``inspect_fn`` replaces
    :func:`crawler.detect.inspect` (a module-level function with the same signature, e.g. for
    tests). Futures complete on a pool thread: a Twisted caller hands results back with
    ``reactor.callFromThread``.
    """

    def __init__(
        self,
        workers: int | None = os.cpu_count(),
        *,
        timeout: float = 30.0,
        site_policy: SitePolicy | None = None,
        crawl_id: str,
        max_pending: int | None = None,
        max_bytes: int = DEFAULT_MAX_BODY,
        inspect_fn: InspectFn | None = None,
    ) -> None:
        self.workers = max(1, workers or 1)
        self.timeout = timeout
        self.crawl_id = crawl_id
        self.max_bytes = max_bytes
        self.max_pending = max_pending or 4 * self.workers
        self._slots = threading.BoundedSemaphore(self.max_pending)
        self._pending = 0
        self._count_lock = threading.Lock()
        self._pool = process_pool(self.workers, preload=DETECT_PRELOAD,
                                  max_tasks=TASKS_PER_WORKER, initializer=init_worker,
                                  initargs=(inspect_fn, site_policy, crawl_id))

    def start(self) -> None:
        """Start the workers now and return once they answer (blocking: call it off the
        reactor). Without it the pool starts on the first :meth:`submit`, which then waits
        for the fork server's preload (about a second) on the caller's thread."""
        self._pool.schedule(ready).result()

    @property
    def pending(self) -> int:
        """Pages submitted to workers and not finished yet."""
        return self._pending

    def submit(self, page: FetchedPage, site: SiteContext | None = None, *,
               block: bool = True) -> Future[Result]:
        """Queue one page; the future gives its row dict or an :class:`ErrorRecord`.

        Pages that cannot be documents are answered at once (``stage="classify"``)
        without using a worker.
        """
        out: Future[Result] = Future()
        reason = classify_response(page, max_bytes=self.max_bytes)
        if reason is not None:
            out.set_result(error_record(page, "classify", reason,
                                        _classify_detail(page, reason), self.crawl_id))
            return out
        if not self._slots.acquire(blocking=block):
            raise PoolFull(f"{self.max_pending} pages already in flight")
        with self._count_lock:
            self._pending += 1
        stub = dataclasses.replace(page, body=b"")  # what an error record needs
        try:
            task = self._pool.schedule(detect_page, args=(page, site), timeout=self.timeout)
        except BaseException:
            self._release()
            raise
        task.add_done_callback(lambda done: self._finish(done, out, stub))
        return out

    def _release(self) -> None:
        with self._count_lock:
            self._pending -= 1
        self._slots.release()

    def _finish(self, task: Future[Result], out: Future[Result], stub: FetchedPage) -> None:
        self._release()
        if task.cancelled():
            out.set_result(error_record(stub, "inspect", "cancelled", "pool stopped",
                                        self.crawl_id))
            return
        exc = task.exception()
        if exc is None:
            out.set_result(task.result())
        elif isinstance(exc, TimeoutError):
            out.set_result(error_record(stub, "timeout", "timeout",
                                        f"detection took over {self.timeout:g}s", self.crawl_id))
        elif isinstance(exc, ProcessExpired):
            out.set_result(error_record(stub, "inspect", "worker-crashed",
                                        f"worker exit code {exc.exitcode}", self.crawl_id))
        else:
            out.set_result(error_record(stub, "inspect", "exception",
                                        f"{type(exc).__name__}: {exc}", self.crawl_id))

    def close(self, *, wait: bool = True) -> None:
        """Stop the workers; with ``wait`` (default) after every submitted page is done."""
        if wait:
            self._pool.close()
        else:
            self._pool.stop()
        self._pool.join()

    def __enter__(self) -> PageProcessor:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(wait=exc_type is None)


def _classify_detail(page: FetchedPage, reason: str) -> str:
    if reason == "redirect":
        return f"-> {page.header('Location') or '(no Location)'}"
    if reason == "not-html":
        return page.header("Content-Type") or "(no Content-Type, body is not HTML)"
    if reason == "too-large":
        return f"body over {len(page.body) - 1} bytes"
    if reason == "http-error":
        return f"HTTP {page.status}"
    return ""


# -- WARC files --------------------------------------------------------------------------
def default_crawl_id() -> str:
    """``process-<UTC timestamp>-<random>``."""
    return f"process-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def site_file_kind(url: str) -> str | None:
    """``"robots"`` or ``"tdmrep"`` when ``url`` is a site-wide file, else ``None``."""
    parts = urlsplit(url)
    if parts.query:
        return None
    return {ROBOTS_PATH: "robots", TDMREP_PATH: "tdmrep"}.get(parts.path)


def collect_site_contexts(warcs: Iterable[tuple[Path, str]]) -> dict[str, SiteContext]:
    """Per host, the :class:`SiteContext` from the robots.txt / tdmrep.json in the WARCs.

    Only 2xx responses count; when a host's file appears more than once, the last one read
    wins. Records that cannot be read are left to the main pass to report.
    """
    texts: dict[str, dict[str, str]] = {}
    for path, name in warcs:
        for page in read_warc(path, name=name,
                              url_filter=lambda url: site_file_kind(url) is not None):
            kind = site_file_kind(page.url) if isinstance(page, FetchedPage) else None
            if kind and 200 <= page.status < 300:
                texts.setdefault(page.host, {})[kind] = page.body.decode("utf-8", "replace")
    return {host: SiteContext.from_texts(host, t.get("robots"), t.get("tdmrep"))
            for host, t in texts.items()}


def _warc_name(path: Path, out_dir: Path) -> str:
    """``warc_file`` for rows: relative to ``out_dir`` when inside it, else as given."""
    try:
        return path.resolve().relative_to(out_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


class _Writer:
    """Results as they complete, into the sink.

    Pool threads only queue results; the writing happens in the thread that feeds the
    pool (the sink is not thread-safe).
    """

    def __init__(self, sink: ResultSink, progress: Progress) -> None:
        self.sink, self.progress = sink, progress
        self.summary = sink.summary
        self.done: queue.SimpleQueue[Result] = queue.SimpleQueue()
        self.outstanding = 0

    def expect(self, future: Future[Result]) -> None:
        """Write the result of ``future`` once it is done."""
        self.outstanding += 1
        future.add_done_callback(lambda f: self.done.put(f.result()))

    def drain(self, limit: int) -> None:
        """Write every finished result; wait while more than ``limit`` are outstanding."""
        while True:
            try:
                result = self.done.get(block=self.outstanding > limit)
            except queue.Empty:
                break
            self.outstanding -= 1
            self.sink.put(result)
        self.progress.tick(self.line)

    def line(self) -> str:
        """The progress line."""
        s = self.summary
        return (f"{s.records} records ({self.progress.rate(s.records):.1f}/s), {s.rows} rows, "
                f"{s.error_count} errors")


def _feed(pool: PageProcessor, sink: _Writer, path: Path, name: str,
          sites: dict[str, SiteContext], byte_range: tuple[int, int] | None = None) -> None:
    """Submit every response of one WARC (or of ``byte_range`` of it); a response that
    gives no page, and the place where a file stops being readable, are error records
    naming the record."""
    summary = sink.summary
    for item in read_warc(path, name=name, byte_range=byte_range):
        if isinstance(item, WarcReadError):
            if not item.ends_file:
                summary.records += 1
            sink.sink.put(item.error_record(summary.crawl_id))
            continue
        summary.records += 1
        if site_file_kind(item.url):
            summary.site_files += 1
            continue
        sink.expect(pool.submit(item, sites.get(item.host)))
        sink.drain(pool.max_pending)


def process_warcs(
    paths: list[Path],
    out_dir: Path,
    *,
    workers: int,
    crawl_id: str | None = None,
    site_policy: SitePolicy | None = None,
    timeout: float = 30.0,
    progress: bool = True,
    inspect_fn: InspectFn | None = None,
    executor: Executor | None = None,
    range_bytes: int | None = None,
) -> RunSummary:
    """Turn every HTTP response in ``paths`` into a row (``out_dir/data/``) or an error
    record (``out_dir/errors/``); returns the run's :class:`~crawler.stages.sink.RunSummary`.

    Two passes: the first reads only robots.txt and tdmrep.json responses of all files
    and builds a :class:`SiteContext` per host (so a Common Crawl ``robotstxt`` WARC given
    beside the content WARCs applies to them); the second streams every other response
    through the worker pool, at most ``4 * workers`` pages in memory, and writes each
    result as it completes (so one slow page never idles the other workers; row order in
    the shards follows completion, and the same input gives the same rows and ids). Raises
    :class:`crawler.store.warc.WarcFormatError` before doing anything if a path is not a WARC.
    ``warc_file`` in rows is the path relative to ``out_dir`` when the WARC lies inside
    it, else the path as given. ``executor`` other than the local one (Ray) runs the work
    as tasks (see the module's doc; ``workers`` is then left to the executor): the same
    rows and ids, in more shards, and the new files appear in ``out_dir`` only once every
    task is done (a failed run adds nothing); ``range_bytes`` sets the size of the byte
    ranges large gzip WARCs are cut into for it (default: see :func:`plan_ranges`).
    """
    for path in paths:
        check_warc(path)
    if executor is not None and executor.name != "local":
        return _process_as_tasks(paths, Path(out_dir), executor, crawl_id=crawl_id,
                                 site_policy=site_policy, timeout=timeout,
                                 progress=progress, inspect_fn=inspect_fn,
                                 range_bytes=range_bytes)
    start_forkserver(DETECT_PRELOAD)  # detection loads meanwhile (see the module's doc)
    out_dir = Path(out_dir)
    named = [(Path(p), _warc_name(Path(p), out_dir)) for p in paths]
    summary = RunSummary(crawl_id=crawl_id or default_crawl_id())
    shown = Progress("process", enabled=progress)
    sites = collect_site_contexts(named)
    sink = ResultSink(out_dir, summary)
    writer = _Writer(sink, shown)
    try:
        with PageProcessor(workers, timeout=timeout, site_policy=site_policy,
                           crawl_id=summary.crawl_id, inspect_fn=inspect_fn) as pool:
            for path, name in named:
                _feed(pool, writer, path, name, sites)
            writer.drain(0)
    except BaseException:
        sink.abort()
        raise
    sink.close()
    summary.seconds = shown.elapsed
    shown.tick(writer.line, force=True)
    return summary


# -- the same work as tasks on an executor (Ray) -----------------------------------------
@dataclass(frozen=True)
class RangeTask:
    """One task of a run on an executor: the records of ``byte_range`` of one WARC file
    (``None``: all of it), written into the run's temporary folder ``out_dir``."""

    index: int
    path: Path
    name: str  # warc_file of its rows
    byte_range: tuple[int, int] | None
    out_dir: Path
    sites: dict[str, SiteContext]
    crawl_id: str
    site_policy: SitePolicy | None
    timeout: float
    inspect_fn: InspectFn | None

    @property
    def prefixes(self) -> tuple[str, str]:
        """Names of the task's shards and of its error file start with these."""
        return f"part-r{self.index:05d}", f"errors-r{self.index:05d}"


def process_range(task: RangeTask) -> RunSummary:
    """Run one :class:`RangeTask` (in a Ray worker): its records through a one-worker
    detection pool into its own shards and error file. Files an earlier attempt of the
    task left (its worker died) are removed first."""
    shard_prefix, error_prefix = task.prefixes
    for prefix in task.prefixes:
        clear_task_files(task.out_dir, prefix)
    summary = RunSummary(crawl_id=task.crawl_id)
    sink = ResultSink(task.out_dir, summary, prefix=shard_prefix, error_prefix=error_prefix)
    writer = _Writer(sink, Progress("process", enabled=False))
    try:
        with PageProcessor(1, timeout=task.timeout, site_policy=task.site_policy,
                           crawl_id=task.crawl_id, inspect_fn=task.inspect_fn) as pool:
            _feed(pool, writer, task.path, task.name, task.sites, task.byte_range)
            writer.drain(0)
    except BaseException:
        sink.abort()
        raise
    return sink.close()


def plan_ranges(paths: list[Path], cpus: int, range_bytes: int | None = None
                ) -> list[tuple[Path, tuple[int, int] | None]]:
    """The tasks' inputs: each file whole, or cut into byte ranges of about
    ``range_bytes`` (default: about :data:`RANGES_PER_CPU` tasks per CPU over all files,
    ranges of at least :data:`MIN_RANGE_BYTES`)."""
    sizes = [path.stat().st_size for path in paths]
    target = range_bytes or max(MIN_RANGE_BYTES, sum(sizes) // max(1, RANGES_PER_CPU * cpus))
    planned: list[tuple[Path, tuple[int, int] | None]] = []
    for path, size in zip(paths, sizes, strict=True):
        parts = max(1, round(size / target))
        ranges = warc_split_points(path, parts) if parts > 1 else [(0, size)]
        if len(ranges) == 1:
            planned.append((path, None))
        else:
            planned.extend((path, r) for r in ranges)
    return planned


def _move_into(temp: Path, out_dir: Path) -> dict[Path, Path]:
    """Move the finished files of ``temp`` into ``out_dir`` (renaming ``temp`` when
    ``out_dir`` does not exist); returns where each file went. Hidden leftovers (``.*``)
    are dropped."""
    for leftover in [p for p in temp.rglob(".*") if p.is_file()]:
        leftover.unlink()
    files = [p for p in temp.rglob("*") if p.is_file()]
    moved = {p: out_dir / p.relative_to(temp) for p in files}
    if not out_dir.exists():
        temp.rename(out_dir)
        return moved
    for source, dest in moved.items():
        dest.parent.mkdir(parents=True, exist_ok=True)
        source.rename(dest)
    shutil.rmtree(temp)
    return moved


def _process_as_tasks(paths: list[Path], out_dir: Path, executor: Executor, *,
                      crawl_id: str | None, site_policy: SitePolicy | None, timeout: float,
                      progress: bool, inspect_fn: InspectFn | None,
                      range_bytes: int | None) -> RunSummary:
    """:func:`process_warcs` on ``executor``: one :class:`RangeTask` per file or range."""
    named = [(Path(p), _warc_name(Path(p), out_dir)) for p in paths]
    summary = RunSummary(crawl_id=crawl_id or default_crawl_id())
    shown = Progress("process", enabled=progress)
    sites = collect_site_contexts(named)
    names = dict(named)
    cpus = executor.default_workers()
    planned = plan_ranges([p for p, _ in named], cpus, range_bytes)
    shown.note(f"{len(named)} WARC files, {len(planned)} tasks on {executor.name} "
               f"({cpus} CPUs)")
    temp = temp_sibling(out_dir)
    tasks = [RangeTask(i, path, names[path], byte_range, temp, sites, summary.crawl_id,
                       site_policy, timeout, inspect_fn)
             for i, (path, byte_range) in enumerate(planned)]

    def on_done(index: int, part: RunSummary) -> None:
        summary.merge(part)
        shown.tick(lambda: f"[{index + 1}/{len(tasks)} tasks] {summary.records} records "
                           f"({shown.rate(summary.records):.1f}/s), {summary.rows} rows, "
                           f"{summary.error_count} errors", force=index + 1 == len(tasks))

    try:
        executor.map(process_range, tasks, cpus, on_done)
        moved = _move_into(temp, out_dir)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    summary.shards = sorted(moved.get(p, p) for p in summary.shards)
    summary.seconds = shown.elapsed
    return summary
