"""Licrawl shard sets with known duplicate truth, for the ``licrawl dedup`` benchmarks.

Two generators, both deterministic for a given seed (the same documents, ids and truth on
every run; shard file names carry a time stamp and pid, like every ``ShardWriter`` shard):

``write_truth_set(folder, n_docs, seed)`` -- the quality set
    Real page texts, near-duplicate copies of them with known edits, and unrelated pages,
    some of them hard negatives.

    *Real texts.* The main text of every saved page in ``tests/pages/devset/*.html`` (75
    pages) and ``crawler/demo/site/**/*.html`` (14 pages), extracted with
    ``trafilatura.extract`` (no comments, no tables' markup); texts under 40 words are left
    out (they cannot carry a 5-gram near-duplicate test), which leaves 81 texts (about
    100,000 words). These are used once each as originals, in a seeded order.

    *Derived ("real-ish") originals.* Once the real texts are used up, each further
    original is assembled from runs of real sentences: the real texts are split into
    paragraphs and those into sentences; a derived original is a sequence of paragraphs,
    each paragraph a run of 2-6 consecutive sentences of one real text (random text, random
    start), until a length drawn from a log-normal (median 350 words, clipped to 60-3,000)
    is reached. Every sentence is real and paragraphs read naturally. A short real text can
    be taken whole into a derived one, so every new original (real or derived) and every
    hard negative is drawn again while its true Jaccard (5-gram shingles) with an earlier
    original or hard negative, other than the page it shares text with on purpose, is 0.3
    or more: unrelated pages are unrelated.

    *Truth groups.* A group is one original and the copies derived from it by the
    near-duplicate variations below. Of the originals, 45 % get copies (1 copy: 45 %, 2:
    25 %, 3: 15 %, 4: 10 %, 5: 5 %); the others are unrelated singletons. In 10 % of the
    groups with two or more copies the original itself is left out (it was not crawled),
    so only the copies are there. Each copy is on its own host and URL (``mirror``,
    ``scraper``, ``aggregator`` hosts), published and fetched later than the original, with
    a license drawn from ``CC-BY-4.0``, ``LicenseRef-All-Rights-Reserved`` and
    ``NOASSERTION`` (an exact copy always gets a license other than the original's);
    originals get ``CC-BY-4.0``, ``CC-BY-SA-4.0``, ``CC0-1.0``,
    ``LicenseRef-All-Rights-Reserved`` or ``NOASSERTION``. A third of the copies have a
    ``canonical_url`` pointing to the original; originals' canonical URL is their own.

    Variations of a copy (share of copies, strength):

    - ``exact`` (15 %): the same text, byte for byte (same ``text_sha1``).
    - ``reformat`` (10 %): the same words with other formatting: paragraphs joined with
      spaces or separated by blank lines, straight quotes made curly (or the reverse),
      some paragraphs' first words upper-cased, double spaces. Word n-grams of the
      normalized text are unchanged (true Jaccard 1.0 once case, punctuation and
      whitespace are folded), except where upper-casing cannot be undone by lower-casing
      (German "ß" becomes "SS", Turkish dotless "ı" becomes "I").
    - ``edit`` (25 %): light word edits, 0.3 %-1.5 % of the words (at least 1): each edit
      substitutes a word (50 %) with a word from the real texts' vocabulary, inserts one
      (25 %) or drops one (25 %), at random positions.
    - ``boilerplate`` (20 %): lines of the mirror site's template added: 1-3 header lines
      ("Skip to main content", site name and tagline, a navigation bar) and 1-4 footer
      lines (copyright line, share buttons, tags, newsletter, "related posts"), at most
      10 % of the text's word count (at least 8 words).
    - ``truncate`` (15 %): the last 3 %-12 % of the words cut (a mirror that shows an
      excerpt, or a page that lost its last paragraph), sometimes followed by "Read more".
    - ``combo`` (15 %): all three, lighter: edits at 0.2 %-0.8 %, boilerplate at most 6 %,
      a 2 %-6 % tail cut.

    The generator's command line prints, for every variation, the number of copies and
    the min / median / max true Jaccard (5-gram shingles) of each copy to its original.
    On the 5,000-document set of seed 1 (generator version 3)::

        variation       docs   min    median  max
        original        2186
        exact            294   1.000  1.000   1.000
        reformat         227   0.891  1.000   1.000   (ß / ı upper-cased: a short text)
        edit             561   0.847  0.920   0.981
        boilerplate      419   0.891  0.938   0.997
        truncate         328   0.797  0.922   1.000
        combo            314   0.714  0.883   0.947
        hard-boilerplate 245   0.412  0.521   0.692   (to the first page of its site)
        hard-template    280   0.065  0.106   0.266
        hard-quote        63   0.001  0.080   0.242   (to the quoted page)
        hard-prefix       84   0.149  0.265   0.400   (to the page it starts like)
        5,001 documents, 2,925 true groups, 1,036 with 2+ documents, 3,862 true pairs

    Some ``combo`` and ``truncate`` copies of short texts fall below 0.8: a MinHash dedup
    at threshold 0.8 is expected to miss those few.

    *Unrelated pages and hard negatives* (each its own truth group; 12 % of the draws, the
    rest being originals with or without copies):

    - ``hard-template``: 2-4 short derived pages (40-150 words, plus at most one
      paragraph) on one site, all wrapped in the same header and footer lines of the
      site's template (about 40 words), their bodies drawn from different real texts.
      Pairs share the template.
    - ``hard-boilerplate``: 2-4 very short pages (12-35 words of body) on one site, all in
      the site's whole template (all header and footer lines, about 80 words): event or
      tag pages that differ only in their short body. Pairs share most of their words but
      not their content (true Jaccard about 0.4-0.7): a dedup that merges them at a 0.8
      threshold merges pages below it.
    - ``hard-quote``: a new derived page that quotes 1-2 paragraphs (at most 35 % of its
      words) of an existing original.
    - ``hard-prefix``: a new page that starts with the first 35 %-50 % of an existing
      original's words and continues with as many words of other text (same
      introduction, another article).

    Real duplicates of each other they are not (true Jaccard to the page they share text
    with in the table above), and a dedup that merges them loses precision.

``write_synthetic_set(folder, n_docs, seed)`` -- the speed and memory sets
    Fast generated texts for 200,000 / 800,000 documents: Zipf-distributed words (a
    40,000-word vocabulary of the real texts' words plus syllable words, 4 % of them with a
    trailing full stop or comma, 4 % capitalized), log-normal lengths (median 400 words,
    clipped to 40-6,000, about 4.6 KB per text). 90 % of the documents are originals, so most
    are not duplicates; 3 % are exact copies and 7 % near copies (0.5 %-2 % of the words
    substituted, at least 2) of an original of the same or the previous batch of 4,096
    documents, so copies land in other shards. The truth is written the same way.

Both write ``folder/data/*.parquet`` (real licrawl shards: ``crawler.store.shards.
ShardWriter``, the record schema, an SPDX document per shard in ``folder/spdx``), and
``folder/truth.parquet`` (``id``, ``group``, ``variation``, ``jaccard`` (true Jaccard of
5-gram shingles to the group's original; null where it was not computed), ``source``
(id of the page whose text a hard negative shares, else null)). ``id`` is
sha1(url + newline + text_sha1), ``text_sha1`` is sha1(text).

    .venv/bin/python bench/dedup_truth.py --docs 3000 --work /tmp/truth      # quality set
    .venv/bin/python bench/dedup_truth.py --synthetic --docs 200000 --work /tmp/syn
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crawler.core.schema import record_schema
from crawler.licenses import category
from crawler.stages.dedup.minhash import shingles
from crawler.store.shards import ShardWriter

ROOT = Path(__file__).resolve().parent.parent
PAGE_GLOBS = [(ROOT / "tests/pages/devset", "*.html"), (ROOT / "crawler/demo/site", "**/*.html")]
MIN_WORDS = 40
ORIGINAL_LICENSES = ["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "LicenseRef-All-Rights-Reserved",
                     "NOASSERTION"]
COPY_LICENSES = ["CC-BY-4.0", "LicenseRef-All-Rights-Reserved", "NOASSERTION"]
VARIATIONS = [("exact", 0.15), ("reformat", 0.10), ("edit", 0.25), ("boilerplate", 0.20),
              ("truncate", 0.15), ("combo", 0.15)]
COPY_COUNTS = [(1, 0.45), (2, 0.25), (3, 0.15), (4, 0.10), (5, 0.05)]
SHARE_WITH_COPIES = 0.45
SHARE_HARD = 0.12
ORIGINAL_MISSING = 0.10
MAX_UNRELATED_JACCARD = 0.3
BATCH_ROWS = 4096
GENERATOR_VERSION = 3
"""Written to ``folder/generator.json``; a set of another version is not reused."""
TRUTH_SCHEMA = pa.schema([("id", pa.string()), ("group", pa.int64()),
                          ("variation", pa.string()), ("jaccard", pa.float64()),
                          ("source", pa.string())])
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“‘(]?[A-Z0-9])")
BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- shingles

def jaccard(a: set[str], b: set[str]) -> float:
    """Jaccard similarity of two sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


# --------------------------------------------------------------------------- real texts

@cache
def real_texts() -> tuple[str, ...]:
    """Main texts of the saved real pages (trafilatura), in path order, >= MIN_WORDS words."""
    import trafilatura

    texts = []
    for folder, pattern in PAGE_GLOBS:
        for path in sorted(folder.glob(pattern)):
            html = path.read_text(encoding="utf-8", errors="replace")
            text = trafilatura.extract(html, include_comments=False, include_tables=True)
            if text and len(text.split()) >= MIN_WORDS:
                texts.append(text.strip())
    return tuple(texts)


@cache
def _sentence_pool() -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """(per real text: its sentences in order; the vocabulary of the real texts)."""
    per_text, vocab = [], set()
    for text in real_texts():
        sentences = []
        for para in text.split("\n"):
            sentences.extend(s.strip() for s in _SENTENCE_END.split(para) if s.strip())
        per_text.append(tuple(sentences))
        vocab.update(w for w in _WORD.findall(text) if w.isalpha() and len(w) > 2)
    return tuple(per_text), tuple(sorted(vocab))


def derived_text(rng: random.Random, n_words: int, used: set[int] | None = None) -> str:
    """A "real-ish" text of about ``n_words`` words: paragraphs that are runs of 2-6
    consecutive real sentences, each from a random real text. With ``used``, texts in it
    are not drawn and the texts drawn are added to it (pages that must not share text)."""
    texts, _ = _sentence_pool()
    paragraphs, words = [], 0
    while words < n_words:
        pick = rng.randrange(len(texts))
        if used is not None:
            while pick in used and len(used) < len(texts):
                pick = rng.randrange(len(texts))
            used.add(pick)
        sentences = texts[pick]
        run = rng.randint(2, 6)
        start = rng.randrange(max(1, len(sentences) - run + 1))
        para = " ".join(sentences[start:start + run])
        paragraphs.append(para)
        words += len(para.split())
    return "\n".join(paragraphs)


def _length(rng: random.Random, median: float = 350, low: int = 60, high: int = 3000) -> int:
    return int(min(high, max(low, rng.lognormvariate(math.log(median), 0.7))))


# --------------------------------------------------------------------------- variations

def _paragraph_words(text: str) -> list[list[str]]:
    return [p.split() for p in text.split("\n") if p.strip()]


def _join(paragraphs: list[list[str]]) -> str:
    return "\n".join(" ".join(p) for p in paragraphs if p)


def edit_words(rng: random.Random, text: str, rate: float) -> str:
    """Substitute (50 %), insert (25 %) or drop (25 %) ``rate`` of the words (>= 1)."""
    _, vocab = _sentence_pool()
    paragraphs = _paragraph_words(text)
    total = sum(len(p) for p in paragraphs)
    for _ in range(max(1, round(rate * total))):
        para = paragraphs[rng.choices(range(len(paragraphs)), [len(p) for p in paragraphs])[0]]
        pos = rng.randrange(len(para))
        op = rng.random()
        if op < 0.5:
            para[pos] = vocab[rng.randrange(len(vocab))]
        elif op < 0.75:
            para.insert(pos, vocab[rng.randrange(len(vocab))])
        elif len(para) > 1:
            del para[pos]
    return _join(paragraphs)


def _site_name(rng: random.Random) -> str:
    first = ["Daily", "Open", "Green", "Northern", "Field", "Tech", "Quiet", "Urban", "River"]
    second = ["Notes", "Digest", "Journal", "Post", "Review", "Chronicle", "Wire", "Gazette"]
    return f"{rng.choice(first)} {rng.choice(second)}"


def boilerplate_lines(rng: random.Random, site: str) -> tuple[list[str], list[str]]:
    """Header and footer lines of a site template (all candidate lines, in order)."""
    sections = ["News", "Features", "Opinion", "Nature", "Science", "Local", "Events",
                "Archive", "Podcasts", "Contact", "About us", "Subscribe"]
    header = ["Skip to main content",
              f"{site} - " + rng.choice(["stories worth reading", "independent since 2009",
                                         "notes from the field", "your weekly digest"]),
              " | ".join(rng.sample(sections, rng.randint(4, 7)))]
    tags = ", ".join(rng.sample(["wildlife", "walks", "history", "community", "science",
                                 "travel", "photography", "weather", "volunteering"], 3))
    footer = [f"© {rng.randint(2015, 2025)} {site}. All rights reserved.",
              "Share this: Facebook Twitter LinkedIn Email Print",
              f"Posted in {rng.choice(sections)} | Tags: {tags}",
              f"Subscribe to the {site} newsletter for a weekly round-up of new articles, "
              "events and updates from our contributors.",
              "Related posts: " + "; ".join(
                  " ".join(rng.sample(_sentence_pool()[1], rng.randint(3, 5))).capitalize()
                  for _ in range(3))]
    return header, footer


def add_boilerplate(rng: random.Random, text: str, site: str, cap: float) -> str:
    """1-3 header and 1-4 footer lines of ``site``'s template, together at most ``cap``
    of the text's word count (at least 8 words)."""
    header, footer = boilerplate_lines(rng, site)
    budget = max(8, int(cap * len(text.split())))
    head = sorted(rng.sample(range(len(header)), rng.randint(1, 3)))
    foot = sorted(rng.sample(range(len(footer)), rng.randint(1, 4)))
    lines_head: list[str] = []
    lines_foot: list[str] = []
    for line, target in [(header[i], lines_head) for i in head] + \
            [(footer[i], lines_foot) for i in foot]:
        words = line.split()[:budget]
        if words:
            target.append(" ".join(words))
            budget -= len(words)
    return "\n".join([*lines_head, text, *lines_foot])


def truncate(rng: random.Random, text: str, low: float, high: float) -> str:
    """Cut the last ``low``-``high`` share of the words; sometimes add "Read more"."""
    paragraphs = _paragraph_words(text)
    total = sum(len(p) for p in paragraphs)
    keep = total - max(1, round(rng.uniform(low, high) * total))
    out, count = [], 0
    for para in paragraphs:
        if count >= keep:
            break
        out.append(para[:keep - count])
        count += len(out[-1])
    if rng.random() < 0.4:
        out.append(["Read", "more"])
    return _join(out)


def reformat(rng: random.Random, text: str) -> str:
    """Same words, other formatting (whitespace, quotes, case of some first words)."""
    paragraphs = [p for p in text.split("\n") if p.strip()]
    out = []
    for para in paragraphs:
        if rng.random() < 0.3:
            words = para.split(" ")
            k = rng.randint(1, min(4, len(words)))
            para = " ".join([w.upper() for w in words[:k]] + words[k:])
        if rng.random() < 0.5:
            para = para.replace(" ", "  ", rng.randint(1, 5))
        out.append(para)
    text = "\n\n".join(out) if rng.random() < 0.5 else " ".join(out)
    if "’" in text or "“" in text:
        text = text.replace("’", "'").replace("“", '"').replace("”", '"')
    else:
        text = re.sub(r"(\w)'(\w)", "\\1’\\2", text)
    return text


def apply_variation(rng: random.Random, name: str, text: str, site: str) -> str:
    """The text of a copy of ``text`` made with variation ``name`` (see the docstring)."""
    if name == "exact":
        return text
    if name == "reformat":
        return reformat(rng, text)
    if name == "edit":
        return edit_words(rng, text, rng.uniform(0.003, 0.015))
    if name == "boilerplate":
        return add_boilerplate(rng, text, site, 0.10)
    if name == "truncate":
        return truncate(rng, text, 0.03, 0.12)
    if name == "combo":
        text = edit_words(rng, text, rng.uniform(0.002, 0.008))
        text = truncate(rng, text, 0.02, 0.06)
        return add_boilerplate(rng, text, site, 0.06)
    raise ValueError(f"unknown variation {name!r}")


# --------------------------------------------------------------------------- the quality set

@dataclass
class Doc:
    """One generated document and its truth."""

    text: str
    group: int
    variation: str
    host: str
    path: str
    license: str
    day: int  # published this many days after 2024-01-01
    canonical: str | None = None
    source: int | None = None  # index of the doc a hard negative shares text with
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The document's URL."""
        return f"https://{self.host}{self.path}"


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


class _Novelty:
    """Shingle index of the texts that must stay unrelated to each other (originals and
    hard negatives, by truth group), to turn down a new text too close to one of them."""

    def __init__(self, ngram: int = 5) -> None:
        self.shingles = shingles
        self.ngram = ngram
        self.index: dict[str, list[int]] = defaultdict(list)
        self.sizes: dict[int, int] = {}

    def max_jaccard(self, text: str, exclude: Collection[int] = ()) -> float:
        """The largest true Jaccard of ``text`` with an indexed text not in ``exclude``."""
        mine = set(self.shingles(text, self.ngram))
        shared: dict[int, int] = defaultdict(int)
        for sh in mine:
            for key in self.index.get(sh, ()):
                shared[key] += 1
        return max((c / (len(mine) + self.sizes[k] - c) for k, c in shared.items()
                    if k not in exclude), default=0.0)

    def add(self, key: int, text: str) -> None:
        """Index ``text`` under truth group ``key``."""
        mine = set(self.shingles(text, self.ngram))
        for sh in mine:
            self.index[sh].append(key)
        self.sizes[key] = len(mine)


def _novel(rng: random.Random, novelty: _Novelty, make: Callable[[], str],
           exclude: Collection[int] = ()) -> str:
    """``make()`` again until its text is below MAX_UNRELATED_JACCARD to every indexed
    text outside ``exclude`` (at most 50 tries, then the last one)."""
    for _ in range(50):
        text = make()
        if novelty.max_jaccard(text, exclude) < MAX_UNRELATED_JACCARD:
            return text
    return text


def generate_truth_docs(n_docs: int, seed: int = 1) -> list[Doc]:
    """About ``n_docs`` documents (stops at the first group that reaches it) with truth."""
    rng = random.Random(seed)
    reals = list(real_texts())
    rng.shuffle(reals)
    docs: list[Doc] = []
    group = 0
    originals: list[int] = []  # indices of docs that are originals (for hard negatives)
    novelty = _Novelty()

    def new_original_text() -> str:
        while reals:
            text = reals.pop()
            if novelty.max_jaccard(text) < MAX_UNRELATED_JACCARD:
                return text
        return _novel(rng, novelty, lambda: derived_text(rng, _length(rng)))

    while len(docs) < n_docs:
        group += 1
        if rng.random() < SHARE_HARD and originals:
            _hard_negatives(rng, docs, originals, group, novelty)
            group = max(d.group for d in docs)
            continue
        text = new_original_text()
        novelty.add(group, text)
        host = f"blog{group}.example"
        original = Doc(text, group, "original", host, f"/posts/{group}", _pick(
            rng, [(lic, 1) for lic in ORIGINAL_LICENSES]), rng.randrange(0, 200))
        original.canonical = original.url
        copies: list[Doc] = []
        if rng.random() < SHARE_WITH_COPIES:
            for k in range(_pick(rng, COPY_COUNTS)):
                variation = _pick(rng, VARIATIONS)
                kind = rng.choice(["mirror", "scraper", "aggregator"])
                chost = f"{kind}{rng.randrange(400)}.example"
                site = _site_name(random.Random(chost))
                ctext = apply_variation(rng, variation, text, site)
                licenses = [lic for lic in COPY_LICENSES
                            if variation != "exact" or lic != original.license]
                copy = Doc(ctext, group, variation, chost, f"/{group}/copy-{k}",
                           rng.choice(licenses), original.day + rng.randint(1, 300))
                copy.canonical = original.url if rng.random() < 1 / 3 else None
                copies.append(copy)
        if len(copies) < 2 or rng.random() >= ORIGINAL_MISSING:
            originals.append(len(docs))
            docs.append(original)
        docs.extend(copies)
    return docs


def _hard_negatives(rng: random.Random, docs: list[Doc], originals: list[int],
                    group: int, novelty: _Novelty) -> None:
    """Append one family of hard negatives (each document its own truth group), each
    below MAX_UNRELATED_JACCARD to every other page but the one it shares text with."""
    kind = rng.choice(["hard-template", "hard-boilerplate", "hard-quote", "hard-prefix"])
    if kind in ("hard-template", "hard-boilerplate"):
        host = f"template{group}.example"
        site = _site_name(rng)
        header, footer = boilerplate_lines(rng, site)
        if kind == "hard-template":
            frame_head, frame_foot = header[:2], footer[:2] + footer[3:4]
        else:
            frame_head, frame_foot = header, footer
        first, used = len(docs), set()
        family = set(range(group, group + 4))

        def body() -> str:
            if kind == "hard-template":
                return derived_text(rng, rng.randint(40, 150), used)
            words = rng.randint(12, 35)
            return " ".join(derived_text(rng, words, used).split()[:words])

        for k in range(rng.randint(2, 4)):
            text = _novel(rng, novelty, lambda: "\n".join([*frame_head, body(), *frame_foot]),
                          family)
            novelty.add(group + k, text)
            docs.append(Doc(text, group + k, kind, host, f"/page-{k}", rng.choice(
                ORIGINAL_LICENSES), rng.randrange(0, 400), source=first if k else None))
        return
    source = originals[rng.randrange(len(originals))]
    src_paras = [p for p in docs[source].text.split("\n") if p.strip()]
    if kind == "hard-quote":
        own = _novel(rng, novelty, lambda: derived_text(rng, _length(rng, 400, 150, 2000)),
                     {docs[source].group}).split("\n")
        budget = int(0.35 * sum(len(p.split()) for p in own) / 0.65)
        quoted = [p for p in rng.sample(src_paras, min(len(src_paras), rng.randint(1, 2)))
                  if len(p.split()) <= budget] or [" ".join(src_paras[0].split()[:budget])]
        for para in quoted:
            own.insert(rng.randrange(len(own) + 1), para)
        text = "\n".join(own)
    else:
        paragraphs = _paragraph_words(docs[source].text)
        total = sum(len(p) for p in paragraphs)
        head = truncate(rng, docs[source].text, 0.5, 0.65).removesuffix("\nRead more")
        rest = _novel(rng, novelty, lambda: derived_text(rng, max(40, total - len(
            head.split()))))
        text = "\n".join([head, rest])
    novelty.add(group, text)
    docs.append(Doc(text, group, kind, f"other{group}.example", f"/article-{group}",
                    rng.choice(ORIGINAL_LICENSES), rng.randrange(0, 400), source=source))


# --------------------------------------------------------------------------- rows

def _evidence(lic: str) -> list[dict[str, Any]]:
    if lic == "NOASSERTION":
        return []
    kind = "copyright-notice" if lic.startswith("LicenseRef-") else "rel-license"
    return [{"kind": kind, "value": lic, "spdx": lic, "where": "main", "weight": 0.9}]


def _sha1s(texts: pa.Array) -> list[str]:
    texts = texts.cast(pa.string())
    _, offset_buffer, data_buffer = texts.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int32)[texts.offset:]
    data = memoryview(data_buffer)
    return [hashlib.sha1(data[offsets[i]:offsets[i + 1]]).hexdigest()
            for i in range(len(texts))]


def record_batch(texts: pa.Array | list[str], urls: list[str], hosts: list[str],
                 licenses: list[str], published: list[str | None],
                 fetched_at: list[datetime], canonical: list[str | None],
                 crawl_id: str) -> tuple[pa.RecordBatch, list[str]]:
    """A batch of valid records (every column of ``record_schema()``; the dedup columns
    null) and the rows' ids."""
    schema = record_schema()
    texts = pa.array(texts, pa.string()) if isinstance(texts, list) else texts
    n = len(texts)
    sha1s = _sha1s(texts)
    ids = [hashlib.sha1(f"{u}\n{s}".encode()).hexdigest() for u, s in zip(urls, sha1s,
                                                                          strict=True)]
    categories = {lic: category(lic) for lic in set(licenses)}
    evidence = {lic: _evidence(lic) for lic in set(licenses)}
    columns: dict[str, Any] = {
        "id": ids, "url": urls, "canonical_url": canonical, "host": hosts,
        "fetched_at": fetched_at, "http_status": [200] * n,
        "content_type": ["text/html; charset=utf-8"] * n,
        "title": [u.rsplit("/", 1)[-1] for u in urls], "text": texts, "lang": ["en"] * n,
        "published": published, "authors": [[] for _ in range(n)], "copyright": [None] * n,
        "license": licenses, "license_category": [categories[lic] for lic in licenses],
        "license_confidence": [0.9 if lic != "NOASSERTION" else 0.0 for lic in licenses],
        "license_conflict": [False] * n,
        "license_evidence": [evidence[lic] for lic in licenses],
        "attribution": [None] * n, "tdm_reserved": [False] * n, "tdm_policy": [None] * n,
        "ai_optout": [[] for _ in range(n)], "text_sha1": sha1s,
        "warc_file": ["bench-dedup.warc.gz"] * n,
        "warc_record_id": [f"<urn:uuid:{i[:8]}-{i[8:12]}-4{i[13:16]}-8{i[17:20]}-{i[20:32]}>"
                           for i in ids],
        "crawl_id": [crawl_id] * n,
    }
    arrays = []
    for f in schema:
        value = columns.get(f.name)
        if value is None:
            arrays.append(pa.nulls(n, f.type))
        elif isinstance(value, pa.Array):
            arrays.append(value.cast(f.type))
        else:
            arrays.append(pa.array(value, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema), ids


def _check_empty(folder: Path) -> None:
    """Create ``folder``; refuse one that already holds a set (shards would mix)."""
    if (folder / "data").exists() and any((folder / "data").iterdir()):
        raise FileExistsError(f"{folder} already holds a shard set")
    folder.mkdir(parents=True, exist_ok=True)


def _stamp(folder: Path, kind: str, n_docs: int, seed: int) -> None:
    (folder / "generator.json").write_text(json.dumps(
        {"version": GENERATOR_VERSION, "kind": kind, "docs": n_docs, "seed": seed}))


def is_complete(folder: Path, kind: str, n_docs: int, seed: int) -> bool:
    """Whether ``folder`` holds a complete set of this generator version and parameters."""
    try:
        stamp = json.loads((folder / "generator.json").read_text())
    except (OSError, ValueError):
        return False
    return stamp == {"version": GENERATOR_VERSION, "kind": kind, "docs": n_docs, "seed": seed}


def write_truth_set(folder: Path, n_docs: int, seed: int = 1,
                    ngram: int = 5) -> pa.Table:
    """Write the quality set into ``folder/data`` (shards) and ``folder/truth.parquet``;
    return the truth table (with true Jaccard of each document to its group's original,
    or for hard negatives to the page they share text with)."""
    _check_empty(folder)
    docs = generate_truth_docs(n_docs, seed)
    order = list(range(len(docs)))
    random.Random(seed + 1).shuffle(order)  # copies spread over the shards
    sets = [set(shingles(d.text, ngram)) for d in docs]
    origin = {d.group: i for i, d in enumerate(docs) if d.variation == "original"}
    ids: list[str] = [""] * len(docs)
    with ShardWriter(folder / "data", max_rows=1000, row_group_rows=500) as writer:
        for start in range(0, len(order), 1000):
            chunk = [docs[i] for i in order[start:start + 1000]]
            day0 = datetime(2024, 1, 1, tzinfo=UTC)
            batch, chunk_ids = record_batch(
                [d.text for d in chunk], [d.url for d in chunk], [d.host for d in chunk],
                [d.license for d in chunk],
                [(day0 + timedelta(days=d.day)).date().isoformat() for d in chunk],
                [day0 + timedelta(days=d.day + 30, seconds=i) for i, d in enumerate(chunk)],
                [d.canonical for d in chunk], f"dedup-truth-{seed}")
            writer.write_batch(batch)
            for i, id_ in zip(order[start:start + 1000], chunk_ids, strict=True):
                ids[i] = id_
    truth = {"id": ids, "group": [d.group for d in docs],
             "variation": [d.variation for d in docs], "jaccard": [], "source": []}
    for i, d in enumerate(docs):
        ref = d.source if d.source is not None else origin.get(d.group)
        truth["jaccard"].append(jaccard(sets[i], sets[ref]) if ref is not None else None)
        truth["source"].append(ids[d.source] if d.source is not None else None)
    table = pa.table(truth, schema=TRUTH_SCHEMA)
    pq.write_table(table, folder / "truth.parquet")
    _stamp(folder, "quality", n_docs, seed)
    return table


# --------------------------------------------------------------------------- synthetic sets

@cache
def _synthetic_vocabulary(size: int = 40_000, seed: int = 7) -> pa.Array:
    """Real words of the saved pages plus syllable words; 4 % with a trailing '.' or ',',
    4 % capitalized; shuffled so that frequent ranks mix real and syllable words."""
    rng = np.random.default_rng(seed)
    words = {w.lower() for w in _sentence_pool()[1]}
    syllables = ["ka", "lo", "mi", "ne", "tar", "vel", "qu", "is", "ent", "or", "an", "the",
                 "ing", "pro", "con", "al", "re", "de", "ma", "sto", "ber", "gen", "ul"]
    while len(words) < size:
        words.add("".join(rng.choice(syllables, size=rng.integers(2, 5))))
    vocab = np.array(sorted(words)[:size], dtype=object)
    rng.shuffle(vocab)
    marks = rng.random(size)
    for i in np.flatnonzero(marks < 0.04):
        vocab[i] = vocab[i] + ("." if marks[i] < 0.025 else ",")
    for i in np.flatnonzero(marks > 0.96):
        vocab[i] = vocab[i].capitalize()
    return pa.array(vocab.tolist(), pa.string())


def write_synthetic_set(folder: Path, n_docs: int, seed: int = 1,
                        exact_share: float = 0.03, near_share: float = 0.07,
                        progress: bool = True) -> dict[str, int]:
    """Write ``n_docs`` generated documents (see the module docstring) into ``folder/data``
    and their truth into ``folder/truth.parquet``; returns counts by variation."""
    _check_empty(folder)
    rng = np.random.default_rng(seed)
    vocab = _synthetic_vocabulary()
    counts: dict[str, int] = defaultdict(int)
    truth_writer = pq.ParquetWriter(folder / "truth.parquet", TRUTH_SCHEMA)
    previous: list[tuple[np.ndarray, int]] = []  # (word ranks, group) of the last batch
    started = time.monotonic()
    with ShardWriter(folder / "data") as writer:
        for start in range(0, n_docs, BATCH_ROWS):
            n = min(BATCH_ROWS, n_docs - start)
            lengths = np.clip(rng.lognormal(math.log(400), 0.6, n).astype(np.int64), 40, 6000)
            kinds = rng.random(n)
            docs: list[np.ndarray] = []
            groups: list[int] = []
            variations: list[str] = []
            current: list[tuple[np.ndarray, int]] = []
            for i in range(n):
                pool = previous + current
                if kinds[i] < exact_share + near_share and pool:
                    words, group = pool[int(rng.integers(len(pool)))]
                    if kinds[i] < exact_share:
                        variation = "exact"
                    else:
                        words = words.copy()
                        k = max(2, int(len(words) * rng.uniform(0.005, 0.02)))
                        words[rng.integers(0, len(words), k)] = rng.zipf(1.15, k) % len(vocab)
                        variation = "near"
                else:
                    words = (rng.zipf(1.15, int(lengths[i])) - 1) % len(vocab)
                    group, variation = start + i, "original"
                    current.append((words, group))
                docs.append(words)
                groups.append(group)
                variations.append(variation)
            previous = current
            offsets = np.concatenate([[0], np.cumsum([len(d) for d in docs])]).astype(np.int32)
            ranks = pa.array(np.concatenate(docs))
            texts = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets),
                                                            vocab.take(ranks)), " ")
            hosts = [f"site{h}.example" for h in rng.zipf(1.3, n) % 20_000]
            urls = [f"https://{hosts[i]}/doc/{seed}-{start + i}" for i in range(n)]
            day = rng.integers(0, 700, n)
            published = [(BASE_TIME + timedelta(days=int(d))).date().isoformat() for d in day]
            fetched = [BASE_TIME + timedelta(days=int(d) + 30, seconds=i)
                       for i, d in enumerate(day)]
            licenses = [COPY_LICENSES[int(x)] for x in rng.integers(0, 3, n)]
            batch, ids = record_batch(texts, urls, hosts, licenses, published, fetched,
                                      [None] * n, f"dedup-synthetic-{seed}")
            writer.write_batch(batch)
            truth_writer.write_table(pa.table(
                {"id": ids, "group": groups, "variation": variations,
                 "jaccard": pa.nulls(n, pa.float64()), "source": pa.nulls(n, pa.string())},
                schema=TRUTH_SCHEMA))
            for v in variations:
                counts[v] += 1
            if progress and (start // BATCH_ROWS) % 25 == 24:
                print(f"  generated {start + n:,} / {n_docs:,} docs "
                      f"({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    truth_writer.close()
    _stamp(folder, "synthetic", n_docs, seed)
    return dict(counts)


# --------------------------------------------------------------------------- scoring

def pairwise_scores(truth: dict[str, int], predicted: dict[str, Any]) -> dict[str, float]:
    """Pairwise precision and recall: over unordered pairs of documents in one predicted
    cluster vs in one true group. ``predicted`` maps id to a cluster label; ids missing
    from it are singletons. Counted from the contingency table, so big clusters are cheap.
    """
    cells: dict[tuple[Any, int], int] = defaultdict(int)
    true_sizes: dict[int, int] = defaultdict(int)
    pred_sizes: dict[Any, int] = defaultdict(int)
    for doc_id, group in truth.items():
        label = predicted.get(doc_id, ("singleton", doc_id))
        cells[(label, group)] += 1
        true_sizes[group] += 1
        pred_sizes[label] += 1

    def pairs(counts: Any) -> int:
        return sum(c * (c - 1) // 2 for c in counts)

    both, true_pairs, pred_pairs = pairs(cells.values()), pairs(true_sizes.values()), \
        pairs(pred_sizes.values())
    return {"precision": both / pred_pairs if pred_pairs else 1.0,
            "recall": both / true_pairs if true_pairs else 1.0,
            "true_pairs": true_pairs, "predicted_pairs": pred_pairs, "correct_pairs": both}


def recall_by_variation(truth: pa.Table, predicted: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Per variation: (copies in the same predicted cluster as their original, copies
    whose original is in the set). Hard negatives: (merged with the page they share text
    with, all)."""
    rows = truth.to_pylist()
    original = {r["group"]: r["id"] for r in rows if r["variation"] == "original"}
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        ref = r["source"] if r["variation"].startswith("hard") else original.get(r["group"])
        if r["variation"] == "original" or ref is None:
            continue
        mine = predicted.get(r["id"], ("singleton", r["id"]))
        other = predicted.get(ref, ("singleton", ref))
        out[r["variation"]][0] += mine == other
        out[r["variation"]][1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def describe(truth: pa.Table) -> str:
    """A table of the set: documents per variation, true Jaccard to the reference page."""
    by: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for r in truth.to_pylist():
        counts[r["variation"]] += 1
        if r["jaccard"] is not None and r["variation"] != "original":
            by[r["variation"]].append(r["jaccard"])
    lines = [f"{'variation':<15}{'docs':>7}   true Jaccard to original / shared page: "
             "min   median  max"]
    for name in sorted(counts, key=lambda k: (k.startswith("hard"), k != "original", k)):
        vals = by.get(name)
        stats = (f"{min(vals):.3f}   {statistics.median(vals):.3f}   {max(vals):.3f}"
                 if vals else "-")
        lines.append(f"{name:<15}{counts[name]:>7}   {'':>40}{stats}")
    groups = truth.column("group").to_pylist()
    sizes: dict[int, int] = defaultdict(int)
    for g in groups:
        sizes[g] += 1
    multi = [s for s in sizes.values() if s > 1]
    lines.append(f"{len(groups):,} documents, {len(sizes):,} true groups, {len(multi):,} with "
                 f"2+ documents, {sum(s * (s - 1) // 2 for s in multi):,} true pairs")
    return "\n".join(lines)


def main() -> int:
    """Write a set and print what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--synthetic", action="store_true",
                        help="the fast generated set (speed/memory) instead of the quality set")
    parser.add_argument("--work", default=None,
                        help="folder to write into (default: a new temporary folder)")
    args = parser.parse_args()
    folder = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="licrawl-truth-"))
    if folder.resolve().is_relative_to(ROOT):
        raise SystemExit("write the set outside the repository")
    started = time.monotonic()
    if args.synthetic:
        counts = write_synthetic_set(folder, args.docs, args.seed)
        print(f"{args.docs:,} synthetic docs in {time.monotonic() - started:.1f} s: {counts}")
    else:
        truth = write_truth_set(folder, args.docs, args.seed)
        print(f"quality set in {time.monotonic() - started:.1f} s "
              "(shingles: crawler.stages.dedup.minhash.shingles)")
        print(describe(truth))
    print(f"written to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
