"""End-to-end crawls of the local test site (tests/site) with ``licrawl crawl``.

Each crawl runs in a subprocess (a Twisted reactor cannot restart) against a server on
127.0.0.1 in this process, whose request log tells what the crawler fetched and when.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
from scrapy.utils.test import get_crawler
from spdx_tools.spdx.parser.parse_anything import parse_file

from crawler.core.errors import read_errors
from crawler.core.page import FetchedPage
from crawler.fetch.pipeline import CrawlPipeline
from crawler.fetch.settings import default_settings
from crawler.store.spdx import spdx_path_for, validate_document
from crawler.store.warc import iter_responses

sys.path.insert(0, str(Path(__file__).parent / "site"))
from testsite import MANY, ROW_PATHS, make_site  # noqa: E402

# Delays and timeouts shortened for tests; Crawl-delay has its own test.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0", "-s",
        "DOWNLOAD_TIMEOUT=1", "-s", "LICRAWL_RETRY_BACKOFF_BASE=0.05", "-s",
        "DOWNLOAD_MAXSIZE=200000", "-s", "LICRAWL_PROGRESS_INTERVAL=0.5", "--workers", "1"]


def licrawl(*args: str) -> list[str]:
    """The command line of ``licrawl ARGS`` with this interpreter."""
    return [sys.executable, "-W", "error::scrapy.exceptions.ScrapyDeprecationWarning",
            "-m", "crawler.cli", *args]


def crawl(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run ``licrawl crawl ARGS FAST`` to completion."""
    return subprocess.run(licrawl("crawl", *args, *FAST), capture_output=True, text=True,
                          timeout=timeout, check=False)


def rows(out: Path) -> list[dict[str, Any]]:
    """Every row of every shard under ``out/data``."""
    result: list[dict[str, Any]] = []
    for shard in sorted((out / "data").glob("*.parquet")):
        result += pq.read_table(shard).to_pylist()
    return result


def path_of(url: str) -> str:
    """The path (and query) of a URL."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def site() -> Iterator[Any]:
    with make_site(crawl_delay=0.05) as server:
        yield server


@pytest.fixture(scope="module")
def site_crawl(site: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("site-crawl")
    result = crawl(site.url + "/", "--out", str(out), "--contact-url",
                   "https://example.test/about-our-crawler")
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_rows_for_every_page_with_its_signals(site_crawl: tuple[Path, Any]) -> None:
    out, _ = site_crawl
    by_path = {path_of(r["url"]): r for r in rows(out)}
    assert sorted(by_path) == sorted([*ROW_PATHS, "/articles/moved"])
    assert len(rows(out)) == len(by_path)  # no duplicates
    licenses = {p: by_path[p]["license"] for p in by_path}
    assert licenses["/articles/rel-license"] == "CC-BY-4.0"
    assert licenses["/articles/http-link"] == "CC-BY-SA-4.0"
    assert licenses["/articles/jsonld"] == "CC0-1.0"
    assert licenses["/articles/reserved"] == "LicenseRef-All-Rights-Reserved"
    assert {r["crawl_id"] for r in by_path.values()} == {by_path["/"]["crawl_id"]}


def test_site_signals_fetched_once_and_applied(site: Any,
                                               site_crawl: tuple[Path, Any]) -> None:
    out, _ = site_crawl
    by_path = {path_of(r["url"]): r for r in rows(out)}
    for row in by_path.values():
        assert {"robots:GPTBot", "robots:CCBot"} <= set(row["ai_optout"])
    reserved = by_path["/reserved/report"]
    assert reserved["tdm_reserved"] is True
    assert reserved["tdm_policy"] == "https://fieldnotes.example/tdm-policy.json"
    assert by_path["/articles/rel-license"]["tdm_reserved"] is False
    assert "meta:noai" in by_path["/articles/noai"]["ai_optout"]
    assert "header:noai" in by_path["/articles/x-robots"]["ai_optout"]
    assert len(site.requests_for("/robots.txt")) == 1
    assert len(site.requests_for("/.well-known/tdmrep.json")) == 1


def test_error_record_for_every_url_without_a_row(site_crawl: tuple[Path, Any]) -> None:
    out, _ = site_crawl
    errors = {path_of(e.url): (e.stage, e.reason) for e in read_errors(out / "errors")}
    assert errors == {
        "/private/draft": ("robots", "robots-disallowed"),
        "/offsite-redirect": ("fetch", "offsite-redirect"),
        "/big": ("fetch", "too-large"),
        "/cycle-a": ("fetch", "redirect-loop"),
        "/loop/1": ("fetch", "redirect-limit"),
        "/slow": ("fetch", "download-timeout"),
        "/missing": ("classify", "http-error"),
        "/broken": ("classify", "http-error"),
        "/files/annual-report": ("classify", "not-html"),
    }
    assert all(e.crawl_id for e in read_errors(out / "errors"))


def test_polite_requests(site: Any, site_crawl: tuple[Path, Any]) -> None:
    paths = Counter(r.path for r in site.log)
    assert not any(p.startswith("/private/") for p in paths)  # robots.txt obeyed
    assert "/nofollow-target" not in paths
    assert paths["/broken"] == 3  # two retries of a 500
    assert paths["/loop/6"] == 1 and "/loop/7" not in paths  # REDIRECT_MAX_TIMES = 5
    agents = {r.user_agent for r in site.log}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("licrawl/") and "https://example.test/about-our-crawler" in agent


def test_warc_evidence_finds_every_record(site_crawl: tuple[Path, Any]) -> None:
    out, _ = site_crawl
    records: dict[tuple[str, str], Any] = {}
    for warc in (out / "warc").glob("*.warc.gz"):
        for page in iter_responses(warc, name=warc.relative_to(out).as_posix()):
            records[(page.warc_file, page.warc_record_id)] = page
    for row in rows(out):
        page = records[(row["warc_file"], row["warc_record_id"])]
        assert page.url == row["url"] and page.status == 200
    for error in read_errors(out / "errors"):
        if error.warc_file is not None:
            assert (error.warc_file, error.warc_record_id) in records
    archived = Counter((path_of(p.url), p.status) for p in records.values())
    assert archived[("/robots.txt", 200)] == 1
    assert archived[("/.well-known/tdmrep.json", 200)] == 1
    assert archived[("/old-url", 301)] == 1
    assert archived[("/missing", 404)] == 1
    assert archived[("/broken", 500)] == 3


def test_shards_and_spdx_documents_are_valid(site_crawl: tuple[Path, Any]) -> None:
    out, _ = site_crawl
    shards = sorted((out / "data").glob("*.parquet"))
    assert shards
    for shard in shards:
        meta = pq.read_schema(shard).metadata
        assert meta[b"crawl_id"].decode().startswith("crawl-")
        doc = parse_file(str(spdx_path_for(shard)))
        assert validate_document(doc) == []
        assert len(doc.files) == pq.read_metadata(shard).num_rows


def test_no_warning_for_components_a_plain_crawl_does_not_use(
        site_crawl: tuple[Path, Any]) -> None:
    # the crawl-state extension stays silent without --state
    assert "Disabled" not in site_crawl[1].stderr, site_crawl[1].stderr[-2000:]


def test_summary_and_progress(site_crawl: tuple[Path, Any]) -> None:
    _, result = site_crawl
    assert f"rows         {len(ROW_PATHS) + 1}" in result.stdout
    assert "robots/robots-disallowed" in result.stdout
    assert "licenses" in result.stdout and "opted out" in result.stdout
    assert "[licrawl crawl]" in result.stderr  # progress lines
    assert " INFO: " not in result.stderr  # no Scrapy set-up chatter before the summary


def test_reprocessing_the_warcs_gives_the_same_ids(site_crawl: tuple[Path, Any],
                                                   tmp_path: Path) -> None:
    out, _ = site_crawl
    warcs = [str(p) for p in sorted((out / "warc").glob("*.warc.gz"))]
    result = subprocess.run(licrawl("process", *warcs, "--out", str(tmp_path), "--workers",
                                    "1", "--quiet"),
                            capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    crawled = {r["url"]: (r["id"], r["license"], r["ai_optout"]) for r in rows(out)}
    again = {r["url"]: (r["id"], r["license"], r["ai_optout"]) for r in rows(tmp_path)}
    assert again == crawled


def test_sitemap_spider(site: Any, tmp_path: Path) -> None:
    before = len(site.log)
    result = crawl(site.url + "/", "--out", str(tmp_path), "--spider", "sitemap")
    assert result.returncode == 0, result.stderr[-3000:]
    fetched = [r.path for r in site.log[before:]]
    assert {"/sitemap_index.xml", "/sitemap-pages.xml", "/sitemap-more.xml.gz"} <= set(fetched)
    assert sorted(path_of(r["url"]) for r in rows(tmp_path)) == [
        "/articles/jsonld", "/articles/meta", "/articles/rel-license", "/articles/text"]
    errors = {path_of(e.url): e.reason for e in read_errors(tmp_path / "errors")}
    assert errors == {"/private/draft": "robots-disallowed", "/missing": "http-error",
                      "/files/annual-report": "not-html"}
    assert "/" not in fetched  # nothing is followed from pages


def test_urls_spider_follows_nothing(site: Any, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"# two pages\n{site.url}/deep/1\n\n{site.url}/articles/text\n")
    result = crawl("--seeds", str(seeds), "ftp://127.0.0.1/x", "--out", str(tmp_path / "o"),
                   "--spider", "urls")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(path_of(r["url"]) for r in rows(tmp_path / "o")) == [
        "/articles/text", "/deep/1"]
    errors = [(e.url, e.reason) for e in read_errors(tmp_path / "o" / "errors")]
    assert errors == [("ftp://127.0.0.1/x", "unsupported-scheme")]


def test_depth_and_page_limits(site: Any, tmp_path: Path) -> None:
    result = crawl(site.url + "/deep/1", "--out", str(tmp_path / "d"), "--depth", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    # depth 1: the seed and the pages it links to (the home page and the next level)
    assert sorted(path_of(r["url"]) for r in rows(tmp_path / "d")) == [
        "/", "/deep/1", "/deep/2"]
    before = len(site.requests_for("/many/"))
    result = crawl(site.url + "/many/1", "--out", str(tmp_path / "m"), "--max-pages", "3")
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(site.requests_for("/many/")) - before == 3
    assert len(rows(tmp_path / "m")) == 3


def test_crawl_delay_is_honoured(tmp_path: Path) -> None:
    with make_site(crawl_delay=1.0) as slow_site:
        seeds = [f"{slow_site.url}/articles/{name}" for name in
                 ("text", "meta", "badge", "rdfa")]
        # AutoThrottle and DOWNLOAD_DELAY are off (FAST): only Crawl-delay spaces requests.
        result = crawl(*seeds, "--out", str(tmp_path), "--spider", "urls", "-s",
                       "CONCURRENT_REQUESTS_PER_DOMAIN=4")
        assert result.returncode == 0, result.stderr[-3000:]
        times = [r.time for r in slow_site.requests_for("/articles/")]
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.9, gaps


def test_resume_after_sigterm_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    out, jobdir = tmp_path / "out", tmp_path / "job"
    with make_site(many_delay=0.1) as chain_site:
        args = licrawl("crawl", chain_site.url + "/many/1", "--out", str(out), "--jobdir",
                       str(jobdir), *FAST)
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 60
        while len(chain_site.requests_for("/many/")) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr[-3000:]
        assert "stopped: shutdown" in stdout
        first = rows(out)
        assert 10 <= len(first) < MANY
        result = subprocess.run(args, capture_output=True, text=True, timeout=90,
                                check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        fetched = Counter(r.path for r in chain_site.requests_for("/many/"))
    all_rows = rows(out)
    urls = Counter(path_of(r["url"]) for r in all_rows)
    assert urls == Counter(f"/many/{n}" for n in range(1, MANY + 1))  # each exactly once
    assert set(fetched.values()) == {1}  # nothing fetched twice
    assert len({r["crawl_id"] for r in all_rows}) == 1  # the crawl id survives resume
    for shard in (out / "data").glob("*.parquet"):
        assert validate_document(parse_file(str(spdx_path_for(shard)))) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no seeds"),
        (("http://127.0.0.1:9/", "-s", "NOVALUE"), "expected NAME=VALUE"),
        (("http://127.0.0.1:9/", "--max-pages", "-1"), "must be >= 0"),
    ],
)
def test_cannot_run_exits_non_zero(tmp_path: Path, args: tuple[str, ...],
                                   message: str) -> None:
    result = subprocess.run(licrawl("crawl", *args, "--out", str(tmp_path)),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert message in result.stderr


def test_bad_site_policy_exits_non_zero(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"rule": [{"host": "a.org", "license": "Nope-1.0"}]}))
    result = subprocess.run(licrawl("crawl", "http://127.0.0.1:9/", "--out", str(tmp_path),
                                    "--site-policy", str(policy)),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "rule 1: bad license" in result.stderr


def test_page_the_pool_refuses_is_not_waited_for(tmp_path: Path) -> None:
    # a page whose submission fails (here: the pool is already stopped) is an item error
    # for Scrapy to log; the pipeline must not count it as in flight, or closing the crawl
    # would wait for it forever
    settings = {**default_settings(), "LICRAWL_OUT_DIR": str(tmp_path),
                "LICRAWL_CRAWL_ID": "test", "LICRAWL_WORKERS": 1}
    page = FetchedPage(url="http://127.0.0.1/a", status=200,
                       headers=[("Content-Type", "text/html")],
                       body=b"<html><body><p>text</p></body></html>",
                       fetched_at=datetime.now(UTC))

    async def run() -> None:
        pipeline = CrawlPipeline.from_crawler(get_crawler(settings_dict=settings))
        await pipeline.open_spider()
        pipeline.processor.close()
        with pytest.raises(RuntimeError):
            await pipeline.process_item(page)
        assert pipeline.in_flight == 0
        await asyncio.wait_for(pipeline.close_spider(), timeout=30)

    asyncio.run(run())
    assert (tmp_path / "errors").is_dir()
