"""A crawl fleet on one Redis frontier (crawler.fetch.fleet): unit tests of the frontier's
scripts, then ``licrawl crawl --frontier`` processes against the local test site.

A real ``redis-server`` (Debian's package) is started on a free 127.0.0.1 port in a temp
folder; the tests are skipped only when the binary is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from crawler.core.errors import read_errors
from crawler.core.page import WarcRef
from crawler.fetch.fleet import RedisFrontier

sys.path.insert(0, str(Path(__file__).parent / "site"))
from testsite import make_site  # noqa: E402

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed "
                                "(Debian: apt-get install redis-server)")

#: Delays off, small shards (rows are published, and so marked done, while crawling).
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_TIMEOUT": "5",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "LICRAWL_SHARD_MAX_ROWS": "100",
        "LICRAWL_PROGRESS_INTERVAL": "0", "RETRY_ENABLED": "False",
        "LICRAWL_LEASE_TTL": "2"}


class RedisServer:
    """A redis-server process on a free port, its files in ``folder``."""

    def __init__(self, folder: Path, *, appendonly: bool = False) -> None:
        self.folder = folder
        self.appendonly = appendonly
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        assert REDIS is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                str(self.folder), "--save", "", "--daemonize", "no",
                "--appendonly", "yes" if self.appendonly else "no",
                "--appendfsync", "always"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


_names = iter(range(10**6))


def frontier(server: RedisServer, **kwargs: Any) -> RedisFrontier:
    """A frontier on a crawl name of its own."""
    return RedisFrontier(server.url, f"t{os.getpid()}-{next(_names)}", **kwargs)


# -- the frontier's scripts -------------------------------------------------------------


def test_queue_order_seen_set_and_states(redis_server: RedisServer) -> None:
    f = frontier(redis_server, host_concurrency=8)
    for i in range(4):
        assert f.enqueue(f"k{i}", f"http://a.test/{i}", b"p", priority=i % 2)
    assert not f.enqueue("k1", "http://a.test/1", b"p")  # seen
    assert f.seen("k1") and not f.seen("zz")
    f.put_site("http://a.test", {"robots_txt": "x"}, 0.0)  # known host: no delay, 8 at once
    order = [lease.key for lease in iter(f.lease, None)]
    assert order == ["k3", "k1", "k2", "k0"]  # highest priority, newest first
    f.mark_fetched("k3", WarcRef("w.warc.gz", "<urn:1>"))
    assert f.counts().leased == 3 and f.counts().fetched == 1
    # a redirect target takes over from its parent; a retry puts its entry back
    assert f.enqueue("k9", "http://a.test/9", b"p", origin="http://a.test/1", parent="k1")
    assert f.enqueue("k2", "http://a.test/2", b"retry", parent="k2")
    assert f.done_urls(["http://a.test/3", "http://a.test/0"]) == 2
    counts = f.counts()
    assert (counts.queued, counts.leased, counts.fetched, counts.done) == (2, 0, 0, 3)
    assert f.lease().payload == b"retry"  # newest first
    assert f.done_urls(["http://a.test/1"]) == 1  # the target, by its origin
    assert sorted(f.keys()) == ["k0", "k1", "k2", "k3", "k9"]
    f.purge()
    f.close()


def test_fleet_wide_delay_and_host_concurrency(redis_server: RedisServer) -> None:
    a, b = frontier(redis_server, delay=0.0, host_concurrency=2), None
    b = RedisFrontier(redis_server.url, a.crawl_name, delay=0.0, host_concurrency=2)
    for i in range(6):
        a.enqueue(f"k{i}", f"http://slow.test/{i}", b"p")
        a.enqueue(f"f{i}", f"http://fast.test/{i}", b"p")
    # a host whose robots.txt nobody read yet: one request at a time
    first = a.lease()
    assert first is not None
    other = b.lease()
    assert other is not None and other.key[0] != first.key[0]
    assert a.lease() is None and b.lease() is None
    a.put_site("http://slow.test", {"robots_txt": "x"}, 0.3)
    a.put_site("http://fast.test", {"robots_txt": "x"}, 0.0)
    a.release(first.key)
    b.release(other.key)
    # fast.test: two in flight for the fleet; slow.test: one, 0.3 s after the last left
    got: list[tuple[str, float]] = []
    start = time.monotonic()
    slow_done = 0
    while slow_done < 3:
        for member in (a, b):
            lease = member.lease()
            if lease is None:
                continue
            got.append((lease.key, time.monotonic() - start))
            if lease.key.startswith("k"):
                slow_done += 1
                member.release(lease.key)
        time.sleep(0.005)
    fast = [k for k, _ in got if k.startswith("f")]
    assert len(fast) == 2  # never released: the fleet holds two
    slow = [t for k, _t in got if k.startswith("k") for t in [_t]]
    gaps = [y - x for x, y in zip(slow, slow[1:], strict=False)]
    assert min(gaps) >= 0.28, gaps
    a.purge()
    a.close()
    b.close()


def test_one_claim_per_host_and_a_shared_robots_failure(redis_server: RedisServer) -> None:
    a = frontier(redis_server)
    b = RedisFrontier(redis_server.url, a.crawl_name)
    origin = "http://a.test"
    assert a.claim_site(origin, 30) and not b.claim_site(origin, 30)  # one fetcher
    b.unclaim_site(origin)  # not b's claim: it stays
    assert not b.claim_site(origin, 30)
    a.site_failed(origin, "robots.txt answered HTTP 503", 0, 1e12, "\x00")
    stored = b.site_fields(origin)
    assert stored["unavailable"] == "robots.txt answered HTTP 503"
    assert (stored["refetches"], float(stored["retry_at"])) == ("0", 1e12)
    assert b.get_site(origin) is None  # no robots.txt to take yet
    a.unclaim_site(origin)
    assert b.claim_site(origin, 0.2)  # free again; and a claim runs out
    time.sleep(0.3)
    assert a.claim_site(origin, 30)
    a.site_failed(origin, "robots.txt answered HTTP 503", 1, float("inf"), "\x00")
    assert float(b.site_fields(origin)["retry_at"]) == float("inf")  # never again
    b.put_site(origin, {"robots_txt": "User-agent: *", "tdmrep_json": "\x00"}, 0.0)
    stored = a.site_fields(origin)
    assert stored["robots_txt"] == "User-agent: *" and "unavailable" not in stored
    a.site_failed(origin, "late", 2, 0.0, "\x00")  # a robots.txt read stands
    assert "unavailable" not in a.site_fields(origin)
    a.purge()
    a.close()
    b.close()


def test_dead_process_leases_come_back_and_budget_is_one(redis_server: RedisServer) -> None:
    dead = frontier(redis_server, lease_ttl=0.5, host_concurrency=4)
    live = RedisFrontier(redis_server.url, dead.crawl_name, lease_ttl=0.5, host_concurrency=4)
    for i in range(3):
        dead.enqueue(f"k{i}", f"http://a.test/{i}", b"p")
    dead.put_site("http://a.test", {"robots_txt": "x"}, 0.0)
    leases = [dead.lease() for _ in range(3)]
    dead.mark_fetched(leases[0].key, WarcRef("w", "r"))
    assert live.lease() is None
    assert live.has_queued()  # another process has requests in flight
    dead._closed.set()  # its heartbeat stops, as after kill -9
    time.sleep(0.8)
    assert live.requeue_leases() == 3  # leased and fetched alike
    assert sorted(lease.key for lease in iter(live.lease, None)) == ["k0", "k1", "k2"]
    # the page budget is the fleet's, each request charged once
    assert live.spend_budget("x", 2) and dead.spend_budget("x", 2)
    assert live.spend_budget("y", 2) and not dead.spend_budget("z", 2)
    assert live.spend_budget("k0", 2)  # already queued: not charged again
    live.purge()
    live.close()


def test_redis_away_spills_and_the_next_run_applies(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis").start()
    try:
        f = RedisFrontier(server.url, "spill", give_up_after=0.5, spill_dir=tmp_path / "job")
        f.enqueue("k0", "http://a.test/0", b"p")
        downs: list[str] = []
        f.on_down = downs.append
        server.stop()
        started = time.monotonic()
        assert f.lease() is None
        assert 0.4 < time.monotonic() - started < 10
        assert f.down is not None and downs == [f.down]
        assert f.enqueue("k1", "http://a.test/1", b"p") is False  # spilled
        f.done_urls(["http://a.test/0"])
        f.close()
        assert len(list((tmp_path / "job").glob("frontier-spill-*.pickle"))) == 1
        server.start()  # an empty Redis (no persistence): only the spilled changes
        g = RedisFrontier(server.url, "spill")
        assert g.replay_spills(tmp_path / "job") == 2
        assert g.seen("k1") and g.counts().queued == 1
        assert not list((tmp_path / "job").glob("frontier-spill-*"))
        g.close()
    finally:
        server.stop()


# -- crawl processes ---------------------------------------------------------------------


def crawl_command(seed: str | list[str], out: Path, server_url: str, *extra: str,
                  settings: dict[str, str] | None = None) -> list[str]:
    seeds = [seed] if isinstance(seed, str) else seed
    args = [sys.executable, "-m", "crawler.cli", "crawl", *seeds, "--out", str(out),
            "--workers", "1", "--frontier", server_url, "--crawl-name", out.name, *extra]
    for name, value in {**FAST, **(settings or {})}.items():
        args += ["-s", f"{name}={value}"]
    return args


def start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs: list[subprocess.Popen[str]], timeout: float = 120) -> list[str]:
    """Wait for the processes; their stderr."""
    logs = []
    for proc in procs:
        _, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err[-3000:]
        logs.append(err)
    return logs


def path_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def results(out: Path) -> Counter[str]:
    """URL paths with a row or an error record, and how many times."""
    from urllib.parse import urlsplit

    urls = [u for shard in sorted((out / "data").glob("*.parquet"))
            for u in pq.read_table(shard, columns=["url"])["url"].to_pylist()]
    urls += [e.url for e in read_errors(out / "errors")]
    return Counter(urlsplit(u).path for u in urls)


def wait_for(site: Any, prefix: str, count: int, procs: list[subprocess.Popen[str]],
             seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while (len(site.requests_for(prefix)) < count and time.monotonic() < deadline
           and all(p.poll() is None for p in procs)):
        time.sleep(0.01)
    assert all(p.poll() is None for p in procs), "a process finished too early"


def test_three_processes_crawl_every_url_once(redis_server: RedisServer,
                                              tmp_path: Path) -> None:
    budget = 1500  # of the site's 3,060 pages
    with make_site() as site:
        out = tmp_path / "fleet3"
        procs = [start(crawl_command(site.url + "/gen/1", out, redis_server.url,
                                     "--max-pages", str(budget))) for _ in range(3)]
        finish(procs)
        fetched = Counter(r.path for r in site.requests_for("/gen"))
        robots = len(site.requests_for("/robots.txt"))
        tdmrep = len(site.requests_for("/.well-known/tdmrep.json"))
    found = results(out)
    assert len(found) == budget  # the fleet's page budget, spent exactly
    assert set(found.values()) == {1}  # every URL once, as a row or an error record
    assert set(fetched.values()) == {1}  # and fetched once: live processes share nothing
    assert set(found) == set(fetched)
    assert robots == 1 and tdmrep == 1  # once for the fleet
    f = RedisFrontier(redis_server.url, out.name)
    status = f.status()
    assert status.counts.done == len(found) and status.counts.unfinished == 0
    per_process = [done for _, _, done in status.owners.values()]
    assert len(per_process) == 3 and sum(per_process) == len(found)
    assert all(n > 0 for n in per_process)  # the three took part
    assert status.hosts[0].done == len(found)
    f.close()


def test_crawl_delay_holds_across_processes(redis_server: RedisServer,
                                            tmp_path: Path) -> None:
    """Two hosts (two sites on two ports), Crawl-delay 0.4 s, three processes: each host's
    requests are 0.4 s apart in its own log, and each host's robots.txt is read once."""
    with make_site(crawl_delay=0.4) as one, make_site(crawl_delay=0.4) as two:
        out = tmp_path / "delay"
        procs = [start(crawl_command([one.url + "/gen/1", two.url + "/gen/1"], out,
                                     redis_server.url, "--max-pages", "16"))
                 for _ in range(3)]
        finish(procs)
        times = {site.url: [r.time for r in site.requests_for("/gen")] for site in (one, two)}
        robots = [len(site.requests_for("/robots.txt")) for site in (one, two)]
        tdmrep = [len(site.requests_for("/.well-known/tdmrep.json")) for site in (one, two)]
    assert sum(len(t) for t in times.values()) == 16
    for host_times in times.values():
        assert len(host_times) >= 2
        gaps = [b - a for a, b in zip(host_times, host_times[1:], strict=False)]
        assert min(gaps) >= 0.38, gaps  # Crawl-delay 0.4 s, for the fleet
    assert robots == [1, 1] and tdmrep == [1, 1]
    assert sum(results(out).values()) == 16
    f = RedisFrontier(redis_server.url, out.name)
    for url in times:  # shared with the WARC records of both files
        site = f.get_site(url)
        assert site is not None and "Crawl-delay: 0.4" in site["robots_txt"]
        for name in ("robots_warc", "tdmrep_warc"):
            warc, _, record = site[name].partition("#")
            assert (out / warc).name.endswith(".warc.gz") and record.startswith("<urn:")
    f.close()


#: Seeds of the robots.txt tests: pages of the test site (urls spider).
ROBOTS_SEEDS = ["/articles/text", "/articles/meta", "/articles/badge", "/articles/jsonld",
                "/articles/rel-license", "/private/draft"]


def test_robots_503_is_fetched_once_for_the_fleet(redis_server: RedisServer,
                                                  tmp_path: Path) -> None:
    """robots.txt always answers 503: the fleet fetches it once and once again (one
    refetch allowed, due at once), not three times each; every seed is an error record."""
    with make_site(robots_failures=-1) as site:
        out = tmp_path / "robots503"
        seeds = [site.url + p for p in ROBOTS_SEEDS]
        procs = [start(crawl_command(seeds, out, redis_server.url, "--spider", "urls",
                                     settings={"LICRAWL_ROBOTS_REFETCH_DELAY": "0",
                                               "LICRAWL_ROBOTS_REFETCHES": "1"}))
                 for _ in range(3)]
        finish(procs)
        robots = len(site.requests_for("/robots.txt"))
        tdmrep = len(site.requests_for("/.well-known/tdmrep.json"))
        pages = [r.path for r in site.log if r.path in ROBOTS_SEEDS]
    assert robots == 2 and tdmrep == 1  # for the fleet: the first fetch and one refetch
    assert pages == []
    errors = {path_of(e.url): e.reason for e in read_errors(out / "errors")}
    assert errors == dict.fromkeys(ROBOTS_SEEDS, "robots-unavailable")
    assert sum(results(out).values()) == len(ROBOTS_SEEDS)


def test_robots_that_recovers_is_fetched_once_more_for_the_fleet(
        redis_server: RedisServer, tmp_path: Path) -> None:
    """robots.txt answers 503 once, then 200: one failed fetch and one good one for the
    fleet; no page goes out before the good one, and its rules are obeyed."""
    with make_site(robots_failures=1) as site:
        out = tmp_path / "robots-recovers"
        seeds = [site.url + p for p in ROBOTS_SEEDS]
        procs = [start(crawl_command(seeds, out, redis_server.url, "--spider", "urls",
                                     settings={"LICRAWL_ROBOTS_REFETCH_DELAY": "0"}))
                 for _ in range(3)]
        finish(procs)
        robots = site.requests_for("/robots.txt")
        pages = [r for r in site.log if r.path in ROBOTS_SEEDS]
    assert len(robots) == 2
    assert pages and min(p.time for p in pages) > robots[-1].time
    assert "/private/draft" not in {p.path for p in pages}  # disallowed by its rules
    found = results(out)
    assert set(found) == set(ROBOTS_SEEDS) and set(found.values()) == {1}


def test_kill_one_process_the_others_finish_its_urls(redis_server: RedisServer,
                                                     tmp_path: Path) -> None:
    budget = 900
    with make_site() as site:
        out = tmp_path / "kill"
        procs = [start(crawl_command(site.url + "/gen/1", out, redis_server.url,
                                     "--max-pages", str(budget))) for _ in range(3)]
        wait_for(site, "/gen", 300, procs)
        watcher = RedisFrontier(redis_server.url, out.name)
        held = [n for owner, (_, n, _) in watcher.status().owners.items()
                if f":{procs[0].pid}:" in owner]
        procs[0].send_signal(signal.SIGKILL)
        procs[0].communicate(timeout=30)
        watcher.close()
        assert held and held[0] > 0
        finish(procs[1:])
        fetched = Counter(r.path for r in site.requests_for("/gen"))
    found = results(out)
    assert len(fetched) <= budget  # the fleet's budget held
    assert set(found) == set(fetched)  # the killed process's URLs were finished
    assert set(found.values()) == {1}
    f = RedisFrontier(redis_server.url, out.name)
    assert f.counts().unfinished == 0 and f.counts().queued == 0
    f.close()
    # fetched again: at most what the killed one held (leased, or fetched with its row not
    # published yet) when it died, give or take what it leased between the look and the kill
    again = sum(n - 1 for n in fetched.values())
    assert again <= held[0] + 32, (again, held)


def test_stop_all_and_resume(redis_server: RedisServer, tmp_path: Path) -> None:
    budget = 600
    with make_site() as site:
        out = tmp_path / "resume"
        args = crawl_command(site.url + "/gen/1", out, redis_server.url,
                             "--max-pages", str(budget))
        procs = [start(args) for _ in range(3)]
        wait_for(site, "/gen", 200, procs)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        finish(procs)
        mid = len(site.requests_for("/gen"))
        assert mid < budget
        logs = finish([start(args) for _ in range(3)])
        fetched = Counter(r.path for r in site.requests_for("/gen"))
    assert any(re.search(r": [1-9]\d* done, \d+ queued", log) for log in logs), logs
    found = results(out)
    assert len(fetched) == budget
    assert set(found) == set(fetched) and set(found.values()) == {1}
    # a clean stop gives its leases back; only pages whose download was cut short by the
    # stop are fetched again
    assert sum(n - 1 for n in fetched.values()) <= 3 * 32


def test_redis_stopped_mid_crawl_stops_cleanly_and_loses_nothing(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", appendonly=True).start()
    budget = 600
    try:
        with make_site() as site:
            out = tmp_path / "outage"
            args = crawl_command(site.url + "/gen/1", out, server.url, "--max-pages",
                                 str(budget), "--frontier-timeout", "2")
            procs = [start(args) for _ in range(2)]
            wait_for(site, "/gen", 200, procs)
            server.stop()
            started = time.monotonic()
            for proc in procs:
                _, err = proc.communicate(timeout=60)
                assert proc.returncode == 3, err[-3000:]
                assert "the frontier is unavailable" in err
                assert "run the same command again once Redis is back" in err
            assert time.monotonic() - started < 30
            fetched_before = {r.path for r in site.requests_for("/gen")}
            server.start()  # its append-only file brings the frontier back
            f = RedisFrontier(server.url, out.name)
            unfinished = {u.split("/", 3)[3] for _, u, _ in f.unfinished()}
            f.close()
            found_before = results(out)
            # nothing fetched is lost: each page has its result or is still to do
            lost = {p for p in fetched_before
                    if p not in found_before and p.lstrip("/") not in unfinished}
            assert not lost
            logs = finish([start(args) for _ in range(2)])
            fetched = Counter(r.path for r in site.requests_for("/gen"))
    finally:
        server.stop()
    found = results(out)
    assert any("kept while Redis was away applied" in log for log in logs), logs
    assert len(fetched) <= budget
    assert set(found) == set(fetched) and set(found.values()) == {1}
