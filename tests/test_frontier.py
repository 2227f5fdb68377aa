"""The crawl frontier, its Scrapy scheduler, and resume's pieces (WARC recovery, rebuild).

Real SQLite files, real Scrapy requests and a real WARC writer; the kill test kills a real
process with SIGKILL.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.utils.test import get_crawler

from crawler.core.errors import ErrorRecord, ErrorWriter
from crawler.core.page import WarcRef
from crawler.fetch.frontier import (
    FORMAT_VERSION,
    Counts,
    Frontier,
    FrontierError,
    FrontierObserver,
    SqliteFrontier,
    State,
    frontier_for,
)
from crawler.fetch.resume import read_fetched, reconcile, recover_warcs, remove_leftovers
from crawler.fetch.scheduler import KEY_META, FrontierScheduler
from crawler.fetch.settings import default_settings
from crawler.stages.sink import ResultSink, RunSummary
from crawler.store.warc import WarcWriter
from tests.factories import make_row


@pytest.fixture
def frontier(tmp_path: Path) -> Any:
    with SqliteFrontier(tmp_path / "f.sqlite3") as f:
        yield f


def test_is_a_frontier(frontier: SqliteFrontier) -> None:
    assert isinstance(frontier, Frontier)


def test_seen_set_priority_and_newest_first(frontier: SqliteFrontier) -> None:
    assert frontier.enqueue("a", "http://x/a", b"A")
    assert frontier.enqueue("b", "http://x/b", b"B")
    assert frontier.enqueue("c", "http://x/c", b"C", priority=5)
    assert not frontier.enqueue("a", "http://x/a", b"A2")  # seen
    assert frontier.seen("a") and not frontier.seen("z")
    order = [frontier.lease() for _ in range(4)]
    assert [lease.key if lease else None for lease in order] == ["c", "b", "a", None]
    assert order[2] is not None and order[2].payload == b"A"
    assert not frontier.has_queued()
    assert frontier.counts() == Counts(leased=3)


def test_dont_filter_queues_a_seen_request_again(frontier: SqliteFrontier) -> None:
    frontier.enqueue("a", "http://x/a", b"A")
    frontier.lease()
    assert frontier.enqueue("a", "http://x/a", b"A2", force=True)
    lease = frontier.lease()
    assert lease is not None and lease.payload == b"A2"


def test_retry_requeues_its_own_entry(frontier: SqliteFrontier) -> None:
    frontier.enqueue("a", "http://x/a", b"A")
    frontier.lease()
    assert frontier.enqueue("a", "http://x/a", b"A-retry", parent="a")
    assert frontier.counts() == Counts(queued=1)
    lease = frontier.lease()
    assert lease is not None and lease.payload == b"A-retry"


def test_redirect_target_takes_over(frontier: SqliteFrontier) -> None:
    frontier.enqueue("a", "http://x/a", b"A")
    frontier.enqueue("seen", "http://x/seen", b"S")
    frontier.lease()  # "seen" (newest first)
    frontier.lease()  # "a"
    # a redirect to a seen URL is dropped: "a" stays in flight until its error record
    assert not frontier.enqueue("seen", "http://x/seen", b"S2", origin="http://x/a",
                                parent="a")
    assert frontier.counts() == Counts(leased=2)
    # a redirect to a new URL: "a" is done, the target carries its origin
    assert frontier.enqueue("b", "http://x/b", b"B", origin="http://x/a", parent="a")
    assert frontier.counts() == Counts(queued=1, leased=1, done=1)
    frontier.lease()
    # the target failed: its error record names the first URL of the chain
    assert frontier.done_urls(["http://x/a"]) == 1
    assert frontier.counts() == Counts(leased=1, done=2)


def test_fetched_pages_are_listed_for_rebuild(frontier: SqliteFrontier) -> None:
    for key in "abc":
        frontier.enqueue(key, f"http://x/{key}", key.encode())
        frontier.lease()
    frontier.mark_fetched("a", WarcRef("warc/1.warc.gz", "<urn:uuid:1>"))
    frontier.mark_fetched("b", WarcRef("warc/1.warc.gz", "<urn:uuid:2>"))
    frontier.mark_done(["b"])
    assert [(f.key, f.warc.record_id) for f in frontier.to_rebuild()] == [("a", "<urn:uuid:1>")]
    assert frontier.requeue_leases() == 1  # "c" was in flight
    frontier.requeue(["a"])  # its WARC record is lost
    assert frontier.counts() == Counts(queued=2, done=1)
    assert frontier.lease() is not None and frontier.lease() is not None


def test_lease_timeout_for_a_fleet(frontier: SqliteFrontier) -> None:
    frontier.enqueue("a", "http://x/a", b"A")
    frontier.lease()
    assert frontier.requeue_leases(older_than=3600) == 0
    assert frontier.requeue_leases(older_than=0) == 1


def test_state_survives_reopening_and_meta(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    with SqliteFrontier(path) as f:
        f.enqueue("a", "http://x/a", b"A")
        f.enqueue("b", "http://x/b", b"B")
        f.lease()
        f.set_meta("crawl_id", "crawl-1")
        f.sync()
    with SqliteFrontier(path) as f:
        assert f.counts() == Counts(queued=1, leased=1)
        assert f.has_queued()
        assert f.get_meta("crawl_id") == "crawl-1" and f.get_meta("nope") is None
        assert sorted(f.keys()) == ["a", "b"]
        assert [s.name for s in State] == ["QUEUED", "LEASED", "FETCHED", "DONE"]


def test_one_process_at_a_time_and_newer_formats_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    with SqliteFrontier(path), pytest.raises(FrontierError, match="in use"):
        SqliteFrontier(path)
    import sqlite3

    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={FORMAT_VERSION + 1}")
    db.close()
    with pytest.raises(FrontierError, match="newer licrawl"):
        SqliteFrontier(path)
    garbage = tmp_path / "g.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(FrontierError, match="not a usable frontier"):
        SqliteFrontier(garbage)


def test_sigkill_loses_at_most_the_last_group_and_only_a_tail(tmp_path: Path) -> None:
    """Changes are committed in groups: a kill loses at most the changes since the last
    commit, and what survives is the frontier as it was at one moment (a prefix of the
    changes, never one missing from the middle)."""
    path = tmp_path / "f.sqlite3"
    script = textwrap.dedent(f"""
        from crawler.fetch.frontier import SqliteFrontier
        f = SqliteFrontier({str(path)!r})
        n = 0
        while True:
            f.enqueue(f"k{{n}}", f"http://x/{{n}}", b"x" * 200)
            if n % 3 == 0:
                f.lease()
            if n % 500 == 499:
                f.commit()
                print("committed", n, flush=True)
            n += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            text=True, cwd=Path(__file__).parent.parent)
    assert proc.stdout is not None
    committed = -1
    for line in proc.stdout:
        committed = int(line.split()[1])
        if committed >= 2000:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with SqliteFrontier(path) as f:
        counts = f.counts()
        keys = set(f.keys())
        assert counts.total >= committed + 1  # every committed enqueue survived
        assert keys == {f"k{n}" for n in range(counts.total)}  # a prefix: nothing missing
        assert counts.leased >= committed // 3
        assert f.requeue_leases() == counts.leased
        assert f.counts().queued == counts.total


def test_sink_tells_the_observer_what_is_durable(tmp_path: Path) -> None:
    calls: list[Any] = []

    class Recorder:
        def before_publish(self) -> None:
            calls.append("sync")

        def before_error(self) -> None:
            calls.append("commit")

        def published(self, urls: list[str]) -> None:
            calls.append(("published", list(urls)))

        def error_written(self, url: str) -> None:
            calls.append(("error", url))

    sink = ResultSink(tmp_path, RunSummary(crawl_id="c"), observer=Recorder(), max_rows=2)
    urls = [f"https://example.org/{n}" for n in range(3)]
    for n, url in enumerate(urls):
        sink.put(make_row(url=url, id=f"{n:040x}"))
    sink.put(ErrorRecord(url="https://example.org/e", stage="fetch", reason="dns-error"))
    assert calls == ["sync", ("published", urls[:2]), "commit",
                     ("error", "https://example.org/e")]
    sink.close()
    assert calls[-2:] == ["sync", ("published", urls[2:])]


def _scheduler(tmp_path: Path) -> tuple[FrontierScheduler, scrapy.Spider]:
    class Spider(scrapy.Spider):
        name = "s"

        def parse(self, response: Any) -> None:
            """Unused."""

    settings = {**default_settings(), "LICRAWL_OUT_DIR": str(tmp_path)}
    crawler = get_crawler(Spider, settings_dict=settings)
    crawler.spider = spider = Spider()
    scheduler = FrontierScheduler.from_crawler(crawler)
    scheduler.open(spider)
    return scheduler, spider


def test_scheduler_round_trip_and_seen_set(tmp_path: Path) -> None:
    scheduler, spider = _scheduler(tmp_path)
    assert frontier_for(scheduler.crawler) is scheduler.frontier
    request = scrapy.Request("http://x/a", callback=spider.parse, priority=3,
                             meta={"depth": 2})
    assert scheduler.enqueue_request(request)
    assert not scheduler.enqueue_request(scrapy.Request("http://x/a"))
    assert scheduler.has_pending_requests()
    out = scheduler.next_request()
    assert out is not None and out.url == "http://x/a" and out.priority == 3
    assert out.callback == spider.parse and out.meta["depth"] == 2
    assert out.meta[KEY_META]
    assert not scheduler.has_pending_requests()
    assert scheduler.enqueue_request(scrapy.Request("http://x/a", dont_filter=True))
    # a redirect made from it by Scrapy keeps its meta: the target takes over
    redirected = out.replace(url="http://x/b", meta={**out.meta, "redirect_urls": [out.url]})
    assert scheduler.enqueue_request(redirected)
    scheduler.close("finished")
    with SqliteFrontier(tmp_path / "job" / "frontier.sqlite3") as f:
        counts = f.counts()
    assert counts == Counts(queued=2)  # the dont_filter copy (same entry) and the target


def test_scheduler_stores_requests_as_scrapy_would(tmp_path: Path) -> None:
    """The scheduler's quick serialization gives what ``Request.to_dict(spider=...)`` gives."""
    scheduler, spider = _scheduler(tmp_path)
    for request in (scrapy.Request("http://x/a", callback=spider.parse, errback=spider.parse,
                                   meta={"depth": 1}, priority=-2, cb_kwargs={"n": 1}),
                    scrapy.Request("http://x/b", callback=spider.parse),
                    scrapy.Request("http://x/c")):
        assert scheduler._as_dict(request) == request.to_dict(spider=spider)
    scheduler.close("finished")


def test_scheduler_keeps_unserializable_requests_in_memory(tmp_path: Path) -> None:
    scheduler, _ = _scheduler(tmp_path)
    request = scrapy.Request("http://x/lambda", callback=lambda r: None)
    assert scheduler.enqueue_request(request)
    out = scheduler.next_request()
    assert out is request
    scheduler.close("finished")


def _write_pages(warc_dir: Path, n: int) -> tuple[WarcWriter, list[WarcRef]]:
    writer = WarcWriter(warc_dir, prefix="crawl", root=warc_dir.parent)
    refs = [writer.write_response(f"http://x/{i}", 200, "OK",
                                  [("Content-Type", "text/html")],
                                  f"<html><body><p>page {i}</p></body></html>".encode(),
                                  datetime.now(UTC)) for i in range(n)]
    writer.flush()
    return writer, refs


def test_open_warc_of_a_dead_process_is_recovered_and_read(tmp_path: Path) -> None:
    warc_dir = tmp_path / "warc"
    writer, refs = _write_pages(warc_dir, 3)
    [open_file] = warc_dir.glob("*.open")
    assert recover_warcs(warc_dir) == []  # its writer (this process) is alive
    # the same file as a dead process left it, its last record cut in half
    stamp, pid = open_file.name.split("-")[1:3]
    dead = open_file.with_name(open_file.name.replace(f"-{pid}-", "-999999999-"))
    shutil.copy(open_file, dead)
    with open(dead, "r+b") as fh:
        fh.truncate(os.path.getsize(dead) - 20)
    writer.close()
    for path in warc_dir.glob("*.warc.gz"):
        path.unlink()
    [recovered] = recover_warcs(warc_dir)
    assert not list(warc_dir.glob("*.open"))
    name = recovered.relative_to(tmp_path).as_posix()
    fetched = [(str(i), WarcRef(name, ref.record_id)) for i, ref in enumerate(refs)]
    from crawler.fetch.frontier import Fetched

    pages, missing = read_fetched(tmp_path, [Fetched(k, f"http://x/{k}", w)
                                             for k, w in fetched])
    assert [p.url for p in pages] == ["http://x/0", "http://x/1"]
    assert pages[0].warc_file == name and pages[0].warc_record_id == refs[0].record_id
    assert missing == ["2"]  # the cut record: fetched again


def test_reconcile_marks_done_what_the_output_holds(tmp_path: Path) -> None:
    with SqliteFrontier(tmp_path / "job" / "f.sqlite3") as f:
        for n in range(3):
            f.enqueue(str(n), f"https://example.org/{n}", b"x")
            f.lease()
        sink = ResultSink(tmp_path, RunSummary(crawl_id="c"))
        sink.put(make_row(url="https://example.org/0"))
        sink.close()
        with ErrorWriter(tmp_path / "errors") as errors:
            errors.write(ErrorRecord(url="https://example.org/1", stage="fetch",
                                     reason="dns-error"))
        assert reconcile(f, tmp_path) == 2
        assert f.counts() == Counts(leased=1, done=2)
        FrontierObserver(f).error_written("https://example.org/2")
        assert f.counts() == Counts(done=3)


def test_resume_removes_what_dead_writers_left_of_unfinished_shards(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid is free now
    name = f"part-20240101T000000-host-{dead.pid}-abcdef-00001"
    live = f"part-20240101T000000-host-{os.getpid()}-abcdef-00002"
    data, spdx = tmp_path / "data", tmp_path / "spdx"
    data.mkdir()
    spdx.mkdir()
    leftovers = [data / f".{name}.parquet.tmp", spdx / f".{name}.spdx.json.tmp",
                 spdx / f"{name}.spdx.json"]  # its document renamed, the shard was not
    kept = [data / f".{live}.parquet.tmp",  # a live writer's shard in progress
            data / "part-20240101T000000-host-1-abcdef-00003.parquet",
            spdx / "part-20240101T000000-host-1-abcdef-00003.spdx.json"]
    for path in leftovers + kept:
        path.write_bytes(b"x")
    assert sorted(remove_leftovers(tmp_path)) == sorted(leftovers)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in leftovers)
