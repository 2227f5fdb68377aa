"""License, public-domain and rights statements in the visible text of a page.

A license *mention* is only a grant when its sentence says so ("licensed under", "steht
unter", "sous licence", ...), when it is not about something else (photos, code, comments,
data: see :mod:`crawler.detect.lexicon`), and, inside the article, when the sentence is
about this very page ("This article is distributed under ...") rather than an article that
talks *about* a license. Everything seen is returned as evidence; what does not qualify
keeps weight 0 and says why in its ``where`` (``main:about``, ``footer:images-only``,
``main:mention``). A line of the article that is only a label and a license ("Lizenz: CC
BY-SA 4.0") is the article's own statement, when the article labels one license only.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import lxml.etree

from crawler.core.evidence import Evidence, Kind, Qualifier, qualified, scoped, split_where
from crawler.detect import lexicon
from crawler.detect.budget import Budget
from crawler.detect.pagetext import PageText, text_fits
from crawler.detect.regions import (
    BODY,
    CAPTION,
    FOOTER,
    HEAD,
    MAIN,
    SCOPED_OUT,
    SIDEBAR,
    RegionMap,
)
from crawler.detect.scoring import weigh
from crawler.licenses import find_license_mentions, spdx_from_url
from crawler.licenses.ids import ALL_RIGHTS_RESERVED, NOASSERTION, PUBLIC_DOMAIN

_LICENSE_URL_IN_TEXT = re.compile(
    r"(?:https?:)?//(?:www\.)?(?:creativecommons\.org/(?:licenses|publicdomain)|"
    r"opendatacommons\.org/licenses|gnu\.org/(?:licenses|copyleft)|"
    r"nationalarchives\.gov\.uk/doc/open-government-licence)/[^\s<>\"')\]]*",
    re.I,
)
# "licensed under MIT" / "Lizenz: MIT": the bare acronym only counts right after a cue.
# The acronym itself is matched case-sensitively: "Lizenz: mit Namensnennung" is German.
_BARE_MIT = re.compile(
    r"\b(?i:licen[cs]ed|released|available|distributed)\s+(?i:under)\s+(?i:the\s+)?(MIT)\b"
    r"(?!\s*-)|\b(?i:license|licence|lizenz)\s*:\s*(MIT)\b"
)
_URL_HOSTS_IN_TEXT = (
    "creativecommons.org",
    "opendatacommons.org",
    "gnu.org",
    "nationalarchives.gov.uk",
)
# A line that starts with a license label ("Lizenz: CC BY-SA 4.0", "License: MIT").
_LABEL_LINE = re.compile(
    r"^\W*(?:license|licence|lizenz|licencia|licença|licenza|licentie|licencja)\s*:\s*$", re.I
)
# Licenses written for software: in page chrome they usually license the platform.
_SOFTWARE_LICENSE = re.compile(
    r"^(?:LicenseRef-)?(?:A?GPL|LGPL|MIT|Apache|BSD|0BSD|MPL|ISC|EPL|EUPL|Zlib|Unlicense|"
    r"BSL|CDDL|Artistic|PostgreSQL|WTFPL)"
)
# Words that make a chrome line about the software that runs the site, not its pages.
_PLATFORM = re.compile(
    r"\b(?:powered|built|made|generated|created|hosted|running|crafted|designed)\s+(?:by|with|on|using)\b"
    r"|\b(?:theme|template|engine|plugin|framework|software|source\s+code|code)\b",
    re.I,
)
# "Copyleft © 2016 Anarcat CC-BY-SA": the word says the notice grants, not reserves.
_COPYLEFT = re.compile(r"\bcopyleft\b", re.I)
# A site's notice line in the page chrome: "© 2020 Jane Doe · CC BY-SA 4.0".
_NOTICE_LINE_REGIONS = frozenset({FOOTER, SIDEBAR, BODY})
_NOTICE_LINE_MAX = 200
_GFDL_NO_INVARIANTS = re.compile(r"with\s+(?:no|the)\s+Invariant\s+Sections?", re.I)
_MEDIA_XPATH = lxml.etree.XPath(".//img | .//picture | .//video")
_NOT_CONTENT_IMAGE = re.compile(r"logo|icon|sprite|badge|button|spacer|pixel|avatar|ie6png", re.I)
_BLOCK_TAGS = frozenset({"p", "div", "li", "td", "dd", "section", "span", "small", "figure"})
_MAX_VALUE = 300
# The most text an image box before a credit line holds (a caption, a short title).
_MEDIA_BOX_TEXT = 300
# A line of the article's front matter that is only a grant, with no subject: "Under a
# Creative Commons license", "Licensed under CC BY 4.0" (the label publishers print by
# the article's title): the article's own statement.
_GRANT_LABEL = re.compile(
    r"^\W*(?:(?:licen[cs]ed|published|available|distributed|released|made\s+available)\s+)?"
    r"under\b",
    re.I,
)
_GRANT_LABEL_MAX = 80
_THIS_MEDIUM = re.compile(
    r"\b(?:this|these)\s+(images?|photos?|photographs?|pictures?|videos?|illustrations?|"
    r"graphics?|screenshots?)\b",
    re.I,
)
_SENTENCE_END = re.compile(r"(?<=\w{3})[.!?](?=\s|$)")
# A public-domain dedication (the owner's act), not a statement about the work's status.
_DEDICATION = re.compile(r"(?:placed|released|dedicated|put|committed)\b", re.I)
_YEAR = re.compile(r"\b(1[89]\d\d|2[01]\d\d)\b")
# Works whose copyright may still run: published within this many years (US term for works
# published 1929 onwards).
_PD_TERM_YEARS = 95


@dataclass(frozen=True, slots=True)
class CopyrightNotice:
    """A copyright notice found in the text, with its region."""

    text: str
    where: str


def _media_credit(el: lxml.etree._Element, line: str, memo: dict[object, bool]) -> bool:
    """A short line next to an image reads as a media credit ("(c) Markus Leitner").

    ``memo`` keeps the answer per block element: a block holding thousands of short
    lines is looked at once."""
    if len(line) > 120:
        return False
    node = el
    while node is not None and isinstance(node.tag, str) and node.tag not in _BLOCK_TAGS:
        node = node.getparent()
    if node is None:
        return False
    if node not in memo:
        memo[node] = any(is_content_image(img) for img in _media_near(node))
    return memo[node]


def _media_near(node: lxml.etree._Element) -> Iterator[lxml.etree._Element]:
    """Images and videos inside ``node``, the element right before it if that is media,
    and images inside that element when it holds little text (an image box, not a whole
    page section that happens to contain pictures) (what ``_MEDIA_XPATH`` selects,
    without evaluating ``preceding-sibling::*`` over every sibling of a long list)."""
    yield from _MEDIA_XPATH(node)
    previous = node.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    if previous is None:
        return
    if previous.tag in ("img", "picture", "figure", "video"):
        yield previous
    if text_fits(previous, _MEDIA_BOX_TEXT, stripped=True):
        yield from previous.iter("img")


def is_content_image(el: lxml.etree._Element) -> bool:
    """An image or video of the content, not a logo, icon, badge or tracking pixel."""
    if el.tag in ("picture", "video", "figure"):
        return True
    described = " ".join(el.get(a) or "" for a in ("src", "alt", "class", "id"))
    return not _NOT_CONTENT_IMAGE.search(described)


class _Scanner:
    """One page's text, with helpers to place a match and to judge its sentence."""

    def __init__(self, ptext: PageText, regions: RegionMap) -> None:
        self.ptext = ptext
        self.regions = regions
        self._media_memo: dict[object, bool] = {}

    def region_at(self, start: int) -> str:
        """The region of the element holding ``text[start]`` (no media-credit check)."""
        return self.regions.region(self.ptext.element_at(start))

    def place(self, start: int, end: int) -> str:
        """The region of a match, ``caption`` for short media credits."""
        el = self.ptext.element_at(start)
        region = self.regions.region(el)
        if region not in SCOPED_OUT and region not in (FOOTER, SIDEBAR, HEAD):
            lo, hi = self.ptext.block(start, end)
            if _media_credit(el, self.ptext.text[lo:hi], self._media_memo):
                return CAPTION
        return region

    def sentence(self, start: int, end: int) -> tuple[str, str, str]:
        """(text before the match, the whole sentence, text after) within its sentence."""
        lo, hi = self.ptext.sentence(start, end)
        text = self.ptext.text
        return text[lo:start], text[lo:hi].strip(), text[end:hi]

    def judge_mention(
        self, start: int, end: int, spdx: str = "", article_footer: bool = False
    ) -> tuple[str, str]:
        """(sentence, ``where``) of a license mention at ``text[start:end]``."""
        before, sentence, after = self.sentence(start, end)
        lo, hi = self.ptext.block(start, end)
        text = self.ptext.text
        where = grant_where(
            self.place(start, end),
            before,
            sentence,
            after,
            self.scope(before, after),
            text[lo:start],
            spdx,
            article_footer,
            text[start:hi],
        )
        return sentence, where

    def block_before(self, start: int) -> str:
        """The text of the match's block (line) before it."""
        lo, _hi = self.ptext.block(start, start)
        return self.ptext.text[lo:start]

    def in_article_footer(self, start: int) -> bool:
        """Whether the match sits in the article's own footer (see :mod:`regions`)."""
        return self.regions.in_article_footer(self.ptext.element_at(start))

    def scope(self, before: str, after: str) -> str | None:
        """What the sentence restricts the statement to, if not the text."""
        return lexicon.scope_words_before(before) or lexicon.scope_after(after)


def gfdl_variant(spdx: str, following: str) -> str:
    """``GFDL-1.3-or-later`` + "with no Invariant Sections" -> the no-invariants variant."""
    if (
        spdx.startswith("GFDL-")
        and "invariants" not in spdx
        and _GFDL_NO_INVARIANTS.search(following)
    ):
        return spdx.replace("-only", "-no-invariants-only").replace(
            "-or-later", "-no-invariants-or-later"
        )
    return spdx


def software_without_subject(spdx: str, before: str, region: str = "", line: str = "") -> bool:
    """A software license ("GPL", "MIT", "Apache") whose sentence names no content as its
    subject: in page chrome that is the license of the software ("Powered by WordPress,
    released under the GPL", "Released under the MIT License"), not of the text.

    A project or documentation site states the license of its pages on its copyright
    line, the way any site does ("MIT Licensed | Copyright © 2019-present Evan You",
    "Copyright © 2021 The Foo Authors. Licensed under the Apache License 2.0"): a chrome
    ``line`` that carries the site's copyright notice and names no platform ("built
    with", "theme", "powered by" ...) makes the software license the content's."""
    if not _SOFTWARE_LICENSE.match(spdx) or (
        lexicon.CONTENT_NOUN.search(before) or lexicon.SELF_REFERENCE.search(before)
    ):
        return False
    return not (
        region in _NOTICE_LINE_REGIONS
        and len(line) <= _NOTICE_LINE_MAX
        and lexicon.COPYRIGHT_NOTICE.search(line)
        and not _PLATFORM.search(line)
    )


def notice_line(region: str, block_before: str, block_after: str = "") -> bool:
    """A short line of the page chrome that carries the site's copyright (or copyleft)
    notice and names a license ("© 2020 Jane Doe · CC BY-SA 4.0", "Copyleft © 2016
    Anarcat CC-BY-SA", "MIT Licensed | Copyright © 2019-present Evan You"): the usual way
    a site states the license of its content."""
    line = block_before + block_after
    return (
        region in _NOTICE_LINE_REGIONS
        and len(line) <= _NOTICE_LINE_MAX
        and bool(lexicon.COPYRIGHT_NOTICE.search(line) or _COPYLEFT.search(block_before))
    )


def grant_where(
    region: str,
    before: str,
    sentence: str,
    after: str,
    scope: str | None,
    block_before: str = "",
    spdx: str = "",
    article_footer: bool = False,
    block_after: str = "",
) -> str:
    """The ``where`` of a license mention: its region, or why it is not a grant.

    A mention is a grant when its sentence has a grant cue, or when the same block says
    just before that this page is licensed ("This article is distributed under the terms
    of the CC BY-NC License ... See: <license URL>"), or when it ends a short chrome line
    that opens with the site's copyright notice (:func:`notice_line`). Inside the article
    the statement must also be about this page, or be a short line of the article's own
    footer (``article_footer``: "Copyright © 2017 Google, Inc. Licensed under CC BY-NC-ND
    4.0" closing a book chapter), or a short line that is only the grant ("Under a
    Creative Commons license", the label publishers print under an article's title). A
    software license needs the content as its subject ("Documentation licensed under
    MIT").
    """
    if region in SCOPED_OUT:
        return region
    if scope:
        return scoped(region, scope)
    if software_without_subject(spdx, before, region, block_before + block_after):
        return qualified(region, Qualifier.SOFTWARE_ONLY)
    lead = block_before[-400:]
    lead_grant = bool(lexicon.SELF_REFERENCE.search(lead) and lexicon.GRANT_CUE.search(lead))
    if not (
        lexicon.GRANT_CUE.search(before)
        or lexicon.GRANT_CUE.search(after[:60])
        or lead_grant
        or notice_line(region, block_before, block_after)
    ):
        return qualified(region, Qualifier.MENTION)
    own_line = (article_footer and len(block_before) <= _NOTICE_LINE_MAX) or (
        len(block_before) + len(block_after) <= _GRANT_LABEL_MAX
        and bool(_GRANT_LABEL.match(block_before))
    )
    if region == MAIN and not (lexicon.SELF_REFERENCE.search(sentence) or lead_grant or own_line):
        return qualified(region, Qualifier.ABOUT)
    return region


def text_evidence(
    ptext: PageText, regions: RegionMap
) -> tuple[list[Evidence], list[CopyrightNotice]]:
    """License, public-domain and rights evidence from the visible text, and the notices."""
    scan = _Scanner(ptext, regions)
    budget = Budget()
    text = ptext.text
    evidence: list[Evidence] = []

    # Plain public-domain wording is read by lexicon.PUBLIC_DOMAIN, which wants a
    # dedication ("placed in the public domain"), not the bare phrase.
    mentions = [
        (m.start, m.end, m.spdx) for m in find_license_mentions(text) if m.spdx != PUBLIC_DOMAIN
    ]
    lowered = _lower_same_length(text)
    if any(host in lowered for host in _URL_HOSTS_IN_TEXT):
        mentions += [
            (m.start(), m.end(), spdx)
            for m in _LICENSE_URL_IN_TEXT.finditer(text)
            if (spdx := spdx_from_url(m.group(0)))
        ]
    if "MIT" in text:
        mentions += [
            (m.start(g), m.end(g), "MIT")
            for m in _BARE_MIT.finditer(text)
            for g in (1, 2)
            if m.group(g)
        ]
    labelled: list[int] = []
    for start, end, spdx in sorted(mentions):
        if not budget.allow(Kind.TEXT, spdx, scan.region_at(start)):
            continue
        sentence, where = scan.judge_mention(start, end, spdx, scan.in_article_footer(start))
        spdx = gfdl_variant(spdx, text[end : end + 400])
        if where == qualified(MAIN, Qualifier.ABOUT) and _LABEL_LINE.match(
            scan.block_before(start)
        ):
            labelled.append(len(evidence))
        evidence.append(
            Evidence(Kind.TEXT, sentence[:_MAX_VALUE], spdx, where, weigh(Kind.TEXT, where))
        )
    _accept_article_label(evidence, labelled)
    evidence += _unnamed_grants(scan, mentions, budget)

    status_claims: list[int] = []
    for start, end in lexicon.find_spans(lexicon.PUBLIC_DOMAIN, text, lowered):
        if not budget.allow(Kind.TEXT, PUBLIC_DOMAIN, scan.region_at(start)):
            continue
        before, sentence, after = scan.sentence(start, end)
        region = scan.place(start, end)
        where = region
        if region not in SCOPED_OUT:
            scope = scan.scope(before, after)
            if scope:
                where = scoped(region, scope)
            elif not lexicon.SELF_REFERENCE.search(sentence):
                where = qualified(region, Qualifier.ABOUT)
        if not _DEDICATION.match(text, start):
            status_claims.append(len(evidence))
        evidence.append(
            Evidence(
                Kind.TEXT, sentence[:_MAX_VALUE], PUBLIC_DOMAIN, where, weigh(Kind.TEXT, where)
            )
        )

    some_rights = lexicon.find_spans(lexicon.SOME_RIGHTS, text, lowered)
    for start, end in lexicon.find_spans(lexicon.RESERVED, text, lowered):
        if _inside_any(start, some_rights) or not budget.allow(
            Kind.RIGHTS_STATEMENT, ALL_RIGHTS_RESERVED, scan.region_at(start)
        ):
            continue
        evidence.append(_rights(scan, start, end, Kind.RIGHTS_STATEMENT))

    notices: list[CopyrightNotice] = []
    for m in lexicon.COPYRIGHT_NOTICE.finditer(text):
        if _COPYLEFT.search(text[max(0, m.start() - 12) : m.start()]):
            continue  # "Copyleft ©" announces a copyleft license, it reserves nothing
        if not budget.allow(Kind.COPYRIGHT_NOTICE, ALL_RIGHTS_RESERVED, scan.region_at(m.start())):
            continue
        ev = _rights(scan, m.start(), m.end(), Kind.COPYRIGHT_NOTICE)
        evidence.append(ev)
        if ev.weight > 0:
            notices.append(CopyrightNotice(_notice_text(text, m.start()), ev.where))
    _contradict_status(evidence, status_claims)
    return _dedupe(evidence) + budget.omitted(), notices


def _contradict_status(evidence: list[Evidence], status_claims: list[int]) -> None:
    """A statement that the work *is* in the public domain ("no one owns a United States
    copyright in these works", the notice e-text projects print under every book) is a
    claim about its age, and a copyright notice or reservation on the same page dated
    within the last 95 years contradicts it (a recent book an e-text project carries by
    permission): such a claim keeps its sentence as evidence but weighs nothing. A
    dedication ("placed in the public domain") is the owner's own act and stands."""
    if not status_claims:
        return
    recent = date.today().year - _PD_TERM_YEARS
    for ev in evidence:
        if ev.weight > 0 and ev.spdx == ALL_RIGHTS_RESERVED and any(
            int(y) > recent for y in _YEAR.findall(ev.value)
        ):
            break
    else:
        return
    for i in status_claims:
        ev = evidence[i]
        if ev.weight > 0:
            where = qualified(split_where(ev.where)[0], Qualifier.CONTRADICTED)
            evidence[i] = Evidence(ev.kind, ev.value, ev.spdx, where, 0.0)


def _unnamed_grants(
    scan: _Scanner, mentions: list[tuple[int, int, str]], budget: Budget
) -> list[Evidence]:
    """Grants of "a Creative Commons license" whose sentence names no license: the page
    says its text is licensed, but not under which terms. They never make a claim (their
    id is ``NOASSERTION``); they keep a bare copyright notice from reading as "all rights
    reserved" (see :mod:`crawler.detect.resolve`)."""
    found = []
    starts = sorted(start for start, _end, _spdx in mentions)
    for m in lexicon.UNNAMED_CC_LICENSE.finditer(scan.ptext.text):
        lo, hi = scan.ptext.sentence(m.start(), m.end())
        first = bisect.bisect_left(starts, lo)
        if first < len(starts) and starts[first] < hi:
            continue
        if not budget.allow(Kind.TEXT, NOASSERTION, scan.region_at(m.start())):
            continue
        sentence, where = scan.judge_mention(m.start(), m.end())
        found.append(
            Evidence(Kind.TEXT, sentence[:_MAX_VALUE], NOASSERTION, where, weigh(Kind.TEXT, where))
        )
    return found


def _accept_article_label(evidence: list[Evidence], labelled: list[int]) -> None:
    """A "License: X" line in the article states the article's license, unless the article
    labels several different licenses (a comparison or a list of works, not a statement)."""
    if not labelled or len({evidence[i].spdx for i in labelled}) != 1:
        return
    for i in labelled:
        ev = evidence[i]
        evidence[i] = Evidence(ev.kind, ev.value, ev.spdx, MAIN, weigh(ev.kind, MAIN))


def _rights(scan: _Scanner, start: int, end: int, kind: str) -> Evidence:
    before, sentence, after = scan.sentence(start, end)
    region = scan.place(start, end)
    where = region
    if region not in SCOPED_OUT:
        scope = lexicon.scope_words_before(before) or _media_named_after(scan, end)
        if scope:
            where = scoped(region, scope)
    return Evidence(kind, sentence[:_MAX_VALUE], ALL_RIGHTS_RESERVED, where, weigh(kind, where))


def _media_named_after(scan: _Scanner, end: int) -> str | None:
    """The medium a reservation's own paragraph goes on to name ("© 2024 wikiHow, Inc. All
    rights reserved. wikiHow, Inc. is the copyright holder of this image ..."): the
    notice is that image's credit, not the text's."""
    _lo, hi = scan.ptext.block(end, end)
    m = _THIS_MEDIUM.search(scan.ptext.text, end, min(hi, end + 200))
    return m.group(1).lower() if m else None


def _inside_any(offset: int, spans: list[tuple[int, int]]) -> bool:
    """Whether ``offset`` lies in one of ``spans``: sorted, non-overlapping ``(start,
    end)`` pairs, as :func:`crawler.detect.lexicon.find_spans` returns them."""
    i = bisect.bisect_right(spans, (offset, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= offset < spans[i][1]


def _lower_same_length(text: str) -> str:
    """``text.lower()``, keeping any character whose lower case is longer (so offsets hold)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _notice_text(text: str, start: int) -> str:
    """The notice from its (c) sign: up to "All rights reserved" if that follows, else to
    the end of its first sentence, and never past its line."""
    end = text.find("\n", start)
    notice = text[start : end if end >= 0 else len(text)]
    notice = re.split(r"\s[|·•]\s", notice)[0][:300]
    reserved = lexicon.RESERVED.search(notice)
    if reserved and reserved.start() < 200:
        return notice[: reserved.end()].strip(" ,;") + (
            "." if notice[reserved.end() :].startswith(".") else ""
        )
    stop = _SENTENCE_END.search(notice, 5 if notice[:5].lower() == "copr." else 0)
    return (notice[: stop.end()] if stop else notice).strip()[:200]


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    seen: set[tuple[str, str, str, str]] = set()
    out = []
    for ev in evidence:
        key = (ev.kind, ev.value, ev.spdx, ev.where)
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return out
