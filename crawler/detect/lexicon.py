"""Words that decide what a license or rights statement covers, in many languages.

Every regex here is about the *sentence* around a license mention:

* ``GRANT_CUE``: the sentence grants something ("licensed under", "steht unter",
  "sous licence", "bajo licencia", "distribuita con licenza", "onder", "License:").
* ``SELF_REFERENCE``: the sentence is about this page ("this article", "dieser Beitrag",
  "ce contenu", "open access article", "content on this site").
* ``SCOPE_WORD``: the statement covers something else than the text (images, photos,
  code, software, user contributions, comments, data, the theme or template).
* ``EXCEPT_WORD``: "except", "außer", "sauf", ... (a scope word after it is an exception,
  not the subject).
* ``RESERVED``: explicit "all rights reserved" statements and reuse-forbidding terms.
* ``UNNAMED_CC_LICENSE``: "a Creative Commons license" with no type or version.
* ``POLICY_NOTE``: a rule for authors rather than a grant ("pages should be under ...",
  "must be licensed", "sollten unter ... stehen", "doivent être").
* ``SOME_RIGHTS``: "some rights reserved", which hints at a license without naming one.
* ``PUBLIC_DOMAIN``: a plain statement that the work is in the public domain.
* ``COPYRIGHT_NOTICE``: a copyright notice ("(c) 2015 Heise Medien", "Copyright by X").
"""

from __future__ import annotations

import re

_I = re.IGNORECASE | re.UNICODE

GRANT_CUE = re.compile(
    r"\b(?:under|unter|sous|selon|bajo|sotto|sob|onder|"
    r"licen[cs]ed|lizenziert|licenciad\w*|licencié\w*|licenziat\w*|licenciado\w*|"
    r"gelicentieerd|distributed|distribu(?:é|ée|és|ées|ido|ida|ito|ita|ído|ída)|verbreitet|"
    r"released|veröffentlicht|publicad\w*|publié\w*|available|verfügbar|disponible|"
    r"disponibil\w*|beschikbaar|terms|términos|termini|termos|Bedingungen|voorwaarden|"
    r"conditions|subject to|governed by|in accordance with|gemäß|conforme|segundo|"
    r"placed|dedicated|waived|mis à disposition|messo a disposizione|"
    r"permission is granted)\b"
    r"|\b(?:license|licence|lizenz|licencia|licença|licentie|licenza)\s*:"
    r"|สัญญาอนุญาต|ライセンス|许可协议|授权|라이선스|이용허락"
    # Chinese: "采用 / 遵循 CC BY-SA 4.0 (版权)协议" (adopts / follows the ... agreement)
    r"|采用|採用|遵循|遵守|(?:版权|版權)?(?:协议|協議)|授權|許可",
    _I,
)

SELF_REFERENCE = re.compile(
    r"\b(?:this|these)\s+(?:works?|article|page|post|posting|document|content|contents|site|"
    r"website|web site|blog|weblog|text|entry|specification|spec|books?|chapter|paper|report|"
    r"e-?books?|e-?texts?|"
    r"story|publication|material|materials|manual|documentation|tutorial|guide|wiki|"
    r"presentation|slides|essay|thesis|dissertation|notebook|recipe|review|episode|transcript)\b"
    r"|\bopen[- ]access\b|\b(?:all|the)\s+(?:content|contents|texts?|articles?|posts?|"
    r"materials?|writings?|documentation)\b|\bcontent\s+(?:on|of)\s+(?:this|the)\b"
    r"|\b(?:dies(?:e[rsmn]?)?|der|die|das|alle|sämtliche)\s+(?:Werk|Artikel|Beitr(?:a|ä)ge?|"
    r"Texte?|Seite|Blogs?|Weblogs?|Inhalte?|Dokument|Website|Webseite|Internetseite|Skript|"
    r"Buch|Materialien)\b"
    r"|\b(?:ce|cet|cette|ces|le|les|tous les)\s+(?:texte|textes|article|articles|contenus?|"
    r"œuvre|oeuvre|document|site|billets?|page|publication|ouvrage)\b"
    r"|\b(?:est[ea]s?|el|los|todos los|todo el)\s+(?:obra|artículos?|textos?|contenidos?|trabajo|"
    r"documento|sitio|página|blog|publicación)\b|\bcontenidos\b"
    r"|\b(?:quest[oa]|quest'|il|i|tutti i)\s*(?:opera|articol[oi]|test[oi]|contenut[oi]|"
    r"documento|sito|pagina|blog)\b"
    r"|\b(?:est[ea]|o|os|todos os)\s+(?:trabalho|obra|artigos?|textos?|conteúdos?|documento|"
    r"site|página|blog)\b"
    r"|\b(?:dit|deze|de|alle)\s+(?:werk|artikel(?:en)?|tekst(?:en)?|inhoud|document|site|"
    r"website|pagina|blog)\b"
    # Chinese and Japanese: this article / blog / site / work, all articles
    r"|本(?:文|博客|站|网站|網站|作品|页面|頁面|书|書|教程|記事)|(?:所有|全部)文章"
    r"|この(?:記事|ブログ|サイト|ページ|作品)|当(?:サイト|ブログ)",
    _I,
)

SCOPE_WORD = re.compile(
    r"\b(?:images?|photos?|photographs?|photography|pictures?|figures?|illustrations?|"
    r"graphics?|logos?|icons?|videos?|audio|screenshots?|artwork|"
    r"Bild(?:er|rechte)?|Fotos?|Fotografien?|Grafik(?:en)?|Abbildung(?:en)?|"
    r"imagen(?:es)?|fotograf\w*|immagin[ei]|imag(?:em|ens)|afbeelding(?:en)?|foto's|"
    r"code|source code|code samples?|snippets?|software|programs?|plugins?|themes?|"
    r"powered by|"
    r"templates?|design|stylesheets?|css|javascript|fonts?|Quellcode|Vorlagen?|"
    r"logiciels?|código|codice|"
    r"user contributions|contributions by users|comments?|Kommentare?|commentaires?|"
    r"comentarios?|commenti|reacties|"
    r"data|datasets?|database|Daten|données|datos|dati|dados|gegevens)\b",
    _I,
)

# Nouns for the text itself: listed before a scope word, they keep the text in scope
# ("Der Blog, die Unterrichtsideen und die Bilder ... sind lizenziert unter ...").
CONTENT_NOUN = re.compile(
    r"\b(?:texts?|contents?|articles?|posts?|writings?|blogs?|weblogs?|entries|pages?|"
    r"documentation|docs|Dokumentation|manuals?|tutorials?|guides?|"
    r"Texte?|Inhalte?|Artikel|Beitr(?:a|ä)ge?|Seiten?|Unterrichtsideen|textes?|contenus?|"
    r"billets?|textos?|contenidos?|artículos?|testi|contenuti|articoli|conteúdos?|artigos?|"
    r"teksten|inhoud)\b",
    _I,
)
# A scope word that is part of an organisation's name ("Apache Software Foundation").
_ORG_AFTER = re.compile(
    r"^\s+(?:Foundation|Freedom|Conservancy|Inc\b|Ltd\b|GmbH|Institute|Association|Society|"
    r"Alliance|Consortium|Project|Agency)",
)

EXCEPT_WORD = re.compile(
    r"\b(?:except|excluding|other than|unless|außer|ausgenommen|mit Ausnahme|sauf|"
    r"à l'exception|excepto|salvo|tranne|eccetto|exceto|behalve|uitgezonderd)\b",
    _I,
)

# A scope word right after the mention: "... applies to the data", "gilt für Fotos".
SCOPE_AFTER = re.compile(
    r"^\W{0,3}(?:\S+\s+){0,6}?(?:appl(?:y|ies)\s+(?:only\s+)?to|gilt\s+(?:nur\s+)?für|"
    r"s'applique\s+(?:uniquement\s+)?(?:à|aux)|se\s+aplica\s+a|si\s+applica\s+a|"
    r"for\s+(?:all\s+)?(?:the\s+)?(?=images?|photos?|code|data|software))\s+"
    r"(?:the\s+|die\s+|den\s+|les?\s+|la\s+|las\s+|los\s+|aux?\s+)?(?:\w+\s+){0,2}?",
    _I,
)

# "Content available under a Creative Commons license": a grant that names no license.
UNNAMED_CC_LICENSE = re.compile(
    r"\bCreative[\s-]+Commons[\s-]+(?:licen[cs]es?|Lizenz(?:en)?|licencias?|licenzas?|"
    r"licenças?|licenties?)\b",
    _I,
)
# A modal that prescribes: the sentence says what a license *should* be, not what it is.
POLICY_NOTE = re.compile(
    r"\b(?:should|must|shall|ought\s+to|needs?\s+to|ha(?:s|ve)\s+to|is\s+to|are\s+to)"
    r"(?:\s+(?:not|always|also|still|only|normally|generally))?\s+be\b"
    r"|\b(?:sollte[nt]?|soll(?:en)?|müssen|muss|mu(?:ß|ss)ten)\b"
    r"|\b(?:doi(?:t|vent)|devrai(?:t|ent))\s+(?:toujours\s+)?être\b"
    r"|\b(?:debe[n]?|deber[íi]a[n]?)\s+(?:ser|estar)\b"
    r"|\b(?:deve|devono|dovrebbe(?:ro)?)\s+(?:essere|ser)\b",
    _I,
)
SOME_RIGHTS = re.compile(
    r"\b(?:some|certain)\s+rights\s+reserved\b|\beinige\s+Rechte\s+vorbehalten\b|"
    r"\bcertains\s+droits\s+réservés\b|\balgunos\s+derechos\s+reservados\b|"
    r"\balcuni\s+diritti\s+riservati\b|\balguns\s+direitos\s+reservados\b|"
    r"\bsommige\s+rechten\s+voorbehouden\b|Някои\s+права\s+запазени|"
    r"Некоторые\s+права\s+защищены",
    _I,
)

RESERVED = re.compile(
    r"\ball\s+rights\s+reserved\b|\balle\s+Rechte\s+vorbehalten\b|"
    r"\btous\s+droits\s+(?:de\s+reproduction\s+)?réservés\b|\bdroits\s+réservés\b|"
    r"\btodos\s+los\s+derechos\s+reservados\b|\bderechos\s+reservados\b|"
    r"\btutti\s+i\s+diritti\s+(?:sono\s+)?riservati\b|\briproduzione\s+riservata\b|"
    r"\btodos\s+os\s+direitos\s+reservados\b|\balle\s+rechten\s+voorbehouden\b|"
    r"\bwszelkie\s+prawa\s+zastrzeżone\b|\bvšechna\s+práva\s+vyhrazena\b|"
    r"\balla\s+rättigheter\s+förbehållna\b|\balle\s+rettigheder\s+forbeholdes\b|"
    r"\balle\s+rettigheter\s+reservert\b|\bkaikki\s+oikeudet\s+pidätetään\b|"
    r"\btüm\s+hakları\s+saklıdır\b|\btoate\s+drepturile\s+rezervate\b|"
    r"\bminden\s+jog\s+fenntartva\b|\bhak\s+cipta\s+dilindungi\b|\bbảo\s+lưu\s+mọi\s+quyền\b|"
    r"все\s+права\s+защищены|усі\s+права\s+захищені|всі\s+права\s+захищені|"
    r"всички\s+права\s+запазени|με\s+επιφύλαξη\s+παντός\s+δικαιώματος|"
    r"جميع\s+الحقوق\s+محفوظة|حقوق\s+(?:الطبع|النشر)(?:\s+والنشر)?\s+محفوظة|כל\s+הזכויות\s+שמורות|सर्वाधिकार\s+सुरक्षित|สงวนลิขสิทธิ์|"
    r"版权所有|版權所有|著作権所有|保留所有权利|(?:禁止|不得|谢绝)转载|(?:禁止|不得)轉載|無断(?:転載|複製|転用)|転載を禁|무단\s?(?:전재|복제|배포)|"
    r"재배포\s?금지|"
    r"\bno\s+(?:part\s+of\s+th\w+\s+\w+\s+)?(?:reproduction|republication)\b|"
    r"\bmay\s+not\s+be\s+(?:reproduced|republished|copied|redistributed)\b|"
    r"\bNachdruck\s+(?:nur|verboten|untersagt)|\breproduction\s+interdite\b|"
    r"\bprohibida\s+su\s+reproducción\b|\breproducción\s+prohibida\b|"
    r"копирование\s+[^.]{0,80}?запрещено|використання\s+[^.]{0,80}?заборонено",
    _I,
)

PUBLIC_DOMAIN = re.compile(
    r"\b(?:placed|released|dedicated|put|committed)\s+(?:[\w'-]+\s+){0,3}?(?:in|into|to)\s+"
    r"the\s+(?:worldwide\s+)?public\s+domain\b|"
    r"\b(?:is|are)\s+(?:in|part of)\s+the\s+public\s+domain\b|\bpublic[- ]domain\s+work\b|"
    # e-text projects: "... means that no one owns a United States copyright in these works"
    r"\bno\s+one\s+owns\s+(?:a|the)\s+(?:[\w.-]+\s+){0,3}?copyright\s+(?:in|on|to)\b|"
    r"\bgemeinfrei\b|\bdans\s+le\s+domaine\s+public\b|\ben\s+el\s+dominio\s+público\b|"
    r"\bdi\s+pubblico\s+dominio\b|\bno\s+domínio\s+público\b|\bin\s+het\s+publieke\s+domein\b",
    _I,
)

COPYRIGHT_NOTICE = re.compile(
    # (c) also with look-alike letters (Cyrillic с, full-width ｃ) and full-width brackets;
    # Ⓒ / ⓒ (Korean and Japanese sites); "Copr." (the abbreviation US law allows)
    r"(?:©|&copy;|[Ⓒⓒ]|[(（][cсｃ][)）](?=\s*(?:\d{4}|copyright\b))|"
    r"\bcopr\.(?=\s*(?:©|\(c\)|\d{4}))|"
    r"\bcopyright\b(?=:?\s*(?:©|\(c\)|\d{4}|by\b|\w+(?:\s+\w+)?\s+\d{4})))",
    _I,
)


_LIST_JOIN = re.compile(
    r"^[^.;:!?]{0,60}?(?:,|&|/|\+|\b(?:and|und|sowie|et|y|e|en|plus|as well as)\b)[^.;:!?]{0,40}$",
    _I,
)


def _listed_with_text(before_scope_word: str) -> bool:
    """Whether a noun for the text itself is listed right before a scope word
    ("the blog, its ideas and the images ...": the text is in the list)."""
    last = None
    for m in CONTENT_NOUN.finditer(before_scope_word):
        last = m
    for m in SELF_REFERENCE.finditer(before_scope_word):
        if last is None or m.end() > last.end():
            last = m
    return last is not None and bool(_LIST_JOIN.match(before_scope_word[last.end() :]))


# Lower-case fragments that every match of a pattern contains. Scanning a whole page with
# a large case-insensitive alternation is slow (about 1 s per MB of text for RESERVED); a
# plain substring search finds the few places worth the regex.
KEYWORDS: dict[re.Pattern[str], tuple[str, ...]] = {
    RESERVED: (
        "reserv",
        "réserv",
        "vorbehalten",
        "riservat",
        "voorbehouden",
        "zastrzeż",
        "vyhrazen",
        "förbehåll",
        "forbehold",
        "pidätetään",
        "saklıdır",
        "rezervate",
        "fenntartva",
        "dilindungi",
        "bảo lưu",
        "защищен",
        "захищен",
        "запазени",
        "επιφύλαξη",
        "محفوظة",
        "שמורות",
        "सुरक्षित",
        "สงวนลิขสิทธิ์",
        "版权所有",
        "版權所有",
        "著作権所有",
        "转载",
        "轉載",
        "保留所有权利",
        "無断",
        "転載を禁",
        "무단",
        "재배포",
        "reproduc",
        "republica",
        "republish",
        "copied",
        "redistributed",
        "nachdruck",
        "копирование",
        "використання",
    ),
    SOME_RIGHTS: (
        "rights",
        "rechte",
        "droits",
        "derechos",
        "diritti",
        "direitos",
        "rechten",
        "права",
    ),
    PUBLIC_DOMAIN: (
        "public domain",
        "public-domain",
        "gemeinfrei",
        "domaine public",
        "dominio público",
        "pubblico dominio",
        "domínio público",
        "publieke domein",
        "no one owns",
    ),
}
_WINDOW_BEFORE, _WINDOW_AFTER = 160, 240


def find_spans(pattern: re.Pattern[str], text: str, lowered: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every match of a :data:`KEYWORDS` pattern in ``text``.

    The regex runs only on windows around the pattern's keywords in ``lowered``
    (``text.lower()``, same length for the scripts these patterns cover)."""
    spans: set[tuple[int, int]] = set()
    windows: list[tuple[int, int]] = []
    for key in KEYWORDS[pattern]:
        pos = lowered.find(key)
        while pos >= 0:
            windows.append((max(0, pos - _WINDOW_BEFORE), pos + len(key) + _WINDOW_AFTER))
            pos = lowered.find(key, pos + len(key))
    windows.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in windows:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    for lo, hi in merged:
        for m in pattern.finditer(text, lo, min(hi, len(text))):
            spans.add(m.span())
    return sorted(spans)


def scope_words_before(sentence_before: str) -> str | None:
    """The scope word that makes the text before a mention about something else, if any.

    A scope word after an "except" word is an exception, not the subject, and does not
    count ("all content except photos is licensed under ..."); nor does one listed after a
    noun for the text itself ("the blog and its images are licensed ...") or one that is
    part of an organisation's name ("Apache Software Foundation").
    """
    cut = 0
    for m in EXCEPT_WORD.finditer(sentence_before):
        cut = m.start()
    considered = sentence_before[:cut] if cut else sentence_before
    found = None
    for m in SCOPE_WORD.finditer(considered):
        if _ORG_AFTER.match(considered[m.end() :]):
            continue
        if found is None and _listed_with_text(considered[: m.start()]):
            return None
        found = m.group(0)
    return found.lower() if found else None


def scope_after(text_after: str) -> str | None:
    """The scope word of an "applies to the data" clause right after a mention, if any."""
    m = SCOPE_AFTER.match(text_after[:120])
    if not m:
        return None
    rest = SCOPE_WORD.match(text_after[m.end() : m.end() + 40])
    return rest.group(0).lower() if rest else None
