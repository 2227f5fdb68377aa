"""MinHash signatures and LSH banding for near-duplicate detection.

Texts are normalized (lower case, Greek final sigma folded to sigma; every run of
characters that are not letters, digits or ``_`` is one word break, so punctuation and
whitespace are folded) and cut into word n-grams. Each n-gram is a 64-bit hash of its
words; the signatures are rensa's (``RMinHash``, a Rust MinHash) over those hashes.
Banding follows datatrove: per band, the band's rows are combined into one 64-bit key,
keys are sorted, and documents with equal keys are candidates. A candidate pair joins a
cluster only when its estimated Jaccard similarity (the share of equal signature values)
reaches the threshold.

The n-gram hashing runs on whole record batches: Arrow splits the texts into words in C++,
each distinct word of the batch is hashed once (BLAKE2b, 8 bytes, so the same word gives
the same hash in every process and run), and numpy combines consecutive word hashes into
n-gram hashes. :func:`shingles` is the same rule as plain strings, for readers (Python's
and Arrow's Unicode tables differ on a few characters, e.g. "İ" and the newest letters).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_WORD_BREAK = r"[^\p{L}\p{N}_]+"  # RE2 (Arrow) form
_WORD = re.compile(r"[^\W]+")  # Python form of the same rule: letters, digits, "_"
_WORD_CACHE_MAX = 1 << 20
_MASK64 = (1 << 64) - 1
# odd 64-bit multipliers, one per position in an n-gram (from a fixed seed)
_MULTIPLIERS = np.random.default_rng(0x1C2A).integers(1, 2**63, size=64,
                                                      dtype=np.uint64) * 2 + 1
SMALL_BUCKET = 16
"""Candidates that share a band bucket of at most this many texts are all compared; in a
larger bucket each text is compared with the bucket's first text and with its neighbour."""


class DedupSettingsError(ValueError):
    """Dedup parameters that cannot work together."""


@dataclass(frozen=True)
class DedupParams:
    """MinHash/LSH settings. Defaults are datatrove's: 5-word n-grams, 112 hashes as
    14 bands of 8 rows; a pair is a near duplicate at estimated Jaccard >= 0.8."""

    ngram: int = 5
    num_perm: int = 112
    bands: int = 14
    threshold: float = 0.8
    seed: int = 1

    def __post_init__(self) -> None:
        if self.ngram < 1:
            raise DedupSettingsError("--ngram must be at least 1")
        if self.num_perm < 1 or self.bands < 1:
            raise DedupSettingsError("--num-perm and --bands must be at least 1")
        if self.num_perm % self.bands:
            raise DedupSettingsError(f"--num-perm {self.num_perm} is not a multiple of "
                                     f"--bands {self.bands}")
        if not 0.0 < self.threshold <= 1.0:
            raise DedupSettingsError("--threshold must be within (0, 1]")
        if self.ngram > len(_MULTIPLIERS):
            raise DedupSettingsError(f"--ngram must be at most {len(_MULTIPLIERS)}")

    @property
    def rows(self) -> int:
        """Signature rows per band."""
        return self.num_perm // self.bands

    def describe(self) -> dict[str, object]:
        """The settings as plain data, for ``report.json``."""
        return {"ngram": self.ngram, "num_perm": self.num_perm, "bands": self.bands,
                "rows_per_band": self.rows, "threshold": self.threshold, "seed": self.seed,
                "candidate_probability_at_threshold": round(
                    1 - (1 - self.threshold ** self.rows) ** self.bands, 4)}


def normalized_words(text: str) -> list[str]:
    """The words of ``text`` as dedup sees them: lower case (final sigma as sigma: Python
    lower-cases a final capital sigma to "ς", Arrow to "σ"), punctuation and whitespace
    folded."""
    return _WORD.findall(text.lower().replace("ς", "σ"))


def shingles(text: str, ngram: int) -> list[str]:
    """The word n-grams of ``text`` (a text shorter than ``ngram`` words is one n-gram)."""
    words = normalized_words(text)
    if len(words) < ngram:
        return [" ".join(words)]
    return list(map(" ".join, zip(*(words[i:] for i in range(ngram)), strict=False)))


class WordHasher:
    """Stable 64-bit word hashes, each distinct word hashed once (a bounded cache)."""

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}

    def hashes(self, words: list[str]) -> np.ndarray:
        """The hashes of ``words`` as a uint64 array."""
        cache = self._cache
        if len(cache) > _WORD_CACHE_MAX:
            cache.clear()
        out = []
        for word in words:
            value = cache.get(word)
            if value is None:
                value = cache[word] = int.from_bytes(
                    hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            out.append(value)
        return np.array(out, dtype=np.uint64)


def _mix(values: np.ndarray) -> np.ndarray:
    """A 64-bit finalizer (splitmix64) over a uint64 array."""
    with np.errstate(over="ignore"):
        values = values ^ (values >> np.uint64(30))
        values = values * np.uint64(0xBF58476D1CE4E5B9)
        values = values ^ (values >> np.uint64(27))
        values = values * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


def _string_lengths(values: pa.Array) -> np.ndarray:
    """Byte lengths of a (large_)string array's values, from its offsets."""
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], dtype=width)
    return np.diff(offsets[values.offset:values.offset + len(values) + 1])


def ngram_hashes(texts: pa.Array, ngram: int, hasher: WordHasher
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The n-gram hashes of each text: (flat uint64 hashes, row offsets of length n+1).

    An n-gram's hash is a sum of its words' hashes times one odd constant per position
    (mod 2**64): uniform, since word hashes are. A text with fewer than ``ngram`` words
    gives one hash of all its words; a text with no word at all gives one hash of its raw
    characters (it matches only itself).
    """
    n = len(texts)
    lowered = pc.replace_substring(pc.utf8_lower(texts), "ς", "σ")
    words = pc.split_pattern_regex(lowered, _WORD_BREAK)
    flat = words.flatten()
    nonempty = _string_lengths(flat) > 0
    parents = pc.list_parent_indices(words).to_numpy()[nonempty]
    flat = flat.filter(pa.array(nonempty))
    encoded = pc.dictionary_encode(flat)
    w = hasher.hashes(encoded.dictionary.to_pylist())[encoded.indices.to_numpy()]
    counts = np.bincount(parents, minlength=n)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])

    size = max(len(w) - ngram + 1, 0)
    with np.errstate(over="ignore"):
        grams = w[:size] * _MULTIPLIERS[0]
        for k in range(1, ngram):
            grams += w[k:k + size] * _MULTIPLIERS[k]
    # an n-gram starting in the last ngram-1 words of a text runs past its end
    tails = (starts[1:, None] - np.arange(1, ngram)[None, :]).ravel()
    tails = tails[(tails >= np.repeat(starts[:-1], ngram - 1)) & (tails < size)]
    valid = np.ones(size, dtype=bool)
    valid[tails] = False
    tokens = grams[valid]
    per_doc = np.maximum(counts - ngram + 1, 0)

    short = np.flatnonzero(counts < ngram)
    if len(short):
        extra = np.empty(len(short), dtype=np.uint64)
        for j, doc in enumerate(short.tolist()):
            doc_words = w[starts[doc]:starts[doc + 1]]
            if len(doc_words):
                with np.errstate(over="ignore"):
                    extra[j] = (doc_words * _MULTIPLIERS[:len(doc_words)]).sum()
            else:
                raw = texts[doc].as_py() or ""
                extra[j] = int.from_bytes(hashlib.blake2b(
                    raw.encode(), digest_size=8, person=b"licrawl-raw").digest(), "little")
        # each short text's one hash goes where its n-grams would be
        at = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(per_doc, out=at[1:])
        tokens = np.insert(tokens, at[short], extra)
        per_doc[short] = 1
    offsets = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(per_doc, out=offsets[1:])
    return tokens, offsets


def signatures(texts: pa.Array, params: DedupParams, hasher: WordHasher) -> np.ndarray:
    """MinHash signatures of ``texts`` (uint32, one row of ``num_perm`` per text)."""
    from rensa import RMinHash

    if len(texts) == 0:
        return np.empty((0, params.num_perm), dtype=np.uint32)
    tokens, offsets = ngram_hashes(texts, params.ngram, hasher)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(tokens, offsets, params.num_perm,
                                                           params.seed)
    return np.array(matrix.to_rows(), dtype=np.uint32)


def band_key(sigs: np.ndarray, params: DedupParams, band: int) -> np.ndarray:
    """One 64-bit key per text for ``band``: the band's signature rows combined (built
    column by column, so memory is a few arrays of one value per text)."""
    first = band * params.rows
    with np.errstate(over="ignore"):
        key = np.zeros(len(sigs), dtype=np.uint64)
        for k in range(params.rows):
            key *= np.uint64(0x100000001B3)
            key += _mix(sigs[:, first + k].astype(np.uint64) + np.uint64(k))
    return key


def _bucket_pairs(order: np.ndarray, sorted_keys: np.ndarray) -> Iterator[np.ndarray]:
    """Candidate pairs (as ``(m, 2)`` arrays) among texts with equal keys."""
    if len(order) < 2:
        return
    same = sorted_keys[1:] == sorted_keys[:-1]
    if not same.any():
        return
    # runs of equal keys: [start, end)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], same, [False]]).astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2] + 1
    sizes = ends - starts
    pairs = sizes == 2
    if pairs.any():
        yield np.stack([order[starts[pairs]], order[starts[pairs] + 1]], axis=1)
    for start, end in zip(starts[~pairs], ends[~pairs], strict=True):
        members = np.sort(order[start:end])
        if len(members) <= SMALL_BUCKET:
            i, j = np.triu_indices(len(members), k=1)
            yield np.stack([members[i], members[j]], axis=1)
        else:
            rest = members[1:]
            yield np.stack([np.full(len(rest), members[0]), rest], axis=1)
            yield np.stack([members[1:-1], members[2:]], axis=1)


def candidate_pairs(sigs: np.ndarray, params: DedupParams) -> np.ndarray:
    """Distinct candidate pairs ``(i, j)``, ``i < j``, of texts whose signatures share a
    band key (one band at a time)."""
    n = len(sigs)
    found: list[np.ndarray] = []
    for band in range(params.bands):
        column = band_key(sigs, params, band)
        order = np.argsort(column, kind="stable")
        found.extend(_bucket_pairs(order, column[order]))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(found).astype(np.int64)
    pairs.sort(axis=1)
    codes = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([codes // n, codes % n], axis=1)


def similarity(sigs: np.ndarray, left: np.ndarray, right: np.ndarray,
               chunk: int = 65536) -> np.ndarray:
    """Estimated Jaccard similarity of the texts ``left[k]`` and ``right[k]``."""
    out = np.empty(len(left), dtype=np.float32)
    for s in range(0, len(left), chunk):
        a, b = sigs[left[s:s + chunk]], sigs[right[s:s + chunk]]
        out[s:s + chunk] = (a == b).mean(axis=1)
    return out


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes joined by ``pairs`` (union-find): each node's
    label is the smallest node of its component, whatever the order of the pairs."""
    parent = list(range(n))  # parent[x] <= x always

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb
    labels = np.array(parent, dtype=np.int64)
    while True:  # every pointer goes to a smaller node: jump until each is a root
        jumped = labels[labels]
        if np.array_equal(jumped, labels):
            return labels
        labels = jumped
