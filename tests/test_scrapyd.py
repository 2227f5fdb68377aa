"""licrawl's spiders deployed to a real Scrapyd and run through its JSON API.

A ``scrapyd`` process is started on a free 127.0.0.1 port with its own configuration and
folders in a temp folder; ``scrapyd-deploy`` builds and uploads the egg of
``deploy/scrapyd`` (copied to the temp folder); jobs are scheduled with ``schedule.json``
and waited for with ``listjobs.json``. A Scrapyd job must write what ``licrawl crawl``
writes for the same site: rows, error records, WARC records, shard schema and job state.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.core.errors import read_errors
from crawler.fetch.frontier import FRONTIER_FILE, SqliteFrontier
from crawler.fetch.job import JOB_STATE_FILE
from crawler.fetch.settings import user_agent

sys.path.insert(0, str(Path(__file__).parent / "site"))
from testsite import make_site  # noqa: E402

DEPLOY = Path(__file__).parent.parent / "deploy" / "scrapyd"
#: The same settings for both crawls: delays off, timeouts short, one worker, the pages
#: one link from the home page (all of the test site's cases, not its long chains).
SETTINGS = {"DEPTH_LIMIT": "1", "LICRAWL_WORKERS": "1", "DOWNLOAD_DELAY": "0",
            "AUTOTHROTTLE_START_DELAY": "0", "DOWNLOAD_TIMEOUT": "1",
            "LICRAWL_RETRY_BACKOFF_BASE": "0.05", "DOWNLOAD_MAXSIZE": "200000",
            "LICRAWL_PROGRESS_INTERVAL": "0"}
CONTACT = "https://example.test/scrapyd-crawler"


class Scrapyd:
    """A scrapyd process on a free port, its configuration and folders in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Scrapyd:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            f"bind_address = 127.0.0.1\nhttp_port = {self.port}\n"
            f"eggs_dir = {self.folder / 'eggs'}\nlogs_dir = {self.folder / 'logs'}\n"
            f"dbs_dir = {self.folder / 'dbs'}\nitems_dir =\njobs_dir =\n"
            "poll_interval = 0.2\nmax_proc = 4\n")
        with (self.folder / "scrapyd.out").open("wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=self.folder,
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.folder / "scrapyd.out").read_text()
            try:
                if self.get("daemonstatus.json")["status"] == "ok":
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("scrapyd did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def get(self, endpoint: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(self.url + endpoint + query, timeout=10) as answer:
            return json.load(answer)

    def schedule(self, spider: str, settings: dict[str, str], **args: str) -> str:
        """Schedule a job of project licrawl; its id."""
        fields = [("project", "licrawl"), ("spider", spider), *args.items(),
                  *(("setting", f"{k}={v}") for k, v in settings.items())]
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(self.url + "schedule.json", data, timeout=10) as answer:
            reply = json.load(answer)
        assert reply["status"] == "ok", reply
        return str(reply["jobid"])

    def wait(self, job: str, timeout: float = 60) -> str:
        """Wait until ``job`` is finished; its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.get("listjobs.json", project="licrawl")
            if any(j["id"] == job for j in jobs["finished"]):
                return (self.folder / "logs" / "licrawl" / "site" / f"{job}.log").read_text()
            time.sleep(0.2)
        raise TimeoutError(f"job {job} did not finish")


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    """A Scrapyd with licrawl deployed by ``scrapyd-deploy``."""
    folder = tmp_path_factory.mktemp("scrapyd")
    server = Scrapyd(folder / "server").start()
    try:
        deploy = folder / "deploy"
        shutil.copytree(DEPLOY, deploy)
        cfg = deploy / "scrapy.cfg"
        cfg.write_text(cfg.read_text().replace("http://127.0.0.1:6800/", server.url))
        result = subprocess.run([sys.executable, "-m", "scrapyd_client.deploy", "-v", "1"],
                                cwd=deploy, capture_output=True, text=True, timeout=60,
                                check=False)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["spiders"] == 3
        yield server
    finally:
        server.stop()


def crawl_with_licrawl(url: str, out: Path) -> subprocess.Popen[str]:
    """``licrawl crawl`` of ``url`` into ``out`` with :data:`SETTINGS` (started); its summary
    to ``out/summary.json``."""
    args = [sys.executable, "-m", "crawler.cli", "crawl", url, "--out", str(out),
            "--contact-url", CONTACT]
    for name, value in {**SETTINGS, "LICRAWL_SUMMARY_JSON": str(out / "summary.json")}.items():
        args += ["-s", f"{name}={value}"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def path_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def rows(out: Path) -> list[dict[str, Any]]:
    return [row for shard in sorted((out / "data").glob("*.parquet"))
            for row in pq.read_table(shard).to_pylist()]


def row_facts(out: Path) -> set[tuple[Any, ...]]:
    """Each row's path and what was found, without times and ids."""
    return {(path_of(r["url"]), r["http_status"], r["license"], r["license_category"],
             r["tdm_reserved"], tuple(sorted(r["ai_optout"]))) for r in rows(out)}


def error_facts(out: Path) -> set[tuple[str, str, str]]:
    return {(path_of(e.url), e.stage, e.reason) for e in read_errors(out / "errors")}


def warc_records(out: Path) -> dict[str, tuple[str, str]]:
    """Every WARC record, read with warcio: record id -> (type, path of its URI)."""
    records = {}
    for path in sorted((out / "warc").glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                records[record.rec_headers.get_header("WARC-Record-ID")] = (
                    record.rec_type, path_of(uri))
    return records


def shard_schema(out: Path) -> Any:
    """The shards' schema, without the crawl id in its metadata (it differs by design)."""
    [shard] = sorted((out / "data").glob("*.parquet"))
    schema = pq.read_schema(shard)
    metadata = {k: v for k, v in (schema.metadata or {}).items() if k != b"crawl_id"}
    return schema.with_metadata(metadata)


def job_state(out: Path) -> tuple[str, Any]:
    """The crawl id kept in the job folder and the frontier's counts."""
    crawl_id = json.loads((out / "job" / JOB_STATE_FILE).read_text())["crawl_id"]
    with SqliteFrontier(out / "job" / FRONTIER_FILE) as frontier:
        return crawl_id, frontier.counts()


def test_scrapyd_job_writes_what_licrawl_crawl_writes(scrapyd: Scrapyd, tmp_path: Path
                                                      ) -> None:
    cli_out, job_out = tmp_path / "cli", tmp_path / "scrapyd"
    # one site each, alike: the test site counts some requests (Retry-After) per server
    with make_site() as cli_site, make_site() as job_site:
        cli = crawl_with_licrawl(cli_site.url + "/", cli_out)
        job = scrapyd.schedule(
            "site", {**SETTINGS, "LICRAWL_OUT_DIR": str(job_out),
                     "LICRAWL_CONTACT_URL": CONTACT,
                     "LICRAWL_SUMMARY_JSON": str(job_out / "summary.json")},
            seeds=f"{job_site.url}/, {job_site.url}/no-such-seed")
        log = scrapyd.wait(job)
        _, cli_err = cli.communicate(timeout=60)
        assert cli.returncode == 0, cli_err[-3000:]
        job_agents = {r.user_agent for r in job_site.log}
    assert "Traceback" not in log, log[-3000:]
    assert job_agents == {user_agent(CONTACT)}

    # the second seed (a comma-separated spider argument) is the one difference
    facts = row_facts(job_out)
    assert facts and facts == row_facts(cli_out)
    assert error_facts(job_out) == error_facts(cli_out) | {("/no-such-seed", "classify",
                                                            "http-error")}
    assert shard_schema(job_out).equals(shard_schema(cli_out), check_metadata=True)

    records = warc_records(job_out)
    assert {v for v in records.values() if v[1] != "/no-such-seed"} == set(
        warc_records(cli_out).values())
    for row in rows(job_out):  # every row's evidence is in the job's WARC files
        assert records[row["warc_record_id"]] == ("response", path_of(row["url"]))

    crawl_id, counts = job_state(job_out)
    cli_id, cli_counts = job_state(cli_out)
    assert {r["crawl_id"] for r in rows(job_out)} == {crawl_id} != {cli_id}
    assert counts.total == counts.done == cli_counts.done + 1 and counts.queued == 0

    summary = json.loads((job_out / "summary.json").read_text())  # a setting passed through
    cli_summary = json.loads((cli_out / "summary.json").read_text())
    assert summary["crawl_id"] == crawl_id and summary["finish_reason"] == "finished"
    assert summary["rows"] == cli_summary["rows"] == len(facts)
    assert summary["errors"] == cli_summary["errors"] + 1

    # the same job again: the crawl id is kept, the finished crawl fetches nothing again
    again = scrapyd.wait(scrapyd.schedule(
        "site", {**SETTINGS, "LICRAWL_OUT_DIR": str(job_out), "LOG_LEVEL": "INFO"},
        seeds=f"{job_site.url}/"))
    assert f"crawl {crawl_id} finished before" in again
    assert "records      0 " in again and "rows         0" in again
    assert job_state(job_out)[0] == crawl_id
    assert len(warc_records(job_out)) == len(records)


@pytest.mark.parametrize(("args", "message"), [
    ({"seeds": "http://127.0.0.1:9/", "max_pages": "lots"},
     "ValueError: max_pages must be a whole number >= 0 (0: no limit), not 'lots'"),
    ({}, "ValueError: no seeds: give the spider argument seeds"),
])
def test_bad_spider_argument_fails_clearly_in_the_job_log(
        scrapyd: Scrapyd, tmp_path: Path, args: dict[str, str], message: str) -> None:
    out = tmp_path / "out"
    log = scrapyd.wait(scrapyd.schedule("site", {"LICRAWL_OUT_DIR": str(out)}, **args))
    assert message in log
    assert not out.exists()  # nothing prepared, nothing written


def observed(state: Path) -> list[set[tuple[Any, ...]]]:
    """Per run, oldest first: (path, outcome, status, license, opt-outs) of each URL."""
    from crawler.state.store import CrawlState

    reader = CrawlState(state)
    runs = [run_id for run_id, *_ in reader.runs()]
    found: list[set[tuple[Any, ...]]] = [set() for _ in runs]
    for obs in reader.observations():
        found[runs.index(obs.run_id)].add((path_of(obs.url), obs.outcome, obs.status,
                                           obs.license, obs.ai_optout))
    return found


def revisits(out: Path) -> set[tuple[str, str]]:
    """(path, WARC-Profile) of the revisit records under ``out/warc``."""
    found = set()
    for warc in (out / "warc").glob("*.warc.gz"):
        with open(warc, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "revisit":
                    found.add((path_of(record.rec_headers.get_header("WARC-Target-URI")),
                               record.rec_headers.get_header("WARC-Profile")))
    return found


def test_scrapyd_recrawls_keep_the_same_state_as_licrawl_crawl(scrapyd: Scrapyd,
                                                                tmp_path: Path) -> None:
    # two runs of one job each way, a crawl state each, against twin sites that change
    # between the runs: the same observations, rows and revisit records
    from changing import ChangingSite

    from crawler.demo.localsite import LocalSite

    twins = ChangingSite(), ChangingSite()
    with LocalSite(twins[0].handle) as cli_site, LocalSite(twins[1].handle) as job_site:
        for run in ("run1", "run2"):
            cli = subprocess.run(
                [sys.executable, "-m", "crawler.cli", "crawl", cli_site.url + "/", "--out",
                 str(tmp_path / "cli" / run), "--state", str(tmp_path / "cli-state"),
                 *(arg for k, v in SETTINGS.items() if k != "DEPTH_LIMIT"
                   for arg in ("-s", f"{k}={v}"))],
                capture_output=True, text=True, timeout=120, check=False)
            assert cli.returncode == 0, cli.stderr[-3000:]
            log = scrapyd.wait(scrapyd.schedule(
                "site", {**{k: v for k, v in SETTINGS.items() if k != "DEPTH_LIMIT"},
                         "LICRAWL_OUT_DIR": str(tmp_path / "job" / run),
                         "LICRAWL_STATE_DIR": str(tmp_path / "job-state")},
                seeds=f"{job_site.url}/"))
            assert "Traceback" not in log, log[-3000:]
            for twin in twins:
                if run == "run1":
                    twin.change()
    job_runs, cli_runs = observed(tmp_path / "job-state"), observed(tmp_path / "cli-state")
    assert len(job_runs) == len(cli_runs) == 2
    assert job_runs == cli_runs
    assert {o[1] for o in job_runs[1]} == {"new", "changed", "unchanged", "removed"}
    for run in ("run1", "run2"):
        assert row_facts(tmp_path / "job" / run) == row_facts(tmp_path / "cli" / run)
        assert revisits(tmp_path / "job" / run) == revisits(tmp_path / "cli" / run)
    assert revisits(tmp_path / "job" / "run2")
