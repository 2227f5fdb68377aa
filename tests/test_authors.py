"""Authorship: each source on small snippets, then real pages with their labelled authors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import extruct
import lxml.html
import pytest

from crawler.detect.signals.authors import authors_from_copyright, extract_authors

# Dev pages: 003 WordPress byline beside comments, 017 Springer author list, 051 JSON-LD
# that names the site as a Person, 069 Stack Overflow blog with related-post authors.
PAGES = Path(__file__).parent / "pages" / "devset"
BASE = "https://example.org/post"


def _structured(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    return {
        "json-ld": extruct.JsonLdExtractor().extract_items(tree),
        "microdata": extruct.MicrodataExtractor().extract_items(tree, BASE),
        "rdfa": [],
    }


def authors(html: str, **kwargs: Any) -> list[str]:
    tree = lxml.html.document_fromstring(html)
    return extract_authors(tree, _structured(tree), **kwargs)


def page(head: str = "", body: str = "<p>Text.</p>") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


# --- head metadata ---------------------------------------------------------------------------


def test_meta_author() -> None:
    assert authors(page('<meta name="author" content="Jane Doe">')) == ["Jane Doe"]


def test_meta_author_written_with_value_and_site_suffix() -> None:
    assert authors(page('<meta name="author" value="By Jane Doe | Example News">')) == ["Jane Doe"]


def test_article_author_url_is_not_a_name() -> None:
    head = '<meta property="article:author" content="https://facebook.com/janedoe">'
    assert authors(page(head)) == []


def test_citation_author_list_in_order_and_flipped() -> None:
    head = "".join(
        f'<meta name="citation_author" content="{n}">'
        for n in ("Sanderson, David J.", "Rawlins, J. Nicholas P.", "Deacon, Robert M. J.")
    )
    assert authors(page(head)) == ["David J. Sanderson", "J. Nicholas P. Rawlins",
                                   "Robert M. J. Deacon"]


def test_dc_creator() -> None:
    head = (
        '<meta name="DC.creator" content="Ada Lovelace"><meta name="dc.creator" content="Ch. B.">'
    )
    assert authors(page(head)) == ["Ada Lovelace", "Ch. B."]


def test_organisation_only_credit_is_no_author() -> None:
    assert authors(page('<meta name="author" content="BBC News">')) == []
    assert authors(page('<meta name="author" content="Teufel Blog Redaktion">')) == []
    assert authors(page('<meta name="author" content="Mac &amp; i">')) == []


# --- JSON-LD -------------------------------------------------------------------------------------


def test_jsonld_person_beats_meta() -> None:
    data = {"@context": "https://schema.org", "@type": "NewsArticle",
            "author": {"@type": "Person", "name": "María R. Sahuquillo"}}
    html = page(jsonld(data) + '<meta name="author" content="Someone Else">')
    assert authors(html) == ["María R. Sahuquillo"]


def test_jsonld_organization_author_is_skipped_for_person_elsewhere() -> None:
    data = {"@type": "Article", "author": {"@type": "Organization", "name": "Example Daily"}}
    html = page(jsonld(data) + '<meta name="author" content="Jane Doe">')
    assert authors(html) == ["Jane Doe"]


def test_jsonld_list_of_strings_and_persons() -> None:
    data = {"@type": "BlogPosting",
            "author": ["Jane Doe", {"@type": "Person", "name": "John Smith"}]}
    assert authors(page(jsonld(data))) == ["Jane Doe", "John Smith"]


def test_jsonld_graph_with_id_reference() -> None:
    data = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "@id": "https://example.org/#site", "name": "Example"},
        {"@type": "Article", "@id": "https://example.org/post#a",
         "author": {"@id": "https://example.org/#/person/1"}},
        {"@type": "Person", "@id": "https://example.org/#/person/1", "name": "Andreas Kalt"},
    ]}
    assert authors(page(jsonld(data))) == ["Andreas Kalt"]


def test_jsonld_embedded_image_and_comment_authors_ignored() -> None:
    data = {"@type": "NewsArticle",
            "author": {"@type": "Person", "name": "Jane Doe"},
            "image": {"@type": "ImageObject", "author": {"@type": "Person", "name": "Photo Guy"}},
            "comment": [{"@type": "Comment", "author": {"@type": "Person", "name": "Troll"}}]}
    assert authors(page(jsonld(data))) == ["Jane Doe"]


def test_jsonld_only_on_image_object_is_not_page_author() -> None:
    data = {"@type": "ImageObject", "author": {"@type": "Person", "name": "Photo Guy"}}
    assert authors(page(jsonld(data))) == []


def test_person_named_like_the_publisher_is_an_organisation() -> None:
    data = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "Example Post"},
            "publisher": {"@type": "Organization", "name": "Example Post"}}
    body = '<div class="article-author"><a href="/auteur/jane-doe">Jane Doe</a></div>'
    assert authors(page(jsonld(data), body)) == ["Jane Doe"]


# --- visible bylines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ('<p class="byline">By Jane Doe and John Smith</p>', ["Jane Doe", "John Smith"]),
        ('<div class="post-byline">von <a href="/heiner">Heiner</a></div>', ["Heiner"]),
        ('<span class="auteur">Par Martin Untersinger (avec Damien Leloup et Morgane Tual)</span>',
         ["Martin Untersinger", "Damien Leloup", "Morgane Tual"]),
        ('<span class="autor">Por María Pérez</span>', ["María Pérez"]),
        ("<p>By Jane Doe</p>", ["Jane Doe"]),
        ("<p>Von Max Mustermann</p>", ["Max Mustermann"]),
    ],
)
def test_bylines_in_several_languages(byline: str, expected: list[str]) -> None:
    assert authors(page(body=f"<article><h1>Title</h1>{byline}<p>Text.</p></article>")) == expected


def test_vcard_fn_inside_byline_and_comment_authors_ignored() -> None:
    body = (
        '<span class="byline"> by <span class="author vcard"><a class="url fn n" '
        'href="/author/gizzmo/">gizzmo</a></span></span><p>Text.</p>'
        '<ol class="commentlist"><li><div class="comment-author vcard">'
        '<cite class="fn">Commenter Person</cite></div></li></ol>'
    )
    assert authors(page(body=body)) == ["gizzmo"]


def test_related_article_teaser_authors_ignored() -> None:
    body = (
        '<div class="related-posts"><div class="author">Other Writer</div></div>'
        "<p>Text without a byline.</p>"
    )
    assert authors(page(body=body)) == []


def test_rel_author_link() -> None:
    body = '<p>Posted by <a rel="author" href="/u/jane">Jane Doe</a> on 3 May 2020</p>'
    assert authors(page(body=body)) == ["Jane Doe"]


def test_author_field_label() -> None:
    body = ("<table><tr><th>Author:</th><td>Tim Peters &lt;tim.peters at gmail.com&gt;</td></tr>"
            "</table>")
    assert authors(page(body=body)) == ["Tim Peters"]


def test_structured_abbreviations_replaced_by_full_visible_names() -> None:
    head = (
        '<meta name="citation_author" content="Xu Z">'
        '<meta name="citation_author" content="Zhang Z">'
    )
    body = '<div class="contrib-group fm-author">Zhenyu Xu, and Zhengyu Zhang</div>'
    assert authors(page(head, body)) == ["Zhenyu Xu", "Zhengyu Zhang"]


# --- ccREL and copyright ---------------------------------------------------------------------


def test_cc_attribution_name() -> None:
    body = ('<p>Text by <span xmlns:cc="http://creativecommons.org/ns#" '
            'property="cc:attributionName">Jane Doe</span>.</p>')
    assert authors(page(body=body)) == ["Jane Doe"]


def test_copyright_line_used_only_without_byline() -> None:
    assert authors(page(), copyright_notice="© 2021 Jane Doe. All rights reserved.") == ["Jane Doe"]
    html = page('<meta name="author" content="John Smith">')
    assert authors(html, copyright_notice="© 2021 Jane Doe") == ["John Smith"]


@pytest.mark.parametrize(
    ("notice", "expected"),
    [
        ("© 2021 Jane Doe. All rights reserved.", ["Jane Doe"]),
        ("Copyright (C) 2012-2014 Andrew Zonenberg. Content licensed under CC BY", [
            "Andrew Zonenberg"]),
        ("© Levente J. Dobszay, einige Rechte vorbehalten", ["Levente J. Dobszay"]),
        ("Copyright © 2015 Heise Medien", []),
        ("© 2014 BMJ Publishing Group Ltd", []),
        ("© The Author(s) 2013", []),
        ("Copyright © 2020 rete-mirabile.net. All Rights Reserved.", []),
        ("© 2017 ASAHI INTERACTIVE, Inc.", []),
        ("© 2013 Cable News Network", []),
    ],
)
def test_authors_from_copyright(notice: str, expected: list[str]) -> None:
    assert authors_from_copyright(notice) == expected


def test_meta_author_from_trafilatura_is_a_fallback() -> None:
    assert authors(page(), meta_author="Jennifer L Y Yip; Paul J Foster") == [
        "Jennifer L Y Yip", "Paul J Foster"]


def test_case_insensitive_dedupe() -> None:
    assert authors(page('<meta name="author" content="Jane Doe, JANE DOE">')) == ["Jane Doe"]


# --- real pages (copied from the dev set) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("003.html", ["Michael Veeser-Dombrowski"]),
        ("017.html", [
            "Adele L. Duran", "Paul Potter", "Sara Wells", "Tom Kirkwood",
            "Thomas von Zglinicki", "Anne McArdle", "Cheryl Scudamore", "Qing-Jun Meng",
            "Gerald de Haan", "Anne Corcoran", "Ilaria Bellantuono"]),
        ("051.html", ["Emmanuelle Ducros"]),
        ("069.html", ["Jake Goulding"]),
    ],
)
def test_dev_pages(name: str, expected: list[str]) -> None:
    assert authors((PAGES / name).read_bytes().decode("utf-8", "replace")) == expected
