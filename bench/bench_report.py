"""Benchmark ``licrawl report`` against a DuckDB ``GROUP BY`` pass computing the same counts.

Generates record shards of the real schema (dedup output: every column filled, the dup
columns too) under a work folder outside the repository: hosts Zipf-distributed over
20,000 names, a mix of licenses with their categories, 0-4 pieces of evidence per row
(kinds, positions, weights, URLs and sentences as values), opt-outs of every kind,
conflicts, duplicate clusters with their URLs and licenses, texts of a few hundred bytes
(the report never reads them). Then it times, each as a whole process and on the same
files:

- baseline: ``python tests/helpers/report_duckdb.py FILES`` (DuckDB, all its threads: one
  GROUP BY query per table of the report, results printed as JSON);
- report: ``licrawl report DIR --out FILE.html`` (the whole page, charts included).

It prints wall time (best of ``--repeat``), the peak RSS of each process tree (sampled
every 0.1 s) and the report/baseline ratio, at ``--rows`` and at ``--small-rows`` (a
quarter by default), to show that memory stays flat as the rows grow.

    .venv/bin/python bench/bench_report.py --rows 1000000 [--work /tmp/licrawl-bench-report]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crawler.core.schema import record_schema
from crawler.licenses import category

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_filter import LICENSES, measure  # noqa: E402

ROWS_PER_FILE = 50_000
ROW_GROUP = 10_000
KINDS = [("rel-license", "footer"), ("rel-license", "head"), ("jsonld", "jsonld"),
         ("text", "footer"), ("text", "main"), ("meta", "head"), ("badge", "footer"),
         ("copyright-notice", "footer"), ("rights-statement", "footer"),
         ("http-link", "header"), ("rel-license", "sidebar:mention")]
OPTOUTS = ["robots:GPTBot", "robots:CCBot", "meta:noai", "header:noai", "robots:ClaudeBot",
           "content-usage:train-ai=n", "meta:GPTBot:noai", "tdmrep"]
WORDS = ["river", "bank", "heron", "otter", "moth", "survey", "winter", "spring", "field",
         "guide", "walk", "colony", "notes", "the", "a", "of", "and", "to", "in", "under",
         "with", "by", "from", "licensed", "article", "photo"]


def _batch(rng: np.random.Generator, start: int, n: int) -> pa.RecordBatch:
    schema = record_schema()
    names = [lic for lic, _ in LICENSES]
    shares = np.array([s for _, s in LICENSES])
    lic = [names[k] for k in rng.choice(len(names), size=n, p=shares / shares.sum())]
    hosts = [f"site{h}.example.org" for h in (rng.zipf(1.2, n) % 20_000)]
    urls = [f"https://{hosts[i]}/articles/{start + i}.html" for i in range(n)]
    texts = [" ".join(rng.choice(WORDS, size=int(k))) for k in rng.integers(30, 90, n)]
    sha1s = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
    n_ev = rng.integers(0, 5, n)
    evidence = []
    for i in range(n):
        items = []
        for j in range(int(n_ev[i])):
            kind, where = KINDS[int(rng.integers(len(KINDS)))]
            spdx = lic[i] if j == 0 or rng.random() < 0.7 else names[int(rng.integers(12))]
            weight = 0.0 if ":" in where else float(rng.choice([0.45, 0.63, 0.675, 0.81, 0.9]))
            items.append({"kind": kind, "where": where, "spdx": spdx, "weight": weight,
                          "value": f"https://creativecommons.org/licenses/x/{j}/ licensed "
                                   f"under {spdx}"})
        evidence.append(items)
    draw = rng.random(n)
    optout = [[OPTOUTS[int(x * 1000) % len(OPTOUTS)]] + (["robots:GPTBot"] if x < 0.02 else [])
              if x < 0.12 else [] for x in draw]
    sizes = np.where(rng.random(n) < 0.15, rng.integers(2, 40, n), 1)
    dup_urls = [[f"https://site{int(h)}.example.net/copy/{start + i}-{k}"
                 for k, h in enumerate(rng.integers(0, 3000, int(s) - 1))]
                for i, s in enumerate(sizes)]
    conflict = (sizes > 1) & (rng.random(n) < 0.1)
    dup_licenses = [sorted({lic[i], names[int(rng.integers(12))]}) if conflict[i] else [lic[i]]
                    for i in range(n)]
    ids = [hashlib.sha1(f"{u}\n{s}".encode()).hexdigest() for u, s in zip(urls, sha1s,
                                                                          strict=True)]
    columns = {
        "id": ids, "url": urls, "canonical_url": [None] * n, "host": hosts,
        "fetched_at": [datetime(2026, 11, 1, tzinfo=UTC)] * n, "http_status": [200] * n,
        "content_type": ["text/html; charset=utf-8"] * n,
        "title": [f"Article {start + i}" for i in range(n)], "text": texts,
        "lang": ["en"] * n, "published": ["2026-10-30"] * n,
        "authors": [["Helen Marsh"] if x > 0.3 else [] for x in draw],
        "copyright": [None] * n, "license": lic,
        "license_category": [category(v) for v in lic],
        "license_confidence": np.where(np.array(lic) == "NOASSERTION", 0.0,
                                       rng.uniform(0.3, 1.0, n)).astype(np.float32),
        "license_conflict": rng.random(n) < 0.03, "license_evidence": evidence,
        "attribution": [None] * n, "tdm_reserved": [o == ["tdmrep"] for o in optout],
        "tdm_policy": [None] * n, "ai_optout": optout, "text_sha1": sha1s,
        "warc_file": ["bench.warc.gz"] * n,
        "warc_record_id": [f"<urn:uuid:{start + i:032x}>" for i in range(n)],
        "crawl_id": ["bench"] * n,
        "dup_cluster": ids, "dup_count": sizes.astype(np.int32),
        "dup_licenses": dup_licenses, "dup_license_conflict": conflict, "dup_urls": dup_urls,
    }
    arrays = [pa.array(columns[f.name], f.type) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def generate(folder: Path, rows: int, seed: int = 7) -> list[Path]:
    """``rows`` rows of shards in ``folder`` (kept when already complete)."""
    done = folder / ".complete"
    if done.exists():
        return sorted(folder.glob("*.parquet"))
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    files = []
    for start in range(0, rows, ROWS_PER_FILE):
        path = folder / f"part-{start // ROWS_PER_FILE:05d}.parquet"
        with pq.ParquetWriter(path, record_schema(), compression="zstd") as writer:
            for lo in range(start, min(start + ROWS_PER_FILE, rows), ROW_GROUP):
                writer.write_batch(_batch(rng, lo, min(ROW_GROUP, rows - lo)),
                                   row_group_size=ROW_GROUP)
        files.append(path)
    done.touch()
    return files


def best_of(cmd: list[str], repeat: int) -> dict[str, float]:
    """The fastest of ``repeat`` runs (and the largest peak RSS seen)."""
    runs = [measure(cmd) for _ in range(repeat)]
    return {"wall": min(r["wall"] for r in runs),
            "rss_mib": max(r["tree_rss_mib"] for r in runs)}


def run_pair(data: Path, files: list[Path], work: Path, repeat: int) -> dict[str, dict]:
    """Baseline and report on the same files, alternated."""
    baseline = [sys.executable, str(REPO / "tests" / "helpers" / "report_duckdb.py"),
                *map(str, files)]
    report = [sys.executable, "-m", "crawler.cli", "report", str(data), "--out",
              str(work / "report.html")]
    measure(baseline)  # page cache warm for both
    return {"duckdb": best_of(baseline, repeat), "report": best_of(report, repeat)}


def main() -> int:
    """Generate, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, help="default: a quarter of --rows")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/licrawl-bench-report"))
    args = parser.parse_args()
    small = args.small_rows or args.rows // 4
    with open("/proc/loadavg") as fh:
        print(f"load average at start: {' '.join(fh.read().split()[:3])}")
    results = {}
    for rows in (small, args.rows):
        data = args.work / f"rows-{rows}"
        started = time.monotonic()
        files = generate(data, rows)
        print(f"{rows:,} rows in {len(files)} shards "
              f"({sum(f.stat().st_size for f in files) / 2**20:,.0f} MiB; ready in "
              f"{time.monotonic() - started:.0f} s)")
        results[rows] = run_pair(data, files, args.work, args.repeat)
        d, r = results[rows]["duckdb"], results[rows]["report"]
        print(f"  duckdb GROUP BY pass  {d['wall']:6.2f} s  peak RSS {d['rss_mib']:6.0f} MiB")
        print(f"  licrawl report        {r['wall']:6.2f} s  peak RSS {r['rss_mib']:6.0f} MiB")
        print(f"  report / duckdb       {r['wall'] / d['wall']:6.2f}x  (target <= 1.5x)")
    lo, hi = results[small]["report"], results[args.rows]["report"]
    print(f"report peak RSS {lo['rss_mib']:.0f} MiB at {small:,} rows, {hi['rss_mib']:.0f} MiB "
          f"at {args.rows:,} rows: {hi['rss_mib'] / lo['rss_mib']:.2f}x for "
          f"{args.rows / small:.0f}x the rows")
    with open("/proc/loadavg") as fh:
        print(f"load average at end: {' '.join(fh.read().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
