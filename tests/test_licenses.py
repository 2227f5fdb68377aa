"""crawler.licenses: URL / name -> SPDX, mentions, categories, expressions, info, policy."""

from __future__ import annotations

import pytest

from crawler.licenses import (
    CATEGORY_ORDER,
    LicenseInfo,
    Mention,
    category,
    expression_allowed,
    expression_ids,
    find_license_mentions,
    license_info,
    license_refs,
    more_restrictive,
    normalize_expression,
    or_terms,
    spdx_from_badge,
    spdx_from_name,
    spdx_from_url,
)
from crawler.licenses import ids as known

# ---------------------------------------------------------------- URLs

URLS = {
    # Creative Commons: versions and types kept
    "http://creativecommons.org/licenses/by-sa/2.0/": "CC-BY-SA-2.0",
    "https://creativecommons.org/licenses/by/2.0/": "CC-BY-2.0",
    "http://creativecommons.org/licenses/by-nc-nd/4.0/": "CC-BY-NC-ND-4.0",
    "http://creativecommons.org/licenses/by-nd-nc/1.0/": "CC-BY-NC-ND-1.0",
    "https://creativecommons.org/licenses/by-nd/3.0/": "CC-BY-ND-3.0",
    "https://creativecommons.org/licenses/by-nc-sa/2.5/": "CC-BY-NC-SA-2.5",
    # ports with an SPDX id
    "http://creativecommons.org/licenses/by/3.0/us/": "CC-BY-3.0-US",
    "http://creativecommons.org/licenses/by-sa/3.0/de/": "CC-BY-SA-3.0-DE",
    "http://creativecommons.org/licenses/by/3.0/at/": "CC-BY-3.0-AT",
    "https://creativecommons.org/licenses/by-nc-sa/2.0/de/": "CC-BY-NC-SA-2.0-DE",
    "https://creativecommons.org/licenses/by-sa/2.1/jp/": "CC-BY-SA-2.1-JP",
    "https://creativecommons.org/licenses/by/3.0/igo/": "CC-BY-3.0-IGO",
    # ports without one
    "http://creativecommons.org/licenses/by-sa/3.0/es/": "LicenseRef-CC-BY-SA-3.0-ES",
    "http://creativecommons.org/licenses/by-sa/2.5/ch/": "LicenseRef-CC-BY-SA-2.5-CH",
    "http://creativecommons.org/licenses/by/2.0/de/": "LicenseRef-CC-BY-2.0-DE",
    "http://creativecommons.org/licenses/by-sa/2.0/de/": "LicenseRef-CC-BY-SA-2.0-DE",
    # normalization: scheme, //, www, deed, legalcode, query, fragment, case, slashes
    "//creativecommons.org/licenses/by-sa/3.0/": "CC-BY-SA-3.0",
    "creativecommons.org/licenses/by-sa/3.0": "CC-BY-SA-3.0",
    "https://www.creativecommons.org/licenses/by/4.0": "CC-BY-4.0",
    "HTTPS://CreativeCommons.org/Licenses/BY-SA/4.0/": "CC-BY-SA-4.0",
    "http://creativecommons.org/licenses/by-sa/3.0/deed.bn": "CC-BY-SA-3.0",
    "https://creativecommons.org/licenses/by/3.0/de/deed.de": "CC-BY-3.0-DE",
    "https://creativecommons.org/licenses/by-nc/2.0/legalcode": "CC-BY-NC-2.0",
    "https://creativecommons.org/licenses/by/4.0/legalcode.de": "CC-BY-4.0",
    "https://creativecommons.org/licenses/by-sa/4.0/?ref=chooser-v1": "CC-BY-SA-4.0",
    "https://creativecommons.org/licenses/by/4.0/#attribution": "CC-BY-4.0",
    "https://creativecommons.org//licenses/by/4.0//": "CC-BY-4.0",
    "  <http://creativecommons.org/licenses/by/2.0>).": "CC-BY-2.0",
    "http://creativecommons.org:80/licenses/by/2.5/": "CC-BY-2.5",
    # unversioned
    "https://creativecommons.org/licenses/by-nc/": "LicenseRef-CC-BY-NC-unversioned",
    "https://creativecommons.org/licenses/by/deed.de": "LicenseRef-CC-BY-unversioned",
    # public domain tools
    "https://creativecommons.org/publicdomain/zero/1.0/": "CC0-1.0",
    "http://creativecommons.org/publicdomain/zero/1.0/legalcode": "CC0-1.0",
    "http://creativecommons.org/publicdomain/mark/1.0/": "CC-PDM-1.0",
    "https://creativecommons.org/licenses/publicdomain/": "CC-PDDC",
    # badges through spdx_from_url
    "https://i.creativecommons.org/l/by-sa/4.0/88x31.png": "CC-BY-SA-4.0",
    "https://licensebuttons.net/l/by-nc/3.0/de/80x15.png": "CC-BY-NC-3.0-DE",
    "https://i.creativecommons.org/p/zero/1.0/88x31.png": "CC0-1.0",
    "https://licensebuttons.net/p/mark/1.0/88x31.png": "CC-PDM-1.0",
    "https://i.creativecommons.org/l/by-sa/3.0/es/88x31.png": "LicenseRef-CC-BY-SA-3.0-ES",
    "https://mirrors.creativecommons.org/presskit/buttons/88x31/png/by-nc-sa.png":
        "LicenseRef-CC-BY-NC-SA-unversioned",
    # GNU
    "http://www.gnu.org/licenses/fdl-1.3.html": "GFDL-1.3-only",
    "https://www.gnu.org/licenses/gpl-3.0.en.html": "GPL-3.0-only",
    "https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html": "LGPL-2.1-only",
    "https://www.gnu.org/licenses/agpl-3.0.txt": "AGPL-3.0-only",
    "https://www.gnu.org/licenses/old-licenses/fdl-1.2.html": "GFDL-1.2-only",
    "https://www.gnu.org/licenses/fdl.html": "LicenseRef-GFDL-unversioned",
    "http://www.gnu.org/copyleft/fdl.html": "LicenseRef-GFDL-unversioned",
    # others
    "https://opensource.org/licenses/MIT": "MIT",
    "http://www.opensource.org/licenses/mit-license.php": "MIT",
    "https://opensource.org/license/apache-2-0": None,
    "https://opensource.org/licenses/Apache-2.0": "Apache-2.0",
    "https://www.apache.org/licenses/LICENSE-2.0": "Apache-2.0",
    "http://www.apache.org/licenses/LICENSE-2.0.html": "Apache-2.0",
    "https://opendatacommons.org/licenses/odbl/1.0/": "ODbL-1.0",
    "https://opendatacommons.org/licenses/odbl/1-0/": "ODbL-1.0",
    "https://opendatacommons.org/licenses/by/1.0/": "ODC-By-1.0",
    "https://opendatacommons.org/licenses/pddl/1.0/": "PDDL-1.0",
    "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/":
        "OGL-UK-3.0",
    "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/2": "OGL-UK-2.0",
    "http://www.nationalarchives.gov.uk/doc/open-government-licence/":
        "LicenseRef-OGL-UK-unversioned",
    "http://www.w3.org/Consortium/Legal/2015/copyright-software-and-document":
        "W3C-20150513",
    "https://www.w3.org/Consortium/Legal/2015/doc-license":
        "LicenseRef-W3C-Document-License-2015",
    "https://spdx.org/licenses/CC-BY-SA-4.0.html": "CC-BY-SA-4.0",
    "https://spdx.org/licenses/mit": "MIT",
    "https://unlicense.org/": "Unlicense",
    "http://www.openwebfoundation.org/legal/the-owf-1-0-agreements/owfa-1-0":
        "LicenseRef-OWFa-1.0",
    "https://www.w3.org/community/about/agreements/cla/": "LicenseRef-W3C-Community-CLA",
    "http://www.codeproject.com/info/cpol10.aspx": "LicenseRef-CPOL-unversioned",
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/":
        "LicenseRef-arXiv-nonexclusive-distrib-1.0",
}

NOT_LICENSES = [
    "https://example.com/by/2.0/",
    "https://example.com/licenses/by-sa/3.0/",
    "https://blog.example.org/creativecommons.org/licenses/by/4.0/",
    "https://creativecommons.org/",
    "https://creativecommons.org/about/",
    "https://creativecommons.org/choose/",
    "http://creativecommons.org/ns#",
    "https://creativecommons.org/feed/",
    "https://creativecommons.org/2024/01/10/some-blog-post/",
    "https://creativecommons.org/licenses/",
    "https://creativecommons.org/publicdomain/",
    "https://creativecommons.org/licenses/by/5.0/",
    "https://creativecommons.org/licenses/by/3.0/xx/",
    "https://creativecommons.org/licenses/by-sa-nd/4.0/",
    "https://creativecommons.org/licenses/by/4.0/extra/segments/",
    "https://www.gnu.org/licenses/",
    "https://www.gnu.org/licenses/why-affero-gpl",
    "https://www.apache.org/licenses/",
    "https://spdx.org/licenses/Not-A-License.html",
    "https://www.w3.org/Consortium/Legal/ipr-notice",
    "https://www.w3.org/community/about/agreements/",
    "https://www.codeproject.com/info/Licenses.aspx",
    "https://i.creativecommons.org/l/by/4.0/",
    "mailto:someone@example.org",
    "",
    "not a url",
]


@pytest.mark.parametrize(("url", "expected"), URLS.items())
def test_spdx_from_url(url: str, expected: str | None) -> None:
    assert spdx_from_url(url) == expected


@pytest.mark.parametrize("url", NOT_LICENSES)
def test_not_license_urls(url: str) -> None:
    assert spdx_from_url(url) is None


def test_by_sa_2_0_is_never_by_2_0() -> None:
    for url in ("http://creativecommons.org/licenses/by-sa/2.0/",
                "https://i.creativecommons.org/l/by-sa/2.0/88x31.png"):
        assert spdx_from_url(url) == "CC-BY-SA-2.0"


def test_spdx_from_badge_only_accepts_images() -> None:
    assert spdx_from_badge("https://i.creativecommons.org/l/by-sa/4.0/88x31.png") == (
        "CC-BY-SA-4.0"
    )
    assert spdx_from_badge("//licensebuttons.net/l/by-nc-nd/3.0/80x15.png") == (
        "CC-BY-NC-ND-3.0"
    )
    assert spdx_from_badge("https://i.creativecommons.org/p/mark/1.0/88x31.png") == "CC-PDM-1.0"
    assert spdx_from_badge("https://creativecommons.org/licenses/by-sa/4.0/") is None
    assert spdx_from_badge("https://example.com/l/by-sa/4.0/88x31.png") is None


# ---------------------------------------------------------------- names

NAMES = {
    "CC BY-SA 4.0": "CC-BY-SA-4.0",
    "CC-BY-NC-ND 3.0": "CC-BY-NC-ND-3.0",
    "cc by 4.0": "CC-BY-4.0",
    "CC BY NC SA 3.0": "CC-BY-NC-SA-3.0",
    "CC-BY-SA-3.0-DE": "CC-BY-SA-3.0-DE",
    "CC BY-SA 3.0 DE": "CC-BY-SA-3.0-DE",
    "cc-by-4.0": "CC-BY-4.0",
    "BY-SA 4.0": "CC-BY-SA-4.0",
    "CC0": "CC0-1.0",
    "CC0 1.0 Universal": "CC0-1.0",
    "Creative Commons Zero": "CC0-1.0",
    "Creative Commons Attribution-ShareAlike 4.0 International License": "CC-BY-SA-4.0",
    "Creative Commons Attribution 3.0 Unported": "CC-BY-3.0",
    "Creative Commons Attribution-NonCommercial 2.0 Generic": "CC-BY-NC-2.0",
    "Creative Commons Attribution-NoDerivatives 4.0 International": "CC-BY-ND-4.0",
    "Creative Commons Attribution-ShareAlike 2.0 Germany": "LicenseRef-CC-BY-SA-2.0-DE",
    "Creative Commons Attribution 3.0 United States": "CC-BY-3.0-US",
    # German
    "Creative Commons Namensnennung - Weitergabe unter gleichen Bedingungen 3.0 Deutschland":
        "CC-BY-SA-3.0-DE",
    "Namensnennung-Nicht-kommerziell 3.0 Deutschland": "CC-BY-NC-3.0-DE",
    "Namensnennung 3.0 Österreich": "CC-BY-3.0-AT",
    "Creative Commons Namensnennung 4.0 International Lizenz": "CC-BY-4.0",
    "Namensnennung - Nicht kommerziell - Keine Bearbeitungen 4.0 International":
        "CC-BY-NC-ND-4.0",
    "Creative Commons Lizenz: Namensnennung-Weitergabe unter gleichen Bedingungen":
        "LicenseRef-CC-BY-SA-unversioned",
    "Namensnennung - Weitergabe unter gleichen Bedingungen 2.5 Schweiz":
        "LicenseRef-CC-BY-SA-2.5-CH",
    # French
    "Paternité / Attribution - Pas d'Utilisation Commerciale - Partage dans les Mêmes "
    "Conditions": "LicenseRef-CC-BY-NC-SA-unversioned",
    "Creative Commons Attribution - Pas d’Utilisation Commerciale - Partage dans les Mêmes "
    "Conditions 4.0 International": "CC-BY-NC-SA-4.0",
    "Paternité - Pas de Modification 2.0 France": "LicenseRef-CC-BY-ND-2.0-FR",
    # Spanish
    "Reconocimiento-CompartirIgual": "LicenseRef-CC-BY-SA-unversioned",
    "Reconocimiento-CompartirIgual 3.0 España": "LicenseRef-CC-BY-SA-3.0-ES",
    "Atribución-NoComercial": "LicenseRef-CC-BY-NC-unversioned",
    "Licencia Creative Commons Atribución-NoComercial-SinDerivadas 4.0 Internacional":
        "CC-BY-NC-ND-4.0",
    # Italian
    "Attribuzione - Non commerciale - Condividi allo stesso modo":
        "LicenseRef-CC-BY-NC-SA-unversioned",
    "Attribuzione - Non commerciale - Condividi allo stesso modo 3.0 Italia":
        "LicenseRef-CC-BY-NC-SA-3.0-IT",
    # Portuguese
    "Atribuição-CompartilhaIgual": "LicenseRef-CC-BY-SA-unversioned",
    "Atribuição-NãoComercial-CompartilhaIgual 4.0 Internacional": "CC-BY-NC-SA-4.0",
    # Dutch
    "Naamsvermelding-NietCommercieel-GelijkDelen": "LicenseRef-CC-BY-NC-SA-unversioned",
    "Naamsvermelding 3.0 Nederland": "CC-BY-3.0-NL",
    # unversioned CC
    "CC-BY": "LicenseRef-CC-BY-unversioned",
    "Creative Commons BY-SA": "LicenseRef-CC-BY-SA-unversioned",
    "Creative Commons (cc) BY-NC": "LicenseRef-CC-BY-NC-unversioned",
    "Creative Commons Attribution License": "LicenseRef-CC-BY-unversioned",
    "Creative Commons Attribution Non-commercial License": "LicenseRef-CC-BY-NC-unversioned",
    # public domain
    "Public Domain Mark 1.0": "CC-PDM-1.0",
    "Public Domain Mark": "CC-PDM-1.0",
    "Public Domain": "LicenseRef-PublicDomain",
    "Public Domain Dedication and Certification": "CC-PDDC",
    # GNU
    "GNU Free Documentation License": "LicenseRef-GFDL-unversioned",
    "GNU Free Documentation License, Version 1.3": "GFDL-1.3-only",
    "GNU Free Documentation License, Version 1.3 or any later version": "GFDL-1.3-or-later",
    "GNU Free Documentation License, Version 1.3 or any later version published by the Free "
    "Software Foundation; with no Invariant Sections, no Front-Cover Texts, and no Back-Cover "
    "Texts": "GFDL-1.3-no-invariants-or-later",
    "GNU Free Documentation License, Version 1.2; with the Invariant Sections being Foo":
        "GFDL-1.2-invariants-only",
    "GNU FDL 1.2": "GFDL-1.2-only",
    "GFDL": "LicenseRef-GFDL-unversioned",
    "GFDL-1.3-or-later": "GFDL-1.3-or-later",
    "GNU General Public License v3.0": "GPL-3.0-only",
    "GPLv2+": "GPL-2.0-or-later",
    "GNU Lesser General Public License, version 2.1": "LGPL-2.1-only",
    "GNU Library General Public License version 2": "LGPL-2.0-only",
    "GNU Affero General Public License v3": "AGPL-3.0-only",
    # others
    "MIT License": "MIT",
    "The MIT License (MIT)": "MIT",
    "MIT": "MIT",
    "Apache License, Version 2.0": "Apache-2.0",
    "Apache License 2.0": "Apache-2.0",
    "Apache 2.0": "Apache-2.0",
    "Apache License v2": "Apache-2.0",
    "Apache License": "LicenseRef-Apache-unversioned",
    "Open Government Licence v3.0": "OGL-UK-3.0",
    "Open Government Licence version 2.0": "OGL-UK-2.0",
    "Open Government License": "LicenseRef-OGL-UK-unversioned",
    "Open Government Licence for public sector information": "LicenseRef-OGL-UK-unversioned",
    "Open Government Licence - Canada": "LicenseRef-OGL-Canada-unversioned",
    "Open Database License (ODbL) v1.0": "ODbL-1.0",
    "ODC-By": "ODC-By-1.0",
    "PDDL": "PDDL-1.0",
    "The Unlicense": "Unlicense",
    "All rights reserved": "LicenseRef-All-Rights-Reserved",
    "ALL_RIGHTS_RESERVED": "LicenseRef-All-Rights-Reserved",
    "Alle Rechte vorbehalten": "LicenseRef-All-Rights-Reserved",
    "Tous droits réservés": "LicenseRef-All-Rights-Reserved",
    # ids and URLs on their own
    "apache-2.0": "Apache-2.0",
    "LicenseRef-CC-BY-SA-3.0-ES": "LicenseRef-CC-BY-SA-3.0-ES",
    "https://creativecommons.org/licenses/by/4.0/": "CC-BY-4.0",
}

NOT_NAMES = [
    "",
    "   ",
    "Attribution",
    "Namensnennung",
    "Creative Commons",
    "Creative Commons License",
    "Creative Commons Lizenzvertrag",
    "some rights reserved",
    "Einige Rechte vorbehalten",
    "CC BY 9.9",
    "GPL 7",
    "MIT OpenCourseWare",
    "CC BY-SA 4.0 or GNU FDL",  # two different licenses: not one name
    "Open Game License v1.0a",
]


@pytest.mark.parametrize(("name", "expected"), NAMES.items())
def test_spdx_from_name(name: str, expected: str) -> None:
    assert spdx_from_name(name) == expected


@pytest.mark.parametrize("name", NOT_NAMES)
def test_not_names(name: str) -> None:
    assert spdx_from_name(name) is None


def test_port_names_in_english_and_local_language() -> None:
    for country, code in [("Deutschland", "DE"), ("Germany", "DE"), ("Österreich", "AT"),
                          ("Austria", "AT"), ("United States", "US"), ("USA", "US")]:
        expected = {"DE": "CC-BY-3.0-DE", "AT": "CC-BY-3.0-AT", "US": "CC-BY-3.0-US"}[code]
        assert spdx_from_name(f"Creative Commons Attribution 3.0 {country}") == expected
    for country in ("Schweiz", "Switzerland", "Suisse"):
        assert spdx_from_name(f"CC BY 2.5 {country}") == "LicenseRef-CC-BY-2.5-CH"
    for country in ("España", "Spain"):
        assert spdx_from_name(f"CC BY-SA 3.0 {country}") == "LicenseRef-CC-BY-SA-3.0-ES"
    for no_port in ("Unported", "Generic", "International", "Internacional"):
        assert spdx_from_name(f"CC BY-SA 3.0 {no_port}") == "CC-BY-SA-3.0"


# ---------------------------------------------------------------- mentions


def _spans(text: str) -> list[tuple[str, str]]:
    return [(m.matched, m.spdx) for m in find_license_mentions(text)]


def test_mention_offsets_and_fields() -> None:
    text = "Der Inhalt steht unter einer Creative Commons Namensnennung 3.0 Österreich Lizenz."
    [mention] = find_license_mentions(text)
    assert isinstance(mention, Mention)
    assert text[mention.start:mention.end] == mention.matched
    assert mention.matched == "Creative Commons Namensnennung 3.0 Österreich Lizenz"
    assert mention.spdx == "CC-BY-3.0-AT"
    with pytest.raises(AttributeError):
        mention.spdx = "MIT"  # type: ignore[misc]


def test_mentions_in_running_text() -> None:
    text = (
        "Photo: CC BY-SA 2.0. This work is licensed under a Creative Commons "
        "Attribution-NonCommercial-ShareAlike 4.0 International License. Code is under "
        "the MIT License; docs under the GNU FDL. Images are in the public domain (CC0). "
        "Copyright 2015 BBC. All rights reserved."
    )
    assert _spans(text) == [
        ("CC BY-SA 2.0", "CC-BY-SA-2.0"),
        ("Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International License",
         "CC-BY-NC-SA-4.0"),
        ("MIT License", "MIT"),
        ("GNU FDL", "LicenseRef-GFDL-unversioned"),
        ("CC0", "CC0-1.0"),
    ]
    for m in find_license_mentions(text):
        assert text[m.start:m.end] == m.matched


def test_mentions_seven_languages() -> None:
    texts = {
        "Dieser Beitrag steht unter einer Creative Commons Namensnennung - Nicht-kommerziell "
        "- Weitergabe unter gleichen Bedingungen 4.0 International Lizenz.": "CC-BY-NC-SA-4.0",
        "Ce contenu est mis à disposition selon les termes de la Licence Creative Commons "
        "Attribution - Pas d'Utilisation Commerciale 4.0 International.": "CC-BY-NC-4.0",
        "Esta obra está bajo una Licencia Creative Commons Atribución-CompartirIgual 4.0 "
        "Internacional.": "CC-BY-SA-4.0",
        "Quest'opera è distribuita con Licenza Creative Commons Attribuzione - Non "
        "commerciale - Non opere derivate 4.0 Internazionale.": "CC-BY-NC-ND-4.0",
        "Este trabalho está licenciado com uma Licença Creative Commons - "
        "Atribuição-NãoComercial 4.0 Internacional.": "CC-BY-NC-4.0",
        "Dit werk valt onder een Creative Commons Naamsvermelding-GelijkDelen 4.0 "
        "Internationaal-licentie.": "CC-BY-SA-4.0",
        "Licensed under a Creative Commons Attribution-NoDerivs 3.0 Unported License.":
            "CC-BY-ND-3.0",
    }
    for text, expected in texts.items():
        assert [m.spdx for m in find_license_mentions(text)] == [expected], text


def test_mentions_never_borrow_a_distant_version() -> None:
    text = ("Diese Seite steht unter den Bedingungen der Creative Commons BY-SA. "
            "Version 3.0 der Software erschien 2012.")
    assert [m.spdx for m in find_license_mentions(text)] == ["LicenseRef-CC-BY-SA-unversioned"]
    text = "Content licensed under CC-BY unless otherwise stated. See release 4.0."
    assert [m.spdx for m in find_license_mentions(text)] == ["LicenseRef-CC-BY-unversioned"]


def test_mentions_adjacent_abbreviation_or_url_gives_the_version() -> None:
    text = ("distributed in accordance with the Creative Commons Attribution Non Commercial "
            "(CC BY-NC 3.0) license")
    [m] = find_license_mentions(text)
    assert m.spdx == "CC-BY-NC-3.0"
    assert m.matched == "Creative Commons Attribution Non Commercial (CC BY-NC 3.0)"
    text = ("under the terms of the Creative Commons Attribution License "
            "(http://creativecommons.org/licenses/by/2.0), which permits")
    [m] = find_license_mentions(text)
    assert (m.spdx, m.matched[-4:]) == ("CC-BY-2.0", "2.0)")
    text = "the Creative Commons Attribution License (http://creativecommons.org/licenses/by-sa/2.0)"
    assert [m.spdx for m in find_license_mentions(text)] == ["LicenseRef-CC-BY-unversioned"]


def test_mentions_public_domain_dedication_with_url() -> None:
    text = ("The Creative Commons Public Domain Dedication waiver "
            "(http://creativecommons.org/publicdomain/zero/1.0/) applies to the data.")
    [m] = find_license_mentions(text)
    assert m.spdx == "CC0-1.0" and m.matched.endswith("zero/1.0/)")
    text = "The Creative Commons Public Domain Dedication (https://creativecommons.org/licenses/by/4.0/)"
    assert [m.spdx for m in find_license_mentions(text)] == ["LicenseRef-PublicDomain"]


def test_statements_are_names_but_not_mentions() -> None:
    """'public domain' and 'all rights reserved' are statements: signals/text reads them in
    running text with its own lexicon; an isolated string still maps."""
    text = "Placed in the public domain. Alle Rechte vorbehalten. All rights reserved."
    assert find_license_mentions(text) == []
    assert spdx_from_name("public domain") == "LicenseRef-PublicDomain"
    assert spdx_from_name("Alle Rechte vorbehalten") == "LicenseRef-All-Rights-Reserved"


def test_mentions_ports_only_where_they_exist() -> None:
    assert _spans("Photo: CC BY 2.0 Jordan Smith") == [("CC BY 2.0", "CC-BY-2.0")]
    assert _spans("Foto: CC BY-SA 4.0 Deutschland-Tour") == [("CC BY-SA 4.0", "CC-BY-SA-4.0")]
    assert _spans("Bild: CC BY-SA 3.0 DE") == [("CC BY-SA 3.0 DE", "CC-BY-SA-3.0-DE")]
    assert spdx_from_url("https://creativecommons.org/licenses/by-sa/4.0/de/") == "CC-BY-SA-4.0"


def test_mentions_gfdl_notice() -> None:
    text = (
        "Permission is granted to copy, distribute and/or modify this document under the terms "
        "of the GNU Free Documentation License, Version 1.3 or any later version published by "
        "the Free Software Foundation; with no Invariant Sections, no Front-Cover Texts, and no "
        "Back-Cover Texts. A copy of the license is included."
    )
    [m] = find_license_mentions(text)
    assert m.spdx == "GFDL-1.3-no-invariants-or-later"
    assert m.matched.endswith("no Back-Cover Texts")


def test_mentions_gpl_notice() -> None:
    text = ("under the terms of the GNU General Public License as published by the Free "
            "Software Foundation, either version 3 of the License, or (at your option) any "
            "later version.")
    assert [m.spdx for m in find_license_mentions(text)] == ["GPL-3.0-or-later"]


def test_mentions_mit_needs_license_context() -> None:
    assert _spans("Documentation licensed under MIT.") == [("MIT", "MIT")]
    assert _spans("License: MIT") == [("MIT", "MIT")]
    assert _spans("Copyright © 2018 W3C® (MIT, ERCIM, Keio, Beihang).") == []
    assert _spans("She studied at MIT under Prof. X.") == []


def test_mentions_other_families() -> None:
    text = ("The contents of this website are © 2024 Apache Software Foundation under the "
            "terms of the Apache License v2. Data: Open Government Licence v3.0 and ODbL. "
            "Dedicated via the Public Domain Mark 1.0; some under the Unlicense.")
    assert [m.spdx for m in find_license_mentions(text)] == [
        "Apache-2.0", "OGL-UK-3.0", "ODbL-1.0", "CC-PDM-1.0", "Unlicense",
    ]


def test_mentions_ignore_lookalikes() -> None:
    text = (
        "Please cc by email. Accepting access. The attribution of blame. Namensnennung des "
        "Autors. A Creative Commons license. Some rights reserved. unlicensed copies. "
        "The Open Game License. Submit, limit, commit. Published by GPLNet Inc."
    )
    assert find_license_mentions(text) == []


def test_mentions_turkish_dotted_capital_keeps_offsets() -> None:
    text = "İİİ İstanbul — CC BY 4.0"
    [m] = find_license_mentions(text)
    assert (m.matched, m.spdx) == ("CC BY 4.0", "CC-BY-4.0")
    assert text[m.start:m.end] == m.matched


# ---------------------------------------------------------------- categories


def test_category_order() -> None:
    assert CATEGORY_ORDER == ("public-domain", "permissive", "copyleft", "noncommercial",
                              "no-derivatives", "reserved", "unknown")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("CC0-1.0", "public-domain"),
        ("CC-PDM-1.0", "public-domain"),
        ("CC-PDDC", "public-domain"),
        ("LicenseRef-PublicDomain", "public-domain"),
        ("CC-BY-4.0", "permissive"),
        ("CC-BY-3.0-AT", "permissive"),
        ("MIT", "permissive"),
        ("Apache-2.0", "permissive"),
        ("BSD-3-Clause", "permissive"),
        ("ODC-By-1.0", "permissive"),
        ("OGL-UK-3.0", "permissive"),
        ("LicenseRef-OGL-UK-unversioned", "permissive"),
        ("LicenseRef-OWFa-1.0", "permissive"),
        ("W3C-20150513", "permissive"),
        ("LicenseRef-CC-BY-2.0-DE", "permissive"),
        ("CC-BY-SA-4.0", "copyleft"),
        ("LicenseRef-CC-BY-SA-3.0-ES", "copyleft"),
        ("LicenseRef-CC-BY-SA-unversioned", "copyleft"),
        ("GFDL-1.3-no-invariants-or-later", "copyleft"),
        ("LicenseRef-GFDL-unversioned", "copyleft"),
        ("GPL-3.0-only", "copyleft"),
        ("ODbL-1.0", "copyleft"),
        ("CC-BY-NC-4.0", "noncommercial"),
        ("CC-BY-NC-SA-2.0-DE", "noncommercial"),
        ("LicenseRef-CC-BY-NC-unversioned", "noncommercial"),
        ("CC-BY-ND-4.0", "no-derivatives"),
        ("CC-BY-NC-ND-3.0", "no-derivatives"),
        ("LicenseRef-W3C-Document-License-2015", "no-derivatives"),
        ("LicenseRef-All-Rights-Reserved", "reserved"),
        ("NOASSERTION", "unknown"),
        ("LicenseRef-Something-Else", "unknown"),
        # neither open nor "all rights reserved": terms that need a reader
        ("LicenseRef-W3C-Community-CLA", "unknown"),
        ("LicenseRef-CPOL-unversioned", "unknown"),
        ("LicenseRef-arXiv-nonexclusive-distrib-1.0", "reserved"),
        ("LicenseRef-CC-BY-9.0", "unknown"),
        # compound
        ("MIT OR GPL-3.0-only", "permissive"),
        ("CC0-1.0 OR LicenseRef-OWFa-1.0", "public-domain"),
        ("MIT AND CC-BY-NC-4.0", "noncommercial"),
        ("CC-BY-4.0 AND LicenseRef-All-Rights-Reserved", "reserved"),
        ("CC-BY-SA-4.0 OR LicenseRef-Unknown", "copyleft"),
        ("MIT AND LicenseRef-Unknown", "unknown"),
        ("(CC-BY-NC-4.0 OR CC-BY-SA-4.0) AND MIT", "copyleft"),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", "copyleft"),
    ],
)
def test_category(expr: str, expected: str) -> None:
    assert category(expr) == expected


def test_more_restrictive() -> None:
    assert more_restrictive("MIT", "CC-BY-NC-4.0") == "CC-BY-NC-4.0"
    assert more_restrictive("CC-BY-ND-4.0", "CC-BY-SA-4.0") == "CC-BY-ND-4.0"
    assert more_restrictive("MIT", "Apache-2.0") == "MIT"
    assert more_restrictive("Apache-2.0", "MIT") == "Apache-2.0"


def test_category_rejects_invalid() -> None:
    with pytest.raises(ValueError):
        category("MIT AND")


# ---------------------------------------------------------------- expressions


def test_normalize_expression() -> None:
    assert normalize_expression("mit or apache-2.0") == "MIT OR Apache-2.0"
    assert normalize_expression("(MIT)") == "MIT"
    assert normalize_expression("GPL-2.0") == "GPL-2.0-only"
    assert normalize_expression("noassertion") == "NOASSERTION"
    assert normalize_expression("LicenseRef-PublicDomain") == "LicenseRef-PublicDomain"
    assert normalize_expression("CC0-1.0 OR LicenseRef-OWFa-1.0") == (
        "CC0-1.0 OR LicenseRef-OWFa-1.0"
    )
    assert normalize_expression("gpl-2.0-or-later with classpath-exception-2.0") == (
        "GPL-2.0-or-later WITH Classpath-exception-2.0"
    )


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "empty"),
        ("MIT AND", "invalid"),
        ("MIT OR OR GPL-3.0-only", "invalid"),
        ("Foo-1.0", "unknown license id"),
        ("MIT AND NOASSERTION", "cannot be combined"),
        ("MIT WITH Apache-2.0", "not an SPDX license exception"),
        ("Classpath-exception-2.0", "exception, not a license"),
    ],
)
def test_normalize_expression_errors(bad: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_expression(bad)


def test_license_refs() -> None:
    assert license_refs("CC0-1.0 OR LicenseRef-OWFa-1.0") == ["LicenseRef-OWFa-1.0"]
    assert license_refs("LicenseRef-A AND (MIT OR LicenseRef-B) AND LicenseRef-A") == [
        "LicenseRef-A", "LicenseRef-B",
    ]
    assert license_refs("MIT") == []
    assert license_refs("NOASSERTION") == []


@pytest.mark.parametrize("source", ["https://spdx.org/licenses/Classpath-exception-2.0.html",
                                    "https://opensource.org/licenses/LLVM-exception",
                                    "https://choosealicense.com/licenses/gcc-exception-3.1/",
                                    "Classpath-exception-2.0", "llvm-exception"])
def test_an_exception_id_is_no_license(source: str) -> None:
    # found by tests/test_licenses_properties.py: these gave the exception id as a license,
    # which no expression (and so no row) can hold
    assert (spdx_from_url(source) if "/" in source else spdx_from_name(source)) is None
    assert normalize_expression("GPL-2.0-only WITH Classpath-exception-2.0")


@pytest.mark.parametrize(("expr", "ids"), [
    ("MIT OR (Apache-2.0 WITH LLVM-exception)", ["MIT", "Apache-2.0", "LLVM-exception"]),
    ("gpl-2.0 AND (mit OR LicenseRef-Foo.1) AND MIT", ["GPL-2.0-only", "MIT", "LicenseRef-Foo.1",
                                                       "MIT"]),
    ("((CC-BY-4.0))", ["CC-BY-4.0"]),
    ("NOASSERTION", ["NOASSERTION"]),
])
def test_expression_ids_come_from_the_parser(expr: str, ids: list[str]) -> None:
    assert expression_ids(expr) == ids


@pytest.mark.parametrize(("expr", "terms"), [
    ("CC-BY-SA-3.0 OR GFDL-1.3-or-later", ["CC-BY-SA-3.0", "GFDL-1.3-or-later"]),
    ("(MIT OR X11) OR LicenseRef-A", ["MIT", "X11", "LicenseRef-A"]),
    # an OR inside an AND offers no choice of the whole: a split on " OR " got this wrong
    ("MIT AND (X11 OR 0BSD)", ["MIT AND (X11 OR 0BSD)"]),
    ("(MIT AND X11) OR 0BSD", ["MIT AND X11", "0BSD"]),
    ("Apache-2.0 WITH LLVM-exception OR mit", ["Apache-2.0 WITH LLVM-exception", "MIT"]),
    ("LicenseRef-All-Rights-Reserved", ["LicenseRef-All-Rights-Reserved"]),
    ("NOASSERTION", ["NOASSERTION"]),
])
def test_or_terms_are_the_top_level_alternatives(expr: str, terms: list[str]) -> None:
    assert or_terms(expr) == terms


@pytest.mark.parametrize("bad", ["", "MIT OR OR (", "Not-A-License-9"])
def test_expression_helpers_refuse_invalid_expressions(bad: str) -> None:
    with pytest.raises(ValueError):
        expression_ids(bad)
    with pytest.raises(ValueError):
        or_terms(bad)


RESTRICTED_TERMS = frozenset({"LicenseRef-W3C-Community-CLA", "LicenseRef-CPOL-unversioned"})


def _emitted_ids() -> set[str]:
    """Every id the mappers emit for the inputs in this file."""
    ids = {v for v in URLS.values() if v} | set(NAMES.values())
    ids |= {m.spdx for text in NAMES for m in find_license_mentions(text)}
    ids |= {known.gnu_unversioned(family) for family in known.GNU_FAMILIES}
    ids |= {known.PUBLIC_DOMAIN, known.ALL_RIGHTS_RESERVED, known.OGL_UK_UNVERSIONED,
            known.OGL_CANADA_UNVERSIONED, known.OWFA_1_0, known.W3C_DOCUMENT_2015,
            known.W3C_DOCUMENT_2023, known.W3C_SOFTWARE_2023, known.APACHE_UNVERSIONED}
    for ctype in known.CC_TYPES:
        ids.add(known.cc_id(ctype, None))
        for version in known.CC_VERSIONS:
            ids.add(known.cc_id(ctype, version))
            ids.update(known.cc_id(ctype, version, port) for port in known.CC_PORTS.values())
    return ids


def test_every_emitted_id_round_trips() -> None:
    ids = _emitted_ids()
    assert "LicenseRef-PublicDomain" in ids and "LicenseRef-CC-BY-SA-3.0-ES" in ids
    for spdx in ids:
        assert normalize_expression(spdx) == spdx
        # terms with restrictions of their own (ScanCode's "Free Restricted", like
        # CPOL-1.02) are no open category: a reader decides
        assert (category(spdx) == "unknown") == (spdx in RESTRICTED_TERMS), spdx
        info = license_info(spdx)
        assert info.id == spdx and info.name
        if spdx.startswith("LicenseRef-"):
            assert license_refs(spdx) == [spdx]
            assert info.text


# ---------------------------------------------------------------- license_info


def test_license_info() -> None:
    assert license_info("CC-BY-SA-4.0") == LicenseInfo(
        "CC-BY-SA-4.0",
        "Creative Commons Attribution-ShareAlike 4.0 International",
        "https://creativecommons.org/licenses/by-sa/4.0/",
        "",
    )
    es = license_info("LicenseRef-CC-BY-SA-3.0-ES")
    assert es.name == "Creative Commons Attribution-ShareAlike 3.0 Spain"
    assert es.url == "https://creativecommons.org/licenses/by-sa/3.0/es/"
    assert es.text == (
        "Creative Commons Attribution-ShareAlike 3.0 Spain, "
        "https://creativecommons.org/licenses/by-sa/3.0/es/"
    )
    arr = license_info("LicenseRef-All-Rights-Reserved")
    assert (arr.name, arr.url) == ("All rights reserved", None) and arr.text
    assert license_info("CC-BY-3.0").name == "Creative Commons Attribution 3.0 Unported"
    assert license_info("CC-BY-2.0").name == "Creative Commons Attribution 2.0 Generic"
    assert license_info("CC-BY-ND-3.0").name == "Creative Commons Attribution-NoDerivs 3.0 Unported"
    assert license_info("GFDL-1.3-or-later").url == "https://www.gnu.org/licenses/fdl-1.3.html"
    assert license_info("OGL-UK-3.0").name == "Open Government Licence v3.0"
    unversioned = license_info("LicenseRef-CC-BY-NC-unversioned")
    assert unversioned.url is None and "NonCommercial" in unversioned.name


def test_license_info_unknown_ids_do_not_crash() -> None:
    assert license_info("BSD-3-Clause").url == "https://spdx.org/licenses/BSD-3-Clause.html"
    other = license_info("LicenseRef-Site-Policy-Thing")
    assert other.name == "LicenseRef-Site-Policy-Thing" and other.url is None and other.text
    assert license_info("NOASSERTION").name == "NOASSERTION"


# ---------------------------------------------------------------- policy

OPEN = {"public-domain", "permissive", "copyleft"}
PERMISSIVE = {"public-domain", "permissive"}


@pytest.mark.parametrize(
    ("expr", "categories", "allowed", "denied", "expected"),
    [
        ("MIT OR GPL-3.0-only", PERMISSIVE, None, None, True),
        ("MIT AND CC-BY-NC-4.0", PERMISSIVE, None, None, False),
        ("MIT AND CC-BY-NC-4.0", OPEN, {"CC-BY-NC-4.0"}, None, True),
        ("CC-BY-SA-4.0", PERMISSIVE, None, None, False),
        ("CC-BY-SA-4.0", OPEN, None, None, True),
        ("CC-BY-SA-4.0", OPEN, None, {"CC-BY-SA-4.0"}, False),
        ("MIT OR CC-BY-SA-4.0", OPEN, None, {"mit"}, True),
        ("GPL-3.0-only", None, {"gpl-3.0-only"}, None, True),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", OPEN, None, None, True),
        ("NOASSERTION", OPEN, None, None, False),
        ("NOASSERTION", OPEN, {"NOASSERTION"}, None, False),
        ("LicenseRef-Unknown", OPEN, None, None, False),
        ("LicenseRef-All-Rights-Reserved", OPEN, None, None, False),
        ("CC0-1.0 OR LicenseRef-OWFa-1.0", PERMISSIVE, None, None, True),
        ("MIT", None, None, None, False),
    ],
)
def test_expression_allowed(
    expr: str,
    categories: set[str] | None,
    allowed: set[str] | None,
    denied: set[str] | None,
    expected: bool,
) -> None:
    assert expression_allowed(
        expr, categories=categories, allowed_ids=allowed, denied_ids=denied
    ) is expected


def test_expression_allowed_rejects_invalid() -> None:
    with pytest.raises(ValueError):
        expression_allowed("MIT AND", categories=OPEN, allowed_ids=None, denied_ids=None)


@pytest.mark.parametrize(("url", "expected"), [
    ("https://web.archive.org/web/20190101000000/http://creativecommons.org/licenses/by-sa/"
     "3.0/", "CC-BY-SA-3.0"),
    ("http://web.archive.org/web/2015id_/http:/creativecommons.org/licenses/by/2.0/de/",
     "LicenseRef-CC-BY-2.0-DE"),
    ("web.archive.org/web/20200101/creativecommons.org/licenses/by-nc/4.0/", "CC-BY-NC-4.0"),
    ("https://www.google.com/url?q=https://creativecommons.org/licenses/by/4.0/&sa=D",
     "CC-BY-4.0"),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fcreativecommons.org%2Flicenses%2Fby-sa%2F"
     "4.0%2F&h=x", "CC-BY-SA-4.0"),
    ("https://t.example.net/click?target=https://www.gnu.org/licenses/fdl-1.3.html",
     "GFDL-1.3-only"),
    # not wrapped, or wrapping something that is not a license
    ("https://example.org/page?q=creativecommons", None),
    ("https://example.org/go?url=https://example.com/about", None),
    ("https://web.archive.org/web/2019/https://example.com/", None),
    ("https://creativecommons.org/licenses/by/4.0/?ref=chooser-v1", "CC-BY-4.0"),
])
def test_license_urls_wrapped_by_archives_and_redirectors(url: str, expected: str | None
                                                          ) -> None:
    from crawler.licenses.urls import spdx_from_url
    assert spdx_from_url(url) == expected


def test_badges_wrapped_by_a_web_archive() -> None:
    from crawler.licenses.urls import spdx_from_badge
    assert spdx_from_badge("https://web.archive.org/web/2016im_/https://i.creativecommons.org/"
                           "l/by/4.0/88x31.png") == "CC-BY-4.0"
