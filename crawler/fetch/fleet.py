"""A frontier in Redis shared by a fleet of crawl processes (:class:`RedisFrontier`).

Any number of ``licrawl crawl --frontier redis://HOST:PORT/DB --crawl-name NAME`` processes,
on one machine or several, form one crawl. Every key of a crawl starts with
``licrawl:NAME:`` (``P`` below):

* ``P seen`` (set): the seen-set, every request fingerprint ever queued;
* ``P e:KEY`` (hash): one entry not done yet: ``url``, ``origin``, ``host`` (``scheme://
  netloc``), ``payload`` (the pickled request dict), ``state`` (0 queued, 1 leased,
  2 fetched), ``owner`` and ``slot`` (holds one of its host's in-flight places), ``wf``/``wr``
  (WARC reference once fetched). Dropped when the entry is done (the seen-set remembers it);
* ``P q:HOST`` (sorted set): the host's queue, highest priority first, newest first;
* ``P ready`` (sorted set): the hosts that may be fetched, scored by the time (ms, Redis
  clock) from which they may: a host is there while its queue is not empty and fewer than
  its limit of requests are in flight;
* ``P hosts`` (hash): host -> its ``Crawl-delay`` in ms, once its robots.txt is read (a host
  not there yet gets one request at a time, so one process reads its robots.txt);
  ``P inflight`` (hash): host -> requests in flight; ``P next`` (hash): host -> earliest next
  fetch (ms);
* ``P owners`` (sorted set): live processes scored by their last heartbeat (ms);
  ``P owned:OWNER`` (set): the entries it leased. An owner whose heartbeat is older than the
  lease timeout is dead: its entries go back to the queue;
* ``P byurl`` (hash): 96 bits of the SHA-1 of a URL (and of an origin) -> key of the
  entries not done (rows and error records name URLs); ``P n`` (hash): counters (queued,
  leased, fetched, done, ord, budget);
  ``P budget`` (set): keys charged to the page budget; ``P meta`` (hash);
  ``P doneby`` / ``P donehost`` (hashes): pages done per process and per host; ``P ops``
  (hash): Redis round trips each process made, written when it stops;
* ``P site:ORIGIN`` (hash): the host's robots.txt and tdmrep.json as first fetched by any
  process, with their WARC references; while its robots.txt is unavailable (5xx, 429,
  unreachable), why (``unavailable``), the fetches made after the first failed one
  (``refetches``) and when the next may start (``retry_at``, epoch seconds);
  ``P siteclaim:ORIGIN`` (string, with a time to live): the process fetching the host's
  robots.txt now, so that the fleet fetches it once (the others wait for its result).

Politeness for the fleet: a request is leased only from a host in ``ready`` whose time has
come. With a delay (``DOWNLOAD_DELAY`` or the host's ``Crawl-delay``, whichever is longer)
the host has one request in flight at a time and the next may start ``delay`` after the last
one left the downloader; without, up to ``host_concurrency`` requests are in flight.

Every step is one Lua script (atomic). Redis errors are retried with exponential backoff
(tenacity) for ``give_up_after`` seconds; then the frontier is *down*: it hands out nothing,
and every change it is asked for (links found, results written) is appended to a spill file
in the job folder, applied to Redis by the next run (:meth:`RedisFrontier.replay_spills`),
so nothing the process fetched is lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from crawler.core.locations import shown_location
from crawler.core.page import WarcRef
from crawler.fetch.frontier import Counts, Fetched, FrontierError, Lease

logger = logging.getLogger(__name__)

#: Seconds without a heartbeat after which a process's leases go back to the queue.
DEFAULT_LEASE_TTL = 60.0
#: Seconds of Redis errors (retried with backoff) after which a process stops.
DEFAULT_GIVE_UP_AFTER = 60.0
#: Seconds an empty lease (or "work left") is believed before Redis is asked again.
QUIET_SECONDS = 0.05
#: Keys known seen that a process remembers (then the set starts again).
SEEN_CACHE = 200_000
#: Spill files of changes a process could not write to Redis: ``frontier-spill-*.pickle``.
SPILL_GLOB = "frontier-spill-*.pickle"

#: Errors that mean "Redis is not there (now)".
_REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)

# Shared Lua pieces. ARGV[1] is always the key prefix; NOW is the Redis clock in ms.
_LIB = r"""
local P = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- a host's delay (ms) and its limit of requests in flight
local function policy(host, defdelay, conc)
  local known = redis.call('HGET', P..'hosts', host)
  if not known then return defdelay, 1 end
  local delay = math.max(defdelay, tonumber(known))
  if delay > 0 then return delay, 1 end
  return 0, conc
end
-- put the host in `ready` if it has a queue and room for one more request
local function wake(host, now, defdelay, conc)
  if redis.call('ZCARD', P..'q:'..host) == 0 then
    redis.call('ZREM', P..'ready', host)
    return
  end
  local _, limit = policy(host, defdelay, conc)
  local busy = tonumber(redis.call('HGET', P..'inflight', host) or '0')
  if busy >= limit then
    redis.call('ZREM', P..'ready', host)
    return
  end
  local nxt = tonumber(redis.call('HGET', P..'next', host) or '0')
  redis.call('ZADD', P..'ready', math.max(now, nxt), host)
end
-- give back the host place a leased entry holds
local function release(e, now, defdelay, conc)
  if redis.call('HGET', e, 'slot') ~= '1' then return end
  redis.call('HSET', e, 'slot', '0')
  local host = redis.call('HGET', e, 'host')
  local busy = redis.call('HINCRBY', P..'inflight', host, -1)
  if busy <= 0 then redis.call('HDEL', P..'inflight', host) end
  local delay = policy(host, defdelay, conc)
  if delay > 0 then redis.call('HSET', P..'next', host, now + delay) end
  wake(host, now, defdelay, conc)
end
local function unowned(e, key)
  local owner = redis.call('HGET', e, 'owner')
  if owner then
    redis.call('SREM', P..'owned:'..owner, key)
    redis.call('HDEL', e, 'owner')
  end
  return owner
end
local function count_state(state, by)
  local name = ({['0']='queued', ['1']='leased', ['2']='fetched'})[state]
  if name then redis.call('HINCRBY', P..'n', name, by) end
end
-- the url -> key index is keyed by 96 bits of the URL's SHA-1 (shorter than URLs)
local function digest(u)
  return redis.sha1hex(u):sub(1, 24)
end
local function drop_urls(e, key)
  local url, origin = unpack(redis.call('HMGET', e, 'url', 'origin'))
  for _, u in ipairs({url, origin}) do
    if u then
      local d = digest(u)
      if redis.call('HGET', P..'byurl', d) == key then redis.call('HDEL', P..'byurl', d) end
    end
  end
end
-- an entry not done any more: counted, dropped (the seen-set keeps its key)
local function done(key, now, defdelay, conc)
  local e = P..'e:'..key
  local state = redis.call('HGET', e, 'state')
  if not state then return 0 end
  release(e, now, defdelay, conc)
  local host = redis.call('HGET', e, 'host')
  if state == '0' then
    redis.call('ZREM', P..'q:'..host, key)
    wake(host, now, defdelay, conc)
  end
  local owner = unowned(e, key)
  count_state(state, -1)
  redis.call('HINCRBY', P..'n', 'done', 1)
  if owner and state ~= '0' then redis.call('HINCRBY', P..'doneby', owner, 1) end
  redis.call('HINCRBY', P..'donehost', host, 1)
  drop_urls(e, key)
  redis.call('DEL', e)
  return 1
end
local function score(prio, ord)
  prio = math.max(-4000, math.min(4000, prio))
  return -(prio * 1099511627776 + ord)
end
-- a leased or fetched entry back in its host's queue (done when it has no payload)
local function requeue(key, now, defdelay, conc)
  local e = P..'e:'..key
  local state = redis.call('HGET', e, 'state')
  if state ~= '1' and state ~= '2' then return 0 end
  if redis.call('HGET', e, 'payload') == '' then return done(key, now, defdelay, conc) end
  release(e, now, defdelay, conc)
  unowned(e, key)
  count_state(state, -1)
  count_state('0', 1)
  local ord = redis.call('HINCRBY', P..'n', 'ord', 1)
  local host = redis.call('HGET', e, 'host')
  redis.call('HSET', e, 'state', '0')
  redis.call('HDEL', e, 'wf', 'wr')
  redis.call('ZADD', P..'q:'..host, score(tonumber(redis.call('HGET', e, 'prio')), ord), key)
  wake(host, now, defdelay, conc)
  return 1
end
"""

# ARGV: P, defdelay, conc, key, url, origin, host, payload, prio, depth, force, parent
_ENQUEUE = _LIB + r"""
local defdelay, conc = tonumber(ARGV[2]), tonumber(ARGV[3])
local key, url, origin, host, payload = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local prio, depth, force, parent = tonumber(ARGV[9]), ARGV[10], ARGV[11] == '1', ARGV[12]
local now = now_ms()
local e = P..'e:'..key
local added = redis.call('SADD', P..'seen', key)
if added == 0 and not (force or parent == key) then return 0 end
local state = redis.call('HGET', e, 'state')
if state then
  release(e, now, defdelay, conc)
  unowned(e, key)
  count_state(state, -1)
  local old = redis.call('HGET', e, 'host')
  if state == '0' then redis.call('ZREM', P..'q:'..old, key) end
  drop_urls(e, key)
  redis.call('DEL', e)
end
local ord = redis.call('HINCRBY', P..'n', 'ord', 1)
redis.call('HSET', e, 'url', url, 'host', host, 'payload', payload, 'prio', prio,
           'depth', depth, 'state', '0')
redis.call('HSET', P..'byurl', digest(url), key)
if origin ~= url then
  redis.call('HSET', e, 'origin', origin)
  redis.call('HSET', P..'byurl', digest(origin), key)
end
count_state('0', 1)
redis.call('ZADD', P..'q:'..host, score(prio, ord), key)
wake(host, now, defdelay, conc)
if parent ~= '' and parent ~= key then
  local ps = redis.call('HGET', P..'e:'..parent, 'state')
  if ps == '1' or ps == '2' then done(parent, now, defdelay, conc) end
end
return 1
"""

# ARGV: P, defdelay, conc, owner, scan. Returns {key, payload, host} or {'', wait_ms}.
_LEASE = _LIB + r"""
local defdelay, conc, owner, scan = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local now = now_ms()
local hosts = redis.call('ZRANGEBYSCORE', P..'ready', '-inf', now, 'LIMIT', 0, scan)
for _, host in ipairs(hosts) do
  local item = redis.call('ZPOPMIN', P..'q:'..host)
  if #item == 0 then
    redis.call('ZREM', P..'ready', host)
  else
    local key = item[1]
    local e = P..'e:'..key
    redis.call('ZADD', P..'owners', now, owner)
    redis.call('HDEL', P..'idle', owner)
    redis.call('HSET', e, 'state', '1', 'owner', owner, 'slot', '1')
    redis.call('SADD', P..'owned:'..owner, key)
    redis.call('HINCRBY', P..'inflight', host, 1)
    count_state('0', -1)
    count_state('1', 1)
    wake(host, now, defdelay, conc)
    return {key, redis.call('HGET', e, 'payload'), host}
  end
end
local first = redis.call('ZRANGE', P..'ready', 0, 0, 'WITHSCORES')
if #first == 0 then return {'', -1} end
return {'', math.max(0, tonumber(first[2]) - now)}
"""

# ARGV: P, defdelay, conc, key, owner (only the entry's owner gives its place back)
_RELEASE = _LIB + r"""
local e = P..'e:'..ARGV[4]
if redis.call('HGET', e, 'owner') ~= ARGV[5] then return 0 end
release(e, now_ms(), tonumber(ARGV[2]), tonumber(ARGV[3]))
return 1
"""

# ARGV: P, defdelay, conc, key, warc_file, record_id, owner
_FETCHED = _LIB + r"""
local e = P..'e:'..ARGV[4]
if redis.call('HGET', e, 'state') ~= '1' then return 0 end
if redis.call('HGET', e, 'owner') ~= ARGV[7] then return 0 end  -- taken back from us
release(e, now_ms(), tonumber(ARGV[2]), tonumber(ARGV[3]))
redis.call('HSET', e, 'state', '2', 'wf', ARGV[5], 'wr', ARGV[6])
count_state('1', -1)
count_state('2', 1)
return 1
"""

# ARGV: P, defdelay, conc, mode ('key' or 'url'), names...
_DONE = _LIB + r"""
local defdelay, conc, now = tonumber(ARGV[2]), tonumber(ARGV[3]), now_ms()
local n = 0
for i = 5, #ARGV do
  local key = ARGV[i]
  if ARGV[4] == 'url' then key = redis.call('HGET', P..'byurl', digest(ARGV[i])) end
  if key then
    local state = redis.call('HGET', P..'e:'..key, 'state')
    if state == '1' or state == '2' or (ARGV[4] == 'url' and state == '0') then
      n = n + done(key, now, defdelay, conc)
    end
  end
end
return n
"""

# ARGV: P, defdelay, conc, keys...
_REQUEUE = _LIB + r"""
local defdelay, conc, now = tonumber(ARGV[2]), tonumber(ARGV[3]), now_ms()
local n = 0
for i = 4, #ARGV do n = n + requeue(ARGV[i], now, defdelay, conc) end
return n
"""

# ARGV: P, defdelay, conc, older_than_ms, self_owner. Requeues the entries of owners whose
# heartbeat is older than older_than_ms (never this process's own).
_REAP = _LIB + r"""
local defdelay, conc, now = tonumber(ARGV[2]), tonumber(ARGV[3]), now_ms()
local dead = redis.call('ZRANGEBYSCORE', P..'owners', '-inf', now - tonumber(ARGV[4]))
local n = 0
for _, owner in ipairs(dead) do
  if owner ~= ARGV[5] then
    for _, key in ipairs(redis.call('SMEMBERS', P..'owned:'..owner)) do
      n = n + requeue(key, now, defdelay, conc)
    end
    redis.call('DEL', P..'owned:'..owner)
    redis.call('ZREM', P..'owners', owner)
    redis.call('HDEL', P..'idle', owner)
  end
end
return n
"""

# ARGV: P, defdelay, conc, owner: a clean stop gives back everything this process holds.
_LEAVE = _LIB + r"""
local defdelay, conc, now = tonumber(ARGV[2]), tonumber(ARGV[3]), now_ms()
local n = 0
for _, key in ipairs(redis.call('SMEMBERS', P..'owned:'..ARGV[4])) do
  n = n + requeue(key, now, defdelay, conc)
end
redis.call('DEL', P..'owned:'..ARGV[4])
redis.call('ZREM', P..'owners', ARGV[4])
redis.call('HDEL', P..'idle', ARGV[4])
return n
"""

# ARGV: P, defdelay, conc, host, crawl_delay_ms
_HOST_DELAY = _LIB + r"""
redis.call('HSET', P..'hosts', ARGV[4], ARGV[5])
wake(ARGV[4], now_ms(), tonumber(ARGV[2]), tonumber(ARGV[3]))
return 1
"""

# ARGV: P, origin, reason, refetches, retry_at, tdmrep_json. A robots.txt another process
# read meanwhile stands: then nothing is written (0).
_SITE_FAILED = r"""
local site = ARGV[1]..'site:'..ARGV[2]
if redis.call('HEXISTS', site, 'robots_txt') == 1 then return 0 end
redis.call('HSET', site, 'unavailable', ARGV[3], 'refetches', ARGV[4], 'retry_at', ARGV[5])
redis.call('HSETNX', site, 'tdmrep_json', ARGV[6])
return 1
"""

# ARGV: P, origin, owner. Only the claim's owner gives it back.
_UNCLAIM = r"""
local claim = ARGV[1]..'siteclaim:'..ARGV[2]
if redis.call('GET', claim) == ARGV[3] then return redis.call('DEL', claim) end
return 0
"""

# ARGV: P, key, limit. 1: the request may go out (charged now or before), 0: budget spent.
_BUDGET = r"""
local P = ARGV[1]
if redis.call('SISMEMBER', P..'seen', ARGV[2]) == 1 then return 1 end
if redis.call('SISMEMBER', P..'budget', ARGV[2]) == 1 then return 1 end
if tonumber(redis.call('HGET', P..'n', 'budget') or '0') >= tonumber(ARGV[3]) then return 0 end
redis.call('SADD', P..'budget', ARGV[2])
redis.call('HINCRBY', P..'n', 'budget', 1)
return 1
"""


#: The fields of ``P site:ORIGIN`` that say its robots.txt is unavailable.
_FAILURE_FIELDS = ("unavailable", "refetches", "retry_at")


class FrontierUnavailable(FrontierError):
    """Redis could not be reached for longer than the frontier waits."""


def prefix_of(crawl_name: str) -> str:
    """The prefix of every Redis key of crawl ``crawl_name``."""
    if not crawl_name or any(c in crawl_name for c in " \t\n{}"):
        raise ValueError(f"bad crawl name {crawl_name!r}")
    return f"licrawl:{crawl_name}:"


def host_key(url: str) -> str:
    """The politeness unit of ``url``: ``scheme://netloc``, lower-case."""
    from crawler.fetch.sites import origin_of

    return origin_of(url)


def owner_name() -> str:
    """This process's name in the fleet: ``host:pid:token``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(slots=True)
class HostStatus:
    """One host's line of :meth:`RedisFrontier.status`."""

    host: str
    queued: int
    in_flight: int
    done: int


@dataclass(slots=True)
class FleetStatus:
    """What ``licrawl frontier status`` shows."""

    counts: Counts
    budget_spent: int
    owners: dict[str, tuple[float, int, int]]  # owner -> (heartbeat age s, leases, done)
    hosts: list[HostStatus] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


class RedisFrontier:
    """A :class:`~crawler.fetch.frontier.Frontier` in Redis, shared by a fleet (see module).

    ``delay``: the fleet's least delay between two requests to one host, in seconds
    (``DOWNLOAD_DELAY``); ``host_concurrency``: requests in flight per host for the fleet
    when no delay applies; ``lease_ttl``: seconds without a heartbeat after which a process
    counts as dead; ``give_up_after``: seconds of Redis errors before the frontier is down;
    ``spill_dir``: where a down frontier writes what it could not store.
    """

    def __init__(self, url: str, crawl_name: str, *, delay: float = 0.0,
                 host_concurrency: int = 8, lease_ttl: float = DEFAULT_LEASE_TTL,
                 give_up_after: float = DEFAULT_GIVE_UP_AFTER,
                 spill_dir: str | os.PathLike[str] | None = None,
                 scan_hosts: int = 64) -> None:
        self.prefix = prefix_of(crawl_name)
        self.crawl_name = crawl_name
        self.url = url
        self.shown_url = shown_location(url)  # what messages name
        self.owner = owner_name()
        self.lease_ttl = float(lease_ttl)
        self.give_up_after = float(give_up_after)
        self._common = [self.prefix, str(int(delay * 1000)), str(max(1, host_concurrency))]
        self._scan = scan_hosts
        self.spill_dir = Path(spill_dir) if spill_dir is not None else None
        self._spill_path: Path | None = None
        self._spill_lock = threading.Lock()
        #: Called once (from any thread) when the frontier goes down.
        self.on_down: Callable[[str], None] | None = None
        self.down: str | None = None
        try:
            self._redis = redis.Redis.from_url(url, socket_timeout=5.0,
                                               socket_connect_timeout=5.0,
                                               health_check_interval=10)
        except ValueError as exc:
            raise FrontierError(f"--frontier {self.shown_url}: {exc}") from exc
        self._scripts = {name: self._redis.register_script(src) for name, src in (
            ("enqueue", _ENQUEUE), ("lease", _LEASE), ("release", _RELEASE),
            ("fetched", _FETCHED), ("done", _DONE), ("requeue", _REQUEUE), ("reap", _REAP),
            ("leave", _LEAVE), ("host_delay", _HOST_DELAY), ("budget", _BUDGET),
            ("site_failed", _SITE_FAILED), ("unclaim", _UNCLAIM))}
        self._joined = False
        self._closed = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._last_reap = 0.0
        #: Lease wait hint from the last empty :meth:`lease` (seconds; -1 no host ready).
        self.wait_hint = -1.0
        # Fewer round trips: after an empty lease, none is asked for before _quiet_until
        # unless this process queued or released something; "work left" is believed for
        # a moment; keys known seen are remembered (a bounded set: seen stays seen).
        self._quiet_until = 0.0
        self._busy_until = 0.0
        self._seen_cache: set[str] = set()
        self.ops = 0  # Redis round trips made (for the bench)

    # -- plumbing ------------------------------------------------------------------------
    def _call(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` with Redis errors retried (exponential backoff) for ``give_up_after``
        seconds; then the frontier is down and :class:`FrontierUnavailable` is raised."""
        if self.down is not None:
            raise FrontierUnavailable(self.down)
        self.ops += 1
        try:
            return fn()
        except _REDIS_DOWN as first:
            logger.warning("Frontier: Redis at %s: %s; retrying for up to %.0f s", self.shown_url,
                           first, self.give_up_after)
        retrying = Retrying(retry=retry_if_exception_type(_REDIS_DOWN),
                            wait=wait_exponential(multiplier=0.1, max=5.0),
                            stop=stop_after_delay(self.give_up_after), reraise=False)
        try:
            for attempt in retrying:
                with attempt:
                    if self.down is not None:
                        raise FrontierUnavailable(self.down)
                    return fn()
        except RetryError as exc:
            self._go_down(f"Redis at {self.shown_url} unreachable for {self.give_up_after:.0f} s "
                          f"({exc.last_attempt.exception()})")
        raise FrontierUnavailable(self.down or "frontier down")

    def _go_down(self, why: str) -> None:
        with self._spill_lock:
            if self.down is not None:
                return
            self.down = why
        logger.error("Frontier: %s; stopping (what this process found is kept in %s)", why,
                     self._spill_file())
        if self.on_down is not None:
            self.on_down(why)

    def _run(self, name: str, *args: Any) -> Any:
        return self._call(lambda: self._scripts[name](args=[*self._common, *args]))

    def _spill_file(self) -> Path | None:
        if self.spill_dir is None:
            return None
        if self._spill_path is None:
            owner = self.owner.replace(":", "-")
            self._spill_path = self.spill_dir / f"frontier-spill-{owner}.pickle"
        return self._spill_path

    def _spill(self, op: str, *args: Any) -> None:
        """Keep a change Redis could not take, for the next run."""
        path = self._spill_file()
        if path is None:
            logger.error("Frontier down and no spill folder: %s %s lost", op, args[:1])
            return
        with self._spill_lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("ab") as f:
                pickle.dump((op, args), f, protocol=pickle.HIGHEST_PROTOCOL)
                f.flush()
                os.fsync(f.fileno())

    def _change(self, op: str, *args: Any) -> Any:
        """Run change ``op`` (a method name) in Redis, or spill it when down."""
        try:
            return getattr(self, "_" + op)(*args)
        except FrontierUnavailable:
            self._spill(op, *args)
            return None

    def replay_spills(self, folder: str | os.PathLike[str]) -> int:
        """Apply the spill files of earlier runs in ``folder`` to Redis, then remove them.
        Returns the changes applied."""
        applied = 0
        for found in sorted(Path(folder).glob(SPILL_GLOB)):
            if found == self._spill_path:
                continue
            path = found.with_name(f".{found.name}.{os.getpid()}")
            try:
                found.rename(path)  # claimed: another process starting now skips it
            except FileNotFoundError:
                continue
            with path.open("rb") as f:
                while True:
                    try:
                        op, args = pickle.load(f)  # noqa: S301 - our own file
                    except EOFError:
                        break
                    except (pickle.UnpicklingError, ValueError):  # a torn last record
                        break
                    getattr(self, "_" + op)(*args)
                    applied += 1
            path.unlink()
        if applied:
            logger.info("Frontier: %d change(s) kept while Redis was away applied", applied)
        return applied

    def ping(self) -> None:
        """Raise :class:`FrontierError` unless Redis answers (no retries)."""
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            raise FrontierError(f"Redis at {self.shown_url}: {exc}") from exc

    # -- scheduling ----------------------------------------------------------------------
    def enqueue(self, key: str, url: str, payload: bytes, *, priority: int = 0,
                depth: int = 0, origin: str | None = None, force: bool = False,
                parent: str | None = None) -> bool:
        """See :meth:`Frontier.enqueue`."""
        self._quiet_until = 0.0
        queued = bool(self._change("enqueue", key, url, payload, priority, depth,
                                   origin or url, force, parent))
        self._remember_seen(key)
        return queued

    def _remember_seen(self, key: str) -> None:
        if len(self._seen_cache) >= SEEN_CACHE:
            self._seen_cache.clear()
        self._seen_cache.add(key)

    def _enqueue(self, key: str, url: str, payload: bytes, priority: int, depth: int,
                 origin: str, force: bool, parent: str | None) -> int:
        return int(self._run("enqueue", key, url, origin, host_key(url), payload,
                             int(priority), int(depth), "1" if force else "0", parent or ""))

    def lease(self) -> Lease | None:
        """See :meth:`Frontier.lease`: the next request of a host that may be fetched now.
        ``None`` also when hosts have requests but none may be fetched yet
        (:attr:`wait_hint` says when one may)."""
        now = time.monotonic()
        if now < self._quiet_until:
            self.wait_hint = self._quiet_until - now
            return None
        try:
            key, second, *_ = self._run("lease", self.owner, self._scan)
        except FrontierUnavailable:
            return None
        if not key:
            self.wait_hint = float(second) / 1000.0 if int(second) >= 0 else -1.0
            pause = QUIET_SECONDS if self.wait_hint < 0 else min(self.wait_hint,
                                                                  QUIET_SECONDS)
            self._quiet_until = now + pause
            return None
        self._join()
        return Lease(key.decode(), bytes(second))

    def release(self, key: str) -> None:
        """The request of ``key`` left the downloader: its host's place is free (its
        delay counts from now)."""
        self._quiet_until = 0.0
        with contextlib.suppress(FrontierUnavailable):
            self._run("release", key, self.owner)

    def has_queued(self) -> bool:
        """Whether the crawl has work left for someone: queued requests, requests in flight
        in any process (they may find links), or another process that is not idle yet (it
        may die and leave its entries to us: they come back after the lease timeout).
        Leases of dead processes are returned to the queue here, at most every second."""
        if self.down is not None:
            return False
        p = self.prefix
        now = time.monotonic()
        if now < self._busy_until:
            return True
        try:
            if now - self._last_reap >= 1.0:
                self._last_reap = now
                self.requeue_leases()
            queued, leased = self._call(lambda: self._redis.hmget(p + "n", "queued",
                                                                  "leased"))
            if int(queued or 0) > 0 or int(leased or 0) > 0:
                self._busy_until = now + QUIET_SECONDS
                return True
            if self._joined:
                self._call(lambda: self._redis.hset(p + "idle", self.owner, "1"))
            owners = [o.decode() for o in self._call(
                lambda: self._redis.zrange(p + "owners", 0, -1)) if o.decode() != self.owner]
            if not owners:
                return False
            idle = self._call(lambda: self._redis.hmget(p + "idle", owners))
            return any(flag is None for flag in idle)
        except FrontierUnavailable:
            return False

    def seen(self, key: str) -> bool:
        """See :meth:`Frontier.seen`."""
        if key in self._seen_cache:
            return True
        try:
            found = bool(self._call(lambda: self._redis.sismember(self.prefix + "seen", key)))
        except FrontierUnavailable:
            return False
        if found:
            self._remember_seen(key)
        return found

    def spend_budget(self, key: str, limit: int) -> bool:
        """Charge the request ``key`` to the fleet's page budget of ``limit`` pages, once;
        ``False`` when the budget is spent (or the frontier is down)."""
        try:
            return bool(self._call(lambda: self._scripts["budget"](
                args=[self.prefix, key, int(limit)])))
        except FrontierUnavailable:
            return False

    # -- results -------------------------------------------------------------------------
    def mark_fetched(self, key: str, warc: WarcRef) -> None:
        """See :meth:`Frontier.mark_fetched`."""
        # when down: still leased by this process, fetched again if its row never comes
        with contextlib.suppress(FrontierUnavailable):
            self._run("fetched", key, warc.file, warc.record_id, self.owner)

    def mark_done(self, keys: Iterable[str]) -> None:
        """See :meth:`Frontier.mark_done`."""
        keys = list(keys)
        if keys:
            self._change("mark_done", keys)

    def _mark_done(self, keys: list[str]) -> int:
        return int(self._run("done", "key", *keys))

    def done_urls(self, urls: Iterable[str]) -> int:
        """See :meth:`Frontier.done_urls` (queued entries of those URLs too: their
        result exists)."""
        urls = list(urls)
        if not urls:
            return 0
        total = 0
        for start in range(0, len(urls), 500):
            total += int(self._change("done_urls", urls[start:start + 500]) or 0)
        return total

    def _done_urls(self, urls: list[str]) -> int:
        return int(self._run("done", "url", *urls))

    def requeue(self, keys: Iterable[str]) -> None:
        """See :meth:`Frontier.requeue`."""
        keys = list(keys)
        if keys:
            self._change("requeue", keys)

    def _requeue(self, keys: list[str]) -> int:
        return int(self._run("requeue", *keys))

    def requeue_leases(self, older_than: float | None = None) -> int:
        """Entries of processes whose last heartbeat is older than ``older_than`` seconds
        (``None``: the lease timeout) back to the queue; never this process's own."""
        limit = self.lease_ttl if older_than is None else older_than
        try:
            return int(self._run("reap", int(limit * 1000), self.owner))
        except FrontierUnavailable:
            return 0

    def to_rebuild(self) -> Iterator[Fetched]:
        """Nothing: a fleet member's fetched pages are fetched again by whoever takes its
        entries after it dies (its WARC files may be on another machine)."""
        return iter(())

    def _scan_entries(self) -> Iterator[tuple[str, list[bytes | None]]]:
        pattern = self.prefix + "e:*"
        cut = len(self.prefix) + 2
        pipe_keys: list[bytes] = []
        for name in self._call(lambda: list(self._redis.scan_iter(pattern, count=1000))):
            pipe_keys.append(name)
        for start in range(0, len(pipe_keys), 1000):
            chunk = pipe_keys[start:start + 1000]

            def fetch(chunk: list[bytes] = chunk) -> list[Any]:
                pipe = self._redis.pipeline(transaction=False)
                for name in chunk:
                    pipe.hmget(name, "state", "url", "origin", "owner")
                return pipe.execute()

            for name, values in zip(chunk, self._call(fetch), strict=True):
                yield name.decode()[cut:], values

    def unfinished(self) -> Iterator[tuple[str, str, str]]:
        """See :meth:`Frontier.unfinished` (every process's)."""
        for key, (state, url, origin, _) in self._scan_entries():
            if state in (b"1", b"2") and url is not None:
                yield key, url.decode(), (origin or url).decode()

    def keys(self) -> Iterator[str]:
        """See :meth:`Frontier.keys`."""
        for key in self._call(lambda: list(self._redis.sscan_iter(self.prefix + "seen",
                                                                   count=1000))):
            yield key.decode()

    def counts(self) -> Counts:
        """See :meth:`Frontier.counts`."""
        values = self._call(lambda: self._redis.hmget(
            self.prefix + "n", "queued", "leased", "fetched", "done"))
        return Counts(*(int(v or 0) for v in values))

    # -- sites ---------------------------------------------------------------------------
    def put_site(self, origin: str, fields: dict[str, str], crawl_delay: float) -> None:
        """Store a host's robots.txt and tdmrep.json (first writer wins) and its
        ``Crawl-delay`` for the fleet's politeness."""
        name = self.prefix + "site:" + origin

        def put() -> None:
            pipe = self._redis.pipeline(transaction=True)
            for k, v in fields.items():
                pipe.hsetnx(name, k, v)
            pipe.hdel(name, *_FAILURE_FIELDS)
            pipe.execute()

        try:
            self._call(put)
            self._run("host_delay", origin, int(crawl_delay * 1000))
        except FrontierUnavailable:
            pass

    def site_warc(self, origin: str, name: str, ref: WarcRef) -> None:
        """Note where a site file of ``origin`` is archived (``robots`` or ``tdmrep``)."""
        with contextlib.suppress(FrontierUnavailable):
            self._call(lambda: self._redis.hsetnx(self.prefix + "site:" + origin,
                                                  name + "_warc",
                                                  f"{ref.file}#{ref.record_id}"))

    def get_site(self, origin: str) -> dict[str, str] | None:
        """What :meth:`put_site` stored for ``origin``, or ``None``."""
        try:
            fields = self.site_fields(origin)
        except FrontierUnavailable:
            return None
        return fields if "robots_txt" in fields else None

    def site_fields(self, origin: str) -> dict[str, str]:
        """Everything stored for ``origin``: its files, or why its robots.txt is
        unavailable (:meth:`site_failed`); empty when nothing is."""
        raw = self._call(lambda: self._redis.hgetall(self.prefix + "site:" + origin))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def site_failed(self, origin: str, reason: str, refetches: int, retry_at: float,
                    tdmrep_json: str) -> None:
        """Store that ``origin``'s robots.txt is unavailable (``reason``), after
        ``refetches`` fetches beyond the first failed one; the next may start at
        ``retry_at`` (epoch seconds, ``inf``: never). A robots.txt stored meanwhile stands."""
        with contextlib.suppress(FrontierUnavailable):
            self._call(lambda: self._scripts["site_failed"](args=[
                self.prefix, origin, reason, str(refetches), repr(retry_at), tdmrep_json]))

    def claim_site(self, origin: str, ttl: float) -> bool:
        """Whether this process may fetch ``origin``'s robots.txt now (no other process
        is): the claim holds for ``ttl`` seconds or until :meth:`unclaim_site`."""
        return bool(self._call(lambda: self._redis.set(
            self.prefix + "siteclaim:" + origin, self.owner, nx=True,
            px=max(1, int(ttl * 1000)))))

    def unclaim_site(self, origin: str) -> None:
        """Give back this process's claim on ``origin`` (its result is stored)."""
        with contextlib.suppress(FrontierUnavailable):
            self._call(lambda: self._scripts["unclaim"](
                args=[self.prefix, origin, self.owner]))

    # -- crawl-level values and durability -------------------------------------------------
    def get_meta(self, name: str) -> str | None:
        """See :meth:`Frontier.get_meta`."""
        value = self._call(lambda: self._redis.hget(self.prefix + "meta", name))
        return None if value is None else value.decode()

    def set_meta(self, name: str, value: str) -> None:
        """See :meth:`Frontier.set_meta`."""
        self._call(lambda: self._redis.hset(self.prefix + "meta", name, value))

    def setdefault_meta(self, name: str, value: str) -> str:
        """The stored value of ``name``, storing ``value`` first when there is none."""
        key = self.prefix + "meta"
        self._call(lambda: self._redis.hsetnx(key, name, value))
        return str(self.get_meta(name))

    def commit(self) -> None:
        """Every change is in Redis when its call returns (or in the spill file)."""

    def sync(self) -> None:
        """Redis's own persistence (AOF/RDB) decides what survives a power cut of Redis."""

    # -- fleet ----------------------------------------------------------------------------
    def _join(self) -> None:
        """Start the heartbeat that keeps this process's leases alive."""
        if self._joined:
            return
        self._joined = True
        self._heartbeat = threading.Thread(target=self._beat, name="frontier-heartbeat",
                                           daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        every = max(0.2, self.lease_ttl / 4)
        while not self._closed.wait(every):
            if self.down is not None:
                return
            try:
                self._redis.execute_command("EVAL", "redis.call('ZADD', KEYS[1], 'XX', "
                                            "redis.call('TIME')[1] * 1000 + math.floor("
                                            "redis.call('TIME')[2] / 1000), ARGV[1]) "
                                            "return 1", 1, self.prefix + "owners", self.owner)
            except redis.RedisError as exc:
                logger.debug("Frontier heartbeat: %s", exc)

    def status(self, top_hosts: int = 20) -> FleetStatus:
        """Queue, leases, pages done per process and per host."""
        p = self.prefix

        def read() -> list[Any]:
            pipe = self._redis.pipeline(transaction=False)
            pipe.hmget(p + "n", "queued", "leased", "fetched", "done", "budget")
            pipe.zrange(p + "owners", 0, -1, withscores=True)
            pipe.hgetall(p + "doneby")
            pipe.hgetall(p + "donehost")
            pipe.hgetall(p + "inflight")
            pipe.hgetall(p + "meta")
            pipe.time()
            return pipe.execute()

        n, owners, doneby, donehost, inflight, meta, now = self._call(read)
        now_ms = now[0] * 1000 + now[1] // 1000
        queued, leased, fetched, done, budget = (int(v or 0) for v in n)
        owner_rows: dict[str, tuple[float, int, int]] = {}
        for name, beat in owners:
            held = int(self._call(lambda name=name: self._redis.scard(
                p + "owned:" + name.decode())))
            owner_rows[name.decode()] = ((now_ms - beat) / 1000.0, held,
                                         int(doneby.get(name, 0)))
        for name, value in doneby.items():
            owner_rows.setdefault(name.decode(), (-1.0, 0, int(value)))
        hosts_all = {h for h in (*donehost, *inflight)}
        hosts_all.update(self._call(lambda: [k[len(p) + 2:] for k in self._redis.scan_iter(
            p + "q:*", count=1000)]))
        rows = []
        for host in hosts_all:
            hname = host.decode() if isinstance(host, bytes) else host
            qlen = int(self._call(lambda hname=hname: self._redis.zcard(p + "q:" + hname)))
            rows.append(HostStatus(hname, qlen, int(inflight.get(hname.encode(), 0)),
                                   int(donehost.get(hname.encode(), 0))))
        rows.sort(key=lambda r: (-(r.queued + r.in_flight + r.done), r.host))
        return FleetStatus(Counts(queued, leased, fetched, done), budget, owner_rows,
                           rows[:top_hosts],
                           {k.decode(): v.decode() for k, v in meta.items()})

    def purge(self) -> int:
        """Delete every key of this crawl; returns how many."""
        names = self._call(lambda: list(self._redis.scan_iter(self.prefix + "*", count=1000)))
        for start in range(0, len(names), 1000):
            self._call(lambda s=start: self._redis.unlink(*names[s:s + 1000]))
        return len(names)

    def close(self) -> None:
        """Leave the fleet: what this process still holds goes back to the queue."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._joined and self.down is None:
            try:
                self._redis.hset(self.prefix + "ops", self.owner, self.ops + 2)
                back = int(self._scripts["leave"](args=[*self._common, self.owner]))
                if back:
                    logger.info("Frontier: %d request(s) of this process back in the queue",
                                back)
            except redis.RedisError as exc:
                logger.warning("Frontier: could not give back this process's leases (%s); "
                               "they return after the lease timeout", exc)
        self._redis.close()

    def __enter__(self) -> RedisFrontier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
