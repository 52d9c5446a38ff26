"""tmkit/local_http.py against hostile raw HTTP on loopback: request smuggling basics (Transfer-Encoding, two
Content-Length headers, a length that is not ASCII digits), a client that stops sending (bounded by a timeout),
the Host guard (DNS rebinding), and over-long request lines and headers. The router is a recorder, no emulator."""

from __future__ import annotations

import socket
import threading

import pytest

from tmkit import local_http

LOG: list[str] = []  # what the server logged (its `say`)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(local_http, "READ_TIMEOUT", 1.0, raising=False)
    calls: list[tuple[str, str, bytes]] = []

    def route(method, target, body, headers):
        calls.append((method, target, body))
        return local_http.text_reply(200, f"routed {method} {target}")

    srv = local_http.make_server(route, LOG.append, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv.server_address[1], calls
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def exchange(port: int, raw: bytes, *, wait: float = 5.0) -> bytes:
    """Send ``raw``, then read until the server closes the connection (or ``wait`` seconds pass)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except TimeoutError:
            pass
        return data


def statuses(data: bytes) -> list[int]:
    return [int(line.split()[1]) for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.")]


def test_a_plain_request_is_routed(server):
    port, calls = server
    data = exchange(port, b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc")
    assert statuses(data) == [200]
    assert calls == [("POST", "/api/tasks", b"abc")]


def test_chunked_bodies_are_refused_and_never_read_as_a_second_request(server):
    port, calls = server
    smuggled = b"GET /api/admin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    body = f"{len(smuggled):x}\r\n".encode() + smuggled + b"\r\n0\r\n\r\n"
    data = exchange(port, b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    assert statuses(data) == [411]
    assert calls == []


def test_chunked_with_a_content_length_is_refused(server):
    port, calls = server
    data = exchange(
        port,
        b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /api/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    )
    assert statuses(data) == [411]
    assert calls == []


def test_two_different_content_lengths_are_refused(server):
    port, calls = server
    data = exchange(
        port,
        b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\n"
        b"abcGET /api/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    )
    assert statuses(data) == [400]
    assert calls == []


@pytest.mark.parametrize("length", ["\u00b2", "\u0663", "+3", "-1", "3 3", "0x3", "99999999999999999999"])
def test_a_content_length_that_is_not_ascii_digits_is_refused_with_an_answer(server, length):
    port, calls = server
    raw = f"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\nabc".encode()
    data = exchange(port, raw)
    assert statuses(data) and statuses(data)[0] in (400, 413)
    assert calls == []


def test_a_body_that_never_arrives_ends_after_the_timeout(server):
    port, calls = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nab")
        s.settimeout(10)
        assert s.recv(100) == b""  # the server closed the connection (it did not wait for ever)
    assert calls == []


def test_an_idle_connection_is_closed_after_the_timeout(server):
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        assert s.recv(100) == b""


@pytest.mark.parametrize(
    "host", ["evil.example", "127.0.0.1.evil.example", "localhost.", "", "evil.example:80@127.0.0.1", "[::2]"]
)
def test_host_names_other_than_loopback_are_forbidden(server, host):
    port, calls = server
    data = exchange(port, f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert statuses(data) == [403]
    assert calls == []


def test_over_long_request_lines_and_headers_are_refused(server):
    port, calls = server
    assert statuses(exchange(port, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) == [414]
    assert statuses(exchange(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n")) == [431]
    many = b"".join(b"X-%d: 1\r\n" % i for i in range(200))
    assert statuses(exchange(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n")) == [431]
    assert calls == []


@pytest.mark.parametrize("target", [b"/\x1b[2J\x1b]0;owned\x07", b"/api/tasks\x7f\x9b", b"/a\x00b"])
def test_control_characters_in_the_target_are_refused_and_never_reach_the_terminal(server, target):
    port, calls = server
    LOG.clear()
    data = exchange(port, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert statuses(data) == [400]
    assert calls == []
    assert LOG and not any(ch in line for line in LOG for ch in "\x1b\x07\x7f\x9b\x00"), LOG


def test_a_request_trickled_a_header_at_a_time_is_cut_off_as_a_whole(server):
    # slowloris: each header line arrives well within the read timeout, the request never completes
    import time

    port, calls = server
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = False
        for i in range(100):
            time.sleep(0.1)
            try:
                s.sendall(b"X-Slow-%d: 1\r\n" % i)
            except OSError:
                closed = True
                break
            if time.monotonic() - started > 6:
                break
        if not closed:
            s.settimeout(0.5)
            try:
                closed = s.recv(100) == b""
            except OSError:
                closed = True
    assert closed and time.monotonic() - started < 5
    assert calls == []
