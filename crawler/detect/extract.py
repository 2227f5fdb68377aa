"""Decoding, parsing, main-text extraction (trafilatura) and structured data (extruct).

Nothing here judges licenses: this module turns the bytes of one response into the parsed
pieces the signal readers look at. The HTML is parsed once with lxml; trafilatura and
extruct both work on that tree (trafilatura copies it before cleaning).
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import extruct
import extruct.utils
import lxml.etree
import lxml.html
import trafilatura
from htmldate import find_date
from trafilatura import metadata as trafilatura_metadata
from trafilatura.settings import Extractor
from trafilatura.utils import repair_faulty_html

# Response headers: a mapping or ``(name, value)`` pairs, str or bytes, a mapping's value
# possibly a list (Scrapy's ``Headers``).
Headers = Mapping[Any, Any] | Sequence[tuple[Any, Any]]

# Magic numbers of formats that are sometimes served as text/html.
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"RIFF", "RIFF media"),
    (b"\x00\x00\x01\x00", "icon"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"wOFF", "web font"),
    (b"wOF2", "web font"),
)
# Control bytes never seen in text: more than a tenth of them marks binary data.
_TEXT_BYTES = bytes([*range(0x20, 0x100), 0x09, 0x0A, 0x0C, 0x0D, 0x1B])
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.I)
# trafilatura's parser settings, except that comments are kept: old Creative Commons RDF
# and some notices live in HTML comments. They are stripped before trafilatura runs.
#
# Its elements are plain ``HtmlElement`` objects picked by lxml's C-level default lookup:
# lxml.html's own ``HtmlElementClassLookup`` calls a Python method for every element object
# lxml creates (about 11,000 a page between the signal readers and trafilatura's copies of
# the tree, some 5% of the time ``inspect`` takes), only to give ``<form>``, ``<input>``,
# ``<select>``, ``<textarea>`` and ``<label>`` their form-filling classes, which nothing
# here uses. Copies of the tree (trafilatura cleans a copy) keep the parser's lookup.
_PARSER = lxml.html.HTMLParser(
    collect_ids=False,
    default_doctype=False,
    remove_comments=False,
    remove_pis=True,
    encoding="utf-8",
)
_PARSER.set_element_class_lookup(
    lxml.etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)
#: Links of one parent kept for main-text extraction (see :func:`prune_link_runs`).
MAX_LINK_RUN = 1000
#: HTML characters that htmldate's date search reads on a big page.
DATE_SEARCH_LIMIT = 2**20
_COUNT_LINKS = lxml.etree.XPath("count(//a)")
_MANY_CHILDREN = lxml.etree.XPath(f"//*[count(*) > {MAX_LINK_RUN}]")
_JSONLD_XPATH = lxml.etree.XPath('//script[@type="application/ld+json"]')
_MICRODATA_XPATH = lxml.etree.XPath("boolean(//*[@itemscope])")
# RDFa is only worth pyRdfa's cost when it carries license or attribution terms.
_RDFA_XPATH = lxml.etree.XPath(
    "boolean(//*[@property[contains(., 'license') or contains(., 'attribution')]"
    " or @rel[contains(., 'cc:license') or contains(., 'dct:license')]])"
)


class InspectError(ValueError):
    """The input is not a page that can be inspected (empty, binary, unparseable)."""


@dataclass(slots=True)
class ParsedPage:
    """One page, decoded and parsed once, with everything the signal readers need."""

    html: str
    tree: lxml.html.HtmlElement
    url: str | None
    structured: dict[str, list[Any]]


@dataclass(slots=True)
class MainContent:
    """What trafilatura says about the page: main text and basic metadata."""

    text: str
    title: str | None
    author: str | None
    date: str | None


def header_value(headers: Headers | None, name: str) -> list[str]:
    """Every value of the response header ``name`` (case-insensitive), in order.

    Names and values may be str or bytes, and a mapping's value may be a list of values
    (Scrapy's ``Headers``: ``{b"Link": [b"<...>; rel=license"]}``).
    """
    if not headers:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    values: list[str] = []
    for key, value in items:
        if _header_text(key).strip().lower() != wanted:
            continue
        for one in value if isinstance(value, list | tuple) else [value]:
            values.append(_header_text(one))
    return values


def _header_text(value: object) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _charset_from_headers(headers: Headers | None) -> str | None:
    for value in header_value(headers, "content-type"):
        m = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", value, re.I)
        if m:
            return m.group(1)
    return None


def _known_codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(html: bytes | str, headers: Headers | None = None) -> str:
    """Decode the body of a response to text.

    UTF-8 is tried first (valid UTF-8 is almost never anything else), then the charset
    declared in the ``Content-Type`` header, then a ``<meta charset>``, then detection.
    Raises :class:`InspectError` for empty or binary input.
    """
    if isinstance(html, str):
        text = html
    else:
        data = bytes(html)
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            data = data.decode("utf-16", "replace").encode("utf-8")
        if not data.strip():
            raise InspectError("empty document")
        for magic, kind in _BINARY_MAGIC:
            if data.startswith(magic):
                raise InspectError(f"not HTML: looks like a {kind}")
        head = data[:4096]
        if head.count(b"\x00") or len(head.translate(None, _TEXT_BYTES)) > len(head) // 10:
            raise InspectError("not HTML: binary content (NUL or control bytes)")
        text = _decode_bytes(data, headers)
    if not text.strip():
        raise InspectError("empty document")
    return text


def _decode_bytes(data: bytes, headers: Headers | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    meta = _META_CHARSET.search(data[:8192])
    candidates = [
        _charset_from_headers(headers),
        meta.group(1).decode("ascii", "ignore") if meta else None,
    ]
    for name in candidates:
        codec = _known_codec(name)
        if codec and codec not in ("utf-8", "utf-8-sig"):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                continue
    return trafilatura.utils.decode_file(data)


def parse_page(
    html: bytes | str, url: str | None = None, headers: Headers | None = None
) -> ParsedPage:
    """Decode and parse one page; structured data (JSON-LD, microdata, RDFa) included."""
    text = decode_html(html, headers)
    repaired = repair_faulty_html(text, text[:50].lower())
    try:
        tree = lxml.html.fromstring(repaired.encode("utf-8", "surrogatepass"), parser=_PARSER)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise InspectError(f"not HTML: the markup could not be parsed ({exc})") from exc
    if tree is None or not isinstance(tree, lxml.html.HtmlElement) or len(tree) < 1:
        raise InspectError("not HTML: the markup could not be parsed")
    structured = structured_data(tree, url, repaired)
    return ParsedPage(html=text, tree=tree, url=url, structured=structured)


def structured_data(
    tree: lxml.html.HtmlElement, url: str | None, html: str
) -> dict[str, list[Any]]:
    """JSON-LD, microdata and RDFa items of the page, via extruct.

    Microdata and RDFa extraction only run when the page carries their attributes: on most
    pages they find nothing, and RDFa extraction is the most expensive step of all (it
    needs extruct's own XML-DOM parse of the page).
    """
    found: dict[str, list[Any]] = {"json-ld": [], "microdata": [], "rdfa": []}
    jsonld = extruct.JsonLdExtractor()
    for script in _JSONLD_XPATH(tree):
        try:
            found["json-ld"].extend(jsonld.extract_items(script))
        except Exception:  # one broken script (bad JSON) must not hide the others
            continue
    if _MICRODATA_XPATH(tree):
        try:
            found["microdata"] = extruct.MicrodataExtractor().extract_items(tree, url)
        except Exception:  # broken itemref loops and the like: no microdata rather than no page
            found["microdata"] = []
    if _RDFA_XPATH(tree):
        try:
            dom = extruct.utils.parse_xmldom_html(html.encode("utf-8", "surrogatepass"), "utf-8")
            found["rdfa"] = extruct.RDFaExtractor().extract_items(dom, base_url=url or "")
        except Exception:  # pyRdfa fails on some malformed prefixes
            found["rdfa"] = []
    return found


def main_content(page: ParsedPage) -> MainContent:
    """Main text (comments excluded), title, author and date of the page, from trafilatura.

    Only the metadata licrawl uses is computed: title, date (htmldate, as trafilatura
    does) and the author that ``<meta>`` tags and JSON-LD name. trafilatura's own byline
    search, categories, tags, site name and license are skipped: the byline search alone
    costs more than all of licrawl's detection, and :mod:`crawler.detect.signals.authors` reads
    bylines itself.

    HTML comments are stripped from ``page.tree`` first (trafilatura's own parser drops
    them); call this after the signal readers are done with the tree.
    """
    lxml.etree.strip_tags(page.tree, lxml.etree.Comment)
    prune_link_runs(page.tree)
    doc = trafilatura.bare_extraction(page.tree, options=_extractor(page.url))
    meta = trafilatura_metadata.examine_meta(page.tree)
    # trafilatura's JSON-LD reader has bugs on odd data; the meta tags then stand.
    with contextlib.suppress(Exception):
        meta = trafilatura_metadata.extract_meta_json(page.tree, meta)
    date_params = trafilatura_metadata.set_date_params(True)
    date_params["url"] = page.url or meta.url
    # htmldate's extensive search reads the whole page with regexes: on a page of many
    # megabytes it reads the first one (head, byline and the start of the article).
    dated = page.tree if len(page.html) <= DATE_SEARCH_LIMIT else page.html[:DATE_SEARCH_LIMIT]
    return MainContent(
        text=((doc.text if doc is not None else "") or "").strip(),
        title=meta.title or trafilatura_metadata.extract_title(page.tree) or None,
        author=meta.author if meta.author and " " in meta.author.strip() else None,
        date=find_date(dated, **date_params) or None,
    )


#: trafilatura's options for the main text: no metadata, comments left out, tables kept
#: (``bare_extraction``'s defaults otherwise). Built once: ``bare_extraction`` given these
#: as keyword arguments builds them for every page, reading its configuration's values
#: again (0.2 ms a page, 5% of ``inspect``).
_EXTRACTOR = Extractor(output_format="python", comments=False, tables=True,
                       with_metadata=False)


def _extractor(url: str | None) -> Extractor:
    """:data:`_EXTRACTOR` for the page at ``url`` (a copy: trafilatura copies its options
    too before it changes them)."""
    options = copy.copy(_EXTRACTOR)
    options.url = url
    options.source = url and url.encode("utf-8", "replace").decode("utf-8")
    return options


def prune_link_runs(tree: lxml.html.HtmlElement) -> int:
    """Drop the links of one parent beyond the first :data:`MAX_LINK_RUN`; return how many.

    A link is an ``<a>`` child, or a child whose only content is one ``<a>`` (a list item
    or table cell around a link). trafilatura's link-density and readability passes grow
    faster than linearly on an element with tens of thousands of links; no page's main
    text is in its ten-thousandth link, and text between the links (their tails) is kept.
    Pages with fewer links than that in all are not looked at.
    """
    if _COUNT_LINKS(tree) <= MAX_LINK_RUN:
        return 0
    dropped = 0
    for parent in _MANY_CHILDREN(tree):
        # Each kept child (index 0: the parent's own text) with the text that follows it,
        # tails of dropped links included (the text between links stays).
        kept: list[lxml.etree._Element] = []
        texts: list[list[str]] = [[parent.text or ""]]
        links = 0
        for child in parent:
            if _is_link_item(child):
                links += 1
                if links > MAX_LINK_RUN:
                    texts[-1].append(child.tail or "")
                    continue
            kept.append(child)
            texts.append([child.tail or ""])
        if links <= MAX_LINK_RUN or parent.getparent() is None:
            continue
        # A new parent takes the kept children: lxml removes children one at a time, at
        # a cost that adds up to seconds for 50,000 of them.
        fresh = parent.makeelement(parent.tag, dict(parent.attrib))
        fresh.text, fresh.tail = "".join(texts[0]) or None, parent.tail
        fresh.extend(kept)
        for child, text in zip(kept, texts[1:], strict=True):
            child.tail = "".join(text) or None
        parent.getparent().replace(parent, fresh)
        dropped += links - MAX_LINK_RUN
    return dropped


def _is_link_item(el: lxml.etree._Element) -> bool:
    if el.tag == "a":
        return True
    return (
        len(el) == 1
        and el[0].tag == "a"
        and not (el.text or "").strip()
        and not (el[0].tail or "").strip()
    )
