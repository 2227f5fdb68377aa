"""The visible text of a page, with a map from every character back to its element.

Text statements ("licensed under ...", "Alle Rechte vorbehalten") are searched in one
string; the offset of a match finds the element that holds it, and so its region. Scripts,
styles and other invisible parts are left out, so a license inside a JavaScript comment
never reads as a statement about the page. Block elements start a new line, which bounds
sentences.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import lxml.etree
import lxml.html

_SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "textarea",
        "select",
        "option",
        "iframe",
        "object",
        "embed",
        "head",
        "title",
    }
)
_BLOCK = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "br",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?。！？](?=\s|$)|\n|\s[|·•]\s")
# How far a sentence or a line is followed on either side of a match: a page with no
# sentence end or line break for megabytes must not make every match read to its end.
_REACH_BACK = 400
_REACH = 2000


@dataclass(slots=True)
class PageText:
    """Visible body text plus the owner element of each stretch of it."""

    text: str
    starts: list[int]
    owners: list[lxml.etree._Element]

    def element_at(self, offset: int) -> lxml.etree._Element:
        """The element whose text holds the character at ``offset``."""
        i = bisect.bisect_right(self.starts, offset) - 1
        return self.owners[max(i, 0)]

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """Bounds of the sentence around ``text[start:end]`` (line breaks end sentences),
        at most 400 characters before the match and 2,000 after it."""
        text = self.text
        left = 0
        for m in _SENTENCE_END.finditer(text, max(0, start - _REACH_BACK), start):
            left = m.end()
        limit = min(len(text), end + _REACH)
        m = _SENTENCE_END.search(text, end, limit)
        right = m.end() if m else limit
        return left, right

    def block(self, start: int, end: int) -> tuple[int, int]:
        """Bounds of the line (block element) around ``text[start:end]``, at most 2,000
        characters on either side of the match."""
        floor = max(0, start - _REACH)
        left = self.text.rfind("\n", floor, start)
        left = left + 1 if left >= 0 else floor
        limit = min(len(self.text), end + _REACH)
        right = self.text.find("\n", end, limit)
        return left, limit if right < 0 else right


def page_text(tree: lxml.html.HtmlElement) -> PageText:
    """Collect the visible text of ``tree``'s body (the whole tree if it has none).

    One walk in document order over a stack of child iterators (no recursion, so any depth
    of nesting is fine): an element's text belongs to it, its tail to its parent; a block
    element starts and ends a line; comments, processing instructions and the skipped
    elements add only their tails.
    """
    body = tree.find("body")
    root = body if body is not None else tree
    parts: list[str] = []
    starts: list[int] = []
    owners: list[lxml.etree._Element] = []
    length = 0
    # Whether the text so far ends in a space or a line break (or is empty): a chunk that
    # is only white space adds nothing then.
    blank_end = True
    space = _SPACE.sub

    def add(text: str, owner: lxml.etree._Element) -> None:
        nonlocal length, blank_end
        chunk = space(" ", text)
        if chunk == " " and blank_end:
            return
        starts.append(length)
        owners.append(owner)
        parts.append(chunk)
        length += len(chunk)
        blank_end = chunk[-1] in " \n"

    def newline(owner: lxml.etree._Element) -> None:
        nonlocal length, blank_end
        if parts and parts[-1][-1] != "\n":
            starts.append(length)
            owners.append(owner)
            parts.append("\n")
            length += 1
            blank_end = True

    tag = root.tag
    if not isinstance(tag, str) or tag.lower() in _SKIP:
        return PageText("", starts, owners)
    if tag in _BLOCK:
        newline(root)
    if root.text:
        add(root.text, root)
    # open[i] is the element whose children iters[i] walks.
    opened: list[lxml.etree._Element] = [root]
    iters = [iter(root)]
    while iters:
        parent = opened[-1]
        for el in iters[-1]:
            tag = el.tag
            if not isinstance(tag, str) or tag.lower() in _SKIP:
                if el.tail:
                    add(el.tail, parent)
                continue
            if tag in _BLOCK:
                newline(el)
            if el.text:
                add(el.text, el)
            opened.append(el)
            iters.append(iter(el))
            break
        else:  # every child of ``parent`` done: close it
            iters.pop()
            opened.pop()
            if parent.tag in _BLOCK:
                newline(parent)
            if opened and parent.tail:
                add(parent.tail, opened[-1])
    return PageText("".join(parts), starts, owners)


def text_fits(el: lxml.etree._Element, limit: int, *, spaced: bool = False,
              stripped: bool = False) -> bool:
    """Whether the text under ``el`` is at most ``limit`` characters. Reads it piece by
    piece and stops as soon as it is longer, so a page-wide wrapper is never read whole.
    ``spaced``: the pieces count as joined by single spaces; ``stripped``: each piece
    counts without its surrounding whitespace."""
    gap = 1 if spaced else 0
    total = -gap
    for piece in el.itertext():
        total += len(piece.strip() if stripped else piece) + gap
        if total > limit:
            return False
    return True
