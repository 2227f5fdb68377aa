"""Two local sites that carry the same articles under different licenses (for dedup tests).

``make_mirror_sites()`` returns two :class:`crawler.demo.localsite.LocalSite` servers (not
started): the *origin* (reach it as ``http://127.0.0.1:PORT``) and the *mirror* (reach it
as ``http://localhost:PORT``, so its rows have another ``host``). Each has a home page
linking to its articles and a robots.txt: the origin's allows everything, the mirror's
disallows GPTBot, so every mirror row carries the ``robots:GPTBot`` opt-out.

The articles (``ARTICLES``: key -> title, paragraphs) are placed by ``ORIGIN_PAGES`` and
``MIRROR_PAGES`` (path -> :class:`Copy`): what the copy says about its license (a
page-level ``<link rel="license">``, an "All rights reserved" footer, nothing), its
opt-out meta tags, its canonical URL, and the few words or boilerplate it changes.
``UNRELATED`` are pages with a text of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.demo.localsite import LocalSite, Reply

HTML = [("Content-Type", "text/html; charset=utf-8")]
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
CC_BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"
RESERVED_FOOTER = "© 2024 Copycat Media Ltd. All rights reserved. No part may be reproduced."

ARTICLES: dict[str, tuple[str, list[str]]] = {
    "terraces": ("Terraces of the upper valley", [
        "Rivers carry sediment from the hills to the plains, and every flood leaves a thin "
        "layer of silt behind. Over centuries these layers build the fertile soils that "
        "farmers depend on, and geologists read them like the pages of a book to learn how "
        "the climate has changed since the last glaciers melted away.",
        "In the upper valley the river has cut down through its own deposits three times. "
        "Each incision left a flat step on the valley side, a terrace, and the oldest of "
        "them now stands forty metres above the water. Walkers cross it without noticing "
        "that the meadow under their boots was once the floor of a braided channel.",
        "Dating the terraces is slow work. Charcoal from old hearths gives radiocarbon "
        "ages for the youngest step, while the older ones need luminescence dating of "
        "quartz grains that last saw daylight when the flood buried them. The results "
        "agree surprisingly well with the pollen record from the lake downstream.",
        "The pattern that emerges is simple: the river cuts down when the climate turns "
        "wet and the forest closes in, and it builds up gravel when cold, bare slopes shed "
        "more stone than the water can carry. Three terraces mean three such swings.",
    ]),
    "delta": ("How a delta grows", [
        "A delta grows where a river slows down as it meets still water and drops the sand "
        "and mud it has carried for hundreds of kilometres. The coarse sand settles first, "
        "close to the mouth, while the finest clay drifts far out before it sinks.",
        "Distributary channels split again and again, each one building a lobe of new land "
        "until it becomes too long and too flat to carry the flow. Then a flood breaks "
        "through a levee upstream, the river takes a shorter path to the sea, and the old "
        "lobe starts to sink and erode while a new one grows beside it.",
        "Engineers who fix a delta's channels in place stop this switching. The land no "
        "longer receives fresh sediment, it compacts under its own weight, and the sea "
        "slowly gains on the fields and villages that the channels were meant to protect.",
    ]),
    "oxbow": ("Oxbow lakes and cut-offs", [
        "A meander does not stay where it is. Water flows faster on the outside of each "
        "bend, scouring the bank, and slower on the inside, where a point bar of sand "
        "builds up. Year after year the loop swings wider and its neck grows narrower.",
        "Sooner or later a flood cuts across the neck. The river straightens itself in a "
        "single night, and the abandoned loop is left behind as a curved lake with no "
        "current at all. Reeds move in from the edges, silt settles on the bottom, and "
        "within a few centuries the lake becomes a marsh and then a crescent of wet "
        "meadow that only shows its shape from the air.",
        "Old maps are full of such lakes that are gone today, and their outlines help "
        "historians decide where a river ran when a boundary charter was written.",
    ]),
    "springs": ("Springs and seeps", [
        "Groundwater moves slowly through sand and fractured rock, sometimes for decades, "
        "before it reaches the surface again. Where a layer of clay stops it from sinking "
        "further, the water runs sideways and emerges along the hillside as a line of "
        "springs that never freeze, even in the coldest January nights.",
        "Seeps are quieter than springs: a patch of bright green moss, a strip of rushes "
        "across a dry pasture, a road cutting that stays damp all summer long. Each of "
        "them tells where the buried clay layer meets the open air.",
    ]),
    "meanders": ("Why rivers bend", [
        "Even a perfectly straight channel dug by engineers will not stay straight for "
        "long. A small bar of gravel on one side pushes the current towards the other "
        "bank, the bank erodes, and the deflected flow bounces back across the channel "
        "further downstream, starting the next bend.",
        "Laboratory flumes show the same behaviour with sand and a garden hose, and the "
        "wavelength of the bends turns out to be roughly ten times the channel's width, "
        "whether the river is a creek in a meadow or a giant crossing a continent.",
    ]),
}

UNRELATED: dict[str, tuple[str, list[str]]] = {
    "about": ("About this blog", [
        "Field Notes is written by one geographer who spends her weekends walking along "
        "rivers with a notebook, a hand lens and far too many sandwiches. Questions and "
        "corrections are welcome by post at the address printed on the back page.",
    ]),
    "colophon": ("Colophon of the mirror", [
        "This archive is assembled automatically by a program that copies articles it "
        "finds interesting. Its operators make no claims about the texts and answer no "
        "mail. The layout uses a single typeface and no images to keep the pages light.",
    ]),
}


@dataclass(frozen=True)
class Copy:
    """One page carrying an article: its license statement and how it differs."""

    article: str
    license_url: str | None = None  # a page-level <link rel="license">
    reserved_footer: bool = False  # an "All rights reserved" notice in the footer
    canonical: str | None = None  # "self", or "origin:PATH" (a copy pointing at the origin)
    published: str | None = None
    meta: list[tuple[str, str]] = field(default_factory=list)  # (name, content) meta tags
    replace: list[tuple[str, str]] = field(default_factory=list)  # words changed in the text
    boilerplate: str | None = None  # a paragraph added after the text


ORIGIN_PAGES: dict[str, Copy] = {
    # article "terraces": the CC BY original, a reserved copy, a bare copy, a near copy,
    # an opted-out copy (plus one on the mirror)
    "/blog/terraces": Copy("terraces", license_url=CC_BY, canonical="self",
                           published="2024-03-01"),
    "/scraped/terraces": Copy("terraces", reserved_footer=True, published="2024-03-05"),
    "/aggregator/terraces": Copy("terraces"),
    "/digest/terraces": Copy(
        "terraces", replace=[("forty metres", "fifty metres"), ("slow work", "hard work")],
        boilerplate="Shared by the Weekly River Digest."),
    "/optout/terraces": Copy("terraces", meta=[("robots", "noai, noimageai"),
                                               ("tdm-reservation", "1")]),
    # article "delta": the CC BY-SA original; the mirror relicenses it as CC BY
    "/blog/delta": Copy("delta", license_url=CC_BY_SA, canonical="self",
                        published="2024-02-01"),
    # article "oxbow": the original reserves all rights; the mirror grants CC BY on the page
    "/blog/oxbow": Copy("oxbow", reserved_footer=True, canonical="self",
                        published="2023-11-20"),
    # article "springs": no license anywhere
    "/notes/springs": Copy("springs", canonical="self"),
    # article "meanders": CC BY and a copy with no notice (NOASSERTION: no conflict)
    "/blog/meanders": Copy("meanders", license_url=CC_BY, canonical="self"),
    "/aggregator/meanders": Copy("meanders"),
    "/about": Copy("about"),
}

MIRROR_PAGES: dict[str, Copy] = {
    "/mirror/terraces": Copy("terraces", canonical="origin:/blog/terraces"),
    "/mirror/delta": Copy("delta", license_url=CC_BY, canonical="origin:/blog/delta"),
    "/mirror/oxbow": Copy("oxbow", license_url=CC_BY, canonical="origin:/blog/oxbow"),
    "/mirror/springs": Copy("springs"),
    "/colophon": Copy("colophon"),
}

ORIGIN_ROBOTS = "User-agent: *\nAllow: /\n"
MIRROR_ROBOTS = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"


def article_page(copy: Copy, url: str, origin: str) -> bytes:
    """The HTML of one copy; ``url`` is its own URL, ``origin`` the origin's base URL."""
    title, paragraphs = {**ARTICLES, **UNRELATED}[copy.article]
    text = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    for old, new in copy.replace:
        assert old in text, old
        text = text.replace(old, new)
    if copy.boilerplate:
        text += f"\n<p>{copy.boilerplate}</p>"
    head = [f"<title>{title}</title>"]
    if copy.license_url:
        head.append(f'<link rel="license" href="{copy.license_url}">')
    if copy.canonical == "self":
        head.append(f'<link rel="canonical" href="{url}">')
    elif copy.canonical:
        head.append(f'<link rel="canonical" href="{origin}{copy.canonical[7:]}">')
    if copy.published:
        head.append(f'<meta property="article:published_time" content="{copy.published}">')
    head += [f'<meta name="{name}" content="{content}">' for name, content in copy.meta]
    footer = RESERVED_FOOTER if copy.reserved_footer else "Thanks for reading."
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">{"".join(head)}</head>
<body><header><a href="/">Home</a></header>
<main><article><h1>{title}</h1>
{text}
</article></main>
<footer><p>{footer}</p></footer>
</body></html>""".encode()


def _home(title: str, intro: str, paths: list[str]) -> bytes:
    links = "".join(f'<li><a href="{p}">{p}</a></li>' for p in paths)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}'
            f"</title></head><body><main><h1>{title}</h1><p>{intro}</p><ul>{links}</ul>"
            "</main></body></html>").encode()


def _site(pages: dict[str, Copy], robots: str, home: bytes, base_of: dict[str, str],
          own: str) -> LocalSite:
    def handle(path: str) -> Reply | None:
        if path == "/":
            return Reply(200, HTML, home)
        if path == "/robots.txt":
            return Reply(200, [("Content-Type", "text/plain")], robots.encode())
        if path in pages:
            return Reply(200, HTML, article_page(pages[path], base_of[own] + path,
                                                 base_of["origin"]))
        return None

    return LocalSite(handle)


def make_mirror_sites() -> tuple[LocalSite, LocalSite]:
    """The origin and the mirror (not started); see the module docstring."""
    base_of: dict[str, str] = {}
    origin = _site(ORIGIN_PAGES, ORIGIN_ROBOTS,
                   _home("Field Notes", "A blog about rivers and the land they shape.",
                         list(ORIGIN_PAGES)), base_of, "origin")
    mirror = _site(MIRROR_PAGES, MIRROR_ROBOTS,
                   _home("Mirror Archive", "Copies of articles from around the web, "
                         "collected by our robot.", list(MIRROR_PAGES)), base_of, "mirror")
    base_of["origin"] = origin.url
    base_of["mirror"] = mirror.url.replace("127.0.0.1", "localhost")
    return origin, mirror
