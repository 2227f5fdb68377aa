"""Dedup's middle step, in the parent: from the first pass's copy records and signatures to
clusters, the kept copy of each, and what each kept row carries about its copies.

Exact duplicates (same ``text_sha1``) are one text; texts whose signatures share a band
key are candidates; a candidate pair whose estimated Jaccard similarity reaches the
threshold joins one cluster (connected components). Nothing here depends on the order of
the input rows or on which worker signed what, so the same input gives the same clusters,
kept copies and cluster ids.

Memory per input row: the ranking columns, ``url``, ``host``, ``license`` and the opt-out
columns (no text); per distinct text: its signature (``4 * num_perm`` bytes) and band keys
(``8 * bands`` bytes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crawler.licenses.expressions import parse
from crawler.licenses.ids import NOASSERTION
from crawler.stages.dedup.keep import CANONICAL_COLUMN, LEVEL_COLUMN, sort_keys
from crawler.stages.dedup.minhash import (
    DedupParams,
    candidate_pairs,
    components,
    similarity,
)
from crawler.stages.dedup.sign import FILE_COLUMN, PREVIOUS_COLUMNS, SIG_COLUMN, SignResult
from crawler.stages.runner import StageError

_PLAN_COLUMNS = ["id", "url", "host", "license", "license_confidence", "published",
                 "fetched_at", "text_sha1", "tdm_reserved", "ai_optout", LEVEL_COLUMN,
                 CANONICAL_COLUMN, FILE_COLUMN, SIG_COLUMN, *PREVIOUS_COLUMNS.values()]
KEPT_COLUMNS = ("dup_cluster", "dup_count", "dup_licenses", "dup_license_conflict",
                "dup_urls", "tdm_reserved", "ai_optout")
"""What the second pass sets on each kept row (opt-outs: the union over the copies)."""


@lru_cache(maxsize=4096)
def license_key(value: str) -> str:
    """A license value in a form where equal licenses compare equal (SPDX expressions
    simplified: case, deprecated ids, operand order); other values as written."""
    try:
        return str(parse(value).simplify().render())
    except ValueError:
        return value.strip()


def conflicting_licenses(values: Sequence[str]) -> list[str]:
    """The distinct licenses of copies that disagree (``NOASSERTION`` left aside), sorted;
    empty when they agree."""
    distinct: dict[str, str] = {}
    for value in values:
        if value != NOASSERTION:
            distinct.setdefault(license_key(value), value)
    return sorted(distinct.values()) if len(distinct) > 1 else []


@dataclass
class ClusterStats:
    """Counts for the report, filled while planning."""

    rows: int = 0
    distinct_texts: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    clusters: int = 0
    candidate_pairs: int = 0
    confirmed_pairs: int = 0
    size_histogram: Counter[str] = field(default_factory=Counter)
    conflict_clusters: int = 0
    conflict_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    removed_by_host: Counter[str] = field(default_factory=Counter)
    optout_clusters: int = 0


@dataclass
class Plan:
    """The decisions, in input row order (``row_file`` says which file a row is in)."""

    kept: np.ndarray  # bool per row
    cluster_id: pa.Array  # per row: id of the cluster's kept copy
    similarity: np.ndarray  # float32 per row: estimated Jaccard to the kept copy
    match: pa.Array  # per row: null (kept), "exact", "near"
    kept_columns: pa.Table  # KEPT_COLUMNS of the kept rows, in row order
    file_rows: list[int]  # rows per input file
    stats: ClusterStats


_SIZE_BINS = ((1, "1"), (2, "2"), (5, "3-5"), (10, "6-10"), (100, "11-100"),
              (1000, "101-1000"))


def _size_bin(size: int) -> str:
    for limit, label in _SIZE_BINS:
        if size <= limit:
            return label
    return ">1000"


def _read_plan_columns(results: Sequence[SignResult]) -> pa.Table:
    parts = []
    sig_offset = 0
    for result in results:
        if result.rows:
            part = pq.read_table(result.task.copies_path, columns=_PLAN_COLUMNS)
            gsig = pc.add(part.column(SIG_COLUMN).cast(pa.int64()), sig_offset)
            parts.append(part.drop_columns([SIG_COLUMN]).append_column("_gsig", gsig))
        sig_offset += result.signatures
    if not parts:
        return pa.table({})
    table = pa.concat_tables(parts).combine_chunks()
    del parts
    pa.default_memory_pool().release_unused()  # the parts' buffers, back to the system
    return table


def _check_unique_ids(table: pa.Table, files: Sequence[Path]) -> None:
    ids = table.column("id")
    counts = pc.value_counts(ids)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(repeated):
        first = repeated[0].as_py()
        where = pc.indices_nonzero(pc.equal(ids, first)).to_numpy()[:2]
        in_files = [str(files[table.column(FILE_COLUMN)[int(i)].as_py()]) for i in where]
        raise StageError(f"{in_files[1]}: duplicate id {first} (also in {in_files[0]}); "
                         "the same row is in the input twice (an input listed twice?)")


def _load_signatures(results: Sequence[SignResult], needed: np.ndarray, rows: np.ndarray,
                     out: np.ndarray) -> None:
    """Read the signatures at global indices ``needed`` (sorted) into ``out[rows]``, task
    file by task file."""
    num_perm = out.shape[1]
    start = 0
    for result in results:
        end = start + result.signatures
        lo, hi = np.searchsorted(needed, [start, end])
        if hi > lo:
            sigs = np.memmap(result.task.sigs_path, dtype=np.uint32, mode="r",
                             shape=(result.signatures, num_perm))
            out[rows[lo:hi]] = sigs[needed[lo:hi] - start]
            del sigs
        start = end


def plan_clusters(results: Sequence[SignResult], files: Sequence[Path], params: DedupParams,
                  keep: str, say: object = None) -> Plan:
    """Cluster the rows the first pass recorded and decide what is kept.

    ``say(message)`` (optional) is told what step runs.
    """
    def tell(message: str) -> None:
        if callable(say):
            say(message)

    file_rows = [n for result in results for n in result.rows_per_file]
    table = _read_plan_columns(results)
    stats = ClusterStats(rows=table.num_rows)
    if table.num_rows == 0:
        return Plan(np.zeros(0, bool), pa.array([], pa.string()), np.zeros(0, np.float32),
                    pa.array([], pa.string()), pa.table({name: [] for name in KEPT_COLUMNS}),
                    file_rows, stats)
    _check_unique_ids(table, files)

    # exact duplicates: one text per text_sha1, signed by its first copy; texts are
    # numbered in text_sha1 order, so every later step sees them in an order that does not
    # depend on the input's
    sha1 = table.column("text_sha1")
    unique = pc.unique(sha1)
    texts = unique.take(pc.array_sort_indices(unique))
    text_of_row = pc.index_in(sha1, value_set=texts).to_numpy().astype(np.int64)
    n_texts = len(texts)
    _, first_rows = np.unique(text_of_row, return_index=True)
    gsig = table.column("_gsig").to_numpy()
    order = np.argsort(gsig[first_rows], kind="stable")
    sigs = np.empty((n_texts, params.num_perm), dtype=np.uint32)
    _load_signatures(results, gsig[first_rows][order], order, sigs)
    stats.distinct_texts = n_texts
    stats.exact_duplicates = table.num_rows - n_texts

    # near duplicates: LSH candidates, confirmed by estimated Jaccard, connected
    tell(f"banding {n_texts:,} distinct texts")
    pairs = candidate_pairs(sigs, params)
    stats.candidate_pairs = len(pairs)
    tell(f"confirming {len(pairs):,} candidate pairs")
    confirmed = pairs[similarity(sigs, pairs[:, 0], pairs[:, 1]) >= params.threshold] \
        if len(pairs) else pairs
    stats.confirmed_pairs = len(confirmed)
    component_of_text = components(n_texts, confirmed)
    cluster_of_row = component_of_text[text_of_row]

    # the kept copy of each cluster: best by the keep rule
    ranked = table.select([key[0] for key in sort_keys(keep)]).append_column(
        "_cluster", pa.array(cluster_of_row))
    order = pc.sort_indices(ranked, sort_keys=[("_cluster", "ascending", "at_end")]
                            + sort_keys(keep)).to_numpy()
    sorted_clusters = cluster_of_row[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_clusters[1:] != sorted_clusters[:-1]
    kept_row_of_cluster = np.full(n_texts, -1, dtype=np.int64)
    kept_row_of_cluster[sorted_clusters[first]] = order[first]
    kept_row = kept_row_of_cluster[cluster_of_row]
    rows = np.arange(table.num_rows)
    kept = kept_row == rows
    sizes = np.bincount(cluster_of_row, minlength=n_texts)
    stats.clusters = int(first.sum())
    stats.near_duplicates = n_texts - int(len(np.unique(component_of_text)))
    stats.size_histogram.update(_size_bin(int(s)) for s in sizes[sizes > 0])

    ids = table.column("id")
    cluster_id = ids.take(pa.array(kept_row))
    text_of_kept = text_of_row[kept_row]
    same_text = text_of_row == text_of_kept
    sim = np.ones(table.num_rows, dtype=np.float32)
    near = np.flatnonzero(~same_text)
    if len(near):
        sim[near] = similarity(sigs, text_of_row[near], text_of_kept[near])
    match = pc.if_else(pa.array(kept), pa.scalar(None, pa.string()),
                       pc.if_else(pa.array(same_text), "exact", "near"))
    del sigs

    kept_columns = _kept_columns(table, kept, kept_row, cluster_of_row, sizes, stats)
    return Plan(kept, cluster_id, sim, match, kept_columns, file_rows, stats)


def _kept_columns(table: pa.Table, kept: np.ndarray, kept_row: np.ndarray,
                  cluster_of_row: np.ndarray, sizes: np.ndarray,
                  stats: ClusterStats) -> pa.Table:
    """The columns the second pass sets on each kept row, in row order.

    Most kept rows are alone in their cluster: their columns are built as whole arrays.
    Rows of clusters with copies, and rows that an earlier dedup kept (the input is dedup
    output: its copies' count, licenses and URLs join this run's, so a conflict found then
    is not lost now), are worked out one cluster at a time and patched in.
    """
    kept_rows = np.flatnonzero(kept)
    n_kept = len(kept_rows)
    take = pa.array(kept_rows)

    def column(name: str) -> pa.Array:
        return table.column(name).take(take).combine_chunks()

    columns = {
        "dup_cluster": column("id"),
        "dup_count": pa.array(sizes[cluster_of_row[kept_rows]].astype(np.int32)),
        "dup_licenses": pa.ListArray.from_arrays(
            pa.array(np.arange(n_kept + 1, dtype=np.int32)), column("license")),
        "dup_license_conflict": pa.array(np.zeros(n_kept, dtype=bool)),
        "dup_urls": pa.ListArray.from_arrays(pa.array(np.zeros(n_kept + 1, dtype=np.int32)),
                                             pa.array([], pa.string())),
        "tdm_reserved": column("tdm_reserved"),
        "ai_optout": column("ai_optout"),
    }
    earlier = pc.is_valid(table.column("_prev_count")).to_numpy(zero_copy_only=False)
    special = np.flatnonzero((sizes[cluster_of_row] > 1) | earlier)
    if not len(special):
        return pa.table(columns)
    special = special[np.argsort(cluster_of_row[special], kind="stable")]
    urls, hosts, lic, tdms, opts, prev_count, prev_licenses, prev_urls = (
        table.column(name).take(pa.array(special)).to_pylist()
        for name in ("url", "host", "license", "tdm_reserved", "ai_optout", "_prev_count",
                     "_prev_licenses", "_prev_urls"))
    patched = [name for name in KEPT_COLUMNS if name != "dup_cluster"]  # its own id stays
    patches: dict[str, list[Any]] = {name: [] for name in patched}
    positions: list[int] = []
    bounds = np.flatnonzero(np.diff(cluster_of_row[special])) + 1
    for members in np.split(np.arange(len(special)), bounds):
        keeper = int(kept_row[special[members[0]]])
        [mine] = [m for m in members if special[m] == keeper]
        others = [m for m in members if special[m] != keeper]
        seen_licenses = sorted({lic[m] for m in members} | {
            v for m in members for v in (prev_licenses[m] or [])})
        conflict = conflicting_licenses(seen_licenses)
        if conflict:
            stats.conflict_clusters += 1
            stats.conflict_pairs.update(combinations(conflict, 2))
        union_tdm = any(tdms[m] for m in members)
        union_optout = sorted({s for m in members for s in (opts[m] or [])})
        if union_tdm != tdms[mine] or union_optout != sorted(opts[mine] or []):
            stats.optout_clusters += 1
        stats.removed_by_host.update(hosts[m] for m in others)
        positions.append(int(np.searchsorted(kept_rows, keeper)))
        values = {
            "dup_count": sum(prev_count[m] or 1 for m in members),
            "dup_licenses": seen_licenses,
            "dup_license_conflict": bool(conflict),
            "dup_urls": sorted(({urls[m] for m in others} | {
                u for m in members for u in (prev_urls[m] or [])}) - {urls[mine]}),
            "tdm_reserved": union_tdm,
            "ai_optout": union_optout,
        }
        for name, value in values.items():
            patches[name].append(value)
    index = np.arange(n_kept)
    index[positions] = n_kept + np.arange(len(positions))
    for name in patched:
        patch = pa.array(patches[name], columns[name].type)
        columns[name] = pa.concat_arrays([columns[name], patch]).take(pa.array(index))
    return pa.table(columns)
