"""A local site whose pages change between two crawl runs (recrawl tests).

:class:`ChangingSite` serves run 1's site; :meth:`ChangingSite.change` turns it into run 2's:
one page's license changes (same text), one page's text changes and links to a new page,
one page disappears, robots.txt starts to opt out of GPTBot, and the rest stays, with ETags
(304s), with Last-Modified only, or with neither (the same payload again).
"""

from __future__ import annotations

from crawler.demo.localsite import Reply

HTML = ("Content-Type", "text/html; charset=utf-8")
CC_BY = '<a rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>'
ARR = "<p>Copyright 2024 Field Notes. All rights reserved.</p>"
TEXT = ("Rivers carry sediment from the hills to the plains, and every flood leaves a thin "
        "layer of silt behind. Over centuries these layers build the fertile soils that "
        "farmers depend on, and geologists read them like the pages of a book. ")


def page(title: str, body: str, footer: str, links: str = "") -> bytes:
    """An article page: ``body`` is its main text, ``footer`` carries the license."""
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
            f"<meta name=author content='Ann Lee'></head><body><header><a href='/'>Home</a>"
            f"{links}</header><main><article><h1>{title}</h1><p>{body}</p><p>{TEXT * 3}</p>"
            f"</article></main><footer>{footer}</footer></body></html>").encode()


class ChangingSite:
    """The site of run 1; :meth:`change` turns it into the site of run 2."""

    def __init__(self) -> None:
        self.robots = "User-agent: *\nAllow: /\n"
        self.pages: dict[str, tuple[bytes, list[tuple[str, str]]]] = {}
        links = "".join(f"<a href='/{p}'>{p}</a>" for p in ("a", "b", "c", "d", "gone", "lm"))
        self.put("/", page("Home", "The home page of Field Notes.", CC_BY, links), etag="h1")
        self.put("/a", page("Page A", "Terraces of the upper valley.", CC_BY), etag="a1")
        self.put("/b", page("Page B", "Floods of the lower valley.", CC_BY), etag="b1")
        self.put("/c", page("Page C", "Soils of the plain, first survey.", CC_BY), etag="c1")
        self.put("/d", page("Page D", "Gravel bars and islands.", CC_BY))
        self.put("/lm", page("Page LM", "Old maps of the river.", CC_BY),
                 last_modified="Mon, 04 Mar 2024 10:00:00 GMT")
        self.put("/gone", page("Gone", "A page that will be removed.", CC_BY), etag="g1")

    def put(self, path: str, body: bytes, *, etag: str | None = None,
            last_modified: str | None = None) -> None:
        headers = [HTML]
        if etag:
            headers.append(("ETag", f'"{etag}"'))
        if last_modified:
            headers.append(("Last-Modified", last_modified))
        self.pages[path] = (body, headers)

    def change(self) -> None:
        """Run 2's site: /a all rights reserved (same text), /c new text linking to /e,
        /gone removed, robots.txt opts out of GPTBot; /, /b, /d, /lm unchanged."""
        self.robots = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
        self.put("/a", page("Page A", "Terraces of the upper valley.", ARR), etag="a2")
        self.put("/c", page("Page C", "Soils of the plain, second survey with new cores.",
                            CC_BY, "<a href='/e'>e</a>"), etag="c2")
        self.put("/e", page("Page E", "A new page about deltas.", CC_BY), etag="e1")
        del self.pages["/gone"]

    def handle(self, path: str) -> Reply | None:
        if path == "/robots.txt":
            return Reply(200, [("Content-Type", "text/plain")], self.robots.encode())
        if path in self.pages:
            body, headers = self.pages[path]
            return Reply(200, headers, body)
        return None
