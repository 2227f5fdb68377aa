"""Evidence vocabulary (kind and where checked when evidence is made), the scoring tables
keyed by it, the bound on evidence of one kind and place, and the one ``<meta>`` reader."""

from __future__ import annotations

import json

import lxml.html
import pytest

from crawler.core.evidence import (
    MAX_PER_PLACE,
    Evidence,
    Kind,
    Qualifier,
    Where,
    bound_evidence,
    omitted,
    omitted_count,
    qualified,
    scoped,
    split_where,
)
from crawler.detect.metas import page_metas
from crawler.detect.resolve import resolve
from crawler.detect.scoring import KIND_WEIGHT, PLACE_FACTOR, weigh

BY = "CC-BY-4.0"
BY_SA = "CC-BY-SA-4.0"


# -- kind and where --------------------------------------------------------------------------


def test_known_kind_and_where_are_stored_as_the_same_plain_strings() -> None:
    ev = Evidence("rel-license", "https://x", BY, "footer", 0.81)
    assert ev.kind is Kind.REL_LICENSE
    d = ev.as_dict()
    assert d == {
        "kind": "rel-license",
        "value": "https://x",
        "spdx": BY,
        "where": "footer",
        "weight": 0.81,
    }
    assert type(d["kind"]) is str and type(d["where"]) is str
    assert json.dumps(d) == json.dumps(
        {"kind": "rel-license", "value": "https://x", "spdx": BY, "where": "footer", "weight": 0.81}
    )


@pytest.mark.parametrize("kind", ["license-link", "REL-LICENSE", "", "omitted-ish"])
def test_unknown_kind_is_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="unknown evidence kind"):
        Evidence(kind, "v", BY, "main", 0.5)


@pytest.mark.parametrize(
    "where", ["Footer", "article", "", "main:", "main:maybe", "footer:images", "x:mention"]
)
def test_unknown_where_is_refused(where: str) -> None:
    with pytest.raises(ValueError, match="unknown evidence"):
        Evidence("text", "v", BY, where, 0.0)


@pytest.mark.parametrize(
    ("where", "parts"),
    [
        ("main", (Where.MAIN, None)),
        ("footer:mention", (Where.FOOTER, "mention")),
        ("main:source-code-only", (Where.MAIN, "source-code-only")),
        ("body:foto's-only", (Where.BODY, "foto's-only")),
        ("html-comment:policy-note", (Where.HTML_COMMENT, "policy-note")),
    ],
)
def test_split_where(where: str, parts: tuple[Where, str | None]) -> None:
    assert split_where(where) == parts


def test_qualified_and_scoped_build_the_stored_strings() -> None:
    assert qualified(Where.FOOTER, Qualifier.MENTION) == "footer:mention"
    assert scoped(Where.MAIN, "Source code") == "main:source-code-only"
    assert scoped(Where.PAGE_HEADER, "images") == "page-header:images-only"


# -- scoring ---------------------------------------------------------------------------------


def test_scoring_tables_cover_every_kind_and_place() -> None:
    assert set(KIND_WEIGHT) == set(Kind) - {Kind.OMITTED}
    assert set(PLACE_FACTOR) == set(Where)


@pytest.mark.parametrize(
    ("kind", "where", "weight"),
    [
        ("http-link", "header", 0.95),
        ("rel-license", "footer", 0.81),
        ("text", "main", 0.75),
        ("jsonld", "jsonld:site", 0.765),
        ("microdata", "microdata:site", 0.765),
        ("link", "nav", 0.375),
        ("badge", "caption", 0.0),
        ("text", "main:images-only", 0.0),
        ("text", "footer:mention", 0.0),
        ("jsonld", "jsonld:media", 0.0),
        ("html-comment", "html-comment", 0.4),
        ("site-policy", "site-policy", 0.6),
    ],
)
def test_weigh(kind: str, where: str, weight: float) -> None:
    assert weigh(kind, where) == weight


def test_weigh_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="unknown evidence kind|is not a valid Kind"):
        weigh("license-link", "main")
    with pytest.raises(ValueError, match="unknown evidence position"):
        weigh("text", "article")
    with pytest.raises(ValueError, match="never weighed"):
        weigh("omitted", "main")


# -- the bound on evidence of one kind and place ---------------------------------------------


def test_exact_repeats_are_one_item_and_counted() -> None:
    ev = Evidence("rel-license", "https://l", BY, "footer", 0.81)
    assert bound_evidence([ev] * 5) == [ev, omitted("rel-license", "footer", 4)]


def test_small_groups_are_kept_whole_and_in_order() -> None:
    items = [Evidence("text", f"s{i}", BY, "main", 0.75) for i in range(MAX_PER_PLACE)]
    items.append(Evidence("text", "other place", BY, "footer", 0.675))
    assert bound_evidence(items) == items


def test_a_big_group_keeps_every_license_and_counts_the_rest() -> None:
    items = [Evidence("text", f"mention {i}", BY_SA, "body:mention", 0.0) for i in range(100)]
    items.insert(70, Evidence("text", "a rare one", BY, "body:mention", 0.0))
    kept = bound_evidence(items)
    assert kept[-1] == omitted("text", "body:mention", 101 - MAX_PER_PLACE)
    body = kept[:-1]
    assert len(body) == MAX_PER_PLACE
    assert {ev.spdx for ev in body} == {BY, BY_SA}
    assert [ev.value for ev in body] == [f"mention {i}" for i in range(MAX_PER_PLACE - 1)] + [
        "a rare one"
    ]


def test_the_strongest_item_of_each_license_is_kept() -> None:
    items = [Evidence("link", f"https://l/{i}", BY, "main:mention", 0.0) for i in range(30)]
    weak_then_strong = [Evidence("text", f"t{i}", BY, "main", 0.1) for i in range(25)]
    weak_then_strong[24] = Evidence("text", "t24", BY, "main", 0.75)
    kept = bound_evidence(items + weak_then_strong)
    assert Evidence("text", "t24", BY, "main", 0.75) in kept


def test_counts_from_readers_are_merged_with_the_bound() -> None:
    ev = Evidence("rel-license", "https://l", BY, "body", 0.72)
    kept = bound_evidence([ev, ev, omitted("rel-license", "body", 500)])
    assert kept == [ev, omitted("rel-license", "body", 501)]
    assert omitted_count(kept[-1]) == (Kind.REL_LICENSE, 501)


def test_the_bound_leaves_the_claim_as_it_was() -> None:
    items = [Evidence("rel-license", "https://l/by", BY, "footer", 0.81)] * 1000
    items += [
        Evidence("text", f"licensed under CC BY-SA {i}", BY_SA, "main", 0.75) for i in range(40)
    ]
    assert resolve(bound_evidence(items)).license == resolve(items).license == BY_SA


def test_omitted_items_never_decide() -> None:
    claim = resolve([omitted("rel-license", "main", 10_000)])
    assert claim.license == "NOASSERTION"


# -- the one <meta> reader -------------------------------------------------------------------


def test_page_metas() -> None:
    tree = lxml.html.fromstring(
        "<html><head>"
        "<meta name=' DC.Rights ' content=' CC BY 4.0 '>"
        "<meta property='og:license' value='https://creativecommons.org/licenses/by/4.0/'>"
        "<meta itemprop='author' content='Jane Doe'>"
        "<meta http-equiv='X-Robots-Tag' content='noai'>"
        "<meta name='robots' content=''>"
        "<meta charset='utf-8'>"
        "</head><body><meta name='tdm-reservation' content='1'></body></html>"
    )
    assert [(m.key, m.value, m.attribute) for m in page_metas(tree)] == [
        ("dc.rights", "CC BY 4.0", "name"),
        ("og:license", "https://creativecommons.org/licenses/by/4.0/", "property"),
        ("author", "Jane Doe", "itemprop"),
        ("x-robots-tag", "noai", "http-equiv"),
        ("tdm-reservation", "1", "name"),
    ]
