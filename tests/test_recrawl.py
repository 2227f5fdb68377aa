"""Scheduled recrawls against a local site whose pages change between runs (issue 12).

Run 1 crawls the site into a fresh state; between runs one page's license changes (same
text), one page's text changes and links to a new page, one page disappears, robots.txt
starts to opt out of GPTBot, and the rest stays: with ETags (304s), with Last-Modified only,
or with neither (the same payload again). Run 2 must ask conditionally, archive 304s and
same payloads as ``revisit`` records, write rows only for the changed and new pages, and
record every observation so that ``licrawl history --changes`` tells what changed.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.demo.localsite import LocalSite, Reply
from crawler.state.store import CrawlState, Observation

sys.path.insert(0, str(Path(__file__).parent / "site"))
from changing import CC_BY, HTML, ChangingSite, page  # noqa: E402

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0", "-s",
        "DOWNLOAD_TIMEOUT=2", "-s", "LICRAWL_RETRY_BACKOFF_BASE=0.05", "-s",
        "LICRAWL_PROGRESS_INTERVAL=0", "--workers", "1"]
def licrawl(*args: str) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", *args]


def crawl(site: LocalSite, out: Path, state: Path, *extra: str,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(licrawl("crawl", site.url + "/", "--out", str(out), "--state",
                                  str(state), *FAST, *extra),
                          capture_output=True, text=True, timeout=timeout, check=False)


def rows(out: Path) -> list[dict[str, Any]]:
    return [r for shard in sorted((out / "data").glob("*.parquet"))
            for r in pq.read_table(shard).to_pylist()]


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"


def warc_records(out: Path) -> list[Any]:
    """(type, path, WARC headers, HTTP status) of every record of the run's WARC files."""
    found = []
    for warc in sorted((out / "warc").glob("*.warc.gz")):
        with open(warc, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type in ("response", "revisit"):
                    status = record.http_headers.get_statuscode() if record.http_headers else None
                    found.append((record.rec_type, path_of(record.rec_headers.get_header(
                        "WARC-Target-URI")), record.rec_headers, status))
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run 1 on the first site, run 2 after it changed; both with one state folder."""
    tmp = tmp_path_factory.mktemp("recrawl")
    site_def = ChangingSite()
    with LocalSite(site_def.handle) as site:
        first = crawl(site, tmp / "run1", tmp / "state")
        assert first.returncode == 0, first.stderr[-3000:]
        site_def.change()
        before = len(site.log)
        second = crawl(site, tmp / "run2", tmp / "state", "--summary-json",
                       str(tmp / "summary.json"))
        assert second.returncode == 0, second.stderr[-3000:]
        yield {"tmp": tmp, "site": site, "first": first, "second": second,
               "log2": list(site.log[before:])}


def test_first_run_writes_every_page_and_observes_it(runs: dict[str, Any]) -> None:
    assert sorted(path_of(r["url"]) for r in rows(runs["tmp"] / "run1")) == [
        "/", "/a", "/b", "/c", "/d", "/gone", "/lm"]
    state = CrawlState(runs["tmp"] / "state")
    first_run = state.runs()[0][0]
    observed = [o for o in state.observations() if o.run_id == first_run]
    assert sorted((path_of(o.url), o.outcome) for o in observed) == sorted(
        (p, "new") for p in ("/", "/a", "/b", "/c", "/d", "/gone", "/lm"))
    a = next(o for o in observed if o.url.endswith("/a"))
    assert (a.etag, a.license, a.license_category) == ('"a1"', "CC-BY-4.0", "permissive")
    assert a.warc_record_id and a.ref_record_id == a.warc_record_id and a.ref_date


def test_second_run_asks_conditionally_and_gets_304s(runs: dict[str, Any]) -> None:
    asked = {r.path: (r.conditional, r.status) for r in runs["log2"] if r.path != "/robots.txt"}
    assert asked["/"] == (True, 304)
    assert asked["/b"] == (True, 304)
    assert asked["/lm"] == (True, 304)  # If-Modified-Since only
    assert asked["/a"] == (True, 200)  # the ETag changed with the footer
    assert asked["/d"] == (False, 200)  # no validators to ask with
    assert asked["/gone"][1] == 404
    assert asked["/e"] == (False, 200)  # found on the changed page /c
    # robots.txt is fetched afresh every run
    assert any(r.path == "/robots.txt" for r in runs["log2"])


def test_only_changed_and_new_pages_give_rows(runs: dict[str, Any]) -> None:
    second = rows(runs["tmp"] / "run2")
    assert sorted(path_of(r["url"]) for r in second) == ["/c", "/e"]
    assert all("robots:GPTBot" in r["ai_optout"] for r in second)


def test_revisit_records_name_what_they_revisit(runs: dict[str, Any]) -> None:
    first = {path: headers for kind, path, headers, _ in warc_records(runs["tmp"] / "run1")
             if kind == "response"}
    revisits = {path: (headers, status) for kind, path, headers, status
                in warc_records(runs["tmp"] / "run2") if kind == "revisit"}
    assert sorted(revisits) == ["/", "/b", "/d", "/lm"]
    for path in ("/", "/b", "/lm"):
        headers, status = revisits[path]
        assert status == "304"
        assert headers.get_header("WARC-Profile") == (
            "http://netpreserve.org/warc/1.1/revisit/server-not-modified")
    headers, status = revisits["/d"]
    assert status == "200"
    assert headers.get_header("WARC-Profile") == (
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")
    assert headers.get_header("WARC-Payload-Digest", "").startswith("sha1:")
    for path, (headers, _status) in revisits.items():
        original = first[path]
        assert headers.get_header("WARC-Refers-To-Target-URI") == original.get_header(
            "WARC-Target-URI")
        assert headers.get_header("WARC-Refers-To") == original.get_header("WARC-Record-ID")
        assert headers.get_header("WARC-Refers-To-Date") == original.get_header("WARC-Date")


def test_history_changes(runs: dict[str, Any]) -> None:
    out = subprocess.run(licrawl("history", str(runs["tmp"] / "state"), "--changes",
                                 "--json"), capture_output=True, text=True, check=True)
    changes = [json.loads(line) for line in out.stdout.splitlines()]
    assert {"url", "time", "field", "old", "new"} == set(changes[0])
    found = {(path_of(c["url"]), c["field"]): (c["old"], c["new"]) for c in changes}
    assert found[("/a", "license")] == ("CC-BY-4.0", "LicenseRef-All-Rights-Reserved")
    assert found[("/gone", "status")] == ("present", "removed")
    # the site's new robots.txt rule reaches unchanged pages (304s) too
    for path in ("/", "/a", "/b", "/c", "/d", "/lm"):
        assert found[(path, "ai_optout")] == ([], ["robots:GPTBot"])
    assert not any(p == "/b" and f == "license" for p, f in found)


def test_run_summary_counts_changes(runs: dict[str, Any]) -> None:
    assert "since the previous run" in runs["second"].stdout
    # where to get the report, with the runs over time of the state
    assert f"--state {runs['tmp'] / 'state'}" in runs["second"].stdout
    data = json.loads((runs["tmp"] / "summary.json").read_text())
    assert data["rows"] == 2
    assert data["pages"] == {"new": 1, "changed": 1, "unchanged": 5, "removed": 1, "error": 0}
    assert data["since_previous_run"] == {"license_changed": 1, "opted_out": 6,
                                          "disappeared": 1, "back": 0}
    assert data["errors_by_reason"] == {"classify/http-error": 1}
    assert data["finish_reason"] == "finished" and data["seconds"] > 0


def test_revisit_after_skips_recent_pages_but_not_the_seed(runs: dict[str, Any]) -> None:
    site: LocalSite = runs["site"]
    before = len(site.log)
    result = crawl(site, runs["tmp"] / "run3", runs["tmp"] / "state", "--revisit-after",
                   "1h")
    assert result.returncode == 0, result.stderr[-3000:]
    fetched = {r.path for r in site.log[before:]} - {"/robots.txt",
                                                     "/.well-known/tdmrep.json"}
    assert fetched == {"/"}


def test_a_second_run_of_the_job_exits_at_once(runs: dict[str, Any], tmp_path: Path) -> None:
    with CrawlState(tmp_path / "state", "holder"):
        started = time.monotonic()
        result = crawl(runs["site"], tmp_path / "out", tmp_path / "state")
        assert time.monotonic() - started < 30
    assert result.returncode == 75
    assert "in use by another run of this job" in result.stderr
    assert not (tmp_path / "out" / "data").exists()


def test_state_from_a_newer_version_or_corrupt_is_a_clear_error(runs: dict[str, Any],
                                                                  tmp_path: Path) -> None:
    newer = tmp_path / "newer"
    CrawlState(newer, "r").close()
    with sqlite3.connect(newer / "state.sqlite") as db:
        db.execute("PRAGMA user_version=99")
    result = crawl(runs["site"], tmp_path / "out1", newer)
    assert result.returncode == 2 and "newer licrawl" in result.stderr
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "state.sqlite").write_bytes(b"this is not a database" * 100)
    result = crawl(runs["site"], tmp_path / "out2", corrupt)
    assert result.returncode == 2 and "not a usable crawl state" in result.stderr


def test_untrusted_304s_get_a_full_fetch(tmp_path: Path) -> None:
    # /wrong answers 304 with another ETag than the one asked; /never answers 304 to a
    # request that asked nothing: neither is taken as unchanged
    calls: dict[str, int] = {}
    body = page("Page", "Some text about rivers.", CC_BY)

    def handle(path: str) -> Reply | None:
        calls[path] = calls.get(path, 0) + 1
        if path == "/robots.txt":
            return Reply(200, [("Content-Type", "text/plain")], b"User-agent: *\nAllow: /\n")
        if path == "/":
            return Reply(200, [HTML], page("Home", "Links.", CC_BY,
                                           "<a href='/wrong'>w</a><a href='/never'>n</a>"))
        if path == "/wrong":
            if calls[path] == 2:  # the conditional request of run 2
                return Reply(304, [("ETag", '"other"')], b"")
            return Reply(200, [HTML, ("ETag", '"w1"')], body)
        if path == "/never":
            return Reply(304, [], b"") if calls[path] == 1 else Reply(200, [HTML], body)
        return None

    with LocalSite(handle) as site:
        assert crawl(site, tmp_path / "run1", tmp_path / "state").returncode == 0
        result = crawl(site, tmp_path / "run2", tmp_path / "state")
        assert result.returncode == 0, result.stderr[-3000:]
    # run 1: /never's 304 asked again in full; run 2: /wrong asked again in full, /never
    # (no validators) in full at once
    assert calls["/wrong"] == 3 and calls["/never"] == 3
    first = {path_of(r["url"]) for r in rows(tmp_path / "run1")}
    assert "/never" in first  # asked again without validators: the page came
    second = {path_of(r["url"]): r for r in rows(tmp_path / "run2")}
    assert "/wrong" not in second  # fetched in full, same text: unchanged, observed
    state = CrawlState(tmp_path / "state")
    wrong = [o for o in state.observations() if o.url.endswith("/wrong")]
    assert [o.outcome for o in wrong] == ["new", "unchanged"] and wrong[1].status == 200


def test_a_clock_gone_back_fetches_rather_than_trusts(tmp_path: Path) -> None:
    site_def = ChangingSite()
    with LocalSite(site_def.handle) as site:
        with CrawlState(tmp_path / "state", "from-the-future") as state:
            state.record(Observation(site.url + "/b", time.time() + 86400, "new", 200,
                                     etag='"b1"', text_sha1="x"))
        result = crawl(site, tmp_path / "run", tmp_path / "state", "--revisit-after", "7d")
        assert result.returncode == 0, result.stderr[-3000:]
        assert any(r.path == "/b" for r in site.log)


def test_kill_during_a_recrawl_then_resume(tmp_path: Path) -> None:
    site_def = ChangingSite()
    for k in range(30):
        site_def.put(f"/slow/{k}", page(f"Slow {k}", f"Slow page {k}.", CC_BY), etag=f"s{k}")
    home_links = "".join(f"<a href='/slow/{k}'>{k}</a>" for k in range(30))
    site_def.put("/", page("Home", "Home.", CC_BY, home_links), etag="h")

    def slow(path: str) -> Reply | None:
        reply = site_def.handle(path)
        if reply is not None and path.startswith("/slow/"):
            reply.delay = 0.15
        return reply

    with LocalSite(slow) as site:
        assert crawl(site, tmp_path / "run1", tmp_path / "state").returncode == 0
        for k in range(0, 30, 3):  # a third of the pages change
            site_def.put(f"/slow/{k}", page(f"Slow {k}", f"Slow page {k}, revised.", CC_BY),
                         etag=f"s{k}b")
        cmd = licrawl("crawl", site.url + "/", "--out", str(tmp_path / "run2"), "--state",
                      str(tmp_path / "state"), *FAST, "-s", "CONCURRENT_REQUESTS=2")
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(
                r.path.startswith("/slow/") for r in site.log) < 30 + 10:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
    second = [path_of(r["url"]) for r in rows(tmp_path / "run2")]
    assert sorted(second) == sorted(f"/slow/{k}" for k in range(0, 30, 3))
    state = CrawlState(tmp_path / "state")
    run2 = state.runs()[1][0]
    observed = {path_of(o.url): o.outcome for o in state.observations() if o.run_id == run2}
    assert len(state.runs()) == 2  # the resumed run is the same run
    for k in range(30):
        assert observed[f"/slow/{k}"] == ("changed" if k % 3 == 0 else "unchanged")


def test_filter_excludes_what_changed_after_collection(runs: dict[str, Any]) -> None:
    # run 1's documents against the state after run 2: /gone was removed, every page of
    # the site opted out of GPTBot since; each kept row keeps its own license
    tmp = runs["tmp"]
    result = subprocess.run(licrawl("filter", str(tmp / "run1" / "data"), "--out",
                                    str(tmp / "subset"), "--state", str(tmp / "state"),
                                    "--excluded", str(tmp / "excluded"), "--report"),
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Runs over time" in (tmp / "subset" / "report.html").read_text()
    report = json.loads((tmp / "subset" / "report.json").read_text())
    assert report["excluded_by_reason"] == {"removed": 1, "later-optout:robots:GPTBot": 6}
    kept = subprocess.run(licrawl("filter", str(tmp / "run1" / "data"), "--out",
                                  str(tmp / "kept"), "--state", str(tmp / "state"),
                                  "--ignore-later-changes"),
                          capture_output=True, text=True, check=False)
    assert kept.returncode == 0, kept.stderr[-3000:]
    licenses = {path_of(r["url"]): r["license"] for r in rows(tmp / "kept")}
    assert licenses["/a"] == "CC-BY-4.0"  # as collected, though it is all rights reserved now


def test_sitemap_lastmod_makes_a_page_due_before_its_time(tmp_path: Path) -> None:
    # with --revisit-after 7d nothing fetched yesterday is due, except a page whose sitemap
    # lastmod is after its last fetch
    body = page("Page", "Some text about rivers.", CC_BY)
    lastmod = {"/p1": "2001-01-01", "/p2": "2001-01-01", "/p3": None}

    def handle(path: str) -> Reply | None:
        if path == "/robots.txt":
            return Reply(200, [("Content-Type", "text/plain")],
                         b"User-agent: *\nAllow: /\nSitemap: /sitemap.xml\n")
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{site.url}{p}</loc>"
                           + (f"<lastmod>{m}</lastmod>" if m else "") + "</url>"
                           for p, m in lastmod.items())
            return Reply(200, [("Content-Type", "application/xml")],
                         f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/'
                         f'schemas/sitemap/0.9">{urls}</urlset>'.encode())
        if path in lastmod:
            return Reply(200, [HTML, ("ETag", f'"{path}"')], body)
        return None

    with LocalSite(handle) as site:
        first = crawl(site, tmp_path / "run1", tmp_path / "state", "--spider", "sitemap")
        assert first.returncode == 0, first.stderr[-3000:]
        lastmod["/p2"] = "2099-01-01T00:00:00Z"  # modified after the first run
        before = len(site.log)
        second = crawl(site, tmp_path / "run2", tmp_path / "state", "--spider", "sitemap",
                       "--revisit-after", "7d")
        assert second.returncode == 0, second.stderr[-3000:]
        fetched = {r.path for r in site.log[before:]}
    assert {"/p1", "/p2", "/p3"} & fetched == {"/p2"}
