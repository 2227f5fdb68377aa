"""The local test site: every case the crawl must handle, served on 127.0.0.1.

``make_site()`` returns a :class:`crawler.demo.localsite.LocalSite` (not started). Paths:

* pages with each license signal family (HTTP Link header, rel=license, RDFa, JSON-LD,
  meta, text statement, badge, all-rights-reserved) and opt-out signals (meta noai,
  X-Robots-Tag, tdm-reservation meta, a tdmrep.json-reserved folder);
* ``/robots.txt`` with AI-crawler rules, a ``Crawl-delay`` for licrawl, a disallowed folder
  and a ``Sitemap:`` line; ``/.well-known/tdmrep.json``;
* ``/sitemap_index.xml`` -> ``/sitemap-pages.xml`` (plain) + ``/sitemap-more.xml.gz``
  (gzip);
* redirects (``/old-url``, a loop ``/loop/N``, a cycle, an offsite one), 404, 500, a slow
  endpoint, a PDF, a page over the size limit, a page with a wrong charset;
* ``/many/N``: a chain of ``MANY`` pages linking only to the next one (for resume and
  page-limit tests);
* ``/retry-after/S``: 503 with ``Retry-After`` as an HTTP date S seconds ahead on the
  first request, a page afterwards.

``robots_failures`` makes the first N robots.txt requests (-1: all) answer
``robots_fail_status`` (the usual robots.txt body included).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import Counter
from email.utils import formatdate

from crawler.demo.localsite import LocalSite, Reply

MANY = 40
GEN = 3000
GEN_MISSING_EVERY = 50
HTML = [("Content-Type", "text/html; charset=utf-8")]


def page(title: str, body: str, *, head: str = "", author: str = "Jane Doe",
         nav: bool = True) -> bytes:
    """A small but complete article page (``nav``: with a link to the home page)."""
    header = '<header><a href="/">Field Notes</a></header>' if nav else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="author" content="{author}">{head}</head>
<body>{header}
<main><article><h1>{title}</h1>
<p class="byline">By {author}, 3 March 2024</p>
<p>{body}</p>
<p>Rivers carry sediment from the hills to the plains, and every flood leaves a thin layer
of silt behind. Over centuries these layers build the fertile soils that farmers depend on,
and geologists read them like the pages of a book to learn how the climate has changed.</p>
<p>In this note we look at three valleys, compare their terraces and explain why the
youngest one floods more often than the others, even though it drains the smallest area.</p>
</article></main>
<footer><p>Field Notes is a small blog about landscapes.</p></footer>
</body></html>""".encode()


ARTICLES: dict[str, tuple[list[tuple[str, str]], bytes]] = {
    "/articles/rel-license": (HTML, page(
        "Terraces of the upper valley",
        'This article is available under a <a rel="license" '
        'href="https://creativecommons.org/licenses/by/4.0/">Creative Commons Attribution '
        '4.0 International License</a>.')),
    "/articles/http-link": (
        [*HTML, ("Link", '<https://creativecommons.org/licenses/by-sa/4.0/>; rel="license"')],
        page("Sediment budgets", "How much silt does a river move in a year?")),
    "/articles/rdfa": (HTML, page(
        "Floodplain soils",
        '<span xmlns:cc="http://creativecommons.org/ns#" property="cc:attributionName">'
        'Jane Doe</span> licenses this under <a property="cc:license" '
        'href="http://creativecommons.org/licenses/by-nc/4.0/">CC BY-NC 4.0</a>.')),
    "/articles/jsonld": (HTML, page(
        "Reading river terraces", "Terraces record old floodplains.",
        head='<script type="application/ld+json">{"@context": "https://schema.org", '
             '"@type": "Article", "headline": "Reading river terraces", "author": '
             '{"@type": "Person", "name": "Jane Doe"}, "license": '
             '"https://creativecommons.org/publicdomain/zero/1.0/"}</script>')),
    "/articles/meta": (HTML, page(
        "Meanders", "Why rivers bend.",
        head='<meta name="license" content="https://creativecommons.org/licenses/by/2.0/">')),
    "/articles/text": (HTML, page(
        "Oxbow lakes",
        "This work is licensed under a Creative Commons Attribution-ShareAlike 4.0 "
        "International License.")),
    "/articles/badge": (HTML, page(
        "Alluvial fans",
        '<a href="https://creativecommons.org/licenses/by-nd/4.0/"><img alt="Creative '
        'Commons License" src="https://i.creativecommons.org/l/by-nd/4.0/88x31.png"></a>')),
    "/articles/reserved": (HTML, page(
        "Delta growth", "© 2024 Jane Doe. All rights reserved. No part may be reproduced.")),
    "/articles/noai": (HTML, page(
        "Braided channels", "Gravel bars shift every spring.",
        head='<meta name="robots" content="noai, noimageai">')),
    "/articles/x-robots": (
        [*HTML, ("X-Robots-Tag", "noai")],
        page("Levees", "Natural levees form along the banks.")),
    "/articles/tdm-meta": (HTML, page(
        "Ice-jam floods", "Winter floods behave differently.",
        head='<meta name="tdm-reservation" content="1">')),
    "/reserved/report": (HTML, page(
        "Annual survey", "Measurements of this year's floods.")),
    "/articles/no-license": (HTML, page(
        "Springs and seeps", "Where groundwater meets the surface.")),
    "/private/draft": (HTML, page("Unpublished draft", "Robots may not fetch this.")),
}

ROBOTS = """User-agent: GPTBot
Disallow: /

User-agent: CCBot
Disallow: /

User-agent: Google-Extended
Disallow: /

User-agent: licrawl
Crawl-delay: {delay}
Disallow: /private/

User-agent: *
Disallow: /private/

Sitemap: {base}/sitemap_index.xml
"""

TDMREP = [
    {"location": "/reserved/*", "tdm-reservation": 1,
     "tdm-policy": "https://fieldnotes.example/tdm-policy.json"},
    {"location": "/*", "tdm-reservation": 0},
]

#: Pages of the site spider's crawl that must give a row.
ROW_PATHS = sorted(p for p in ARTICLES if not p.startswith("/private/")) + [
    "/", "/latin1", "/deep/1", "/deep/2", "/deep/3"]


def _urlset(base: str, paths: list[str]) -> bytes:
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>').encode()


def index_page() -> bytes:
    """The home page: links to every case, plus links the crawler must not follow."""
    links = [*ARTICLES, "/old-url", "/loop/1", "/cycle-a", "/offsite-redirect",
             "/missing", "/broken", "/slow", "/files/annual-report", "/big", "/latin1",
             "/deep/1"]
    items = "".join(f'<li><a href="{p}">{p}</a></li>' for p in links)
    extra = ('<li><a href="mailto:editor@fieldnotes.example">mail</a></li>'
             '<li><a href="ftp://127.0.0.1/file.txt">ftp</a></li>'
             '<li><a href="https://elsewhere.example/">elsewhere</a></li>'
             '<li><a rel="nofollow" href="/nofollow-target">nofollow</a></li>')
    return page("Field Notes", f"Welcome. Our articles:</p><ul>{items}{extra}</ul><p>")


def gen_page(n: int) -> bytes:
    """Generated page ``n`` of ``/gen/``: a short text and its links."""
    targets = [f"/gen/{m}" for m in (2 * n, 2 * n + 1, n + 1) if m <= GEN]
    if n % GEN_MISSING_EVERY == 0:
        targets.append(f"/gen-missing/{n}")
    links = " ".join(f'<a href="{t}">{t}</a>' for t in targets)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Reading {n}"
            f"</title></head><body><main><article><h1>Gauge reading {n}</h1><p>Station {n} "
            f"measured the river level at dawn; the water rose {n % 17} centimetres after "
            f"the night's rain and the banks held.</p><p>{links}</p></article></main>"
            f"</body></html>").encode()


def make_site(*, crawl_delay: float = 0.0, slow_seconds: float = 3.0,
              big_bytes: int = 300_000, many_delay: float = 0.0,
              robots_failures: int = 0, robots_fail_status: int = 503) -> LocalSite:
    """The test site (not started); ``crawl_delay`` is robots.txt's value for licrawl."""
    holder: dict[str, str] = {}
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def count(path: str) -> int:
        """How many times ``path`` was asked for, this request included."""
        with lock:
            seen[path] += 1
            return seen[path]

    def handle(path: str) -> Reply | None:
        base = holder["base"]
        bare = path.split("?", 1)[0]
        if path == "/":
            return Reply(200, HTML, index_page())
        if path in ARTICLES:
            headers, body = ARTICLES[path]
            return Reply(200, headers, body)
        if path == "/robots.txt":
            text = ROBOTS.format(delay=crawl_delay, base=base)
            n = count(path)
            failing = robots_failures < 0 or n <= robots_failures
            return Reply(robots_fail_status if failing else 200,
                         [("Content-Type", "text/plain")], text.encode())
        if path == "/.well-known/tdmrep.json":
            return Reply(200, [("Content-Type", "application/json")],
                         json.dumps(TDMREP).encode())
        if path == "/sitemap_index.xml":
            body = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns='
                    '"http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{base}/sitemap-pages.xml</loc></sitemap>"
                    f"<sitemap><loc>{base}/sitemap-more.xml.gz</loc></sitemap>"
                    "</sitemapindex>").encode()
            return Reply(200, [("Content-Type", "application/xml")], body)
        if path == "/sitemap-pages.xml":
            paths = ["/articles/rel-license", "/articles/jsonld", "/articles/text",
                     "/private/draft", "/missing"]
            body = _urlset(base, paths).replace(
                b"</urlset>", b"<url><loc>https://elsewhere.example/x</loc></url></urlset>")
            return Reply(200, [("Content-Type", "application/xml")], body)
        if path == "/sitemap-more.xml.gz":
            body = gzip.compress(_urlset(base, ["/articles/meta", "/files/annual-report"]))
            return Reply(200, [("Content-Type", "application/gzip")], body)
        if path == "/old-url":
            return Reply(301, [("Location", "/articles/moved")])
        if path == "/articles/moved":
            return Reply(200, HTML, page("A moved article", "It used to live elsewhere."))
        if bare.startswith("/loop/"):
            n = int(bare.rsplit("/", 1)[1])
            return Reply(302, [("Location", f"/loop/{n + 1}")])
        if path == "/cycle-a":
            return Reply(302, [("Location", "/cycle-b")])
        if path == "/cycle-b":
            return Reply(302, [("Location", "/cycle-a")])
        if path == "/offsite-redirect":
            return Reply(302, [("Location", base.replace("127.0.0.1", "localhost") + "/")])
        if path == "/broken":
            return Reply(500, HTML, b"<h1>Internal Server Error</h1>")
        if path == "/slow":
            return Reply(200, HTML, page("Slow page", "Too slow."), delay=slow_seconds)
        if path == "/files/annual-report":
            return Reply(200, [("Content-Type", "application/pdf")],
                         b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        if path == "/big":
            filler = "<p>" + "Lorem ipsum dolor sit amet. " * 40 + "</p>\n"
            body = page("Huge page", filler * (big_bytes // len(filler) + 1))
            return Reply(200, HTML, body)
        if path == "/latin1":
            # Declared UTF-8, encoded as Latin-1: a wrong charset.
            body = page("Café culture in Zürich",
                        "Déjà vu: the café served crème brûlée.").decode()
            return Reply(200, HTML, body.encode("latin-1"))
        if bare.startswith("/deep/"):
            n = int(bare.rsplit("/", 1)[1])
            link = f'<a href="/deep/{n + 1}">deeper</a>' if n < 3 else ""
            return Reply(200, HTML, page(f"Deep page {n}", f"Level {n}. {link}"))
        if bare.startswith("/gen/") and bare[5:].isdigit() and 1 <= int(bare[5:]) <= GEN:
            return Reply(200, HTML, gen_page(int(bare[5:])))
        if bare.startswith("/many/"):
            n = int(bare.rsplit("/", 1)[1])
            link = f'<a href="/many/{n + 1}">next</a>' if n < MANY else ""
            return Reply(200, HTML, page(f"Gauge reading {n}", f"Station {n}. {link}",
                                         nav=False), delay=many_delay)
        if bare.startswith("/retry-after/"):
            if count(bare) == 1:
                ahead = float(bare.rsplit("/", 1)[1])
                return Reply(503, [*HTML, ("Retry-After", formatdate(time.time() + ahead,
                                                                      usegmt=True))])
            return Reply(200, HTML, page("Back again", "The server had a rest."))
        return None

    site = LocalSite(handle)
    holder["base"] = site.url
    return site
