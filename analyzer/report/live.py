"""``watch --serve``: the watch page and its event stream on 127.0.0.1, nothing else.

* ``GET /`` (or ``/index.html``) reads the page from disk at each request (the watch rewrites
  it atomically, so a request sees the old page or the new one, never half of one).
* ``GET /events`` is a server-sent events stream (WHATWG HTML, "Server-sent events"): on
  connecting and after every bounce, ``event: bounce`` with the number of the latest entry;
  a comment every 15 s keeps proxies and the browser from timing out.
* Every other path is 404. A request whose ``Host`` header is not ``127.0.0.1:PORT`` or
  ``localhost:PORT`` is refused (403): another name resolving to this machine (DNS
  rebinding) gets nothing. Responses carry the page's Content Security Policy
  (``connect-src 'self'`` only), ``nosniff``, ``no-referrer`` and ``no-store``.

The server logs nothing (the command line prints the address); it runs in daemon threads and
:meth:`LiveServer.close` ends the streams and the socket.
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from analyzer.report.watch_page import WATCH_CSP

#: Seconds between keep-alive comments on the event stream.
KEEPALIVE_S = 15.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, page: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.page = page
        self.latest = 0
        self.closing = False
        self.changed = threading.Condition()

    @property
    def hosts(self) -> tuple[str, ...]:
        port = self.server_address[1]
        return (f"127.0.0.1:{port}", f"localhost:{port}")

    def handle_error(self, request: object, client_address: object) -> None:
        """A browser that closes or resets its connection is normal, not an error: socketserver
        would print a traceback to stderr; a watch's stderr holds only its own lines."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "mixanalyzer"

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the report layer prints nothing."""

    def _headers(self, status: int, ctype: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Security-Policy", WATCH_CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _plain(self, status: int, text: str) -> None:
        body = (text + "\n").encode()
        self._headers(status, "text/plain; charset=utf-8", len(body))
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if self.headers.get("Host", "").lower() not in self.server.hosts:
            self._plain(403, "refused: this server answers only to 127.0.0.1 or localhost")
            return
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._page()
        elif path == "/events" and self.command == "GET":
            self._events()
        else:
            self._plain(404, "not found")

    def _page(self) -> None:
        try:
            with open(self.server.page, "rb") as fh:
                body = fh.read()
        except OSError:
            self._plain(503, "the page is not written yet")
            return
        self._headers(200, "text/html; charset=utf-8", len(body))
        if self.command != "HEAD":
            self.wfile.write(body)

    def _events(self) -> None:
        self.close_connection = True
        self._headers(200, "text/event-stream; charset=utf-8", None)
        srv = self.server
        sent = None
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while not srv.closing:
                if srv.latest != sent:
                    sent = srv.latest
                    self.wfile.write(f"event: bounce\ndata: {sent}\n\n".encode())
                self.wfile.flush()
                with srv.changed:
                    moved = srv.changed.wait_for(
                        lambda last=sent: srv.closing or srv.latest != last, timeout=KEEPALIVE_S
                    )
                if not moved:
                    self.wfile.write(b": keep-alive\n\n")
        except (BrokenPipeError, ConnectionResetError):
            return


class LiveServer:
    """The page at ``page`` served on 127.0.0.1 at a free port (``url``)."""

    def __init__(self, page: str | os.PathLike[str]) -> None:
        self._server = _Server(os.fspath(page))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.2})  # fmt: skip
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def latest(self) -> int:
        """The bounce last announced."""
        return self._server.latest

    def announce(self, bounce: int) -> None:
        """Tell every open page that bounce ``bounce`` is the latest (they reload)."""
        with self._server.changed:
            self._server.latest = bounce
            self._server.changed.notify_all()

    def close(self) -> None:
        with self._server.changed:
            self._server.closing = True
            self._server.changed.notify_all()
        self._server.shutdown()
        self._server.server_close()
