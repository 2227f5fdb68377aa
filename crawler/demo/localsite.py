"""A small HTTP server on 127.0.0.1 for offline demos, tests and benchmarks.

:class:`LocalSite` runs a threaded ``http.server`` in a background thread and answers every
GET with what a handler function returns for the path; it logs each request (time, path,
user agent) so callers can check what a crawler did. :func:`static_handler` serves a folder
of files (the bundled demo site).
"""

from __future__ import annotations

import mimetypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class Reply:
    """One HTTP answer: status, headers, body, and seconds to wait before sending it."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """A request the server received: ``time.monotonic()`` on arrival, path, user agent."""

    time: float
    path: str
    user_agent: str
    status: int = 200
    sent: int = 0
    """Bytes of the answer: status line, headers and body."""
    conditional: bool = False
    """Whether the request asked ``If-None-Match`` or ``If-Modified-Since``."""


#: A handler maps the request path (with query) to a :class:`Reply`; ``None`` means 404.
Handler = Callable[[str], Reply | None]

NOT_FOUND = Reply(404, [("Content-Type", "text/html; charset=utf-8")],
                  b"<!doctype html><title>Not found</title><h1>Not found</h1>")


def not_modified(reply: Reply, if_none_match: str | None, if_modified_since: str | None
                 ) -> Reply:
    """``reply``, or a 304 (its ``ETag``/``Last-Modified`` kept, no body) when it is a 200
    whose ``ETag`` is one ``If-None-Match`` names, or (without ``If-None-Match``) whose
    ``Last-Modified`` is ``If-Modified-Since``: what a web server does (RFC 9110 13.1)."""
    if reply.status != 200 or not (if_none_match or if_modified_since):
        return reply
    headers = {name.lower(): value for name, value in reply.headers}
    if if_none_match is not None:
        tags = {t.strip() for t in if_none_match.split(",")}
        fresh = headers.get("etag") is not None and (headers["etag"] in tags or "*" in tags)
    else:
        fresh = headers.get("last-modified") == if_modified_since
    if not fresh:
        return reply
    kept = [(n, v) for n, v in reply.headers if n.lower() in ("etag", "last-modified",
                                                               "cache-control", "date")]
    return Reply(304, kept, b"", reply.delay)


class _QuietServer(ThreadingHTTPServer):
    """Threaded server that does not print clients hanging up (timeouts, size limits)."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignore connection resets; a crawler cancelling a download is normal here."""
        return


class LocalSite:
    """Serve ``handler`` on ``host:port`` (port 0: any free port) until :meth:`stop`."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.handler = handler
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        site = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                arrived = time.monotonic()
                asked = (self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"))
                reply = not_modified(site.handler(self.path) or NOT_FOUND, *asked)
                if reply.delay:
                    time.sleep(reply.delay)
                head = [(name, value) for name, value in reply.headers]
                if not any(name.lower() == "content-length" for name, _ in head):
                    head.append(("Content-Length", str(len(reply.body))))
                sent = len(reply.body) + sum(len(n) + len(v) + 4 for n, v in head) + 40
                with site._lock:
                    site.log.append(LoggedRequest(arrived, self.path,
                                                  self.headers.get("User-Agent", ""),
                                                  reply.status, sent, any(asked)))
                try:
                    self.send_response(reply.status)
                    for name, value in head:
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (timeout, size limit)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._server = _QuietServer((host, port), _RequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="licrawl-localsite", daemon=True)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return f"http://{self._server.server_address[0]}:{self.port}"

    def requests_for(self, prefix: str) -> list[LoggedRequest]:
        """The logged requests whose path starts with ``prefix``."""
        with self._lock:
            return [r for r in self.log if r.path.startswith(prefix)]

    def start(self) -> LocalSite:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def static_handler(root: Path) -> Handler:
    """Serve the files under ``root``; a folder path serves its ``index.html``."""
    root = root.resolve()

    def handle(path: str) -> Reply | None:
        rel = unquote(urlsplit(path).path).lstrip("/")
        target = (root / rel).resolve()
        if not target.is_relative_to(root):
            return None
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return None
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/json", "application/xml"):
            ctype += "; charset=utf-8"
        return Reply(200, [("Content-Type", ctype)], target.read_bytes())

    return handle
