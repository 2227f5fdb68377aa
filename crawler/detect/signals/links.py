"""License links: the HTTP ``Link`` header, ``rel="license"``, ccREL attributes, plain
links inside grant sentences, and badge images.

A ``rel`` or ``property`` counts when one of its space-separated words is ``license`` or
ends in ``:license`` / ``.license`` (``rel="license noopener"``, ``cc:license``,
``DCTERMS.license``). ccREL ``about=`` on the element or an ancestor that points at
something other than the page (an image, a video) scopes the license to that object. A
plain link to a license (no ``rel``) is only a grant inside a sentence that grants, or
when it wraps a license badge.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.etree
import lxml.html

from crawler.core.evidence import NOASSERTION, Evidence, Kind, Qualifier, Where, qualified, scoped
from crawler.detect import lexicon
from crawler.detect.budget import Budget
from crawler.detect.extract import Headers, header_value
from crawler.detect.pagetext import PageText, text_fits
from crawler.detect.regions import (
    BODY,
    CAPTION,
    FOOTER,
    HEAD,
    MAIN,
    NAV,
    SCOPED_OUT,
    SIDEBAR,
    RegionMap,
)
from crawler.detect.scoring import weigh
from crawler.detect.signals.text import grant_where, is_content_image, software_without_subject
from crawler.licenses import names_license_host, spdx_from_name, spdx_from_url

_LINK_HEADER = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL_PARAM = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;,]+))""", re.I)
_LINKS_XPATH = lxml.etree.XPath(
    "//a[@href] | //link[@href] | //area[@href] | //*[@property and (@resource or @href or "
    "@content)] | //*[@rel and @resource]"
)
_BADGES_XPATH = lxml.etree.XPath("//img[@src]")
_DUAL_CUE = re.compile(
    r"\b(?:or|oder|ou|o|oppure|of|in addition|additionally|alternatively|dual[- ]licen[cs]ed|"
    r"either|at your option|au choix|wahlweise|zusätzlich|en outre|además|inoltre)\b",
    re.I,
)
# The text of a notice whose (c) sign is an icon: "2023 HCC | J.Roa".
_YEAR_FIRST = re.compile(r"\s*(?:19|20)\d\d\b")
# A repository's license file: ".../blob/main/LICENSE", "COPYING.md", GitHub's
# "#MIT-1-ov-file" license tab.
_LICENSE_FILE = re.compile(
    r"/(?:LICEN[CS]E|COPYING)(?:[-_.][\w.-]*)?(?:[?#].*)?$|#[\w.-]*-ov-file$", re.I
)
# The most text a license widget (a sidebar or footer box) holds.
_WIDGET_TEXT = 400
_LICENSE_ANCHOR = re.compile(r"\s*(?:view\s+|see\s+)?(?:the\s+)?licen[cs]e\s*", re.I)
_CREATIVE_COMMONS = re.compile(r"\s*Creative\s+Commons\s*", re.I)
_LICENSE_WORD = re.compile(r"\b(?:licen[cs]e|lizenz|licencia|licenza|licença|licentie)\b", re.I)
# Elements of a subtree walked before the document-order index is built (see _offset).
_LOCAL_WALK = 64
_MEDIA_TAGS = frozenset({"img", "picture", "video", "audio", "figure", "iframe", "object"})


def is_license_word(value: str | None) -> bool:
    """Whether a ``rel``/``property`` value has a word meaning "license"."""
    if not value:
        return False
    for word in value.lower().split():
        if word == "license" or word.endswith((":license", ".license", "#license", "/license")):
            return True
    return False


def http_link_evidence(headers: Headers | None, url: str | None) -> list[Evidence]:
    """``Link: <...>; rel="license"`` response headers."""
    evidence = []
    for value in header_value(headers, "link"):
        for m in _LINK_HEADER.finditer(value):
            rel = _REL_PARAM.search(m.group(2) or "")
            if not rel or not is_license_word(next(g for g in rel.groups() if g is not None)):
                continue
            target = urljoin(url or "", m.group(1).strip())
            spdx = spdx_from_url(target) or NOASSERTION
            where = (
                Where.HEADER
                if spdx != NOASSERTION
                else qualified(Where.HEADER, Qualifier.UNRECOGNISED)
            )
            evidence.append(
                Evidence(Kind.HTTP_LINK, target, spdx, where, weigh(Kind.HTTP_LINK, where))
            )
    return evidence


def _same_document(target: str, page_url: str | None) -> bool:
    if target in ("", "#"):
        return True
    if not page_url:
        return target.startswith("#")
    return urldefrag(target)[0] == urldefrag(page_url)[0]


def _about_elsewhere(el: lxml.etree._Element, page_url: str | None) -> bool:
    """ccREL: an ``about``/``src`` subject on the element or an ancestor that is not the page."""
    node: lxml.etree._Element | None = el
    while node is not None:
        if isinstance(node.tag, str):
            about = node.get("about")
            if about is not None:
                return not _same_document(urljoin(page_url or "", about.strip()), page_url)
        node = node.getparent()
    return False


class LinkScanner:
    """Finds license links and badges in one parsed page."""

    def __init__(
        self, tree: lxml.html.HtmlElement, url: str | None, ptext: PageText, regions: RegionMap
    ) -> None:
        self.tree = tree
        self.url = url
        self.ptext = ptext
        self.regions = regions
        self._first: dict[lxml.etree._Element, int] | None = None
        self._order: dict[lxml.etree._Element, int] | None = None
        self._subtree_end: dict[lxml.etree._Element, int] = {}
        self._owner_order: list[int] = []
        self._owner_offset: list[int] = []
        self.budget = Budget()
        self._spdx: dict[str, str | None] = {}
        self._media_siblings: dict[lxml.etree._Element, list[lxml.etree._Element]] = {}
        # The text line (block) of each judged link, for dual-grant detection.
        self._lines: dict[Evidence, tuple[int, int]] = {}

    def evidence(self) -> list[Evidence]:
        """Every license link and badge on the page, plus dual grants (``A OR B``); links
        and badges beyond the :class:`~crawler.detect.budget.Budget` of their kind, id and
        region are counted in ``omitted`` items instead."""
        links = list(self._links())
        badges = list(self._badges())
        return links + self._dual_grants(links) + badges + self.budget.omitted()

    def _dual_grants(self, links: list[Evidence]) -> list[Evidence]:
        """Two ``rel=license`` grants of different licenses in one block that offers both
        ("..., or ...", "In addition, ... available under ...") form one ``A OR B`` grant."""
        by_line: dict[tuple[int, int], list[Evidence]] = {}
        for ev in links:
            if ev.kind == Kind.REL_LICENSE and ev.weight > 0 and ev in self._lines:
                by_line.setdefault(self._lines[ev], []).append(ev)
        dual = []
        for (lo, hi), group in by_line.items():
            ids = sorted({ev.spdx for ev in group})
            if len(ids) < 2 or not _DUAL_CUE.search(self.ptext.text[lo:hi]):
                continue
            best = max(group, key=lambda ev: ev.weight)
            dual.append(
                Evidence(
                    Kind.REL_LICENSE,
                    " | ".join(ev.value for ev in group),
                    " OR ".join(ids),
                    best.where,
                    best.weight,
                )
            )
        return dual

    def _offset(self, el: lxml.etree._Element) -> int | None:
        """Offset in the page text of the element's text (or of its nearest ancestor's):
        the first text, in document order, owned by the element's subtree, else by its
        parent's subtree, and so on up.

        A subtree is walked for at most :data:`_LOCAL_WALK` elements; past that, elements
        are numbered in document order once and each question is a binary search (a list
        of 50,000 links would otherwise walk it 50,000 times)."""
        if self._first is None:
            self._first = {}
            for start, owner in zip(self.ptext.starts, self.ptext.owners, strict=True):
                self._first.setdefault(owner, start)
        node: lxml.etree._Element | None = el
        while node is not None:
            for steps, candidate in enumerate(node.iter()):
                if candidate in self._first:
                    return self._first[candidate]
                if steps >= _LOCAL_WALK:
                    return self._indexed_offset(node)
            node = node.getparent()
        return None

    def _indexed_offset(self, el: lxml.etree._Element) -> int | None:
        """:meth:`_offset` by binary search over elements numbered in document order."""
        if self._order is None:
            self._order = {node: i for i, node in enumerate(self.tree.iter())}
            first = {self._order[owner]: start for owner, start in self._first.items()}
            self._owner_order = sorted(first)
            self._owner_offset = [first[i] for i in self._owner_order]
        node: lxml.etree._Element | None = el
        while node is not None:
            if node not in self._subtree_end:  # lxml counts children one by one: once
                last = node
                while len(last):
                    last = last[-1]
                self._subtree_end[node] = self._order[last]
            lo, hi = self._order[node], self._subtree_end[node]
            i = bisect.bisect_left(self._owner_order, lo)
            if i < len(self._owner_order) and self._owner_order[i] <= hi:
                return self._owner_offset[i]
            node = node.getparent()
        return None

    def _links(self) -> Iterator[Evidence]:
        page_on_license_host = names_license_host(self.url or "")
        for el in _LINKS_XPATH(self.tree):
            raw = (el.get("href") or el.get("resource") or el.get("content") or "").strip()
            rel_words = is_license_word(el.get("rel"))
            prop_words = is_license_word(el.get("property"))
            spdx = None
            if raw and (rel_words or prop_words or page_on_license_host or names_license_host(raw)):
                spdx = self._spdx_of(raw)
            if spdx is None and el.tag == "a" and _LICENSE_FILE.search(raw) and (
                _same_repository(self.url or "", raw)
            ):
                anchor = " ".join(" ".join(el.itertext()).split())
                named = spdx_from_name(anchor) if 0 < len(anchor) <= 80 else None
                if named and self.budget.allow(Kind.LINK, named, self.regions.region(el)):
                    yield self._license_file(el, raw, named)
                continue
            if spdx is None:
                if rel_words or prop_words:
                    kind = Kind.REL_LICENSE if rel_words else Kind.RDFA
                    region = self.regions.region(el)
                    yield Evidence(
                        kind, raw, NOASSERTION, qualified(region, Qualifier.UNRECOGNISED), 0.0
                    )
                continue
            kind = Kind.REL_LICENSE if rel_words else Kind.RDFA if prop_words else Kind.LINK
            if self.budget.allow(kind, spdx, self.regions.region(el)):
                yield self._judge(el, kind, raw, spdx)

    def _license_file(self, el: lxml.etree._Element, raw: str, spdx: str) -> Evidence:
        """A link to a repository's license file whose text names the license ("MIT
        license" in a code-hosting page's sidebar): the repository's license, and so of the
        README the page shows. In the page chrome it is a grant whatever the license (the
        software-license rule does not apply: the repository is the content); inside the
        article it is judged like any license link."""
        ev = self._judge(el, Kind.LINK, raw, spdx)
        region = self.regions.region(el)
        if region in (SIDEBAR, FOOTER, BODY) and ev.where in (
            qualified(region, Qualifier.SOFTWARE_ONLY),
            qualified(region, Qualifier.MENTION),
        ):
            return Evidence(ev.kind, ev.value, ev.spdx, region, weigh(ev.kind, region))
        return ev

    def _spdx_of(self, raw: str) -> str | None:
        """``spdx_from_url`` of a link target, once per distinct target on the page."""
        if raw not in self._spdx:
            self._spdx[raw] = spdx_from_url(urljoin(self.url or "", raw))
        return self._spdx[raw]

    def _judge(self, el: lxml.etree._Element, kind: str, raw: str, spdx: str) -> Evidence:
        region = self.regions.region(el)
        if region not in SCOPED_OUT and _about_elsewhere(el, self.url):
            region = Where.MEDIA
        if region in SCOPED_OUT or region == Where.MEDIA or region == HEAD:
            return Evidence(kind, raw, spdx, region, weigh(kind, region))
        offset = self._offset(el)
        if offset is None:
            return Evidence(kind, raw, spdx, region, weigh(kind, region))
        anchor = " ".join(el.itertext()).strip()
        end = offset + len(anchor)
        lo, hi = self.ptext.sentence(offset, max(end, offset))
        before = self.ptext.text[lo:offset]
        after = self.ptext.text[end:hi]
        sentence = self.ptext.text[lo:hi].strip()
        line = self.ptext.block(offset, max(end, offset))
        scope = (
            lexicon.scope_words_before(before)
            or lexicon.scope_after(after)
            or (widget_scope(el) if region != MAIN else None)
        )
        if kind == Kind.LINK:
            badge = any(isinstance(c.tag, str) and c.tag == "img" for c in el.iter())
            if badge and not scope and region not in SCOPED_OUT:
                where = region
            else:
                where = grant_where(
                    region,
                    before,
                    sentence,
                    after,
                    scope,
                    self.ptext.text[line[0] : offset],
                    spdx,
                    self.regions.in_article_footer(el),
                    self.ptext.text[offset : line[1]],
                )
                if where == qualified(region, Qualifier.MENTION) and (
                    (region in (FOOTER, SIDEBAR) and _names_a_license(anchor))
                    or (region in (FOOTER, SIDEBAR, NAV, BODY) and _notice_anchor(el, anchor))
                    or _rights_of_this_page(el, anchor, self.ptext.text[line[0] : line[1]])
                ):
                    where = region
        elif scope:
            where = scoped(region, scope)
        elif region != MAIN and software_without_subject(
            spdx, before, region, self.ptext.text[line[0] : line[1]]
        ):
            where = qualified(region, Qualifier.SOFTWARE_ONLY)
        elif region not in (FOOTER, SIDEBAR) and self._next_to_media(el):
            where = CAPTION
        else:
            where = region
        ev = Evidence(kind, raw, spdx, where, weigh(kind, where))
        self._lines[ev] = line
        return ev

    def _next_to_media(self, el: lxml.etree._Element) -> bool:
        """A license link right after an image, in a short wrapper, credits that image."""
        parent = el.getparent()
        if parent is None or not text_fits(parent, 200, spaced=True):
            return False
        if parent not in self._media_siblings:
            self._media_siblings[parent] = _media_children(parent)
        return any(child is not el for child in self._media_siblings[parent])

    def _badges(self) -> Iterator[Evidence]:
        for img in _BADGES_XPATH(self.tree):
            src = img.get("src", "").strip()
            if not names_license_host(src):
                continue
            spdx = self._spdx_of(src)
            if spdx is None:
                continue
            region = self.regions.region(img)
            if not self.budget.allow(Kind.BADGE, spdx, region):
                continue
            inside_link = any(
                isinstance(a.tag, str)
                and a.tag == "a"
                and self._spdx_of(a.get("href", "").strip())
                for a in img.iterancestors("a")
            )
            if region not in SCOPED_OUT and _about_elsewhere(img, self.url):
                region = Where.MEDIA
            elif region == MAIN and not inside_link:
                region = qualified(MAIN, Qualifier.ILLUSTRATION)
            elif region not in SCOPED_OUT and region != MAIN and (scope := widget_scope(img)):
                region = scoped(region, scope)
            yield Evidence(Kind.BADGE, src, spdx, region, weigh(Kind.BADGE, region))


def _same_repository(page_url: str, href: str) -> bool:
    """Whether ``href`` stays in the repository the page shows: same host and the same
    first two path segments (``owner/repo`` on GitHub, GitLab, Gitea, Codeberg ...)."""
    page = urlsplit(page_url)
    target = urlsplit(urljoin(page_url, href))
    owner_repo = [p for p in page.path.split("/") if p][:2]
    return (
        bool(page.netloc)
        and target.netloc == page.netloc
        and len(owner_repo) == 2
        and [p for p in target.path.split("/") if p][:2] == owner_repo
    )


def widget_scope(el: lxml.etree._Element) -> str | None:
    """The scope a license widget states for every license link and badge in it.

    A sidebar or footer box "The photos on this site are under: [badge] CC BY-NC 4.0"
    restricts all of its links and badges, not only the one next to the sentence. The
    widget is the largest ancestor of ``el`` with at most ``_WIDGET_TEXT`` characters of
    text; its statement is the last sentence before ``el`` that has a grant cue, read from
    the widget's own text, never from the text of its links (a "code" link in a menu
    beside a "License" link restricts nothing)."""
    widget = None
    node = el.getparent()
    while node is not None and isinstance(node.tag, str) and node.tag not in ("body", "html"):
        if not text_fits(node, _WIDGET_TEXT, spaced=True):
            break
        widget = node
        node = node.getparent()
    if widget is None:
        return None
    pieces: list[str] = []
    for item in widget.iter():
        if item is el:
            break
        if not isinstance(item.tag, str):
            continue
        if item.text and not _in_link(item, widget):
            pieces.append(item.text)
        if item.tail and item is not widget and not _in_link(item.getparent(), widget):
            pieces.append(item.tail)
    statement = " ".join(" ".join(pieces).split())
    cues = list(lexicon.GRANT_CUE.finditer(statement))
    if not cues:
        return None
    sentence = re.split(r"[.!?]\s", statement[: cues[-1].start()])[-1]
    return lexicon.scope_words_before(sentence)


def _in_link(el: lxml.etree._Element | None, stop: lxml.etree._Element) -> bool:
    """Whether ``el`` is an ``<a>`` or inside one, below ``stop``."""
    while el is not None:
        if el.tag == "a":
            return True
        if el is stop:
            return False
        el = el.getparent()
    return False


def _names_a_license(anchor: str) -> bool:
    """A link whose own text names a license: "CC BY-SA 4.0", "permissive document
    license", or is just "Creative Commons" (a footer link to one deed: the site's
    license, said tersely)."""
    if not anchor or len(anchor) > 120:
        return False
    return (
        spdx_from_name(anchor) is not None
        or bool(_LICENSE_WORD.search(anchor))
        or bool(_CREATIVE_COMMONS.fullmatch(anchor))
    )


def _rights_of_this_page(el: lxml.etree._Element, anchor: str, line: str) -> bool:
    """A license link that says it is this page's: its ``title`` is about this page
    ("Rights to this article"), or it stands alone on its line and reads just "license"
    or "view license" (a repository's abstract page)."""
    if lexicon.SELF_REFERENCE.search(el.get("title") or ""):
        return True
    return bool(_LICENSE_ANCHOR.fullmatch(anchor)) and line.strip() == anchor.strip()


def _notice_anchor(el: lxml.etree._Element, anchor: str) -> bool:
    """A link whose whole text is the site's copyright notice ("© 2023 HCC", or a
    copyright icon and "2023 HCC") and whose target is a license deed: the site's notice
    points at its license."""
    if not 0 < len(anchor) <= 80:
        return False
    if lexicon.COPYRIGHT_NOTICE.match(anchor.strip()):
        return True
    return bool(_YEAR_FIRST.match(anchor)) and any(
        isinstance(child.tag, str)
        and (
            "copyright" in (child.get("class") or "").lower()
            or (child.get("aria-label") or "").strip().lower() in ("copyright", "©")
        )
        for child in el.iterdescendants()
    )


def _media_children(parent: lxml.etree._Element) -> list[lxml.etree._Element]:
    """Up to two children of ``parent`` that are, or hold, a content image that is not a
    license badge (two are enough to know that one other than a given link exists)."""
    found = []
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        images = [child] if child.tag in _MEDIA_TAGS else child.iter(*_MEDIA_TAGS)
        if any(is_content_image(img) and not spdx_from_url(img.get("src", "")) for img in images):
            found.append(child)
            if len(found) == 2:
                break
    return found
