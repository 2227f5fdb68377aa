"""Benchmark ``licrawl filter`` against a plain ``pyarrow.dataset`` read + write.

Generates realistic record shards (the real schema, natural-language-like text, a mix of
licenses, opt-outs and conflicts) under a temporary folder outside the repository, then
runs, each in its own process and on the same data:

- baseline: ``pyarrow.dataset`` reads every shard and writes it back as zstd Parquet
  (same row group and file sizes as the shard writer);
- filter: ``licrawl filter IN --out DIR`` (licensed-only, policy ``open``), which also
  writes an SPDX document per output shard, the attribution manifest and the report.

To show where the filter's time goes, it also times the SPDX document (build, validate,
write with ``crawler.store.spdx``) of 10,000 kept rows in this process and multiplies by the
kept rows.

It prints wall time, the peak RSS summed over the process tree (sampled every 0.1 s) and
the filter/baseline time ratio. With
``--scale-gb`` it repeats both on a larger input to show that peak memory stays flat.

    .venv/bin/python bench/bench_filter.py --gb 1 --scale-gb 4
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crawler.core.schema import record_schema
from crawler.licenses import category
from crawler.store.spdx import SPDX_COLUMNS, write_shard_spdx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctree import tree_rss  # noqa: E402

ROWS_PER_BATCH = 4096
ROWS_PER_FILE = 40_960
LICENSES = [  # (expression, share)
    ("CC-BY-4.0", 0.22), ("CC-BY-SA-4.0", 0.14), ("NOASSERTION", 0.24),
    ("CC-BY-NC-4.0", 0.07), ("CC-BY-NC-SA-4.0", 0.03), ("CC-BY-ND-4.0", 0.03),
    ("CC0-1.0", 0.05), ("MIT", 0.03), ("LicenseRef-All-Rights-Reserved", 0.13),
    ("MIT OR GPL-3.0-only", 0.02), ("GFDL-1.3-or-later", 0.02), ("CC-BY-3.0-US", 0.02),
]
OPTOUTS = ["robots:GPTBot", "robots:CCBot", "meta:noai", "robots:ClaudeBot",
           "content-usage:train-ai=n"]
BASELINE = """
import sys
import pyarrow.dataset as ds
fmt = ds.ParquetFileFormat()
ds.write_dataset(ds.dataset(sys.argv[2:], format=fmt), sys.argv[1], format=fmt,
                 file_options=fmt.make_write_options(compression="zstd"),
                 max_rows_per_group=10_000, max_rows_per_file=50_000)
"""


# --------------------------------------------------------------------------- data

def _vocabulary(rng: np.random.Generator, size: int = 30_000) -> pa.Array:
    syllables = ["ka", "lo", "mi", "ne", "tar", "vel", "qu", "is", "ent", "or", "an", "the",
                 "ing", "pro", "con", "al", "re", "de", "ma", "sto", "ber", "gen", "ul"]
    words = {"".join(rng.choice(syllables, size=rng.integers(1, 5))) for _ in range(size * 2)}
    return pa.array(sorted(words)[:size])


def _texts(rng: np.random.Generator, vocab: pa.Array, n: int) -> pa.Array:
    """``n`` texts of Zipf-distributed words, about 4 KB each on average."""
    counts = np.clip(rng.lognormal(6.2, 0.6, n).astype(np.int64), 40, 8000)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    ranks = (rng.zipf(1.15, int(offsets[-1])) - 1) % len(vocab)
    words = vocab.take(pa.array(ranks))
    return pa.compute.binary_join(pa.ListArray.from_arrays(pa.array(offsets), words), " ")


def _sha1s(texts: pa.Array) -> list[str]:
    _, offset_buffer, data_buffer = texts.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int32)[texts.offset:]
    data = memoryview(data_buffer)
    return [hashlib.sha1(data[offsets[i]:offsets[i + 1]]).hexdigest()
            for i in range(len(texts))]


def _batch(rng: np.random.Generator, vocab: pa.Array, start: int, n: int) -> pa.RecordBatch:
    schema = record_schema()
    licenses = [lic for lic, _ in LICENSES]
    shares = np.array([s for _, s in LICENSES])
    lic = rng.choice(len(licenses), size=n, p=shares / shares.sum())
    hosts = [f"site{h}.example" for h in (rng.zipf(1.3, n) % 5000)]
    texts = _texts(rng, vocab, n)
    sha1s = _sha1s(texts)
    urls = [f"https://{hosts[i]}/articles/{start + i}" for i in range(n)]
    names = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Ibn Sina", "Hypatia", "Mo Yan"]
    n_authors = rng.integers(0, 3, n)
    authors = [list(rng.choice(names, size=k, replace=False)) for k in n_authors]
    optout = rng.random(n)
    columns = {
        "id": [hashlib.sha1(f"{u}\n{s}".encode()).hexdigest() for u, s in zip(urls, sha1s,
                                                                              strict=True)],
        "url": urls,
        "canonical_url": [None] * n,
        "host": hosts,
        "fetched_at": [datetime(2024, 5, 1, tzinfo=UTC)] * n,
        "http_status": [200] * n,
        "content_type": ["text/html; charset=utf-8"] * n,
        "title": [f"Article {start + i}" for i in range(n)],
        "text": texts,
        "lang": ["en"] * n,
        "published": ["2024-04-30"] * n,
        "authors": authors,
        "copyright": [f"© 2024 {a[0]}" if a else None for a in authors],
        "license": [licenses[k] for k in lic],
        "license_category": [category(licenses[k]) for k in lic],
        "license_confidence": rng.uniform(0.3, 1.0, n).astype(np.float32),
        "license_conflict": rng.random(n) < 0.02,
        "license_evidence": [[{"kind": "rel-license", "value": licenses[k], "spdx": licenses[k],
                               "where": "main", "weight": 0.9}] for k in lic],
        "attribution": [None] * n,
        "tdm_reserved": optout < 0.03,
        "tdm_policy": [None] * n,
        "ai_optout": [[OPTOUTS[int(x * 100) % len(OPTOUTS)]] if x < 0.1 else [] for x in optout],
        "text_sha1": sha1s,
        "warc_file": ["bench.warc.gz"] * n,
        "warc_record_id": [f"<urn:uuid:{start + i:032x}>" for i in range(n)],
        "crawl_id": ["bench"] * n,
    }
    arrays = [pa.array(columns[f.name], f.type) if not isinstance(columns[f.name], pa.Array)
              else columns[f.name] for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def generate(folder: Path, target_bytes: int, seed: int) -> list[Path]:
    """Write shards of the record schema into ``folder`` until they hold ``target_bytes``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng)
    files: list[Path] = []
    total, row = 0, seed * 10**9
    while total < target_bytes:
        path = folder / f"gen-{seed}-{len(files):04d}.parquet"
        with pq.ParquetWriter(path, record_schema(), compression="zstd") as writer:
            for _ in range(ROWS_PER_FILE // ROWS_PER_BATCH):
                writer.write_batch(_batch(rng, vocab, row, ROWS_PER_BATCH),
                                   row_group_size=10_000)
                row += ROWS_PER_BATCH
        files.append(path)
        total += path.stat().st_size
    return files


# --------------------------------------------------------------------------- measuring

def measure(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd`` in a child; wall seconds and peak RSS of its process tree (sampled)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.1)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return {"wall": wall, "tree_rss_mib": peak / 2**20}


def spdx_cost(out: Path, rows: int = 10_000) -> tuple[float, int]:
    """(seconds per row to build, validate and write an SPDX document, kept rows), timed
    in this process on the first ``rows`` rows of the filter's first output shard."""
    report = json.loads((out / "report.json").read_text())
    if not report["outputs"]["shards"]:
        return 0.0, 0
    table = pq.read_table(out / report["outputs"]["shards"][0], columns=list(SPDX_COLUMNS))
    sample = table.slice(0, rows).to_pylist()
    started = time.perf_counter()
    write_shard_spdx(sample, out / "timing" / "data" / "timing.parquet")  # -> timing/spdx/
    return (time.perf_counter() - started) / len(sample), report["kept"]


def run_pair(label: str, inputs: list[Path], work: Path, jobs: int | None) -> dict[str, float]:
    """Baseline then filter on ``inputs``; prints and returns the figures."""
    size = sum(p.stat().st_size for p in inputs)
    base_out, filt_out = work / f"baseline-{label}", work / f"filtered-{label}"
    baseline = measure([sys.executable, "-c", BASELINE, str(base_out), *map(str, inputs)])
    shutil.rmtree(base_out)
    cmd = [sys.executable, "-m", "crawler.cli", "filter", *map(str, inputs),
           "--out", str(filt_out), "--quiet"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    filtered = measure(cmd)
    spdx_per_row, kept = spdx_cost(filt_out)
    shutil.rmtree(filt_out)
    ratio = filtered["wall"] / baseline["wall"]
    print(f"{label}: input {size / 2**30:.2f} GiB in {len(inputs)} shards")
    for name, m in (("pyarrow.dataset read+write", baseline), ("licrawl filter", filtered)):
        print(f"  {name:<28} {m['wall']:8.1f} s  {size / 2**20 / m['wall']:7.1f} MiB/s  "
              f"peak tree RSS {m['tree_rss_mib']:7.0f} MiB")
    print(f"  time ratio filter/baseline: {ratio:.2f}x")
    print(f"  of which SPDX documents (crawler.store.spdx, build + validate + write): "
          f"{spdx_per_row * 1e6:.0f} us/row x {kept:,} kept rows = {spdx_per_row * kept:.0f} "
          f"s of CPU, spread over the workers", flush=True)
    return {"ratio": ratio, "filter_rss": filtered["tree_rss_mib"],
            "baseline_rss": baseline["tree_rss_mib"]}


def main() -> int:
    """Generate data, run the comparisons, print the figures, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=1.0, help="input size of the time check")
    parser.add_argument("--scale-gb", type=float, default=0.0,
                        help="larger input size for the memory check (0: skip)")
    parser.add_argument("--workdir", default=tempfile.gettempdir(),
                        help="where to generate data (outside the repository)")
    parser.add_argument("--jobs", type=int, help="filter worker processes (default: CPUs)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="licrawl-bench-filter-", dir=args.workdir))
    try:
        started = time.monotonic()
        small = generate(work / "small", int(args.gb * 2**30), seed=1)
        print(f"generated {args.gb} GiB in {time.monotonic() - started:.0f} s", flush=True)
        first = run_pair(f"{args.gb:g}GiB", small, work, args.jobs)
        if args.scale_gb > args.gb:
            extra = generate(work / "extra", int((args.scale_gb - args.gb) * 2**30), seed=2)
            second = run_pair(f"{args.scale_gb:g}GiB", small + extra, work, args.jobs)
            print(f"peak tree RSS of the filter: {first['filter_rss']:.0f} MiB at {args.gb:g} "
                  f"GiB, {second['filter_rss']:.0f} MiB at {args.scale_gb:g} GiB "
                  f"({second['filter_rss'] / first['filter_rss']:.2f}x)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
