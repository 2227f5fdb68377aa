"""Weak signals a reader never sees: HTML comments and the page's embedded JSON state.

* HTML comments: old Creative Commons chooser output kept RDF in a comment
  (``<License rdf:about="http://creativecommons.org/licenses/by/2.0/">``), and some pages
  keep their notice there (a GFDL permission notice, "COPYRIGHT X Tous droits réservés").
  A comment that speaks of a template, theme, design, stylesheet or code is about that,
  not the text. A comment that says what a license *should* be ("standalone pages on
  this server should be under CC BY-ND 4.0": a policy note for authors) grants nothing and
  is kept with weight 0 (``html-comment:policy-note``). Conditional comments (``[if IE]``)
  are skipped.
* Embedded JSON state (``<script>`` other than JSON-LD): a ``"license"`` value that says
  all rights are reserved (e.g. ``"license":"ALL_RIGHTS_RESERVED"``). Only reservations
  are read there: an open license claimed from opaque application state is not worth the
  risk of a wrong claim.
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

from crawler.core.evidence import Evidence, Kind, Qualifier, Where, qualified, scoped
from crawler.detect import lexicon
from crawler.detect.scoring import weigh
from crawler.detect.signals.text import gfdl_variant
from crawler.licenses import find_license_mentions, spdx_from_url
from crawler.licenses.ids import ALL_RIGHTS_RESERVED

_URL = re.compile(r"(?:https?:)?//[^\s\"'<>]+")
_COMMENT_SCOPE = re.compile(
    r"\b(?:templates?|themes?|design(?:ed)?|stylesheets?|css|javascript|jquery|scripts?|"
    r"plugins?|fonts?|icons?|code|software|library|framework|polyfill)\b",
    re.I,
)
# Comments worth reading at all: most are build markers and analytics snippets.
_COMMENT_HINT = re.compile(
    r"licen|creativecommons|public domain|rights|réserv|vorbehalten|riservat|reservad|"
    r"copyright|©|\brdf\b|permission",
    re.I,
)
_SCRIPT_LICENSE = re.compile(r"""["']license["']\s*:\s*["']([A-Za-z_ -]{3,40})["']""")
_RESERVED_STATE = re.compile(r"^all[_ -]?rights[_ -]?reserved$", re.I)
_MAX_COMMENT = 20_000
_SENTENCE_END = re.compile(r"[.!?;](?:\s|$)|\n\s*\n")


def _sentence_before(text: str, start: int) -> str:
    """The part of the sentence (at most 200 characters) that leads up to ``start``."""
    before = text[max(0, start - 200) : start]
    ends = list(_SENTENCE_END.finditer(before))
    return before[ends[-1].end() :] if ends else before


def comment_evidence(tree: lxml.html.HtmlElement) -> list[Evidence]:
    """License and rights evidence inside HTML comments (weak, ``where="html-comment"``)."""
    evidence: list[Evidence] = []
    for comment in tree.iter(lxml.etree.Comment):
        text = (comment.text or "")[:_MAX_COMMENT]
        if text.lstrip().startswith("[if") or not _COMMENT_HINT.search(text):
            continue
        where: str = Where.HTML_COMMENT
        scope = _COMMENT_SCOPE.search(text)
        if scope:
            where = scoped(Where.HTML_COMMENT, scope.group(0))
        found: set[str] = set()
        if "rdf" in text.lower() or "creativecommons" in text.lower():
            for m in _URL.finditer(text):
                spdx = spdx_from_url(m.group(0))
                if spdx and spdx not in found:
                    found.add(spdx)
                    evidence.append(
                        Evidence(
                            Kind.HTML_COMMENT,
                            m.group(0),
                            spdx,
                            where,
                            weigh(Kind.HTML_COMMENT, where),
                        )
                    )
        for mention in find_license_mentions(text):
            before = text[max(0, mention.start - 200) : mention.start]
            if mention.spdx in found or not lexicon.GRANT_CUE.search(before):
                continue
            found.add(mention.spdx)
            spdx = gfdl_variant(mention.spdx, text[mention.end : mention.end + 400])
            snippet = " ".join(text[max(0, mention.start - 120) : mention.end + 80].split())
            at = where
            if lexicon.POLICY_NOTE.search(_sentence_before(text, mention.start)):
                at = qualified(Where.HTML_COMMENT, Qualifier.POLICY_NOTE)
            evidence.append(
                Evidence(Kind.HTML_COMMENT, snippet, spdx, at, weigh(Kind.HTML_COMMENT, at))
            )
        reserved = lexicon.RESERVED.search(text)
        if reserved and not lexicon.SOME_RIGHTS.search(text):
            snippet = " ".join(text[max(0, reserved.start() - 120) : reserved.end() + 40].split())
            evidence.append(
                Evidence(
                    Kind.HTML_COMMENT,
                    snippet,
                    ALL_RIGHTS_RESERVED,
                    where,
                    weigh(Kind.HTML_COMMENT, where),
                )
            )
    return evidence


def script_state_evidence(tree: lxml.html.HtmlElement) -> list[Evidence]:
    """Rights reservations in embedded JSON state (``"license":"ALL_RIGHTS_RESERVED"``)."""
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json":
            continue
        for m in _SCRIPT_LICENSE.finditer(script.text or ""):
            if _RESERVED_STATE.match(m.group(1).strip()):
                return [
                    Evidence(
                        Kind.SCRIPT_JSON,
                        m.group(0),
                        ALL_RIGHTS_RESERVED,
                        Where.SCRIPT,
                        weigh(Kind.SCRIPT_JSON, Where.SCRIPT),
                    )
                ]
    return []
