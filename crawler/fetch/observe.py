"""What a recrawl records of each URL: the observation of a row, an error or a revisit.

Each builder takes what this run got and what earlier runs saw (a
:class:`~crawler.state.store.Previous`, ``None`` for a URL never fetched) and returns the
:class:`~crawler.state.store.Observation` to record:

- a row: ``unchanged`` when its text is the text the latest earlier page had (no new row
  is written then), else ``changed`` (known URL) or ``new``;
- an error record: ``removed`` for 404/410, else ``error``;
- a revisit (304, or the same payload): ``unchanged``, with the license the page had and
  the opt-outs in force today: the page's own signals as last read, combined with the
  site's robots.txt and tdmrep.json fetched in this run.

The page's own opt-out signals are what the row's ``ai_optout`` has beyond the site's
(robots.txt, ``tdmrep``); its own TDM reservation is known when the site's tdmrep.json says
nothing for the URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from crawler.core.errors import ErrorRecord
from crawler.core.page import RevisitedPage
from crawler.detect.optout import combine_optout
from crawler.detect.signals.optout import PageOptOut
from crawler.site.context import SiteContext
from crawler.stages.sink import ResultSink, RunSummary
from crawler.state.changes import changes_between
from crawler.state.open import AnyState
from crawler.state.store import Observation, Previous
from crawler.store.warc import warc_date

#: Unchanged pages are marked done in the frontier in groups of this many, or this often.
DONE_EVERY = 256
DONE_SECONDS = 0.5

__all__ = ["StateRecorder", "error_observation", "revisit_observation", "row_observation"]

#: Statuses that say a page is gone.
REMOVED_STATUSES = frozenset({404, 410})


def _page_own(row: dict[str, Any], site: SiteContext | None) -> tuple[tuple[str, ...],
                                                                      bool | None]:
    """The page's own opt-out signals and TDM reservation, as far as the row tells them."""
    url = str(row["url"])
    site_signals = set(site.optouts_for(url)) if site is not None else set()
    own = tuple(sorted(set(row["ai_optout"]) - site_signals - {"tdmrep"}))
    site_tdm = site.tdm_for(url)[0] if site is not None else None
    return own, (bool(row["tdm_reserved"]) if site_tdm is None else None)


def row_observation(row: dict[str, Any], previous: Previous | None, *, etag: str | None,
                    last_modified: str | None, payload: str | None,
                    site: SiteContext | None) -> Observation:
    """The observation of a page that gave ``row`` (see the module's doc)."""
    fetched_at: datetime = row["fetched_at"]
    page = previous.page if previous is not None else None
    if page is None:
        outcome = "new"
    elif page.text_sha1 == row["text_sha1"]:
        outcome = "unchanged"
    else:
        outcome = "changed"
    own, own_tdm = _page_own(row, site)
    return Observation(
        url=str(row["url"]), time=fetched_at.timestamp(), outcome=outcome,
        status=int(row["http_status"]), etag=etag, last_modified=last_modified,
        payload_digest=payload, text_sha1=str(row["text_sha1"]), license=row["license"],
        license_category=row["license_category"], tdm_reserved=bool(row["tdm_reserved"]),
        ai_optout=tuple(sorted(row["ai_optout"])), page_signals=own, page_tdm=own_tdm,
        warc_file=row["warc_file"], warc_record_id=row["warc_record_id"],
        ref_record_id=row["warc_record_id"], ref_date=warc_date(fetched_at))


def error_observation(record: ErrorRecord) -> Observation:
    """The observation of a URL that gave an error record: ``removed`` (404/410) or
    ``error``."""
    when = record.fetched_at.timestamp() if record.fetched_at is not None else 0.0
    outcome = "removed" if record.http_status in REMOVED_STATUSES else "error"
    return Observation(url=record.url, time=when, outcome=outcome, status=record.http_status,
                       warc_file=record.warc_file, warc_record_id=record.warc_record_id)


def revisit_observation(page: RevisitedPage, previous: Previous,
                        site: SiteContext | None) -> Observation:
    """The ``unchanged`` observation of a revisited page (see the module's doc)."""
    known = previous.page
    assert known is not None, "a revisit is only written for a page an earlier run kept"
    own = PageOptOut(tdm_reservation=known.page_tdm, signals=list(known.page_signals))
    tdm_reserved, _policy, optout = combine_optout(page.url, own, site)
    return Observation(
        url=page.url, time=page.fetched_at.timestamp(), outcome="unchanged",
        status=page.status, etag=page.header("ETag") or known.etag,
        last_modified=page.header("Last-Modified") or known.last_modified,
        payload_digest=known.payload_digest, text_sha1=known.text_sha1,
        license=known.license, license_category=known.license_category,
        tdm_reserved=tdm_reserved, ai_optout=tuple(optout), page_signals=known.page_signals,
        page_tdm=known.page_tdm, warc_file=page.warc_file, warc_record_id=page.warc_record_id,
        ref_record_id=known.ref_record_id, ref_date=known.ref_date)


class StateRecorder:
    """The writer thread's side of a recrawl: records each result's observation in the
    run's state, writes rows only for pages that are new or changed, and counts what
    changed since the previous run into ``summary.changes``.

    ``done`` is told the URLs finished without a row or error record (unchanged pages),
    once their observation is committed: the crawl's frontier marks them done.
    """

    def __init__(self, state: AnyState, summary: RunSummary,
                 done: Callable[[list[str]], None] | None = None) -> None:
        self.state = state
        self.summary = summary
        self.done = done
        self._unchanged: list[str] = []
        self._flushed = time.monotonic()

    def row(self, row: dict[str, Any], sink: ResultSink, *, etag: str | None,
            last_modified: str | None, payload: str | None, site: SiteContext | None
            ) -> None:
        """A page's row: written unless its text is unchanged; observed either way."""
        previous = self.state.previous(str(row["url"]))
        obs = row_observation(row, previous, etag=etag, last_modified=last_modified,
                              payload=payload, site=site)
        if obs.outcome == "unchanged":
            self._finish(obs, previous)
            return
        written = sink.put(row)
        if isinstance(written, ErrorRecord):  # the schema refused the row
            obs = error_observation(written)
        self._record(obs, previous)

    def error(self, record: ErrorRecord) -> None:
        """An error record (already written): ``removed`` or ``error``."""
        self._record(error_observation(record), self.state.previous(record.url))

    def revisit(self, page: RevisitedPage, site: SiteContext | None) -> None:
        """A revisit record (304 or the same payload): ``unchanged``."""
        previous = self.state.previous(page.url)
        if previous is None or previous.page is None:  # the state changed under the run
            self._record(Observation(url=page.url, time=page.fetched_at.timestamp(),
                                     outcome="error", status=page.status,
                                     warc_file=page.warc_file,
                                     warc_record_id=page.warc_record_id), previous)
            return
        self._finish(revisit_observation(page, previous, site), previous)

    def _finish(self, obs: Observation, previous: Previous | None) -> None:
        """An unchanged page: observed; done in the frontier once that is committed (in
        groups, as the state commits: see :meth:`flush`)."""
        self._record(obs, previous)
        self._unchanged.append(obs.url)
        if (len(self._unchanged) >= DONE_EVERY
                or time.monotonic() - self._flushed >= DONE_SECONDS):
            self.flush()

    def flush_waiting(self) -> None:
        """Flush now when unchanged pages wait for their group: the crawl has gone quiet,
        and a fleet counts those pages in flight until they are done (it would wait for
        them, and they for the next result, for ever)."""
        if self._unchanged:
            self.flush()

    def flush(self) -> None:
        """Commit the observations recorded so far, then tell the frontier the unchanged
        pages among them are done (never before: a kill in between fetches them again)."""
        self.state.commit()
        if self.done is not None and self._unchanged:
            self.done(self._unchanged)
        self._unchanged = []
        self._flushed = time.monotonic()

    def _record(self, obs: Observation, previous: Previous | None) -> None:
        self.state.record(obs)
        counts = self.summary.changes
        counts[obs.outcome] += 1
        page = previous.page if previous is not None else None
        last = previous.last if previous is not None else None
        fields = {c.field: c for c in changes_between(page, last, obs)}
        if "license" in fields:
            counts["license changed"] += 1
        optout = fields.get("ai_optout")
        tdm = fields.get("tdm_reserved")
        if (optout is not None and set(optout.new) - set(optout.old)) or (
                tdm is not None and tdm.new):
            counts["opted out"] += 1
        status = fields.get("status")
        if status is not None:
            counts["disappeared" if status.new == "removed" else "back"] += 1
