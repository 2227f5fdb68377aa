"""Continue a crawl after any stop, ``kill -9`` included, from its frontier and its output.

Before the crawl starts (:func:`prepare`):

1. every ``*.warc.gz.open`` file left by a dead crawl process in ``DIR/warc`` is cut after
   its last complete record and renamed (:func:`crawler.store.warc.recover_open_warc`);
2. entries not done whose row is in a published shard, or whose error record is in
   ``DIR/errors``, are marked done (the frontier missed the news: the process died between
   writing and telling it, or a power cut rolled the frontier back);
3. requests in flight go back to the queue.

Once the spider is open (:func:`rebuild_pages`), each ``fetched`` page (its response is in
WARC, its row was in the shard that never got published) is read back from its WARC record
and handed to the pipeline as if just downloaded, after its host's robots.txt and
tdmrep.json are known again; a page whose record is gone (cut off with the ``.open`` file)
is queued to be fetched again.

While the crawl runs, :class:`~crawler.fetch.frontier.FrontierObserver` gets from the sink
the URLs whose results became durable and marks them done.
"""

from __future__ import annotations

import logging
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow.parquet as pq

from crawler.core.errors import read_errors
from crawler.core.page import FetchedPage
from crawler.fetch.frontier import Counts, Fetched, Frontier
from crawler.fetch.sites import origin_of, registry_for
from crawler.store.shards import iter_shard_files
from crawler.store.spdx import SPDX_DIR, SPDX_SUFFIX
from crawler.store.warc import OPEN_SUFFIX, iter_responses, recover_open_warc

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: ``<prefix>-<UTC stamp>-<pid>-<token>-<seq>.warc.gz.open``: the writer's pid.
_WARC_PID = re.compile(r"-\d{14}-(\d+)-[0-9a-f]+-\d+\.warc\.gz" + re.escape(OPEN_SUFFIX) + "$")


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (ours counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_warcs(warc_dir: Path) -> list[Path]:
    """Recover the ``.open`` WARC files of dead writer processes; returns the files made."""
    recovered = []
    for path in sorted(warc_dir.glob("*.warc.gz" + OPEN_SUFFIX)):
        match = _WARC_PID.search(path.name)
        if match is not None and _alive(int(match.group(1))):
            continue  # a live crawl process is still writing it
        recovered.append(recover_open_warc(path))
    return recovered


#: The writer's pid in a shard name: ``part-<time>-<host>-<pid>-<token>-<seq>.parquet``.
_SHARD_PID = re.compile(r"-(\d+)-[0-9a-f]+-\d{5}\.parquet")


def remove_leftovers(out_dir: Path) -> list[Path]:
    """Remove what dead writer processes left of unfinished shards: hidden ``.*.tmp``
    shard and SPDX files, and an SPDX document whose shard was never renamed into place
    (a kill between the two renames). Returns the files removed."""
    removed = []
    data, spdx = out_dir / "data", out_dir / SPDX_DIR
    candidates = [*data.glob(".*.tmp"), *spdx.glob(".*.tmp")] if data.is_dir() else []
    if spdx.is_dir():
        candidates += [doc for doc in spdx.glob("*" + SPDX_SUFFIX)
                       if not (data / (doc.name.removesuffix(SPDX_SUFFIX) + ".parquet"))
                       .exists()]
    for path in candidates:
        match = _SHARD_PID.search(path.name.replace(SPDX_SUFFIX, ".parquet"))
        if match is not None and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def reconcile(frontier: Frontier, out_dir: Path) -> int:
    """Mark done the unfinished entries whose row or error record exists; returns how many."""
    unfinished = list(frontier.unfinished())
    if not unfinished:
        return 0
    wanted = {url for _, url, origin in unfinished for url in (url, origin)}
    found: set[str] = set()
    data = out_dir / "data"
    if data.is_dir():
        for shard in iter_shard_files([data]):
            urls = pq.read_table(shard, columns=["url"])["url"].to_pylist()
            found.update(u for u in urls if u in wanted)
    if (out_dir / "errors").is_dir():
        found.update(e.url for e in read_errors(out_dir / "errors") if e.url in wanted)
    return frontier.done_urls(sorted(found)) if found else 0


@dataclass(frozen=True, slots=True)
class ResumeState:
    """What a crawl resumes from (after :func:`prepare`)."""

    counts: Counts
    recovered_warcs: list[Path]
    reconciled: int
    requeued: int

    @property
    def started(self) -> bool:
        """Whether an earlier run of this crawl queued anything."""
        return self.counts.total > 0


def prepare(frontier: Frontier, out_dir: Path) -> ResumeState:
    """Recover WARC files, reconcile with the output, requeue leases (see the module doc)."""
    recovered = recover_warcs(out_dir / "warc") if (out_dir / "warc").is_dir() else []
    removed = remove_leftovers(out_dir)
    if removed:
        logger.info("Removed %d file(s) of unfinished shards of a stopped run", len(removed))
    reconciled = reconcile(frontier, out_dir)
    requeued = frontier.requeue_leases()
    return ResumeState(frontier.counts(), recovered, reconciled, requeued)


def read_fetched(out_dir: Path, entries: Iterable[Fetched]) -> tuple[list[FetchedPage],
                                                                     list[str]]:
    """The pages of ``entries`` read from their WARC records, and the keys of those whose
    record is gone."""
    by_file: dict[str, dict[str, str]] = defaultdict(dict)
    for entry in entries:
        by_file[entry.warc.file][entry.warc.record_id] = entry.key
    pages: list[FetchedPage] = []
    missing: list[str] = []
    for name, wanted in by_file.items():
        path = out_dir / name
        problem: Exception | str = "record missing"
        if path.is_file():
            try:
                for page in iter_responses(path, name=name):
                    key = wanted.pop(page.warc_record_id or "", None)
                    if key is not None:
                        pages.append(page)
                    if not wanted:
                        break
            except (OSError, EOFError, ValueError) as exc:
                problem = exc
        if wanted:
            logger.info("Frontier: %d page(s) not found in %s (%s); fetching them again",
                        len(wanted), name, problem)
            missing.extend(wanted.values())
    return pages, missing


class PageSink(Protocol):
    """What takes a fetched page as the crawl's item pipeline does."""

    async def process_item(self, item: Any) -> Any:
        """Hand on one page."""


async def rebuild_pages(crawler: Crawler, frontier: Frontier, out_dir: Path,
                        pipeline: PageSink) -> int:
    """Hand the fetched pages to the crawl ``pipeline`` again, from WARC; returns how many."""
    pages, missing = read_fetched(out_dir, frontier.to_rebuild())
    if missing:
        frontier.requeue(missing)
    if not pages:
        return 0
    registry = registry_for(crawler)
    for page in pages:
        await registry.fetch(origin_of(page.url))  # its site context, as when it was fetched
        await pipeline.process_item(page)
    logger.info("Frontier: %d page(s) rebuilt from WARC", len(pages))
    return len(pages)
