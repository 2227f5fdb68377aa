"""Cost of the per-shard SPDX document: build + write + validate, per phase, in µs per row.

For each size it times, on the same rows and in this process:

- ours: ``crawler.store.spdx`` as the shard writer uses it (``build_document``, ``write_document``,
  ``validate_document``);
- plain: the same document written and validated the plain spdx-tools way (its
  ``DocumentConverter`` + ``json.dump``, ``validate_full_spdx_document`` on every File),
  the baseline of the ratio;
- with ``--naive``: the plain way on the naive structure, where the document DESCRIBES each
  File (one relationship per row; spdx-tools' validator is quadratic in that, so only for
  sizes up to 10,000 rows).

Target: ours <= 40 µs per row in total. Also prints the peak Python memory of
``write_shard_spdx`` at the largest size.

    .venv/bin/python bench/bench_spdx.py                       # 10k and 50k rows
    .venv/bin/python bench/bench_spdx.py --sizes 1000 10000 --naive
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
from spdx_tools.spdx.model import Document, Relationship, RelationshipType
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from crawler.store import spdx

LICENSES = ["CC-BY-4.0", "CC-BY-SA-4.0", "NOASSERTION", "LicenseRef-All-Rights-Reserved",
            "LicenseRef-CC-BY-SA-3.0-ES", "CC0-1.0 OR LicenseRef-OWFa-1.0",
            "LicenseRef-PublicDomain", "MIT", "GFDL-1.3-or-later", "CC-BY-NC-ND-4.0"]
NAIVE_MAX_ROWS = 10_000


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
    """The naive structure: no shard package, the document DESCRIBES every File."""
    doc.packages = []
    doc.relationships = [Relationship(spdx.DOCUMENT_ID, RelationshipType.DESCRIBES, f.spdx_id)
                         for f in doc.files]
    return doc


def plain_write(doc: Document, path: Path) -> None:
    """spdx-tools' converter and the standard ``json.dump``, fsynced like ours."""
    with open(path, "w", encoding="utf-8") as out:
        json.dump(DocumentConverter().convert(doc), out, ensure_ascii=False,
                  separators=(",", ":"))
        out.flush()
        os.fsync(out.fileno())


def plain_validate(doc: Document) -> list:
    """spdx-tools' full validation of every part of ``doc``."""
    return validate_full_spdx_document(doc)


Phases = tuple[float, float, float, int]


def run(rows: list[dict], out: Path, write: Callable[[Document, Path], None],
        validate: Callable[[Document], list], structure: Callable[[Document], Document]
        ) -> Phases:
    """Seconds to build, write, validate one document; its size in bytes."""
    created = datetime(2024, 5, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    doc = structure(spdx.build_document(rows, name=out.name, created=created,
                                        namespace=spdx.new_namespace(out.name),
                                        shard_sha1="0" * 40))
    t1 = time.perf_counter()
    write(doc, out)
    t2 = time.perf_counter()
    messages = validate(doc)
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
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--naive", action="store_true",
                        help=f"also time the naive structure (sizes <= {NAIVE_MAX_ROWS})")
    args = parser.parse_args()
    spdx.build_document(make_rows(20), name="warm", namespace="https://x.org/warm")  # caches
    kinds: dict[str, tuple] = {
        "ours": (spdx.write_document, spdx.validate_document, lambda doc: doc),
        "plain": (plain_write, plain_validate, lambda doc: doc),
    }
    if args.naive:
        kinds["naive"] = (plain_write, plain_validate, naive)
    print(f"{'rows':>7} {'way':<6} {'build':>7} {'write':>7} {'valid':>7} {'total':>7} "
          f"{'x ours':>6} {'MiB':>6}   (µs per row)")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows = make_rows(n)
            totals: dict[str, float] = {}
            for kind, (write, validate, structure) in kinds.items():
                if kind == "naive" and n > NAIVE_MAX_ROWS:
                    continue
                out = Path(tmp) / f"{kind}-{n}.spdx.json"
                build, wrote, valid, size = run(rows, out, write, validate, structure)
                total = totals[kind] = build + wrote + valid
                per_row = [t / n * 1e6 for t in (build, wrote, valid, total)]
                print(f"{n:>7} {kind:<6} " + " ".join(f"{v:>7.1f}" for v in per_row)
                      + f" {total / totals['ours']:>6.2f} {size / 2**20:>6.1f}", flush=True)
        n = args.sizes[-1]
        peak = peak_memory(make_rows(n), Path(tmp) / "data" / "mem.parquet")  # -> spdx/
        print(f"peak Python memory of write_shard_spdx (build+validate+write), {n} rows: "
              f"{peak / 2**20:.0f} MiB ({peak / n / 1024:.1f} KiB/row)")


if __name__ == "__main__":
    main()
