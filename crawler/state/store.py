"""The crawl state of a scheduled job: per URL, what each run saw, in one SQLite file.

A job that crawls the same sites every day keeps one state folder (``licrawl crawl --state
DIR``). For each URL it holds one **observation** per run: when it was fetched, the outcome
(``new``, ``changed``, ``unchanged``, ``removed``, ``error``), the HTTP status, the
validators for the next conditional request (ETag, Last-Modified), the payload and text
digests, the license, license category, TDM reservation and AI opt-out signals in force,
and the WARC record that shows it. Observations of a run are keyed by (URL, run): a run
resumed after a kill replaces its own observations, never doubles them.

Everything a run compares with (validators, digests, the license it had) is read from the
*previous* runs' observations only, so a run that dies half-way and resumes compares with
the same past as before, whatever it had written.

The file is ``DIR/state.sqlite`` (WAL journal, ``synchronous=NORMAL``: a killed process
loses at most its last uncommitted group of observations, never the file); its format is
versioned (``PRAGMA user_version``) and a file from a newer licrawl is refused, as is one
that is not a state file. ``DIR/lock`` (``flock``) keeps two runs of a job from overlapping:
the second gets :class:`StateLocked` at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from crawler.core.fsutil import try_lock

__all__ = [
    "FORMAT_VERSION",
    "check_state",
    "Observation",
    "Previous",
    "StateError",
    "StateLocked",
    "CrawlState",
]

#: Version of the state file's format; a file with a higher one is refused.
FORMAT_VERSION = 1
STATE_FILE = "state.sqlite"
LOCK_FILE = "lock"

#: Outcomes of one fetch of a URL in one run.
OUTCOMES = ("new", "changed", "unchanged", "removed", "error")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    last_time REAL NOT NULL,
    last_run INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    started REAL NOT NULL,
    ended REAL,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS observations (
    url_id INTEGER NOT NULL,
    run INTEGER NOT NULL,
    time REAL NOT NULL,
    outcome TEXT NOT NULL,
    status INTEGER,
    etag TEXT,
    last_modified TEXT,
    payload_digest TEXT,
    text_sha1 TEXT,
    license TEXT,
    license_category TEXT,
    tdm_reserved INTEGER,
    ai_optout TEXT,
    page_signals TEXT,
    page_tdm INTEGER,
    warc_file TEXT,
    warc_record_id TEXT,
    ref_record_id TEXT,
    ref_date TEXT,
    PRIMARY KEY (url_id, run)
) WITHOUT ROWID;
"""

#: Observations committed in groups of this many (or every COMMIT_SECONDS).
COMMIT_EVERY = 256
COMMIT_SECONDS = 0.5


class StateError(RuntimeError):
    """The state folder cannot be used (newer format, not a state file, unwritable)."""


class StateLocked(StateError):
    """Another run of the job holds the state folder."""


@dataclass(frozen=True, slots=True)
class Observation:
    """What one run saw of one URL. ``time`` is Unix seconds; ``ai_optout`` sorted."""

    url: str
    time: float
    outcome: str
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None
    text_sha1: str | None = None
    license: str | None = None
    license_category: str | None = None
    tdm_reserved: bool | None = None
    ai_optout: tuple[str, ...] = ()
    page_signals: tuple[str, ...] = ()
    page_tdm: bool | None = None
    warc_file: str | None = None
    warc_record_id: str | None = None
    ref_record_id: str | None = None
    ref_date: str | None = None
    run_id: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; one of {OUTCOMES}")


@dataclass(frozen=True, slots=True)
class Previous:
    """What the runs before this one knew of a URL: its latest observation with a page
    (``text_sha1``), for conditional requests and comparisons, and its latest fetch."""

    page: Observation | None
    last: Observation


_COLUMNS = ("time", "outcome", "status", "etag", "last_modified", "payload_digest",
            "text_sha1", "license", "license_category", "tdm_reserved", "ai_optout",
            "page_signals", "page_tdm", "warc_file", "warc_record_id", "ref_record_id",
            "ref_date")


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _row_to_observation(url: str, run_id: str, row: tuple[object, ...]) -> Observation:
    data = dict(zip(_COLUMNS, row, strict=True))
    data["tdm_reserved"] = _bool(data["tdm_reserved"])  # type: ignore[arg-type]
    data["page_tdm"] = _bool(data["page_tdm"])  # type: ignore[arg-type]
    data["ai_optout"] = tuple(json.loads(data["ai_optout"] or "[]"))  # type: ignore[arg-type]
    data["page_signals"] = tuple(json.loads(data["page_signals"] or "[]"))  # type: ignore[arg-type]
    return Observation(url=url, run_id=run_id, **data)  # type: ignore[arg-type]


def check_state(folder: str | os.PathLike[str]) -> None:
    """Whether a run could use the state folder now: :class:`StateLocked` when another run
    holds it, :class:`StateError` when its file is from a newer licrawl or not a state file.
    Takes nothing: for a command to say so before it starts a crawl."""
    path = Path(folder)
    if (path / STATE_FILE).is_file():
        CrawlState(path).close()
    if (path / LOCK_FILE).is_file():
        held = try_lock(path / LOCK_FILE)
        if held is None:
            raise _locked(path)
        held.close()


def _locked(folder: Path) -> StateLocked:
    """The error for a state folder another run holds, naming that run's process."""
    try:
        holder = (folder / LOCK_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        holder = ""
    return StateLocked(f"{folder} is in use by another run of this job "
                       f"({holder or 'another process'})")


class CrawlState:
    """One job's state folder, open for one run at a time (see the module's doc).

    Thread-safe: one connection behind a lock (the reactor reads what it needs for a
    request, the crawl's writer thread records observations). ``run_id`` starts (or, when
    it exists, resumes) that run; without it the state is opened for reading
    (``licrawl history``, ``licrawl filter --state``) and no lock is taken.
    """

    def __init__(self, folder: str | os.PathLike[str], run_id: str | None = None, *,
                 now: float | None = None) -> None:
        self.folder = Path(folder)
        self.run_id = run_id
        self._lock_file: TextIO | None = None
        path = self.folder / STATE_FILE
        if run_id is None:
            if not path.is_file():
                raise StateError(f"{self.folder}: no crawl state here ({STATE_FILE} missing)")
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock()
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > FORMAT_VERSION:
                raise StateError(f"{path} was written by a newer licrawl (state format "
                                 f"{version}; this one reads up to {FORMAT_VERSION})")
            if run_id is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version={FORMAT_VERSION}")
            self._db.execute("SELECT COUNT(*) FROM runs").fetchone()
        except sqlite3.DatabaseError as exc:
            self._unlock()
            raise StateError(f"{path}: not a usable crawl state ({exc})") from exc
        except StateError:
            self._unlock()
            raise
        self._mutex = threading.Lock()
        self._changes = 0
        self._group_started = time.monotonic()
        self.run: int | None = None
        if run_id is not None:
            self.run = self._start_run(run_id, time.time() if now is None else now)

    # -- lifetime --------------------------------------------------------------------------
    def _lock(self) -> None:
        self._lock_file = try_lock(self.folder / LOCK_FILE)
        if self._lock_file is None:
            raise _locked(self.folder)
        self._lock_file.truncate(0)
        self._lock_file.write(f"pid {os.getpid()} since "
                              f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
        self._lock_file.flush()

    def _unlock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _start_run(self, run_id: str, now: float) -> int:
        with self._db:
            row = self._db.execute("SELECT run FROM runs WHERE run_id = ?", (run_id,)
                                   ).fetchone()
            if row is not None:
                self._db.execute("UPDATE runs SET ended = NULL WHERE run = ?", (row[0],))
                return int(row[0])
            cur = self._db.execute("INSERT INTO runs (run_id, started) VALUES (?, ?)",
                                   (run_id, now))
            return int(cur.lastrowid or 0)

    def end_run(self, summary: dict[str, object], now: float | None = None) -> None:
        """Mark this run finished, with its summary (shown by ``licrawl history --runs``)."""
        with self._mutex:
            self._commit_locked()
            self._db.execute("UPDATE runs SET ended = ?, summary = ? WHERE run = ?",
                             (time.time() if now is None else now, json.dumps(summary),
                              self.run))

    def commit(self) -> None:
        """Commit the observations recorded so far."""
        with self._mutex:
            self._commit_locked()

    def close(self) -> None:
        """Commit and close; the lock is released."""
        with self._mutex:
            if self._db is not None:
                self._commit_locked()
                self._db.close()
        self._unlock()

    def __enter__(self) -> CrawlState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _commit_locked(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._changes = 0

    # -- reading ---------------------------------------------------------------------------
    def previous(self, url: str) -> Previous | None:
        """What runs before this one saw of ``url`` (``None``: never fetched before)."""
        run = self.run if self.run is not None else 1 << 62
        cols = ", ".join(f"o.{c}" for c in _COLUMNS)
        with self._mutex:
            last = self._db.execute(
                f"SELECT {cols}, r.run_id FROM urls u JOIN observations o ON o.url_id = u.id "
                f"JOIN runs r ON r.run = o.run WHERE u.url = ? AND o.run < ? "
                f"ORDER BY o.run DESC LIMIT 1", (url, run)).fetchone()
            if last is None:
                return None
            page = last if last[_COLUMNS.index("text_sha1")] is not None else (
                self._db.execute(
                    f"SELECT {cols}, r.run_id FROM urls u JOIN observations o "
                    f"ON o.url_id = u.id JOIN runs r ON r.run = o.run WHERE u.url = ? "
                    f"AND o.run < ? AND o.text_sha1 IS NOT NULL ORDER BY o.run DESC LIMIT 1",
                    (url, run)).fetchone())
        last_obs = _row_to_observation(url, str(last[-1]), last[:-1])
        page_obs = None if page is None else _row_to_observation(url, str(page[-1]), page[:-1])
        return Previous(page_obs, last_obs)

    def last_fetched(self, url: str) -> float | None:
        """Unix time of the latest fetch of ``url`` by an earlier run (``None``: none)."""
        with self._mutex:
            row = self._db.execute(
                "SELECT MAX(o.time) FROM urls u JOIN observations o ON o.url_id = u.id "
                "WHERE u.url = ? AND o.run < ?",
                (url, self.run if self.run is not None else 1 << 62)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def latest(self, urls: Iterable[str]) -> dict[str, Observation]:
        """The latest observation by an earlier run of each of ``urls`` that has one (one
        query per 500 URLs: ``licrawl filter --state`` asks for a record batch at a time)."""
        run = self.run if self.run is not None else 1 << 62
        cols = ", ".join(f"o.{c}" for c in _COLUMNS)
        wanted = list(dict.fromkeys(urls))
        found: dict[str, Observation] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            with self._mutex:
                rows = self._db.execute(
                    f"SELECT u.url, r.run_id, {cols} FROM urls u JOIN observations o "
                    f"ON o.url_id = u.id AND o.run = (SELECT MAX(p.run) FROM observations p "
                    f"WHERE p.url_id = u.id AND p.run < ?) JOIN runs r ON r.run = o.run "
                    f"WHERE u.url IN ({', '.join('?' * len(chunk))})", (run, *chunk)
                ).fetchall()
            for row in rows:
                found[str(row[0])] = _row_to_observation(str(row[0]), str(row[1]), row[2:])
        return found

    def known_urls(self) -> Iterator[tuple[str, float]]:
        """Every URL an earlier run fetched, with its latest fetch time, in URL order."""
        run = self.run if self.run is not None else 1 << 62
        last_id = 0
        while True:  # in pages, so that the lock is not held for the whole walk
            with self._mutex:
                rows = self._db.execute(
                    "SELECT u.id, u.url, MAX(o.time) FROM urls u JOIN observations o "
                    "ON o.url_id = u.id WHERE u.id > ? AND o.run < ? GROUP BY u.id "
                    "ORDER BY u.id LIMIT 1000", (last_id, run)).fetchall()
            if not rows:
                return
            for url_id, url, when in rows:
                last_id = url_id
                yield str(url), float(when)

    def observations(self, urls: Iterable[str] | None = None, *, since: float | None = None
                     ) -> Iterator[Observation]:
        """Observations in URL then run order (of ``urls`` only, when given; at or after
        ``since``, when given), read in pages."""
        cols = ", ".join(f"o.{c}" for c in _COLUMNS)
        wanted = None if urls is None else sorted(set(urls))
        where = "" if since is None else " AND o.time >= ?"
        extra: tuple[object, ...] = () if since is None else (since,)
        if wanted is not None:
            for url in wanted:
                with self._mutex:
                    rows = self._db.execute(
                        f"SELECT u.url, r.run_id, {cols} FROM urls u JOIN observations o "
                        f"ON o.url_id = u.id JOIN runs r ON r.run = o.run WHERE u.url = ?"
                        f"{where} ORDER BY o.run", (url, *extra)).fetchall()
                for row in rows:
                    yield _row_to_observation(str(row[0]), str(row[1]), row[2:])
            return
        after = ("", 0)
        while True:
            with self._mutex:
                rows = self._db.execute(
                    f"SELECT u.url, r.run_id, {cols}, o.run FROM urls u JOIN observations o "
                    f"ON o.url_id = u.id JOIN runs r ON r.run = o.run WHERE (u.url, o.run) > "
                    f"(?, ?){where} ORDER BY u.url, o.run LIMIT 2000", (*after, *extra)
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _row_to_observation(str(row[0]), str(row[1]), row[2:-1])
            after = (str(rows[-1][0]), int(rows[-1][-1]))

    def runs(self) -> list[tuple[str, float, float | None, dict[str, object]]]:
        """Every run: ``(run_id, started, ended, summary)``, oldest first."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT run_id, started, ended, summary FROM runs ORDER BY run").fetchall()
        return [(str(r[0]), float(r[1]), r[2], json.loads(r[3]) if r[3] else {})
                for r in rows]

    # -- writing ---------------------------------------------------------------------------
    def record(self, obs: Observation) -> None:
        """Record this run's observation of ``obs.url`` (replacing an earlier one of the same
        run); committed with its group (see :meth:`commit`)."""
        if self.run is None:
            raise StateError("state opened for reading")
        with self._mutex:
            if not self._db.in_transaction:
                self._db.execute("BEGIN IMMEDIATE")
                self._group_started = time.monotonic()
            self._db.execute(
                "INSERT INTO urls (url, last_time, last_run) VALUES (?, ?, ?) ON CONFLICT(url) "
                "DO UPDATE SET last_time = excluded.last_time, last_run = excluded.last_run",
                (obs.url, obs.time, self.run))
            url_id = self._db.execute("SELECT id FROM urls WHERE url = ?", (obs.url,)
                                      ).fetchone()[0]
            values = [getattr(obs, c) for c in _COLUMNS]
            values[_COLUMNS.index("ai_optout")] = json.dumps(list(obs.ai_optout))
            values[_COLUMNS.index("page_signals")] = json.dumps(list(obs.page_signals))
            self._db.execute(
                f"INSERT OR REPLACE INTO observations (url_id, run, {', '.join(_COLUMNS)}) "
                f"VALUES (?, ?, {', '.join('?' * len(_COLUMNS))})",
                (url_id, self.run, *values))
            self._changes += 1
            if (self._changes >= COMMIT_EVERY
                    or time.monotonic() - self._group_started >= COMMIT_SECONDS):
                self._commit_locked()
