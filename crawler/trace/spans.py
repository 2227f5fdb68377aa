"""From per-position matches to reported spans: maximal verbatim spans and near-verbatim
passages.

Verbatim: OLMoTrace's rule over the longest match at each position of the text: a span of
at least ``min_words`` is kept when it ends after every span kept before it (so a span that
lies inside a longer one is not reported twice).

Near-verbatim: exact ``SEED``-word seeds shared with one document are chained when they lie
on about the same diagonal (document position minus text position, within ``NEAR_DRIFT``
words: a few words inserted or dropped) and at most ``NEAR_GAP`` text words apart (a few
words changed); a chain is a passage when it spans at least ``min_words`` words and its
seeds cover at least ``NEAR_COVER`` of it. A passage that verbatim spans already cover for
80% or more is not reported again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEAR_GAP = 20  # text words between two chained seeds, at most
NEAR_DRIFT = 10  # change of diagonal between two chained seeds, at most
NEAR_COVER = 0.7  # share of a passage's words its seeds must cover
EXPLAINED = 0.8  # a near passage this much inside verbatim spans is not reported


def maximal_spans(lengths: np.ndarray, min_words: int) -> list[tuple[int, int]]:
    """``(start, end)`` word ranges from the longest match at each position."""
    out, last = [], 0
    for p in np.flatnonzero(lengths >= min_words).tolist():
        end = p + int(lengths[p])
        if end > last:
            out.append((p, end))
            last = end
    return out


@dataclass
class _Chain:
    start: int
    end: int
    diagonal: int
    cover: list[tuple[int, int]]


def near_passages(seeds: list[tuple[int, int]], seed_words: int, min_words: int
                  ) -> list[tuple[int, int]]:
    """Near-verbatim passages ``(start, end)`` in text words from one document's seeds
    ``(text position, document position)``."""
    chains: list[_Chain] = []
    for p, q in sorted(seeds):
        diagonal = q - p
        for chain in chains:
            if p <= chain.end + NEAR_GAP and abs(diagonal - chain.diagonal) <= NEAR_DRIFT:
                chain.cover.append((p, p + seed_words))
                chain.end = max(chain.end, p + seed_words)
                chain.diagonal = diagonal
                break
        else:
            chains.append(_Chain(p, p + seed_words, diagonal, [(p, p + seed_words)]))
    found = []
    for chain in chains:
        span = chain.end - chain.start
        if span < min_words:
            continue
        covered, last = 0, chain.start
        for a, b in sorted(chain.cover):
            a = max(a, last)
            if b > a:
                covered += b - a
                last = b
        if covered >= NEAR_COVER * span:
            found.append((chain.start, chain.end))
    return found


def explained(passage: tuple[int, int], covered: np.ndarray) -> bool:
    """True when verbatim spans (``covered``: a mask over text words) cover at least
    ``EXPLAINED`` of ``passage``."""
    a, b = passage
    return bool(covered[a:b].mean() >= EXPLAINED) if b > a else True
