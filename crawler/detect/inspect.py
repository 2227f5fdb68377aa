"""One page in, one record out: the single place where a page becomes a record.

``inspect`` decodes and parses the page once, asks every signal reader for evidence
(none of them decides), resolves the evidence into one license claim, extracts the main
text and metadata with trafilatura, and reads authorship and opt-out signals. Site-level
context (robots.txt AI rules, tdmrep.json, the user's site policy) is gathered by the
crawl and passed in; nothing is fetched here.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urljoin

import lxml.etree
import py3langid

from crawler.core.evidence import Evidence, Kind, Where, bound_evidence
from crawler.detect.extract import (
    Headers,
    InspectError,
    MainContent,
    ParsedPage,
    main_content,
    parse_page,
)
from crawler.detect.optout import combine_optout
from crawler.detect.pagetext import page_text
from crawler.detect.regions import FOOTER, MAIN, RegionMap
from crawler.detect.resolve import Resolution, resolve
from crawler.detect.scoring import weigh
from crawler.detect.signals.authors import extract_authors
from crawler.detect.signals.hidden import comment_evidence, script_state_evidence
from crawler.detect.signals.links import LinkScanner, http_link_evidence
from crawler.detect.signals.meta import meta_evidence
from crawler.detect.signals.optout import page_optout
from crawler.detect.signals.structured import structured_evidence
from crawler.detect.signals.text import CopyrightNotice, text_evidence
from crawler.licenses import license_info, or_terms
from crawler.licenses.ids import ALL_RIGHTS_RESERVED, NOASSERTION
from crawler.site.context import SiteContext
from crawler.site.user_policy import SitePolicy

__all__ = ["InspectError", "inspect", "warm_up"]

_CANONICAL = lxml.etree.XPath(
    "//link[@href][contains(concat(' ', normalize-space(translate("
    "@rel, 'CANONICAL', 'canonical')), ' '), ' canonical ')]/@href"
)
# Double quotation marks of any script (apostrophes are not: "The Beatles'" is a title).
_QUOTES = frozenset("\"“”„‟«»‹›「」『』")
_MIN_LANG_TEXT = 40
# py3langid on the first 2,000 characters: as accurate as 5,000 on the dev pages (75/75),
# at a third of the cost.
_LANG_SAMPLE = 2000


def inspect(
    html: bytes | str,
    url: str | None = None,
    headers: Headers | None = None,
    site_policy: SitePolicy | None = None,
    site: SiteContext | None = None,
) -> dict[str, Any]:
    """Inspect one fetched page and return the fields of its record that it determines.

    ``html`` is the response body (bytes, decoded with the header or ``<meta>`` charset,
    or str); ``headers`` the response headers (a mapping or ``(name, value)`` pairs);
    ``site_policy`` the user's host/URL -> license policy; ``site`` the host's robots.txt
    and tdmrep.json signals gathered by the crawl.

    Returns ``title, text, lang, published, authors, copyright, license,
    license_category, license_confidence, license_conflict, license_evidence,
    attribution, tdm_reserved, tdm_policy, ai_optout, text_sha1, canonical_url``.
    ``text`` is ``""`` when the page has no main text. Raises :class:`InspectError` for
    input that is not an HTML page (empty, binary, unparseable).
    """
    page = parse_page(html, url, headers)
    evidence, notices = _license_evidence(page, headers)
    policy_ev = _site_policy_evidence(site_policy, url)
    if policy_ev:
        evidence.append(policy_ev)
    evidence = bound_evidence(evidence)
    resolution = resolve(evidence)
    main = main_content(page)
    copyright_notice = _pick_notice(notices)
    authors = extract_authors(page.tree, page.structured, main.author, copyright_notice)
    optout = page_optout(page.tree, headers)
    tdm_reserved, tdm_policy, ai_optout = combine_optout(url or "", optout, site)
    title = main.title or _html_title(page)
    return {
        "title": title,
        "text": main.text,
        "lang": _language(main, page),
        "published": main.date,
        "authors": authors,
        "copyright": copyright_notice,
        "license": resolution.license,
        "license_category": resolution.category,
        "license_confidence": resolution.confidence,
        "license_conflict": resolution.conflict,
        "license_evidence": [ev.as_dict() for ev in evidence],
        "attribution": attribution(title, authors, url, resolution),
        "tdm_reserved": tdm_reserved,
        "tdm_policy": tdm_policy,
        "ai_optout": ai_optout,
        "text_sha1": hashlib.sha1(main.text.encode("utf-8")).hexdigest(),
        "canonical_url": _canonical(page),
    }


def warm_up() -> None:
    """Load now what :func:`inspect` would load on its first page (py3langid's language
    model); for processes that fork workers after calling this."""
    py3langid.classify("licrawl")


def _license_evidence(
    page: ParsedPage, headers: Headers | None
) -> tuple[list[Evidence], list[CopyrightNotice]]:
    """Every license and rights signal of the page, from every reader."""
    regions = RegionMap()
    ptext = page_text(page.tree)
    evidence = http_link_evidence(headers, page.url)
    evidence += LinkScanner(page.tree, page.url, ptext, regions).evidence()
    evidence += structured_evidence(page.structured, page.url)
    evidence += meta_evidence(page.tree)
    found, notices = text_evidence(ptext, regions)
    evidence += found
    evidence += comment_evidence(page.tree)
    evidence += script_state_evidence(page.tree)
    return evidence, notices


def _site_policy_evidence(policy: SitePolicy | None, url: str | None) -> Evidence | None:
    if policy is None or not url:
        return None
    rule = policy.match(url)
    if rule is None:
        return None
    value = f"{rule.pattern} -> {rule.spdx}" + (f" ({rule.note})" if rule.note else "")
    return Evidence(
        Kind.SITE_POLICY,
        value,
        rule.spdx,
        Where.SITE_POLICY,
        weigh(Kind.SITE_POLICY, Where.SITE_POLICY),
    )


def _pick_notice(notices: list[CopyrightNotice]) -> str | None:
    """The page's copyright notice: the footer's first, else the article's, else any."""
    for wanted in (FOOTER, MAIN):
        for notice in notices:
            if notice.where == wanted:
                return notice.text
    return notices[0].text if notices else None


def attribution(
    title: str | None, authors: list[str], url: str | None, resolution: Resolution
) -> str | None:
    """TASL line (title, author, source, license) when a license is known."""
    if resolution.license in (NOASSERTION, ALL_RIGHTS_RESERVED):
        return None
    parts = [_quoted(title) if title else "Untitled"]
    if authors:
        parts.append("by " + ", ".join(authors))
    if url:
        parts.append(f"({url})")
    parts.append("is licensed under " + _license_words(resolution.license))
    return " ".join(parts)


def _quoted(title: str) -> str:
    """The title in double quotes, unless it already starts or ends with a quotation mark
    (a title such as ``"Jim Higgs" - revision history`` gets no second pair)."""
    if title[0] in _QUOTES or title[-1] in _QUOTES:
        return title
    return f'"{title}"'


def _license_words(expression: str) -> str:
    words = []
    for term in or_terms(expression):
        info = license_info(term)
        words.append(f"{info.name} ({info.url})" if info.url else info.name)
    return " or ".join(words)


def _html_title(page: ParsedPage) -> str | None:
    title = page.tree.findtext(".//title")
    return " ".join(title.split()) or None if title else None


def _canonical(page: ParsedPage) -> str | None:
    hrefs = _CANONICAL(page.tree)
    if not hrefs:
        return None
    href = str(hrefs[0]).strip()
    return urljoin(page.url or "", href) if href else None


def _language(main: MainContent, page: ParsedPage) -> str | None:
    """ISO 639-1 language of the main text (py3langid), else the ``<html lang>``."""
    if len(main.text) >= _MIN_LANG_TEXT:
        lang, _score = py3langid.classify(main.text[:_LANG_SAMPLE])
        return lang
    declared = (page.tree.get("lang") or "").strip().lower()
    return declared.split("-")[0][:2] or None if declared else None
