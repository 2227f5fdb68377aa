"""Searching one index shard: longest matches, occurrence ranges and seed hits.

All searches are vectorized numpy binary searches over the memory-mapped suffix array: one
step compares, for every query row at once, the middle suffix's first words with the row.
Word ids are compared as int64; a query word the shard does not know gets ``UNKNOWN``
(larger than every id and the separator, so it matches nothing), and keys are padded with
``LOW`` (a lower bound) or ``HIGH`` (an upper bound).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa

from crawler.stages.index.layout import SEP
from crawler.trace import SEED_WORDS

UNKNOWN = 1 << 33  # a query word absent from a shard's vocabulary
LOW, HIGH = -1, 1 << 34
KEY = 64  # words compared per step before refining a longer match
SEED = SEED_WORDS  # near-verbatim seed length (words)
SEED_MAX_COUNT = 100  # seeds occurring more often in a shard are boilerplate: not used


class IndexShard:
    """One index shard, memory-mapped (pages are read as searches touch them)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ids = np.load(path / "ids.npy", mmap_mode="r")
        self.sa = np.load(path / "sa.npy", mmap_mode="r")
        self.doc_starts = np.load(path / "doc_starts.npy", mmap_mode="r")
        self.vocab = np.load(path / "vocab.npy", mmap_mode="r")
        self.docs = pa.ipc.open_file(pa.memory_map(str(path / "docs.arrow"))).read_all()
        self.n = len(self.sa)
        self.last = len(self.ids) - 1

    def word_ids(self, hashes: np.ndarray, index: np.ndarray) -> np.ndarray:
        """A query's word ids in this shard from its distinct word ``hashes`` and the
        ``index`` of each word among them (``UNKNOWN`` for words the shard lacks)."""
        if len(self.vocab) == 0:
            return np.full(len(index), UNKNOWN, np.int64)
        at = np.searchsorted(self.vocab, hashes)
        ok = at < len(self.vocab)
        ok[ok] = self.vocab[at[ok]] == hashes[ok]
        return np.where(ok, at, UNKNOWN).astype(np.int64)[index]

    def _windows(self, ranks: np.ndarray, width: int) -> np.ndarray:
        """The first ``width`` word ids (int64) of the suffixes at ``ranks``."""
        pos = np.asarray(self.sa[np.clip(ranks, 0, self.n - 1)]).astype(np.int64)
        return self.ids[np.minimum(pos[:, None] + np.arange(width), self.last)].astype(np.int64)

    def search(self, keys: np.ndarray, lo: np.ndarray | None = None,
               hi: np.ndarray | None = None) -> np.ndarray:
        """Lower bound of each key row (int64) in the suffix array: the first rank whose
        suffix is not smaller than the key."""
        rows = len(keys)
        lo = np.zeros(rows, np.int64) if lo is None else lo.copy()
        hi = np.full(rows, self.n, np.int64) if hi is None else hi.copy()
        while True:
            act = np.flatnonzero(lo < hi)
            if not len(act):
                return lo
            mid = (lo[act] + hi[act]) >> 1
            cand = self._windows(mid, keys.shape[1])
            key = keys[act]
            diff = cand != key
            first = diff.argmax(axis=1)
            r = np.arange(len(act))
            less = diff[r, first] & (cand[r, first] < key[r, first])
            lo[act[less]] = mid[less] + 1
            hi[act[~less]] = mid[~less]

    def _common(self, ranks: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Words in common between the suffixes at ``ranks`` and the key rows."""
        if self.n == 0:
            return np.zeros(len(keys), np.int64)
        diff = self._windows(ranks, keys.shape[1]) != keys
        length = np.where(diff.any(axis=1), diff.argmax(axis=1), keys.shape[1])
        return np.where((ranks >= 0) & (ranks < self.n), length, 0)

    def longest(self, q: np.ndarray, min_words: int) -> np.ndarray:
        """For each position of the query word ids ``q`` that can start a match of
        ``min_words`` or more: the length of its longest prefix that occurs in the shard
        (0 elsewhere).

        Only positions up to ``w - 1`` words before a checkpoint (every ``w = min_words //
        2`` words) whose ``w``-word window occurs are searched: a match of ``2w - 1`` words
        or more always contains such a window."""
        m = len(q)
        out = np.zeros(m, np.int64)
        if m < min_words or self.n == 0:
            return out
        w = max(1, min_words // 2)
        checks = np.arange(0, m - w + 1, w)
        ckeys = q[checks[:, None] + np.arange(w)]
        hit = checks[self._common(self.search(ckeys), ckeys) >= w]
        if not len(hit):
            return out
        starts = np.unique((hit[:, None] - np.arange(w)).ravel())
        starts = starts[(starts >= 0) & (starts <= m - min_words)]
        qpad = np.concatenate([q, np.full(KEY, LOW)])
        keys = qpad[starts[:, None] + np.arange(KEY)]
        lb = self.search(keys)
        best = np.maximum(self._common(lb - 1, keys), self._common(lb, keys))
        out[starts] = best
        deep = np.flatnonzero((best >= KEY) & (m - starts > KEY))
        if len(deep):
            s = starts[deep]
            ub = self.search(np.concatenate([keys[deep], np.full((len(s), 1), HIGH)], axis=1))
            width = int((m - s).max())
            full = np.concatenate([q, np.full(width, LOW)])[s[:, None] + np.arange(width)]
            lb2 = self.search(full, lo=lb[deep], hi=ub)
            out[s] = np.maximum(self._common(lb2 - 1, full), self._common(lb2, full))
        return out

    def occurrences(self, q: np.ndarray, start: int, end: int) -> tuple[int, int]:
        """The suffix-array rank range ``[lb, ub)`` of the words ``q[start:end]``."""
        key = q[start:end][None, :]
        lb = self.search(np.concatenate([key, [[LOW]]], axis=1))
        ub = self.search(np.concatenate([key, [[HIGH]]], axis=1))
        return int(lb[0]), int(ub[0])

    def documents(self, lb: int, ub: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers in this shard, word offsets in them) of the occurrences at
        ranks ``[lb, ub)``, at most ``limit``."""
        pos = np.asarray(self.sa[lb:min(ub, lb + limit)]).astype(np.int64)
        row = np.searchsorted(self.doc_starts, pos, side="right") - 1
        return row, pos - np.asarray(self.doc_starts)[row]

    def seeds(self, q: np.ndarray, starts: np.ndarray) -> dict[int, list[tuple[int, int]]]:
        """Exact ``SEED``-word seeds of the query in this shard, starting at the query
        positions ``starts``: per document number, the (query position, document position)
        of each; seeds found more than ``SEED_MAX_COUNT`` times are left out
        (boilerplate)."""
        m = len(q)
        hits: dict[int, list[tuple[int, int]]] = defaultdict(list)
        starts = starts[starts <= m - SEED]
        if not len(starts) or self.n == 0:
            return hits
        keys = q[starts[:, None] + np.arange(SEED)]
        ok = (keys < SEP).all(axis=1)
        starts, keys = starts[ok], keys[ok]
        if not len(keys):
            return hits
        lb = self.search(keys)
        ub = self.search(np.concatenate([keys, np.full((len(keys), 1), HIGH)], axis=1))
        for i in np.flatnonzero((ub > lb) & (ub - lb <= SEED_MAX_COUNT)).tolist():
            docs, offsets = self.documents(int(lb[i]), int(ub[i]), SEED_MAX_COUNT)
            p = int(starts[i])
            for d, o in zip(docs.tolist(), offsets.tolist(), strict=True):
                hits[d].append((p, o))
        return hits
