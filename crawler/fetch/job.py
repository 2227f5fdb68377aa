"""A crawl job's start and end, whoever runs the spider: ``licrawl crawl``, ``scrapy crawl``
or a Scrapyd job.

Before the spider opens (:func:`prepare_job`), a job needs its output folder, its crawl id
(the one asked for in ``LICRAWL_CRAWL_ID``, else the one an earlier run stored in the job
folder, else a new one, stored; in a fleet, the one stored in the fleet's frontier) and its
frontier made ready to resume (:func:`crawler.fetch.resume.prepare`; in a fleet, the steps of
:func:`join_fleet`).

``licrawl crawl`` calls :func:`prepare_job` itself, so that a job that cannot start exits at
once with a clear message, and passes ``LICRAWL_JOB_PREPARED``. When Scrapy runs the spider
itself (``scrapy crawl site -a seeds=...``, a Scrapyd job), the add-on :class:`JobAddon`
(Scrapy's ``ADDONS`` setting) calls it from the settings, before they are frozen, and logs what
it says. Either way the crawl writes the same WARC files, shards, error records and state.

Module-level imports are the standard library only: ``licrawl --help`` imports this module.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: File in the job folder that keeps the crawl id across resumes.
JOB_STATE_FILE = "licrawl-job.json"
#: Setting: the job was prepared before Scrapy started (by ``licrawl crawl``).
PREPARED = "LICRAWL_JOB_PREPARED"


def new_crawl_id() -> str:
    """A new crawl id: UTC time and 6 random hex digits."""
    return f"crawl-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def job_crawl_id(jobdir: Path, requested: str | None) -> str:
    """The crawl id: ``requested``, the one stored in ``jobdir``, or a new one (stored).

    The file is replaced atomically, so a crash never leaves half of it.
    """
    state_file = jobdir / JOB_STATE_FILE
    if requested is None and state_file.is_file():
        return str(json.loads(state_file.read_text(encoding="utf-8"))["crawl_id"])
    crawl_id = requested or new_crawl_id()
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_name(state_file.name + ".tmp")
    tmp.write_text(json.dumps({"crawl_id": crawl_id}), encoding="utf-8")
    os.replace(tmp, state_file)
    return crawl_id


def resume_message(crawl_id: str, out: Path, jobdir: Path) -> str | None:
    """Prepare the job's frontier for this run (see :mod:`crawler.fetch.resume`) and say
    what the crawl resumes from; ``None`` for a new crawl.

    Raises :class:`~crawler.fetch.frontier.FrontierError` when the frontier cannot be used.
    """
    from crawler.fetch.frontier import FRONTIER_FILE, SqliteFrontier
    from crawler.fetch.resume import prepare

    with SqliteFrontier(jobdir / FRONTIER_FILE) as frontier:
        state = prepare(frontier, out)
    if not state.started:
        return None
    counts = state.counts
    if counts.unfinished == 0 and counts.queued == 0:
        return (f"crawl {crawl_id} finished before ({counts.done} done): only seeds it has "
                f"not seen are fetched")
    lines = [f"resuming crawl {crawl_id}: {counts.done} done, {counts.queued} queued, "
             f"{counts.fetched} to rebuild from WARC"]
    if state.recovered_warcs:
        lines.append(f"  recovered {len(state.recovered_warcs)} unfinished WARC file(s)")
    return "\n".join(lines)


def join_fleet(settings: Mapping[str, Any], out: Path, jobdir: Path) -> tuple[str, str]:
    """Join the fleet's frontier (``LICRAWL_FRONTIER``, ``LICRAWL_CRAWL_NAME``): the crawl
    id (the fleet's, stored on first start) and what this process starts from. As
    :func:`resume_message` does for a frontier of one's own: changes a run kept while Redis
    was away are applied, WARC files of dead processes recovered, entries whose result is in
    ``out`` marked done, and the requests of processes dead for longer than the lease
    timeout queued again.

    Raises :class:`~crawler.fetch.frontier.FrontierError` when Redis cannot be used.
    """
    from crawler.fetch.fleet import RedisFrontier
    from crawler.fetch.resume import reconcile, recover_warcs, remove_leftovers

    url, name = settings["LICRAWL_FRONTIER"], settings["LICRAWL_CRAWL_NAME"]
    requested = settings.get("LICRAWL_CRAWL_ID") or None
    timeout = float(settings["LICRAWL_FRONTIER_TIMEOUT"])
    with RedisFrontier(url, name, give_up_after=timeout) as frontier:
        frontier.ping()
        crawl_id = frontier.setdefault_meta("crawl_id", requested or new_crawl_id())
        replayed = frontier.replay_spills(jobdir) if jobdir.is_dir() else 0
        warc_dir = out / "warc"
        recovered = recover_warcs(warc_dir) if warc_dir.is_dir() else []
        remove_leftovers(out)
        reconciled = reconcile(frontier, out)
        requeued = frontier.requeue_leases()
        counts = frontier.counts()
    lines = [f"crawl {crawl_id} on {frontier.shown_url} as {name!r}: {counts.done} done, "
             f"{counts.queued} queued, {counts.leased + counts.fetched} in other processes"]
    if requested and requested != crawl_id:
        lines.append(f"  crawl {name!r} has id {crawl_id}: the crawl id {requested} asked "
                     f"for is ignored")
    for n, what in ((replayed, "change(s) kept while Redis was away applied"),
                    (len(recovered), "unfinished WARC file(s) recovered"),
                    (reconciled, "result(s) found in the output marked done"),
                    (requeued, "request(s) of stopped processes queued again")):
        if n:
            lines.append(f"  {n} {what}")
    return crawl_id, "\n".join(lines)


@dataclass(frozen=True, slots=True)
class JobStart:
    """A prepared job: its crawl id and what it starts from (``None``: a new crawl)."""

    crawl_id: str
    message: str | None

    def settings(self) -> dict[str, Any]:
        """The settings the crawl of this prepared job runs with."""
        return {"LICRAWL_CRAWL_ID": self.crawl_id, PREPARED: True}


def job_dir(settings: Mapping[str, Any]) -> Path:
    """The job folder: ``LICRAWL_JOB_DIR``, else ``LICRAWL_OUT_DIR/job``."""
    return Path(settings.get("LICRAWL_JOB_DIR") or Path(settings["LICRAWL_OUT_DIR"]) / "job")


def prepare_job(settings: Mapping[str, Any]) -> JobStart:
    """Make the output folder, settle the crawl id and make the frontier ready (see the
    module doc). ``settings``: Scrapy's, or a dict with the ``LICRAWL_*`` settings used.

    With a crawl state (``LICRAWL_STATE_DIR``), a job whose last run finished starts a new
    run (:func:`finish_run`).

    Raises :class:`OSError` when a folder cannot be written,
    :class:`~crawler.fetch.frontier.FrontierError` when the frontier cannot be used, and
    :class:`~crawler.state.store.StateError` (:class:`~crawler.state.store.StateLocked`)
    when the crawl state cannot be used (is held by another run).
    """
    out, jobdir = Path(settings["LICRAWL_OUT_DIR"]), job_dir(settings)
    state_dir = settings.get("LICRAWL_STATE_DIR")
    from crawler.state.open import check_state

    if state_dir and not settings.get("LICRAWL_FRONTIER"):
        check_state(state_dir)
    out.mkdir(parents=True, exist_ok=True)
    if settings.get("LICRAWL_FRONTIER"):
        crawl_id, message = join_fleet(settings, out, jobdir)
        if state_dir:  # the fleet's processes share their run's lock
            check_state(state_dir, crawl_id)
        return JobStart(crawl_id, message)
    ended = finish_run(jobdir) if state_dir else None
    crawl_id = job_crawl_id(jobdir, settings.get("LICRAWL_CRAWL_ID") or None)
    message = resume_message(crawl_id, out, jobdir)
    if ended:
        message = f"crawl {ended} finished before: this is a new run of the job, {crawl_id}"
    return JobStart(crawl_id, message)


def finish_run(jobdir: Path) -> str | None:
    """A recrawl job (with a crawl state) whose last run finished in this job folder starts a
    new run: the finished run's frontier, crawl id and Scrapy spider state are removed (its
    output stays). Returns the finished run's crawl id (``None``: nothing finished here)."""
    from crawler.fetch.frontier import FRONTIER_FILE, SqliteFrontier

    path, id_file = jobdir / FRONTIER_FILE, jobdir / JOB_STATE_FILE
    if not path.is_file() or not id_file.is_file():
        return None
    with SqliteFrontier(path) as frontier:
        counts = frontier.counts()
    if counts.total == 0 or counts.unfinished or counts.queued:
        return None
    ended = job_crawl_id(jobdir, None)
    for leftover in (*jobdir.glob(FRONTIER_FILE + "*"), id_file, jobdir / "spider.state"):
        leftover.unlink(missing_ok=True)
    return ended


class JobAddon:
    """Scrapy add-on: prepares the job when Scrapy runs the spider itself (and then logs the
    run summary at the end), keeps Scrapy's ``JOBDIR`` (the spider state) in the job folder
    and the user agent on the contact URL."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobAddon:
        """Build for ``crawler``."""
        return cls(crawler)

    def update_settings(self, settings: BaseSettings) -> None:
        """The user agent names ``LICRAWL_CONTACT_URL`` when that is set above ``USER_AGENT``.
        When a crawl starts (``Crawler.crawl`` creates the spider, then applies the settings;
        a crawler built without a spider, as tests do, is left alone): prepare the job unless
        ``licrawl crawl`` did (it prints the summary itself; else :meth:`closed` logs it)."""
        from scrapy import signals

        from crawler.fetch.settings import user_agent

        contact = settings.getpriority("LICRAWL_CONTACT_URL") or 0
        if contact > (settings.getpriority("USER_AGENT") or 0):
            settings.set("USER_AGENT", user_agent(settings["LICRAWL_CONTACT_URL"]),
                         priority=contact)
        if self.crawler.spider is None:
            return
        if not settings.get("LICRAWL_FRONTIER") and not settings.get("JOBDIR"):
            settings.set("JOBDIR", str(job_dir(settings)), priority="addon")
        if not settings.getbool(PREPARED):
            start = prepare_job(settings)
            if start.message:
                logger.info("%s", start.message)
            settings.setdict(start.settings(), priority="cmdline")
            self.crawler.signals.connect(self.closed, signal=signals.spider_closed)

    def closed(self) -> None:
        """Log the run summary (the pipeline completed it when it closed)."""
        from crawler.fetch.pipeline import CrawlPipeline

        pipeline = self.crawler.get_item_pipeline(CrawlPipeline)
        if pipeline is not None:
            logger.info("licrawl crawl summary\n%s", pipeline.summary.format())
