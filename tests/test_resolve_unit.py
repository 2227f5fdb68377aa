"""Direct unit tests of resolution (``crawler.detect.resolve``), scoring
(``crawler.detect.scoring``) and regions (``crawler.detect.regions``) on hand-made evidence
and tiny lxml trees, with exact outputs."""

from __future__ import annotations

import lxml.html
import pytest

from crawler.core.evidence import Evidence, omitted
from crawler.detect.regions import RegionMap
from crawler.detect.resolve import Resolution, level, resolve
from crawler.detect.scoring import HIDDEN, PAGE_LEVEL, weigh

BY, BY_SA, BY_NC = "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0"
ARR = "LicenseRef-All-Rights-Reserved"
NOASSERTION = "NOASSERTION"


def ev(kind: str, value: str, spdx: str, where: str) -> Evidence:
    """Evidence weighed as the readers weigh it."""
    return Evidence(kind, value, spdx, where, weigh(kind, where))


# -- scoring ---------------------------------------------------------------------------------


def test_levels_of_positions() -> None:
    assert {"header", "head", "jsonld", "microdata", "rdfa", "main"} == PAGE_LEVEL
    assert {"html-comment", "script"} == HIDDEN
    assert [
        level(ev("text", "t", BY, where))
        for where in ("main", "footer", "html-comment", "site-policy", "jsonld:site")
    ] == ["page", "site", "hidden", "policy", "site"]


def test_weights_multiply_kind_and_place() -> None:
    assert weigh("rel-license", "sidebar") == round(0.90 * 0.85, 3)
    assert weigh("meta", "head") == 0.8
    assert weigh("text", "page-header") == round(0.75 * 0.7, 3)


# -- resolve ---------------------------------------------------------------------------------


def test_nothing_is_noassertion() -> None:
    assert resolve([]) == Resolution(NOASSERTION, "unknown", 0.0, False)


def test_weightless_evidence_decides_nothing() -> None:
    items = [
        ev("text", "CC BY 4.0 for photos", BY, "main:images-only"),
        ev("badge", "https://i.creativecommons.org/l/by/4.0/88x31.png", BY, "caption"),
        omitted("rel-license", "main", 1000),
    ]
    assert resolve(items) == Resolution(NOASSERTION, "unknown", 0.0, False)


def test_one_footer_link() -> None:
    link = ev("rel-license", "https://creativecommons.org/licenses/by/4.0/", BY, "footer")
    assert resolve([link]) == Resolution(BY, "permissive", 0.81, False)


def test_agreeing_evidence_adds_up_and_the_same_url_counts_once() -> None:
    url = "https://creativecommons.org/licenses/by/4.0/"
    items = [
        ev("rel-license", url, BY, "footer"),
        ev("link", url + "/", BY, "footer"),  # the same URL again, by another reader
        ev("text", "This work is licensed under CC BY 4.0.", BY, "footer"),
    ]
    # 1 - (1 - 0.81) * (1 - 0.675)
    assert resolve(items) == Resolution(BY, "permissive", 0.938, False)


def test_page_level_beats_site_level() -> None:
    items = [
        ev("rel-license", "https://creativecommons.org/licenses/by/4.0/", BY, "footer"),
        ev("text", "This article is licensed under CC BY-SA 4.0.", BY_SA, "main"),
    ]
    assert resolve(items) == Resolution(BY_SA, "copyleft", 0.75, False)


def test_disagreement_at_one_level_is_a_conflict_resolved_to_the_more_restrictive() -> None:
    items = [
        ev("text", "This article is licensed under CC BY 4.0.", BY, "main"),
        ev("text", "This article is licensed under CC BY-NC 4.0.", BY_NC, "main"),
    ]
    assert resolve(items) == Resolution(BY_NC, "noncommercial", 0.375, True)


def test_versions_that_disagree_take_the_one_stated_in_the_article() -> None:
    meta = ev("meta", "http://creativecommons.org/licenses/by/3.0/", "CC-BY-3.0", "head")
    text = ev("text", "This article is distributed under CC BY 4.0.", BY, "main")
    assert resolve([meta, text]) == Resolution(BY, "permissive", 0.375, True)
    # two statements in the article, or no statement in the article: the old rule
    other = ev("text", "This article is distributed under CC BY 3.0.", "CC-BY-3.0", "main")
    assert resolve([meta, text, other]).license == "CC-BY-3.0"
    jsonld = ev("jsonld", "https://creativecommons.org/licenses/by/4.0/", BY, "jsonld")
    assert resolve([meta, jsonld]).license == BY  # most support, not the article's word
    # different licenses of one family are not versions of one license
    nc = ev("text", "This article is distributed under CC BY-NC 4.0.", BY_NC, "main")
    assert resolve([meta, nc]).license == BY_NC


def test_a_dual_grant_covering_the_others_wins() -> None:
    items = [
        ev("rel-license", "https://creativecommons.org/licenses/by/4.0/", BY, "main"),
        ev("rel-license", "https://www.gnu.org/licenses/gpl-3.0.html", "GPL-3.0-only", "main"),
        ev("rel-license", "a | b", f"{BY} OR GPL-3.0-only", "main"),
    ]
    result = resolve(items)
    assert (result.license, result.conflict) == (f"{BY} OR GPL-3.0-only", False)
    assert result.confidence == 0.999  # three supports of 0.9, each capped at 0.99


def test_a_reservation_beside_a_grant_only_lowers_confidence() -> None:
    items = [
        ev("rel-license", "https://creativecommons.org/licenses/by/4.0/", BY, "footer"),
        ev("copyright-notice", "© 2020 Jane Doe", ARR, "footer"),
    ]
    assert resolve(items) == Resolution(BY, "permissive", round(0.81 * 0.95, 3), False)


def test_an_article_reservation_beats_a_site_wide_grant() -> None:
    items = [
        ev("rel-license", "https://creativecommons.org/licenses/by/4.0/", BY, "footer"),
        ev("rights-statement", "All rights reserved.", ARR, "main"),
    ]
    assert resolve(items) == Resolution(ARR, "reserved", 0.7, False)


def test_a_visible_reservation_beats_a_hidden_grant() -> None:
    items = [
        ev("html-comment", "https://creativecommons.org/licenses/by/4.0/", BY, "html-comment"),
        ev("copyright-notice", "© 2020 Example Ltd", ARR, "footer"),
    ]
    assert resolve(items) == Resolution(ARR, "reserved", 0.45, False)


def test_a_hidden_grant_alone_is_claimed() -> None:
    comment = ev("html-comment", "https://creativecommons.org/licenses/by/4.0/", BY, "html-comment")
    assert resolve([comment]) == Resolution(BY, "permissive", 0.4, False)


def test_an_unnamed_grant_keeps_a_bare_notice_from_reserving() -> None:
    items = [
        ev("text", "Content is available under a Creative Commons license.", NOASSERTION, "footer"),
        ev("copyright-notice", "© 2020 Example", ARR, "footer"),
    ]
    assert resolve(items) == Resolution(NOASSERTION, "unknown", 0.0, False)


def test_a_vague_grant_is_folded_into_the_specific_one_of_its_family() -> None:
    items = [
        ev(
            "text",
            "Licensed under Creative Commons BY-SA.",
            "LicenseRef-CC-BY-SA-unversioned",
            "footer",
        ),
        ev("rel-license", "https://creativecommons.org/licenses/by-sa/4.0/", BY_SA, "footer"),
    ]
    result = resolve(items)
    assert (result.license, result.conflict) == (BY_SA, False)
    assert result.confidence == round(1 - (1 - 0.675) * (1 - 0.81), 3)


def test_a_gnu_link_takes_the_version_rule_the_text_states() -> None:
    items = [
        ev("rel-license", "https://www.gnu.org/licenses/fdl-1.3.html", "GFDL-1.3-only", "footer"),
        ev(
            "text",
            "under the GNU FDL, version 1.3 or any later version",
            "GFDL-1.3-or-later",
            "footer",
        ),
    ]
    assert resolve(items).license == "GFDL-1.3-or-later"


# -- regions ---------------------------------------------------------------------------------

PAGE = """<html><head><title>t</title><meta name="x" content="y"></head><body>
<header id="top"><a id="logo" href="/">Home</a></header>
<nav><a id="menu" href="/a">A</a></nav>
<div class="content"><article>
  <p id="text">Body text.</p>
  <figure><img id="img" src="a.jpg"><figcaption id="cap">Photo: CC BY</figcaption></figure>
  <footer><p id="artfoot">© 2020 Jane</p></footer>
  <section class="comments"><p id="comment">Nice post</p></section>
</article></div>
<aside><p id="side">Widget</p></aside>
<div class="entry-content"><p id="entry">Post body</p></div>
<div role="contentinfo"><p id="role">Site notice</p>
  <div class="wp-caption"><span id="credit">Credit</span></div></div>
<p id="loose">Loose text</p>
<footer><p id="sitefoot">© Site</p></footer>
</body></html>"""


@pytest.fixture(scope="module")
def page() -> lxml.html.HtmlElement:
    return lxml.html.fromstring(PAGE)


@pytest.mark.parametrize(
    ("element", "region"),
    [
        ("//title", "head"),
        ("//meta", "head"),
        ("//*[@id='logo']", "page-header"),
        ("//*[@id='menu']", "nav"),
        ("//*[@id='text']", "main"),
        ("//*[@id='img']", "caption"),
        ("//*[@id='cap']", "caption"),
        ("//*[@id='artfoot']", "main"),  # an article's own footer stays main
        ("//*[@id='comment']", "comment"),
        ("//*[@id='side']", "sidebar"),
        ("//*[@id='entry']", "main"),
        ("//*[@id='role']", "footer"),
        ("//*[@id='credit']", "caption"),  # scoped out beats the footer around it
        ("//*[@id='loose']", "body"),
        ("//*[@id='sitefoot']", "footer"),
    ],
)
def test_region(page: lxml.html.HtmlElement, element: str, region: str) -> None:
    regions = RegionMap()
    assert regions.region(page.xpath(element)[0]) == region
    # The same answer from a map that has already classified every other element.
    warm = RegionMap()
    for el in page.iter():
        warm.region(el)
    assert warm.region(page.xpath(element)[0]) == region


@pytest.mark.parametrize(
    ("element", "inside"),
    [
        ("//*[@id='artfoot']", True),
        ("//*[@id='text']", False),
        ("//*[@id='sitefoot']", False),
        ("//*[@id='role']", False),
    ],
)
def test_in_article_footer(page: lxml.html.HtmlElement, element: str, inside: bool) -> None:
    assert RegionMap().in_article_footer(page.xpath(element)[0]) is inside


def test_a_footer_above_the_article_does_not_make_it_an_article_footer() -> None:
    tree = lxml.html.fromstring(
        "<html><body><footer><article><p id='p'>Text</p></article></footer></body></html>"
    )
    p = tree.xpath("//*[@id='p']")[0]
    regions = RegionMap()
    assert regions.in_article_footer(p) is False
    # an <article> inside the page footer is a box of the footer, not the page's content
    assert regions.region(p) == "footer"


def test_a_main_box_inside_a_footer_is_footer_and_an_articles_own_footer_stays_main() -> None:
    tree = lxml.html.fromstring(
        "<html><body><article><p id='text'>Text</p><footer><main class='light'>"
        "<div id='notice'>Docs under CC BY 4.0</div></main></footer></article>"
        "<aside><article><p id='card'>Related post</p></article></aside>"
        "<footer><main><p id='site'>Site notice</p></main></footer></body></html>"
    )
    regions = RegionMap()
    at = {key: tree.xpath(f"//*[@id='{key}']")[0] for key in ("text", "notice", "card", "site")}
    assert regions.region(at["text"]) == "main"
    assert regions.in_article_footer(at["text"]) is False
    assert regions.region(at["notice"]) == "main"  # the article's own footer ...
    assert regions.in_article_footer(at["notice"]) is True  # ... where its notices go
    assert regions.region(at["card"]) == "sidebar"
    assert regions.region(at["site"]) == "footer"
    assert regions.in_article_footer(at["site"]) is False


def test_deep_nesting_is_classified_without_recursion() -> None:
    depth = 240  # libxml2 keeps up to 255 levels
    tree = lxml.html.fromstring(
        "<html><body>"
        + "<div>" * depth
        + "<footer><p id='deep'>x</p></footer>"
        + "</div>" * depth
        + "</body></html>"
    )
    assert RegionMap().region(tree.xpath("//*[@id='deep']")[0]) == "footer"
