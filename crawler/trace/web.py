"""The web page and JSON API of ``licrawl serve-trace`` (a Starlette app).

Routes:

``GET /``
    the page (``crawler/trace/static/trace.html``: one self-contained file, inline CSS and
    JS, nothing fetched from another origin); the text is pasted there, sent to the API and
    shown with its matched spans highlighted beside the sources and their licenses.
``POST /api/trace``
    ``{"text": "...", "min_words": 50}`` (``min_words`` optional) answers
    :meth:`TraceResult.to_json` of :meth:`TraceIndex.trace`; ``400 {"error": ...}`` for a
    body that is not a JSON object, a missing or non-string ``text``, a bad ``min_words`` or
    a text the engine refuses (empty, binary, ...); ``413 {"error": ...}`` for a text of more
    than ``max_chars`` characters (or a body too large to hold one).
``GET /api/info``
    the index's :attr:`TraceIndex.info` (shards, documents, words).

Every answer carries a Content-Security-Policy that lets the page run only its own inline
script and style (by hash) and talk only to this server, so even a slip in the page's
escaping could not run a script from the corpus or the input. The page itself builds every
node from data with ``textContent`` / ``setAttribute`` and links only http(s) URLs.

A trace runs in Starlette's thread pool: the index is read-only memory maps and
:meth:`TraceIndex.trace` is thread-safe, so queries run side by side and the event loop
keeps answering.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from crawler.trace.engine import TraceInputError

if TYPE_CHECKING:
    from crawler.trace.engine import TraceIndex

#: Characters of text accepted by default (the page's limit; the engine has its own).
DEFAULT_MAX_CHARS = 1_000_000
#: Bytes of JSON overhead allowed on top of the text itself.
_BODY_SLACK = 64 * 1024
#: Bytes one character of the text may take in a JSON body (``\\uXXXX``).
_BYTES_PER_CHAR = 6
#: Largest ``min_words`` accepted (a span longer than this many words is no use to ask for).
MAX_MIN_WORDS = 100_000

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


class _BodyTooLarge(Exception):
    """The request body is over the byte limit."""


def page_html() -> str:
    """The page, as shipped in the package (``crawler/trace/static/trace.html``)."""
    return (resources.files("crawler.trace") / "static" / "trace.html").read_text("utf-8")


def content_security_policy(html: str) -> str:
    """A policy allowing exactly the inline ``<script>`` and ``<style>`` blocks of ``html``
    (by SHA-256), requests to this origin only, and nothing else."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for tag, body in _INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        hashes[tag].append(f"'sha256-{digest}'")
    return "; ".join([
        "default-src 'none'",
        "script-src " + (" ".join(hashes["script"]) or "'none'"),
        "style-src " + (" ".join(hashes["style"]) or "'none'"),
        "connect-src 'self'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])


def _error(status: int, message: str) -> JSONResponse:
    """``{"error": message}`` with ``status``."""
    return JSONResponse({"error": message}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (before reading it all) one of more than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_request(body: bytes) -> tuple[str, int | None]:
    """``(text, min_words)`` of a trace request body; :class:`ValueError` with a message
    for the user when it is not a valid one."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the request body is not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise ValueError('the request body must be a JSON object: {"text": "...", '
                         '"min_words": 50}')
    text = payload.get("text")
    if text is None:
        raise ValueError('the request has no "text"')
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    min_words = payload.get("min_words")
    if min_words is not None and (
            isinstance(min_words, bool) or not isinstance(min_words, int)
            or not 1 <= min_words <= MAX_MIN_WORDS):
        raise ValueError(f'"min_words" must be a whole number from 1 to {MAX_MIN_WORDS}')
    return text, min_words


def create_app(index: TraceIndex, *, max_chars: int = DEFAULT_MAX_CHARS) -> Starlette:
    """The serve-trace app over an open ``index``; texts of more than ``max_chars``
    characters are refused with 413."""
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    html = page_html()
    security_headers = {
        "Content-Security-Policy": content_security_policy(html),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    body_limit = max_chars * _BYTES_PER_CHAR + _BODY_SLACK

    def secured(response: Response) -> Response:
        response.headers.update(security_headers)
        return response

    async def page(request: Request) -> Response:
        """``GET /``: the page."""
        return secured(HTMLResponse(html))

    async def info(request: Request) -> Response:
        """``GET /api/info``: what the index holds."""
        # default=str: an info value that is not plain JSON (a path) is shown, not a 500
        body = json.dumps(index.info, ensure_ascii=False, default=str)
        return secured(Response(body, media_type="application/json"))

    async def trace(request: Request) -> Response:
        """``POST /api/trace``: trace a text."""
        try:
            body = await _read_body(request, body_limit)
        except _BodyTooLarge:
            return secured(_error(413, f"the request is too large: at most {max_chars:,} "
                                       "characters of text are accepted"))
        try:
            text, min_words = _parse_request(body)
        except ValueError as exc:
            return secured(_error(400, str(exc)))
        if len(text) > max_chars:
            return secured(_error(413, f"the text has {len(text):,} characters; at most "
                                       f"{max_chars:,} are accepted"))
        kwargs: dict[str, Any] = {} if min_words is None else {"min_words": min_words}
        try:
            result = await run_in_threadpool(index.trace, text, **kwargs)
        except TraceInputError as exc:
            return secured(_error(400, str(exc)))
        return secured(JSONResponse(result.to_json()))

    async def http_error(request: Request, exc: Exception) -> Response:
        """404, 405, ...: the reason as ``{"error": ...}``."""
        assert isinstance(exc, HTTPException)
        return secured(JSONResponse({"error": exc.detail}, status_code=exc.status_code,
                                    headers=exc.headers))

    async def server_error(request: Request, exc: Exception) -> Response:
        """An unexpected failure: a JSON error the page can show (the traceback goes to the
        server's log)."""
        return secured(_error(500, f"internal error: {type(exc).__name__}: {exc}"))

    return Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/api/info", info, methods=["GET"]),
            Route("/api/trace", trace, methods=["POST"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
