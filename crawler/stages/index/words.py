"""The words of a text as the replication index sees them, one rule for corpus and query.

A text is cut at every run of characters other than letters, digits and ``_`` (Unicode
classes ``L`` and ``N``); each Han, Hiragana and Katakana character is a word of its own
(those scripts put no spaces between words); each word is then lower-cased (Arrow's
``utf8_lower``). So case, punctuation and whitespace never stop a match. Words are
identified by a stable 64-bit hash (BLAKE2b), so a query needs no word strings from the
index.

The corpus side (:func:`split_words`) runs on whole Arrow arrays; the query side
(:func:`query_words`) runs the same Arrow kernels on one text and also finds where each word
is in the text (character offsets), which a trace report needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crawler.stages.dedup.minhash import WordHasher

WORD_BREAK = r"[^\p{L}\p{N}_]+"  # RE2 (Arrow) form
_SINGLE_CHARACTER_WORDS = r"([\p{Han}\p{Hiragana}\p{Katakana}])"
RULE = ("words: runs of Unicode letters, digits and _; each Han, Hiragana and Katakana "
        "character a word; lower-cased by Arrow utf8_lower; BLAKE2b-64 word hashes")


def _pieces(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The words of ``texts`` as written (not lower-cased), flat, and the number of words of
    each text."""
    if len(texts) and pc.any(pc.match_substring_regex(texts, _SINGLE_CHARACTER_WORDS)).as_py():
        texts = pc.replace_substring_regex(texts, _SINGLE_CHARACTER_WORDS, r" \1 ")
    words = pc.split_pattern_regex(texts, WORD_BREAK)
    flat = words.flatten()
    keep = pc.greater(pc.binary_length(flat), 0)
    parents = pc.list_parent_indices(words).filter(keep).to_numpy()
    return flat.filter(keep), np.bincount(parents, minlength=len(texts))


def split_words(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The normalized words of ``texts`` (a string array; nulls have no words), flat, and
    the number of words of each text."""
    flat, counts = _pieces(pc.fill_null(texts, ""))
    return pc.utf8_lower(flat), counts


@dataclass(frozen=True)
class QueryWords:
    """One text's words: ``hashes`` of its distinct normalized words, ``index`` (for each
    word, which of them), and each word's character ``starts`` and ``ends`` in the text."""

    hashes: np.ndarray
    index: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.index)


_HASHER = WordHasher()


def word_hashes(words: list[str]) -> np.ndarray:
    """The 64-bit hashes of normalized words (uint64)."""
    return _HASHER.hashes(words)


def query_words(text: str) -> QueryWords:
    """The words of one text, with their positions in it."""
    pieces, _ = _pieces(pa.array([text], pa.string()))
    written = pieces.to_pylist()
    starts = np.empty(len(written), np.int64)
    ends = np.empty(len(written), np.int64)
    at = 0
    for i, piece in enumerate(written):
        # words are substrings of the text in order, separated by non-word characters,
        # so the next occurrence is the word itself
        at = text.find(piece, at)
        starts[i] = at
        at += len(piece)
        ends[i] = at
    encoded = pc.dictionary_encode(pc.utf8_lower(pieces))
    hashes = word_hashes(encoded.dictionary.to_pylist())
    return QueryWords(hashes, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
                      starts, ends)
