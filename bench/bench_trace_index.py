"""Benchmark: which index should ``licrawl index`` / ``licrawl trace`` use (issue 9, item 4)?

Three indexes over the SAME generated corpus (licrawl record shards), queried with the SAME
model outputs. Every index sees the words of the product's rule
(``crawler.stages.index.words``: runs of letters, digits and ``_``, each Han, Hiragana and
Katakana character a word, lower-cased; ``split_words`` for the corpus, the same function
for each output), so spans are comparable word for word.

``sa``
    the production code: ``crawler.stages.index.stage.build_index`` (what ``licrawl index``
    runs: index shards of ``--shard-mb`` MiB of text, each a suffix array over uint32 word
    ids built with pydivsufsort in a worker process, plus the words' hashes and a
    ``docs.arrow`` of what a report says of each document) and
    ``crawler.trace.engine.TraceIndex`` (what ``licrawl trace`` runs: vectorized binary
    searches of ``crawler.trace.search.IndexShard`` for the longest match at the positions
    near a found checkpoint window, maximal spans by OLMoTrace's rule
    (``crawler.trace.spans.maximal_spans``), sources from the suffix-array range, near-
    verbatim passages from exact 8-word seeds chained by ``crawler.trace.spans
    .near_passages``).
``tantivy``
    tantivy (Rust positional full-text index), one index over all corpus files, built with
    ``--jobs`` writer threads: each document's words joined by spaces, indexed with
    positions by a whitespace tokenizer and stored, with its row number. A query runs a
    phrase query for each 25-word window at a stride of 25, reads the top 10 matching
    documents' stored words and finds the maximal spans against them; each span's count and
    sources come from one more phrase query of the whole span (exact count, top 10).
``infinigram``
    infini-gram 2.6, one engine per index shard (the same shards ``build_index`` plans, by
    ``plan_shards``), over uint32 word ids of the same word rule and hashes: this script
    writes its ``tokenized.0`` (each document = 0xFFFFFFFF + ids) and ``offset.0`` itself,
    so no tokenizer is downloaded, then runs ``python -m infini_gram.indexing`` (whose
    ``rust_indexing make-part`` sizes a bin table by the largest token value: 2**32 x 8
    bytes = 32 GiB for u32 tokens, refused here with 24 GiB of RAM and no swap); when that
    fails the same ``table.0`` (token-aligned suffixes in byte order as little-endian byte
    offsets of ceil(log2(size)/8) bytes) is built with pydivsufsort and the failure is
    recorded. Queried with ``InfiniGramEngine.attribute`` (OLMoTrace's maximal spans;
    prefetching off, as the index is in the page cache).

Near-verbatim passages (a few words changed, inserted or dropped) come from exact 8-word
seeds, chained per document by the product's rule (``crawler.trace.spans``: seeds on one
diagonal within +-10 words, at most 20 output words apart, the chain at least
``--min-words`` long and its seeds covering at least 70% of it; a passage 80% inside
verbatim spans is not reported). ``sa`` looks up every 8-gram of the output in each shard
(seeds of at most 100 occurrences per shard); ``infinigram`` uses ``attribute`` with
``min_len=8, max_cnt=100`` (each maximal span of 8+ words gives the seed at each of its
positions); ``tantivy`` finds candidate documents with one boolean query per 50-word window
(8-word phrases at a stride of 4, top 10 documents) and takes the seeds from those
documents' stored words.

Corpus (:func:`prepare`; ``--size-mb`` MiB of text under ``--root``, never in the
repository): licrawl record shards (``crawler.store.shards.ShardWriter``, the record schema,
an SPDX document per shard; files of about ``--shard-mb`` MiB) made of the page texts of
``tests/pages/devset/*.html`` and ``crawler/demo/site/**/*.html``, extracted with
trafilatura, cut into sentences; every 6th page is held out (its sentences make the
outputs' own text). A document is a log-normal number of tokens (median ~400) made of runs
of 1-5 consecutive sentences from random places of the pool, a paragraph break after each
run; 15% of its tokens are replaced (60% by a random token of the pool, 30% by one of 1.5M
synthetic words drawn Zipf-like, 10% by a number), so documents are distinct and the
vocabulary grows as in real text; 5% of the documents end with one of five fixed footers
(boilerplate shared by many documents). Each record has a license (CC BY 4.0 25%, CC BY-SA
4.0 20%, CC BY-NC 4.0 5%, CC0 5%, all rights reserved 25%, NOASSERTION 20%), a title (its
first words), 0-3 authors, a copyright notice for most reserved ones, a URL and a host.

Outputs (``--outputs``, ~500 words each, from the held-out sentences with the same
replacement): 40% with an exact copy of 50-200 words of a known document, 20% with a
lightly edited copy of 80-200 words (one word changed, inserted or dropped every 8-30
words), 10% with a paraphrase of 80-200 words of a known document (its sentences in another
order, 30% of the words replaced, 5% dropped, 5% more inserted: not a copy, so no source
may be reported), 10% with a footer, 20% with no copy. Truth, independent of the indexes:
every 50-word window of every output is hashed (a polynomial hash of the words' BLAKE2b
hashes) and looked up in the hashes of all 50-word windows of the corpus (a full scan);
every source an index reports is checked against the document's own words.

Builds and queries run in child processes (build: peak RSS of the process tree, sampled;
query: the child's own VmHWM). Printed per index: build seconds and words/s, index bytes on
disk per corpus word, query latency p50/p95 over all outputs (verbatim only, then verbatim
+ near-verbatim; one process, outputs in turn, after opening the index), open time, peak
RSS of the query process (and how much of it is mapped index pages), accuracy and
near-verbatim recall; ``results.json`` in the work folder has everything.
``bench/bench_trace.py`` (the product's own benchmark) uses the same corpus and outputs.

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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from dedup_truth import record_batch  # noqa: E402
from proctree import tree_rss  # noqa: E402

from crawler.stages.index.layout import SEP  # noqa: E402
from crawler.stages.index.stage import build_index, plan_shards  # noqa: E402
from crawler.stages.index.words import query_words, split_words, word_hashes  # noqa: E402
from crawler.store.shards import ShardWriter  # noqa: E402
from crawler.trace.search import SEED, SEED_MAX_COUNT  # noqa: E402
from crawler.trace.spans import explained, maximal_spans, near_passages  # noqa: E402

APPROACHES = ("sa", "tantivy", "infinigram")
MIB = 1 << 20
GENERATOR_VERSION = 2  # a corpus folder of another version is generated again
OUTPUTS_VERSION = 2  # outputs (and their truth) of another version are made again
OUTPUT_SHARES = (("exact", 0.4), ("edited", 0.2), ("paraphrase", 0.1), ("boilerplate", 0.1))
LICENSES = ("CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC0-1.0",
            "LicenseRef-All-Rights-Reserved", "NOASSERTION")
LICENSE_SHARES = (0.25, 0.2, 0.05, 0.05, 0.25, 0.2)
GIVEN_NAMES = ("Ada", "Bram", "Chiara", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines",
               "Jonas", "Kwame", "Lena", "Mateo", "Noor", "Oskar", "Priya", "Quentin",
               "Rosa", "Sven", "Tamar", "Uma", "Viktor", "Wen", "Yusuf", "Zofia")
FAMILY_NAMES = ("Abara", "Berger", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia",
                "Haddad", "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura",
                "Okafor", "Petrov", "Quispe", "Rossi", "Silva", "Tanaka", "Urbano", "Varga",
                "Wagner", "Yilmaz", "Zhang")
TANTIVY_WINDOW = 25  # a span of 2*25-1 words or more contains an aligned window
TANTIVY_CANDIDATES = 10  # documents read per window query
NEAR_VERIFIED = 0.5  # a near passage is real when its source shares this much of its 8-grams
_HASH_BASE = 0x9E3779B97F4A7C15  # odd: invertible modulo 2**64
_HASH_BASE_INVERSE = pow(_HASH_BASE, -1, 1 << 64)


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




def record_columns(texts: list[str], first_row: int, rng: np.random.Generator
                   ) -> dict[str, list[Any]]:
    """Varied record metadata for generated texts: URL and host, license, title (the
    text's first words), 0-3 authors, a copyright notice for most all-rights-reserved
    records, publication and fetch times."""
    n = len(texts)
    hosts = [f"site{h}.example" for h in (rng.zipf(1.3, n) % 5000).tolist()]
    licenses = [LICENSES[i] for i in rng.choice(len(LICENSES), n, p=LICENSE_SHARES).tolist()]
    n_authors = rng.choice(4, n, p=(0.3, 0.5, 0.15, 0.05)).tolist()
    given = rng.integers(0, len(GIVEN_NAMES), (n, 3)).tolist()
    family = rng.integers(0, len(FAMILY_NAMES), (n, 3)).tolist()
    authors = [[f"{GIVEN_NAMES[given[i][k]]} {FAMILY_NAMES[family[i][k]]}"
                for k in range(n_authors[i])] for i in range(n)]
    title_words = rng.integers(3, 10, n).tolist()
    day = rng.integers(0, 1500, n).tolist()
    notice = (rng.random(n) < 0.8).tolist()
    base = datetime(2020, 1, 1, tzinfo=UTC)
    return {
        "url": [f"https://{host}/doc/{first_row + i}" for i, host in enumerate(hosts)],
        "host": hosts,
        "license": licenses,
        "title": [" ".join(t.split()[:k]).strip(" .,;:") or None
                  for t, k in zip(texts, title_words, strict=True)],
        "authors": authors,
        "copyright": [f"© {base.year + d // 365} {a[0] if a else h}"
                      if lic == "LicenseRef-All-Rights-Reserved" and keep else None
                      for lic, keep, a, h, d in zip(licenses, notice, authors, hosts, day,
                                                    strict=True)],
        "published": [(base + timedelta(days=d)).date().isoformat() for d in day],
        "fetched_at": [base + timedelta(days=d + 30, seconds=i) for i, d in enumerate(day)],
    }


def generate_corpus(work: Path, src: TextSource, size_mb: int, file_mb: int, seed: int
                    ) -> dict[str, Any]:
    """Write the corpus (record shards in ``work/corpus/data``, files of about ``file_mb``
    MiB) and a sample of its documents to copy from (``work/sample.json``); return the
    manifest (written last: a folder without one is incomplete)."""
    rng = np.random.default_rng(seed + 1)
    corpus = work / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    sample: list[dict[str, Any]] = []
    rows = text_bytes = 0
    started = time.monotonic()
    with ShardWriter(corpus / "data", max_rows=1 << 30, max_bytes=file_mb * MIB) as writer:
        while text_bytes < size_mb * MIB:
            n = 4096
            lengths = np.clip(np.exp(rng.normal(6.0, 0.9, n)), 30, 20000).astype(np.int64)
            ids, offsets = src.runs(lengths, rng)
            footer = rng.random(n) < 0.05
            which = rng.integers(0, len(src.footers), n)
            texts = [src.join(ids[offsets[i]:offsets[i + 1]])
                     + ("\n\n" + src.footers[which[i]] if footer[i] else "") for i in range(n)]
            texts = [t for t in texts if t.strip()]  # a long run can leave a text empty
            n = len(texts)
            meta = record_columns(texts, rows, rng)
            batch, doc_ids = record_batch(texts, meta["url"], meta["host"], meta["license"],
                                          meta["published"], meta["fetched_at"], [None] * n,
                                          f"trace-bench-{seed}")
            columns = {name: pa.array(meta[name], batch.schema.field(name).type)
                       for name in ("title", "authors", "copyright")}
            writer.write_batch(pa.RecordBatch.from_arrays(
                [columns.get(f.name, batch.column(f.name)) for f in batch.schema],
                schema=batch.schema))
            for i in rng.choice(n, 16, replace=False).tolist():
                if len(texts[i].split()) >= 300:
                    sample.append({"id": doc_ids[i], "text": texts[i]})
            rows += n
            text_bytes += sum(len(t.encode()) for t in texts)
    files, first = [], 0
    for path in writer.completed:
        docs = pq.ParquetFile(path).metadata.num_rows
        files.append({"path": str(path), "first_row": first, "docs": docs})
        first += docs
    manifest = {"generator": GENERATOR_VERSION, "size_mb": size_mb, "file_mb": file_mb,
                "seed": seed, "created": datetime.now(UTC).isoformat(), "docs": rows,
                "text_bytes": text_bytes, "files": files, "footers": src.footers,
                "generate_s": round(time.monotonic() - started, 1)}
    (work / "sample.json").write_text(json.dumps(sample))
    (work / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def text_words(text: str) -> list[str]:
    """The words of one text, as the product sees them."""
    return split_words(pa.array([text], pa.string()))[0].to_pylist()


def _word_counts(tokens: list[str]) -> np.ndarray:
    """The product's words in each whitespace token."""
    if not tokens:
        return np.zeros(0, np.int64)
    return split_words(pa.array(tokens, pa.string()))[1].astype(np.int64)


def paraphrase(src: TextSource, tokens: list[str], rng: np.random.Generator) -> list[str]:
    """A paraphrase-like rewrite of a passage: its sentences in another order, 30% of the
    words replaced, 5% dropped and 5% more inserted (so hardly an 8-word run is left)."""
    flat, counts = split_words(pa.array(tokens, pa.string()))
    words, at = flat.to_pylist(), np.cumsum(counts) - counts
    sentences: list[list[str]] = [[]]
    for token, first, n in zip(tokens, at.tolist(), counts.tolist(), strict=True):
        # a token of several words (a run of CJK characters, "e.g.") counts word by word
        sentences[-1].extend(words[first:first + n] if n > 1 else [token])
        if token.endswith((".", "!", "?", "。")):
            sentences.append([])
    fillers = src.strings[src.replacements(2 * len(tokens) + 2, rng)].tolist()
    out: list[str] = []
    for s in rng.permutation(len(sentences)).tolist():
        for token in sentences[s]:
            r = rng.random()
            if r < 0.3:
                out.append(fillers.pop())
            elif r >= 0.35:
                out.append(token)
            if rng.random() < 0.05:
                out.append(fillers.pop())
    return out


def make_outputs(src: TextSource, sample: list[dict[str, Any]], footers: list[str],
                 n_out: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Model outputs of ~500 words with known copies (see the module docstring): kind,
    text, the source document's id, the copied (edited, paraphrased) words [start, end)."""
    kinds = [kind for kind, share in OUTPUT_SHARES for _ in range(int(n_out * share))]
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
        if kind in ("exact", "edited", "paraphrase"):
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
            elif kind == "paraphrase":
                copy = paraphrase(src, copy, rng)
        elif kind == "boilerplate":
            copy = footers[k % len(footers)].split()
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


def prepare(root: Path, size_mb: int, file_mb: int, seed: int, n_outputs: int,
            min_words: int) -> tuple[Path, dict[str, Any], list[dict[str, Any]],
                                     dict[str, Any]]:
    """The corpus folder for these parameters under ``root`` (generated unless a complete
    one of this generator version is there), its manifest, ``n_outputs`` outputs and their
    brute-force truth (both kept in the folder for the next run)."""
    work = root / f"corpus-{size_mb}mb-{file_mb}mb-seed{seed}"
    work.mkdir(parents=True, exist_ok=True)
    mpath = work / "manifest.json"
    manifest = json.loads(mpath.read_text()) if mpath.exists() else {}
    src = None
    if manifest.get("generator") != GENERATOR_VERSION:
        for stale in [*work.glob("outputs-*.json"), *work.glob("truth-*.json"),
                      *work.glob("build-*.json"), mpath]:
            stale.unlink(missing_ok=True)
        log(f"generating a {size_mb} MiB corpus in {work} ...")
        src = TextSource(seed)
        manifest = generate_corpus(work, src, size_mb, file_mb, seed)
    opath = outputs_path(work, n_outputs)
    if not opath.exists():
        src = src or TextSource(seed)
        sample = json.loads((work / "sample.json").read_text())
        opath.write_text(json.dumps(make_outputs(src, sample, manifest["footers"], n_outputs,
                                                 np.random.default_rng(seed + 2))))
    outputs = json.loads(opath.read_text())
    tpath = work / f"truth-v{OUTPUTS_VERSION}-{n_outputs}-{min_words}.json"
    if not tpath.exists():
        log("brute-force truth: scanning every window of the corpus ...")
        tpath.write_text(json.dumps(brute_force_truth(manifest, outputs, min_words)))
    return work, manifest, outputs, json.loads(tpath.read_text())


def outputs_path(work: Path, n_outputs: int) -> Path:
    """Where the outputs of a corpus folder are kept."""
    return work / f"outputs-v{OUTPUTS_VERSION}-{n_outputs}.json"


def log(message: str) -> None:
    """A progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- truth


def window_hashes(texts: pa.Array, n: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Every ``n``-word window of each text (the product's words; no window crosses two
    texts): its hash, the text's number, the window's first word in the text; and the
    texts' number of words.

    A window's hash is ``sum_j h(w[i + j]) * B**j`` (mod 2**64; ``h`` the BLAKE2b word
    hash), from prefix sums of ``h(w[i]) * B**(i + 1)`` and the powers of ``B``'s inverse.
    """
    flat, counts = split_words(texts)
    encoded = pc.dictionary_encode(flat)
    h = word_hashes(encoded.dictionary.to_pylist())[encoded.indices.to_numpy(
        zero_copy_only=False)]
    text_of = np.repeat(np.arange(len(counts)), counts)
    at = np.arange(len(h)) - (np.cumsum(counts) - counts)[text_of]
    ok = np.flatnonzero(at + n <= counts[text_of])
    with np.errstate(over="ignore"):
        up = np.cumprod(np.full(len(h), _HASH_BASE, np.uint64))
        down = np.cumprod(np.full(len(h), _HASH_BASE_INVERSE, np.uint64))
        prefix = np.concatenate([np.zeros(1, np.uint64), np.cumsum(h * up)])
        hashes = (prefix[ok + n] - prefix[ok]) * down[ok]
    return hashes, text_of[ok], at[ok], len(h)


def brute_force_truth(manifest: dict[str, Any], outputs: list[dict[str, Any]],
                      min_words: int) -> dict[str, Any]:
    """For each output: its ``min_words``-word windows that occur in the corpus (by first
    word), with up to 50 documents each; and the corpus's word count. A full scan."""
    started = time.monotonic()
    qh, qtext, qat, _ = window_hashes(pa.array([o["text"] for o in outputs], pa.string()),
                                      min_words)
    wanted = np.unique(qh)
    hits: dict[int, list[str]] = defaultdict(list)
    words = 0
    for f in manifest["files"]:
        for batch in pq.ParquetFile(f["path"]).iter_batches(batch_size=8192,
                                                            columns=["id", "text"]):
            h, text_of, _, n_words = window_hashes(batch.column("text"), min_words)
            words += n_words
            found = np.flatnonzero(np.isin(h, wanted))
            ids = batch.column("id").to_pylist() if len(found) else []
            for value, row in zip(h[found].tolist(), text_of[found].tolist(), strict=True):
                if len(hits[value]) < 50 and ids[row] not in hits[value]:
                    hits[value].append(ids[row])
    windows: list[dict[str, list[str]]] = [{} for _ in outputs]
    for value, k, p in zip(qh.tolist(), qtext.tolist(), qat.tolist(), strict=True):
        if value in hits:
            windows[k][str(p)] = hits[value]
    return {"windows": windows, "scan_s": round(time.monotonic() - started, 1),
            "corpus_words": words}


class CorpusDocs:
    """Corpus records by id, read when asked: their words (to check reported sources) and
    their url, title, authors and license."""

    COLUMNS = ["id", "url", "title", "authors", "license", "text"]

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.files = manifest["files"]
        self.ids = corpus_ids(manifest)
        self.where = {doc_id: row for row, doc_id in enumerate(self.ids)}
        self.words: dict[str, list[str]] = {}
        self.records: dict[str, dict[str, Any]] = {}

    def load(self, ids: set[str]) -> None:
        """Read the records of ``ids`` not read yet."""
        need: dict[int, list[int]] = defaultdict(list)
        for doc_id in ids - set(self.words):
            row = self.where[doc_id]
            k = max(i for i, f in enumerate(self.files) if f["first_row"] <= row)
            need[k].append(row - self.files[k]["first_row"])
        for k, rows in need.items():
            table = pq.read_table(self.files[k]["path"], columns=self.COLUMNS)
            for record in table.take(pa.array(sorted(rows))).to_pylist():
                self.words[record["id"]] = text_words(record.pop("text"))
                self.records[record["id"]] = record

    def contains(self, doc: str, words: list[str]) -> bool:
        """Whether the document holds ``words`` verbatim."""
        d = self.words[doc]
        n = len(words)
        return any(d[i:i + n] == words for i, w in enumerate(d) if w == words[0])

    def shares(self, doc: str, words: list[str]) -> float:
        """The share of the 8-word seeds of ``words`` that the document holds."""
        grams = {tuple(words[i:i + SEED]) for i in range(len(words) - SEED + 1)}
        d = self.words[doc]
        held = {tuple(d[i:i + SEED]) for i in range(len(d) - SEED + 1)}
        return len(grams & held) / max(1, len(grams))


def corpus_ids(manifest: dict[str, Any]) -> list[str]:
    """The record ids of the corpus, in row order."""
    return [doc_id for f in manifest["files"]
            for doc_id in pq.read_table(f["path"], columns=["id"]).column("id").to_pylist()]


# --------------------------------------------------------------------------- evaluation


def evaluate(outputs: list[dict[str, Any]], results: list[dict[str, Any]],
             truth: dict[str, Any], docs: CorpusDocs, min_words: int) -> dict[str, int]:
    """Accuracy of results (``{"spans": [{"start", "end", "count", "docs"}], "near":
    [[start, end, doc]]}`` per output, in words) against the planted copies and the truth:
    counts (see :func:`print_table` and ``bench_trace.print_accuracy``)."""
    need: set[str] = set()
    for r in results:
        for s in r["spans"]:
            need.update(s["docs"][:10])
        need.update(d for _, _, d in r["near"])
    docs.load(need)
    ev: dict[str, int] = defaultdict(int)
    for o, r, win in zip(outputs, results, truth["windows"], strict=True):
        words = text_words(o["text"])
        spans, near, kind = r["spans"], r["near"], o["kind"]
        a, b = (o["start"], o["end"]) if o["start"] is not None else (0, 0)
        ev[kind] += 1
        for s in spans:
            ev["spans"] += 1
            for d in s["docs"][:10]:
                ev["sources_checked"] += 1
                ev["false_sources"] += not docs.contains(d, words[s["start"]:s["end"]])
            ev["false_spans"] += not all(str(p) in win
                                         for p in range(s["start"], s["end"] - min_words + 1))
        for p in map(int, win):
            ev["truth_windows"] += 1
            ev["truth_windows_covered"] += any(s["start"] <= p and p + min_words <= s["end"]
                                               for s in spans)
        cover = [s for s in spans if kind != "none" and s["start"] <= a and s["end"] >= b]
        if kind == "exact":
            ev["exact_span_found"] += bool(cover)
            ev["exact_source_found"] += any(o["source"] in s["docs"] for s in cover)
        elif kind == "boilerplate":
            ev["boilerplate_found"] += bool(cover)
            # the footer is in ~1% of documents; the maximal span can be longer and rarer
            # (a word before it that one document also has), which hides the footer's count
            ev["boilerplate_many_sources"] += any(s["count"] > 1 for s in cover)
        elif kind in ("none", "paraphrase"):
            ev[f"{kind}_with_source"] += bool(spans or near)
            ev[f"{kind}_with_verbatim"] += bool(spans)
            ev[f"{kind}_with_near"] += bool(near)
            ev[f"{kind}_in_corpus"] += bool(win)  # truth: a window of it is in the corpus
            ev[f"{kind}_false_source"] += bool(spans or near) and not win
        elif kind == "edited":
            by_near = any(d == o["source"] and min(e, b) - max(s, a) >= 0.5 * (b - a)
                          for s, e, d in near)
            by_span = any(o["source"] in s["docs"] and min(s["end"], b) - max(s["start"], a)
                          >= 0.5 * (b - a) for s in spans)
            ev["edited_found"] += by_near or by_span
            ev["edited_found_near"] += by_near
        for s, e, d in near:
            ev["near"] += 1
            planted = kind in ("exact", "edited") and d == o["source"] and \
                min(e, b) - max(s, a) >= 0.5 * (e - s)
            ev["near_planted"] += planted
            ev["near_verified"] += planted or docs.shares(d, words[s:e]) >= NEAR_VERIFIED
            ev[f"near_on_{kind}"] += 1
    return dict(ev)


def near_from_seeds(seeds: dict[str, list[tuple[int, int]]], spans: list[dict[str, Any]],
                    words: int, min_words: int) -> list[list[Any]]:
    """Near-verbatim passages ``[start, end, doc]`` from exact 8-word seeds ``(output
    position, document position)`` per document, by the product's rule."""
    covered = np.zeros(words, bool)
    for s in spans:
        covered[s["start"]:s["end"]] = True
    return [[a, b, doc] for doc, hits in seeds.items()
            for a, b in near_passages(hits, SEED, min_words) if not explained((a, b), covered)]


# --------------------------------------------------------------------------- (a) production


def from_product(result: dict[str, Any]) -> dict[str, Any]:
    """A ``TraceResult.to_json()`` object in this benchmark's form: verbatim spans (word
    range, occurrences, source ids) and near passages (word range, one source each)."""
    spans = [{"start": s["first_word"], "end": s["first_word"] + s["words"],
              "count": s["occurrences"], "docs": s["source_ids"]}
             for s in result["spans"] if s["kind"] == "verbatim"]
    near = [[s["first_word"], s["first_word"] + s["words"], d]
            for s in result["spans"] if s["kind"] == "near" for d in s["source_ids"]]
    return {"words": result["input_words"], "spans": spans, "near": near}


class ProductIndex:
    """``sa``: the production index, opened with ``TraceIndex``."""

    def __init__(self, path: Path, ids: list[str] | None = None) -> None:
        from crawler.trace.engine import TraceIndex

        self.index = TraceIndex.open(path)

    def trace(self, text: str, min_words: int, max_sources: int, near: bool
              ) -> dict[str, Any]:
        return from_product(self.index.trace(text, min_words=min_words,
                                             max_sources=max_sources, near=near).to_json())


# --------------------------------------------------------------------------- (c) infini-gram


def infinigram_tokens(parts: tuple[tuple[Path, tuple[int, ...]], ...],
                      first_rows: dict[str, int]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An index shard's documents for infini-gram: the token stream (each document: SEP,
    then its word ids, the ranks of its words' hashes among the shard's), each document's
    byte offset in it, its corpus row, and the sorted word hashes."""
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # per row group
    rows: list[np.ndarray] = []
    for path, groups in parts:
        parquet = pq.ParquetFile(path)
        sizes = [parquet.metadata.row_group(g).num_rows
                 for g in range(parquet.metadata.num_row_groups)]
        group_first = first_rows[str(path)] + np.concatenate([[0], np.cumsum(sizes)])
        for g in groups:
            texts = parquet.read_row_group(g, columns=["text"]).column("text")
            flat, counts = split_words(texts.combine_chunks())
            encoded = pc.dictionary_encode(flat)
            pieces.append((word_hashes(encoded.dictionary.to_pylist()),
                           encoded.indices.to_numpy(zero_copy_only=False), counts))
            rows.append(group_first[g] + np.arange(sizes[g]))
    vocab = np.unique(np.concatenate([p[0] for p in pieces]))
    per_doc = np.concatenate([p[2] for p in pieces])
    heads = np.concatenate([[0], np.cumsum(per_doc + 1)[:-1]])  # where each SEP goes
    tokens = np.full(int(per_doc.sum()) + len(per_doc), SEP, "<u4")
    body = np.ones(len(tokens), bool)
    body[heads] = False
    tokens[body] = np.concatenate([np.searchsorted(vocab, h).astype("<u4")[i]
                                   for h, i, _ in pieces])
    return tokens, heads.astype(np.uint64) * 4, np.concatenate(rows), vocab


def build_infinigram_shard(task: tuple[Any, dict[str, int], str]) -> dict[str, Any]:
    """Write infini-gram's tokenized/offset files of one index shard and run its
    ``rust_indexing`` suffix-array build (``infini_gram.indexing``; no tokenizer)."""
    parts, first_rows, out = task
    t0 = time.monotonic()
    tok, offsets, rows, vocab = infinigram_tokens(parts, first_rows)
    t1 = time.monotonic()
    outp = Path(out)
    outp.mkdir(parents=True)
    tok.tofile(outp / "tokenized.0")
    offsets.tofile(outp / "offset.0")
    np.save(outp / "rows.npy", rows)
    np.save(outp / "vocab.npy", vocab)
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

        for leftover in [*outp.glob("parts-*"), *outp.glob("merged-*")]:
            shutil.rmtree(leftover)
        sa_bytes = divsufsort(tok.view(np.uint8))
        sa = sa_bytes[(sa_bytes & 3) == 0].astype("<u8")
        del sa_bytes
        ratio = int(np.ceil(np.log2(max(len(tok) * 4, 2)) / 8))
        sa.view(np.uint8).reshape(-1, 8)[:, :ratio].tofile(outp / "table.0")
    return {"words": int(len(tok) - len(rows)), "vocab": len(vocab),
            "tokenize_s": round(t1 - t0, 2), "sort_s": round(time.monotonic() - t1, 2),
            "rust_indexing_failed": fallback}


def build_infinigram(manifest: dict[str, Any], out: Path, jobs: int, shard_mb: int
                     ) -> dict[str, Any]:
    """infini-gram shards over the index shards ``build_index`` plans, ``jobs`` at once."""
    from concurrent.futures import ProcessPoolExecutor

    first_rows = {f["path"]: f["first_row"] for f in manifest["files"]}
    planned = plan_shards([Path(f["path"]) for f in manifest["files"]], shard_mb << 20)
    out.mkdir(parents=True)
    tasks = [(parts, first_rows, str(out / f"shard-{i:05d}")) for i, parts in enumerate(planned)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return {"shards": list(pool.map(build_infinigram_shard, tasks))}


class InfiniIndex:
    """infini-gram engines, one per shard (each shard has its own vocabulary)."""

    def __init__(self, path: Path, ids: list[str] | None = None) -> None:
        from infini_gram.engine import InfiniGramEngine

        doc_ids = np.array(ids, dtype=object)
        self.shards = []
        for p in sorted(path.glob("shard-*")):
            # prefetching (madvise) is for indexes on disk; here it only costs syscalls
            engine = InfiniGramEngine(index_dir=str(p), eos_token_id=SEP - 1,
                                      vocab_size=SEP, version=4, token_dtype="u32",
                                      ds_prefetch_depth=0, sa_prefetch_depth=0,
                                      od_prefetch_depth=0)
            offs = np.fromfile(p / "offset.0", dtype=np.uint64).astype(np.int64)
            self.shards.append((engine, np.load(p / "vocab.npy"), offs,
                                doc_ids[np.load(p / "rows.npy")]))
        query_words("warm up")

    def trace(self, text: str, min_words: int, max_sources: int, near: bool
              ) -> dict[str, Any]:
        words = query_words(text)
        best = np.zeros(len(words), np.int64)
        found: list[tuple[int, int, int, list[str]]] = []
        seeds: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for engine, vocab, offs, doc_ids in self.shards:
            at = np.minimum(np.searchsorted(vocab, words.hashes), len(vocab) - 1)
            q = np.where(vocab[at] == words.hashes, at, SEP - 2)[words.index].tolist()
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
                    at_doc = (ptrs - offs[rows]) // 4 - 1
                    for d, o in zip(doc_ids[rows].tolist(), at_doc.tolist(), strict=True):
                        # a maximal span of 8+ words: the 8-word seed at each position
                        seeds[d].extend((sp["l"] + k, o + k)
                                        for k in range(sp["r"] - sp["l"] - SEED + 1))
        spans = []
        for a, b in maximal_spans(best, min_words):
            count, docs = 0, []
            for l_, r_, c, d in found:
                if l_ == a and r_ == b:
                    count += c
                    docs.extend(d)
            spans.append({"start": a, "end": b, "count": count,
                          "docs": list(dict.fromkeys(docs))[:max_sources]})
        result: dict[str, Any] = {"words": len(words), "spans": spans, "near": []}
        if near:
            result["near"] = near_from_seeds(seeds, spans, len(words), min_words)
        return result


# --------------------------------------------------------------------------- (b) tantivy


def _tantivy_analyzer() -> Any:
    """Whitespace tokenizer: tantivy indexes the words already normalized."""
    import tantivy

    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def normalized_texts(texts: pa.Array) -> list[str]:
    """Each text as its words (the product's) joined by spaces."""
    flat, counts = split_words(texts)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    return pc.binary_join(pa.ListArray.from_arrays(offsets, flat), " ").to_pylist()


def build_tantivy(manifest: dict[str, Any], out: Path, jobs: int) -> dict[str, Any]:
    """One tantivy index over all corpus files (``jobs`` indexing threads)."""
    import tantivy

    out.mkdir(parents=True)
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("row", stored=True, fast=True)
    sb.add_text_field("text", stored=True, tokenizer_name="words", index_option="position")
    schema = sb.build()
    index = tantivy.Index(schema, path=str(out))
    index.register_tokenizer("words", _tantivy_analyzer())
    writer = index.writer(heap_size=min(jobs, 8) * 500_000_000, num_threads=jobs)
    row = 0
    for f in manifest["files"]:
        for batch in pq.ParquetFile(f["path"]).iter_batches(batch_size=8192, columns=["text"]):
            for t in normalized_texts(batch.column("text")):
                writer.add_document(tantivy.Document(row=row, text=t))
                row += 1
        writer.commit()
    writer.wait_merging_threads()
    return {"docs": row}


class TantivyIndex:
    """The tantivy index, queried with phrase queries."""

    def __init__(self, path: Path, ids: list[str] | None = None) -> None:
        import tantivy

        self.t = tantivy
        self.ids = ids or []
        self.index = tantivy.Index.open(str(path))
        self.index.register_tokenizer("words", _tantivy_analyzer())
        self.searcher = self.index.searcher()
        self.schema = self.index.schema

    def phrase(self, words: list[str]) -> Any:
        return self.t.Query.phrase_query(self.schema, "text", words)

    def trace(self, text: str, min_words: int, max_sources: int, near: bool
              ) -> dict[str, Any]:
        words = text_words(text)
        m = len(words)
        cache: dict[tuple[int, int], tuple[str, list[str]]] = {}

        def fetch(addrs: list[Any]) -> None:
            for addr in addrs:
                key = (addr.segment_ord, addr.doc)
                if key not in cache:
                    doc = self.searcher.doc(addr)
                    cache[key] = (self.ids[doc["row"][0]], doc["text"][0].split())

        def seeds_of(keys: set[tuple[int, int]], longest: bool) -> None:
            for key in keys:
                doc_id, dwords = cache[key]
                index: dict[tuple[str, ...], list[int]] = defaultdict(list)
                for i in range(len(dwords) - SEED + 1):
                    index[tuple(dwords[i:i + SEED])].append(i)
                for p, g in grams.items():
                    for i in index.get(g, ()):
                        seeds[doc_id].append((p, i))
                        if longest:
                            n = SEED
                            while p + n < m and i + n < len(dwords) and \
                                    words[p + n] == dwords[i + n]:
                                n += 1
                            best[p] = max(best[p], n)

        w = TANTIVY_WINDOW
        if m >= min_words:
            for p in range(0, m - w + 1, w):
                res = self.searcher.search(self.phrase(words[p:p + w]), TANTIVY_CANDIDATES,
                                           count=False)
                fetch([addr for _, addr in res.hits])
        best = np.zeros(m, np.int64)
        grams = {p: tuple(words[p:p + SEED]) for p in range(max(0, m - SEED + 1))}
        seeds: dict[str, list[tuple[int, int]]] = defaultdict(list)
        seeds_of(set(cache), longest=True)
        spans = []
        for a, b in maximal_spans(best, min_words):
            res = self.searcher.search(self.phrase(words[a:b]), max_sources, count=True)
            docs = [self.ids[self.searcher.doc(addr)["row"][0]] for _, addr in res.hits]
            spans.append({"start": a, "end": b, "count": res.count, "docs": docs})
        result: dict[str, Any] = {"words": m, "spans": spans, "near": []}
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
            seeds_of(set(cache) - before, longest=False)
            result["near"] = near_from_seeds(seeds, spans, m, min_words)
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
    """Bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def child_build(approach: str, work: Path, jobs: int, shard_mb: int) -> dict[str, Any]:
    manifest = json.loads((work / "manifest.json").read_text())
    out = work / f"index-{approach}"
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    if approach == "sa":
        info: dict[str, Any] = build_index([f["path"] for f in manifest["files"]], out,
                                           jobs=jobs, shard_text_bytes=shard_mb << 20)
    elif approach == "tantivy":
        info = build_tantivy(manifest, out, jobs)
    else:
        info = build_infinigram(manifest, out, jobs, shard_mb)
    info["build_s"] = time.monotonic() - started
    return info


def child_query(approach: str, work: Path, n_outputs: int, min_words: int,
                max_sources: int) -> dict[str, Any]:
    outputs = json.loads(outputs_path(work, n_outputs).read_text())
    manifest = json.loads((work / "manifest.json").read_text())
    ids = None if approach == "sa" else corpus_ids(manifest)
    started = time.monotonic()
    cls = {"sa": ProductIndex, "tantivy": TantivyIndex, "infinigram": InfiniIndex}[approach]
    index = cls(work / f"index-{approach}", ids)
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


# --------------------------------------------------------------------------- main


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (nan for none)."""
    return float(np.percentile(np.array(values), q)) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default="/tmp/work/trace-bench",
                    help="work folder (outside the repository) for corpora and indexes")
    ap.add_argument("--size-mb", type=int, default=100, help="MiB of corpus text")
    ap.add_argument("--shard-mb", type=int, default=128,
                    help="MiB of text per corpus file and per index shard")
    ap.add_argument("--outputs", type=int, default=200)
    ap.add_argument("--approaches", default=",".join(APPROACHES))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min-words", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rebuild", action="store_true", help="rebuild existing indexes")
    args = ap.parse_args()
    work, manifest, outputs, truth = prepare(Path(args.root), args.size_mb, args.shard_mb,
                                             args.seed, args.outputs, args.min_words)
    load = os.getloadavg()
    print(f"corpus: {manifest['docs']:,} docs, {manifest['text_bytes'] / MIB:,.0f} MiB text "
          f"in {len(manifest['files'])} file(s), generated in {manifest['generate_s']} s; "
          f"{len(outputs)} outputs; truth scan {truth['scan_s']} s; "
          f"load avg {load[0]:.2f}", flush=True)
    docs = CorpusDocs(manifest)
    rows = []
    for approach in args.approaches.split(","):
        index = work / f"index-{approach}"
        bpath = work / f"build-{approach}.json"
        if args.rebuild or not bpath.exists() or not index.exists() or \
                json.loads(bpath.read_text()).get("shard_mb") != args.shard_mb:
            log(f"[{approach}] building ...")
            info, wall, peak = run_child(["build", approach, str(work), str(args.jobs),
                                          str(args.shard_mb)],
                                         work / f"child-build-{approach}.json")
            info.update({"wall_s": wall, "peak_rss": peak, "bytes": dir_bytes(index),
                         "shard_mb": args.shard_mb, "jobs": args.jobs})
            bpath.write_text(json.dumps(info))
        info = json.loads(bpath.read_text())
        log(f"[{approach}] querying ...")
        q, _, _ = run_child(["query", approach, str(work), str(args.outputs),
                             str(args.min_words)], work / f"child-query-{approach}.json")
        ev = evaluate(outputs, q["results"], truth, docs, args.min_words)
        rows.append({"approach": approach, "build": info, "query": {
            k: v for k, v in q.items() if k != "results"}, "eval": ev,
            "words": truth["corpus_words"]})
        print(json.dumps({"approach": approach, "build_s": round(info["build_s"], 1),
                          "bytes": info["bytes"], "eval": ev}), flush=True)
    (work / "results-index.json").write_text(json.dumps(rows, indent=1))
    print_table(rows, manifest)


def print_table(rows: list[dict[str, Any]], manifest: dict[str, Any]) -> None:
    """The comparison table and its legend."""
    words = rows[0]["words"] if rows else 0
    print(f"\ncorpus words: {words:,} ({manifest['text_bytes'] / MIB:,.0f} MiB text, "
          f"{manifest['text_bytes'] / max(words, 1):.2f} bytes of text per word)")
    head = ("approach", "build s", "words/s", "B/word", "open s", "p50 ms", "p95 ms",
            "p50+near", "p95+near", "RSS MiB", "(file)", "exact", "src", "boiler", "windows",
            "false", "none>src", "para>src", "near R", "near P", "near: planted/other/none")
    print(" | ".join(head))
    for r in rows:
        b, q, e = r["build"], r["query"], r["eval"]
        t = q["timings"]
        other = e.get("near", 0) - e.get("near_planted", 0) - e.get("near_on_none", 0)
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
            f"{e.get('paraphrase_with_source', 0)}/{e.get('paraphrase', 0)}",
            f"{e.get('edited_found', 0)}/{e.get('edited', 0)}",
            f"{e.get('near_verified', 0)}/{e.get('near', 0)}",
            f"{e.get('near_planted', 0)}/{other}/{e.get('near_on_none', 0)}")
        print(" | ".join(cells))
    print("\nbuild s: whole build (tokenize + index + write); B/word: index bytes on disk per "
          "corpus word; p50/p95: per 500-word output, verbatim spans only / with near-verbatim;"
          " RSS: peak RSS of the query process (file: mapped index pages in it at the end); "
          "exact: planted exact copies covered by a span / with their source listed; boiler: "
          "footers covered by a span (of them, with the footer's many sources) / footers; "
          "windows: brute-force 50-word windows covered; false: spans not in the corpus / "
          "sources not containing the span; none>src, para>src: no-copy and paraphrase "
          "outputs given a source; near R: edited copies found with their source; near P: "
          "near-verbatim passages whose source holds at least half of the passage's 8-word "
          "seeds / all; near: passages on the planted copy's document / on other documents "
          "/ on no-copy outputs")


def child_main(argv: list[str]) -> None:
    result, mode, approach, work = Path(argv[0]), argv[1], argv[2], Path(argv[3])
    if mode == "build":
        out = child_build(approach, work, int(argv[4]), int(argv[5]))
    else:
        out = child_query(approach, work, int(argv[4]), int(argv[5]), 10)
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
