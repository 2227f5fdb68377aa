"""Cost of the per-shard SPDX document: build + write + validate, ours against the naive one.

Ours: one Package for the shard, one relationship (DOCUMENT DESCRIBES the shard package),
the row Files at document level. Naive baseline: the document DESCRIBES each File (one
relationship per row), which spdx-tools' validator checks in O(files) each.

    .venv/bin/python bench/bench_spdx.py                 # 1k, 5k, 10k rows
    .venv/bin/python bench/bench_spdx.py --sizes 1000 50000 --no-baseline
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from spdx_tools.spdx.model import Document, Relationship, RelationshipType

from crawler import spdx

LICENSES = ["CC-BY-4.0", "CC-BY-SA-4.0", "NOASSERTION", "LicenseRef-All-Rights-Reserved",
            "LicenseRef-CC-BY-SA-3.0-ES", "CC0-1.0 OR LicenseRef-OWFa-1.0",
            "LicenseRef-PublicDomain", "MIT", "GFDL-1.3-or-later", "CC-BY-NC-ND-4.0"]


def make_rows(n: int) -> list[dict]:
    """``n`` rows with the SPDX columns only, licenses cycling through :data:`LICENSES`."""
    rows = []
    for i in range(n):
        lic = LICENSES[i % len(LICENSES)]
        text = f"document {i}"
        rows.append({
            "id": hashlib.sha1(f"u{i}".encode()).hexdigest(),
            "url": f"https://example.org/articles/{i}",
            "text_sha1": hashlib.sha1(text.encode()).hexdigest(),
            "license": lic,
            "license_evidence": [
                {"kind": "rel-license", "value": "https://example.org/l", "spdx": lic,
                 "where": "main", "weight": 0.9},
                {"kind": "meta", "value": "x", "spdx": "NOASSERTION", "where": "head",
                 "weight": 0.1},
            ],
            "copyright": f"© 2024 Author {i % 97}" if i % 3 else None,
            "authors": [f"Author {i % 97}"],
            "attribution": f'"Doc {i}" by Author {i % 97}' if i % 2 else None,
        })
    return rows


def naive(doc: Document) -> Document:
    """The baseline structure: no shard package, the document DESCRIBES every File."""
    doc.packages = []
    doc.relationships = [Relationship(spdx.DOCUMENT_ID, RelationshipType.DESCRIBES, f.spdx_id)
                         for f in doc.files]
    return doc


def run(rows: list[dict], out: Path, baseline: bool) -> tuple[float, float, float, int]:
    """Seconds to build, write, validate one document; its size in bytes."""
    created = datetime(2024, 5, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    doc = spdx.build_document(rows, name=out.name, namespace=spdx.new_namespace(out.name),
                              created=created, shard_sha1="0" * 40)
    if baseline:
        doc = naive(doc)
    t1 = time.perf_counter()
    spdx.write_document(doc, out)
    t2 = time.perf_counter()
    messages = spdx.validate_document(doc)
    t3 = time.perf_counter()
    if messages:
        raise SystemExit(f"invalid document: {messages[:3]}")
    return t1 - t0, t2 - t1, t3 - t2, out.stat().st_size


def peak_memory(rows: list[dict], out: Path) -> int:
    """Peak Python memory (bytes) of write_shard_spdx on ``rows``."""
    tracemalloc.start()
    spdx.write_shard_spdx(iter(rows), out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive structure")
    args = parser.parse_args()
    spdx.build_document(make_rows(20), name="warm", namespace="https://x.org/warm")  # caches
    header = (f"{'rows':>7} {'structure':<10} {'build s':>8} {'write s':>8} {'valid s':>8} "
              f"{'total s':>8} {'us/file':>8} {'MiB':>6}")
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows = make_rows(n)
            results = {}
            for kind in ["ours"] + ([] if args.no_baseline else ["naive"]):
                build, write, valid, size = run(rows, Path(tmp) / f"{kind}-{n}.parquet.spdx.json",
                                                kind == "naive")
                total = build + write + valid
                results[kind] = total
                print(f"{n:>7} {kind:<10} {build:>8.2f} {write:>8.2f} {valid:>8.2f} "
                      f"{total:>8.2f} {total / n * 1e6:>8.0f} {size / 2**20:>6.1f}", flush=True)
            if "naive" in results:
                print(f"{n:>7} naive/ours: {results['naive'] / results['ours']:.1f}x")
        n = args.sizes[-1]
        peak = peak_memory(make_rows(n), Path(tmp) / "mem.parquet")
        print(f"peak Python memory of write_shard_spdx (build+validate+write), {n} rows: "
              f"{peak / 2**20:.0f} MiB ({peak / n / 1024:.1f} KiB/row)")


if __name__ == "__main__":
    main()
