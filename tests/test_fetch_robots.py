"""robots.txt on the fetch side, in real crawls of the local test site (tests/site).

RFC 9309 section 2.3.1.4: a robots.txt answering 5xx means "disallow all" until a later
fetch succeeds; each URL skipped for it is an error record. The sitemap spider reads
robots.txt from the site-signals middleware's one fetch. ``Retry-After`` as an HTTP date
holds a retry back. Each crawl runs ``licrawl crawl`` in a subprocess, as tests/test_crawl.py
does; the server's request log tells what was fetched.
"""

from __future__ import annotations

import sys
from pathlib import Path

from test_crawl import crawl, path_of, rows

from crawler.core.errors import read_errors

sys.path.insert(0, str(Path(__file__).parent / "site"))
from testsite import make_site  # noqa: E402

#: Attempts of one robots.txt fetch: the first and RETRY_TIMES (2) retries.
ATTEMPTS = 3
ARTICLES = ["/articles/text", "/articles/meta", "/articles/badge"]


def errors_by_path(out: Path) -> dict[str, tuple[str, str, str]]:
    """``path -> (stage, reason, detail)`` of every error record of the crawl."""
    return {path_of(e.url): (e.stage, e.reason, e.detail) for e in read_errors(out / "errors")}


def test_robots_503_disallows_the_host(tmp_path: Path) -> None:
    with make_site(robots_failures=-1) as site:
        seeds = [site.url + p for p in ["/private/draft", *ARTICLES]]
        # one page at a time, no wait before a refetch, one refetch at most
        result = crawl(*seeds, "--out", str(tmp_path), "--spider", "urls",
                       "-s", "CONCURRENT_REQUESTS=1", "-s", "LICRAWL_ROBOTS_REFETCH_DELAY=0",
                       "-s", "LICRAWL_ROBOTS_REFETCHES=1")
        assert result.returncode == 0, result.stderr[-3000:]
        fetched = [r.path for r in site.log]
    assert set(fetched) == {"/robots.txt", "/.well-known/tdmrep.json"}  # no page at all
    assert fetched.count("/robots.txt") == 2 * ATTEMPTS  # the first fetch + one refetch
    errors = errors_by_path(tmp_path)
    assert sorted(errors) == sorted(["/private/draft", *ARTICLES])
    for stage, reason, detail in errors.values():
        assert (stage, reason) == ("robots", "robots-unavailable")
        assert "robots.txt answered HTTP 503" in detail
    assert rows(tmp_path) == []
    assert "robots/robots-unavailable" in result.stdout


def test_robots_unreachable_waits_for_its_backoff(tmp_path: Path) -> None:
    with make_site(robots_failures=-1, robots_fail_status=500) as site:
        # within the 60 s default backoff no seed brings a refetch
        result = crawl(*(site.url + p for p in ARTICLES), "--out", str(tmp_path),
                       "--spider", "urls", "-s", "CONCURRENT_REQUESTS=1")
        assert result.returncode == 0, result.stderr[-3000:]
        assert len(site.requests_for("/robots.txt")) == ATTEMPTS
        assert not site.requests_for("/articles/")
    assert {e[1] for e in errors_by_path(tmp_path).values()} == {"robots-unavailable"}


def test_host_whose_robots_recovers_is_crawled(tmp_path: Path) -> None:
    # the first fetch (all its attempts) fails; the refetch for the next page succeeds
    with make_site(robots_failures=ATTEMPTS) as site:
        seeds = [site.url + p for p in [*ARTICLES, "/private/draft"]]
        result = crawl(*seeds, "--out", str(tmp_path), "--spider", "urls",
                       "-s", "CONCURRENT_REQUESTS=1", "-s", "LICRAWL_ROBOTS_REFETCH_DELAY=0")
        assert result.returncode == 0, result.stderr[-3000:]
        robots = site.requests_for("/robots.txt")
        pages = site.requests_for("/articles/") + site.requests_for("/private/")
    assert len(robots) == ATTEMPTS + 1
    assert pages and min(p.time for p in pages) > robots[-1].time  # only after recovery
    assert not any(p.path.startswith("/private/") for p in pages)  # its rules obeyed again
    errors = errors_by_path(tmp_path)
    unavailable = [p for p, e in errors.items() if e[1] == "robots-unavailable"]
    assert len(unavailable) == 1  # the page that came while robots.txt answered 503
    assert unavailable[0] not in {p.path for p in pages}
    if unavailable[0] != "/private/draft":
        assert errors["/private/draft"][1] == "robots-disallowed"
    got = sorted(path_of(r["url"]) for r in rows(tmp_path))
    assert got == sorted(set(ARTICLES) - set(unavailable))
    assert len(errors) + len(got) == len(seeds)  # every seed a row or an error record


def test_sitemap_spider_fetches_robots_once(tmp_path: Path) -> None:
    with make_site() as site:
        result = crawl(site.url + "/", "--out", str(tmp_path), "--spider", "sitemap")
        assert result.returncode == 0, result.stderr[-3000:]
        assert len(site.requests_for("/robots.txt")) == 1
        fetched = {r.path for r in site.log}
    # its Sitemap: line was still read
    assert {"/sitemap_index.xml", "/sitemap-pages.xml", "/sitemap-more.xml.gz"} <= fetched
    assert "/articles/rel-license" in {path_of(r["url"]) for r in rows(tmp_path)}


def test_sitemap_spider_with_robots_503_fetches_nothing(tmp_path: Path) -> None:
    with make_site(robots_failures=-1) as site:
        result = crawl(site.url + "/", "--out", str(tmp_path), "--spider", "sitemap")
        assert result.returncode == 0, result.stderr[-3000:]
        assert {r.path for r in site.log} == {"/robots.txt", "/.well-known/tdmrep.json"}
    assert errors_by_path(tmp_path)["/sitemap.xml"][:2] == ("robots", "robots-unavailable")


def test_retry_after_http_date_holds_the_retry_back(tmp_path: Path) -> None:
    with make_site() as site:
        # the backoff would be 0.05 s (FAST); the date says two seconds from now
        result = crawl(site.url + "/retry-after/2", "--out", str(tmp_path), "--spider",
                       "urls")
        assert result.returncode == 0, result.stderr[-3000:]
        times = [r.time for r in site.requests_for("/retry-after/")]
    assert len(times) == 2
    # an HTTP date has whole seconds: at least one of the two is left
    assert times[1] - times[0] >= 1.0, times
    assert [path_of(r["url"]) for r in rows(tmp_path)] == ["/retry-after/2"]
