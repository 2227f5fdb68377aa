"""Trace a text against a replication index: the spans it shares with the corpus, their
source documents, and a license verdict for each source.

:class:`TraceIndex` opens an index (``licrawl index`` output) once and answers any number of
:meth:`~TraceIndex.trace` calls; it only reads memory-mapped files, so concurrent calls from
threads are safe. Shards are searched one after another, or on ``jobs`` threads; at 1 GiB
in 4 shards on 2 cores two threads were slower than one (a search is many small numpy steps
that hold the GIL), so one is the default.
"""

from __future__ import annotations

import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crawler.licenses.terms import license_terms
from crawler.stages.index.layout import IndexOpenError, read_manifest
from crawler.stages.index.words import QueryWords, query_words
from crawler.trace import DEFAULT_MAX_CHARS, DEFAULT_MAX_SOURCES, DEFAULT_MIN_WORDS
from crawler.trace.search import SEED, IndexShard
from crawler.trace.spans import explained, maximal_spans, near_passages
from crawler.trace.verdict import verdict

__all__ = ["IndexOpenError", "TraceIndex", "TraceInputError", "TraceResult"]

OCCURRENCES_CHUNK = 1024  # occurrences of a span read at a time to find its source documents
_CONTROL = {*range(0, 9), 11, 12, *range(14, 32), 127}


class TraceInputError(ValueError):
    """A text that cannot be traced (empty, binary, too long); the message says why."""


DocKey = tuple[int, int]  # (shard number in the index, document number in the shard)


@dataclass
class Span:
    """A matched passage of the text: words ``[first, last)``, characters
    ``[start, end)``."""

    first: int
    last: int
    start: int
    end: int
    kind: str  # "verbatim" or "near"
    occurrences: int  # times the words occur in the corpus (near: documents)
    sources: list[DocKey]
    source_ids: list[str] = field(default_factory=list)  # their document ids, once each

    @property
    def words(self) -> int:
        """Words in the span."""
        return self.last - self.first


def rarest_first(span: Span) -> tuple[int, int, int]:
    """Sort key of spans: fewest occurrences in the corpus, then longest, then first."""
    return span.occurrences, -span.words, span.first


@dataclass
class TraceResult:
    """What :meth:`TraceIndex.trace` found; :meth:`to_json` is the ``--json`` object."""

    input_words: int
    min_words: int
    spans: list[Span]
    sources: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    index: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"input_words", "min_words", "spans", "sources", "notes", "index"}``."""
        return {
            "input_words": self.input_words,
            "min_words": self.min_words,
            "spans": [{"start": s.start, "end": s.end, "words": s.words, "kind": s.kind,
                       "first_word": s.first, "occurrences": s.occurrences,
                       "source_ids": s.source_ids} for s in self.spans],
            "sources": self.sources,
            "notes": self.notes,
            "index": self.index,
            "milliseconds": round(self.seconds * 1000, 1),
        }


def check_text(text: str, max_chars: int) -> None:
    """Raise :class:`TraceInputError` for a text that is empty, looks binary or is longer
    than ``max_chars`` characters."""
    if not isinstance(text, str):
        raise TraceInputError("the text must be a string")
    if len(text) > max_chars:
        raise TraceInputError(f"the text has {len(text):,} characters; at most "
                              f"{max_chars:,} are traced at once (split it)")
    if not text.strip():
        raise TraceInputError("the text is empty")
    sample = text[:65536]
    control = sum(1 for ch in sample if ord(ch) in _CONTROL)
    if "\x00" in sample or control > len(sample) * 0.01:
        raise TraceInputError("the text looks binary (NUL or control characters), not text")


def seed_starts(covered: np.ndarray, min_words: int) -> np.ndarray:
    """The text positions worth a near-verbatim seed: those less than ``min_words`` words
    from a word that no verbatim span covers (a passage that verbatim spans cover almost
    entirely is not reported again, so a text copied verbatim costs no seed search)."""
    uncovered = np.concatenate([[0], np.cumsum(~covered)])
    positions = np.arange(len(covered))
    lo = np.clip(positions - min_words, 0, len(covered))
    hi = np.clip(positions + min_words + SEED, 0, len(covered))
    return positions[uncovered[hi] - uncovered[lo] > 0]


class TraceIndex:
    """An opened replication index."""

    def __init__(self, path: Path, manifest: dict[str, Any], shards: list[IndexShard],
                 jobs: int = 1) -> None:
        self.path = path
        self.manifest = manifest
        self.shards = shards
        self.jobs = max(1, jobs)
        self._pool = ThreadPoolExecutor(self.jobs) if self.jobs > 1 and len(shards) > 1 \
            else None

    @classmethod
    def open(cls, path: str | Path, *, jobs: int = 1) -> TraceIndex:
        """Open the index at ``path``; raises :class:`IndexOpenError` when it is missing,
        not an index, incomplete or of another format version. ``jobs`` threads search the
        shards of one query in parallel."""
        folder = Path(path)
        manifest = read_manifest(folder)
        try:
            shards = [IndexShard(folder / s["name"]) for s in manifest["shards"]]
        except (OSError, ValueError) as exc:
            raise IndexOpenError(f"{folder}: unreadable index shard ({exc})") from exc
        index = cls(folder, manifest, shards, jobs)
        query_words("warm up")  # the first Arrow-to-Python conversion imports pandas
        return index

    @property
    def info(self) -> dict[str, Any]:
        """Shards, documents and words of the index."""
        return {"shards": len(self.shards),
                "documents": self.manifest.get("documents", 0),
                "words": self.manifest.get("words", 0),
                "licrawl_version": self.manifest.get("licrawl_version")}

    def _map(self, fn: Any, items: list[Any]) -> list[Any]:
        if self._pool is None:
            return [fn(item) for item in items]
        return list(self._pool.map(fn, items))

    def trace(self, text: str, *, min_words: int = DEFAULT_MIN_WORDS,
              max_sources: int = DEFAULT_MAX_SOURCES, near: bool = True,
              max_chars: int = DEFAULT_MAX_CHARS) -> TraceResult:
        """Find the spans of ``text`` (at least ``min_words`` words) that the corpus holds,
        verbatim or nearly, with at most ``max_sources`` source documents per span and a
        verdict per source. Raises :class:`TraceInputError` for a text that cannot be
        traced."""
        started = time.monotonic()
        if min_words < SEED:
            raise TraceInputError(f"a span must be at least {SEED} words long (min_words)")
        check_text(text, max_chars)
        words = query_words(text)
        notes = []
        if len(words) < min_words:
            notes.append(f"the text has {len(words)} words; a span needs at least "
                         f"{min_words}")
        ids = [shard.word_ids(words.hashes, words.index) for shard in self.shards]
        spans = self._verbatim(words, ids, min_words, max_sources)
        if near:
            spans += self._near(words, ids, spans, min_words, max_sources)
        ids_of, sources = self._sources(spans)
        for span in spans:
            span.source_ids = list(dict.fromkeys(ids_of[k] for k in span.sources))
        return TraceResult(len(words), min_words, spans, sources, notes,
                           time.monotonic() - started, self.info)

    def _verbatim(self, words: QueryWords, ids: list[np.ndarray], min_words: int,
                  max_sources: int) -> list[Span]:
        """Maximal verbatim spans over every shard, rarest first."""
        shards = list(range(len(self.shards)))
        lengths = self._map(lambda i: self.shards[i].longest(ids[i], min_words), shards)
        if not lengths:
            return []
        best = np.max(lengths, axis=0)
        spans = []
        for a, b in maximal_spans(best, min_words):
            count, docs = 0, []
            for i in shards:
                if lengths[i][a] < b - a:
                    continue
                lb, ub = self.shards[i].occurrences(ids[i], a, b)
                count += ub - lb
                at = lb
                while len(docs) < max_sources and at < ub:  # a chunk of occurrences at a time
                    rows, _ = self.shards[i].documents(at, ub, OCCURRENCES_CHUNK)
                    at += OCCURRENCES_CHUNK
                    for key in ((i, row) for row in rows.tolist()):
                        if len(docs) < max_sources and key not in docs:
                            docs.append(key)
            spans.append(Span(a, b, int(words.starts[a]), int(words.ends[b - 1]),
                              "verbatim", count, docs))
        spans.sort(key=rarest_first)
        return spans

    def _near(self, words: QueryWords, ids: list[np.ndarray], verbatim: list[Span],
              min_words: int, max_sources: int) -> list[Span]:
        """Near-verbatim passages not already covered by verbatim spans."""
        covered = np.zeros(len(words), bool)
        for span in verbatim:
            covered[span.first:span.last] = True
        starts = seed_starts(covered, min_words)
        seeds = self._map(lambda i: self.shards[i].seeds(ids[i], starts),
                          list(range(len(ids))))
        found: dict[tuple[int, int], list[DocKey]] = defaultdict(list)
        for i, per_doc in enumerate(seeds):
            for doc, hits in sorted(per_doc.items()):
                for passage in near_passages(hits, SEED, min_words):
                    if not explained(passage, covered):
                        found[passage].append((i, doc))
        spans = [Span(a, b, int(words.starts[a]), int(words.ends[b - 1]), "near", len(docs),
                      docs[:max_sources]) for (a, b), docs in found.items()]
        spans.sort(key=rarest_first)
        return spans

    def _sources(self, spans: list[Span]) -> tuple[dict[DocKey, str], list[dict[str, Any]]]:
        """Each source document once (a document indexed twice counts once, by id), with
        its words matched and verdict, the most reproduced first; and the id of each
        (shard, row) key."""
        rows: dict[DocKey, dict[str, Any]] = {}
        covered: dict[str, np.ndarray] = {}
        first_row: dict[str, dict[str, Any]] = {}
        for span in spans:
            for key in span.sources:
                if key not in rows:
                    shard, row = key
                    rows[key] = self.shards[shard].docs.slice(row, 1).to_pylist()[0]
                doc_id = rows[key]["id"]
                first_row.setdefault(doc_id, rows[key])
                covered[doc_id] = np.union1d(covered.get(doc_id, np.zeros(0, np.int64)),
                                             np.arange(span.first, span.last))
        matched = {doc_id: len(positions) for doc_id, positions in covered.items()}
        sources = []
        for doc_id in sorted(matched, key=lambda d: (-matched[d], d)):
            doc = dict(first_row[doc_id])
            if not doc.get("license_name"):  # NOASSERTION has no name in the manifest
                doc["license_name"] = license_terms(doc.get("license")).name
            if doc.get("license_confidence") is not None:  # float32 in the index
                doc["license_confidence"] = round(doc["license_confidence"], 4)
            doc["words_matched"] = matched[doc_id]
            doc["verdict"] = verdict(matched[doc_id], doc)
            sources.append(doc)
        return {key: row["id"] for key, row in rows.items()}, sources
