"""Authorship: who a human reader credits as author(s) of a page's main content.

Sources are read strongest first (SPEC §2 "Authorship"):

1. ``citation_author`` / ``citation_authors`` (scholarly: many, in order, "Last, First"
   flipped);
2. the page's main structured-data entity (JSON-LD incl. ``@graph`` and ``@id``
   references, then microdata): ``author`` / ``creator``; on a question-and-answer page
   (``QAPage`` / ``Question``) the asker and each answer's poster; authors of embedded
   media objects, ``comment`` items, ``hasPart`` and other nested entities are ignored;
3. ``dc.creator`` / ``DC.creator`` / ``dcterms.creator``;
4. visible credits: an "Author:" field or text line (e-text headers; not inside code or a
   reviewed book's record), elements whose class/id/itemprop/rel says ``author`` or
   ``byline`` (outside comment sections, related-article teasers, widgets, captions and
   sidebars; a list of more than 12 names is a staff list), short "By Jane Doe" / "Posted
   by jdoe on ..." / "Von ..." / "Par ..." lines, Chinese news datelines (記者 X);
5. ``<meta name="author">``, ``article:author``, ``byline`` metas (a profile URL is not a
   name);
6. trafilatura's metadata author (names separated by ``; ``);
7. ccREL ``cc:attributionName``;
8. a personal copyright line ("© 2021 Jane Doe") when nothing else names a person;
9. the owner of a personal site: a handle-shaped copyright holder that is the site's name
   ("© 2024 jdoe" on jdoe.github.io), or X of a site named "X's blog".

The first source that yields at least one person wins; a visible byline replaces it when
it names the same people more fully (extra co-authors, or "Zhenyu Xu" for "Xu Z").
Organisations (newsrooms, publishers, wire agencies such as AP or 新华社, editorial teams,
words such as GmbH / News / Redaktion, CJK endings such as 网 / 社 / 일보) are not returned:
the dev set labels organisation-only credits as no author. A credit equal to the site's
name (publisher, ``og:site_name``, JSON-LD ``WebSite``, ``<title>`` suffix, feed title,
domain, or the first words of one of them) is an organisation unless no other source names
anyone (a personal site named after its author); one that the JSON-LD types only as an
Organization never counts. Names are cleaned ("By ", role labels such as "Text:",
"記者", "기자", "كتبت", picture credits, " | Site", e-mails, URLs, dates, role words),
all-caps names are title-cased, placeholders ("No Author", "Various") and slogans are
dropped, and names are de-duplicated case-insensitively; handles stay as shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from lxml import etree as lxml_etree
from lxml import html as lxml_html

from crawler.detect.metas import page_metas
from crawler.detect.pagetext import text_fits

__all__ = ["authors_from_copyright", "extract_authors"]

_MAIN_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "blogposting",
        "webpage",
        "scholarlyarticle",
        "report",
        "techarticle",
        "analysisnewsarticle",
        "reportagenewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "socialmediaposting",
        "creativework",
        "posting",
        "liveblogposting",
        "medicalscholarlyarticle",
        "itempage",
        "aboutpage",
        "profilepage",
        "qapage",
        "question",
        "collectionpage",
        "book",
        "chapter",
        "thesis",
        "review",
        "howto",
        "recipe",
        "discussionforumposting",
        "publicationissue",
        "dataset",
    }
)
_ORG_TYPES = frozenset(
    {
        "organization",
        "newsmediaorganization",
        "corporation",
        "educationalorganization",
        "governmentorganization",
        "ngo",
        "localbusiness",
        "onlinebusiness",
        "project",
        "researchorganization",
        "library",
        "collegeoruniversity",
        "brand",
    }
)

# Words that mark a credit as an organisation (any language we commonly meet).
_ORG_WORDS = frozenset(
    {
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "ohg",
        "inc",
        "inc.",
        "incorporated",
        "ltd",
        "ltd.",
        "llc",
        "llp",
        "plc",
        "co",
        "co.",
        "cie",
        "cía",
        "corp",
        "corp.",
        "corporation",
        "company",
        "sa",
        "s.a.",
        "srl",
        "s.l.",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "a/s",
        "verlag",
        "verlagsgruppe",
        "media",
        "medien",
        "news",
        "nachrichten",
        "noticias",
        "redaktion",
        "redaction",
        "rédaction",
        "redacción",
        "redaccion",
        "redazione",
        "redactie",
        "redakcja",
        "editorial",
        "editors",
        "editor's",
        "staff",
        "team",
        "newsroom",
        "desk",
        "press",
        "presse",
        "prensa",
        "agency",
        "agentur",
        "agencia",
        "agence",
        "group",
        "gruppe",
        "grupo",
        "groupe",
        "publishing",
        "publishers",
        "publisher",
        "foundation",
        "stiftung",
        "fundación",
        "fondation",
        "university",
        "universität",
        "universidad",
        "université",
        "institute",
        "institut",
        "instituto",
        "polizei",
        "police",
        "policía",
        "ministry",
        "ministerium",
        "department",
        "office",
        "association",
        "verein",
        "e.v.",
        "network",
        "radio",
        "tv",
        "television",
        "fernsehen",
        "zeitung",
        "magazine",
        "magazin",
        "revista",
        "journal",
        "contributors",
        "wikipedia",
        "wikimedia",
        "community",
        "online",
        "digital",
        "blog",
        "channel",
        "broadcasting",
        "newspaper",
        "daily",
        "zeitschrift",
        "communications",
        "services",
        "solutions",
        "systems",
        "technologies",
        "government",
        "council",
        "committee",
        "society",
        "club",
        "ομάδα",
        "ομαδα",
        "σύνταξη",
        "συνταξη",
        "συντακτικη",
        "редакция",
        "редакція",
        "редакційна",
        "編集部",
        "编辑部",
        "편집부",
        "취재팀",
        "ฝ่ายข่าว",
    }
)

_ROLE_WORDS = (
    r"journalist(?:in)?|journaliste|periodista|giornalista|reporter(?:in)?|correspondent|"
    r"korrespondent(?:in)?|corresponsal|redakteur(?:in)?|rédacteur|redactor(?:a)?|editor(?:in)?|"
    r"staff writer|senior writer|contributing writer|contributor|columnist|kolumnist(?:in)?|"
    r"autor(?:in)?|author|auteur|writer|photographer|fotograf(?:in)?"
)

_BYLINE_PREFIX = re.compile(
    r"^\s*(?:(?:posted|written|published|story|text|words|reported|edited|"
    r"geschrieben|verfasst|veröffentlicht|publicado|escrito|écrit|publié|rédigé|scritto|"
    r"pubblicato|door|geplaatst)\s+)?"
    r"(?:(?:by|von|vom|par|por|di|door|av|af|από|от|автор|text|texto|texte|testo|tekst|"
    r"autor(?:in)?|author|submitted|interview(?:ed)?(?: by)?|entrevista|reportage|"
    r"auteur|written by|redakteur(?:in)?|about|über|sobre|à propos de|كتب|كتبت|بقلم)"
    r"(?:\s*[:：]\s*|\s+)"
    # CJK role labels: some run straight into the name ("記者溫貴香"), others need a colon
    r"|(?:本文作者|文章作者|記者|记者|撰文|撰稿|筆者|기자)\s*[:：/／]?\s*"
    r"|作者(?:\s*[:：/／]\s*|\s+)|(?:文|著|글)\s*[:：/／]\s*)",
    re.IGNORECASE,
)
# A role written after the names without a separator ("A, B Envoyés spéciaux à Toulouse").
_ROLE_TAIL = re.compile(
    r"\s+(?:envoy[ée]e?s?\s+sp[ée]cia(?:l|le|ux|les)|correspondant(?:e|s|es)?\b|"
    r"special\s+correspondents?|staff\s+writers?|enviad[oa]s?\s+especial(?:es)?|"
    r"inviat[oi]\s+special[ei]|sonderkorrespondent(?:in)?)\b.*$",
    re.IGNORECASE,
)
# A credit for pictures, video or design inside a byline ("Text: A, Photos: B"): its
# names are not authors of the text.
_OTHER_ROLE = re.compile(
    r"(?:^|[,;|/·•]\s*|\s)(?:photos?|photographs?|photography|fotos?|fotografie|bilder?|"
    r"images?|illustrations?|illustrated|grafik|graphics?|video|kamera|camera|design|"
    r"photo(?:graphie)?s?|摄影|攝影|图片|圖片|图|圖|사진|영상|写真|撮影)\s*(?:by\s+)?[:：]"
    r"[^,;|]*",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_DATE = re.compile(
    r"\b(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}\.?\s+\w+\.?\s+\d{4}|\w+\.?\s+\d{1,2},?\s+\d{4}|"
    r"\d{4})\b.*$"
)
_SITE_SUFFIX = re.compile(r"\s+[|–—·•]\s+.*$")
_ROLE_SUFFIX = re.compile(
    rf"\s*(?:[,/–—-]|\bis\b)\s*(?:\w+\s+){{0,3}}(?:{_ROLE_WORDS})s?\b.*$", re.I
)
_CONJUNCTION = r"(?:and|und|et|y|e|u\.|avec|with|mit|con|и)"
_SPLIT = re.compile(
    rf"\s*(?:[;,(）)（]|\s&\s)\s*(?:{_CONJUNCTION}\s+)?|^{_CONJUNCTION}\s+|\s+{_CONJUNCTION}\s+"
)
_SPACE = re.compile(r"\s+")
_ANGLED = re.compile(r"<[^>]*>|\([^)]*(?:@|\bat\b)[^)]*\)")
_DOMAIN = re.compile(r"\.(?:com|de|org|net|fr|es|it|uk|at|ch|nl|io)\b")
_DIGITS = re.compile(r"\d")

# Ancestors whose class/id contains one of these hold credits that are not the page's.
# (a class/id token that contains "comment", or starts with one of the other words).
_NOT_MAIN = re.compile(
    r"comment|(?:^|\s)(?:related|teaser|widget|sidebar|recent|recommend|popular|more|"
    r"read-?more|also|next|prev|nav|caption|credit|photo|gallery|trending|promo|newsletter|"
    r"share|social|respond|reply|snippet|card)",
    re.IGNORECASE,
)
_AUTHOR_HINT = re.compile(
    r"author|byline|autor|auteur|verfasser|firma|write-?by|written-?by|nick-?name", re.IGNORECASE
)
# Only elements that carry one of the attributes _byline_elements reads can be bylines.
_BYLINE_CANDIDATES = lxml_etree.XPath(".//*[@class or @id or @itemprop or @rel or @data-testid]")
_NAME_HINT = re.compile(r"(?:^|\s)(?:fn|\S*name)(?:$|\s)", re.IGNORECASE)
_PERSONAL_COPYRIGHT = re.compile(
    r"(?:©|\(c\)|&copy;|copyright)\s*(?:©|\(c\))?\s*(?:by\s+)?"
    r"(?:\d{4}(?:\s*[-–—,/]\s*(?:\d{4}|present|heute))*\s*[,.]?\s*)?(?:by\s+)?"
    r"(?P<holder>[^|;©\n]{2,80})",
    re.IGNORECASE,
)
# A full stop that ends a sentence (not one after an initial such as "J.").
_SENTENCE_END = re.compile(r"(?<=\w\w)\.(?:\s|$).*$")
_COPYRIGHT_TAIL = re.compile(
    r"\b(?:all rights reserved|some rights reserved|alle rechte vorbehalten|einige rechte "
    r"vorbehalten|todos los derechos reservados|tous droits réservés|tutti i diritti "
    r"riservati|licensed under|lizenziert|powered by|theme|design|unless|except)\b.*$",
    re.IGNORECASE,
)


def extract_authors(
    tree: lxml_html.HtmlElement,
    structured: dict[str, Any] | None,
    meta_author: str | None = None,
    copyright_notice: str | None = None,
) -> list[str]:
    """Names credited as author(s) of the page's main content, strongest source first.

    ``tree`` is the whole document parsed by lxml.html; ``structured`` is extruct's output
    (``{"json-ld": [...], "microdata": [...], "rdfa": [...]}``, any part may be missing);
    ``meta_author`` trafilatura's author string (``"A; B"``); ``copyright_notice`` the
    copyright notice found on the page. Returns ``[]`` when only organisations are credited.
    """
    structured = structured or {}
    orgs, publishers, site = _site_names(tree, structured)
    org_names = orgs | publishers | site
    candidates = list(_candidates(tree, structured, meta_author))
    # A credit equal to the publisher or the domain name is an organisation, unless no
    # source credits anyone else (a personal site named after its author).
    bylines = next(names for source, names in candidates if source == "byline")
    for excluded in (org_names, orgs):
        visible = _dedupe(n for n in bylines if not _is_organisation(n, excluded))
        for _source, names in candidates:
            people = _dedupe(n for n in names if not _is_organisation(n, excluded))
            if people:
                return [_decapitalise(n) for n in _prefer_visible(people, visible)]
    if copyright_notice:
        people = [
            _decapitalise(n)
            for n in authors_from_copyright(copyright_notice)
            if not _is_organisation(n, orgs | publishers)
        ]
        if people:
            return people
    return _site_owner(tree, copyright_notice, publishers | site)


def _site_owner(
    tree: lxml_html.HtmlElement, copyright_notice: str | None, site: set[str]
) -> list[str]:
    """The owner of a personal site, when nothing else credits anyone: a handle-shaped
    copyright holder ("© 2024 jdoe42") that is also the site's name (title suffix, feed
    title, ``og:site_name``, the user part of ``jdoe42.github.io``), or the X of a site
    named "X's blog" (site name, feed title or the site part of the ``<title>``; a single
    word only when it is the site's name too). A capitalised single word ("© 2024 Acme")
    may be a company and is not taken."""
    for match in _PERSONAL_COPYRIGHT.finditer(copyright_notice or ""):
        holder = _clean(_COPYRIGHT_TAIL.sub("", match.group("holder")).strip(" ."))
        if holder and _handle_shaped(holder) and holder.casefold() in site:
            return [holder]
    texts = [*_FEED_TITLES(tree), *_meta_values(tree, "og:site_name", "application-name")]
    title = tree.find(".//title")
    if title is not None and title.text:
        texts.append(_TITLE_SEPARATOR.split(title.text.strip())[-1])  # the site part
    for text in texts:
        match = _OWNED_SITE.search(text)
        words = match.group("name").split() if match else []
        for start in range(len(words)):  # "Feed of Jane Doe's blog": drop "of"
            name = _clean(" ".join(words[start:]))
            if not name or _is_organisation(name, set()):
                continue
            # a single word must also be the site's name ("raindev" of raindev.io)
            if len(name.split()) > 1 or (_handle_shaped(name) and name.casefold() in site):
                return [name]
    return []


# "raindev's blog", "Jane Doe's Homepage", "Feed of jdoe's weblog".
_OWNED_SITE = re.compile(
    r"(?P<name>[\w.\-]+(?:\s+[A-Z][\w.\-]*){0,2})['’]s\s+(?i:personal\s+)?"
    r"(?i:blog|weblog|website|homepage|home page|site|notes|journal)\b"
)


def _handle_shaped(name: str) -> bool:
    """One token written like a user name: all lower-case or with a digit ("raindev",
    "0x574R"), not a capitalised word that may be a brand."""
    return (
        " " not in name
        and len(name) >= 3
        and (name.lower() == name or bool(_DIGITS.search(name)))
        and not _is_organisation(name, set())
    )


def _candidates(
    tree: lxml_html.HtmlElement, structured: dict[str, Any], meta_author: str | None
) -> Iterator[tuple[str, list[str]]]:
    """(source, names) pairs, strongest source first, computed lazily."""
    yield "citation", _scholarly_meta_authors(tree, "citation_author", "citation_authors")
    yield "jsonld", _jsonld_authors(structured.get("json-ld") or [])
    yield "microdata", _microdata_authors(structured.get("microdata") or [])
    yield (
        "dc",
        _scholarly_meta_authors(tree, "dc.creator", "dcterms.creator", "dc.creator.personalname"),
    )
    yield "byline", _byline_authors(tree)
    yield "meta", _meta_authors(tree)
    yield "trafilatura", _split_names([meta_author.replace(";", ",")]) if meta_author else []
    yield "ccrel", _attribution_names(tree, structured.get("rdfa") or [])


def _prefer_visible(chosen: list[str], visible: list[str]) -> list[str]:
    """The visible byline instead of metadata when it says the same, only more fully:
    it names every chosen author plus co-authors the metadata left out, or it spells out
    the same authors that the metadata abbreviates ("Xu Z" -> "Zhenyu Xu")."""
    if not visible or visible == chosen:
        return chosen
    keys = {_key(n) for n in chosen}
    if keys < {_key(n) for n in visible} and len(visible) <= len(chosen) + 5:
        return visible
    if len(visible) == len(chosen) and all(
        _abbreviates(c, v) for c, v in zip(chosen, visible, strict=True)
    ):
        return visible
    return chosen


def _key(name: str) -> str:
    return re.sub(r"\W+", " ", name.casefold()).strip()


def _abbreviates(short: str, full: str) -> bool:
    """``"Xu Z"`` / ``"Z. Xu"`` abbreviate ``"Zhenyu Xu"``: same surname, matching initials."""
    short_words, full_words = _key(short).split(), _key(full).split()
    if len(full_words) < 2 or full_words[-1] not in short_words:
        return False
    initials = "".join(w for w in short_words if w != full_words[-1])
    return bool(initials) and len(initials) <= 3 and initials[0] == full_words[0][0]


def authors_from_copyright(notice: str) -> list[str]:
    """The personal name(s) in a copyright notice, or ``[]`` for organisations.

    ``"© 2021 Jane Doe. All rights reserved."`` gives ``["Jane Doe"]``; ``"© 2015 Heise
    Medien"``, ``"© The Author(s)"`` or a domain name give ``[]``. Only names that look like
    a person's (two to four capitalised words, no organisation words) are kept.
    """
    names: list[str] = []
    for match in _PERSONAL_COPYRIGHT.finditer(notice):
        holder = _SENTENCE_END.sub("", _COPYRIGHT_TAIL.sub("", match.group("holder")))
        parts = [p for p in _SPLIT.split(holder) if p.strip(" .")]
        if any(_is_organisation(p.strip(), set()) for p in parts):
            continue  # "Dow Jones & Company, Inc.": one company, not a person and a firm
        for part in parts:
            name = _clean(part)
            if name and _looks_like_person(name):
                names.append(name)
    return _dedupe(names)


# --- structured data -------------------------------------------------------------------


def _types(item: dict[str, Any]) -> set[str]:
    raw = item.get("@type") or item.get("type") or []
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower() for v in values}


def _jsonld_items(data: list[Any]) -> list[dict[str, Any]]:
    """Top-level JSON-LD items, ``@graph`` members flattened in."""
    items: list[dict[str, Any]] = []
    for block in data:
        for item in block if isinstance(block, list) else [block]:
            if not isinstance(item, dict):
                continue
            graph = item.get("@graph")
            if isinstance(graph, list):
                items.extend(g for g in graph if isinstance(g, dict))
            else:
                items.append(item)
    return items


def _main_entities(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items typed as the page's main entity, articles before plain web pages."""
    main = [i for i in items if _types(i) & _MAIN_TYPES]
    return sorted(main, key=lambda i: bool(_types(i) <= {"webpage", "itempage", "collectionpage"}))


def _jsonld_authors(data: list[Any]) -> list[str]:
    items = _jsonld_items(data)
    by_id = {i["@id"]: i for i in items if isinstance(i.get("@id"), str)}
    for entity in _main_entities(items):
        names: list[str] = []
        parts = _qa_parts(entity, lambda e: e)
        thread = len(parts) > 1 or bool(_types(entity) & {"question", "qapage"})
        for part in parts:
            found = [
                n
                for key in ("author", "creator")
                for credit in _as_list(part.get(key))
                for n in _credit_names(credit, by_id)
            ]
            names.extend(found[:1] if thread else found)
        if names:
            return names
    return []


def _qa_parts(entity: dict[str, Any], props: Any) -> list[dict[str, Any]]:
    """The parts of a main entity whose authors are the page's: the entity itself, and
    for a question-and-answer page (``QAPage`` / ``Question``) the question and each
    accepted or suggested answer, as the thread's authors. ``props`` gives an item's
    properties (JSON-LD: the item; microdata: its ``properties``). Of a question or an
    answer only the first author counts: the poster; later ones are its editors."""
    types = _types(entity)
    if "qapage" in types:
        question = props(entity).get("mainEntity")
        if isinstance(question, dict) and "question" in _types(question):
            entity, types = question, _types(question)
    if "question" not in types:
        return [props(entity)]
    parts = [props(entity)]
    for key in ("acceptedAnswer", "suggestedAnswer"):
        for answer in _as_list(props(entity).get(key)):
            if isinstance(answer, dict) and "answer" in _types(answer):
                parts.append(props(answer))
    return parts


def _credit_names(credit: Any, by_id: dict[str, dict[str, Any]]) -> list[str]:
    """Person names in one JSON-LD credit (string, Person, Organization or ``@id`` ref)."""
    if isinstance(credit, str):
        return [] if _URL.match(credit) else _split_names([credit])
    if not isinstance(credit, dict):
        return []
    if set(credit) <= {"@id"} and credit.get("@id") in by_id:
        credit = by_id[credit["@id"]]
    if _types(credit) & _ORG_TYPES and "person" not in _types(credit):
        return []
    name = credit.get("name")
    if isinstance(name, list):
        name = next((n for n in name if isinstance(n, str)), None)
    if not isinstance(name, str):
        given, family = credit.get("givenName"), credit.get("familyName")
        name = " ".join(p for p in (given, family) if isinstance(p, str)) or None
    return [] if not name or _URL.match(name) else _split_names([name])


def _microdata_authors(data: list[Any]) -> list[str]:
    for item in data:
        if not isinstance(item, dict) or not (_types(item) & _MAIN_TYPES):
            continue
        names: list[str] = []
        parts = _qa_parts(item, lambda i: i.get("properties") or {})
        thread = len(parts) > 1 or bool(_types(item) & {"question", "qapage"})
        for props in parts:
            found = []
            for credit in (c for k in ("author", "creator") for c in _as_list(props.get(k))):
                if isinstance(credit, dict):
                    sub = dict(credit.get("properties") or {})
                    sub["@type"] = credit.get("type")
                    found.extend(_credit_names(sub, {}))
                elif isinstance(credit, str):
                    found.extend(_split_names([_SPACE.sub(" ", credit.split("\n")[0])]))
            names.extend(found[:1] if thread else found)
        if names:
            return names
    return []


def _attribution_names(tree: lxml_html.HtmlElement, rdfa: list[Any]) -> list[str]:
    names = [_text(e) for e in tree.xpath("//*[contains(@property, 'attributionName')]")]
    for item in rdfa:
        if isinstance(item, dict):
            for key, values in item.items():
                if key.endswith("attributionName"):
                    values = [v for v in _as_list(values) if isinstance(v, dict)]
                    names.extend(v.get("@value", "") for v in values)
    return _split_names(names)


# --- head metadata ---------------------------------------------------------------------


def _meta_values(tree: lxml_html.HtmlElement, *keys: str) -> list[str]:
    """Values of ``<meta name|property|itemprop=key>``, keys matched case-insensitively."""
    wanted = {k.lower() for k in keys}
    return [
        meta.value
        for meta in page_metas(tree)
        if meta.key in wanted and meta.attribute != "http-equiv"
    ]


def _scholarly_meta_authors(tree: lxml_html.HtmlElement, *keys: str) -> list[str]:
    """Author metas in page order (``"Last, First"`` flipped; ``;``-separated lists split)."""
    values = [p for v in _meta_values(tree, *keys) for p in v.split(";")]
    return [c for c in (_clean(_flip(v)) for v in values) if c]


def _meta_authors(tree: lxml_html.HtmlElement) -> list[str]:
    values = _meta_values(
        tree,
        "author",
        "article:author",
        "og:article:author",
        "sailthru.author",
        "byline",
        "byl",
        "search.byline",
        "parsely-author",
    )
    return _split_names(v for v in values if not _URL.match(v))


def _flip(name: str) -> str:
    """``"Sanderson, David J."`` -> ``"David J. Sanderson"`` (one comma only)."""
    if name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        if last and first and not _ROLE_SUFFIX.search(", " + first):
            return f"{first} {last}"
    return name


# --- visible bylines -------------------------------------------------------------------


def _byline_authors(tree: lxml_html.HtmlElement) -> list[str]:
    body = tree.find("body") if tree.tag == "html" else tree
    if body is None:
        body = tree
    first_parent = None
    names = _labelled_authors(body)
    for element in [] if names else _byline_elements(body):
        if first_parent is not None and element.getparent() is not first_parent:
            break
        found = _names_in_byline(element)
        if len(found) > _MAX_BYLINE_NAMES:
            continue  # a list of all staff or contributors, not this page's byline
        if found:
            names.extend(found)
            first_parent = element.getparent()
    if 0 < len(names) <= _MAX_BYLINE_NAMES:
        return names
    return _prefixed_lines(body) or _dateline_authors(body)


# More names than this in one visible credit is a staff or contributor list (scholarly
# author lists are read from citation metadata, not from the byline).
_MAX_BYLINE_NAMES = 12


def _byline_elements(body: lxml_html.HtmlElement) -> Iterator[lxml_html.HtmlElement]:
    """Elements marked as an author credit, in document order, outside non-main areas."""
    for element in _BYLINE_CANDIDATES(body):
        if not isinstance(element.tag, str) or element.tag in _NOT_BYLINE_TAGS:
            continue
        marks = " ".join(
            element.get(a) or "" for a in ("class", "id", "itemprop", "rel", "data-testid")
        )
        if not _AUTHOR_HINT.search(marks) or _NOT_MAIN.search(marks):
            continue
        if element.tag == "a" and not _is_author_link(element):
            continue
        if _in_non_main(element):
            continue
        yield element


_NOT_BYLINE_TAGS = frozenset(
    {
        "html",
        "body",
        "main",
        "article",
        "section",
        "script",
        "style",
        "meta",
        "link",
        "input",
        "form",
        "img",
        "textarea",
        "button",
        "select",
        "label",
    }
)


def _is_author_link(link: lxml_html.HtmlElement) -> bool:
    """An ``<a>`` that credits an author: ``rel=author``, an author URL or class."""
    return (
        "author" in (link.get("rel") or "").lower()
        or "author" in (link.get("href") or "").lower()
        or bool(_AUTHOR_HINT.search(link.get("class") or ""))
    )


def _in_non_main(element: lxml_html.HtmlElement) -> bool:
    for ancestor in element.iterancestors():
        if ancestor.tag in ("body", "html"):
            break
        if ancestor.tag in ("aside", "nav"):
            return True
        marks = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"
        if _NOT_MAIN.search(marks):
            return True
    return False


def _names_in_byline(element: lxml_html.HtmlElement) -> list[str]:
    """Names inside one byline element: its name-marked children, links, or its text."""
    named = [
        e
        for e in element.iter()
        if e is not element
        and isinstance(e.tag, str)
        and e.tag != "sup"
        and (
            _NAME_HINT.search(e.get("class") or "")
            or e.get("itemprop") == "name"
            or "author" in (e.get("rel") or "")
        )
    ]
    if named:
        return _split_names(_text(e) for e in named)
    names = _split_names([_text(element)], strict=True)
    if names:
        return names
    # "Co-authored by <a>A</a> and <a>B</a> Last updated ...": the credited links
    return _split_names(_text(a) for a in element.iter("a") if _is_author_link(a))


_AUTHOR_LABEL = re.compile(
    r"^(?:authors?|autor(?:en|in|innen)?|auteurs?|autores?|autore|verfasser(?:in)?|"
    r"written by|by|von)\s*[:：]?$",
    re.IGNORECASE,
)


def _labelled_authors(body: lxml_html.HtmlElement) -> list[str]:
    """A field labelled "Author:" (table header, definition term, bold label) and its value,
    else a text line "Author: Name" (the header of an e-text, a document's front matter)."""
    for label in body.iter("th", "dt", "b", "strong", "label"):
        if not _AUTHOR_LABEL.match(_text(label)) or _in_non_main(label):
            continue
        value = label.getnext()
        text = _text(value) if value is not None else (label.tail or "")
        names = _split_names([text], strict=True)
        if names:
            return names
    return _author_lines(body)


# Text nodes that may hold an "Author: Name" line (one XPath pass, no regex per node).
_AUTHOR_LINE_NODES = lxml_etree.XPath(
    ".//text()[contains(., 'uthor') or contains(., 'utor') or contains(., 'uteur') or "
    "contains(., 'erfasser') or contains(., '作者') or contains(., '著者') or "
    "contains(., '저자')]"
)
_AUTHOR_LINE = re.compile(
    r"^[ \t]*(?:authors?|autor(?:en|in)?|auteurs?|autores?|autore|verfasser(?:in)?|作者|著者|"
    r"저자)[ \t]*[:：][ \t]*(?P<names>[^\n]{2,100})$",
    re.IGNORECASE | re.MULTILINE,
)
_PARENTHESISED = re.compile(r"\s*[(（][^)）]*[)）]")


_BIBLIOGRAPHIC = re.compile(
    r"\b(?:isbn|publisher|verlag|éditeur|editorial|editore|pages|seiten|price|preis|prix|"
    r"format|binding|paperback|hardcover)\s*[:：]",
    re.IGNORECASE,
)
_CODE_MARK = re.compile(r"highlight|code|source|syntax|lang(?:uage)?-", re.IGNORECASE)


def _in_code(element: lxml_html.HtmlElement) -> bool:
    """Inside a code listing: ``<code>`` / ``<kbd>`` / ``<samp>`` / ``<script>``, or a block
    whose class says highlighted source code."""
    for node in (element, *_take(element.iterancestors(), 4)):
        if node.tag in ("code", "kbd", "samp", "script", "style", "textarea"):
            return True
        if _CODE_MARK.search(node.get("class") or ""):
            return True
    return False


def _take(items: Iterable[Any], count: int) -> list[Any]:
    """The first ``count`` items."""
    out = []
    for item in items:
        if len(out) == count:
            break
        out.append(item)
    return out


def _author_lines(body: lxml_html.HtmlElement) -> list[str]:
    """The first "Author: Name" line of the page's text outside code, comments and
    sidebars; a parenthesised aside ("(AKA ...)", "(ed.)") is dropped. A line inside a
    bibliographic record ("Publisher:", "ISBN:" nearby: a reviewed book) is not the
    page's credit."""
    for node in _AUTHOR_LINE_NODES(body):
        match = _AUTHOR_LINE.search(node)
        if not match:
            continue
        parent = node.getparent()
        if parent is None or _in_code(parent) or _in_non_main(parent):
            continue
        nearby = [node[max(0, match.start() - 300) : match.end() + 300]]
        for sibling in (
            *_take(parent.itersiblings(preceding=True), 3),
            *_take(parent.itersiblings(), 3),
        ):
            nearby.append(_text(sibling)[:300] if isinstance(sibling.tag, str) else "")
        if _BIBLIOGRAPHIC.search(" ".join(nearby)):
            continue
        names = _split_names([_PARENTHESISED.sub("", match.group("names"))], strict=True)
        if names:
            return names
    return []


_PREFIXED = re.compile(
    r"^\s*(?:(?i:by|von|par|por)\s+(?P<names>[A-ZÀ-ÖØ-Þ\u0400-\u042f][^\n]{1,80})"
    # "Posted by" / "Written by" also credits a handle ("Posted by 00theway on ...")
    r"|(?i:posted|written|published|geschrieben|verfasst|publié|publicado|escrito)\s+"
    r"(?i:by|von|par|por)\s+(?P<handle>\S[^\n]{0,80}))$",
    re.UNICODE,
)


_PREFIX_WORD = re.compile(
    r"\s*(?:(?:posted|written|published|geschrieben|verfasst|publié|publicado|escrito)\s+)?"
    r"(?:by|von|par|por)\b",
    re.IGNORECASE,
)


def _starts_with_prefix(element: lxml_html.HtmlElement) -> bool:
    """Whether the element's first piece of text starts with "By"/"Von"/"Par"/"Por"."""
    for piece in element.itertext():
        if piece.strip():
            return bool(_PREFIX_WORD.match(piece))
    return False


def _prefixed_lines(body: lxml_html.HtmlElement) -> list[str]:
    """Short text blocks starting with "By"/"Von"/"Par"/"Por" followed by a capital."""
    for element in body.iter(*_PREFIXED_TAGS):
        if not _starts_with_prefix(element) or not text_fits(element, 400):
            continue
        text = _first_line(element)
        if len(text) > 90:
            continue
        match = _PREFIXED.match(text)
        if match and not _in_non_main(element):
            names = _split_names([match.group("names") or match.group("handle")])
            if names:
                return names
    return []


# Chinese news datelines: "（中央社記者王小明台北21日電）" and
# "新华社北京5月3日电（记者张三、李四）".
_DATELINE_PARAGRAPHS = lxml_etree.XPath(".//p[contains(., '記者') or contains(., '记者')]")
_HAN = "\u4e00-\u9fff"
_DATELINE_BEFORE = re.compile(
    rf"^\s*[（(][^（()）]{{0,12}}?[記记]者\s*(?P<run>[{_HAN}、，, ]{{4,40}}?)\s*"
    rf"\d{{1,2}}\s*日\s*(?:[專专]\s*)?[電电]"
)
_DATELINE_AFTER = re.compile(
    rf"^[^（(]{{0,30}}[電电]\s*[（(]\s*[記记]者\s*(?P<names>[{_HAN}、，, ]{{2,40}}?)\s*[)）]"
)


def _dateline_authors(body: lxml_html.HtmlElement) -> list[str]:
    """Reporters named in a Chinese news dateline at the start of a paragraph. Before the
    place ("記者溫貴香台北"), a name is taken as 2 characters when name and place together
    have 4, else 3 (Chinese personal names have 2 or 3, place names 2 to 4)."""
    for paragraph in _DATELINE_PARAGRAPHS(body):
        text = _text(paragraph)[:120]
        after = _DATELINE_AFTER.match(text)
        if after:
            names = [n for n in re.split(r"[、，, ]+", after.group("names")) if 2 <= len(n) <= 4]
        else:
            before = _DATELINE_BEFORE.match(text)
            if not before:
                continue
            parts = [p for p in re.split(r"[、，, ]+", before.group("run")) if p]
            if not parts or len(parts[-1]) < 4:
                continue
            last = parts[-1]
            names = [*parts[:-1], last[: 2 if len(last) == 4 else 3]]
        if names and not _in_non_main(paragraph):
            return names
    return []


_PREFIXED_TAGS = ("p", "div", "span", "address", "li", "small", "em", "strong", "td", "cite")


def _first_line(element: lxml_html.HtmlElement) -> str:
    """The element's text up to its first ``<br>`` ("By Jane Doe<br>Example.com")."""
    parts = []
    for event, node in lxml_etree.iterwalk(element, events=("start", "end")):
        if not isinstance(node.tag, str):
            continue
        if event == "start":
            if node.tag == "br":
                break
            if node.tag not in _SKIPPED_TEXT:
                parts.append(node.text or "")
        elif node is not element:
            parts.append(node.tail or "")
    return _SPACE.sub(" ", " ".join(parts)).strip()


# --- cleaning and classification --------------------------------------------------------


# Text that is no credit: footnote markers, code, and form controls (an author drop-down).
_SKIPPED_TEXT = frozenset({"sup", "script", "style", "noscript", "select", "option", "button"})


def _text(element: lxml_html.HtmlElement) -> str:
    """Visible text of ``element`` without footnote/affiliation markers (``<sup>``)."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _SKIPPED_TEXT:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return _SPACE.sub(" ", " ".join(parts)).strip()


def _split_names(values: Iterable[str], strict: bool = False) -> list[str]:
    """Clean names from credit strings ("By A, B and C | Site"). A credit with a part
    that is not a name is dropped whole ("Mac & i" is a magazine, not two people); with
    ``strict`` the whole result is ``[]`` then (free text that is not a byline)."""
    names = []
    for value in values:
        value = _ANGLED.sub("", _SPACE.sub(" ", value).strip())
        value = _ROLE_TAIL.sub("", _OTHER_ROLE.sub("", value)).strip()
        value = _SITE_SUFFIX.sub("", _BYLINE_PREFIX.sub("", value))
        value = _ROLE_SUFFIX.sub("", value)
        parts = [p for p in _SPLIT.split(value) if p and p.strip(" .")]
        cleaned = [_clean(p) for p in parts]
        if all(cleaned):
            names.extend(cleaned)
        elif strict:
            return []
        else:
            names.extend(c for c, p in zip(cleaned, parts, strict=True) if c and len(parts) == 1)
    return names


def _clean(name: str) -> str:
    """One name without prefixes, e-mails, URLs, dates, role words or stray punctuation."""
    name = _EMAIL.sub("", _URL.sub("", name))
    name = _BYLINE_PREFIX.sub("", name.strip())
    name = _DATE.sub("", name)
    name = _ROLE_SUFFIX.sub("", name)
    name = _TRAILING_ROLE.sub("", name)
    name = _SPACE.sub(" ", name).strip(" \t\"'“”„«»‚‘’|:,;·•–—-()[]")
    name = re.sub(r"^@", "", name)
    if not name or len(name) > 60 or len(name.split()) > 6:
        return ""
    if _DIGITS.search(name) and " " in name:
        return ""
    if _NOT_NAME_CHARS.search(name):
        return ""
    if re.fullmatch(rf"(?:{_ROLE_WORDS}|{_NOT_A_NAME})", name, re.I):
        return ""
    return name if _name_shaped(name) else ""


# What may trail a name once a date is cut off ("Posted by jd on 2020-01-04"), and CJK
# role words written after the name ("박상우 기자", "王明記者").
# (Lower-case only: "Thanh Le" and "Um" are names.)
_TRAILING_ROLE = re.compile(
    r"(?:\s+(?:on|am|le|el|il|at|um|op|в)|\s*(?:기자|특파원|記者|记者|特派員|特派员|報導|报道))\s*$"
)

_NOT_A_NAME = (
    r"by|von|admin|administrator|anonymous|unknown|guest|submitted|posted|published|written|"
    r"updated|veröffentlicht|aktualisiert|erstellt|geschrieben|publié|publicado|pubblicato|"
    r"geplaatst|gepostet|mis à jour|actualizado|aggiornato|"
    r"none|null|undefined|n/a|no author|not available|authors?|abstract|summary|contributors?|"
    r"various(?: authors)?|varios(?: autores)?|verschiedene(?: autoren)?|divers|multiple authors|"
    r"share|follow|more|profile|bio|info|details|contact|email|mail|home|menu|search|"
    r"本文作者|作者|文章作者|原作者|作者简介|作者簡介|著者|筆者|執筆者|기자|글쓴이"
)

# Slogans, exclamations, section labels ("TM/TR") and markup debris are no names.
_NOT_NAME_CHARS = re.compile(r"[!?/=<>{}#*+…]|\.\.")

_PARTICLES = frozenset(
    {
        "von",
        "van",
        "de",
        "der",
        "den",
        "da",
        "di",
        "du",
        "del",
        "della",
        "des",
        "la",
        "le",
        "bin",
        "ibn",
        "al",
        "el",
        "y",
        "zu",
        "ten",
        "ter",
        "dos",
        "das",
        "do",
    }
)


# An elided particle before a capital: "d'Alembert", "al'Thor", "dell'Orto".
_ELIDED_PARTICLE = re.compile(r"^[a-zà-ÿ]{1,4}['’][A-ZÀ-ÖØ-Þ]")


def _name_shaped(name: str) -> bool:
    """A single token (a handle, kept as shown) or words that each start with a capital
    (name particles such as "von", "de" excepted; scripts without case always pass)."""
    words = name.split()
    if len(words) == 1:
        return len(name) >= 2 or not name.isascii()
    for word in words:
        first = word.lstrip("'\"(")[:1]
        cased = first and first.lower() != first.upper()
        if (
            cased
            and not first.isupper()
            and word.lower() not in _PARTICLES
            and not _ELIDED_PARTICLE.match(word)
        ):
            return False
    return True


def _decapitalise(name: str) -> str:
    """``"JORDAN ROBERTSON"`` -> ``"Jordan Robertson"``: a name of several words written
    all in capitals (typographic or CSS upper-casing) in title case; anything else as shown
    (handles such as ``"LD"`` or ``"0x574R"``, ``"McDonald"``)."""
    words = name.split()
    if len(words) < 2 or name.upper() != name or name.lower() == name:
        return name
    return " ".join(w[:1] + w[1:].lower() if len(w) > 1 else w for w in words)


# Wire services and news agencies: their credit names no person ("AP", "Reuters", "İHA").
_AGENCIES = frozenset(
    n.lower()
    for n in (
        "AP",
        "AFP",
        "Reuters",
        "dpa",
        "APA",
        "ANSA",
        "EFE",
        "EPA",
        "UPI",
        "AAP",
        "PTI",
        "IANS",
        "Kyodo",
        "Jiji",
        "Yonhap",
        "Xinhua",
        "TASS",
        "RIA Novosti",
        "Interfax",
        "Ukrinform",
        "Anadolu",
        "AA",
        "İHA",
        "IHA",
        "DHA",
        "ANKA",
        "SDA",
        "KNA",
        "epd",
        "KEYSTONE-SDA",
        "Belga",
        "ANP",
        "NTB",
        "Ritzau",
        "STT",
        "PAP",
        "CTK",
        "ČTK",
        "MTI",
        "Agerpres",
        "Lusa",
        "ANA-MPA",
        "Bernama",
        "Antara",
        "QNA",
        "KUNA",
        "IRNA",
        "新华社",
        "新華社",
        "中新社",
        "中央社",
        "中通社",
        "共同通信",
        "時事通信",
        "연합뉴스",
        "뉴시스",
        "뉴스1",
        "Associated Press",
        "Agence France-Presse",
    )
)


def _is_organisation(name: str, org_names: set[str]) -> bool:
    lowered = name.lower()
    if lowered in org_names or _squash(lowered) in org_names or lowered in _AGENCIES:
        return True
    if any(o.startswith(lowered + " ") for o in org_names):
        return True  # the short form of the site's name ("中央通訊社" of "中央通訊社 CNA")
    words = set(re.findall(r"[\w.'/]+", lowered))
    if words & _ORG_WORDS or _DOMAIN.search(lowered):
        return True
    return not name.isascii() and name.endswith(_CJK_ORG_ENDINGS)


# Endings of Chinese, Japanese and Korean organisation names: site (网), agency or press
# (社), paper (报, 日报, 新闻, 신문, 일보), broadcaster (台, 방송), bureau, company.
_CJK_ORG_ENDINGS = (
    "网",
    "網",
    "社",
    "报",
    "報",
    "电视台",
    "電視台",
    "电台",
    "電台",
    "局",
    "公司",
    "集团",
    "集團",
    "中心",
    "新闻",
    "新聞",
    "杂志",
    "雜誌",
    "周刊",
    "週刊",
    "新聞社",
    "通信",
    "日報",
    "신문",
    "일보",
    "방송",
    "뉴스",
    "닷컴",
    "통신",
    "미디어",
)


def _looks_like_person(name: str) -> bool:
    words = name.split()
    if not 2 <= len(words) <= 4 or _is_organisation(name, set()):
        return False
    if name.lower().startswith(("the ", "crown", "author")):
        return False
    return all(w[0].isupper() and not (len(w) > 2 and w.isupper()) for w in words if w.isalpha())


def _site_names(
    tree: lxml_html.HtmlElement, structured: dict[str, Any]
) -> tuple[set[str], set[str], set[str]]:
    """Lower-cased names of (1) known organisations: a JSON-LD author or creator typed as
    an organisation only; (2) the publisher: ``citation_publisher``, ``dc.publisher``, a
    JSON-LD publisher that is not a Person, the domain; (3) the site: ``og:site_name``,
    application name, JSON-LD ``WebSite``, the suffix of the ``<title>`` ("Story - Site").

    Credits equal to any of them are organisations; one equal to (2) or (3) is accepted
    as the author when no source credits anyone else (a personal site named after its
    author, whose theme often declares that name as the publishing Organization too)."""
    orgs: set[str] = set()
    publishers = set(_meta_values(tree, "citation_publisher", "dc.publisher"))
    names = set(_meta_values(tree, "og:site_name", "application-name"))
    for item in _jsonld_items(structured.get("json-ld") or []):
        for key in ("author", "creator"):
            for credit in _as_list(item.get(key)):
                if (
                    isinstance(credit, dict)
                    and isinstance(credit.get("name"), str)
                    and _types(credit) & _ORG_TYPES
                    and "person" not in _types(credit)
                ):
                    orgs.add(credit["name"])
        for key in ("publisher", "sourceOrganization"):
            for pub in _as_list(item.get(key)):
                if (
                    isinstance(pub, dict)
                    and isinstance(pub.get("name"), str)
                    and "person" not in _types(pub)
                ):
                    publishers.add(pub["name"])
    for item in _jsonld_items(structured.get("json-ld") or []):
        if "website" in _types(item) and isinstance(item.get("name"), str):
            names.add(item["name"])
    title = tree.find(".//title")
    if title is not None and title.text:
        parts = _TITLE_SEPARATOR.split(title.text.strip())
        if len(parts) > 1 and len(parts[-1]) <= 40:
            names.add(parts[-1])
    for url in _meta_values(tree, "og:url") + tree.xpath("//link[@rel='canonical']/@href"):
        host = urlsplit(url.strip()).hostname or ""
        labels = [x for x in host.split(".") if x not in ("www", "m", "amp")]
        if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
            labels = labels[:-1]  # news.example.com.tw -> example
        if len(labels) >= 3 and ".".join(labels[-2:]) in _PERSONAL_HOSTS:
            labels = labels[:-1]  # jdoe.github.io -> jdoe
        if len(labels) >= 2:
            publishers.add(labels[-2])
    names.update(_FEED_TITLES(tree))
    return _name_keys(orgs), _name_keys(publishers), _name_keys(names)


_FEED_TITLES = lxml_etree.XPath(
    "//head/link[@rel='alternate'][contains(@type, 'rss') or contains(@type, 'atom')]/@title"
)
# Hosts that give each user a subdomain: the user's label names the site.
_PERSONAL_HOSTS = frozenset(
    {
        "github.io",
        "gitlab.io",
        "codeberg.page",
        "netlify.app",
        "vercel.app",
        "pages.dev",
        "blogspot.com",
        "wordpress.com",
        "neocities.org",
        "substack.com",
    }
)


def _name_keys(names: Iterable[str]) -> set[str]:
    """Each name lower-cased, and squashed ("Der Spiegel" -> "derspiegel")."""
    out = set()
    for name in names:
        out.add(name.lower().strip())
        out.add(_squash(name.lower()))
    out.discard("")
    return out


_TITLE_SEPARATOR = re.compile(
    r"\s+[|–—·•-]\s+|\s*[|｜]\s*|\s*_\s*(?=[^_]+$)|(?<=[^\x00-\x7f])[-－—](?=[^\x00-\x7f])"
)
# Second-level labels under a country code ("example.com.tw", "example.co.uk").
_SECOND_LEVEL = frozenset({"com", "co", "net", "org", "gov", "ac", "edu", "ne", "or", "go"})


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text)


def _dedupe(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        key = _SPACE.sub(" ", name.casefold())
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
