"""``licrawl serve-trace --index INDEX``: the trace web page and JSON API on a local port."""

from __future__ import annotations

import argparse
import errno
import socket
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_CHARS = 1_000_000  # crawler.trace.web.DEFAULT_MAX_CHARS (not imported: --help)

DESCRIPTION = f"""\
Serve a web page where a person pastes a model output and sees the passages that
reproduce documents of the index highlighted in the text (verbatim spans and
near-verbatim passages), beside the source documents with their authors, license (name,
link, category colour), the words matched, a plain-English verdict and the attribution
line to use. The same answers come as JSON:

  POST /api/trace   {{"text": "...", "min_words": 50}}  ->  the `licrawl trace --json` object
                    (400 {{"error": ...}} for a bad request or text, 413 for a text over
                    --max-chars characters)
  GET  /api/info    what the index holds (shards, documents, words)

The server listens on {DEFAULT_HOST} by default, so only this machine reaches it; give
--host 0.0.0.0 to serve others (there is no authentication). Stop it with Ctrl-C.
Needs the `serve` extra: pip install 'licrawl[serve]'.

exit status: 0 after Ctrl-C, 2 for a missing or invalid index, a port that is taken, a
bad option, or the serve extra not installed.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve-trace`` subcommand."""
    parser = subparsers.add_parser(
        "serve-trace", help="web page and JSON API: paste a model output, see whose text it "
        "reproduces and under what license",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, metavar="INDEX",
                        help="index folder built by `licrawl index`")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine "
                        "only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT}; 0: any free port, "
                        "printed at start)")
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, metavar="N",
                        help="longest text accepted, in characters (default "
                        f"{DEFAULT_MAX_CHARS:,}); longer ones get HTTP 413")
    parser.set_defaults(func=run)


def _error(message: str) -> int:
    """Print ``message`` as serve-trace's error; the exit status 2."""
    print(f"licrawl serve-trace: error: {message}", file=sys.stderr)
    return 2


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6); :class:`OSError` when the
    address cannot be used (port taken, host not local, ...)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        # as uvicorn does: a restart may reuse a port in TIME_WAIT (a port another server
        # listens on still fails to bind on Linux)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The http URL of a bound socket (the wildcard address shown as is)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; prints the URL on stdout."""
    try:
        import uvicorn

        from crawler.trace.web import create_app
    except ImportError as exc:
        return _error(f"serve-trace needs starlette and uvicorn ({exc.msg}): "
                      "pip install 'licrawl[serve]'")
    from crawler.trace import DEFAULT_MAX_CHARS as ENGINE_MAX_CHARS
    from crawler.trace.engine import IndexOpenError, TraceIndex

    if not 1 <= args.max_chars <= ENGINE_MAX_CHARS:
        return _error(f"--max-chars must be from 1 to {ENGINE_MAX_CHARS:,} (the longest text "
                      "the engine traces at once)")
    if not 0 <= args.port <= 65535:
        return _error("--port must be from 0 to 65535")
    try:
        index = TraceIndex.open(args.index)
    except IndexOpenError as exc:
        return _error(str(exc))
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _error(f"cannot listen on {args.host} port {args.port}: {reason}"
                      + ("; another server uses it, give another --port"
                         if exc.errno == errno.EADDRINUSE else ""))
    app = create_app(index, max_chars=args.max_chars)
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False,
                            server_header=False)
    server = uvicorn.Server(config)
    info = index.info
    counts = ", ".join(f"{info[k]:,} {k}" for k in ("documents", "words")
                       if isinstance(info.get(k), int))
    print(f"licrawl serve-trace: {url_of(sock)}  (index {args.index}"
          f"{': ' + counts if counts else ''}; Ctrl-C stops)", flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0
