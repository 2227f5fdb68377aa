"""``licrawl dedup``: clusters, kept rows, copies, license conflicts, opt-out union,
determinism, SPDX documents, bad input, and ``licrawl filter`` on dedup output.

The end-to-end tests crawl two local sites (tests/site/mirrors.py) that carry the same
articles under different licenses, once per module, and deduplicate the crawl's shards.
The unit tests build shards with :func:`tests.factories.make_row`.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from crawler.cli import main
from crawler.core.schema import (
    SCHEMA_VERSION_KEY,
    optional_column_names,
    record_schema,
    required_column_names,
    schema_version,
)
from crawler.stages.dedup.clusters import conflicting_licenses, license_key
from crawler.stages.dedup.keep import claim_levels
from crawler.stages.dedup.minhash import (
    DedupParams,
    DedupSettingsError,
    WordHasher,
    components,
    ngram_hashes,
    normalized_words,
    shingles,
    signatures,
)
from crawler.stages.dedup.stage import COPIES_FILE, copies_schema, dedup_shards
from crawler.store.shards import ShardWriter
from crawler.store.spdx import spdx_path_for
from crawler.store.warc import iter_responses
from tests.factories import make_row

sys.path.insert(0, str(Path(__file__).parent / "site"))
from mirrors import ARTICLES, make_mirror_sites  # noqa: E402

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0", "-s",
        "DOWNLOAD_TIMEOUT=2", "-s", "LICRAWL_RETRY_BACKOFF_BASE=0.05", "-s",
        "LICRAWL_SHARD_MAX_ROWS=4", "--workers", "1"]
DUP_COLUMNS = ["dup_cluster", "dup_count", "dup_licenses", "dup_license_conflict",
               "dup_urls"]
SET_BY_DEDUP = {*DUP_COLUMNS, "tdm_reserved", "ai_optout"}
RESERVED = "LicenseRef-All-Rights-Reserved"

# What the crawl of the mirror sites must give: the copies of each text (origin paths, and
# "mirror:" paths for the second host) and the copy the default keep rule keeps.
CLUSTERS: dict[str, set[str]] = {
    "terraces": {"/blog/terraces", "/scraped/terraces", "/aggregator/terraces",
                 "/digest/terraces", "/optout/terraces", "mirror:/mirror/terraces"},
    "delta": {"/blog/delta", "mirror:/mirror/delta"},
    "oxbow": {"/blog/oxbow", "mirror:/mirror/oxbow"},
    "springs": {"/notes/springs", "mirror:/mirror/springs"},
    "meanders": {"/blog/meanders", "/aggregator/meanders"},
    "about": {"/about"},
    "colophon": {"mirror:/colophon"},
    "origin-home": {"/"},
    "mirror-home": {"mirror:/"},
}
KEPT_BY_LICENSE = {
    "terraces": "/blog/terraces",  # the page-level CC BY grant over the reserved footer
    "delta": "/blog/delta",  # both page-level: the copy whose canonical URL is itself
    "oxbow": "mirror:/mirror/oxbow",  # a page-level grant beats the original's footer
    "springs": "/notes/springs",  # no license: the self-canonical copy
    "meanders": "/blog/meanders",
    "about": "/about", "colophon": "mirror:/colophon", "origin-home": "/",
    "mirror-home": "mirror:/",
}


# --------------------------------------------------------------------------- helpers

def licrawl(*args: str) -> list[str]:
    """The command line of ``licrawl ARGS`` with this interpreter."""
    return [sys.executable, "-m", "crawler.cli", *args]


def read_rows(folder: Path) -> list[dict[str, Any]]:
    """Every row of the shards under ``folder`` (a ``data`` folder)."""
    files = sorted(folder.glob("*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def key_of(url: str) -> str:
    """A crawl row's place: its path, with ``mirror:`` for the second host."""
    parts = urlsplit(url)
    return ("mirror:" if parts.hostname == "localhost" else "") + parts.path


def write_shard(path: Path, rows: list[dict[str, Any]], schema: pa.Schema | None = None
                ) -> Path:
    """One shard with ``rows`` (record schema unless ``schema``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema or record_schema()), path)
    return path


def schema_1_0() -> pa.Schema:
    """The record schema as version 1.0 wrote it: no ``dup_*`` columns."""
    full = record_schema()
    return pa.schema([f for f in full if f.name in required_column_names()],
                     metadata={**full.metadata, SCHEMA_VERSION_KEY: b"1.0"})


def copies_by_id(out: Path) -> dict[str, dict[str, Any]]:
    """``copies.parquet`` of a dedup output, by row id."""
    return {r["id"]: r for r in pq.read_table(out / COPIES_FILE).to_pylist()}


def snapshot(out: Path) -> dict[str, Any]:
    """What must not depend on input order or workers: copies and kept rows by id, the
    report's counts."""
    report = json.loads((out / "report.json").read_text("utf-8"))
    for volatile in ("inputs", "outputs", "elapsed_seconds"):
        report.pop(volatile)
    return {"copies": sorted(pq.read_table(out / COPIES_FILE).to_pylist(),
                             key=lambda r: r["id"]),
            "kept": sorted(read_rows(out / "data"), key=lambda r: r["id"]),
            "report": report}


def assert_nothing_written(out: Path) -> None:
    """No output folder and no temporary sibling left behind."""
    assert not out.exists()
    assert not list(out.parent.glob(f"{out.name}.tmp-*"))
    assert not list(out.parent.glob(f"{out.name}.old-*"))


def words_text(seed: int, n: int = 200) -> str:
    """A text of ``n`` words from a vocabulary of 3,000 (texts of different seeds share
    few 5-grams)."""
    rng = random.Random(seed)
    return " ".join(f"w{rng.randrange(3000)}" for _ in range(n))


def article(key: str) -> str:
    """An article text of the mirror sites, as plain text."""
    title, paragraphs = ARTICLES[key]
    return "\n".join([title, *paragraphs])


def run_dedup(tmp_path: Path, rows: list[dict[str, Any]], name: str = "out",
              **kwargs: Any) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]],
                                      dict[str, Any]]:
    """Dedup ``rows`` (one shard): (kept rows by id, copies by id, report)."""
    shard = write_shard(tmp_path / f"{name}-in" / "a.parquet", rows)
    out = tmp_path / name
    report = dedup_shards([shard], out, jobs=1, **kwargs)
    kept = {r["id"]: r for r in read_rows(out / "data")}
    return kept, copies_by_id(out), report


# --------------------------------------------------------------------------- the crawl

@dataclass
class Crawl:
    """The module's crawl of the mirror sites and its dedup (``licrawl dedup`` CLI)."""

    out: Path
    rows: list[dict[str, Any]]
    dedup: Path
    dedup_stdout: str

    def row(self, key: str) -> dict[str, Any]:
        """The crawl row at ``key`` (see :func:`key_of`)."""
        [found] = [r for r in self.rows if key_of(r["url"]) == key]
        return found

    @property
    def shards(self) -> list[Path]:
        """The crawl's shard files, sorted."""
        return sorted((self.out / "data").glob("*.parquet"))


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    base = tmp_path_factory.mktemp("mirrors")
    origin, mirror = make_mirror_sites()
    with origin, mirror:
        mirror_url = mirror.url.replace("127.0.0.1", "localhost")
        result = subprocess.run(
            licrawl("crawl", origin.url + "/", mirror_url + "/", "--out",
                    str(base / "crawl"), *FAST),
            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_rows(base / "crawl" / "data")
    dedup = subprocess.run(licrawl("dedup", str(base / "crawl"), "--out", str(base / "dedup")),
                           capture_output=True, text=True, timeout=120, check=False)
    assert dedup.returncode == 0, dedup.stderr[-3000:]
    yield Crawl(base / "crawl", rows, base / "dedup", dedup.stdout)


def test_the_crawl_has_every_copy_with_its_own_license(crawl: Crawl) -> None:
    keys = Counter(key_of(r["url"]) for r in crawl.rows)
    assert keys == Counter(k for members in CLUSTERS.values() for k in members)
    assert len(crawl.shards) >= 4  # several input files (LICRAWL_SHARD_MAX_ROWS=4)
    licenses = {k: crawl.row(k)["license"] for k in keys}
    assert licenses["/blog/terraces"] == "CC-BY-4.0"
    assert licenses["/scraped/terraces"] == RESERVED
    assert licenses["/aggregator/terraces"] == "NOASSERTION"
    assert licenses["/blog/delta"] == "CC-BY-SA-4.0"
    assert licenses["mirror:/mirror/delta"] == "CC-BY-4.0"
    assert licenses["/blog/oxbow"] == RESERVED
    assert licenses["mirror:/mirror/oxbow"] == "CC-BY-4.0"
    # the copies of a text share its text_sha1, except the near copy
    terraces = {crawl.row(k)["text_sha1"] for k in CLUSTERS["terraces"]}
    assert len(terraces) == 2
    assert crawl.row("/optout/terraces")["tdm_reserved"] is True
    assert "meta:noai" in crawl.row("/optout/terraces")["ai_optout"]
    assert crawl.row("/blog/terraces")["ai_optout"] == []
    assert crawl.row("/blog/terraces")["tdm_reserved"] is False
    assert all("robots:GPTBot" in r["ai_optout"] for r in crawl.rows
               if key_of(r["url"]).startswith("mirror:"))


def test_clusters_and_kept_rows(crawl: Crawl) -> None:
    copies = copies_by_id(crawl.dedup)
    key_by_id = {r["id"]: key_of(r["url"]) for r in crawl.rows}
    clusters: dict[str, set[str]] = {}
    for copy in copies.values():
        clusters.setdefault(copy["dup_cluster"], set()).add(key_by_id[copy["id"]])
    assert sorted(map(sorted, clusters.values())) == sorted(map(sorted, CLUSTERS.values()))
    # the cluster id is the kept copy's id
    kept_keys = {name: key_by_id[cid] for cid, members in clusters.items()
                 for name, expected in CLUSTERS.items() if members == expected}
    assert kept_keys == KEPT_BY_LICENSE

    kept = read_rows(crawl.dedup / "data")
    assert sorted(key_of(r["url"]) for r in kept) == sorted(KEPT_BY_LICENSE.values())
    by_id = {r["id"]: r for r in crawl.rows}
    for row in kept:
        assert row["dup_cluster"] == row["id"]
        name = next(n for n, k in KEPT_BY_LICENSE.items() if k == key_of(row["url"]))
        assert row["dup_count"] == len(CLUSTERS[name])
        original = by_id[row["id"]]
        # the kept row is its input row (its own license included) plus the dup columns
        for column in record_schema().names:
            if column not in SET_BY_DEDUP:
                assert row[column] == original[column], column
    by_key = {key_of(r["url"]): r for r in kept}
    assert by_key["/blog/delta"]["license"] == "CC-BY-SA-4.0"
    assert by_key["mirror:/mirror/oxbow"]["license"] == "CC-BY-4.0"


def test_copies_table_lists_every_input_row_once(crawl: Crawl) -> None:
    table = pq.read_table(crawl.dedup / COPIES_FILE)
    assert table.schema.equals(copies_schema())
    copies = table.to_pylist()
    assert Counter(c["id"] for c in copies) == Counter(r["id"] for r in crawl.rows)
    # in input order: the crawl's shards in folder order, each in row order
    assert [c["id"] for c in copies] == [r["id"] for r in crawl.rows]
    assert len(copies) == len(crawl.rows) == 18
    by_id = {r["id"]: r for r in crawl.rows}
    kept_ids = {r["id"] for r in read_rows(crawl.dedup / "data")}
    for copy in copies:
        row = by_id[copy["id"]]
        for column in ("url", "host", "license", "license_confidence", "authors",
                       "copyright", "published", "fetched_at", "warc_file",
                       "warc_record_id", "text_sha1", "tdm_reserved", "ai_optout"):
            assert copy[column] == row[column], column
        assert copy["license_category"] == row["license_category"]
        assert copy["kept"] is (copy["id"] in kept_ids)
        kept_row = by_id[copy["dup_cluster"]]
        if copy["kept"]:
            assert copy["match"] is None and copy["similarity"] == 1.0
        elif row["text_sha1"] == kept_row["text_sha1"]:
            assert copy["match"] == "exact" and copy["similarity"] == 1.0
        else:
            assert copy["match"] == "near"
            assert 0.8 <= copy["similarity"] < 1.0
    matches = Counter((key_of(c["url"]), c["match"]) for c in copies if c["match"])
    assert matches[("/digest/terraces", "near")] == 1
    assert sum(1 for (_, m) in matches if m == "near") == 1
    assert sum(1 for (_, m) in matches if m == "exact") == 8


def test_copies_lead_to_the_warc_record_of_each_copy(crawl: Crawl) -> None:
    records = {}
    for warc in (crawl.out / "warc").glob("*.warc.gz"):
        for page in iter_responses(warc, name=warc.relative_to(crawl.out).as_posix()):
            records[(page.warc_file, page.warc_record_id)] = page.url
    copies = pq.read_table(crawl.dedup / COPIES_FILE).to_pylist()
    for copy in copies:
        assert records[(copy["warc_file"], copy["warc_record_id"])] == copy["url"]
    # from a kept row to every URL that carried its text
    [kept] = [r for r in read_rows(crawl.dedup / "data")
              if key_of(r["url"]) == "/blog/terraces"]
    others = sorted(c["url"] for c in copies
                    if c["dup_cluster"] == kept["id"] and not c["kept"])
    assert kept["dup_urls"] == others
    assert sorted(key_of(u) for u in others) == sorted(CLUSTERS["terraces"]
                                                      - {"/blog/terraces"})


def test_license_conflicts_and_dup_licenses(crawl: Crawl) -> None:
    kept = {key_of(r["url"]): r for r in read_rows(crawl.dedup / "data")}
    expected = {
        "/blog/terraces": (True, ["CC-BY-4.0", RESERVED, "NOASSERTION"]),
        "/blog/delta": (True, ["CC-BY-4.0", "CC-BY-SA-4.0"]),
        "mirror:/mirror/oxbow": (True, ["CC-BY-4.0", RESERVED]),
        # NOASSERTION beside one license, or alone, is no conflict
        "/blog/meanders": (False, ["CC-BY-4.0", "NOASSERTION"]),
        "/notes/springs": (False, ["NOASSERTION"]),
        "/about": (False, ["NOASSERTION"]),
        "mirror:/colophon": (False, ["NOASSERTION"]),
        "/": (False, ["NOASSERTION"]),
        "mirror:/": (False, ["NOASSERTION"]),
    }
    got = {k: (r["dup_license_conflict"], r["dup_licenses"]) for k, r in kept.items()}
    assert got == {k: (c, sorted(v)) for k, (c, v) in expected.items()}
    for key, row in kept.items():
        name = next(n for n, k in KEPT_BY_LICENSE.items() if k == key)
        assert sorted(map(key_of, row["dup_urls"])) == sorted(CLUSTERS[name] - {key})
        assert row["dup_urls"] == sorted(row["dup_urls"])


def test_kept_row_carries_the_union_of_the_copies_optouts(crawl: Crawl) -> None:
    kept = {key_of(r["url"]): r for r in read_rows(crawl.dedup / "data")}
    terraces = kept["/blog/terraces"]
    assert terraces["tdm_reserved"] is True  # from /optout/terraces (tdm-reservation meta)
    expected = set()
    for key in CLUSTERS["terraces"]:
        expected |= set(crawl.row(key)["ai_optout"])
    assert {"meta:noai", "tdmrep", "robots:GPTBot"} <= expected
    assert set(terraces["ai_optout"]) == expected
    assert kept["/blog/delta"]["ai_optout"] == ["robots:GPTBot"]  # from the mirror copy
    assert kept["/blog/delta"]["tdm_reserved"] is False
    assert kept["/blog/meanders"]["ai_optout"] == []
    assert kept["/about"]["ai_optout"] == []


def test_report_and_summary(crawl: Crawl) -> None:
    report = json.loads((crawl.dedup / "report.json").read_text("utf-8"))
    assert report["inputs"]["rows"] == 18
    assert report["inputs"]["file_count"] == len(crawl.shards)
    assert report["kept"] == 9 and report["removed"] == 9
    assert report["exact_duplicates"] == 8 and report["near_duplicates"] == 1
    assert report["distinct_texts"] == 10
    assert report["clusters"] == 9 and report["clusters_with_copies"] == 5
    assert report["cluster_sizes"] == {"1": 4, "2": 4, "6-10": 1}
    assert report["license_conflict_clusters"] == 3
    assert report["license_conflict_pairs"] == [
        {"licenses": ["CC-BY-4.0", RESERVED], "clusters": 2},
        {"licenses": ["CC-BY-4.0", "CC-BY-SA-4.0"], "clusters": 1}]
    assert report["optout_union_clusters"] == 3  # terraces, delta, springs
    assert report["top_hosts_removed"] == [["127.0.0.1", 6], ["localhost", 3]]
    assert report["settings"]["keep"] == "license"
    assert report["settings"]["ngram"] == 5 and report["settings"]["num_perm"] == 112
    assert report["settings"]["bands"] == 14 and report["settings"]["threshold"] == 0.8
    assert "license conflicts      3" in crawl.dedup_stdout
    assert "CC-BY-4.0 vs LicenseRef-All-Rights-Reserved" in crawl.dedup_stdout
    assert report["outputs"]["copies"] == COPIES_FILE
    assert sorted(report["outputs"]["shards"]) == sorted(
        f"data/{p.name}" for p in (crawl.dedup / "data").glob("*.parquet"))


def test_output_folder_holds_only_the_outputs(crawl: Crawl) -> None:
    assert sorted(p.name for p in crawl.dedup.iterdir()) == [
        COPIES_FILE, "data", "report.json", "spdx"]
    assert not list(crawl.dedup.parent.glob("dedup.tmp-*"))
    assert sorted(p.stem for p in (crawl.dedup / "data").iterdir()) == sorted(
        p.name.removesuffix(".spdx.json") for p in (crawl.dedup / "spdx").iterdir())


def test_every_output_shard_has_a_valid_spdx_document(crawl: Crawl) -> None:
    shards = sorted((crawl.dedup / "data").glob("*.parquet"))
    assert shards
    for shard in shards:
        table = pq.read_table(shard)
        assert table.schema.equals(record_schema(), check_metadata=False)
        meta = table.schema.metadata
        assert meta[SCHEMA_VERSION_KEY].decode() == schema_version() == "1.1"
        assert meta[b"licrawl.dedup.keep"] == b"license"
        doc = parse_file(str(spdx_path_for(shard)))
        assert validate_full_spdx_document(doc) == []
        files = {f.name: f for f in doc.files}
        assert sorted(files) == sorted(table.column("url").to_pylist())
        for row in table.to_pylist():
            assert str(files[row["url"]].license_concluded) == row["license"]


@pytest.mark.parametrize("rule", ["original", "first-fetched"])
def test_other_keep_rules_on_the_crawl(crawl: Crawl, tmp_path: Path, rule: str) -> None:
    code = main(["dedup", str(crawl.out), "--out", str(tmp_path / "out"), "--keep", rule,
                 "--quiet", "--jobs", "1"])
    assert code == 0
    kept = {key_of(r["url"]) for r in read_rows(tmp_path / "out" / "data")}
    if rule == "original":
        # the self-canonical original, though a mirror grants CC BY on the page
        expected = {**KEPT_BY_LICENSE, "oxbow": "/blog/oxbow"}
    else:
        expected = {}
        for name, members in CLUSTERS.items():
            first = min((crawl.row(k) for k in members),
                        key=lambda r: (r["fetched_at"], r["id"]))
            expected[name] = key_of(first["url"])
    assert kept == set(expected.values())
    # the clusters themselves do not depend on the keep rule
    ours = snapshot(tmp_path / "out")["report"]
    theirs = snapshot(crawl.dedup)["report"]
    for count in ("clusters", "exact_duplicates", "near_duplicates", "cluster_sizes",
                  "license_conflict_clusters"):
        assert ours[count] == theirs[count]


def test_dedup_of_dedup_output_keeps_what_the_first_run_found(
        crawl: Crawl, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Dedup output is a shard set too (so is filter output of it): deduplicating it again,
    alone or with new shards, must not forget the copies the first run found, or a
    license conflict would vanish and ``licrawl filter`` would let the row through."""
    shard = sorted((crawl.dedup / "data").glob("*.parquet"))[0]
    code = main(["dedup", str(crawl.dedup), "--out", str(tmp_path / "again"), "--quiet",
                 "--jobs", "1"])
    if code == 2:  # refusing dedup output as input is an answer too, if it says why
        assert_nothing_written(tmp_path / "again")
        assert str(shard.parent) in capsys.readouterr().err
        return
    assert code == 0
    first = {r["id"]: r for r in read_rows(crawl.dedup / "data")}
    again = {r["id"]: r for r in read_rows(tmp_path / "again" / "data")}
    assert sorted(again) == sorted(first)
    for row_id, row in first.items():
        assert again[row_id]["dup_license_conflict"] is row["dup_license_conflict"], \
            row["url"]
        assert set(row["dup_urls"]) <= set(again[row_id]["dup_urls"]), row["url"]
        assert set(row["dup_licenses"]) <= set(again[row_id]["dup_licenses"]), row["url"]


# --------------------------------------------------------------------------- determinism

def test_same_output_with_any_jobs_and_input_order(crawl: Crawl, tmp_path: Path) -> None:
    shards = crawl.shards
    assert len(shards) >= 4
    dedup_shards(shards, tmp_path / "a", jobs=1, batch_rows=2)
    dedup_shards(list(reversed(shards)), tmp_path / "b", jobs=2, batch_rows=3, shard_rows=2)
    rotated = shards[2:] + shards[:2]
    dedup_shards(rotated, tmp_path / "c", jobs=2)
    first = snapshot(tmp_path / "a")
    assert first["copies"] and first["kept"]
    assert snapshot(tmp_path / "b") == first
    assert snapshot(tmp_path / "c") == first
    assert snapshot(crawl.dedup) == first  # the CLI run, default workers
    assert len(list((tmp_path / "b" / "data").glob("*.parquet"))) >= 5  # shard_rows=2


def test_same_clusters_when_rows_move_between_files(tmp_path: Path) -> None:
    base = words_text(1)
    words = base.split()
    words[50], words[150] = "changed", "edited"
    near = " ".join(words)
    rows = [make_row(url=f"https://h{i % 4}.example/{i}",
                     text=[base, near, words_text(i)][i % 3],
                     fetched_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=i % 5))
            for i in range(30)]
    results = []
    for order, per_file, jobs in ((1, 7, 1), (-1, 3, 2), (1, 30, 2)):
        folder = tmp_path / f"in-{order}-{per_file}"
        with ShardWriter(folder, max_rows=per_file, spdx=False) as writer:
            for row in rows[::order]:
                writer.write(row)
        out = tmp_path / f"out-{order}-{per_file}-{jobs}"
        dedup_shards([folder], out, jobs=jobs)
        results.append(snapshot(out))
    assert results[0]["report"]["clusters"] == 11  # base and near copies, 10 others
    assert results[1] == results[0] and results[2] == results[0]


def test_same_clusters_in_any_order_with_a_large_band_bucket(tmp_path: Path) -> None:
    """20 texts sharing a 200-word body, each with 22 words of its own: pairwise estimated
    Jaccard around the threshold, and band buckets larger than ``SMALL_BUCKET``, where
    only some pairs are compared. Which pairs must not depend on the row order (with
    texts numbered by first appearance, this set gave 1 cluster in some orders, 2 in
    others)."""
    rng = random.Random(69)
    body = [f"s{rng.randrange(10**9)}" for _ in range(200)]
    texts = [" ".join(body + [f"u0_{i}_{rng.randrange(10**9)}" for _ in range(22)])
             for i in range(20)]
    rows = [make_row(url=f"https://h{i}.example/page", text=t) for i, t in enumerate(texts)]
    permute = np.random.default_rng(69)
    orders = [np.arange(20), np.arange(20)[::-1], permute.permutation(20),
              permute.permutation(20)]
    results = []
    for k, order in enumerate(orders):
        write_shard(tmp_path / f"in{k}" / "a.parquet", [rows[i] for i in order])
        dedup_shards([tmp_path / f"in{k}"], tmp_path / f"out{k}", jobs=1)
        results.append(snapshot(tmp_path / f"out{k}"))
    assert results[0]["report"]["cluster_sizes"] != {"1": 20}  # near duplicates found
    assert all(result == results[0] for result in results[1:])


# --------------------------------------------------------------------------- bad input

def _dedup_cli(inputs: list[Path], out: Path, capsys: pytest.CaptureFixture[str],
               *extra: str) -> tuple[int, str]:
    code = main(["dedup", *map(str, inputs), "--out", str(out), "--quiet", *extra])
    return code, capsys.readouterr().err


def test_mixed_schema_versions_are_refused(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    new = write_shard(tmp_path / "in" / "a.parquet", [make_row(url="https://a.example/1")])
    old = write_shard(tmp_path / "in" / "b.parquet", [make_row(url="https://a.example/2")],
                      schema_1_0())
    code, err = _dedup_cli([new, old], tmp_path / "out", capsys)
    assert code == 2
    assert f"{old}: record schema version 1.0" in err and str(new) in err
    assert_nothing_written(tmp_path / "out")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_duplicate_ids_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   jobs: str) -> None:
    shared = make_row(url="https://a.example/shared", text=words_text(3))
    first = write_shard(tmp_path / "in" / "a.parquet",
                        [make_row(url="https://a.example/1"), shared])
    second = write_shard(tmp_path / "in" / "b.parquet",
                         [shared, make_row(url="https://a.example/2")])
    code, err = _dedup_cli([first, second], tmp_path / "out", capsys, "--jobs", jobs)
    assert code == 2
    assert f"duplicate id {shared['id']}" in err
    assert str(second) in err and str(first) in err
    assert_nothing_written(tmp_path / "out")


def test_a_copied_shard_is_refused_and_a_path_given_twice_is_read_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shard = write_shard(tmp_path / "in" / "a.parquet",
                        [make_row(url=f"https://a.example/{i}") for i in range(3)])
    copy = tmp_path / "in2" / "copy.parquet"
    copy.parent.mkdir()
    shutil.copy(shard, copy)
    code, err = _dedup_cli([shard, copy], tmp_path / "out", capsys)
    assert code == 2 and f"{copy}: duplicate id" in err
    assert_nothing_written(tmp_path / "out")
    code, _ = _dedup_cli([shard, shard], tmp_path / "out", capsys)
    assert code == 0
    assert pq.read_table(tmp_path / "out" / COPIES_FILE).num_rows == 3


def test_missing_text_column_is_refused(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    good = write_shard(tmp_path / "in" / "a.parquet", [make_row(url="https://a.example/1")])
    full = record_schema()
    schema = pa.schema([f for f in full if f.name != "text"], metadata=full.metadata)
    bad = write_shard(tmp_path / "in" / "b.parquet", [make_row(url="https://a.example/2")],
                      schema)
    code, err = _dedup_cli([good, bad], tmp_path / "out", capsys)
    assert code == 2
    assert f"{bad}: missing columns text" in err
    assert_nothing_written(tmp_path / "out")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_corrupt_rows_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  jobs: str) -> None:
    good = write_shard(tmp_path / "in" / "a.parquet", [make_row(url="https://a.example/1")])
    bad = write_shard(tmp_path / "in" / "b.parquet",
                      [make_row(url=f"https://b.example/{n}", text=words_text(n))
                       for n in range(20)])
    data = bytearray(bad.read_bytes())
    data[4:204] = b"\xff" * 200  # the first page broken, the footer intact
    bad.write_bytes(bytes(data))
    code, err = _dedup_cli([good, bad], tmp_path / "out", capsys, "--jobs", jobs)
    assert code == 2
    assert f"{bad}: cannot read rows" in err
    assert_nothing_written(tmp_path / "out")


def test_a_file_that_is_not_parquet_is_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    good = write_shard(tmp_path / "in" / "a.parquet", [make_row(url="https://a.example/1")])
    bad = tmp_path / "in" / "b.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet")
    code, err = _dedup_cli([good, bad], tmp_path / "out", capsys)
    assert code == 2 and f"{bad}: not a readable Parquet file" in err
    assert_nothing_written(tmp_path / "out")


def test_failed_overwrite_keeps_the_old_output(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    good = write_shard(tmp_path / "in" / "a.parquet", [make_row(url="https://a.example/1")])
    code, _ = _dedup_cli([good], tmp_path / "out", capsys)
    assert code == 0
    before = snapshot(tmp_path / "out")
    code, err = _dedup_cli([good, good.parent / "absent.parquet"], tmp_path / "out", capsys,
                           "--overwrite")
    assert code == 2 and "absent.parquet" in err
    assert snapshot(tmp_path / "out") == before
    assert not list(tmp_path.glob("out.tmp-*")) and not list(tmp_path.glob("out.old-*"))


@pytest.mark.parametrize(("args", "message"), [
    (["--num-perm", "100", "--bands", "14"], "not a multiple"),
    (["--threshold", "0"], "--threshold"),
    (["--ngram", "0"], "--ngram"),
    (["--jobs", "0"], "--jobs"),
])
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            args: list[str], message: str) -> None:
    good = write_shard(tmp_path / "in" / "a.parquet", [make_row()])
    code, err = _dedup_cli([good], tmp_path / "out", capsys, *args)
    assert code == 2 and message in err
    assert_nothing_written(tmp_path / "out")


def test_empty_input_gives_an_empty_output_and_a_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in").mkdir()
    code, _ = _dedup_cli([tmp_path / "in"], tmp_path / "out", capsys)
    assert code == 0
    out = tmp_path / "out"
    assert (out / "data").is_dir() and read_rows(out / "data") == []
    copies = pq.read_table(out / COPIES_FILE)
    assert copies.num_rows == 0 and copies.schema.equals(copies_schema())
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["inputs"]["rows"] == 0 and report["inputs"]["file_count"] == 0
    assert report["kept"] == 0 and report["clusters"] == 0

    empty = write_shard(tmp_path / "in2" / "empty.parquet", [])
    report = dedup_shards([empty], tmp_path / "out2", jobs=1)
    assert report["inputs"]["file_count"] == 1 and report["inputs"]["rows"] == 0
    assert read_rows(tmp_path / "out2" / "data") == []
    assert pq.read_table(tmp_path / "out2" / COPIES_FILE).num_rows == 0


# --------------------------------------------------------------------------- schema 1.0

def test_record_schema_1_1_marks_the_dup_columns_optional() -> None:
    assert schema_version() == "1.1"
    assert optional_column_names() == DUP_COLUMNS
    assert not set(DUP_COLUMNS) & set(required_column_names())
    assert all(record_schema().field(c).nullable for c in DUP_COLUMNS)


def test_filter_reads_a_1_0_shard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [make_row(url=f"https://a.example/{i}") for i in range(3)]
    shard = write_shard(tmp_path / "in" / "old.parquet", rows, schema_1_0())
    assert pq.read_schema(shard).metadata[SCHEMA_VERSION_KEY] == b"1.0"
    assert "dup_cluster" not in pq.read_schema(shard).names
    code = main(["filter", str(shard), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    out = read_rows(tmp_path / "out" / "data")
    assert sorted(r["id"] for r in out) == sorted(r["id"] for r in rows)
    assert all(r[c] is None for r in out for c in DUP_COLUMNS)
    manifest = pq.read_table(tmp_path / "out" / "attribution.parquet").to_pylist()
    assert all(m["other_urls"] == [] for m in manifest)


def test_dedup_reads_1_0_shards(tmp_path: Path) -> None:
    text = words_text(7)
    rows = [make_row(url="https://a.example/1", text=text),
            make_row(url="https://b.example/1", text=text, license=RESERVED,
                     license_category="reserved", license_evidence=[]),
            make_row(url="https://c.example/1", text=words_text(8))]
    shard = write_shard(tmp_path / "in" / "old.parquet", rows, schema_1_0())
    dedup_shards([shard], tmp_path / "out", jobs=1)
    kept = {r["url"]: r for r in read_rows(tmp_path / "out" / "data")}
    assert sorted(kept) == ["https://a.example/1", "https://c.example/1"]
    assert kept["https://a.example/1"]["dup_license_conflict"] is True
    assert kept["https://a.example/1"]["dup_urls"] == ["https://b.example/1"]
    shard_out = next((tmp_path / "out" / "data").glob("*.parquet"))
    assert pq.read_schema(shard_out).metadata[SCHEMA_VERSION_KEY] == b"1.1"


# --------------------------------------------------------------------------- filter

def _filter_dedup_output(crawl: Crawl, tmp_path: Path, *flags: str
                         ) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    out, excluded = tmp_path / "filtered", tmp_path / "excluded"
    code = main(["filter", str(crawl.dedup), "--out", str(out), "--excluded", str(excluded),
                 "--quiet", *flags])
    assert code == 0
    manifest = {key_of(r["url"]): r
                for r in pq.read_table(out / "attribution.parquet").to_pylist()}
    reasons = {key_of(r["url"]): r["filter_reason"] for r in read_rows(excluded / "data")}
    report = json.loads((out / "report.json").read_text("utf-8"))
    return manifest, reasons, report


def test_filter_excludes_dup_conflicts(crawl: Crawl, tmp_path: Path) -> None:
    manifest, reasons, report = _filter_dedup_output(crawl, tmp_path, "--allow-optout")
    assert sorted(manifest) == ["/blog/meanders"]  # CC BY, its copy has no notice
    assert {k: r for k, r in reasons.items() if r == "dup-conflict"} == {
        "/blog/terraces": "dup-conflict", "/blog/delta": "dup-conflict",
        "mirror:/mirror/oxbow": "dup-conflict"}
    assert report["excluded_by_reason"]["dup-conflict"] == 3
    assert [key_of(u) for u in manifest["/blog/meanders"]["other_urls"]] == [
        "/aggregator/meanders"]
    text = (tmp_path / "filtered" / "ATTRIBUTION.txt").read_text("utf-8")
    assert f"  Also at: {crawl.row('/aggregator/meanders')['url']}\n" in text


def test_filter_allow_dup_conflict_keeps_them_with_their_copies(crawl: Crawl,
                                                                tmp_path: Path) -> None:
    manifest, reasons, report = _filter_dedup_output(crawl, tmp_path, "--allow-optout",
                                                     "--allow-dup-conflict")
    assert sorted(manifest) == sorted(["/blog/meanders", "/blog/terraces", "/blog/delta",
                                       "mirror:/mirror/oxbow"])
    assert "dup-conflict" not in reasons.values()
    assert "dup-conflict" not in report["excluded_by_reason"]
    terraces = manifest["/blog/terraces"]
    assert sorted(map(key_of, terraces["other_urls"])) == sorted(
        CLUSTERS["terraces"] - {"/blog/terraces"})
    assert terraces["license"] == "CC-BY-4.0"  # its own license, not another copy's
    text = (tmp_path / "filtered" / "ATTRIBUTION.txt").read_text("utf-8")
    for url in terraces["other_urls"]:
        assert url in text


def test_filter_sees_the_optouts_of_other_copies(crawl: Crawl, tmp_path: Path) -> None:
    # the crawl's own /blog/terraces row has no opt-out and passes; the kept row of the
    # dedup output carries its copies' opt-outs and is excluded for them
    direct = tmp_path / "direct"
    assert main(["filter", str(crawl.out), "--out", str(direct), "--quiet"]) == 0
    assert "/blog/terraces" in {key_of(r["url"]) for r in read_rows(direct / "data")}
    _, reasons, _ = _filter_dedup_output(crawl, tmp_path, "--allow-dup-conflict")
    assert reasons["/blog/terraces"].startswith("optout:")
    assert reasons["/blog/delta"] == "optout:robots:GPTBot"


# --------------------------------------------------------------------------- unit: text

def test_shingles_fold_case_punctuation_and_whitespace() -> None:
    assert normalized_words("Hello, WORLD!  It's\tthe end.") == [
        "hello", "world", "it", "s", "the", "end"]
    assert shingles("The Quick, brown -- FOX!", 2) == ["the quick", "quick brown",
                                                      "brown fox"]
    assert shingles("Café   Zürich", 5) == ["café zürich"]  # shorter than n: one n-gram
    assert shingles("a b c", 3) == ["a b c"]


def test_signatures_ignore_case_and_punctuation() -> None:
    params, hasher = DedupParams(), WordHasher()
    texts = pa.array(["The river, it rose; FAST and high — at dawn!",
                      "the river it rose fast and high at dawn",
                      "the river it rose fast and low at dawn"])
    sigs = signatures(texts, params, hasher)
    assert sigs.shape == (3, params.num_perm) and sigs.dtype == np.uint32
    assert np.array_equal(sigs[0], sigs[1])
    assert not np.array_equal(sigs[1], sigs[2])
    # stable across hashers (processes) and runs
    assert np.array_equal(signatures(texts, params, WordHasher()), sigs)


# Known difference left out here: "İ" (Python gives "i" + U+0307, a word break; Arrow
# gives "i"). "Σ" is in: both paths fold the final sigma to "σ" (see the Greek test).
@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cn", "Cs", "Co"),
                             exclude_characters="İ")),
       st.integers(1, 5))
def test_batch_tokenization_matches_shingles(text: str, ngram: int) -> None:
    """The Arrow tokenization (what dedup uses) is :func:`shingles`' tokenization."""
    normalized = " ".join(normalized_words(text))
    tokens, offsets = ngram_hashes(pa.array([text, normalized]), ngram, WordHasher())
    first, second = tokens[offsets[0]:offsets[1]], tokens[offsets[1]:offsets[2]]
    if normalized:
        assert len(first) == len(shingles(text, ngram))
        assert np.array_equal(first, second)


GREEK = ("Ο ποταμός μεταφέρει άμμο και λάσπη από τους λόφους προς την πεδιάδα, και κάθε "
         "πλημμύρα αφήνει πίσω της ένα λεπτό στρώμα ιλύος. Με τους αιώνες αυτά τα "
         "στρώματα χτίζουν τα γόνιμα εδάφη στα οποία στηρίζονται οι αγρότες της περιοχής.")


def test_case_is_folded_for_greek_final_sigma() -> None:
    """An all-capitals copy of a Greek text is the same text once case is folded: its
    words ending in "Σ" lower-case to "ς" (Unicode's Final_Sigma rule, as Python's
    ``str.lower`` and :func:`shingles` do), not to "σ"."""
    assert shingles(GREEK.upper(), 5) == shingles(GREEK, 5)
    sigs = signatures(pa.array([GREEK, GREEK.upper()]), DedupParams(), WordHasher())
    assert (sigs[0] == sigs[1]).mean() == 1.0


_WORDS = st.sampled_from(["a", "b", "Cc", "dd", "!!", " ", "", "é", "x y", "...", "\n"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(_WORDS, max_size=12).map(" ".join), min_size=1, max_size=8),
       st.integers(1, 5))
def test_signatures_do_not_depend_on_the_batch(texts: list[str], ngram: int) -> None:
    """A text's n-gram hashes and signature are the same alone or in any batch (so
    ``--batch-rows`` cannot change the clusters); empty and short texts included."""
    params, hasher = DedupParams(ngram=ngram), WordHasher()
    tokens, offsets = ngram_hashes(pa.array(texts), ngram, hasher)
    sigs = signatures(pa.array(texts), params, hasher)
    for i, text in enumerate(texts):
        alone, _ = ngram_hashes(pa.array([text]), ngram, WordHasher())
        assert len(alone) >= 1
        assert np.array_equal(tokens[offsets[i]:offsets[i + 1]], alone)
        assert np.array_equal(sigs[i], signatures(pa.array([text]), params, hasher)[0])


def test_near_duplicate_with_a_few_changed_words_is_found(tmp_path: Path) -> None:
    text = article("terraces")
    near = text.replace("forty metres", "sixty metres").replace("Walkers", "Hikers")
    near = near.replace("surprisingly well", "remarkably well")
    assert near != text
    rows = [make_row(url="https://a.example/original", text=text),
            make_row(url="https://b.example/edited", text=near, license="NOASSERTION",
                     license_category="unknown", license_evidence=[]),
            *(make_row(url=f"https://c.example/{k}", text=article(k))
              for k in ("delta", "oxbow", "springs", "meanders"))]
    kept, copies, report = run_dedup(tmp_path, rows)
    original, edited = rows[0]["id"], rows[1]["id"]
    assert copies[edited]["dup_cluster"] == original
    assert copies[edited]["match"] == "near" and not copies[edited]["kept"]
    assert 0.8 <= copies[edited]["similarity"] < 1.0
    assert report["near_duplicates"] == 1 and report["exact_duplicates"] == 0
    assert report["clusters"] == 5  # the unrelated articles stay alone
    assert kept[original]["dup_count"] == 2
    assert all(kept[r["id"]]["dup_count"] == 1 for r in rows[2:])

    # a stricter threshold leaves them apart
    _, copies, _ = run_dedup(tmp_path, rows, name="strict", params=DedupParams(threshold=0.99))
    assert copies[edited]["kept"] and copies[edited]["dup_cluster"] == edited


def test_texts_differing_only_in_case_and_punctuation_are_near_duplicates(
        tmp_path: Path) -> None:
    text = article("delta")
    shouted = text.upper().replace(",", " ;").replace(".", "!")
    rows = [make_row(url="https://a.example/1", text=text),
            make_row(url="https://b.example/1", text=shouted)]
    _, copies, _ = run_dedup(tmp_path, rows)
    other = copies[rows[1]["id"]]
    assert other["dup_cluster"] == rows[0]["id"]
    assert other["match"] == "near" and other["similarity"] == 1.0


def test_unrelated_texts_with_shared_boilerplate_are_not_joined(tmp_path: Path) -> None:
    boilerplate = ("Subscribe to our newsletter for weekly updates about rivers, "
                   "lakes and the people who study them. We never share your address.")
    rows = [make_row(url=f"https://a.example/{k}", text=f"{article(k)}\n{boilerplate}")
            for k in ARTICLES]
    rows += [make_row(url=f"https://b.example/{i}", text=words_text(i)) for i in range(20)]
    kept, _, report = run_dedup(tmp_path, rows)
    assert len(kept) == len(rows)
    assert report["clusters"] == len(rows) and report["confirmed_pairs"] == 0


# --------------------------------------------------------------------------- unit: licenses

@pytest.mark.parametrize(("values", "conflict"), [
    (["CC-BY-4.0", RESERVED], ["CC-BY-4.0", RESERVED]),
    (["CC-BY-4.0", "CC-BY-SA-4.0"], ["CC-BY-4.0", "CC-BY-SA-4.0"]),
    (["MIT OR Apache-2.0", "Apache-2.0 OR MIT"], []),
    (["CC-BY-4.0", "NOASSERTION"], []),
    (["NOASSERTION", "NOASSERTION"], []),
    (["NOASSERTION"], []),
    ([], []),
    (["CC-BY-4.0", "CC-BY-4.0", "NOASSERTION", RESERVED], ["CC-BY-4.0", RESERVED]),
    (["cc-by-4.0", "CC-BY-4.0"], []),
])
def test_conflicting_licenses(values: list[str], conflict: list[str]) -> None:
    assert conflicting_licenses(values) == conflict


def test_license_key_compares_equal_expressions() -> None:
    assert license_key("MIT OR Apache-2.0") == license_key("Apache-2.0 OR MIT")
    assert license_key("CC-BY-4.0") != license_key("CC-BY-SA-4.0")
    assert license_key("MIT OR OR (") == "MIT OR OR ("  # not an expression: as written


def test_mixed_conflicts_in_one_run(tmp_path: Path) -> None:
    text_a, text_b, text_c = words_text(10), words_text(11), words_text(12)
    rows = [
        make_row(url="https://a.example/1", text=text_a, license="MIT OR Apache-2.0"),
        make_row(url="https://b.example/1", text=text_a, license="Apache-2.0 OR MIT"),
        make_row(url="https://a.example/2", text=text_b, license="NOASSERTION",
                 license_category="unknown", license_evidence=[]),
        make_row(url="https://b.example/2", text=text_b, license="NOASSERTION",
                 license_category="unknown", license_evidence=[]),
        make_row(url="https://a.example/3", text=text_c),
        make_row(url="https://b.example/3", text=text_c, license="CC-BY-SA-4.0"),
    ]
    kept, _, report = run_dedup(tmp_path, rows)
    conflicts = {r["url"]: r["dup_license_conflict"] for r in kept.values()}
    assert sorted(conflicts.values()) == [False, False, True]
    assert report["license_conflict_clusters"] == 1
    by_text = {r["text_sha1"]: r for r in kept.values()}
    assert by_text[rows[0]["text_sha1"]]["dup_licenses"] == ["Apache-2.0 OR MIT",
                                                             "MIT OR Apache-2.0"]
    assert by_text[rows[2]["text_sha1"]]["dup_licenses"] == ["NOASSERTION"]
    assert by_text[rows[4]["text_sha1"]]["dup_licenses"] == ["CC-BY-4.0", "CC-BY-SA-4.0"]


# --------------------------------------------------------------------------- unit: clusters

def _naive_components(n: int, pairs: list[tuple[int, int]]) -> list[int]:
    """The smallest node reachable from each node (graph search)."""
    neighbours: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    labels = []
    for start in range(n):
        seen, todo = {start}, [start]
        while todo:
            for nxt in neighbours[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        labels.append(min(seen))
    return labels


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                         max_size=60))),
       st.randoms(use_true_random=False))
def test_components_do_not_depend_on_pair_order(graph: tuple[int, list[tuple[int, int]]],
                                                rng: random.Random) -> None:
    n, pairs = graph
    expected = _naive_components(n, pairs)
    shuffled = [(b, a) if rng.random() < 0.5 else (a, b) for a, b in pairs]
    rng.shuffle(shuffled)
    for variant in (pairs, shuffled):
        array = np.array(variant, dtype=np.int64).reshape(-1, 2)
        assert components(n, array).tolist() == expected


# --------------------------------------------------------------------------- unit: keep rules

def _evidence(spdx: str, where: str, kind: str = "rel-license") -> list[dict[str, Any]]:
    return [{"kind": kind, "value": "x", "spdx": spdx, "where": where, "weight": 0.9}]


def _copy(n: int, text: str, **overrides: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "url": f"https://h{n}.example/doc", "text": text, "published": None,
        "fetched_at": datetime(2024, 5, 1, 12, tzinfo=UTC), "canonical_url": None}
    return make_row(**{**defaults, **overrides})


def _kept_url(tmp_path: Path, rows: list[dict[str, Any]], keep: str, name: str) -> str:
    kept, copies, _ = run_dedup(tmp_path, rows, name=name, keep=keep)
    assert len(kept) == 1 and len(copies) == len(rows)
    [row] = kept.values()
    source = next(r for r in rows if r["id"] == row["id"])
    assert row["license"] == source["license"]  # the kept copy's own license
    return row["url"]


def test_claim_levels() -> None:
    rows = [make_row(license="CC-BY-4.0", license_evidence=_evidence("CC-BY-4.0", "main")),
            make_row(license="CC-BY-4.0", license_evidence=_evidence("CC-BY-4.0", "head")),
            make_row(license=RESERVED, license_evidence=_evidence(RESERVED, "footer")),
            make_row(license="CC-BY-4.0",
                     license_evidence=_evidence("CC-BY-4.0", "jsonld:site")),
            make_row(license="CC-BY-4.0",
                     license_evidence=_evidence("CC-BY-4.0", "site-policy", "site-policy")),
            make_row(license="CC-BY-4.0",
                     license_evidence=_evidence("CC-BY-4.0", "main:mention")),
            make_row(license="NOASSERTION", license_evidence=_evidence("NOASSERTION", "main")),
            make_row(license="MIT", license_evidence=_evidence("CC-BY-4.0", "main")),
            make_row(license="CC-BY-4.0", license_evidence=[]),
            make_row(license="CC-BY-4.0",
                     license_evidence=[*_evidence("CC-BY-4.0", "footer"),
                                       *_evidence("CC-BY-4.0", "main")])]
    batch = pa.RecordBatch.from_pylist(rows, schema=record_schema())
    assert claim_levels(batch).to_pylist() == [3, 3, 2, 2, 1, 0, 0, 0, 0, 3]


def test_keep_license_prefers_the_best_supported_claim(tmp_path: Path) -> None:
    text = words_text(20)
    page = _copy(1, text, license_confidence=0.6,
                 license_evidence=_evidence("CC-BY-4.0", "main"))
    site = _copy(2, text, license=RESERVED, license_category="reserved",
                 license_confidence=0.95, license_evidence=_evidence(RESERVED, "footer"))
    policy = _copy(3, text, license="CC-BY-SA-4.0", license_category="copyleft",
                   license_confidence=1.0,
                   license_evidence=_evidence("CC-BY-SA-4.0", "site-policy", "site-policy"))
    none = _copy(4, text, license="NOASSERTION", license_category="unknown",
                 license_confidence=0.0, license_evidence=[], published="2001-01-01",
                 canonical_url="https://h4.example/doc",
                 fetched_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert _kept_url(tmp_path, [none, policy, site, page], "license", "l1") == page["url"]
    assert _kept_url(tmp_path, [none, policy, site], "license", "l2") == site["url"]
    assert _kept_url(tmp_path, [none, policy], "license", "l3") == policy["url"]
    # same level: the higher confidence
    surer = _copy(5, text, license_confidence=0.8,
                  license_evidence=_evidence("CC-BY-4.0", "main"))
    assert _kept_url(tmp_path, [page, surer], "license", "l4") == surer["url"]


def test_keep_license_then_the_likely_original(tmp_path: Path) -> None:
    text = words_text(21)
    claim = {"license_confidence": 0.9, "license_evidence": _evidence("CC-BY-4.0", "main")}
    elsewhere = _copy(1, text, canonical_url="https://h9.example/doc",
                      published="2020-01-01", **claim)
    no_canonical = _copy(2, text, published="2021-01-01", **claim)
    self_canonical = _copy(3, text, url="https://h3.example/doc/",
                           canonical_url="https://h3.example/doc", published="2024-01-01",
                           **claim)
    rows = [elsewhere, no_canonical, self_canonical]
    assert _kept_url(tmp_path, rows, "license", "c1") == self_canonical["url"]
    assert _kept_url(tmp_path, rows[:2], "license", "c2") == no_canonical["url"]
    # then the earliest published (a missing date last), then the earliest fetched
    later = _copy(4, text, published="2022-06-01", **claim)
    undated = _copy(5, text, fetched_at=datetime(2000, 1, 1, tzinfo=UTC), **claim)
    assert _kept_url(tmp_path, [undated, later, no_canonical], "license", "c3") == \
        no_canonical["url"]
    early = _copy(6, text, fetched_at=datetime(2024, 1, 1, tzinfo=UTC), **claim)
    assert _kept_url(tmp_path, [undated, early], "license", "c4") == undated["url"]


def test_keep_original(tmp_path: Path) -> None:
    text = words_text(22)
    granted = _copy(1, text, license_confidence=1.0, published="2020-01-01",
                    canonical_url="https://h0.example/doc",
                    license_evidence=_evidence("CC-BY-4.0", "main"))
    original = _copy(2, text, license=RESERVED, license_category="reserved",
                     license_confidence=0.5, published="2023-01-01",
                     canonical_url="https://h2.example/doc",
                     license_evidence=_evidence(RESERVED, "footer"))
    assert _kept_url(tmp_path, [granted, original], "original", "o1") == original["url"]
    assert _kept_url(tmp_path, [granted, original], "license", "o2") == granted["url"]
    # equal canonical rank: the earliest published wins over a better license claim
    older = _copy(3, text, license="NOASSERTION", license_category="unknown",
                  license_confidence=0.0, license_evidence=[], published="2019-05-05")
    newer = _copy(4, text, published="2024-05-05",
                  license_evidence=_evidence("CC-BY-4.0", "main"))
    assert _kept_url(tmp_path, [newer, older], "original", "o3") == older["url"]
    # equal canonical and published: the license claim decides
    dated = {"published": "2024-05-05"}
    reserved_twin = _copy(5, text, license=RESERVED, license_category="reserved",
                          license_evidence=_evidence(RESERVED, "footer"), **dated)
    assert _kept_url(tmp_path, [reserved_twin, newer], "original", "o4") == newer["url"]


def test_keep_first_fetched_and_smallest_id(tmp_path: Path) -> None:
    text = words_text(23)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [_copy(i, text, fetched_at=base + timedelta(days=d), published=p,
                  canonical_url=f"https://h{i}.example/doc",
                  license_evidence=_evidence("CC-BY-4.0", "main"))
            for i, (d, p) in enumerate([(3, "2000-01-01"), (1, "2024-01-01"),
                                        (2, None)])]
    rows[1]["license"] = "NOASSERTION"
    rows[1]["license_evidence"] = []
    assert _kept_url(tmp_path, rows, "first-fetched", "f1") == rows[1]["url"]
    # all equal under every rule: the smallest id
    twins = [_copy(i, text, fetched_at=base) for i in range(5)]
    smallest = min(twins, key=lambda r: r["id"])["url"]
    for rule in ("license", "original", "first-fetched"):
        assert _kept_url(tmp_path, twins, rule, f"t-{rule}") == smallest
        assert _kept_url(tmp_path, twins[::-1], rule, f"r-{rule}") == smallest


def test_unknown_keep_rule_and_bad_params(tmp_path: Path) -> None:
    with pytest.raises(DedupSettingsError, match="unknown keep rule"):
        dedup_shards([], tmp_path / "out", keep="newest")
    assert_nothing_written(tmp_path / "out")
    with pytest.raises(DedupSettingsError, match="multiple"):
        DedupParams(num_perm=100, bands=14)
    assert DedupParams().rows == 8


# --------------------------------------------------------------------------- README query

def test_readme_duckdb_query_lists_every_copy_of_conflicting_texts(crawl: Crawl) -> None:
    """The README's DuckDB query, taken from the README as written, run on the crawl's
    dedup output: every copy of each kept document whose copies disagree, with its
    license and WARC record."""
    import duckdb

    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    [sql] = re.findall(r"```sql\n(SELECT k\.url AS kept_url.*?)```", readme, re.S)
    rows = duckdb.sql(sql.replace("out-dedup", str(crawl.dedup))).fetchall()
    copies = pq.read_table(crawl.dedup / "copies.parquet").to_pylist()
    kept = {r["dup_cluster"]: r for r in read_rows(crawl.dedup / "data")}
    expected = sorted(
        ((kept[c["dup_cluster"]]["url"], not c["kept"], c["url"]), c) for c in copies
        if kept[c["dup_cluster"]]["dup_license_conflict"])
    assert len(rows) == len(expected) > 3
    for row, (_, copy) in zip(rows, expected, strict=True):
        kept_url, url, license_, match, _sim, warc_file, record_id = row
        assert (kept_url, url, license_, match, warc_file, record_id) == (
            kept[copy["dup_cluster"]]["url"], copy["url"], copy["license"], copy["match"],
            copy["warc_file"], copy["warc_record_id"])
        assert warc_file and record_id
