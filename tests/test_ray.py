"""Batch stages on a real local Ray cluster: ``process``, ``filter`` and ``dedup`` give the
same rows and ids as local runs; a task whose worker is killed is run again and the output
is still complete; a failed run leaves no output folder.

One Ray instance (2 CPUs, on this machine) is started for the module with ``ray.init``; the
in-process runs use it, and the ``licrawl`` command lines connect to it by address
(``--ray-address``), as a run against a remote cluster would.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray")

from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

from crawler.core.errors import read_errors  # noqa: E402
from crawler.stages.dedup.stage import dedup_shards  # noqa: E402
from crawler.stages.executors import RayExecutor  # noqa: E402
from crawler.stages.filter.policy import load_policy  # noqa: E402
from crawler.stages.filter.stage import FilterStage, Rules, filter_shards  # noqa: E402
from crawler.stages.index.stage import build_index  # noqa: E402
from crawler.stages.process import plan_ranges, process_warcs  # noqa: E402
from crawler.stages.runner import StageError, run_stage  # noqa: E402
from crawler.store.warc import read_warc, warc_split_points  # noqa: E402

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
from helpers import ray_kill_inspect  # noqa: E402
from helpers.deaths import claim_death  # noqa: E402

DEVSET = TESTS / "pages" / "devset"
PAGES = 30  # dev pages, each stored twice under two URLs (dedup finds 30 pairs)
RANGE_BYTES = 300_000  # cut the test WARC into several ranges (tasks)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray instance with 2 CPUs for the module; yields its address."""
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False,
             log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": str(TESTS)}})
    # classes defined here (the dying stages) travel to the workers by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _response(writer: WARCWriter, url: str, body: bytes, status: str = "200 OK",
              content_type: str = "text/html; charset=utf-8") -> None:
    http = StatusAndHeaders(status, [("Content-Type", content_type),
                                     ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                  length=len(body), http_headers=http))


def write_test_warc(path: Path) -> Path:
    """A gzip WARC: a robots.txt, ``PAGES`` dev pages twice (the second copy under another
    URL, one of them marked for :mod:`helpers.ray_kill_inspect`), a 404 and an image."""
    labels = [json.loads(line) for line in
              (DEVSET / "labels.jsonl").read_text("utf-8").splitlines() if line.strip()]
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        _response(writer, "https://copies.example/robots.txt",
                  b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        for copy in range(2):
            for i, label in enumerate(labels[:PAGES]):
                url = label.get("url") or f"https://devset.invalid/{label['file']}"
                if copy:
                    url = f"https://copies.example/{i}"
                    if i == PAGES - 5:
                        url += ray_kill_inspect.KILL_SUFFIX
                _response(writer, url, (DEVSET / label["file"]).read_bytes())
        _response(writer, "https://copies.example/missing", b"<html>gone</html>",
                  status="404 Not Found")
        _response(writer, "https://copies.example/logo.png", b"\x89PNG\r\n",
                  content_type="image/png")
    return path


@dataclass
class Processed:
    """The module's WARC, processed locally and on Ray."""

    warc: Path
    local: Path
    ray: Path


@pytest.fixture(scope="module")
def processed(cluster: str, tmp_path_factory: pytest.TempPathFactory) -> Processed:
    base = tmp_path_factory.mktemp("ray")
    warc = write_test_warc(base / "pages.warc.gz")
    process_warcs([warc], base / "local", workers=2, crawl_id="t-ray", progress=False)
    process_warcs([warc], base / "ray", workers=2, crawl_id="t-ray", progress=False,
                  executor=RayExecutor(), range_bytes=RANGE_BYTES)
    return Processed(warc, base / "local", base / "ray")


# --------------------------------------------------------------------------- helpers

def rows_by_id(folder: Path) -> dict[str, dict[str, Any]]:
    """Every row of the shards in ``folder/data``, by id (ids are unique)."""
    rows = [r for f in sorted((folder / "data").glob("*.parquet"))
            for r in pq.read_table(f).to_pylist()]
    by_id = {r["id"]: r for r in rows}
    assert len(by_id) == len(rows)
    return by_id


def error_keys(folder: Path) -> list[tuple[str, str, str]]:
    """(url, stage, reason) of every error record in ``folder/errors``, sorted."""
    return sorted((e.url, e.stage, e.reason) for f in (folder / "errors").glob("*.jsonl")
                  for e in read_errors(f))


def assert_no_output(out: Path) -> None:
    """Neither the folder nor a temporary sibling of it exists."""
    assert not out.exists()
    left = [p for temp in out.parent.glob(f"{out.name}.tmp-*") for p in (temp, *temp.rglob("*"))]
    assert not left


def licrawl(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``licrawl ARGS`` with this interpreter."""
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True,
                          text=True, timeout=180, check=False)


def policy_rules() -> Rules:
    """The default licensed-only filter rules."""
    return Rules.build("licensed-only", load_policy(None))


@dataclass(frozen=True)
class DyingFilter(FilterStage):
    """The filter, but the worker of a task that reads a row dies (``os._exit``) while
    fewer than ``kills`` deaths are claimed in ``marker`` (:func:`helpers.deaths.claim_death`)."""

    marker: str = ""
    kills: int = 1

    def step(self, batch: pa.RecordBatch, counts: Any) -> pa.Array:
        """Die, or judge the batch as the filter does."""
        if claim_death(self.marker, self.kills):
            os._exit(3)
        return super().step(batch, counts)


# --------------------------------------------------------------------------- tests

def test_a_gzip_warc_is_cut_at_record_boundaries(processed: Processed) -> None:
    ranges = warc_split_points(processed.warc, 6)
    assert len(ranges) >= 4
    assert ranges[0][0] == 0 and ranges[-1][1] == processed.warc.stat().st_size
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    whole = [(p.url, p.warc_record_id) for p in read_warc(processed.warc)]
    pieces = [(p.url, p.warc_record_id) for r in ranges
              for p in read_warc(processed.warc, byte_range=r)]
    assert pieces == whole
    assert len(plan_ranges([processed.warc], 2, RANGE_BYTES)) >= 4


def test_process_on_ray_gives_the_rows_and_error_records_of_a_local_run(
        processed: Processed) -> None:
    local, on_ray = rows_by_id(processed.local), rows_by_id(processed.ray)
    assert len(local) >= PAGES
    assert on_ray == local  # same ids, same row contents
    assert error_keys(processed.ray) == error_keys(processed.local)
    assert ("https://copies.example/missing", "classify", "http-error") in error_keys(
        processed.ray)
    assert len(list((processed.ray / "data").glob("part-r*.parquet"))) >= 4  # several tasks
    assert not list(processed.ray.rglob(".*"))  # no leftovers
    assert not list(processed.ray.parent.glob("ray.tmp-*"))


def test_filter_on_ray_by_address_gives_the_rows_of_a_local_run(
        processed: Processed, cluster: str, tmp_path: Path) -> None:
    local = licrawl("filter", str(processed.ray), "--out", str(tmp_path / "local"),
                    "--excluded", str(tmp_path / "local-x"), "--quiet")
    assert local.returncode == 0, local.stderr[-2000:]
    on_ray = licrawl("filter", str(processed.ray), "--out", str(tmp_path / "ray"),
                     "--excluded", str(tmp_path / "ray-x"), "--executor", "ray",
                     "--ray-address", cluster)
    assert on_ray.returncode == 0, on_ray.stderr[-2000:]
    assert f"ray: connected to {cluster}" in on_ray.stderr
    assert "files" in on_ray.stderr  # progress lines
    assert rows_by_id(tmp_path / "ray") == rows_by_id(tmp_path / "local")
    assert rows_by_id(tmp_path / "ray-x") == rows_by_id(tmp_path / "local-x")
    assert rows_by_id(tmp_path / "ray") and rows_by_id(tmp_path / "ray-x")
    reports = [json.loads((tmp_path / name / "report.json").read_text())
               for name in ("local", "ray")]
    for report in reports:
        del report["elapsed_seconds"], report["outputs"]
    assert reports[0] == reports[1]
    manifest = pq.read_table(tmp_path / "ray" / "attribution.parquet")
    assert manifest.equals(pq.read_table(tmp_path / "local" / "attribution.parquet"))


def test_dedup_on_ray_gives_the_clusters_of_a_local_run(processed: Processed,
                                                        tmp_path: Path) -> None:
    shards = sorted((processed.ray / "data").glob("*.parquet"))
    local = dedup_shards(shards, tmp_path / "local", jobs=2)
    on_ray = dedup_shards(shards, tmp_path / "ray", executor=RayExecutor())
    kept = rows_by_id(tmp_path / "ray")
    assert kept == rows_by_id(tmp_path / "local")
    assert len(kept) <= PAGES + 1  # every page and its copy form one cluster
    for report in (local, on_ray):
        del report["elapsed_seconds"], report["outputs"]
    assert on_ray == local
    copies = pq.read_table(tmp_path / "ray" / "copies.parquet").sort_by("id")
    assert copies.equals(pq.read_table(tmp_path / "local" / "copies.parquet").sort_by("id"))



def test_index_on_ray_builds_the_same_index_shards(processed: Processed,
                                                   tmp_path: Path) -> None:
    shards = sorted((processed.ray / "data").glob("*.parquet"))
    local = build_index(shards, tmp_path / "local", jobs=2, shard_text_bytes=50_000)
    on_ray = build_index(shards, tmp_path / "ray", shard_text_bytes=50_000,
                         executor=RayExecutor())
    assert on_ray["shards_built"] == local["shards_built"] >= 2
    files = sorted(p.relative_to(tmp_path / "local")
                   for p in (tmp_path / "local").rglob("*") if p.is_file()
                   and p.name != "index.json")
    assert files == sorted(p.relative_to(tmp_path / "ray")
                           for p in (tmp_path / "ray").rglob("*") if p.is_file()
                           and p.name != "index.json")
    for name in files:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes()


def test_a_killed_filter_task_is_run_again(processed: Processed, tmp_path: Path) -> None:
    marker = tmp_path / "deaths"
    stage = DyingFilter(policy_rules(), marker=str(marker), kills=1)
    run_stage(stage, [processed.ray], tmp_path / "ray", jobs=2, executor=RayExecutor(),
              progress=False)
    assert len(marker.read_text().split()) == 1  # one worker died
    filter_shards([processed.ray], tmp_path / "local", policy_rules(), jobs=2)
    assert rows_by_id(tmp_path / "ray") == rows_by_id(tmp_path / "local")
    assert not list((tmp_path / "ray").rglob(".*"))


def test_a_killed_process_task_is_run_again(processed: Processed, tmp_path: Path) -> None:
    marker = tmp_path / "deaths"
    inspect_fn = functools.partial(ray_kill_inspect.inspect, marker=str(marker), kills=1)
    out = tmp_path / "ray"
    summary = process_warcs([processed.warc], out, workers=2, crawl_id="t-ray",
                            progress=False, executor=RayExecutor(), inspect_fn=inspect_fn,
                            range_bytes=RANGE_BYTES)
    assert len(marker.read_text().split()) == 1  # the Ray worker was killed once
    assert rows_by_id(out) == rows_by_id(processed.local)
    assert error_keys(out) == error_keys(processed.local)
    assert summary.rows == len(rows_by_id(processed.local))
    assert not list(out.rglob(".*"))


def _fail_or_keep_writing(item: tuple[str, Path]) -> None:
    """Task ``fail``: raises once the other task has written into ``folder``. Task
    ``write``: writes into ``folder`` (making it again if it is gone) until it is killed."""
    role, folder = item
    if role == "fail":
        deadline = time.monotonic() + 60
        while not (folder / "0").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        raise RuntimeError("planned failure")
    for n in itertools.count():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / str(n % 100)).write_text("a shard being written")
        time.sleep(0.001)


def test_a_failed_map_ends_the_tasks_it_cancels_before_it_returns(cluster: str,
                                                                  tmp_path: Path) -> None:
    """The run's caller removes the temporary folder when the map fails: a cancelled task
    still writing into it then would make it again (a leftover ``DIR.tmp-*``)."""
    folder = tmp_path / "out.tmp-test"
    with pytest.raises(RuntimeError, match="planned failure"):
        try:
            RayExecutor().map(_fail_or_keep_writing, [("write", folder), ("fail", folder)], 2)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    time.sleep(1.0)
    assert not folder.exists()


def test_a_failed_run_leaves_no_output(processed: Processed, tmp_path: Path) -> None:
    out = tmp_path / "out"
    marker = tmp_path / "deaths"
    stage = DyingFilter(policy_rules(), marker=str(marker), kills=100)
    executor = RayExecutor(max_retries=1)
    with pytest.raises(ray.exceptions.RayError):
        run_stage(stage, [processed.ray], out, jobs=2, executor=executor, progress=False)
    assert_no_output(out)
    inspect_fn = functools.partial(ray_kill_inspect.inspect, marker=str(tmp_path / "kills"),
                                   kills=100)
    with pytest.raises(ray.exceptions.RayError):
        process_warcs([processed.warc], out, workers=2, progress=False, executor=executor,
                      inspect_fn=inspect_fn, range_bytes=RANGE_BYTES)
    assert_no_output(out)


def test_a_stage_error_in_a_task_is_the_run_error(tmp_path: Path, cluster: str) -> None:
    shard = tmp_path / "in" / "a.parquet"
    shard.parent.mkdir()
    shard.write_bytes(b"not parquet")
    result = licrawl("filter", str(shard), "--out", str(tmp_path / "out"), "--executor",
                     "ray", "--ray-address", cluster)
    assert result.returncode == 2
    assert "not a readable Parquet file" in result.stderr
    assert_no_output(tmp_path / "out")
    with pytest.raises(StageError):
        filter_shards([shard], tmp_path / "out2", policy_rules(), executor=RayExecutor())


def test_without_ray_the_ray_executor_is_a_clear_error(tmp_path: Path) -> None:
    """Ray made unimportable in a fresh interpreter: exit 2 and how to install it."""
    code = ("import sys; sys.modules['ray'] = None; from crawler.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    shard = tmp_path / "a.parquet"
    shard.write_bytes(b"")
    result = subprocess.run([sys.executable, "-c", code, "filter", str(shard), "--out",
                             str(tmp_path / "out"), "--executor", "ray"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "pip install 'licrawl[ray]'" in result.stderr
    assert_no_output(tmp_path / "out")
    local = licrawl("filter", str(shard), "--out", str(tmp_path / "out"), "--ray-address",
                    "127.0.0.1:1")
    assert local.returncode == 2
    assert "--ray-address is for --executor ray" in local.stderr
