"""Measure before choosing: rensa vs datasketch for MinHash + LSH, and sort-based banding.

The same texts (the quality set of ``bench/dedup_truth.py``: real and real-ish texts with
near-duplicate copies and hard negatives, ``--docs`` of them) and the same shingles (5-word
n-grams of ``crawler.stages.dedup.minhash.shingles``) go through, in this process, one
library at a time:

- rensa (Rust): ``RMinHash.from_token_sets`` (objects, which ``RMinHashLSH.query``
  needs), 112 permutations; ``RMinHashLSH(0.8, 112, 14)``: ``insert_many`` then
  ``query_all`` (``insert_matrix`` of a digest matrix timed too, same candidates).
- datasketch: ``MinHash.bulk`` over the UTF-8 shingles (default scheme, 112 permutations),
  ``LeanMinHash``; ``MinHashLSH(0.8, 112, params=(14, 8))``: insertion session, then
  ``query`` of every document.
- rensa's digest matrix (``RMinHash.digest_matrix_from_token_sets``, no Python object per
  document) turned into a numpy array, then numpy sort-based banding on it (datatrove's
  approach, what ``licrawl dedup`` does): per band, the 8
  uint32 of the band are combined into one uint64 key, keys are argsorted, equal
  neighbours are candidates (every pair within a run of equal keys).

Each step is timed as the best of ``--rounds`` calls (default 2) after a warm-up call on
500 documents. Printed: docs/s of signatures, of LSH insert + query, and in total
(shingles included); the candidate pairs each finds and how many of the pairs with true
Jaccard >= 0.8 (among all candidates found by any method) are among them; and, on sampled
pairs (pairs within truth groups, hard negatives with the page they share text with, and
random pairs), the mean absolute error of each library's estimated Jaccard against the
true Jaccard of the shingle sets. When ``licrawl dedup``'s own path exists it is timed on
the same texts too (Arrow n-gram hashes + rensa's flat-hash matrix + its banding).

    .venv/bin/python bench/bench_minhash_libs.py --docs 20000
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from crawler.stages.dedup import minhash as dm
from crawler.stages.dedup.minhash import shingles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dedup_truth import generate_truth_docs, jaccard  # noqa: E402

NUM_PERM, BANDS, ROWS, THRESHOLD, NGRAM, SEED = 112, 14, 8, 0.8, 5, 1
WARM_UP = 500


ROUNDS = 2


def timed(fn: Callable[[], Any], warm_up: Callable[[], Any] | None = None
          ) -> tuple[Any, float]:
    """(result of ``fn()``, best wall seconds of ``ROUNDS`` calls), after ``warm_up()`` (the
    same call on a few documents) and a garbage collection before each call: a library's
    first call pays one-off costs (the first full-size rensa matrix call took 2-10x the
    time of the next ones here)."""
    if warm_up is not None:
        warm_up()
    best, result = float("inf"), None
    for _ in range(ROUNDS):
        result = None
        gc.collect()
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return result, best


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer over a uint64 array."""
    with np.errstate(over="ignore"):
        values = values ^ (values >> np.uint64(30))
        values = values * np.uint64(0xBF58476D1CE4E5B9)
        values = values ^ (values >> np.uint64(27))
        values = values * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


def numpy_banding(sigs: np.ndarray, bands: int = BANDS) -> np.ndarray:
    """Candidate pairs ``(i, j)``, ``i < j``, distinct, of rows with an equal band key."""
    n, rows = len(sigs), sigs.shape[1] // bands
    parts = sigs.reshape(n, bands, rows).astype(np.uint64)
    keys = np.zeros((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(rows):
            keys = keys * np.uint64(0x100000001B3) + _mix(parts[:, :, k] + np.uint64(k))
    found = []
    for band in range(bands):
        order = np.argsort(keys[:, band], kind="stable")
        sorted_keys = keys[order, band]
        equal = sorted_keys[1:] == sorted_keys[:-1]
        if not equal.any():
            continue
        # runs of equal keys [start, end): every pair within a run is a candidate
        edges = np.flatnonzero(np.diff(np.concatenate([[0], equal.astype(np.int8), [0]])))
        starts, ends = edges[0::2], edges[1::2] + 1
        two = ends - starts == 2
        found.append(np.stack([order[starts[two]], order[starts[two] + 1]], axis=1))
        for start, end in zip(starts[~two], ends[~two], strict=True):
            members = order[start:end]
            i, j = np.triu_indices(len(members), k=1)
            found.append(np.stack([members[i], members[j]], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(found).astype(np.int64), axis=1)
    codes = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([codes // n, codes % n], axis=1)


def pairs_from_queries(results: Iterable[Iterable[Any]]) -> set[tuple[int, int]]:
    """Distinct unordered pairs (i < j) from per-document query results."""
    out: set[tuple[int, int]] = set()
    for i, keys in enumerate(results):
        for j in keys:
            if j != i:
                out.add((i, j) if i < j else (j, i))
    return out


def components(n: int, pairs: Iterable[tuple[int, int]]) -> list[int]:
    """Smallest member of each node's connected component."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(x) for x in range(n)]


def sample_pairs(docs: list[Any], rng: random.Random, limit: int = 4000
                 ) -> list[tuple[int, int]]:
    """Pairs to check the Jaccard estimates on: pairs within truth groups, hard negatives
    with their source page, and as many random pairs as hard ones."""
    by_group: dict[int, list[int]] = {}
    for i, d in enumerate(docs):
        by_group.setdefault(d.group, []).append(i)
    related = [(a, b) for members in by_group.values() for x, a in enumerate(members)
               for b in members[x + 1:]]
    hard = [(d.source, i) for i, d in enumerate(docs) if d.source is not None]
    rng.shuffle(related)
    randoms = [tuple(rng.sample(range(len(docs)), 2)) for _ in range(len(hard))]
    return related[:limit] + hard + randoms  # type: ignore[return-value]


def licrawl_path(texts: list[str], n: int) -> None:
    """Time ``licrawl dedup``'s own signature path when it exists: n-gram hashes from Arrow
    (``crawler.stages.dedup.minhash.ngram_hashes``) and rensa's
    ``digest_matrix_from_flat_token_hashes``, then its numpy banding (``candidate_pairs``,
    band by band), on the same texts."""
    import pyarrow as pa
    from rensa import RMinHash

    params = dm.DedupParams()
    column = pa.array(texts, pa.string())

    def hashes(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        return dm.ngram_hashes(col, params.ngram, dm.WordHasher())

    (tokens, offsets), t_hash = timed(lambda: hashes(column), lambda: hashes(column[:WARM_UP]))
    matrix, t_sig = timed(lambda: RMinHash.digest_matrix_from_flat_token_hashes(
        tokens, offsets, params.num_perm, params.seed))
    sigs, t_np = timed(lambda: np.array(matrix.to_rows(), dtype=np.uint32))
    pairs, t_band = timed(lambda: dm.candidate_pairs(sigs, params))
    total = t_hash + t_sig + t_np + t_band
    print(f"licrawl dedup's path (crawler.stages.dedup.minhash): Arrow n-gram hashes "
          f"{t_hash:.2f} s + rensa digest_matrix_from_flat_token_hashes {t_sig:.2f} s + to "
          f"numpy {t_np:.2f} s + candidate_pairs {t_band:.2f} s = {n / total:,.0f} "
          f"docs/s, {len(pairs):,} candidate pairs")


def main() -> int:
    """Run every library on the same shingles and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2, help="timed calls, the best counts")
    args = parser.parse_args()
    global ROUNDS
    ROUNDS = max(1, args.rounds)

    from datasketch import LeanMinHash, MinHash, MinHashLSH
    from rensa import RMinHash, RMinHashLSH

    docs = generate_truth_docs(args.docs, args.seed)
    texts = [d.text for d in docs]
    n = len(texts)
    shingle, label = shingles, "crawler.stages.dedup.minhash.shingles"
    sh, t_shingles = timed(lambda: [shingle(t, NGRAM) for t in texts])
    sets = [set(s) for s in sh]
    words = sum(len(t.split()) for t in texts)
    print(f"{n:,} documents ({words / n:.0f} words each on average), shingles: {label}, "
          f"{NGRAM}-grams, {NUM_PERM} permutations, {BANDS} bands x {ROWS} rows")
    print(f"rensa {version('rensa')}, datasketch {version('datasketch')}, "
          f"numpy {np.__version__}")
    print(f"shingles (shared by all): {t_shingles:.2f} s = {n / t_shingles:,.0f} docs/s\n")

    # ------------------------------------------------------------------ rensa
    few = sh[:WARM_UP]
    matrix, t_r_matrix = timed(
        lambda: RMinHash.digest_matrix_from_token_sets(sh, NUM_PERM, SEED),
        lambda: RMinHash.digest_matrix_from_token_sets(few, NUM_PERM, SEED))
    sigs, t_r_numpy = timed(lambda: np.array(matrix.to_rows(), dtype=np.uint32))
    objects, t_r_objects = timed(lambda: RMinHash.from_token_sets(sh, NUM_PERM, SEED),
                                 lambda: RMinHash.from_token_sets(few, NUM_PERM, SEED))
    assert objects[0].digest() == sigs[0].tolist(), "matrix and objects disagree"

    def rensa_lsh() -> list[list[int]]:
        lsh = RMinHashLSH(THRESHOLD, NUM_PERM, BANDS)
        lsh.insert_many(objects)
        return lsh.query_all(objects)

    def rensa_lsh_matrix() -> list[list[int]]:
        lsh = RMinHashLSH(THRESHOLD, NUM_PERM, BANDS)
        lsh.insert_matrix(matrix)
        return lsh.query_all(objects)

    r_results, t_r_lsh = timed(rensa_lsh, lambda: RMinHashLSH(THRESHOLD, NUM_PERM, BANDS)
                               .insert_many(objects[:WARM_UP]))
    r_results_m, t_r_lsh_m = timed(rensa_lsh_matrix)
    assert r_results_m == r_results, "insert_matrix and insert_many disagree"
    del r_results_m
    r_pairs = pairs_from_queries(r_results)
    del r_results

    np_pairs, t_np_band = timed(lambda: numpy_banding(sigs),
                                lambda: numpy_banding(sigs[:WARM_UP]))
    np_pairs_set = set(map(tuple, np_pairs.tolist()))

    # ------------------------------------------------------------------ datasketch
    def ds_signatures(docs: list[list[str]]) -> list[LeanMinHash]:
        encoded = [[s.encode("utf-8") for s in doc] for doc in docs]
        return [LeanMinHash(m) for m in MinHash.bulk(encoded, num_perm=NUM_PERM, seed=SEED)]

    ds_sigs, t_ds_sig = timed(lambda: ds_signatures(sh), lambda: ds_signatures(few))

    def ds_lsh() -> list[list[int]]:
        lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, params=(BANDS, ROWS))
        with lsh.insertion_session() as session:
            for i, m in enumerate(ds_sigs):
                session.insert(i, m)
        return [lsh.query(m) for m in ds_sigs]

    ds_results, t_ds_lsh = timed(ds_lsh)
    ds_pairs = pairs_from_queries(ds_results)
    del ds_results

    # ------------------------------------------------------------------ quality
    rng = random.Random(args.seed)
    checks = sample_pairs(docs, rng)
    true_j = np.array([jaccard(sets[a], sets[b]) for a, b in checks])
    r_est = np.array([(sigs[a] == sigs[b]).mean() for a, b in checks])
    ds_est = np.array([ds_sigs[a].jaccard(ds_sigs[b]) for a, b in checks])
    near = {p for p in r_pairs | ds_pairs | np_pairs_set}
    true_near = [(a, b) for a, b in (p for p in near) if jaccard(sets[a], sets[b]) >= THRESHOLD]

    def cand_recall(found: set[tuple[int, int]]) -> str:
        # pairs with true J >= threshold among the union of all candidates (an upper set)
        hit = sum(p in found for p in true_near)
        return f"{hit}/{len(true_near)}"

    r_comp = components(n, r_pairs)
    np_comp = components(n, np_pairs_set)

    rows = [
        ("rensa objects + RMinHashLSH", t_r_objects, t_r_lsh, r_pairs),
        ("rensa matrix + numpy banding", t_r_matrix + t_r_numpy, t_np_band, np_pairs_set),
        ("datasketch MinHash.bulk + MinHashLSH", t_ds_sig, t_ds_lsh, ds_pairs),
    ]
    print(f"{'method':<38}{'signatures':>16}{'LSH insert+query':>20}{'total incl. shingles':>24}"
          f"{'candidate pairs':>17}{'cand. recall J>=0.8':>21}")
    for name, t_sig, t_lsh, pairs in rows:
        total = t_shingles + t_sig + t_lsh
        print(f"{name:<38}{n / t_sig:>10,.0f} doc/s{n / t_lsh:>14,.0f} doc/s"
              f"{n / total:>18,.0f} doc/s{len(pairs):>17,}{cand_recall(pairs):>21}")
    print(f"\ntimes (s): shingles {t_shingles:.2f}; rensa objects (from_token_sets) "
          f"{t_r_objects:.2f}, RMinHashLSH insert_many + query_all {t_r_lsh:.2f} (insert_matrix"
          f" + query_all {t_r_lsh_m:.2f}); rensa matrix {t_r_matrix:.2f} + to numpy "
          f"{t_r_numpy:.2f}, numpy banding {t_np_band:.2f}; datasketch bulk + LeanMinHash "
          f"{t_ds_sig:.2f}, MinHashLSH {t_ds_lsh:.2f}")
    print(f"rensa LSH and numpy banding on the same signatures: "
          f"{'the same' if r_pairs == np_pairs_set else 'DIFFERENT'} candidate pairs "
          f"({len(r_pairs ^ np_pairs_set)} differ), "
          f"{'the same' if r_comp == np_comp else 'different'} connected components")

    licrawl_path(texts, n)

    print(f"\nJaccard estimates vs true Jaccard of the shingle sets, {len(checks):,} pairs:")
    print(f"{'pairs':<44}{'n':>6}{'true J mean':>13}{'rensa MAE':>12}{'datasketch MAE':>16}")
    groups = [("all", np.ones(len(checks), bool)),
              ("true J >= 0.5", true_j >= 0.5),
              ("0.7 <= true J < 0.9 (around the threshold)", (true_j >= 0.7) & (true_j < 0.9)),
              ("true J < 0.5", true_j < 0.5)]
    for name, mask in groups:
        if mask.any():
            print(f"{name:<44}{mask.sum():>6}{true_j[mask].mean():>13.3f}"
                  f"{np.abs(r_est[mask] - true_j[mask]).mean():>12.4f}"
                  f"{np.abs(ds_est[mask] - true_j[mask]).mean():>16.4f}")
    expected = np.sqrt(true_j * (1 - true_j) / NUM_PERM) * np.sqrt(2 / np.pi)
    print(f"(a perfect {NUM_PERM}-permutation MinHash: expected MAE {expected.mean():.4f} "
          "over all pairs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
