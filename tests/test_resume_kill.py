"""Crash-safe resume: a 3,000-page crawl killed with SIGKILL at random moments, resumed with
the same command each time, ends with what an uninterrupted crawl of the same site gives.

The local test site's ``/gen/`` pages (tests/site/testsite.py) link to each other; every
50th links to a missing page (an error record). The server's request log says what was
fetched how often.
"""

from __future__ import annotations

import hashlib
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq

from crawler.core.errors import read_errors
from crawler.store.warc import iter_responses

sys.path.insert(0, str(Path(__file__).parent / "site"))
from testsite import GEN, GEN_MISSING_EVERY, make_site  # noqa: E402

#: Pages handed to the downloader at once, and bytes of responses waiting for the spider:
#: together they bound the pages "in flight" (leased, not yet parsed) when a kill comes.
CONCURRENCY = 32
SCRAPER_BYTES = 64_000
SETTINGS = {
    "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_TIMEOUT": "5",
    "CONCURRENT_REQUESTS": str(CONCURRENCY),
    "CONCURRENT_REQUESTS_PER_DOMAIN": str(CONCURRENCY),
    "SCRAPER_SLOT_MAX_ACTIVE_SIZE": str(SCRAPER_BYTES), "LICRAWL_SHARD_MAX_ROWS": "700",
    "LICRAWL_PROGRESS_INTERVAL": "0", "RETRY_ENABLED": "False",
}
KILLS = 3
#: Pages each killed run fetches at least: a kill point the run before overshot is moved on,
#: so every resumed run gets as far as saying what it resumes from.
MIN_RUN_PAGES = 50


def command(seed: str, out: Path) -> list[str]:
    """The one ``licrawl crawl`` command line every run uses."""
    args = [sys.executable, "-m", "crawler.cli", "crawl", seed, "--out", str(out),
            "--workers", "1"]
    for name, value in SETTINGS.items():
        args += ["-s", f"{name}={value}"]
    return args


def outcome(out: Path) -> tuple[Counter[str], dict[str, tuple[str, str]], Counter[str],
                                 dict[str, str]]:
    """Per URL path (the two sites differ in port): rows, ``(text_sha1, license)`` of the
    row, error records, error reason. Each row's id is checked against its URL and text."""
    rows = [r for shard in sorted((out / "data").glob("*.parquet"))
            for r in pq.read_table(shard, columns=["url", "id", "text_sha1",
                                                   "license"]).to_pylist()]
    for row in rows:
        assert row["id"] == hashlib.sha1(f"{row['url']}\n{row['text_sha1']}".encode()
                                         ).hexdigest()
    errors = list(read_errors(out / "errors"))
    return (Counter(urlsplit(r["url"]).path for r in rows),
            {urlsplit(r["url"]).path: (r["text_sha1"], r["license"]) for r in rows},
            Counter(urlsplit(e.url).path for e in errors),
            {urlsplit(e.url).path: e.reason for e in errors})


def test_sigkill_at_random_moments_then_resume(tmp_path: Path) -> None:
    rng = random.Random()
    seed_value = rng.randrange(1 << 30)
    rng.seed(seed_value)
    kill_at = sorted(rng.sample(range(300, GEN - 300), KILLS))
    note = f"random seed {seed_value}, kills at {kill_at} pages"
    # the uninterrupted crawl runs beside the killed one, against its own copy of the site
    with make_site() as ref_site, make_site() as site:
        reference = tmp_path / "reference"
        uninterrupted = subprocess.Popen(command(ref_site.url + "/gen/1", reference),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True)
        seed = site.url + "/gen/1"
        out = tmp_path / "killed"
        logs: list[str] = []
        killed_at: list[int] = []
        for planned in kill_at:
            target = max(planned, len(site.requests_for("/gen/")) + MIN_RUN_PAGES)
            proc = subprocess.Popen(command(seed, out), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 90
            while (len(site.requests_for("/gen/")) < target
                   and proc.poll() is None and time.monotonic() < deadline):
                time.sleep(0.01)
            assert proc.poll() is None, f"finished before its kill ({note})"
            proc.send_signal(signal.SIGKILL)
            _, stderr = proc.communicate(timeout=30)
            logs.append(stderr)
            killed_at.append(len(site.requests_for("/gen/")))
        note += f" (killed after {killed_at})"
        final = subprocess.run(command(seed, out), capture_output=True, text=True,
                               timeout=180, check=False)
        logs.append(final.stderr)
        assert final.returncode == 0, final.stderr[-3000:]
        _, ref_stderr = uninterrupted.communicate(timeout=180)
        assert uninterrupted.returncode == 0, ref_stderr[-3000:]
        fetched = Counter(r.path for r in site.requests_for("/gen/"))

    ref_rows, ref_ids, ref_errors, ref_reasons = outcome(reference)
    rows, ids, errors, reasons = outcome(out)
    assert sum(ref_rows.values()) == GEN and sum(ref_errors.values()) == GEN // GEN_MISSING_EVERY
    # every URL exactly once, as a row or an error record, as in the uninterrupted crawl
    assert set(rows.values()) == {1}, note
    assert set(errors.values()) == {1}, note
    assert not set(rows) & set(errors), note
    assert ids == ref_ids, note  # same text, license and (by url and text) id per page
    assert reasons == ref_reasons, note
    # every resume said what it resumed from; pages of unpublished shards are rebuilt from
    # WARC, not fetched again (more of them than the bound below allows for)
    found = [re.findall(r"resuming crawl .* (\d+) to rebuild from WARC", e) for e in logs[1:]]
    assert all(found), (note, [log[-500:] for log, f in zip(logs[1:], found, strict=True)
                              if not f])
    to_rebuild = [int(f[0]) for f in found]
    assert sum(to_rebuild) > 0, note
    # at most the pages in flight at each kill were fetched twice
    again = sum(n - 1 for n in fetched.values())
    in_flight = CONCURRENCY + SCRAPER_BYTES // 1024
    assert again <= KILLS * in_flight, (again, note)
    # nothing left unfinished; every row's WARC record is there
    assert not list((out / "warc").glob("*.open"))
    records = {(p.warc_file, p.warc_record_id)
               for warc in (out / "warc").glob("*.warc.gz")
               for p in iter_responses(warc, name=warc.relative_to(out).as_posix())}
    for shard in (out / "data").glob("*.parquet"):
        for row in pq.read_table(shard, columns=["warc_file", "warc_record_id"]).to_pylist():
            assert (row["warc_file"], row["warc_record_id"]) in records
    print(f"{note}: {again} page(s) fetched twice, {to_rebuild} rebuilt from WARC")


def test_page_budget_holds_across_a_sigkill(tmp_path: Path) -> None:
    """``--max-pages`` is counted in the frontier: a crawl killed halfway and resumed with
    the same command requests no more pages in all than its budget."""
    budget = 120
    with make_site() as site:
        out = tmp_path / "out"
        args = [*command(site.url + "/gen/1", out), "--max-pages", str(budget)]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 60
        while (len(site.requests_for("/gen/")) < budget // 2 and proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.01)
        assert proc.poll() is None, "finished before its kill"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        final = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
        assert final.returncode == 0, final.stderr[-3000:]
        paths = {r.path for r in site.requests_for("/gen")}  # /gen/N and /gen-missing/N
    rows, _, errors, _ = outcome(out)
    assert len(paths) <= budget
    assert set(rows) | set(errors) == paths  # every page requested has its row or error
