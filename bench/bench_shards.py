"""Throughput and peak memory of ShardWriter, with and without the SPDX document.

Each configuration runs in its own process (peak RSS is per process). The baseline is
``pyarrow.parquet.write_table`` of the same rows in one call (all rows in memory, no
checks, no rotation, no SPDX), in the same run.

    .venv/bin/python bench/bench_shards.py --rows 50000 --text 4000
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

MODES = ("write_table", "writer-nospdx", "writer-spdx")


def make_row(i: int, text_size: int) -> dict:
    """A valid record whose text is ``text_size`` characters."""
    text = f"document {i} " + "lorem ipsum " * (text_size // 12)
    url = f"https://example.org/articles/{i}"
    lic = ["CC-BY-4.0", "CC-BY-SA-4.0", "NOASSERTION", "LicenseRef-All-Rights-Reserved"][i % 4]
    return {
        "id": hashlib.sha1(f"{url}\n{text}".encode()).hexdigest(), "url": url,
        "canonical_url": None, "host": "example.org",
        "fetched_at": datetime(2024, 5, 1, tzinfo=UTC), "http_status": 200,
        "content_type": "text/html", "title": f"Title {i}", "text": text, "lang": "en",
        "published": None, "authors": [f"Author {i % 50}"], "copyright": None,
        "license": lic, "license_category": "permissive", "license_confidence": 0.8,
        "license_conflict": False,
        "license_evidence": [{"kind": "meta", "value": "x", "spdx": lic, "where": "head",
                              "weight": 0.8}],
        "attribution": None, "tdm_reserved": False, "tdm_policy": None, "ai_optout": [],
        "text_sha1": hashlib.sha1(text.encode()).hexdigest(), "warc_file": None,
        "warc_record_id": None, "crawl_id": "bench",
    }


def child(mode: str, rows: int, text_size: int) -> None:
    """Run one configuration and print ``seconds peak_rss_kib output_bytes``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crawler.core.schema import record_schema
    from crawler.store.shards import ShardWriter

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if mode == "write_table":
            table = pa.Table.from_pylist([make_row(i, text_size) for i in range(rows)],
                                         schema=record_schema())
            pq.write_table(table, Path(tmp) / "all.parquet", compression="zstd")
        else:
            with ShardWriter(tmp, spdx=mode == "writer-spdx") as writer:
                for i in range(rows):
                    writer.write(make_row(i, text_size))
        seconds = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(seconds, peak, size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--text", type=int, default=4000, help="characters of text per row")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows, args.text)
        return
    print(f"{args.rows} rows, {args.text} chars of text each")
    print(f"{'mode':<14} {'seconds':>8} {'rows/s':>8} {'us/row':>7} {'peak RSS MiB':>13} "
          f"{'output MiB':>11}")
    base = None
    for mode in MODES:
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--rows",
                              str(args.rows), "--text", str(args.text)],
                             check=True, capture_output=True, text=True).stdout.split()
        seconds, peak, size = float(out[0]), int(out[1]), int(out[2])
        base = base or seconds
        print(f"{mode:<14} {seconds:>8.2f} {args.rows / seconds:>8.0f} "
              f"{seconds / args.rows * 1e6:>7.0f} {peak / 1024:>13.0f} {size / 2**20:>11.1f}"
              f"   ({seconds / base:.2f}x write_table)", flush=True)


if __name__ == "__main__":
    main()
