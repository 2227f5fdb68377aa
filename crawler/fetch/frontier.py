"""The crawl frontier: every request of a crawl, its state, and the seen-set, kept on disk.

Scrapy's ``JOBDIR`` queue is written only when the crawl stops cleanly; after ``kill -9`` or
a power cut it is gone and the next run starts with every URL "seen" and nothing queued.
A :class:`Frontier` records each step of each URL as it happens::

    queued --lease--> leased --fetched(WARC ref)--> fetched --done--> done
       ^                 |                              |
       +-- requeue ------+------ (WARC record lost) ----+

* ``queued``: waiting to be downloaded (a serialized request, its priority and depth);
* ``leased``: handed to the downloader (in flight);
* ``fetched``: the response is in a WARC record (:class:`~crawler.core.page.WarcRef`), its
  row or error record not yet durable;
* ``done``: its row is in a published shard or its error record is written, or its outcome
  belongs to another entry (a redirect target) or it yields nothing (a sitemap).

On start, :meth:`Frontier.requeue_leases` puts leased requests back in the queue (at most the
pages that were in flight are fetched again) and :meth:`Frontier.to_rebuild` lists the
fetched ones, whose pages are read back from WARC instead of being fetched again
(:mod:`crawler.fetch.resume`).

Keys are request fingerprints (Scrapy's request fingerprinter, hex). An entry also keeps its
``url`` and its ``origin`` (the first URL of its redirect chain), because rows and error
records name URLs, not requests: :meth:`Frontier.done_urls` marks done the entries whose
URL or origin is given.

Implementations: :class:`SqliteFrontier` (one file, one crawl process). A shared frontier for
a fleet of crawl processes (Redis: a sorted set per priority for the queue, a hash per entry,
leases with an expiry that :meth:`requeue_leases` with ``older_than`` returns to the queue)
and the recrawl state of scheduled crawls (per-URL validators and license history, kept
beside the entries under the same keys) implement or use the same protocol.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from weakref import WeakKeyDictionary

from crawler.core.fsutil import try_lock
from crawler.core.page import WarcRef

#: Version of the SQLite layout (``PRAGMA user_version``); a newer file is refused.
FORMAT_VERSION = 1
#: File name of the frontier inside a job folder.
FRONTIER_FILE = "frontier.sqlite3"


class State(IntEnum):
    """Where a URL is in the crawl (stored as its integer value)."""

    QUEUED = 0
    LEASED = 1
    FETCHED = 2
    DONE = 3


class FrontierError(RuntimeError):
    """The frontier cannot be used: locked by another crawl, corrupt, or too new."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A request taken from the queue: its key and serialized request."""

    key: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched entry whose row or error record is not durable yet: rebuild it from WARC."""

    key: str
    url: str
    warc: WarcRef


@dataclass(frozen=True, slots=True)
class Counts:
    """Entries per state."""

    queued: int = 0
    leased: int = 0
    fetched: int = 0
    done: int = 0

    @property
    def total(self) -> int:
        """Every entry (the seen-set's size)."""
        return self.queued + self.leased + self.fetched + self.done

    @property
    def unfinished(self) -> int:
        """Entries not done."""
        return self.total - self.done


@runtime_checkable
class Frontier(Protocol):
    """What the scheduler, the sink and resume need from a frontier (thread-safe)."""

    def enqueue(self, key: str, url: str, payload: bytes, *, priority: int = 0,
                depth: int = 0, origin: str | None = None, force: bool = False,
                parent: str | None = None) -> bool:
        """Queue a request unless ``key`` was seen; ``force`` queues it even then (one
        entry per key: a forced request takes the place of a queued one with its key).

        ``parent``: the key of the request this one replaces (a redirect or a retry, whose
        request meta carries it). A retry (``parent == key``) puts the entry back in the
        queue with the new payload; a redirect target (another key) is queued and, in the
        same step, the parent is done (its outcome is the target's). Returns whether the
        request was queued.
        """
        ...

    def lease(self) -> Lease | None:
        """Take the next request (highest priority, newest first) and mark it leased."""
        ...

    def has_queued(self) -> bool:
        """Whether a request is waiting."""
        ...

    def seen(self, key: str) -> bool:
        """Whether ``key`` was ever queued."""
        ...

    def mark_fetched(self, key: str, warc: WarcRef) -> None:
        """The response of a leased request is kept in this WARC record."""
        ...

    def mark_done(self, keys: Iterable[str]) -> None:
        """These entries need nothing more."""
        ...

    def done_urls(self, urls: Iterable[str]) -> int:
        """Mark done the leased or fetched entries whose URL or origin is given."""
        ...

    def requeue(self, keys: Iterable[str]) -> None:
        """Put entries back in the queue (a fetched page whose WARC record is lost)."""
        ...

    def requeue_leases(self, older_than: float | None = None) -> int:
        """Leases back to the queue: all (``None``, on start) or those older than this
        many seconds (a fleet member that died). Returns how many."""
        ...

    def to_rebuild(self) -> Iterator[Fetched]:
        """The fetched entries (their pages are in WARC, their results not durable)."""
        ...

    def unfinished(self) -> Iterator[tuple[str, str, str]]:
        """``(key, url, origin)`` of every leased or fetched entry."""
        ...

    def keys(self) -> Iterator[str]:
        """Every key of the seen-set."""
        ...

    def counts(self) -> Counts:
        """Entries per state."""
        ...

    def get_meta(self, name: str) -> str | None:
        """A crawl-level value (crawl id, ...), or ``None``."""
        ...

    def set_meta(self, name: str, value: str) -> None:
        """Store a crawl-level value."""
        ...

    def commit(self) -> None:
        """Make every change so far survive a killed process (changes are committed in
        groups; this ends the current group)."""
        ...

    def sync(self) -> None:
        """Make every change so far durable against a power cut."""
        ...

    def close(self) -> None:
        """Release the frontier (its state stays)."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    origin TEXT NOT NULL,
    state INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    depth INTEGER NOT NULL,
    ord INTEGER NOT NULL,
    payload BLOB,
    leased_at REAL,
    warc_file TEXT,
    warc_record_id TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_queue ON entries (priority DESC, ord DESC) WHERE state = 0;
CREATE INDEX IF NOT EXISTS entries_open ON entries (state) WHERE state IN (1, 2);
CREATE INDEX IF NOT EXISTS entries_url ON entries (url);
CREATE INDEX IF NOT EXISTS entries_origin ON entries (origin);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


#: A group of changes is committed after this many changes or seconds (see SqliteFrontier).
COMMIT_EVERY = 256
COMMIT_SECONDS = 0.25


class SqliteFrontier:
    """A :class:`Frontier` in one SQLite file, for one crawl process at a time.

    WAL journal with ``synchronous=NORMAL``. Changes are committed in groups (every
    ``COMMIT_EVERY`` changes or ``COMMIT_SECONDS``, whichever comes first: one commit per
    change cost the crawl about 8% of its speed), so a killed process (``kill -9``, OOM
    killer) loses at most the last group, and always a tail of its changes, never one from
    the middle: what survives is the state at some earlier moment, which resume handles like
    any stop (leases back to the queue, results found in the output marked done). The crawl
    ends a group with :meth:`commit` before it writes an error record, and with :meth:`sync`
    (``synchronous=FULL`` for one commit, the barrier against a power cut or OS crash)
    before it renames a shard into place, so no durable result ever stands for a page whose
    links the frontier could lose. A lock file (``flock``) keeps a second
    crawl process off the same frontier. Thread-safe (one connection behind a lock): the
    reactor schedules, the writer thread marks results done.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = try_lock(self.path.with_name(self.path.name + ".lock"))
        if self._lock_file is None:
            raise FrontierError(f"{self.path} is in use by another crawl process")
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None,
                                       check_same_thread=False)
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > FORMAT_VERSION:
                raise FrontierError(f"{self.path} was written by a newer licrawl (format "
                                    f"{version}, this one reads {FORMAT_VERSION})")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={FORMAT_VERSION}")
            self._ord = self._db.execute("SELECT COALESCE(MAX(ord), 0) FROM entries"
                                         ).fetchone()[0]
            self._queued = self._db.execute(
                "SELECT COUNT(*) FROM entries WHERE state = 0").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self._release_lock()
            raise FrontierError(f"{self.path}: not a usable frontier ({exc})") from exc
        except FrontierError:
            self._release_lock()
            raise
        self._mutex = threading.Lock()
        self._changes = 0
        self._group_started = time.monotonic()

    @contextmanager
    def _change(self) -> Iterator[None]:
        """One change, inside the current group of changes (started if need be); the group
        is committed when it is big or old enough."""
        with self._mutex:
            if not self._db.in_transaction:
                self._db.execute("BEGIN IMMEDIATE")
                self._group_started = time.monotonic()
            yield
            self._changes += 1
            if (self._changes >= COMMIT_EVERY
                    or time.monotonic() - self._group_started >= COMMIT_SECONDS):
                self._commit_locked()

    def _commit_locked(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._changes = 0

    # -- scheduling ----------------------------------------------------------------------
    def enqueue(self, key: str, url: str, payload: bytes, *, priority: int = 0,
                depth: int = 0, origin: str | None = None, force: bool = False,
                parent: str | None = None) -> bool:
        """See :meth:`Frontier.enqueue`."""
        with self._change():
            self._ord += 1
            row = self._db.execute("SELECT state FROM entries WHERE key = ?",
                                   (key,)).fetchone()
            if row is not None:
                if not (force or parent == key):
                    return False
                self._queued += row[0] != State.QUEUED
                self._db.execute(
                    "UPDATE entries SET state = 0, payload = ?, priority = ?, depth = ?, "
                    "ord = ?, leased_at = NULL WHERE key = ?",
                    (payload, priority, depth, self._ord, key))
            else:
                self._db.execute(
                    "INSERT INTO entries (key, url, origin, state, priority, depth, ord, "
                    "payload) VALUES (?, ?, ?, 0, ?, ?, ?, ?)",
                    (key, url, origin or url, priority, depth, self._ord, payload))
                self._queued += 1
            if parent is not None and parent != key:
                self._db.execute("UPDATE entries SET state = 3, payload = NULL "
                                 "WHERE key = ? AND state IN (1, 2)", (parent,))
            return True

    def lease(self) -> Lease | None:
        """See :meth:`Frontier.lease`."""
        with self._change():
            row = self._db.execute(
                "SELECT key, payload FROM entries WHERE state = 0 "
                "ORDER BY priority DESC, ord DESC LIMIT 1").fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE entries SET state = 1, leased_at = ? WHERE key = ?",
                             (time.time(), row[0]))
            self._queued -= 1
            return Lease(row[0], row[1])

    def has_queued(self) -> bool:
        """See :meth:`Frontier.has_queued`."""
        return self._queued > 0

    def seen(self, key: str) -> bool:
        """See :meth:`Frontier.seen`."""
        with self._mutex:
            return self._db.execute("SELECT 1 FROM entries WHERE key = ?",
                                    (key,)).fetchone() is not None

    # -- results -------------------------------------------------------------------------
    def mark_fetched(self, key: str, warc: WarcRef) -> None:
        """See :meth:`Frontier.mark_fetched`."""
        with self._change():
            self._db.execute(
                "UPDATE entries SET state = 2, warc_file = ?, warc_record_id = ? "
                "WHERE key = ? AND state = 1", (warc.file, warc.record_id, key))

    def mark_done(self, keys: Iterable[str]) -> None:
        """See :meth:`Frontier.mark_done`."""
        with self._change():
            self._db.executemany(
                "UPDATE entries SET state = 3, payload = NULL WHERE key = ? AND state IN (1, 2)",
                ((k,) for k in keys))

    def done_urls(self, urls: Iterable[str]) -> int:
        """See :meth:`Frontier.done_urls`."""
        changed = 0
        with self._change():
            for url in urls:
                for column in ("url", "origin"):
                    changed += self._db.execute(
                        f"UPDATE entries SET state = 3, payload = NULL "  # noqa: S608
                        f"WHERE {column} = ? AND state IN (1, 2)", (url,)).rowcount
        return changed

    def requeue(self, keys: Iterable[str]) -> None:
        """See :meth:`Frontier.requeue`."""
        with self._change():
            for key in keys:
                self._ord += 1
                self._queued += self._db.execute(
                    "UPDATE entries SET state = 0, ord = ?, leased_at = NULL, "
                    "warc_file = NULL, warc_record_id = NULL WHERE key = ? AND state IN (1, 2) "
                    "AND payload IS NOT NULL", (self._ord, key)).rowcount

    def requeue_leases(self, older_than: float | None = None) -> int:
        """See :meth:`Frontier.requeue_leases`."""
        limit = time.time() - older_than if older_than is not None else float("inf")
        with self._change():
            count = self._db.execute(
                "UPDATE entries SET state = 0, leased_at = NULL "
                "WHERE state = 1 AND leased_at <= ?", (limit,)).rowcount
            self._queued += count
            return count

    def to_rebuild(self) -> Iterator[Fetched]:
        """See :meth:`Frontier.to_rebuild`."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT key, url, warc_file, warc_record_id FROM entries WHERE state = 2 "
                "ORDER BY warc_file, ord").fetchall()
        for key, url, warc_file, record_id in rows:
            yield Fetched(key, url, WarcRef(warc_file, record_id))

    def unfinished(self) -> Iterator[tuple[str, str, str]]:
        """See :meth:`Frontier.unfinished`."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT key, url, origin FROM entries WHERE state IN (1, 2)").fetchall()
        yield from rows

    def keys(self) -> Iterator[str]:
        """See :meth:`Frontier.keys`."""
        with self._mutex:
            rows = self._db.execute("SELECT key FROM entries").fetchall()
        for (key,) in rows:
            yield key

    def counts(self) -> Counts:
        """See :meth:`Frontier.counts`."""
        with self._mutex:
            rows = self._db.execute("SELECT state, COUNT(*) FROM entries GROUP BY state")
            by_state = {State(state).name.lower(): n for state, n in rows}
        return Counts(**by_state)

    # -- crawl-level values and durability ---------------------------------------------------
    def get_meta(self, name: str) -> str | None:
        """See :meth:`Frontier.get_meta`."""
        with self._mutex:
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        """See :meth:`Frontier.set_meta`."""
        with self._change():
            self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                             (name, value))

    def commit(self) -> None:
        """See :meth:`Frontier.commit`."""
        with self._mutex:
            self._commit_locked()

    def sync(self) -> None:
        """Commit once with ``synchronous=FULL``: the WAL, and so every commit before, is
        on disk when this returns."""
        with self._mutex:
            self._commit_locked()
            self._db.execute("PRAGMA synchronous=FULL")
            try:
                self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES "
                                 "('synced_at', ?)", (str(time.time()),))
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        """Close the database and release the lock."""
        with self._mutex:
            if self._lock_file is None:
                return
            self._commit_locked()
            self._db.close()
            self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> SqliteFrontier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FrontierObserver:
    """Told by the sink when results are durable; marks their URLs done in the frontier."""

    def __init__(self, frontier: Frontier) -> None:
        self.frontier = frontier

    def before_publish(self) -> None:
        """A shard is about to be published: the frontier's state (the links found on its
        pages) must be on disk first, so that a power cut cannot keep a row and lose them."""
        self.frontier.sync()

    def before_error(self) -> None:
        """An error record is about to be written: the changes before it (the links found
        on its page) must survive a kill first."""
        self.frontier.commit()

    def published(self, urls: list[str]) -> None:
        """A shard holding these URLs' rows is published."""
        self.frontier.done_urls(urls)

    def error_written(self, url: str) -> None:
        """An error record for ``url`` is written."""
        self.frontier.done_urls([url])


_FRONTIERS: WeakKeyDictionary[Any, Frontier] = WeakKeyDictionary()


def attach_frontier(crawler: Any, frontier: Frontier | None) -> None:
    """Make ``frontier`` the crawler's (``None``: forget it); :func:`frontier_for` finds it."""
    if frontier is None:
        _FRONTIERS.pop(crawler, None)
    else:
        _FRONTIERS[crawler] = frontier


def frontier_for(crawler: Any) -> Frontier | None:
    """The frontier the crawler's scheduler opened, or ``None`` (another scheduler)."""
    return _FRONTIERS.get(crawler)
