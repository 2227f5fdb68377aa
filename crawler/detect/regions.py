"""Where on the page an element sits: the ``where`` of every piece of evidence.

The position of a signal matters as much as its markup (SPEC section 2): a license link in
an image caption or a comment section does not license the article, a footer statement is
a site-wide one, and a statement inside the article is article-level.

Regions, from the most to the least specific:

* ``caption``: figures, figcaptions, image and photo credits (media only, never the text)
* ``comment``: reader comment sections
* ``main``: inside ``<article>``, ``<main>``, ``role=main``, ``itemprop=articleBody``, or an
  element whose class/id names the post body (an article's own footer stays ``main``;
  :meth:`RegionMap.in_article_footer` tells it apart from the article's text)
* ``footer``, ``sidebar``, ``nav``, ``page-header``: page chrome, nearest ancestor wins
* ``head``: inside ``<head>``
* ``body``: anywhere else
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.etree
import lxml.html

from crawler.core.evidence import Where

CAPTION, COMMENT, MAIN, FOOTER, SIDEBAR, NAV, HEADER, HEAD, BODY = (
    Where.CAPTION,
    Where.COMMENT,
    Where.MAIN,
    Where.FOOTER,
    Where.SIDEBAR,
    Where.NAV,
    Where.PAGE_HEADER,
    Where.HEAD,
    Where.BODY,
)
SCOPED_OUT = frozenset({CAPTION, COMMENT})

_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_CAPTION_TOKEN = re.compile(
    r"caption|bildunterschrift|bildnachweis|legende|"
    r"(image|img|photo|foto|picture|media|bild)[-_]?(credit|copyright|source|quelle)|"
    r"(credit|copyright)[-_]?(image|img|photo|foto|picture|media|bild)"
)
_COMMENT_TOKEN = re.compile(
    r"^(comments?|commentlist|comment[-_].*|.*[-_]comments?|respond|disqus.*|"
    r"kommentare?|commentaires?|comentarios?|reactions?|replies)$"
)
_MAIN_TOKENS = frozenset(
    {
        "entry-content",
        "post-content",
        "article-body",
        "articlebody",
        "post-body",
        "postbody",
        "entry-body",
        "story-body",
        "storybody",
        "article-content",
        "articlecontent",
        "post-entry",
        "hentry",
    }
)
_FOOTER_TOKENS = frozenset(
    {
        "footer",
        "colophon",
        "site-info",
        "siteinfo",
        "site-footer",
        "page-footer",
        "footer-widgets",
        "copyright",
        "impressum",
    }
)
_SIDEBAR_TOKENS = frozenset(
    {
        "sidebar",
        "widget",
        "secondary",
        "widget-area",
        "aside",
        "sidebar-primary",
        "sidebar-secondary",
        "rightcol",
        "leftcol",
    }
)
_NAV_TOKENS = frozenset({"nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs"})
_HEADER_TOKENS = frozenset({"header", "masthead", "site-header", "page-header", "banner"})

_STRUCTURAL_TAGS = {"footer": FOOTER, "aside": SIDEBAR, "nav": NAV, "header": HEADER}
_ROLES = {
    "contentinfo": FOOTER,
    "complementary": SIDEBAR,
    "navigation": NAV,
    "banner": HEADER,
    "main": MAIN,
}


def _tokens(el: lxml.html.HtmlElement) -> list[str]:
    raw = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    parts = raw.split()
    return parts + [t for p in parts for t in _TOKEN_SPLIT.split(p) if t and t != p]


def _own_region(el: lxml.html.HtmlElement) -> str | None:
    """The region an element names by itself, from its tag, role, itemprop, class or id."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in ("figure", "figcaption"):
        return CAPTION
    if tag in ("article", "main") or (el.get("itemprop") or "").lower() == "articlebody":
        return MAIN
    role = (el.get("role") or "").lower()
    if role in _ROLES:
        return _ROLES[role]
    if tag in _STRUCTURAL_TAGS:
        return _STRUCTURAL_TAGS[tag]
    if tag in ("body", "html"):
        return None
    tokens = _tokens(el)
    if not tokens:
        return None
    if any(_CAPTION_TOKEN.search(t) for t in tokens):
        return CAPTION
    if any(_COMMENT_TOKEN.match(t) for t in tokens):
        return COMMENT
    token_set = set(tokens)
    for names, region in (
        (_MAIN_TOKENS, MAIN),
        (_FOOTER_TOKENS, FOOTER),
        (_SIDEBAR_TOKENS, SIDEBAR),
        (_NAV_TOKENS, NAV),
        (_HEADER_TOKENS, HEADER),
    ):
        if token_set & names:
            return region
    return None


def _is_article(el: lxml.html.HtmlElement) -> bool:
    """``<article>``, ``<main>``, ``role=main`` or ``itemprop=articleBody``."""
    return (
        el.tag in ("article", "main")
        or (el.get("role") or "").lower() == "main"
        or (el.get("itemprop") or "").lower() == "articlebody"
    )


class RegionMap:
    """Classifies elements of one tree into regions.

    What decides an element's region is a summary of its ancestor chain (inside
    ``<head>``, inside a caption or comment section, inside the article, the nearest
    ancestor that names a region); it is kept per element and built from the parent's, so
    a page costs one pass over its elements however many signals ask and however deep it
    nests."""

    def __init__(self) -> None:
        self._chain: dict[lxml.etree._Element, _Chain] = {}
        self._footer: dict[lxml.etree._Element, tuple[bool, bool]] = {}

    def region(self, el: lxml.etree._Element) -> Where:
        """The region of ``el`` (see the module docstring)."""
        chain = self._summary(el)
        if chain.head:
            return HEAD
        if chain.caption:
            return CAPTION
        if chain.comment:
            return COMMENT
        if chain.nearest is None:
            return BODY
        if chain.nearest in (FOOTER, HEADER) and chain.article:
            return MAIN
        return chain.nearest

    def _summary(self, el: lxml.etree._Element) -> _Chain:
        pending: list[lxml.etree._Element] = []
        node: lxml.etree._Element | None = el
        while node is not None and node not in self._chain:
            pending.append(node)
            node = node.getparent()
        above = self._chain[node] if node is not None else _Chain()
        for node in reversed(pending):
            if isinstance(node.tag, str):
                own = _own_region(node)
                article = _is_article(node) and not above.chrome
                if own == MAIN and not article and _is_article(node):
                    own = None  # a <main> used as a layout box inside the page footer
                above = _Chain(
                    head=above.head or node.tag == "head",
                    caption=above.caption or own == CAPTION,
                    comment=above.comment or own == COMMENT,
                    article=above.article or article,
                    chrome=above.chrome or _is_chrome(node),
                    nearest=own if own is not None else above.nearest,
                )
            self._chain[node] = above
        return above

    def in_article_footer(self, el: lxml.etree._Element) -> bool:
        """Whether ``el`` sits in the article's own footer (a ``<footer>``, ``role=
        contentinfo`` or footer/copyright class inside ``<article>``/``<main>``): the place
        for the article's notices, not its text."""
        reached, footer = self._up_to_article(el)
        return reached and footer

    def _up_to_article(self, el: lxml.etree._Element) -> tuple[bool, bool]:
        """(an article is an ancestor-or-self, a footer sits between ``el`` and it)."""
        pending: list[lxml.etree._Element] = []
        node: lxml.etree._Element | None = el
        while node is not None and node not in self._footer:
            pending.append(node)
            node = node.getparent()
        reached, footer = self._footer[node] if node is not None else (False, False)
        for node in reversed(pending):
            if isinstance(node.tag, str):
                if _is_article(node) and not self._summary(node.getparent()).chrome:
                    reached, footer = True, False
                elif _own_region(node) == FOOTER:
                    footer = True
            self._footer[node] = (reached, footer)
        return reached, footer


def _is_chrome(el: lxml.html.HtmlElement) -> bool:
    """``<footer>``, ``<aside>``, ``<nav>`` or their ARIA roles: page chrome by markup.

    An ``<article>`` or ``<main>`` inside one is a box of that chrome (a related-post card
    in a sidebar, a footer laid out in a ``<main>``), not the page's content."""
    return el.tag in ("footer", "aside", "nav") or (el.get("role") or "").lower() in (
        "contentinfo",
        "complementary",
        "navigation",
    )


@dataclass(frozen=True, slots=True)
class _Chain:
    """What an element's ancestors-or-self say about its region."""

    head: bool = False
    caption: bool = False
    comment: bool = False
    article: bool = False
    chrome: bool = False
    nearest: Where | None = None
