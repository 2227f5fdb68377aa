"""Benchmark: which index should ``licrawl index`` / ``licrawl trace`` use (issue 9, item 4)?

Three indexes over the SAME generated corpus, queried with the SAME model outputs. Words are
normalised once, by the Arrow form of ``crawler.stages.dedup.minhash.normalized_words``
(lower case; every run of characters other than letters, digits and ``_`` is a break:
``pyarrow.compute.split_pattern_regex`` with ``minhash._WORD_BREAK``), for every index and
every query (the Python form differs on a few characters, e.g. Turkish dotted I and Greek
final sigma; the count of outputs where they differ is printed).

``sa``
    a suffix array over word ids (pydivsufsort), one per corpus shard: ``ids.npy`` (uint32
    word ids, a 0xFFFFFFFF separator after each document), ``sa.npy`` (int32 word positions:
    divsufsort over the ids as big-endian bytes, only word-aligned suffixes kept),
    ``doc_starts.npy``/``doc_ids.npy`` and ``vocab.npy`` (sorted 64-bit BLAKE2b hashes of
    the shard's distinct words; a word's id is the rank of its hash, so a query hashes its
    own distinct words and needs no string table). A query checks the 25-word window at
    every 25th position of the output (a span of 50 words always contains one); from the
    positions up to 24 words before each window found, a vectorised numpy binary search
    over the suffix array (64-word keys, refined within the range for longer matches) gives
    the longest prefix of the output from that position that occurs in the shard; the
    maximal spans of ``--min-words`` or more are kept by OLMoTrace's rule (a span is kept
    when it ends after every span kept before it) and their suffix-array range is mapped to
    documents (``searchsorted`` over ``doc_starts``).
``tantivy``
    tantivy (Rust positional full-text index), one index over all shards, built with
    ``--jobs`` writer threads: the document's normalised words joined by spaces, indexed with
    positions by a whitespace tokenizer and stored. A query runs a phrase query for each
    25-word window at a stride of 25, reads the top 10 matching documents' stored words and
    finds the maximal spans against them; each span's count and sources come from one more
    phrase query of the whole span (exact count, top 10).
``infinigram``
    infini-gram 2.6, one engine per shard, over the SAME uint32 word ids as ``sa``: this
    script writes its ``tokenized.0`` (each document = 0xFFFFFFFF + ids) and ``offset.0``
    itself, so no tokenizer is downloaded, then runs ``python -m infini_gram.indexing``
    (whose ``rust_indexing make-part`` sizes a bin table by the largest token value:
    2**32 x 8 bytes = 32 GiB for u32 tokens, refused here with 24 GiB of RAM and no swap);
    when that fails the same ``table.0`` (token-aligned suffixes in byte order as
    little-endian byte offsets of ceil(log2(size)/8) bytes) is built with pydivsufsort and
    the failure is recorded. Queried with ``InfiniGramEngine.attribute`` (OLMoTrace's
    maximal spans; prefetching off, as the index is in the page cache).

Near-verbatim passages (a few words changed, inserted or dropped) come from exact 8-word
seeds, chained per document: seeds on one diagonal (document offset minus output offset,
within +-10 words), at most 20 output words apart, the chain at least ``--min-words`` long
and its seeds covering at least 70% of it. ``sa`` looks up every 8-gram of the output in
each shard (seeds of at most 100 occurrences per shard); ``infinigram`` uses ``attribute``
with ``min_len=8, max_cnt=100``; ``tantivy`` finds candidate documents with one boolean
query per 50-word window (8-word phrases at a stride of 4, top 10 documents) and takes the
seeds from those documents' stored words.

Corpus (``--size-mb`` MiB of text in Parquet shards of ``--shard-mb``, under ``--root``,
never in the repository): the page texts of ``tests/pages/devset/*.html`` and
``crawler/demo/site/**/*.html``, extracted with trafilatura, cut into sentences; every 6th
page is held out (its sentences make the outputs' own text). A document is a log-normal
number of tokens (median ~400) made of runs of 1-5 consecutive sentences from random places
of the pool, a paragraph break after each run; 15% of its tokens are replaced (60% by a
random token of the pool, 30% by one of 1.5M synthetic words drawn Zipf-like, 10% by a
number), so documents are distinct and the vocabulary grows as in real text; 5% of the
documents end with one of five fixed footers (boilerplate shared by many documents).

Outputs (``--outputs``, ~500 words each, from the held-out sentences with the same
replacement): 50% with an exact copy of 50-200 words of a known document, 20% with a
lightly edited copy of 80-200 words (one word changed, inserted or dropped every 8-30
words), 10% with a footer, 20% with no copy. Truth, independent of the indexes: every
50-word window of every output is hashed (``minhash.ngram_hashes``) and looked up in the
hashes of all 50-word windows of the corpus (a full scan); every source an index reports is
checked against the document's own words.

Builds and queries run in child processes (build: peak RSS of the process tree, sampled;
query: the child's own VmHWM). Printed per index: build seconds and words/s, index bytes on
disk per corpus word, query latency p50/p95 over all outputs (verbatim only, then verbatim
+ near-verbatim; one process, outputs in turn, after opening the index), open time, peak
RSS of the query process (and how much of it is mapped index pages), accuracy and
near-verbatim recall; ``results.json`` in the work folder has everything.

    .venv/bin/python bench/bench_trace_index.py --size-mb 100 --shard-mb 128
    .venv/bin/python bench/bench_trace_index.py --size-mb 1024 --shard-mb 256 --jobs 2
    .venv/bin/python bench/bench_trace_index.py --size-mb 1024 --shard-mb 1024 \\
        --approaches sa,infinigram
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from proctree import tree_rss  # noqa: E402

from crawler.stages.dedup.minhash import (  # noqa: E402
    _WORD_BREAK,
    WordHasher,
    ngram_hashes,
    normalized_words,
)

APPROACHES = ("sa", "tantivy", "infinigram")
MIB = 1 << 20
SEP = 0xFFFFFFFF  # document separator in the word-id arrays (no word has this id)
UNKNOWN = 1 << 33  # a query word absent from a shard's vocabulary (never equals a corpus id)
LOW, HIGH = -1, 1 << 34  # padding past the end of a key: lower bound / upper bound
KEY = 64  # words compared per step of the suffix-array search before refining
SEED = 8  # near-verbatim seed length (words)
SEED_MAX_COUNT = 100  # seeds occurring more often are not used (boilerplate)
NEAR_GAP, NEAR_DRIFT, NEAR_COVER = 20, 10, 0.7
TANTIVY_WINDOW = 25  # a span of 2*25-1 words or more contains an aligned window
TANTIVY_CANDIDATES = 10  # documents read per window query


# --------------------------------------------------------------------------- corpus


def _page_sentences() -> tuple[list[str], list[str]]:
    """Sentences of the real test pages: (corpus pool, held-out pool)."""
    import trafilatura

    files = sorted(glob.glob(str(REPO / "tests/pages/devset/*.html")))
    files += sorted(glob.glob(str(REPO / "crawler/demo/site/**/*.html"), recursive=True))
    pool: list[str] = []
    held: list[str] = []
    for i, path in enumerate(files):
        html = Path(path).read_text(encoding="utf-8", errors="replace")
        text = trafilatura.extract(html) or ""
        sents = [s for para in text.split("\n")
                 for s in re.split(r"(?<=[.!?])\s+", para.strip()) if s.split()]
        (held if i % 6 == 0 else pool).extend(sents)
    seen = set(pool)
    return pool, [s for s in held if s not in seen]


class TextSource:
    """Real sentences as surface-token ids, plus synthetic words and numbers for the
    replaced tokens."""

    PARA = 0  # token id of a paragraph break

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        pool, held = _page_sentences()
        self.table: list[str] = ["\n\n"]
        index: dict[str, int] = {"\n\n": 0}

        def encode(sents: list[str]) -> tuple[np.ndarray, np.ndarray]:
            toks = [[index.setdefault(t, len(index)) for t in s.split()] for s in sents]
            offsets = np.zeros(len(toks) + 1, dtype=np.int64)
            np.cumsum([len(t) for t in toks], out=offsets[1:])
            return np.fromiter((t for s in toks for t in s), np.int64, offsets[-1]), offsets

        self.pool, self.pool_off = encode(pool)
        self.held, self.held_off = encode(held)
        self.table = list(index)
        alpha = [t.lower() for t in self.table if t.isalpha() and len(t) >= 4]
        syn: set[str] = set()
        a = rng.integers(0, len(alpha), 2_000_000)
        b = rng.integers(0, len(alpha), 2_000_000)
        for i, j in zip(a.tolist(), b.tolist(), strict=True):
            x, y = alpha[i], alpha[j]
            syn.add(x[: 2 + (i % (len(x) - 1))] + y[1 + (j % (len(y) - 2)):])
            if len(syn) >= 1_500_000:
                break
        self.syn_base = len(self.table)
        self.table.extend(sorted(syn - set(self.table)))
        self.num_base = len(self.table)
        self.table.extend(str(i) for i in range(1_000_000))
        self.strings = np.array(self.table, dtype=object)
        self.n_syn = self.num_base - self.syn_base
        # five footers: 4-8 consecutive pool sentences of 60+ tokens in all, kept exact
        self.footers: list[str] = []
        start = 0
        while len(self.footers) < 5:
            end = start + 4
            while self.pool_off[end] - self.pool_off[start] < 60 and end < start + 8:
                end += 1
            toks = self.pool[self.pool_off[start]:self.pool_off[end]]
            if len(toks) >= 60:
                self.footers.append(" ".join(self.strings[toks].tolist()))
            start = end + 97

    def replacements(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` replacement token ids: pool tokens, synthetic words (Zipf-like), numbers."""
        kind = rng.random(n)
        out = self.pool[rng.integers(0, len(self.pool), n)]
        syn = kind >= 0.6
        out[syn] = self.syn_base + (rng.zipf(1.15, int(syn.sum())) - 1) % self.n_syn
        num = kind >= 0.9
        out[num] = self.num_base + (rng.zipf(1.4, int(num.sum())) - 1) % 1_000_000
        return out

    def runs(self, n_tokens: np.ndarray, rng: np.random.Generator, held: bool = False
             ) -> tuple[np.ndarray, np.ndarray]:
        """Token ids of texts of about ``n_tokens[i]`` tokens each (runs of 1-5 sentences,
        a paragraph break after each, 15% of tokens replaced): (flat ids, offsets)."""
        toks, off = (self.held, self.held_off) if held else (self.pool, self.pool_off)
        n_sent = len(off) - 1
        need = int(n_tokens.sum())
        runs_a: list[np.ndarray] = []
        runs_b: list[np.ndarray] = []
        got = 0
        while got < need + 1000:
            k = max(1000, (need - got) // 30)
            s = rng.integers(0, n_sent - 5, k)
            r = rng.integers(1, 6, k)
            runs_a.append(off[s])
            runs_b.append(off[s + r])
            got += int((off[s + r] - off[s] + 1).sum())
        a = np.concatenate(runs_a)
        b = np.concatenate(runs_b)
        lens = b - a + 1
        cum = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(lens, out=cum[1:])
        # the runs of text i end at the first run boundary past its target
        ends = np.searchsorted(cum, np.cumsum(n_tokens), side="left")
        ends = np.minimum(ends, len(lens))
        total = int(cum[ends[-1]])
        idx = np.repeat(a[: ends[-1]] - cum[: ends[-1]], lens[: ends[-1]]) + np.arange(total)
        para = cum[1: ends[-1] + 1] - 1
        idx[para] = 0
        out = toks[np.minimum(idx, len(toks) - 1)]
        out[para] = self.PARA
        swap = (rng.random(total) < 0.15) & (out != self.PARA)
        out[swap] = self.replacements(int(swap.sum()), rng)
        offsets = np.concatenate([[0], cum[ends]])
        return out, offsets

    def join(self, ids: np.ndarray) -> str:
        """The text of token ids."""
        return " ".join(self.strings[ids].tolist())


def generate_corpus(work: Path, size_mb: int, shard_mb: int, seed: int, n_outputs: int
                    ) -> dict[str, Any]:
    """Write the corpus shards and a sample of documents to copy from; return the
    manifest."""
    src = TextSource(seed)
    rng = np.random.default_rng(seed + 1)
    corpus = work / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    schema = pa.schema([("id", pa.int64()), ("text", pa.string())])
    files: list[dict[str, Any]] = []
    sample: list[dict[str, Any]] = []
    doc_id = 0
    text_bytes = 0
    writer: pq.ParquetWriter | None = None
    shard_bytes = 0
    started = time.monotonic()
    while text_bytes < size_mb * MIB:
        n = 4096
        lengths = np.clip(np.exp(rng.normal(6.0, 0.9, n)), 30, 20000).astype(np.int64)
        ids, offsets = src.runs(lengths, rng)
        footer = rng.random(n) < 0.05
        which = rng.integers(0, len(src.footers), n)
        texts = []
        for i in range(n):
            text = src.join(ids[offsets[i]:offsets[i + 1]])
            if footer[i]:
                text += "\n\n" + src.footers[which[i]]
            texts.append(text)
        batch_bytes = sum(len(t.encode()) for t in texts)
        if writer is None or shard_bytes >= shard_mb * MIB:
            if writer is not None:
                writer.close()
            path = corpus / f"part-{len(files):05d}.parquet"
            writer = pq.ParquetWriter(path, schema, compression="zstd")
            files.append({"path": str(path), "first_id": doc_id, "docs": 0, "bytes": 0})
            shard_bytes = 0
        writer.write_table(pa.table({"id": np.arange(doc_id, doc_id + n), "text": texts},
                                    schema=schema), row_group_size=n)
        files[-1]["docs"] += n
        files[-1]["bytes"] += batch_bytes
        for i in rng.choice(n, 16, replace=False).tolist():
            if len(texts[i].split()) >= 300:
                sample.append({"id": doc_id + i, "text": texts[i]})
        doc_id += n
        shard_bytes += batch_bytes
        text_bytes += batch_bytes
    assert writer is not None
    writer.close()
    manifest = {"size_mb": size_mb, "shard_mb": shard_mb, "seed": seed, "docs": doc_id,
                "outputs": n_outputs,
                "text_bytes": text_bytes, "files": files, "footers": src.footers,
                "generate_s": round(time.monotonic() - started, 1)}
    outputs = make_outputs(src, sample, rng, manifest)
    (work / "outputs.json").write_text(json.dumps(outputs))
    (work / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def _word_counts(tokens: list[str]) -> np.ndarray:
    """Normalised words in each token (the Arrow rule the indexes use)."""
    if not tokens:
        return np.zeros(0, np.int64)
    return split_words(pa.array(tokens, pa.string()))[1].astype(np.int64)


def make_outputs(src: TextSource, sample: list[dict[str, Any]], rng: np.random.Generator,
                 manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Model outputs of ~500 words with known copies (see the module docstring)."""
    n_out = manifest["outputs"]
    kinds = (["exact"] * (n_out // 2) + ["edited"] * (n_out // 5) + ["boilerplate"]
             * (n_out // 10))
    kinds += ["none"] * (n_out - len(kinds))
    outputs = []

    def novel(n_words: int) -> list[str]:
        if n_words <= 0:
            return []
        ids, _ = src.runs(np.array([n_words + 40]), rng, held=True)
        toks = src.strings[ids].tolist()
        counts = np.cumsum(_word_counts(toks))
        return toks[: int(np.searchsorted(counts, n_words)) + 1]

    for k, kind in enumerate(kinds):
        copy: list[str] = []
        source = None
        if kind in ("exact", "edited"):
            doc = sample[int(rng.integers(0, len(sample)))]
            toks = doc["text"].split()
            counts = np.cumsum(_word_counts(toks))
            want = int(rng.integers(50, 201) if kind == "exact" else rng.integers(80, 201))
            start = int(rng.integers(0, max(1, len(toks) - want * 2)))
            base = counts[start - 1] if start else 0
            end = int(np.searchsorted(counts, base + want)) + 1
            copy = toks[start:end]
            source = doc["id"]
            if kind == "edited":
                edited: list[str] = []
                i = 0
                for j in np.cumsum(rng.integers(8, 31, len(copy))).tolist():
                    if j >= len(copy):
                        break
                    edited.extend(copy[i:j])
                    op = int(rng.integers(0, 3))
                    filler = novel(1)[:1] or ["word"]
                    if op == 0:  # change
                        edited.extend(filler)
                        i = j + 1
                    elif op == 1:  # insert
                        edited.extend(filler)
                        i = j
                    else:  # drop
                        i = j + 1
                edited.extend(copy[i:])
                copy = edited
        elif kind == "boilerplate":
            copy = manifest["footers"][k % len(manifest["footers"])].split()
        copy_words = int(_word_counts(copy).sum())
        before = int(rng.integers(0, max(1, 500 - copy_words)))
        prefix = novel(before)
        suffix = novel(500 - copy_words - int(_word_counts(prefix).sum()))
        start_w = int(_word_counts(prefix).sum())
        text = " ".join(prefix + copy + suffix)
        outputs.append({"n": k, "kind": kind, "text": text, "source": source,
                        "start": start_w if copy else None,
                        "end": start_w + copy_words if copy else None})
    return outputs


def corpus_batches(path: str, batch_size: int = 8192) -> Iterator[pa.RecordBatch]:
    """Record batches (id, text) of one corpus shard."""
    yield from pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=["id", "text"])


def split_words(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Normalised words of ``texts`` (Arrow form of ``minhash.normalized_words``): the
    flat non-empty words and the number of words of each text."""
    words = pc.split_pattern_regex(pc.utf8_lower(texts), _WORD_BREAK)
    flat = words.flatten()
    lengths = pc.binary_length(flat).to_numpy(zero_copy_only=False)
    keep = lengths > 0
    parents = pc.list_parent_indices(words).to_numpy()[keep]
    return flat.filter(pa.array(keep)), np.bincount(parents, minlength=len(texts))


def text_words(text: str) -> list[str]:
    """Normalised words of one text, exactly as the indexes see them."""
    flat, _ = split_words(pa.array([text]))
    return flat.to_pylist()


# --------------------------------------------------------------------------- truth


def brute_force_truth(work: Path, manifest: dict[str, Any], outputs: list[dict[str, Any]],
                      min_words: int) -> dict[str, Any]:
    """For each output: the 50-word windows that occur in the corpus, with up to 50
    documents each (a full scan of 64-bit window hashes)."""
    hasher = WordHasher()
    texts = pa.array([o["text"] for o in outputs])
    qh, qoff = ngram_hashes(texts, min_words, hasher)
    wanted = np.unique(qh)
    hits: dict[int, list[int]] = defaultdict(list)
    started = time.monotonic()
    for f in manifest["files"]:
        for batch in corpus_batches(f["path"]):
            h, off = ngram_hashes(batch.column("text"), min_words, hasher)
            found = np.flatnonzero(np.isin(h, wanted))
            if not len(found):
                continue
            rows = np.searchsorted(off, found, side="right") - 1
            ids = batch.column("id").to_numpy()[rows]
            for value, doc in zip(h[found].tolist(), ids.tolist(), strict=True):
                if len(hits[value]) < 50 and doc not in hits[value]:
                    hits[value].append(doc)
    windows = []
    for i in range(len(outputs)):
        own = qh[int(qoff[i]):int(qoff[i + 1])].tolist()
        windows.append({str(p): hits[v] for p, v in enumerate(own) if v in hits})
    return {"windows": windows, "scan_s": round(time.monotonic() - started, 1)}


# --------------------------------------------------------------------------- near-verbatim


def near_passages(hits: dict[int, list[tuple[int, int, int]]], min_words: int
                  ) -> list[tuple[int, int, int]]:
    """Near-verbatim passages ``(start, end, doc)`` in output words from exact seeds
    ``(output_pos, doc_pos, length)`` per document (the chain rule of the docstring)."""
    found = []
    for doc, seeds in hits.items():
        chains: list[dict[str, Any]] = []
        for p, q, ln in sorted(seeds):
            diag = q - p
            for ch in chains:
                if p <= ch["end"] + NEAR_GAP and abs(diag - ch["diag"]) <= NEAR_DRIFT:
                    ch["cover"].append((p, p + ln))
                    ch["end"] = max(ch["end"], p + ln)
                    ch["diag"] = diag
                    break
            else:
                chains.append({"start": p, "end": p + ln, "diag": diag, "cover": [(p, p + ln)]})
        for ch in chains:
            span = ch["end"] - ch["start"]
            if span < min_words:
                continue
            covered, last = 0, ch["start"]
            for a, b in sorted(ch["cover"]):
                a = max(a, last)
                if b > a:
                    covered += b - a
                    last = b
            if covered >= NEAR_COVER * span:
                found.append((ch["start"], ch["end"], doc))
    return found


def drop_explained(near: list[tuple[int, int, int]], spans: list[dict[str, Any]]
                   ) -> list[tuple[int, int, int]]:
    """Near passages not already >= 80% inside verbatim spans."""
    if not spans:
        return near
    covered = np.zeros(max([e for _, e, _ in near] + [s["end"] for s in spans]) + 1, bool)
    for s in spans:
        covered[s["start"]:s["end"]] = True
    return [(a, b, d) for a, b, d in near if covered[a:b].mean() < 0.8]


def maximal_spans(lengths: np.ndarray, min_words: int) -> list[tuple[int, int]]:
    """OLMoTrace's rule: for each position the longest match; keep a span of at least
    ``min_words`` when it ends after every span kept before it."""
    out, last = [], 0
    for p in np.flatnonzero(lengths >= min_words).tolist():
        end = p + int(lengths[p])
        if end > last:
            out.append((p, end))
            last = end
    return out


# --------------------------------------------------------------------------- (a) suffix array


class HashVocab:
    """A shard's vocabulary as the sorted 64-bit hashes of its words (``vocab.npy``); a
    word's id is the rank of its hash, so a query needs no word strings: it hashes its own
    distinct words (BLAKE2b, as ``minhash.WordHasher``) and binary-searches them."""

    def __init__(self, path: Path) -> None:
        self.hashes = np.load(path, mmap_mode="r")

    def lookup(self, hashes: np.ndarray, unknown: int) -> np.ndarray:
        """The ids of words by hash (``unknown`` for a word the shard does not have)."""
        at = np.searchsorted(self.hashes, hashes)
        ok = at < len(self.hashes)
        ok[ok] = self.hashes[at[ok]] == hashes[ok]
        return np.where(ok, at, unknown).astype(np.int64)


class Query:
    """A model output's normalised words: their distinct hashes and the index of each."""

    hasher = WordHasher()

    def __init__(self, text: str) -> None:
        flat, _ = split_words(pa.array([text]))
        encoded = pc.dictionary_encode(flat)
        self.hashes = self.hasher.hashes(encoded.dictionary.to_pylist())
        self.index = encoded.indices.to_numpy()

    def __len__(self) -> int:
        return len(self.index)

    def ids(self, vocab: HashVocab, unknown: int) -> np.ndarray:
        """The word ids of the output in one shard."""
        return vocab.lookup(self.hashes, unknown)[self.index]


def tokenize_shard(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Word ids of one corpus shard with a separator after each document:
    (ids uint32, doc_starts, doc_ids, sorted vocabulary hashes)."""
    hasher = WordHasher()
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    counts: list[np.ndarray] = []
    doc_ids: list[np.ndarray] = []
    for batch in corpus_batches(path):
        flat, per_doc = split_words(batch.column("text"))
        encoded = pc.dictionary_encode(flat)
        parts.append((hasher.hashes(encoded.dictionary.to_pylist()),
                      encoded.indices.to_numpy()))
        counts.append(per_doc)
        doc_ids.append(batch.column("id").to_numpy())
    vocab = np.unique(np.concatenate([h for h, _ in parts])) if parts else \
        np.empty(0, np.uint64)
    per_doc = np.concatenate(counts)
    n_words = int(per_doc.sum())
    ids = np.empty(n_words + len(per_doc), dtype=np.uint32)
    seps = np.cumsum(per_doc + 1) - 1
    is_word = np.ones(len(ids), dtype=bool)
    is_word[seps] = False
    ids[is_word] = np.concatenate(
        [np.searchsorted(vocab, h).astype(np.uint32)[i] for h, i in parts])
    ids[seps] = SEP
    doc_starts = np.concatenate([[0], seps[:-1] + 1]).astype(np.int64)
    return ids, doc_starts, np.concatenate(doc_ids), vocab


def build_sa_shard(args: tuple[str, str]) -> dict[str, Any]:
    """Build one suffix-array index shard (in a worker process)."""
    from pydivsufsort import divsufsort

    src, out = args
    t0 = time.monotonic()
    ids, doc_starts, doc_ids, words = tokenize_shard(src)
    t1 = time.monotonic()
    sa_bytes = divsufsort(ids.astype(">u4").view(np.uint8))
    sa = sa_bytes[(sa_bytes & 3) == 0] >> 2
    del sa_bytes
    sa = sa[ids[sa] != SEP]
    if len(ids) < 2**31:
        sa = sa.astype(np.int32, copy=False)
    t2 = time.monotonic()
    Path(out).mkdir(parents=True)
    np.save(Path(out) / "ids.npy", ids)
    np.save(Path(out) / "sa.npy", sa)
    np.save(Path(out) / "doc_starts.npy", doc_starts)
    np.save(Path(out) / "doc_ids.npy", doc_ids)
    np.save(Path(out) / "vocab.npy", words)
    return {"words": int(len(ids) - len(doc_ids)), "vocab": len(words),
            "tokenize_s": round(t1 - t0, 2), "sort_s": round(t2 - t1, 2),
            "write_s": round(time.monotonic() - t2, 2)}


class SAShard:
    """One suffix-array shard, memory-mapped."""

    def __init__(self, path: Path) -> None:
        self.ids = np.load(path / "ids.npy", mmap_mode="r")
        self.sa = np.load(path / "sa.npy", mmap_mode="r")
        self.doc_starts = np.load(path / "doc_starts.npy")
        self.doc_ids = np.load(path / "doc_ids.npy")
        self.vocab = HashVocab(path / "vocab.npy")
        self.n = len(self.sa)
        self.last = len(self.ids) - 1

    def windows(self, ranks: np.ndarray, width: int) -> np.ndarray:
        """The first ``width`` word ids (int64) of the suffixes at ``ranks``."""
        pos = self.sa[np.clip(ranks, 0, self.n - 1)].astype(np.int64)
        return self.ids[np.minimum(pos[:, None] + np.arange(width), self.last)].astype(np.int64)

    def search(self, keys: np.ndarray, lo: np.ndarray | None = None,
               hi: np.ndarray | None = None) -> np.ndarray:
        """Lower bound of each key row (int64, padded with LOW or HIGH) in the suffix
        array: the first rank whose suffix is not smaller than the key."""
        rows = len(keys)
        lo = np.zeros(rows, np.int64) if lo is None else lo.copy()
        hi = np.full(rows, self.n, np.int64) if hi is None else hi.copy()
        while True:
            act = np.flatnonzero(lo < hi)
            if not len(act):
                return lo
            mid = (lo[act] + hi[act]) >> 1
            cand = self.windows(mid, keys.shape[1])
            key = keys[act]
            diff = cand != key
            first = diff.argmax(axis=1)
            r = np.arange(len(act))
            less = diff[r, first] & (cand[r, first] < key[r, first])
            lo[act[less]] = mid[less] + 1
            hi[act[~less]] = mid[~less]

    def lcp(self, ranks: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Words in common between the suffixes at ``ranks`` and the key rows."""
        diff = self.windows(ranks, keys.shape[1]) != keys
        length = np.where(diff.any(axis=1), diff.argmax(axis=1), keys.shape[1])
        return np.where((ranks >= 0) & (ranks < self.n), length, 0)

    def longest(self, q: np.ndarray, min_words: int) -> np.ndarray:
        """For each position of the query that can start a span of ``min_words`` or more:
        its longest prefix that occurs in the shard (0 elsewhere). Only positions up to
        ``w - 1`` words before a checkpoint (every ``w = min_words // 2`` words) whose
        ``w``-word window occurs are searched: a span of ``2w - 1`` words or more always
        contains such a window."""
        m = len(q)
        out = np.zeros(m, np.int64)
        if m < min_words:
            return out
        w = max(1, min_words // 2)
        checks = np.arange(0, m - w + 1, w)
        ckeys = q[checks[:, None] + np.arange(w)]
        hit = checks[self.lcp(self.search(ckeys), ckeys) >= w]
        if not len(hit):
            return out
        starts = np.unique((hit[:, None] - np.arange(w)).ravel())
        starts = starts[(starts >= 0) & (starts <= m - min_words)]
        qpad = np.concatenate([q, np.full(KEY, LOW)])
        keys = qpad[starts[:, None] + np.arange(KEY)]
        lb = self.search(keys)
        best = np.maximum(self.lcp(lb - 1, keys), self.lcp(lb, keys))
        out[starts] = best
        deep = np.flatnonzero((best >= KEY) & (m - starts > KEY))
        if len(deep):
            s = starts[deep]
            hkeys = keys[deep].copy()
            ub = self.search(np.concatenate([hkeys, np.full((len(s), 1), HIGH)], axis=1))
            width = int((m - s).max())
            full = np.concatenate([q, np.full(width, LOW)])[s[:, None] + np.arange(width)]
            lb2 = self.search(full, lo=lb[deep], hi=ub)
            out[s] = np.maximum(self.lcp(lb2 - 1, full), self.lcp(lb2, full))
        return out

    def range_of(self, q: np.ndarray, start: int, end: int) -> tuple[int, int]:
        """The suffix-array range of the words ``q[start:end]``."""
        key = q[start:end][None, :]
        lb = self.search(np.concatenate([key, [[LOW]]], axis=1))
        ub = self.search(np.concatenate([key, [[HIGH]]], axis=1))
        return int(lb[0]), int(ub[0])

    def docs(self, lb: int, ub: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """(doc ids, word offsets in the doc) of the occurrences in ranks [lb, ub)."""
        pos = np.asarray(self.sa[lb:min(ub, lb + limit)]).astype(np.int64)
        row = np.searchsorted(self.doc_starts, pos, side="right") - 1
        return self.doc_ids[row], pos - self.doc_starts[row]

    def seeds(self, q: np.ndarray) -> dict[int, list[tuple[int, int, int]]]:
        """Exact 8-word seeds of the query in this shard, per document."""
        m = len(q)
        hits: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        if m < SEED:
            return hits
        starts = np.arange(m - SEED + 1)
        keys = q[starts[:, None] + np.arange(SEED)]
        ok = (keys < SEP).all(axis=1)
        starts, keys = starts[ok], keys[ok]
        lb = self.search(keys)
        ub = self.search(np.concatenate([keys, np.full((len(keys), 1), HIGH)], axis=1))
        use = np.flatnonzero((ub > lb) & (ub - lb <= SEED_MAX_COUNT))
        for i in use.tolist():
            docs, offs = self.docs(int(lb[i]), int(ub[i]), SEED_MAX_COUNT)
            p = int(starts[i])
            for d, o in zip(docs.tolist(), offs.tolist(), strict=True):
                hits[d].append((p, o, SEED))
        return hits


class SAIndex:
    """The suffix-array index: a folder of shards."""

    def __init__(self, path: Path) -> None:
        self.shards = [SAShard(p) for p in sorted(path.glob("shard-*"))]
        Query("warm up")  # the first Arrow-to-Python conversion imports pandas

    def trace(self, text: str, min_words: int, max_sources: int, near: bool
              ) -> dict[str, Any]:
        query = Query(text)
        qs = [query.ids(s.vocab, UNKNOWN) for s in self.shards]
        lens = [s.longest(q, min_words) for s, q in zip(self.shards, qs, strict=True)]
        best = np.max(lens, axis=0) if lens else np.zeros(len(query), np.int64)
        spans = []
        for a, b in maximal_spans(best, min_words):
            count, docs = 0, []
            for s, q, ln in zip(self.shards, qs, lens, strict=True):
                if ln[a] >= b - a:
                    lb, ub = s.range_of(q, a, b)
                    count += ub - lb
                    if len(docs) < max_sources:
                        d, _ = s.docs(lb, ub, max_sources - len(docs))
                        docs.extend(d.tolist())
            spans.append({"start": a, "end": b, "count": count,
                          "docs": list(dict.fromkeys(docs))})
        result: dict[str, Any] = {"words": len(query), "spans": spans}
        if near:
            hits: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
            for s, q in zip(self.shards, qs, strict=True):
                for d, h in s.seeds(q).items():
                    hits[d].extend(h)
            result["near"] = drop_explained(near_passages(hits, min_words), spans)
        return result


# --------------------------------------------------------------------------- (c) infini-gram


def build_infinigram_shard(args: tuple[str, str]) -> dict[str, Any]:
    """Write infini-gram's tokenized/offset files from our word ids and run its
    ``rust_indexing`` suffix-array build (``infini_gram.indexing``; no tokenizer)."""
    src, out = args
    t0 = time.monotonic()
    ids, doc_starts, doc_ids, words = tokenize_shard(src)
    t1 = time.monotonic()
    outp = Path(out)
    outp.mkdir(parents=True)
    # infini-gram layout: each document is 0xFFFFFFFF followed by its tokens
    body = ids[ids != SEP] if len(ids) else ids
    per_doc = np.diff(np.concatenate([doc_starts, [len(ids)]])) - 1
    tok = np.empty(len(body) + len(per_doc), dtype="<u4")
    heads = np.concatenate([[0], np.cumsum(per_doc + 1)[:-1]])
    mask = np.ones(len(tok), bool)
    mask[heads] = False
    tok[mask] = body
    tok[heads] = SEP
    tok.tofile(outp / "tokenized.0")
    (heads.astype(np.uint64) * 4).tofile(outp / "offset.0")
    np.save(outp / "docids.npy", doc_ids)
    np.save(outp / "vocab.npy", words)
    fallback = None
    if os.environ.get("BENCH_INFINI_RUST", "1") == "1":
        empty = outp.parent / (outp.name + ".data")
        empty.mkdir(exist_ok=True)
        cmd = [sys.executable, "-m", "infini_gram.indexing", "--data_dir", str(empty),
               "--save_dir", str(outp), "--token_dtype", "u32", "--cpus", "1",
               "--mem", "8", "--ulimit", "4096"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        empty.rmdir()
        if res.returncode != 0 or not (outp / "table.0").exists():
            lines = [ln for ln in (res.stdout + res.stderr).splitlines()
                     if "failed" in ln or "rror" in ln]
            fallback = "; ".join(dict.fromkeys(lines)) or f"exit {res.returncode}"
    else:
        fallback = "BENCH_INFINI_RUST=0"
    if fallback is not None:
        # the same table rust_indexing makes: token-aligned suffixes of tokenized.0 in
        # byte order, as little-endian byte offsets of ceil(log2(size)/8) bytes
        from pydivsufsort import divsufsort

        for leftover in outp.glob("parts-*"):
            shutil.rmtree(leftover)
        for leftover in outp.glob("merged-*"):
            shutil.rmtree(leftover)
        sa_bytes = divsufsort(tok.view(np.uint8))
        sa = sa_bytes[(sa_bytes & 3) == 0].astype("<u8")
        del sa_bytes
        ratio = int(np.ceil(np.log2(max(len(tok) * 4, 2)) / 8))
        sa.view(np.uint8).reshape(-1, 8)[:, :ratio].tofile(outp / "table.0")
    return {"words": int(len(body)), "vocab": len(words), "tokenize_s": round(t1 - t0, 2),
            "sort_s": round(time.monotonic() - t1, 2), "rust_indexing_failed": fallback}


class InfiniIndex:
    """infini-gram engines, one per shard (each shard has its own vocabulary)."""

    def __init__(self, path: Path) -> None:
        from infini_gram.engine import InfiniGramEngine

        self.shards = []
        for p in sorted(path.glob("shard-*")):
            # prefetching (madvise) is for indexes on disk; here it only costs syscalls
            engine = InfiniGramEngine(index_dir=str(p), eos_token_id=SEP - 1,
                                      vocab_size=SEP, version=4, token_dtype="u32",
                                      ds_prefetch_depth=0, sa_prefetch_depth=0,
                                      od_prefetch_depth=0)
            offs = np.fromfile(p / "offset.0", dtype=np.uint64).astype(np.int64)
            self.shards.append((engine, HashVocab(p / "vocab.npy"), offs,
                                np.load(p / "docids.npy")))
        Query("warm up")

    def trace(self, text: str, min_words: int, max_sources: int, near: bool
              ) -> dict[str, Any]:
        query = Query(text)
        best = np.zeros(len(query), np.int64)
        found: list[tuple[int, int, int, list[int]]] = []
        seeds: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for engine, vocab, offs, doc_ids in self.shards:
            q = query.ids(vocab, SEP - 2).tolist()
            res = engine.attribute(input_ids=q, delim_ids=[], min_len=min_words,
                                   max_cnt=10**9, enforce_bow=False)
            for sp in res["spans"]:
                ptrs = np.array([d["ptr"] for d in sp["docs"][:max_sources]], np.int64)
                rows = np.searchsorted(offs, ptrs, side="right") - 1
                found.append((sp["l"], sp["r"], sp["count"], doc_ids[rows].tolist()))
                best[sp["l"]] = max(best[sp["l"]], sp["r"] - sp["l"])
            if near:
                res = engine.attribute(input_ids=q, delim_ids=[], min_len=SEED,
                                       max_cnt=SEED_MAX_COUNT, enforce_bow=False)
                for sp in res["spans"]:
                    ptrs = np.array([d["ptr"] for d in sp["docs"]], np.int64)
                    rows = np.searchsorted(offs, ptrs, side="right") - 1
                    at = (ptrs - offs[rows]) // 4 - 1
                    for d, o in zip(doc_ids[rows].tolist(), at.tolist(), strict=True):
                        seeds[d].append((sp["l"], o, sp["r"] - sp["l"]))
        spans = []
        for a, b in maximal_spans(best, min_words):
            count, docs = 0, []
            for l_, r_, c, d in found:
                if l_ == a and r_ == b:
                    count += c
                    docs.extend(d)
            spans.append({"start": a, "end": b, "count": count,
                          "docs": list(dict.fromkeys(docs))[:max_sources]})
        result: dict[str, Any] = {"words": len(query), "spans": spans}
        if near:
            result["near"] = drop_explained(near_passages(seeds, min_words), spans)
        return result


# --------------------------------------------------------------------------- (b) tantivy


def _tantivy_analyzer() -> Any:
    """Whitespace tokenizer: tantivy indexes the words already normalised by Arrow."""
    import tantivy

    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def normalized_texts(texts: pa.Array) -> list[str]:
    """Each text as its normalised words joined by spaces."""
    words = pc.split_pattern_regex(pc.utf8_lower(texts), _WORD_BREAK)
    return pc.binary_join(words, " ").to_pylist()


def build_tantivy(files: list[str], out: Path, jobs: int) -> dict[str, Any]:
    """One tantivy index over all corpus shards (``jobs`` indexing threads)."""
    import tantivy

    out.mkdir(parents=True)
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("doc", stored=True, fast=True)
    sb.add_text_field("text", stored=True, tokenizer_name="words", index_option="position")
    schema = sb.build()
    index = tantivy.Index(schema, path=str(out))
    index.register_tokenizer("words", _tantivy_analyzer())
    writer = index.writer(heap_size=min(jobs, 8) * 500_000_000, num_threads=jobs)
    docs = 0
    for path in files:
        for batch in corpus_batches(path):
            for i, t in zip(batch.column("id").to_pylist(),
                            normalized_texts(batch.column("text")), strict=True):
                writer.add_document(tantivy.Document(doc=i, text=t))
                docs += 1
        writer.commit()
    writer.wait_merging_threads()
    return {"docs": docs}


class TantivyIndex:
    """The tantivy index, queried with phrase queries."""

    def __init__(self, path: Path) -> None:
        import tantivy

        self.t = tantivy
        self.index = tantivy.Index.open(str(path))
        self.analyzer = _tantivy_analyzer()
        self.index.register_tokenizer("words", self.analyzer)
        self.searcher = self.index.searcher()
        self.schema = self.index.schema

    def phrase(self, words: list[str]) -> Any:
        return self.t.Query.phrase_query(self.schema, "text", words)

    def trace(self, text: str, min_words: int, max_sources: int, near: bool
              ) -> dict[str, Any]:
        words = text_words(text)
        m = len(words)
        cache: dict[int, tuple[int, list[str]]] = {}

        def fetch(addrs: list[Any]) -> None:
            for addr in addrs:
                key = (addr.segment_ord, addr.doc)
                if key not in cache:
                    doc = self.searcher.doc(addr)
                    cache[key] = (doc["doc"][0], doc["text"][0].split())

        w = TANTIVY_WINDOW
        if m >= min_words:
            starts = list(range(0, m - w + 1, w))
            for p in starts:
                res = self.searcher.search(self.phrase(words[p:p + w]), TANTIVY_CANDIDATES,
                                           count=False)
                fetch([addr for _, addr in res.hits])
        best = np.zeros(m, np.int64)
        grams = {p: tuple(words[p:p + SEED]) for p in range(max(0, m - SEED + 1))}
        seeds: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for doc_id, dwords in cache.values():
            index: dict[tuple[str, ...], list[int]] = defaultdict(list)
            for i in range(len(dwords) - SEED + 1):
                index[tuple(dwords[i:i + SEED])].append(i)
            for p, g in grams.items():
                for i in index.get(g, ()):
                    ln = SEED
                    while p + ln < m and i + ln < len(dwords) and words[p + ln] == dwords[i + ln]:
                        ln += 1
                    best[p] = max(best[p], ln)
                    seeds[doc_id].append((p, i, SEED))
        spans = []
        for a, b in maximal_spans(best, min_words):
            res = self.searcher.search(self.phrase(words[a:b]), max_sources, count=True)
            docs = [self.searcher.doc(addr)["doc"][0] for _, addr in res.hits]
            spans.append({"start": a, "end": b, "count": res.count, "docs": docs})
        result: dict[str, Any] = {"words": m, "spans": spans}
        if near:
            before = set(cache)
            occur = self.t.Occur.Should
            for p in range(0, max(1, m - min_words + 1), min_words // 2):
                parts = [(occur, self.phrase(words[i:i + SEED]))
                         for i in range(p, min(p + min_words, m) - SEED + 1, 4)]
                if not parts:
                    continue
                res = self.searcher.search(self.t.Query.boolean_query(parts),
                                           TANTIVY_CANDIDATES, count=False)
                fetch([addr for _, addr in res.hits])
            for key in set(cache) - before:
                doc_id, dwords = cache[key]
                index = defaultdict(list)
                for i in range(len(dwords) - SEED + 1):
                    index[tuple(dwords[i:i + SEED])].append(i)
                for p, g in grams.items():
                    for i in index.get(g, ()):
                        seeds[doc_id].append((p, i, SEED))
            result["near"] = drop_explained(near_passages(seeds, min_words), spans)
        return result


# --------------------------------------------------------------------------- build / query


def run_child(args: list[str], result: Path) -> tuple[dict[str, Any], float, int]:
    """Run this script's ``_child`` mode, which writes its JSON result to ``result``;
    the result, wall seconds and the peak RSS of the child's process tree (sampled every
    0.5 s)."""
    started = time.monotonic()
    result.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, __file__, "_child", str(result), *args])
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.5)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed ({proc.returncode})")
    return json.loads(result.read_text()), time.monotonic() - started, peak


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def child_build(approach: str, work: Path, jobs: int) -> dict[str, Any]:
    from concurrent.futures import ProcessPoolExecutor

    manifest = json.loads((work / "manifest.json").read_text())
    files = [f["path"] for f in manifest["files"]]
    out = work / f"index-{approach}"
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    if approach == "tantivy":
        info: dict[str, Any] = build_tantivy(files, out, jobs)
    else:
        fn = build_sa_shard if approach == "sa" else build_infinigram_shard
        out.mkdir(parents=True)
        tasks = [(f, str(out / f"shard-{i:05d}")) for i, f in enumerate(files)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(fn, tasks))
        info = {"shards": parts}
    info["build_s"] = time.monotonic() - started
    return info


def child_query(approach: str, work: Path, min_words: int, max_sources: int) -> dict[str, Any]:
    outputs = json.loads((work / "outputs.json").read_text())
    started = time.monotonic()
    cls = {"sa": SAIndex, "tantivy": TantivyIndex, "infinigram": InfiniIndex}[approach]
    index = cls(work / f"index-{approach}")
    opened = time.monotonic() - started
    timings: dict[str, list[float]] = {"verbatim": [], "near": []}
    for mode in ("verbatim", "near"):
        for o in outputs:
            t = time.perf_counter()
            index.trace(o["text"], min_words, max_sources, near=(mode == "near"))
            timings[mode].append((time.perf_counter() - t) * 1000)
    results = [index.trace(o["text"], min_words, 1000, near=True) for o in outputs]
    status = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "RssAnon", "RssFile"):
                status[key] = int(value.split()[0]) * 1024
    return {"open_s": opened, "timings": timings, "results": results, "status": status}


# --------------------------------------------------------------------------- evaluation


class DocWords:
    """Normalised words of corpus documents by id (for checking reported sources)."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.files = manifest["files"]
        self.cache: dict[int, list[str]] = {}

    def load(self, ids: set[int]) -> None:
        need = sorted(i for i in ids if i not in self.cache)
        for f in self.files:
            rows = [i - f["first_id"] for i in need if 0 <= i - f["first_id"] < f["docs"]]
            if not rows:
                continue
            table = pq.read_table(f["path"], columns=["text"]).take(pa.array(rows))
            for r, t in zip(rows, table.column("text").to_pylist(), strict=True):
                self.cache[r + f["first_id"]] = text_words(t)

    def contains(self, doc: int, words: list[str]) -> bool:
        d = self.cache[doc]
        first, n = words[0], len(words)
        return any(d[i:i + n] == words for i, w in enumerate(d) if w == first)


def evaluate(outputs: list[dict[str, Any]], results: list[dict[str, Any]],
             truth: dict[str, Any], docs: DocWords, min_words: int) -> dict[str, Any]:
    """Accuracy of one approach's results against the planted copies and the truth."""
    need: set[int] = set()
    for r in results:
        for s in r["spans"]:
            need.update(s["docs"][:10])
    docs.load(need)
    ev: dict[str, Any] = defaultdict(int)
    for o, r, win in zip(outputs, results, truth["windows"], strict=True):
        words = text_words(o["text"])
        spans = r["spans"]
        for s in spans:
            ev["spans"] += 1
            for d in s["docs"][:10]:
                ev["sources_checked"] += 1
                if not docs.contains(d, words[s["start"]:s["end"]]):
                    ev["false_sources"] += 1
            if not all(str(p) in win for p in range(s["start"], s["end"] - min_words + 1)):
                ev["false_spans"] += 1
        for p in map(int, win):
            ev["truth_windows"] += 1
            if any(s["start"] <= p and p + min_words <= s["end"] for s in spans):
                ev["truth_windows_covered"] += 1
        kind = o["kind"]
        if kind == "exact":
            ev["exact"] += 1
            cover = [s for s in spans if s["start"] <= o["start"] and s["end"] >= o["end"]]
            ev["exact_span_found"] += bool(cover)
            ev["exact_source_found"] += any(o["source"] in s["docs"] for s in cover)
        elif kind == "boilerplate":
            ev["boilerplate"] += 1
            cover = [s for s in spans if s["start"] <= o["start"] and s["end"] >= o["end"]]
            ev["boilerplate_found"] += bool(cover)
            # the footer is in ~1% of documents; the maximal span can be longer and rarer
            # (a word before it that one document also has), which hides the footer's count
            ev["boilerplate_many_sources"] += any(s["count"] > 1 for s in cover)
        elif kind == "none":
            ev["none"] += 1
            ev["none_with_source"] += bool(spans)
            ev["none_with_source_truth"] += bool(win)
        # near-verbatim: a planted copy (exact or edited) found near or verbatim with its doc
        planted = (o["start"], o["end"], o["source"]) if kind in ("exact", "edited") else None
        if kind == "edited":
            ev["edited"] += 1
            a, b, d = planted
            hit = any(nd == d and min(ne, b) - max(ns, a) >= 0.5 * (b - a)
                      for ns, ne, nd in r["near"])
            hit = hit or any(d in s["docs"] and min(s["end"], b) - max(s["start"], a)
                             >= 0.5 * (b - a) for s in spans)
            ev["edited_found"] += hit
        for ns, ne, nd in r["near"]:
            ev["near"] += 1
            ok = planted is not None and nd == planted[2] and \
                min(ne, planted[1]) - max(ns, planted[0]) >= 0.5 * (ne - ns)
            ev["near_correct"] += ok
            ev["near_on_none"] += kind == "none"
            ev["near_other"] += not ok and kind != "none"
    return dict(ev)


# --------------------------------------------------------------------------- main


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default="/tmp/trace-bench")
    ap.add_argument("--size-mb", type=int, default=100, help="MiB of corpus text")
    ap.add_argument("--shard-mb", type=int, default=128, help="MiB of text per shard")
    ap.add_argument("--outputs", type=int, default=200)
    ap.add_argument("--approaches", default=",".join(APPROACHES))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min-words", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rebuild", action="store_true", help="rebuild existing indexes")
    args = ap.parse_args()
    work = Path(args.root) / f"{args.size_mb}mb-{args.shard_mb}"
    work.mkdir(parents=True, exist_ok=True)
    mpath = work / "manifest.json"
    if mpath.exists() and json.loads(mpath.read_text()).get("outputs") == args.outputs:
        manifest = json.loads(mpath.read_text())
    else:
        print(f"generating {args.size_mb} MiB corpus in {work} ...", flush=True)
        generate_corpus(work, args.size_mb, args.shard_mb, args.seed, args.outputs)
        manifest = json.loads(mpath.read_text())
    outputs = json.loads((work / "outputs.json").read_text())
    tpath = work / f"truth-{args.min_words}.json"
    if not tpath.exists():
        print("brute-force truth scan ...", flush=True)
        tpath.write_text(json.dumps(brute_force_truth(work, manifest, outputs,
                                                      args.min_words)))
    truth = json.loads(tpath.read_text())
    load = os.getloadavg()
    print(f"corpus: {manifest['docs']:,} docs, {manifest['text_bytes'] / MIB:,.0f} MiB text "
          f"in {len(manifest['files'])} shard(s), generated in {manifest['generate_s']} s; "
          f"{len(outputs)} outputs; truth scan {truth['scan_s']} s; "
          f"load avg {load[0]:.2f}", flush=True)
    differ = [o["n"] for o in outputs if normalized_words(o["text"]) != text_words(o["text"])]
    print(f"normalisation: minhash.normalized_words (Python re) and its Arrow form "
          f"(_WORD_BREAK, used by all three indexes) differ on {len(differ)} of "
          f"{len(outputs)} outputs", flush=True)
    docs = DocWords(manifest)
    rows = []
    for approach in args.approaches.split(","):
        index = work / f"index-{approach}"
        bpath = work / f"build-{approach}.json"
        if args.rebuild or not bpath.exists() or not index.exists():
            print(f"[{approach}] building ...", flush=True)
            info, wall, peak = run_child(["build", approach, str(work), str(args.jobs)],
                                         work / f"child-build-{approach}.json")
            info.update({"wall_s": wall, "peak_rss": peak, "bytes": dir_bytes(index)})
            bpath.write_text(json.dumps(info))
        info = json.loads(bpath.read_text())
        print(f"[{approach}] querying ...", flush=True)
        q, _, _ = run_child(["query", approach, str(work), str(args.min_words)],
                            work / f"child-query-{approach}.json")
        ev = evaluate(outputs, q["results"], truth, docs, args.min_words)
        words = manifest.get("words") or _corpus_words(work, info)
        rows.append({"approach": approach, "build": info, "query": {
            k: v for k, v in q.items() if k != "results"}, "eval": ev, "words": words})
        print(json.dumps({"approach": approach, "build_s": round(info["build_s"], 1),
                          "bytes": info["bytes"], "eval": ev}), flush=True)
    (work / "results.json").write_text(json.dumps(rows, indent=1))
    print_table(rows, manifest)


def _corpus_words(work: Path, info: dict[str, Any]) -> int:
    """Corpus words (from a word-id index's shard infos, else the sa build record)."""
    if "shards" in info:
        return sum(s["words"] for s in info["shards"])
    other = work / "build-sa.json"
    if other.exists():
        return sum(s["words"] for s in json.loads(other.read_text())["shards"])
    total = 0
    for f in json.loads((work / "manifest.json").read_text())["files"]:
        for batch in corpus_batches(f["path"]):
            total += int(split_words(batch.column("text"))[1].sum())
    return total


def print_table(rows: list[dict[str, Any]], manifest: dict[str, Any]) -> None:
    words = rows[0]["words"] if rows else 0
    print(f"\ncorpus words: {words:,} ({manifest['text_bytes'] / MIB:,.0f} MiB text, "
          f"{manifest['text_bytes'] / max(words, 1):.2f} bytes of text per word)")
    head = ("approach", "build s", "words/s", "B/word", "open s", "p50 ms", "p95 ms",
            "p50+near", "p95+near", "RSS MiB", "(file)", "exact", "src", "boiler", "windows",
            "false", "none>src", "near R", "near: planted/other/none")
    print(" | ".join(head))
    for r in rows:
        b, q, e = r["build"], r["query"], r["eval"]
        t = q["timings"]
        cells = (
            r["approach"], f"{b['build_s']:.1f}", f"{words / b['build_s']:,.0f}",
            f"{b['bytes'] / max(words, 1):.2f}", f"{q['open_s']:.2f}",
            f"{pct(t['verbatim'], 50):.1f}", f"{pct(t['verbatim'], 95):.1f}",
            f"{pct(t['near'], 50):.1f}", f"{pct(t['near'], 95):.1f}",
            f"{q['status']['VmHWM'] / MIB:.0f}", f"{q['status']['RssFile'] / MIB:.0f}",
            f"{e.get('exact_span_found', 0)}/{e.get('exact', 0)}",
            f"{e.get('exact_source_found', 0)}/{e.get('exact', 0)}",
            f"{e.get('boilerplate_found', 0)}({e.get('boilerplate_many_sources', 0)})"
            f"/{e.get('boilerplate', 0)}",
            f"{e.get('truth_windows_covered', 0)}/{e.get('truth_windows', 0)}",
            f"{e.get('false_spans', 0)}sp/{e.get('false_sources', 0)}src",
            f"{e.get('none_with_source', 0)}/{e.get('none', 0)}",
            f"{e.get('edited_found', 0)}/{e.get('edited', 0)}",
            f"{e.get('near_correct', 0)}/{e.get('near_other', 0)}/{e.get('near_on_none', 0)}")
        print(" | ".join(cells))
    print("\nbuild s: whole build (tokenize + index + write); B/word: index bytes on disk per "
          "corpus word; p50/p95: per 500-word output, verbatim spans only / with near-verbatim;"
          " RSS: peak RSS of the query process (file: mapped index pages in it at the end); "
          "exact: planted exact copies covered by a span / with their source listed; boiler: "
          "footers covered by a span (of them, with the footer's many sources) / footers; "
          "windows: brute-force 50-word windows covered; false: spans not in the corpus / "
          "sources not containing the span; none>src: no-copy outputs given a source; "
          "near R: edited copies found with their source; near: near-verbatim passages on "
          "the planted copy's document / on other documents of outputs with a copy (real "
          "shared passages: the corpus reuses sentences) / on no-copy outputs")


def child_main(argv: list[str]) -> None:
    result, mode, approach, work = Path(argv[0]), argv[1], argv[2], Path(argv[3])
    if mode == "build":
        out = child_build(approach, work, int(argv[4]))
    else:
        out = child_query(approach, work, int(argv[4]), 10)
    result.write_text(json.dumps(out, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(type(value))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child_main(sys.argv[2:])
    else:
        main()
