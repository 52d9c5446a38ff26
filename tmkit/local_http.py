"""The local server's HTTP plumbing: replies, the loopback-only listener, one request -> one routed reply.

Used by tmkit/localserve.py. The server trusts tokens signed with the emulator's public test key, so it
listens on loopback only and answers only requests whose Host names loopback (no DNS rebinding).
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tmkit.errors import ToolkitError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
READ_TIMEOUT = 30.0  # seconds a connection may stay silent (idle keep-alive, a body that stops coming)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match) -> str:
    return f"\\x{ord(match[0]):02x}"


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def json_reply(status: int, body: dict, headers: dict | None = None) -> Reply:
    return Reply(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode())


def text_reply(status: int, text: str) -> Reply:
    return Reply(status, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}, text.encode())


def check_host(host: str) -> None:
    if host not in LOOPBACK_HOSTS:
        raise ToolkitError(
            f"--host {host!r} is refused: the local server trusts tokens signed with the emulator's "
            "public test key, so it listens on loopback only. Use --host 127.0.0.1 (the default)."
        )


def check_port(port) -> int:
    """``--port`` as typed (or as a caller passes it) -> a TCP port number, 1-65535."""
    text = str(port).strip()
    if isinstance(port, bool) or not text.removeprefix("-").isdigit():
        raise ToolkitError(f"--port {port!r} is not a number: use e.g. --port {DEFAULT_PORT}.")
    number = int(text)
    if not 0 < number < 65536:
        raise ToolkitError(f"--port {number} is not a TCP port: use 1-65535 (e.g. --port {DEFAULT_PORT}).")
    return number


Router = Callable[[str, str, bytes, object], Reply]  # (method, target, body, headers) -> Reply


def _handler_class(route: Router, say: Callable[[str], None]):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "tmkit-local-serve"

        def setup(self) -> None:
            self.timeout = READ_TIMEOUT  # read when the connection starts: tests shorten it
            super().setup()

        def handle_one_request(self) -> None:
            # The whole request (line, headers, body) must arrive within READ_TIMEOUT, not only each read:
            # a client trickling a header at a time is cut off (the socket shut down wakes the blocked read).
            self._cut = False
            self._watchdog = threading.Timer(READ_TIMEOUT, self._cut_off)
            self._watchdog.daemon = True
            self._watchdog.start()
            try:
                super().handle_one_request()
            finally:
                self._watchdog.cancel()

        def _cut_off(self) -> None:
            self._cut = True
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _handle(self) -> None:
            if self._cut:  # what was read is a truncated request: never route it
                self.close_connection = True
                return
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
            lengths = set(self.headers.get_all("Content-Length") or ["0"])
            length = lengths.pop().strip() if len(lengths) == 1 else ""
            if host not in LOOPBACK_HOSTS:  # DNS rebinding: a page elsewhere must not reach this server
                reply = text_reply(403, "Forbidden: this server answers only to localhost / 127.0.0.1.")
            elif _CONTROL.search(self.path):  # never valid in a URL, and would reach the terminal through the log
                reply = text_reply(400, "Bad Request: control characters in the URL.")
            elif self.headers.get("Transfer-Encoding") is not None:
                # Not read here: a chunked body left in the stream would be parsed as a second request.
                reply = text_reply(411, "Length Required: send the body with a Content-Length, not chunked.")
            elif not (length.isascii() and length.isdigit()):
                reply = text_reply(400, "Bad Request: one Content-Length of ASCII digits, please.")
            elif int(length) > MAX_BODY_BYTES:
                reply = text_reply(413, f"Request body larger than {MAX_BODY_BYTES} bytes.")
            else:
                body = self.rfile.read(int(length)) if int(length) else b""
                self._watchdog.cancel()  # the request is complete: the route's own work is not bounded here
                if self._cut or len(body) < int(length):
                    self.close_connection = True
                    return
                try:
                    reply = route(self.command, self.path, body, self.headers)
                except Exception:  # noqa: BLE001  (a bug here must not look like a network failure)
                    say(f"{self.command} {self.path} failed:\n{traceback.format_exc()}")
                    reply = text_reply(500, "Internal error in the local server; see its output.")
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply.body)) if reply.status != 304 else "0")
            if reply.status in (400, 411, 413):  # the body was not read: the stream is no longer in step
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD" and reply.status != 304:
                self.wfile.write(reply.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            say(f"{self.address_string()} {_CONTROL.sub(_escape, format % args)}")  # as http.server's own

    return Handler


def make_server(route: Router, say: Callable[[str], None], host: str, port: int) -> ThreadingHTTPServer:
    """A threading HTTP server on ``host:port`` (loopback only) answering with ``route``; not yet serving."""
    check_host(host)
    try:
        server = ThreadingHTTPServer((host, port), _handler_class(route, say))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ToolkitError(
                f"port {port} is already in use: stop what uses it, or choose another port with --port PORT."
            ) from None
        raise ToolkitError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another port with --port PORT."
        ) from None
    server.daemon_threads = True
    return server
