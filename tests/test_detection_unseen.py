"""License detection on patterns seen in real pages outside the dev set.

Each test is a small, realistic page (site header, an article with a few paragraphs, page
chrome) that reproduces one pattern an audit of unseen public test-fixture pages found
mis-detected, and checks the fixed behaviour through ``crawler.detect.inspect``.
"""

from __future__ import annotations

from crawler import inspect

URL = "https://notes.example.net/blog/2020-10-18-shell-jumpers/"
PARAGRAPHS = (
    "After reading a post about directory jumpers I figured I might as well bite the bullet "
    "and improve my shell setup, especially because the old one does not work in my editor.",
    "I currently keep a static list of project folders in my shell profile. It works well "
    "from the shell, but it is very static: a new folder means editing the file and "
    "restarting every shell I have open.",
    "So I looked around for tools that learn which folders I visit, and tried four of them "
    "for a month each. This post compares how they behave and which one I kept.",
)


def page(*, footer: str, sidebar: str = "", head: str = "") -> str:
    """A blog post page with the given footer and sidebar."""
    paras = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    aside = f'<aside class="sidebar">{sidebar}</aside>' if sidebar else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Shell jumpers - notes</title>{head}</head><body>"
        '<header class="site-header"><a href="/">notes</a><nav><ul>'
        '<li><a href="/blog/">Blog</a></li><li><a href="/contact/">Contact</a></li>'
        "</ul></nav></header>"
        f'<div id="content"><article><h1>Shell jumpers</h1>{paras}</article>{aside}</div>'
        f'<footer class="footer">{footer}</footer></body></html>'
    )


def test_copyleft_notice_line_names_the_site_license() -> None:
    # "Copyleft © <years> <holder> <license>" is the site's license line (ikiwiki sites).
    html = page(
        footer='<p><span class="copyright">Copyleft © 2002-2016 The Author '
        '<a href="/meta/license">CC-BY-SA</a>.</span> '
        '<span class="powered-by">Powered by <a href="http://ikiwiki.info/">ikiwiki</a>.'
        "</span></p>"
    )
    record = inspect(html, url=URL)
    assert record["license"] == "LicenseRef-CC-BY-SA-unversioned"
    assert not any(
        ev["spdx"] == "LicenseRef-All-Rights-Reserved" for ev in record["license_evidence"]
    )


def test_copyright_line_ending_in_a_license_is_a_grant() -> None:
    html = page(footer="<p>© 2021 Jane Doe · CC BY 4.0</p>")
    assert inspect(html, url=URL)["license"] == "CC-BY-4.0"


def test_license_named_without_a_notice_in_the_footer_is_not_a_grant() -> None:
    # A footer link list that merely names a license (a menu entry) grants nothing.
    html = page(footer='<ul><li><a href="/about/">About</a></li><li>CC BY-SA</li></ul>')
    assert inspect(html, url=URL)["license"] == "NOASSERTION"


def test_copyright_line_naming_a_software_license_stays_software() -> None:
    html = page(footer="<p>© 2021 Jane Doe · Theme released under the MIT License</p>")
    assert inspect(html, url=URL)["license"] == "LicenseRef-All-Rights-Reserved"


def test_unnamed_creative_commons_grant_is_not_all_rights_reserved() -> None:
    # mozilla.org-style footer: contributors' © plus "a Creative Commons license" that the
    # page never names. The text is licensed, under terms the page does not state.
    html = page(
        footer="<p>Portions of this content are ©1998–2024 by individual contributors. "
        'Content available under a <a rel="license" href="/about/licensing/">Creative '
        "Commons license</a>.</p>"
    )
    record = inspect(html, url=URL)
    assert record["license"] == "NOASSERTION"
    assert any(
        ev["spdx"] == "NOASSERTION" and ev["weight"] > 0 for ev in record["license_evidence"]
    )


def test_unnamed_creative_commons_grant_for_images_keeps_the_reservation() -> None:
    html = page(
        footer="<p>© 2024 Example Media. Photos available under a Creative Commons license.</p>"
    )
    assert inspect(html, url=URL)["license"] == "LicenseRef-All-Rights-Reserved"


def test_named_license_beside_unnamed_wording_still_wins() -> None:
    html = page(
        footer="<p>© 2024 Example. Content available under a Creative Commons license: "
        '<a rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/">CC BY-SA '
        "4.0</a>.</p>"
    )
    assert inspect(html, url=URL)["license"] == "CC-BY-SA-4.0"


def test_explicit_all_rights_reserved_beats_an_unnamed_grant() -> None:
    html = page(
        footer="<p>© 2024 Example Media. All rights reserved. Some articles are available "
        "under a Creative Commons license.</p>"
    )
    assert inspect(html, url=URL)["license"] == "LicenseRef-All-Rights-Reserved"


def test_comment_saying_what_pages_should_be_under_grants_nothing() -> None:
    # gnu.org-style policy note for authors, hidden in a comment beside a bare © notice.
    note = (
        "<!-- Regarding copyright, in general, standalone pages on this web server should\n"
        "     be under CC BY-ND 4.0.  Please do NOT change or remove this without talking\n"
        "     with the webmasters first. -->"
    )
    html = page(footer=f"{note}<p>Copyright © 2020 Example Foundation, Inc.</p>")
    record = inspect(html, url=URL)
    assert record["license"] == "LicenseRef-All-Rights-Reserved"
    noted = [ev for ev in record["license_evidence"] if ev["spdx"] == "CC-BY-ND-4.0"]
    assert noted and all(ev["weight"] == 0 for ev in noted)
    # Without the © line nothing applies at all: the note alone is no grant.
    assert inspect(page(footer=f"{note}<p>Example Foundation</p>"), url=URL)["license"] == (
        "NOASSERTION"
    )


def test_comment_that_states_the_license_still_counts() -> None:
    # The same comment without the modal is the page's (weak, hidden) notice.
    note = "<!-- This page is licensed under CC BY-ND 4.0. -->"
    html = page(footer=f"{note}<p>Example Foundation</p>")
    assert inspect(html, url=URL)["license"] == "CC-BY-ND-4.0"


def article_page(*, article_end: str, footer: str = "<p>Example Books</p>") -> str:
    """A book-chapter page whose article ends with ``article_end`` (inside the article)."""
    paras = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Chapter 6 - Shell jumpers</title></head><body>"
        '<main><div class="header"><h2 class="chapter-title">Chapter 6</h2></div>'
        f'<div id="content" role="main"><section><h1>Shell jumpers</h1>{paras}</section></div>'
        f"{article_end}</main>"
        f'<div class="site-info">{footer}</div></body></html>'
    )


def test_license_line_in_the_articles_own_footer_licenses_the_article() -> None:
    # Google SRE book chapters: the chapter's footer, inside <main>, carries the notice.
    html = article_page(
        article_end='<div class="footer"><p class="footer-link">Copyright © 2017 Example, '
        "Inc. Published by Example Media, Inc. Licensed under "
        '<a href="https://creativecommons.org/licenses/by-nc-nd/4.0/">CC BY-NC-ND 4.0</a>'
        "</p></div>"
    )
    record = inspect(html, url=URL)
    assert record["license"] == "CC-BY-NC-ND-4.0"
    assert any(ev["where"] == "main" and ev["weight"] > 0 for ev in record["license_evidence"])


def test_same_line_in_the_article_text_is_still_about_a_license() -> None:
    # Quoted as an example in the article's prose, the line licenses nothing.
    html = article_page(
        article_end="<section><p>A typical notice reads: Copyright © 2017 Example, Inc. "
        "Licensed under CC BY-NC-ND 4.0</p></section>"
    )
    assert inspect(html, url=URL)["license"] != "CC-BY-NC-ND-4.0"


def test_license_links_wrapped_by_a_web_archive_are_unwrapped() -> None:
    # A page saved from the Wayback Machine: every link is rewritten to an archive URL.
    archived = ("https://web.archive.org/web/20160305120000/"
                "http://creativecommons.org/licenses/by-sa/3.0/")
    html = page(footer=f'<p>This work is licensed under a <a rel="license" href="{archived}">'
                       "Creative Commons Attribution-ShareAlike License</a>.</p>")
    record = inspect(html, url=URL)
    assert record["license"] == "CC-BY-SA-3.0"


def test_license_links_through_a_redirector_are_unwrapped() -> None:
    wrapped = ("https://www.google.com/url?q=https%3A%2F%2Fcreativecommons.org%2Flicenses%2F"
               "by-nc%2F4.0%2F&sa=D")
    html = page(footer=f'<p>Text licensed <a href="{wrapped}">CC BY-NC 4.0</a>.</p>')
    assert inspect(html, url=URL)["license"] == "CC-BY-NC-4.0"


def test_an_archived_page_that_is_not_a_license_is_not_one() -> None:
    html = page(footer='<p>© 2016 Jane Doe. <a href="https://web.archive.org/web/2016/'
                       'http://example.com/terms">Terms</a></p>')
    assert inspect(html, url=URL)["license"] == "LicenseRef-All-Rights-Reserved"


def test_chinese_statement_that_follows_a_cc_license_is_a_grant() -> None:
    # "Copyright statement: this is the blogger's original article, following the
    # CC 4.0 BY-SA copyright agreement; reposts must link the original and this statement."
    paras = "".join(f"<p>{p}</p>" for p in (
        "上周我们在河边测量了三个阶地的高度，并记录了每一层沉积物的颜色和颗粒大小。",
        "最古老的阶地高出水面大约四十米，上面的草地曾经是河床。",
        "下一步我们打算用光释光方法测定石英颗粒的年代，看看结果是否与花粉记录一致。",
    ))
    html = (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>河流阶地的测量'
        "</title></head><body><header><a href='/'>我的博客</a></header><main><article>"
        f"<h1>河流阶地的测量</h1>{paras}"
        '<div class="copyright">版权声明：本文为博主原创文章，遵循 '
        '<a href="http://creativecommons.org/licenses/by-sa/4.0/">CC 4.0 BY-SA</a> '
        "版权协议，转载请附上原文出处链接和本声明。</div></article></main>"
        "<footer>©2010-2024 某某网络技术有限公司 版权所有</footer></body></html>"
    )
    assert inspect(html, url="https://blog.example.cn/posts/terraces")["license"] == \
        "CC-BY-SA-4.0"


def test_chinese_user_agreement_link_is_not_a_grant() -> None:
    html = page(footer='<p>© 2024 某某公司 版权所有 · <a href="/agreement">用户协议</a></p>')
    assert inspect(html, url=URL)["license"] == "LicenseRef-All-Rights-Reserved"


def _zh_post(statement: str) -> str:
    """A Chinese blog post whose article ends with ``statement``."""
    paras = "".join(f"<p>{p}</p>" for p in (
        "今天整理了一下服务器上的备份脚本，顺便把日志轮转的配置也改了。",
        "原来的脚本每天凌晨全量备份一次，磁盘很快就满了，所以改成了增量备份。",
        "下面记录一下具体的步骤，以后换机器的时候可以直接照着做。",
    ))
    return ('<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>备份脚本'
            "</title></head><body><main><article><h1>备份脚本</h1>"
            f"{paras}<p>{statement}</p></article></main>"
            "<footer>© 2024 小明的博客</footer></body></html>")


def test_chinese_blog_wide_statement_about_all_its_articles_is_a_grant() -> None:
    html = _zh_post('本博客所有文章除特别声明外，均采用 <a href="https://creativecommons.org/'
                    'licenses/by-sa/4.0/deed.zh">CC BY-SA 4.0</a> 协议，转载请注明出处！')
    assert inspect(html, url="https://xiaoming.example.cn/backup/")["license"] == \
        "CC-BY-SA-4.0"


def test_chinese_sentence_about_other_projects_licenses_is_not_a_grant() -> None:
    html = _zh_post("很多开源备份工具采用 MIT 协议或 GPL 协议发布，可以放心使用。")
    assert inspect(html, url="https://xiaoming.example.cn/backup/")["license"] == \
        "LicenseRef-All-Rights-Reserved"


def _etext(*, front: str, book: str = "") -> str:
    """An e-text project's book page: front matter, the book, the project's license."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>The Mill on the Weir, by Ann Example</title></head><body>"
        f"<pre>{front}</pre>"
        "<h1>THE MILL ON THE WEIR</h1>"
        f"{book}"
        "<p>The miller rose before the sun and walked the length of the race, as his father "
        "had done, to see that the boards held and the wheel turned freely.</p>"
        "<p>By noon the first carts had come down from the hill farms with their sacks, and "
        "the yard filled with talk of the weather and the price of flour.</p>"
        "<pre>*** END OF THE EBOOK ***\n\n"
        "Updated editions will replace the previous one.\n\n"
        "Creating the works from print editions not protected by U.S. copyright law means "
        "that no one owns a United States copyright in these works, so the Foundation (and "
        "you!) can copy and distribute it in the United States without permission and "
        "without paying copyright royalties.</pre></body></html>"
    )


FRONT = (
    "This ebook is for the use of anyone anywhere in the United States and most other "
    "parts of the world at no cost and with almost no restrictions whatsoever.\n\n"
    "Title: The Mill on the Weir\nAuthor: Ann Example\n"
)


def test_etext_projects_public_domain_notice_is_a_public_domain_claim() -> None:
    record = inspect(_etext(front=FRONT), url="https://etexts.example.org/ebooks/4711")
    assert record["license"] == "LicenseRef-PublicDomain"


def test_printed_books_old_copyright_line_does_not_block_it() -> None:
    # The print edition's own notice, long expired, is part of the transcribed book.
    html = _etext(front=FRONT, book="<h6>COPYRIGHT, 1911, BY ANN EXAMPLE<br>ALL RIGHTS "
                  "RESERVED</h6>")
    assert inspect(html, url="https://etexts.example.org/ebooks/4711")["license"] == (
        "LicenseRef-PublicDomain"
    )


def test_recent_copyright_contradicts_the_public_domain_status() -> None:
    # A recent book carried by permission: the project's notice is not about this book.
    front = FRONT + "Copyright (C) 2003 by Ann Example.\n"
    record = inspect(_etext(front=front), url="https://etexts.example.org/ebooks/4712")
    assert record["license"] != "LicenseRef-PublicDomain"
    assert any(ev["where"] == "body:contradicted" for ev in record["license_evidence"])


def test_a_dedication_stands_beside_a_recent_copyright_notice() -> None:
    html = page(footer="<p>© 2021 Jane Doe. This blog is dedicated to the public domain.</p>")
    assert inspect(html, url=URL)["license"] == "LicenseRef-PublicDomain"


def test_docs_site_license_and_copyright_line_licenses_the_pages() -> None:
    # "<License> Licensed | Copyright © ..." closes the pages of documentation sites.
    record = inspect(page(footer="<p>MIT Licensed | Copyright © 2019-present Ann Dev</p>"),
                     url=URL)
    assert record["license"] == "MIT"
    html = page(footer="<p>Copyright © 2021 The Foo Authors. Licensed under the "
                '<a href="https://www.apache.org/licenses/LICENSE-2.0">Apache License, '
                "Version 2.0</a>.</p>")
    assert inspect(html, url=URL)["license"] == "Apache-2.0"


def test_software_license_of_the_platform_on_the_copyright_line_stays_software() -> None:
    for footer in (
        "<p>© 2020 Jane Doe · Site generated by Pelican, released under the AGPL.</p>",
        "<p>© 2020 Jane Doe. Theme by Foo, released under the MIT License.</p>",
        "<p>Powered by WordPress, released under the GPL. © 2020 Jane Doe</p>",
    ):
        record = inspect(page(footer=footer), url=URL)
        assert record["license"] == "LicenseRef-All-Rights-Reserved", footer
    # no copyright notice on the line: a bare "Released under the MIT License" is the
    # software's (a theme's default footer)
    html = page(footer='<div class="message">Released under the MIT License.</div>')
    assert inspect(html, url=URL)["license"] == "NOASSERTION"


def test_docs_footer_laid_out_in_a_main_box_is_still_the_footer() -> None:
    # <footer><main class=...>: a layout box, not the page's article; the statement
    # names the documentation as its subject.
    html = page(footer='<main class="light-text"><div class="center">© 2019 The Foo '
                "Authors | Documentation Distributed under "
                '<a href="https://git.example.org/website/LICENSE">CC BY 4.0</a></div>'
                '<div class="center">Copyright © 2019 The Foo Foundation. All rights '
                "reserved.</div></main>")
    record = inspect(html, url=URL)
    assert record["license"] == "CC-BY-4.0"
    assert all(ev["where"].startswith("footer") for ev in record["license_evidence"])


def test_metadata_version_gives_way_to_the_articles_own_statement() -> None:
    head = '<meta name="dc.rights" content="http://creativecommons.org/licenses/by/3.0/">'
    html = article_page(
        article_end="<p>This article is an open access article distributed under the terms "
        "of the Creative Commons Attribution license "
        "(http://creativecommons.org/licenses/by/4.0/).</p>"
    ).replace("</head>", head + "</head>")
    record = inspect(html, url=URL)
    assert record["license"] == "CC-BY-4.0"
    assert record["license_conflict"] is True


def test_version_after_the_license_word_in_the_statements_sentence_is_used() -> None:
    html = page(footer="<p>Content is licensed under a Creative Commons Attribution "
                "License 3.0.</p>")
    assert inspect(html, url=URL)["license"] == "CC-BY-3.0"
    html = page(footer="<p>Text available under the Creative Commons Attribution-ShareAlike "
                "License, version 2.0.</p>")
    assert inspect(html, url=URL)["license"] == "CC-BY-SA-2.0"


def test_unversioned_link_text_takes_the_version_of_its_own_href() -> None:
    html = page(footer='<p>Content licensed under <a href="https://creativecommons.org/'
                'licenses/by-sa/4.0/legalcode">CC BY-SA</a>.</p>')
    assert inspect(html, url=URL)["license"] == "CC-BY-SA-4.0"


def test_this_page_under_a_software_license_licenses_the_page() -> None:
    html = article_page(article_end="<p>This page is licensed under the MIT License.</p>")
    assert inspect(html, url=URL)["license"] == "MIT"
    html = page(footer="<p>Proudly powered by WordPress. WordPress is released under the "
                "GPL.</p>")
    assert inspect(html, url=URL)["license"] == "NOASSERTION"


WIDGET_BADGE = (
    '<a rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/">'
    '<img src="https://i.creativecommons.org/l/by-nc/4.0/88x31.png" alt="CC"></a><br>'
    '<a href="https://creativecommons.org/licenses/by-nc/4.0/">CC BY-NC 4.0</a>'
)


def test_scope_sentence_of_a_widget_covers_every_link_and_badge_in_it() -> None:
    for statement in (
        "The photos on this site are under:",
        "Die Fotos dieser Seite stehen unter",
        "Les photos de ce site sont sous licence",
    ):
        html = page(footer="<p>Jane Doe</p>", sidebar='<div class="widget"><h3>License</h3>'
                    f"<p>{statement}</p>{WIDGET_BADGE}</div>")
        record = inspect(html, url=URL)
        assert record["license"] == "NOASSERTION", statement
        marks = [ev for ev in record["license_evidence"] if ev["kind"] != "text"]
        assert len(marks) == 3 and all(ev["where"].endswith("-only") for ev in marks)
    # the same widget without the restriction licenses the site
    html = page(footer="<p>Jane Doe</p>", sidebar='<div class="widget"><h3>License</h3>'
                f"<p>This blog is licensed under:</p>{WIDGET_BADGE}</div>")
    assert inspect(html, url=URL)["license"] == "CC-BY-NC-4.0"


def test_a_code_link_beside_a_license_link_restricts_nothing() -> None:
    html = page(footer='<p><a href="/code">code</a> · <a href="/photos">photos</a> · '
                '<a rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
                "License</a></p>")
    assert inspect(html, url=URL)["license"] == "CC-BY-4.0"


def test_a_page_that_compares_licenses_takes_the_sites_license() -> None:
    links = "".join(
        f'<p>The <a href="https://creativecommons.org/licenses/{t}/4.0/">CC {t.upper()}</a> '
        "license is one of the options a creator can choose.</p>"
        for t in ("by", "by-nc", "by-nd", "by-sa")
    )
    html = article_page(
        article_end=links,
        footer='<p>© 2020 Jane · <a rel="license" href="https://creativecommons.org/'
        'licenses/by-sa/4.0/">CC BY-SA 4.0</a></p>',
    )
    record = inspect(html, url=URL)
    assert (record["license"], record["license_conflict"]) == ("CC-BY-SA-4.0", False)
    # without a site license, the illustrations make no claim
    html = article_page(article_end=links, footer="<p>Example Books</p>")
    assert inspect(html, url=URL)["license"] == "NOASSERTION"


def test_community_content_unless_otherwise_noted_is_a_site_grant() -> None:
    html = page(footer='<p>Community content is available under <a href="/licensing">'
                "CC-BY-SA</a> unless otherwise noted.</p>")
    assert inspect(html, url=URL)["license"] == "LicenseRef-CC-BY-SA-unversioned"


def test_copyright_markers_in_other_forms_and_scripts() -> None:
    for footer, notice in (
        ("<p>(с) 2021 Иван Петров</p>", "(с) 2021 Иван Петров"),  # Cyrillic с
        ("<p>（Ｃ）2021 株式会社サンプル</p>", "（Ｃ）2021 株式会社サンプル"),  # full width
        ("<p>ⓒ 데일리안 무단전재 및 재배포금지</p>", None),
        ("<p>Copr. 2019 Jane Doe</p>", "Copr. 2019 Jane Doe"),
        ("<p>حقوق النشر محفوظة لموقع المثال 2024</p>", None),
        ("<p>本站文章未经许可，禁止转载</p>", None),
    ):
        record = inspect(page(footer=footer), url=URL)
        assert record["license"] == "LicenseRef-All-Rights-Reserved", footer
        if notice:
            assert record["copyright"] == notice
    # "(c)" that is not a notice: a list item
    html = page(footer="<p>(a) terms, (b) privacy, (c) cookies</p>")
    assert inspect(html, url=URL)["license"] == "NOASSERTION"


def test_a_footer_link_reading_creative_commons_is_a_site_grant() -> None:
    html = page(footer='<p>Jane Doe · <a href="https://creativecommons.org/licenses/by/2.0/">'
                "Creative Commons</a></p>")
    record = inspect(html, url=URL)
    assert record["license"] == "CC-BY-2.0"
    # a site notice behind a copyright icon that links to the deed, in the footer menu
    html = page(footer='<ul class="nav"><li><a class="nav-link" href="https://creative'
                'commons.org/licenses/by/2.0/"><i class="fa-regular fa-copyright" '
                'aria-label="copyright"></i> 2023 HCC | J. Roa</a></li></ul>')
    assert inspect(html, url=URL)["license"] == "CC-BY-2.0"
    # a plain link to a deed, no name, no notice: a mention
    html = page(footer='<p><a href="https://creativecommons.org/licenses/by/2.0/">More</a></p>')
    assert inspect(html, url=URL)["license"] == "NOASSERTION"


def _repository_page(sidebar: str) -> str:
    """A code-hosting repository page: the README as the article, an About sidebar."""
    return page(footer="<p>© 2024 Example Hosting, Inc.</p>", sidebar=sidebar).replace(
        "<title>Shell jumpers - notes</title>", "<title>jane/jumper: a shell jumper</title>"
    )


def test_repository_pages_sidebar_license_licenses_its_readme() -> None:
    github = ('<div class="BorderGrid-cell"><h2>About</h2><p>A tiny shell jumper.</p>'
              '<h3>License</h3><a href="/jane/jumper#MIT-1-ov-file"><svg></svg> MIT license'
              "</a></div>")
    record = inspect(_repository_page(github), url="https://code.example.com/jane/jumper")
    assert record["license"] == "MIT"
    gitlab = ('<div><h3>License</h3><a href="/jane/jumper/-/blob/main/LICENSE">Apache License '
              "2.0</a></div>")
    record = inspect(_repository_page(gitlab), url="https://code.example.com/jane/jumper")
    assert record["license"] == "Apache-2.0"
    # another repository's license file (a blog's theme, a linked library) is not the page's
    record = inspect(_repository_page(gitlab), url="https://code.example.com/ann/notes")
    assert record["license"] == "LicenseRef-All-Rights-Reserved"
    blog = page(footer='<p>Source: <a href="https://code.example.com/jane/blog/blob/main/'
                'LICENSE">MIT license</a></p>')
    assert inspect(blog, url=URL)["license"] == "NOASSERTION"


def test_a_grant_label_under_the_articles_title_is_its_own_statement() -> None:
    label = ('<dl><dt>Open access</dt><dd class="license">Under a Creative Commons '
             '<a href="http://creativecommons.org/licenses/by-nc-nd/3.0/">license</a></dd>'
             "</dl>")
    record = inspect(article_page(article_end=label), url=URL)
    assert record["license"] == "CC-BY-NC-ND-3.0"
    # a sentence of the article that starts with "Under" and goes on talks about licenses
    prose = ('<p>Under <a href="https://creativecommons.org/licenses/by-nc/4.0/">CC BY-NC'
             "</a>, commercial reuse needs the author's permission, which is why we "
             "recommend other terms for teaching material.</p>")
    assert inspect(article_page(article_end=prose), url=URL)["license"] == "NOASSERTION"


def test_copyright_in_the_main_entitys_structured_data_is_a_notice() -> None:
    ld = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": '
          '"NewsArticle", "headline": "Shell jumpers", "copyrightYear": "2023", '
          '"copyrightHolder": {"@id": "https://news.example.com/#organization"}}</script>')
    record = inspect(page(footer="<p>Example News</p>", head=ld), url=URL)
    assert record["license"] == "LicenseRef-All-Rights-Reserved"
    assert any(ev["kind"] == "copyright-notice" and ev["where"] == "jsonld"
               for ev in record["license_evidence"])
    # beside a license of the same entity, the notice does not cancel it
    licensed = ld.replace('"copyrightYear"', '"license": "https://creativecommons.org/'
                          'licenses/by/4.0/", "copyrightYear"')
    record = inspect(page(footer="<p>Example News</p>", head=licensed), url=URL)
    assert record["license"] == "CC-BY-4.0"


def test_a_reservation_whose_paragraph_names_an_image_is_that_images_credit() -> None:
    credit = ("<p>© 2024 Example Guides, Inc. All rights reserved. Example Guides, Inc. is "
              "the copyright holder of this image under U.S. and international copyright "
              "laws.</p>")
    record = inspect(article_page(article_end=credit), url=URL)
    assert record["license"] == "NOASSERTION"
    assert all(ev["where"] == "main:image-only" for ev in record["license_evidence"])
    # a notice whose paragraph is about the text keeps reserving
    plain = "<p>© 2024 Example Guides, Inc. All rights reserved. Do not copy this article.</p>"
    record = inspect(article_page(article_end=plain), url=URL)
    assert record["license"] == "LicenseRef-All-Rights-Reserved"


def test_publisher_specific_license_urls_map_to_declared_ids() -> None:
    html = page(footer='<p>© 2023 the Contributors to the Example Specification, published '
                "by the Example Community Group under the "
                '<a href="https://www.w3.org/community/about/agreements/cla/">W3C Community '
                "Contributor License Agreement (CLA)</a>.</p>")
    assert inspect(html, url=URL)["license"] == "LicenseRef-W3C-Community-CLA"
    html = page(footer="<p>Jane Doe</p>", sidebar='<p>This article, along with any associated '
                'source code and files, is licensed under <a href="http://www.codeproject.com/'
                'info/cpol10.aspx" rel="license">The Code Project Open License (CPOL)</a></p>')
    assert inspect(html, url=URL)["license"] == "LicenseRef-CPOL-unversioned"


def _abstract_page(href: str) -> str:
    return article_page(article_end=f'<div class="abs-license"><a href="{href}" title="Rights '
                        'to this article">view license</a></div>')


def test_a_view_license_link_of_an_abstract_page_is_the_articles_license() -> None:
    record = inspect(_abstract_page("http://creativecommons.org/licenses/by/4.0/"), url=URL)
    assert record["license"] == "CC-BY-4.0"
    record = inspect(_abstract_page("http://arxiv.org/licenses/nonexclusive-distrib/1.0/"),
                     url=URL)
    assert (record["license"], record["license_category"]) == (
        "LicenseRef-arXiv-nonexclusive-distrib-1.0", "reserved")
    # the same words inside a sentence of the article point at a license, nothing more
    prose = ('<p>Before reusing a figure, <a href="http://creativecommons.org/licenses/by/'
             '4.0/">view license</a> terms and check what attribution they ask for.</p>')
    assert inspect(article_page(article_end=prose), url=URL)["license"] == "NOASSERTION"


def test_a_notice_after_a_whole_section_with_pictures_is_no_photo_credit() -> None:
    cards = "".join(
        f'<div class="card"><img src="/uploads/story-{i}.jpg" alt="Story {i}"><h3>Story {i}'
        "</h3><p>A longer teaser for another story on the site, with a few lines of text "
        "that a reader skims before clicking through.</p></div>"
        for i in range(4)
    )
    html = article_page(article_end="").replace(
        "</main>", f'<div class="wrapper">{cards}</div><div class="printer-only">Copyright '
        "© 2024 by Example Publishing Ltd and individual contributors</div></main>")
    record = inspect(html, url=URL)
    assert record["license"] == "LicenseRef-All-Rights-Reserved"
    # right after a lone image box, the same kind of line credits the image
    photo = article_page(article_end='<div class="pic"><img src="/uploads/harbour.jpg" '
                         'alt="Harbour"></div><p>© 2024 Jane Doe</p>')
    assert inspect(photo, url=URL)["license"] == "NOASSERTION"


def test_a_figures_credit_in_microdata_is_no_copyright_notice_of_the_page() -> None:
    html = page(footer="<p>Example Magazine</p>").replace(
        "<article>", '<article itemscope itemtype="https://schema.org/Article">'
    ).replace("</article>", '<figure><img src="/a.jpg" alt=""><figcaption><span '
              'itemprop="copyrightHolder">Credit Illustration by Ann Artist</span>'
              "</figcaption></figure></article>")
    record = inspect(html, url=URL)
    assert record["license"] == "NOASSERTION"
    ld = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": '
          '"Article", "copyrightHolder": "Photo: Ann Artist"}</script>')
    assert inspect(page(footer="<p>Example</p>", head=ld), url=URL)["license"] == "NOASSERTION"
