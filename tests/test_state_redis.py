"""A crawl state in Redis (crawler.state.redis_store), shared by the processes of a fleet.

The same sequence of runs is recorded into a SQLite state folder and into Redis: every
reading method must answer the same. Then the lock (one run at a time, every process of
that run admitted, a killed run's lease running out), the format check, and two
``licrawl crawl --frontier redis://... --state redis://...`` processes crawling a local
site twice, the site changing in between. A real ``redis-server`` is started on a free
127.0.0.1 port (tests skipped only when the binary is missing).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from crawler.demo.localsite import LocalSite
from crawler.state.open import check_state, open_state
from crawler.state.redis_store import FIELDS, RedisCrawlState, decode, encode
from crawler.state.store import CrawlState, Observation, StateError, StateLocked
from tests.helpers.crawl_state import DAY, T0, gone, page, record_id

sys.path.insert(0, str(Path(__file__).parent / "site"))
from changing import ChangingSite  # noqa: E402
from test_fleet import REDIS, RedisServer  # noqa: E402
from test_recrawl import FAST, licrawl, path_of, rows, warc_records  # noqa: E402

pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed "
                                "(Debian: apt-get install redis-server)")

_names = iter(range(10**6))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    started = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield started
    started.stop()


def location(server: RedisServer, name: str | None = None) -> str:
    """A state of its own on ``server`` (database 1; the frontiers use 0)."""
    return (f"redis://127.0.0.1:{server.port}/1?name="
            f"{name or f't{os.getpid()}-{next(_names)}'}")


def client(server: RedisServer) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=server.port, db=1)


def client_of(where: str) -> redis.Redis:
    return redis.Redis.from_url(where.split("?")[0])


def record_run(where: str | Path, run_id: str, started: float,
               observations: list[Observation], summary: dict[str, Any] | None = None
               ) -> None:
    """Record one finished run of the job in the state at ``where`` (a folder or Redis)."""
    state = (CrawlState(where, run_id, now=started) if isinstance(where, Path)
             else RedisCrawlState(where, run_id, now=started))
    with state:
        for obs in observations:
            state.record(obs)
        state.end_run(summary or {}, now=started + 600)


A, B, C = "https://a.test/a", "https://a.test/b", "https://b.test/c"


def record_three_runs(where: str | Path) -> None:
    """Three runs: a license change, a page removed and back, an error, an opt-out."""
    record_run(where, "run-1", T0, [page(A, T0, etag='"a1"'), page(B, T0),
                                    page(C, T0 + 5, last_modified="Mon, 04 Mar 2024 "
                                         "10:00:00 GMT")],
               {"rows": 3, "pages": {"new": 3}})
    record_run(where, "run-2", T0 + DAY, [
        page(A, T0 + DAY, "changed", license="LicenseRef-All-Rights-Reserved",
             license_category="reserved", text_sha1="1" * 40),
        gone(B, T0 + DAY), Observation(C, T0 + DAY, "error", status=503),
        page(A, T0 + DAY + 1, "changed", license="LicenseRef-All-Rights-Reserved",
             license_category="reserved", text_sha1="1" * 40, etag='"a2"')])  # replaces
    record_run(where, "run-3", T0 + 2 * DAY, [
        page(B, T0 + 2 * DAY, ai_optout=("robots:GPTBot", "tdmrep"), tdm_reserved=True,
             page_signals=("meta:noai",), page_tdm=False, ref_record_id="<urn:x>",
             ref_date="2026-11-01T06:00:00Z")])


def everything(state: Any, run_id: str | None = None) -> dict[str, Any]:
    """What every reading method of ``state`` answers."""
    return {
        "previous": {u: state.previous(u) for u in (A, B, C, "https://nowhere.test/")},
        "last_fetched": {u: state.last_fetched(u) for u in (A, B, C, "x")},
        "latest": state.latest([C, A, A, "https://nowhere.test/"]),
        "known": list(state.known_urls()),
        "all": list(state.observations()),
        "some": list(state.observations([C, A, "x"])),
        "since": list(state.observations(since=T0 + DAY)),
        "runs": [(r[0], r[1], r[2], r[3]) for r in state.runs()],
    }


def test_answers_as_the_sqlite_state_does(server: RedisServer, tmp_path: Path) -> None:
    where = location(server)
    record_three_runs(tmp_path / "state")
    record_three_runs(where)
    with CrawlState(tmp_path / "state") as sqlite_state, open_state(where) as redis_state:
        expected, got = everything(sqlite_state), everything(redis_state)
        assert got == expected
        assert [o.run_id for o in got["all"] if o.url == A] == ["run-1", "run-2"]
        assert got["all"][1].etag == '"a2"'  # run 2's second observation replaced its first
        assert got["previous"][B].last.outcome != "removed" and got["previous"][B].page.ai_optout
        # a run open for writing compares with earlier runs only, as CrawlState does
    with CrawlState(tmp_path / "state", "run-2") as sqlite_run, \
            open_state(where, "run-2") as redis_run:
        assert redis_run.run == sqlite_run.run == 2
        assert everything(redis_run)["previous"] == everything(sqlite_run)["previous"]
        assert list(redis_run.known_urls()) == list(sqlite_run.known_urls())
        assert redis_run.previous(A).last.run_id == "run-1"


def test_encoding_round_trips_every_field_compactly() -> None:
    names = [f.name for f in dataclasses.fields(Observation)]
    assert sorted(FIELDS) == sorted(set(names) - {"url", "run_id"})
    full = page(A, T0 + 0.123456, "unchanged", ai_optout=("robots:GPTBot",),
                page_signals=("meta:noai",), page_tdm=True, tdm_reserved=False,
                etag='"e"', last_modified="Mon, 04 Mar 2024 10:00:00 GMT",
                payload_digest="sha1:ABC", ref_record_id="<urn:r>", ref_date="2026")
    assert decode(A, "r", encode(full)) == dataclasses.replace(full, run_id="r")
    # a record id as <urn:uuid:U> is kept as U, a reference to the record itself as 1
    new = page(A, T0, warc_record_id="<urn:uuid:0b161a18-e0ed-43f4-a259-fe07b6c5a082>")
    new = dataclasses.replace(new, ref_record_id=new.warc_record_id)
    assert b'"0b161a18-e0ed-43f4-a259-fe07b6c5a082",1]' in encode(new)
    assert decode(A, "", encode(new)) == new
    odd = dataclasses.replace(new, warc_record_id="<urn:other>", ref_record_id="x")
    assert decode(A, "", encode(odd)) == odd
    removed = gone(A, T0)
    assert encode(removed) == b'[1793512800.0,3,404]'  # trailing empty fields left out
    assert decode(A, "", encode(removed)) == removed


def test_the_fleet_shares_one_run_and_one_lock(server: RedisServer) -> None:
    where = location(server)
    first, second = open_state(where, "crawl-1"), open_state(where, "crawl-1")
    assert first.run == second.run == 1
    with pytest.raises(StateLocked, match="in use by another run of this job .run crawl-1"):
        open_state(where, "crawl-2")
    with pytest.raises(StateLocked):
        check_state(where)
    check_state(where, "crawl-1")  # a process of the same run may join
    first.record(page(A, T0))
    second.record(page(A, T0 + 1, license="MIT"))  # the same URL again: replaced
    second.record(page(B, T0 + 2))
    first.end_run({"rows": 1, "seconds": 4.0, "errors_by_reason": {"fetch/timeout": 1},
                   "crawl_id": "crawl-1", "shards": ["a.parquet"]})
    first.close()
    with pytest.raises(StateLocked):  # the second process still runs
        open_state(where, "crawl-2")
    assert open_state(where).runs()[0][2] is None  # not ended yet
    second.end_run({"rows": 2, "seconds": 3.0, "errors_by_reason": {"fetch/timeout": 2,
                                                                    "http/404": 1},
                    "crawl_id": "crawl-1", "shards": ["b.parquet"]})
    second.close()
    reader = open_state(where)
    ((run_id, _started, ended, summary),) = reader.runs()
    assert run_id == "crawl-1" and ended is not None
    assert summary == {"rows": 3, "seconds": 4.0, "crawl_id": "crawl-1",
                       "errors_by_reason": {"fetch/timeout": 3, "http/404": 1},
                       "shards": ["a.parquet", "b.parquet"]}
    assert [(o.url, o.license) for o in reader.observations()] == [(A, "MIT"),
                                                                  (B, "CC-BY-4.0")]
    reader.close()
    check_state(where)  # free: the next run may start
    with open_state(where, "crawl-2") as nxt:
        assert nxt.run == 2 and nxt.previous(A).last.license == "MIT"


def test_a_killed_run_holds_the_job_only_until_its_lease_ends(server: RedisServer) -> None:
    where = location(server)
    killed = RedisCrawlState(where, "crawl-1", lease_ttl=0.5)
    killed.record(page(A, T0))
    killed.commit()
    killed._stop.set()  # its heartbeat stops, as after kill -9 (nothing ends the run)
    with pytest.raises(StateLocked):
        open_state(where, "crawl-2")
    time.sleep(0.8)
    check_state(where)
    with open_state(where, "crawl-2") as nxt:
        assert nxt.run == 2 and nxt.previous(A) is not None
    ((_, _, ended, _), _) = open_state(where).runs()
    assert ended is None  # the killed run never ended


def test_newer_or_foreign_state_is_refused(server: RedisServer) -> None:
    where = location(server, "newer")
    open_state(where, "r").close()
    client(server).set(b"licrawl-state:newer:format", b"99")
    for attempt in (lambda: open_state(where), lambda: open_state(where, "r2"),
                    lambda: check_state(where)):
        with pytest.raises(StateError, match="newer licrawl .state format 99"):
            attempt()
    client(server).set(b"licrawl-state:foreign:format", b"hello")
    with pytest.raises(StateError, match="not a usable crawl state"):
        open_state(location(server, "foreign"), "r")
    with pytest.raises(StateError, match="no crawl state here"):
        open_state(location(server, "empty"))
    with pytest.raises(StateError, match="bad state name"):
        open_state(f"redis://127.0.0.1:{server.port}/1?name=a*b")
    with pytest.raises(StateError, match="cannot use"):
        open_state("redis://127.0.0.1:1/0?name=x")


def test_without_redis_py_a_clear_error() -> None:
    code = ("import sys; sys.modules['redis'] = None\n"
            "from crawler.state.open import open_state\n"
            "from crawler.state.store import StateError\n"
            "try:\n    open_state('redis://127.0.0.1:1/0')\n"
            "except StateError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert "needs redis-py: pip install 'licrawl[fleet]'" in out.stdout


def test_bytes_per_observation(server: RedisServer) -> None:
    """Redis memory of a state of 2,000 URLs after one run (pages new) and after a second
    (pages unchanged: revisits referring to the first run's records), by MEMORY USAGE of its
    keys; printed for the README, bounded here."""
    name = f"bytes{os.getpid()}"
    where, db = location(server, name), client(server)

    def used() -> int:
        return sum(db.memory_usage(k, samples=0) or 0
                   for k in db.scan_iter(f"licrawl-state:{name}:*".encode(), count=1000))

    urls = [f"https://example.org/articles/2026/{i:05d}-a-page-title.html" for i in range(2000)]

    def seen(i: int, url: str, run: int) -> Observation:
        when = T0 + run * DAY
        obs = page(url, when, "new" if run == 1 else "unchanged", etag=f'"{i:08x}"',
                   payload_digest="sha1:" + "A" * 32, text_sha1=f"{i:040x}",
                   warc_file="licrawl-20261201T060000Z-00001-host.warc.gz")
        first = record_id(url, T0 + DAY)
        return dataclasses.replace(obs, ref_record_id=first,
                                   ref_date=None if run == 1 else "2026-11-02T06:00:00Z")

    sizes, lines = [], []
    for run in (1, 2):
        record_run(where, f"crawl-{run}", T0 + run * DAY,
                   [seen(i, u, run) for i, u in enumerate(urls)])
        sizes.append(used())
        lines.append(len(encode(seen(0, urls[0], run))) + 3)  # with "N\t" and "\n"
    per_url, per_obs = sizes[0] / len(urls), (sizes[1] - sizes[0]) / len(urls)
    print(f"\nRedis state, {len(urls)} URLs of {len(urls[0])} B: {per_url:.0f} B per URL "
          f"with its first observation (stored line {lines[0]} B), {per_obs:.0f} B per "
          f"further observation (stored line {lines[1]} B)")
    # the stored line, rounded up to the allocator's size class (at most 25% above it),
    # and per URL its key and its place in the sorted set of URLs
    assert per_obs < lines[1] * 1.25 and per_url < lines[0] * 1.25 + 2 * len(urls[0]) + 150


# -- licrawl crawl: a fleet of two processes, twice -----------------------------------------

#: The fleet's lease (and the state's) short: the fleet tests kill nothing, but stop fast.
FLEET = [*FAST, "-s", "LICRAWL_LEASE_TTL=5", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]


def fleet_run(site: LocalSite, server: RedisServer, outs: list[Path], state: str,
              crawl_name: str) -> list[str]:
    """Two ``licrawl crawl`` processes of one fleet run; their stdout."""
    procs = [subprocess.Popen(licrawl("crawl", site.url + "/", "--out", str(out),
                                      "--frontier", server.url, "--crawl-name", crawl_name,
                                      "--state", state, *FLEET),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for out in outs]
    logs = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-3000:]
        logs.append(out)
    return logs


@pytest.fixture(scope="module")
def fleet(server: RedisServer, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[dict[str, Any]]:
    """Run 1 of the site by two processes; the site changes, the fleet's frontier is purged
    (a new run: a new crawl id); run 2 by two processes. One state in Redis."""
    tmp = tmp_path_factory.mktemp("fleet-state")
    state = location(server, "fleetjob")
    site_def = ChangingSite()
    with LocalSite(site_def.handle) as site:
        fleet_run(site, server, [tmp / "1a", tmp / "1b"], state, "fleetjob")
        log1 = list(site.log)
        site_def.change()
        subprocess.run(licrawl("frontier", "purge", "--frontier", server.url,
                               "--crawl-name", "fleetjob", "--yes"), check=True,
                       capture_output=True)
        fleet_run(site, server, [tmp / "2a", tmp / "2b"], state, "fleetjob")
        yield {"tmp": tmp, "state": state, "site": site, "log1": log1,
               "log2": list(site.log[len(log1):])}


def test_fleet_observes_every_url_once_per_run(fleet: dict[str, Any]) -> None:
    pages = {"/", "/a", "/b", "/c", "/d", "/gone", "/lm"}
    for log, expected in ((fleet["log1"], pages), (fleet["log2"], pages | {"/e"})):
        fetched = Counter(r.path for r in log if r.path in expected)
        assert fetched == dict.fromkeys(expected, 1)  # once for the fleet
    with open_state(fleet["state"]) as state:
        runs = state.runs()
        assert len(runs) == 2 and all(ended is not None for _, _, ended, _ in runs)
        by_run: dict[str, dict[str, str]] = {}
        for obs in state.observations():
            by_run.setdefault(obs.run_id, {})[path_of(obs.url)] = obs.outcome
        first, second = (by_run[run_id] for run_id, _, _, _ in runs)
        assert first == dict.fromkeys(pages, "new")
        assert second == {"/": "unchanged", "/a": "unchanged", "/b": "unchanged",
                          "/c": "changed", "/d": "unchanged", "/lm": "unchanged",
                          "/gone": "removed", "/e": "new"}
        # both processes took part in each run; their summaries add up to the run's
        for run in (1, 2):
            fields = client_of(fleet["state"]).hkeys(f"licrawl-state:fleetjob:run:{run}")
            assert sum(f.startswith(b"s:") for f in fields) == 2
        assert runs[1][3]["pages"] == {"new": 1, "changed": 1, "unchanged": 5,
                                       "removed": 1, "error": 0}
    asked = {r.path: (r.conditional, r.status) for r in fleet["log2"]}
    assert asked["/"] == asked["/b"] == asked["/lm"] == (True, 304)
    revisits = {path: status for tmp in ("2a", "2b")
                for kind, path, _headers, status in warc_records(fleet["tmp"] / tmp)
                if kind == "revisit"}
    assert revisits == {"/": "304", "/b": "304", "/lm": "304", "/d": "200"}
    second_rows = [path_of(r["url"]) for tmp in ("2a", "2b")
                   for r in rows(fleet["tmp"] / tmp)]
    assert sorted(second_rows) == ["/c", "/e"]  # /a: the same text, a new license


def test_fleet_recrawl_of_an_unchanged_site_ends(server: RedisServer,
                                                 tmp_path: Path) -> None:
    """Every page unchanged: the fleet's run ends. Unchanged pages are marked done in
    groups; a group the last result leaves waiting is marked done once the writer has been
    quiet for a moment (the fleet counts those pages in flight: it waited for them, and
    they for a next result, for ever)."""
    state = location(server, "quietjob")
    with LocalSite(ChangingSite().handle) as site:
        for run in (1, 2):
            fleet_run(site, server, [tmp_path / f"{run}a", tmp_path / f"{run}b"], state,
                      "quietjob")
            subprocess.run(licrawl("frontier", "purge", "--frontier", server.url,
                                   "--crawl-name", "quietjob", "--yes"), check=True,
                           capture_output=True)
    with open_state(state) as opened:
        runs = opened.runs()
        assert len(runs) == 2 and all(ended is not None for _, _, ended, _ in runs)
        assert runs[1][3]["pages"]["unchanged"] == 7


def test_history_of_the_fleet_state(fleet: dict[str, Any]) -> None:
    out = subprocess.run(licrawl("history", fleet["state"], "--changes", "--json"),
                         capture_output=True, text=True, check=True)
    found = {(path_of(c["url"]), c["field"]): (c["old"], c["new"])
             for c in map(json.loads, out.stdout.splitlines())}
    assert found[("/a", "license")] == ("CC-BY-4.0", "LicenseRef-All-Rights-Reserved")
    assert found[("/gone", "status")] == ("present", "removed")
    for path in ("/", "/a", "/b", "/c", "/d", "/lm"):
        assert found[(path, "ai_optout")] == ([], ["robots:GPTBot"])
    runs = subprocess.run(licrawl("history", fleet["state"], "--runs", "--json"),
                          capture_output=True, text=True, check=True)
    assert len(runs.stdout.splitlines()) == 2


def test_filter_with_the_fleet_state(fleet: dict[str, Any]) -> None:
    tmp = fleet["tmp"]
    result = subprocess.run(licrawl("filter", str(tmp / "1a" / "data"), str(tmp / "1b" / "data"),
                                    "--out", str(tmp / "subset"), "--state", fleet["state"]),
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp / "subset" / "report.json").read_text())
    assert report["excluded_by_reason"] == {"removed": 1, "later-optout:robots:GPTBot": 6}


def test_another_run_exits_at_once_while_the_fleet_runs(fleet: dict[str, Any],
                                                        server: RedisServer,
                                                        tmp_path: Path) -> None:
    with open_state(fleet["state"], "a-fleet-run-in-progress"):
        result = subprocess.run(licrawl("crawl", fleet["site"].url + "/", "--out",
                                        str(tmp_path / "out"), "--frontier", server.url,
                                        "--crawl-name", "other", "--state", fleet["state"],
                                        *FLEET),
                                capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 75, result.stderr[-3000:]
    assert "in use by another run of this job (run a-fleet-run-in-progress" in result.stderr
    assert not (tmp_path / "out" / "data").exists()
