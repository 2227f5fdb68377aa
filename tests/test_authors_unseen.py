"""Author classes from issue 10 (item 3), each on small pages of our own.

Every test names the general rule it checks; none depends on a dev page.
"""

from __future__ import annotations

import json
from typing import Any

import extruct
import lxml.html

from crawler.detect.signals.authors import authors_from_copyright, extract_authors

BASE = "https://example.org/post"


def _structured(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    return {
        "json-ld": extruct.JsonLdExtractor().extract_items(tree),
        "microdata": extruct.MicrodataExtractor().extract_items(tree, BASE),
        "rdfa": [],
    }


def authors(html: str, **kwargs: Any) -> list[str]:
    tree = lxml.html.document_fromstring(html)
    return extract_authors(tree, _structured(tree), **kwargs)


def page(head: str = "", body: str = "<p>Text.</p>") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


# --- sites, newspapers, agencies -------------------------------------------------------------


def test_site_name_beside_the_reporter_is_dropped_from_the_byline() -> None:
    head = '<link rel="canonical" href="https://www.dailyplanet.com/a/1">'
    body = '<div class="byline">By Lois Lane and Daily Planet</div><p>Text.</p>'
    assert authors(page(head, body)) == ["Lois Lane"]


def test_title_suffix_names_the_site() -> None:
    head = (
        "<title>Storm hits coast - Coastal Herald</title>"
        + jsonld({"@type": "NewsArticle", "author": "Coastal Herald"})
        + '<meta name="author" content="Ann Lee">'
    )
    assert authors(page(head)) == ["Ann Lee"]


def test_short_form_of_the_site_name_is_the_site() -> None:
    head = (
        '<meta property="og:site_name" content="北方通讯 North Wire">'
        + jsonld({"@type": "NewsArticle", "author": "北方通讯"})
        + '<meta name="author" content="李华">'
    )
    assert authors(page(head)) == ["李华"]


def test_personal_site_named_after_its_author_still_credits_the_author() -> None:
    head = (
        '<meta property="og:site_name" content="quietcoder">'
        '<meta name="author" content="quietcoder">'
    )
    assert authors(page(head)) == ["quietcoder"]


def test_news_agency_credit_is_no_person() -> None:
    assert authors(page('<meta name="author" content="AP">')) == []
    assert authors(page('<meta property="article:author" content="İHA">')) == []
    assert authors(page('<meta name="author" content="Reuters">')) == []
    assert authors(page('<meta name="author" content="新华社">')) == []


def test_cjk_organisation_endings() -> None:
    assert authors(page('<meta name="author" content="东方科技网">')) == []
    assert authors(page('<meta name="author" content="한빛일보">')) == []
    assert authors(page('<meta name="author" content="王小明">')) == ["王小明"]


def test_company_copyright_holder_is_not_split_into_a_person() -> None:
    assert authors_from_copyright("Copyright ©2014 Smith Barney & Company, Inc.") == []
    assert authors(page(), copyright_notice="© 2020 Acme Jones & Co. All rights reserved") == []
    assert authors_from_copyright("© 2021 Jane Doe. All rights reserved.") == ["Jane Doe"]


# --- casing and role labels ------------------------------------------------------------------


def test_all_caps_name_in_title_case_handles_kept() -> None:
    body = '<p class="byline">By JANE MARLOW and OLAF BERG</p><p>Text.</p>'
    assert authors(page(body=body)) == ["Jane Marlow", "Olaf Berg"]
    assert authors(page('<meta name="author" content="JD">')) == ["JD"]
    assert authors(page('<meta name="author" content="Ann McKay">')) == ["Ann McKay"]


def test_role_suffix_of_several_words_is_stripped() -> None:
    body = '<p class="byline">By TOM REED - AP Science Writers</p><p>Text.</p>'
    assert authors(page(body=body)) == ["Tom Reed"]


# --- garbage captured as names ---------------------------------------------------------------


def test_placeholder_and_label_words_are_no_names() -> None:
    assert authors(page('<meta name="author" content="No Author">')) == []
    assert authors(page(body='<div class="author-box">Authors</div><p>Text.</p>')) == []
    assert authors(page(body='<h2 class="authors">Abstract</h2><p>Text.</p>')) == []


def test_slogans_and_section_labels_are_no_names() -> None:
    assert authors(page(body='<div class="author">Code for everyone!</div><p>x</p>')) == []
    assert authors(page(body='<th class="author-col">TM/TR</th>')) == []


def test_author_dropdown_and_staff_lists_are_no_byline() -> None:
    options = "".join(f"<option>Writer{i}, Name{i}</option>" for i in range(30))
    body = f'<div class="author-search"><select>{options}</select></div><p>Text.</p>'
    head = '<meta name="author" content="Rosa Vidal">'
    assert authors(page(head, body)) == ["Rosa Vidal"]
    staff = "".join(
        f'<a class="author" href="/author/{i}">Person{chr(65 + i)} Surname{chr(65 + i)}</a>'
        for i in range(20)
    )
    assert authors(page(head, f"<div>{staff}</div><p>Text.</p>")) == ["Rosa Vidal"]


def test_author_typed_as_organisation_is_no_person_even_when_alone() -> None:
    head = (
        jsonld({"@type": "NewsArticle", "author": {"@type": "Organization", "name": "RUNDSCHAU"}})
        + '<meta name="author" content="RUNDSCHAU">'
    )
    assert authors(page(head)) == []
    person_org = {"@type": ["Person", "Organization"], "name": "Tia Marsh"}
    assert authors(page(jsonld({"@type": "NewsArticle", "author": person_org}))) == ["Tia Marsh"]


def test_personal_blog_whose_theme_names_the_author_as_publisher() -> None:
    data = {
        "@type": "BlogPosting",
        "author": {"@type": "Person", "name": "quietcoder"},
        "publisher": {"@type": "Organization", "name": "quietcoder"},
    }
    assert authors(page(jsonld(data))) == ["quietcoder"]


def test_copyright_holder_equal_to_the_domain_is_the_site() -> None:
    head = '<link rel="canonical" href="https://lyricvault.com/song">'
    assert authors(page(head), copyright_notice="© 2013 Lyric Vault") == []
    assert authors(page(), copyright_notice="© 2013 Mara Quill") == ["Mara Quill"]


# --- "Author:" header lines ------------------------------------------------------------------


def test_etext_header_author_line() -> None:
    body = (
        "<pre>\nTitle: Notes on Tidal Pools\n\nAuthor: Wilhelmina R. Okafor (AKA W. Okafor)\n\n"
        "Release Date: May 1, 2010\n</pre><p>Chapter one.</p>"
    )
    assert authors(page(body=body)) == ["Wilhelmina R. Okafor"]
    assert authors(page(body="<p>Title: Sea</p><p>Autor: Hans Lemke</p>")) == ["Hans Lemke"]


def test_author_line_beats_a_class_marked_signature_in_the_text() -> None:
    body = '<p>Author: Gerrit Vos</p><p>Poem.</p><p class="author">HOLLAND.</p><p>More.</p>'
    assert authors(page(body=body)) == ["Gerrit Vos"]


def test_author_line_in_code_or_placeholder_is_no_credit() -> None:
    assert authors(page(body="<pre><code>Author: Some Hacker</code></pre>")) == []
    assert authors(page(body="<p>Author: Various</p>")) == []
    assert authors(page(body='<div class="comments"><p>Author: Ben Tull</p></div>')) == []


# --- question-and-answer threads -------------------------------------------------------------


def test_qa_page_credits_the_asker_and_each_answerer_in_microdata() -> None:
    body = (
        '<div itemscope itemtype="https://schema.org/QAPage">'
        '<div itemprop="mainEntity" itemscope itemtype="https://schema.org/Question">'
        '<h1 itemprop="name">Why?</h1>'
        '<span itemprop="author" itemscope itemtype="https://schema.org/Person">'
        '<span itemprop="name">quill_9</span></span>'
        '<span itemprop="author" itemscope itemtype="https://schema.org/Person">'
        '<span itemprop="name">EditorBot</span></span>'
        '<div itemprop="acceptedAnswer" itemscope itemtype="https://schema.org/Answer">'
        '<span itemprop="author" itemscope itemtype="https://schema.org/Person">'
        '<span itemprop="name">Ana d\'Ortega</span></span></div>'
        '<div itemprop="suggestedAnswer" itemscope itemtype="https://schema.org/Answer">'
        '<span itemprop="author" itemscope itemtype="https://schema.org/Person">'
        '<span itemprop="name">quill_9</span></span></div>'
        "</div></div>"
    )
    assert authors(page(body=body)) == ["quill_9", "Ana d'Ortega"]


def test_question_in_json_ld_credits_answerers() -> None:
    data = {
        "@type": "Question",
        "name": "How?",
        "author": {"@type": "Person", "name": "Mo Lin"},
        "suggestedAnswer": [
            {"@type": "Answer", "author": {"@type": "Person", "name": "Kit Parr"}},
            {"@type": "Answer", "author": {"@type": "Person", "name": "Ola Rye"}},
        ],
    }
    assert authors(page(jsonld(data))) == ["Mo Lin", "Kit Parr", "Ola Rye"]


def test_article_with_two_authors_keeps_both() -> None:
    data = {
        "@type": "Article",
        "author": [{"@type": "Person", "name": "Mo Lin"}, {"@type": "Person", "name": "Kit Parr"}],
    }
    assert authors(page(jsonld(data))) == ["Mo Lin", "Kit Parr"]


# --- role labels, other byline markup --------------------------------------------------------


def test_role_labels_are_stripped_and_picture_credits_dropped() -> None:
    body = '<p class="byline">Text: Anna Berger, Photos: Tom Licht</p><p>Story.</p>'
    assert authors(page(body=body)) == ["Anna Berger"]
    body = '<p class="byline">Interview: Lea Sommer</p><p>Story.</p>'
    assert authors(page(body=body)) == ["Lea Sommer"]
    assert authors(page('<meta name="author" content="記者 林美華">')) == ["林美華"]
    assert authors(page('<meta name="author" content="김지수 기자">')) == ["김지수"]
    assert authors(page('<meta name="author" content="文：陈小东">')) == ["陈小东"]
    # a name that merely starts like a label keeps its letters
    assert authors(page('<meta name="author" content="Byron Tate">')) == ["Byron Tate"]
    assert authors(page('<meta name="author" content="文天明">')) == ["文天明"]


def test_arabic_written_by_byline() -> None:
    body = '<span class="writeBy">كتبت سارة علي</span><p>نص.</p>'
    assert authors(page(body=body)) == ["سارة علي"]


def test_byline_meta_names() -> None:
    assert authors(page('<meta name="Search.Byline" content="Rae Quint">')) == ["Rae Quint"]
    assert authors(page('<meta name="byl" content="By Rae Quint">')) == ["Rae Quint"]


def test_nickname_credit_of_a_blog_platform() -> None:
    body = '<a class="follow-nickName" href="/u/1">Lin Zhou</a><p>Post.</p>'
    assert authors(page(body=body)) == ["Lin Zhou"]


def test_published_on_label_is_no_name() -> None:
    body = (
        '<span class="meta-author">Veröffentlicht am</span> <span class="date">1. Mai</span>'
        '<span class="by-author">von <span class="author vcard">'
        '<a class="url fn n" href="/author/x">Ilse Brandt</a></span></span><p>Text.</p>'
    )
    assert authors(page(body=body)) == ["Ilse Brandt"]


# --- bylines in post headers, footers and datelines -------------------------------------------


def test_posted_by_line_credits_a_handle() -> None:
    body = '<p>Post.</p><span class="meta">Posted by 7seas_dev on 2021-03-04</span>'
    assert authors(page(body=body)) == ["7seas_dev"]


def test_plain_by_line_still_needs_a_capital() -> None:
    assert authors(page(body="<p>by the way, nothing</p>")) == []


def test_byline_ends_at_the_line_break() -> None:
    body = "<cite>By Nora Fitch<br>Example Sports<br><a href='/a'>Archive</a></cite><p>x</p>"
    assert authors(page(body=body)) == ["Nora Fitch"]


def test_chinese_dateline_reporters() -> None:
    body = "<p>（東方社記者陳美玲高雄3日電）市政府今天表示，明天起...</p>"
    assert authors(page(body=body)) == ["陳美玲"]
    body = "<p>（東方社記者林志台北3日電）市政府今天表示...</p>"
    assert authors(page(body=body)) == ["林志"]
    body = "<p>新华社上海5月3日电（记者张伟、李娜）上海市今天...</p>"
    assert authors(page(body=body)) == ["张伟", "李娜"]


def test_photo_credit_with_reporter_word_is_no_dateline() -> None:
    body = "<p>市政府今天表示，明天起開放。</p><p>中央社記者張新偉攝 112年2月21日</p>"
    assert authors(page(body=body)) == []


# --- personal sites --------------------------------------------------------------------------


def test_handle_in_copyright_that_names_the_site() -> None:
    head = '<link rel="canonical" href="https://ql7.github.io/posts/a/">'
    assert authors(page(head), copyright_notice="© 2024 ql7") == ["ql7"]
    head = '<title>On caching | moss.dev</title><meta property="og:site_name" content="mossdev">'
    assert authors(page(head), copyright_notice="© 2024 mossdev.") == ["mossdev"]


def test_brand_copyright_is_no_owner() -> None:
    head = '<title>Release notes - Acme</title><meta property="og:site_name" content="Acme">'
    assert authors(page(head), copyright_notice="© 2024 Acme") == []
    # a handle that is not the site's name is not taken either
    head = "<title>Release notes - Acme</title>"
    assert authors(page(head), copyright_notice="© 2024 someone9") == []


def test_site_titled_after_its_owner() -> None:
    head = (
        "<title>On focus - tuvok</title>"
        '<link rel="alternate" type="application/atom+xml" title="Atom feed of tuvok\'s blog">'
    )
    assert authors(page(head)) == ["tuvok"]
    head = '<link rel="alternate" type="application/rss+xml" title="Feed of Ida Marr\'s Blog">'
    assert authors(page(head)) == ["Ida Marr"]
    assert authors(page("<title>Google's Blog</title>")) == []
    # a post title about someone's blog is not the site's name
    assert authors(page("<title>Reading my friend's blog - Notes</title>")) == []
    head = '<link rel="alternate" type="application/rss+xml" title="friend\'s blog">'
    assert authors(page(head)) == []


def test_author_line_of_a_reviewed_book_is_no_credit() -> None:
    body = (
        "<h1>Review: The Long Tide</h1><p>Author: Imre Vass</p><p>Publisher: Tide Press</p>"
        "<p>ISBN: 978-0-00-000000-0</p><p>This novel...</p>"
    )
    assert authors(page(body=body)) == []


def test_author_line_in_highlighted_source_is_no_credit() -> None:
    body = '<div class="highlight"><pre>"""\nAuthor: Ola Nord\n"""\nimport os</pre></div>'
    assert authors(page(body=body)) == []


def test_trailing_lowercase_word_only_is_cut() -> None:
    assert authors(page('<meta name="author" content="Thanh Le">')) == ["Thanh Le"]
    assert authors(page('<meta name="author" content="作者 王芳">')) == ["王芳"]


def test_role_after_the_names_without_a_separator() -> None:
    body = (
        '<div class="author">Par <strong>MARC DURAND</strong>, <strong>ALICE ROY</strong> '
        "Envoyés spéciaux à Lyon</div><p>Texte.</p>"
    )
    assert authors(page(body=body)) == ["Marc Durand", "Alice Roy"]


def test_short_coauthor_byline_credits_each_linked_author() -> None:
    body = (
        '<div class="article_byline"><b>Co-authored by</b> '
        '<a href="/Author/Rui-Sato" class="coauthor_link">Rui Sato</a> and '
        '<a href="/Author/Eve-Lund" class="coauthor_link">Eve Lund</a> '
        "Last Updated: May 3, 2024</div><p>Text.</p>"
    )
    assert authors(page(body=body)) == ["Rui Sato", "Eve Lund"]
