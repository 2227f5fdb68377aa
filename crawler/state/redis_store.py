"""The crawl state of a scheduled job in Redis, shared by the processes of a crawl fleet.

:class:`RedisCrawlState` has the interface and the semantics of
:class:`~crawler.state.store.CrawlState` (one observation per (URL, run), comparisons only
with earlier runs, a run resumed replaces its own observations), for a state named by a
URL: ``redis://HOST:PORT/DB?name=JOB`` (``rediss://`` and ``unix://`` too; ``name``
defaults to ``licrawl``). Every process of a fleet crawl (``licrawl crawl --frontier ...``,
one crawl id) opens it for the same run and records what it fetched; two runs of the job
(two crawl ids) never overlap. Every key starts with ``licrawl-state:JOB:`` (``P`` below):

* ``P format``: the layout's version (:data:`FORMAT_VERSION`; a newer one is refused);
* ``P urls`` (sorted set, every score 0): every URL observed, read in pages in URL order
  (``ZRANGEBYLEX``), so walks are bounded in memory and see each URL once;
* ``P o:`` + 12 bytes of the URL's SHA-1 (string): the URL's observations, one line per run,
  ``RUN<TAB>[compact JSON array]\\n`` (the fields of :data:`FIELDS` in order, the outcome as
  its index in :data:`~crawler.state.store.OUTCOMES`, booleans as 0/1, a WARC-Record-ID
  ``<urn:uuid:U>`` as ``U`` (another form after ``!``), a ``ref_record_id`` equal to the
  ``warc_record_id`` as ``1``, trailing empty fields left out); a run's line is replaced
  by one Lua script (atomic);
* ``P runs`` (hash): run id -> run number; ``P nrun``: the last run number;
  ``P run:N`` (hash): ``id``, ``started``, ``ended`` and ``s:MS:PROCESS`` (each process's
  summary, by the Redis time it ended: :meth:`RedisCrawlState.runs` adds them up);
* ``P lock``: the run id holding the job, expiring after the lease (``lease_ttl``, default
  60 s: ``LICRAWL_LEASE_TTL``) unless a process of that run renews it (every quarter lease);
  ``P members`` (sorted set): that run's live processes, scored by their last heartbeat.

Lock: a run's first process takes ``P lock`` (a different run id there gets
:class:`~crawler.state.store.StateLocked` at once); the fleet's other processes, with the
same run id, join it. The last live process to end the run marks it ended and frees the
lock; a run killed without ending frees it when the lease runs out.

redis-py is imported when a state is opened (``pip install 'licrawl[fleet]'``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from crawler.core.locations import shown_location
from crawler.state.store import (
    COMMIT_EVERY,
    COMMIT_SECONDS,
    OUTCOMES,
    Observation,
    Previous,
    StateError,
    StateLocked,
)

__all__ = ["FORMAT_VERSION", "FIELDS", "RedisCrawlState", "check_redis_state",
           "is_redis_location", "merge_summaries", "parse_location"]

#: Version of the Redis layout; a state with a higher one is refused.
FORMAT_VERSION = 1
#: Location schemes of a Redis state.
SCHEMES = ("redis://", "rediss://", "unix://")
#: The state's name when the location has no ``?name=``.
DEFAULT_NAME = "licrawl"
#: Seconds after which the lock of a run whose processes all stopped renewing it expires.
DEFAULT_LEASE_TTL = 60.0
#: Observation fields in the order of the stored JSON arrays (``url`` and ``run_id`` are
#: the key and the line's run).
FIELDS = ("time", "outcome", "status", "etag", "last_modified", "payload_digest",
          "text_sha1", "license", "license_category", "tdm_reserved", "ai_optout",
          "page_signals", "page_tdm", "warc_file", "warc_record_id", "ref_record_id",
          "ref_date")
_TUPLES = ("ai_optout", "page_signals")
_BOOLS = ("tdm_reserved", "page_tdm")
_IDS = ("warc_record_id", "ref_record_id")
_UUID_ID = re.compile(r"<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}>")
logger = logging.getLogger(__name__)

_PAGE = 1000  # URLs per ZRANGEBYLEX page and per MGET
_FAR = 1 << 62

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# KEYS format lock members runs nrun; ARGV run_id owner ttl_ms started version prefix
_START = _NOW_MS + """
local v = redis.call('GET', KEYS[1])
if v and not tonumber(v) then return {-2, v} end
if v and tonumber(v) > tonumber(ARGV[5]) then return {-1, v} end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return {0, holder, redis.call('PTTL', KEYS[2])} end
if not holder then redis.call('DEL', KEYS[3]) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[3]))
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
redis.call('ZADD', KEYS[3], now, ARGV[2])
redis.call('SET', KEYS[1], ARGV[5], 'NX')
local run = redis.call('HGET', KEYS[4], ARGV[1])
if run then
  redis.call('HDEL', ARGV[6] .. 'run:' .. run, 'ended')
else
  run = redis.call('INCR', KEYS[5])
  redis.call('HSET', KEYS[4], ARGV[1], run)
  redis.call('HSET', ARGV[6] .. 'run:' .. run, 'id', ARGV[1], 'started', ARGV[4])
end
return {1, tonumber(run)}
"""
# KEYS lock members; ARGV run_id owner ttl_ms
_BEAT = _NOW_MS + """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[2])
return 1
"""
# KEYS lock members run; ARGV run_id owner ttl_ms summary ended end(1/0)
_LEAVE = _NOW_MS + """
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[3]))
if ARGV[6] == '1' then redis.call('HSET', KEYS[3], 's:' .. now .. ':' .. ARGV[2], ARGV[4]) end
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
if ARGV[6] == '1' then redis.call('HSET', KEYS[3], 'ended', ARGV[5]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""
# KEYS observations urls; ARGV run json url: this run's line replaced (or added)
_RECORD = """
local line = ARGV[1] .. '\\t' .. ARGV[2] .. '\\n'
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], line)
  redis.call('ZADD', KEYS[2], 0, ARGV[3])
  return 1
end
local s = string.find('\\n' .. v, '\\n' .. ARGV[1] .. '\\t', 1, true)
if s then
  local stop = string.find(v, '\\n', s, true)
  v = string.sub(v, 1, s - 1) .. string.sub(v, stop + 1)
end
redis.call('SET', KEYS[1], v .. line)
return 0
"""


def _redis_module() -> Any:
    """redis-py, or a :class:`StateError` saying how to install it."""
    try:
        import redis
    except ImportError:
        raise StateError("a crawl state in Redis needs redis-py: pip install "
                         "'licrawl[fleet]'") from None
    return redis


def is_redis_location(location: object) -> bool:
    """Whether ``location`` names a Redis state (``redis://``, ``rediss://``, ``unix://``)
    rather than a folder."""
    return isinstance(location, str) and location.startswith(SCHEMES)


def parse_location(location: str) -> tuple[str, str]:
    """``(Redis URL for redis-py, state name)`` of ``redis://HOST:PORT/DB?name=JOB``;
    :class:`StateError` for a bad name (empty, or with spaces, braces or glob characters)."""
    parts = urlsplit(location)
    query = parse_qsl(parts.query, keep_blank_values=True)
    names = [v for k, v in query if k == "name"]
    name = names[-1] if names else DEFAULT_NAME
    if not name or any(c in name for c in " \t\n{}*?[]\\"):
        raise StateError(f"{location}: bad state name {name!r}")
    rest = urlencode([(k, v) for k, v in query if k != "name"])
    return urlunsplit(parts._replace(query=rest)), name


def _short_id(record_id: str | None) -> str | None:
    """A WARC-Record-ID as stored: ``<urn:uuid:U>`` as ``U``, anything else after ``!``."""
    if record_id is None:
        return None
    if _UUID_ID.fullmatch(record_id):
        return record_id[10:-1]
    return "!" + record_id


def _long_id(stored: str | None) -> str | None:
    if stored is None:
        return None
    return stored[1:] if stored.startswith("!") else f"<urn:uuid:{stored}>"


def encode(obs: Observation) -> bytes:
    """``obs`` as the compact JSON array stored for it (see the module doc)."""
    values: list[Any] = []
    for name in FIELDS:
        value = getattr(obs, name)
        if name == "outcome":
            value = OUTCOMES.index(value)
        elif name in _BOOLS and value is not None:
            value = int(value)
        elif name in _TUPLES:
            value = list(value)
        elif name == "ref_record_id" and value is not None and value == obs.warc_record_id:
            value = 1
        elif name in _IDS:
            value = _short_id(value)
        values.append(value)
    while values and (values[-1] is None or values[-1] == []):
        values.pop()
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()


def decode(url: str, run_id: str, data: bytes | str) -> Observation:
    """The observation stored as ``data`` (:func:`encode`'s form)."""
    values = json.loads(data)
    fields: dict[str, Any] = dict.fromkeys(FIELDS)
    fields.update(zip(FIELDS, values, strict=False))
    fields["outcome"] = OUTCOMES[fields["outcome"]]
    for name in _BOOLS:
        if fields[name] is not None:
            fields[name] = bool(fields[name])
    for name in _TUPLES:
        fields[name] = tuple(fields[name] or ())
    fields["warc_record_id"] = _long_id(fields["warc_record_id"])
    ref = fields["ref_record_id"]
    fields["ref_record_id"] = fields["warc_record_id"] if ref == 1 else _long_id(ref)
    return Observation(url=url, run_id=run_id, **fields)


def _lines(blob: bytes | None) -> list[tuple[int, bytes]]:
    """A URL's stored observations: ``(run, JSON)`` in run order."""
    if not blob:
        return []
    out = []
    for line in blob.split(b"\n"):
        if line:
            run, _, data = line.partition(b"\t")
            out.append((int(run), data))
    out.sort(key=lambda item: item[0])
    return out


def merge_summaries(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The run's summary from its processes' summaries: numbers added (``seconds``: the
    longest), mappings merged the same way, lists joined, other values the first one's."""
    merged: dict[str, Any] = {}
    for part in parts:
        _merge_into(merged, part)
    return merged


def _merge_into(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        have = into.get(key)
        if have is None:
            into[key] = json.loads(json.dumps(value))
        elif isinstance(have, dict) and isinstance(value, dict):
            _merge_into(have, value)
        elif isinstance(have, list) and isinstance(value, list):
            have.extend(value)
        elif (isinstance(have, int | float) and isinstance(value, int | float)
              and not isinstance(have, bool) and not isinstance(value, bool)):
            into[key] = max(have, value) if key == "seconds" else have + value


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _connect(location: str) -> tuple[Any, Any, bytes]:
    """``(redis module, client, key prefix)`` for ``location``."""
    redis = _redis_module()
    url, name = parse_location(location)
    try:
        client = redis.Redis.from_url(url, socket_timeout=10.0, socket_connect_timeout=5.0)
    except ValueError as exc:
        raise StateError(f"{shown_location(location)}: {exc}") from exc
    return redis, client, f"licrawl-state:{name}:".encode()


def _check_format(location: str, version: bytes | None) -> None:
    if version is None:
        return
    if not version.isdigit():
        raise StateError(f"{shown_location(location)}: not a usable crawl state (format key holds "
                         f"{version[:40]!r})")
    if int(version) > FORMAT_VERSION:
        raise StateError(f"{shown_location(location)} was written by a newer licrawl (state format "
                         f"{int(version)}; this one reads up to {FORMAT_VERSION})")


def _locked(location: str, holder: bytes, ttl_ms: int) -> StateLocked:
    left = f"; its lease ends in {ttl_ms / 1000:.0f} s unless renewed" if ttl_ms > 0 else ""
    return StateLocked(f"{shown_location(location)} is in use by another run of this job "
                       f"(run {holder.decode(errors='replace')}{left})")


def check_redis_state(location: str, run_id: str | None = None) -> None:
    """As :func:`crawler.state.store.check_state` for a Redis state: :class:`StateLocked`
    when a run other than ``run_id`` holds it (any run, without ``run_id``),
    :class:`StateError` when it is from a newer licrawl, not a state or unreachable."""
    redis, client, prefix = _connect(location)
    try:
        pipe = client.pipeline(transaction=False)
        pipe.get(prefix + b"format")
        pipe.get(prefix + b"lock")
        pipe.pttl(prefix + b"lock")
        version, holder, ttl_ms = pipe.execute()
    except redis.RedisError as exc:
        raise StateError(f"{shown_location(location)}: cannot use Redis ({exc})") from exc
    finally:
        client.close()
    _check_format(location, version)
    if holder is not None and (run_id is None or holder != run_id.encode()):
        raise _locked(location, holder, int(ttl_ms))


class RedisCrawlState:
    """A job's crawl state in Redis, open for one run or for reading (see the module doc).

    Thread-safe (one client; recorded observations are buffered behind a lock and written
    in groups of :data:`~crawler.state.store.COMMIT_EVERY` or every
    :data:`~crawler.state.store.COMMIT_SECONDS`, one pipeline each). ``run_id`` starts or
    joins (the fleet's other processes) or resumes that run and holds the job's lock while
    open; without it the state is opened for reading and no lock is taken.
    ``lease_ttl``: seconds after which the lock of a run with no live process expires.
    """

    def __init__(self, location: str, run_id: str | None = None, *,
                 now: float | None = None, lease_ttl: float = DEFAULT_LEASE_TTL) -> None:
        self.location = location
        self.folder = shown_location(location)  # what messages name, as CrawlState's folder
        self.run_id = run_id
        self.run: int | None = None
        self.lease_ttl = float(lease_ttl)
        self._redis, self._db, self.prefix = _connect(location)
        self._owner = _owner()
        self._mutex = threading.Lock()
        self._pending: list[tuple[Observation, bytes]] = []
        self._group_started = time.monotonic()
        self._run_ids: dict[int, str] = {}
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._left = False
        self._scripts = {name: self._db.register_script(src) for name, src in (
            ("start", _START), ("beat", _BEAT), ("leave", _LEAVE), ("record", _RECORD))}
        p = self.prefix
        with self._errors("cannot use"):
            version = self._db.get(p + b"format")
            _check_format(location, version)
            if run_id is None:
                if version is None:
                    raise StateError(f"{self.folder}: no crawl state here (no "
                                     f"{(p + b'format').decode()} key)")
                return
            answer = self._scripts["start"](
                keys=[p + b"format", p + b"lock", p + b"members", p + b"runs", p + b"nrun"],
                args=[run_id, self._owner, self._ttl_ms, repr(time.time() if now is None
                                                              else now),
                      FORMAT_VERSION, p])
        if answer[0] != 1:
            self._db.close()
            if answer[0] < 0:
                _check_format(location, answer[1])
            raise _locked(location, answer[1], int(answer[2]))
        self.run = int(answer[1])
        self._heartbeat = threading.Thread(target=self._beat, name="state-heartbeat",
                                           daemon=True)
        self._heartbeat.start()

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.lease_ttl * 1000))

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Redis errors as :class:`StateError` naming the state."""
        try:
            yield
        except self._redis.RedisError as exc:
            raise StateError(f"{self.folder}: {what} the crawl state in Redis ({exc})"
                             ) from exc

    def _key(self, url: str) -> bytes:
        return self.prefix + b"o:" + hashlib.sha1(url.encode()).digest()[:12]

    # -- lifetime --------------------------------------------------------------------------
    def _beat(self) -> None:
        """Renew the lock and this process's membership every quarter lease."""
        p = self.prefix
        while not self._stop.wait(max(0.05, self.lease_ttl / 4)):
            try:
                if not self._scripts["beat"](keys=[p + b"lock", p + b"members"],
                                             args=[self.run_id, self._owner, self._ttl_ms]):
                    logger.error("Crawl state %s: another run took the lock (this process's "
                                 "heartbeat stopped for longer than %.0f s)", self.folder,
                                 self.lease_ttl)
            except self._redis.RedisError as exc:
                logger.debug("Crawl state heartbeat: %s", exc)

    def _leave(self, summary: dict[str, object] | None, now: float | None) -> None:
        """Stop the heartbeat and leave the run (``summary``: end it, see end_run)."""
        if self._left:
            return
        self._left = True
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        p = self.prefix
        ended = repr(time.time() if now is None else now)
        with self._errors("cannot end the run in"):
            self._scripts["leave"](
                keys=[p + b"lock", p + b"members", p + f"run:{self.run}".encode()],
                args=[self.run_id, self._owner, self._ttl_ms,
                      json.dumps(summary or {}, separators=(",", ":")), ended,
                      "1" if summary is not None else "0"])

    def end_run(self, summary: dict[str, object], now: float | None = None) -> None:
        """End this process's part of the run, with its summary; the last live process of
        the run marks it ended (the summaries are added up by :meth:`runs`) and frees the
        job's lock."""
        if self.run is None:
            raise StateError("state opened for reading")
        self.commit()
        self._leave(summary, now)

    def commit(self) -> None:
        """Write the observations recorded so far."""
        with self._mutex:
            self._flush_locked()

    def close(self) -> None:
        """Write what is pending and close; this process leaves the run (the last one
        frees the lock)."""
        try:
            if self.run is not None:
                self.commit()
                self._leave(None, None)
        finally:
            self.run = None
            self._db.close()

    def __enter__(self) -> RedisCrawlState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _flush_locked(self) -> None:
        if not self._pending:
            return
        urls = self.prefix + b"urls"
        pipe = self._db.pipeline(transaction=False)
        run = str(self.run)
        for obs, data in self._pending:
            self._scripts["record"](keys=[self._key(obs.url), urls], args=[run, data, obs.url],
                         client=pipe)
        with self._errors("cannot write to"):
            pipe.execute()
        self._pending.clear()

    # -- reading ---------------------------------------------------------------------------
    def _run_id(self, run: int) -> str:
        if run not in self._run_ids:
            with self._errors("cannot read"):
                found = self._db.hgetall(self.prefix + b"runs")
            self._run_ids = {int(n): k.decode() for k, n in found.items()}
        return self._run_ids.get(run, "")

    def _earlier(self, blob: bytes | None) -> list[tuple[int, bytes]]:
        before = self.run if self.run is not None else _FAR
        return [(run, data) for run, data in _lines(blob) if run < before]

    def _get(self, url: str) -> bytes | None:
        with self._errors("cannot read"):
            return self._db.get(self._key(url))  # type: ignore[no-any-return]

    def previous(self, url: str) -> Previous | None:
        """What runs before this one saw of ``url`` (``None``: never fetched before)."""
        earlier = self._earlier(self._get(url))
        if not earlier:
            return None
        seen = [decode(url, self._run_id(run), data) for run, data in reversed(earlier)]
        return Previous(next((o for o in seen if o.text_sha1 is not None), None), seen[0])

    def last_fetched(self, url: str) -> float | None:
        """Unix time of the latest fetch of ``url`` by an earlier run (``None``: none)."""
        times = [float(json.loads(data)[0]) for _, data in self._earlier(self._get(url))]
        return max(times) if times else None

    def latest(self, urls: Iterable[str]) -> dict[str, Observation]:
        """The latest observation by an earlier run of each of ``urls`` that has one (one
        ``MGET`` per 1,000 URLs)."""
        wanted = list(dict.fromkeys(urls))
        found: dict[str, Observation] = {}
        for start in range(0, len(wanted), _PAGE):
            chunk = wanted[start:start + _PAGE]
            with self._errors("cannot read"):
                blobs = self._db.mget([self._key(u) for u in chunk])
            for url, blob in zip(chunk, blobs, strict=True):
                if earlier := self._earlier(blob):
                    run, data = earlier[-1]
                    found[url] = decode(url, self._run_id(run), data)
        return found

    def _pages(self) -> Iterator[list[tuple[str, bytes | None]]]:
        """Every URL with its stored observations, in URL order, a page at a time."""
        after = b"-"
        while True:
            with self._errors("cannot read"):
                urls = self._db.zrangebylex(self.prefix + b"urls", after, b"+", start=0,
                                            num=_PAGE)
                if not urls:
                    return
                blobs = self._db.mget([self._key(u.decode()) for u in urls])
            yield [(u.decode(), b) for u, b in zip(urls, blobs, strict=True)]
            after = b"(" + urls[-1]

    def known_urls(self) -> Iterator[tuple[str, float]]:
        """Every URL an earlier run fetched, with its latest fetch time, in URL order."""
        for page in self._pages():
            for url, blob in page:
                if earlier := self._earlier(blob):
                    yield url, max(float(json.loads(data)[0]) for _, data in earlier)

    def observations(self, urls: Iterable[str] | None = None, *, since: float | None = None
                     ) -> Iterator[Observation]:
        """Observations in URL then run order (of ``urls`` only, when given; at or after
        ``since``, when given), read in pages."""
        if urls is not None:
            pages: Iterable[list[tuple[str, bytes | None]]] = (
                [(url, self._get(url))] for url in sorted(set(urls)))
        else:
            pages = self._pages()
        for page in pages:
            for url, blob in page:
                for run, data in _lines(blob):
                    obs = decode(url, self._run_id(run), data)
                    if since is None or obs.time >= since:
                        yield obs

    def runs(self) -> list[tuple[str, float, float | None, dict[str, object]]]:
        """Every run: ``(run_id, started, ended, summary)``, oldest first; the summary adds
        up those of the run's processes (:func:`merge_summaries`)."""
        with self._errors("cannot read"):
            last = int(self._db.get(self.prefix + b"nrun") or 0)
            pipe = self._db.pipeline(transaction=False)
            for run in range(1, last + 1):
                pipe.hgetall(self.prefix + f"run:{run}".encode())
            rows = pipe.execute()
        out: list[tuple[str, float, float | None, dict[str, object]]] = []
        for row in rows:
            if not row:
                continue
            parts = [json.loads(row[k]) for k in sorted(row) if k.startswith(b"s:")]
            ended = row.get(b"ended")
            out.append((row[b"id"].decode(), float(row[b"started"]),
                        None if ended is None else float(ended), merge_summaries(parts)))
        return out

    # -- writing ---------------------------------------------------------------------------
    def record(self, obs: Observation) -> None:
        """Record this run's observation of ``obs.url`` (replacing an earlier one of the same
        run, whichever process of the run recorded it); written with its group (see
        :meth:`commit`)."""
        if self.run is None:
            raise StateError("state opened for reading")
        data = encode(obs)
        with self._mutex:
            if not self._pending:
                self._group_started = time.monotonic()
            self._pending.append((obs, data))
            if (len(self._pending) >= COMMIT_EVERY
                    or time.monotonic() - self._group_started >= COMMIT_SECONDS):
                self._flush_locked()
