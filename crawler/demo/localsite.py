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


#: A handler maps the request path (with query) to a :class:`Reply`; ``None`` means 404.
Handler = Callable[[str], Reply | None]

NOT_FOUND = Reply(404, [("Content-Type", "text/html; charset=utf-8")],
                  b"<!doctype html><title>Not found</title><h1>Not found</h1>")


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
                with site._lock:
                    site.log.append(LoggedRequest(time.monotonic(), self.path,
                                                  self.headers.get("User-Agent", "")))
                reply = site.handler(self.path) or NOT_FOUND
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    names = {name.lower() for name, _ in reply.headers}
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    if "content-length" not in names:
                        self.send_header("Content-Length", str(len(reply.body)))
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
