"""A counting HTTP proxy for the AWS emulator that can also simulate a client's network link.

    proxy = CountingProxy(upstream_port=4599, latency_ms=20, upload_mbit=50).start()
    ... point AWS_ENDPOINT_URL at proxy.url ...
    proxy.counts      # Counter: "s3:PutObject" -> n, "cloudfront:CreateInvalidation" -> n, ...
    proxy.bytes_up    # request body bytes that crossed the link
    proxy.events      # (arrived, answered, operation, body bytes, path) per request, monotonic seconds
    proxy.reset()

The link: every request waits ``latency_ms`` (one round trip) before it is forwarded, and request
bodies pass through one shared ``upload_mbit`` pipe (all connections together, first come first
served, 16 KiB at a time). 0 turns either off. Downloads are not throttled. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CHUNK = 16 * 1024
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "content-length",
}


class Link:
    """One shared upload pipe: ``send(n)`` returns when n bytes would have crossed it."""

    def __init__(self, mbit: float):
        self.rate = mbit * 1e6 / 8 if mbit else 0.0
        self.lock = threading.Lock()
        self.free_at = 0.0

    def send(self, n: int) -> None:
        if not self.rate:
            return
        with self.lock:
            start = max(time.monotonic(), self.free_at)
            self.free_at = start + n / self.rate
            done = self.free_at
        delay = done - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def classify(method: str, path: str, headers) -> str:
    """The AWS operation a request is (S3 REST, CloudFront REST, JSON/query protocols)."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    parts = urlsplit(path)
    query = parse_qs(parts.query, keep_blank_values=True)
    if parts.path.startswith("/2020-05-31/"):
        if parts.path.endswith("/invalidation"):
            return "cloudfront:" + ("CreateInvalidation" if method == "POST" else "ListInvalidations")
        if "/invalidation/" in parts.path:
            return "cloudfront:GetInvalidation"
        return f"cloudfront:{method} {parts.path.split('/')[2]}"
    segments = [s for s in parts.path.split("/") if s]
    on_object = len(segments) >= 2
    if method == "POST" and not segments:
        return "query"  # form-encoded query protocol (CloudFormation, STS); refined by the caller
    if method == "GET":
        if not on_object:
            return (
                "s3:ListObjectsV2" if "list-type" in query else ("s3:ListBuckets" if not segments else "s3:ListObjects")
            )
        return "s3:GetObject"
    if method == "HEAD":
        return "s3:HeadObject" if on_object else "s3:HeadBucket"
    if method == "PUT":
        if "uploadId" in query:
            return "s3:UploadPart"
        if headers.get("x-amz-copy-source"):
            return "s3:CopyObject"
        return "s3:PutObject" if on_object else "s3:CreateBucket"
    if method == "POST":
        if "delete" in query:
            return "s3:DeleteObjects"
        if "uploads" in query:
            return "s3:CreateMultipartUpload"
        if "uploadId" in query:
            return "s3:CompleteMultipartUpload"
    if method == "DELETE":
        return "s3:DeleteObject" if on_object else "s3:DeleteBucket"
    return f"{method} {parts.path}"


class CountingProxy:
    def __init__(self, upstream_port: int, *, latency_ms: float = 0, upload_mbit: float = 0, port: int = 0):
        self.upstream_port = upstream_port
        self.latency = latency_ms / 1000
        self.link = Link(upload_mbit)
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.bytes_up = 0
        self.events: list[tuple[float, float, str, int, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms ACK waits

            def log_message(self, *args):  # quiet
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        data += self._read(size)
                        self.rfile.readline()
                    return bytes(data)
                return self._read(int(self.headers.get("Content-Length") or 0))

            def _read(self, n: int) -> bytes:
                out = bytearray()
                while len(out) < n:
                    piece = self.rfile.read(min(CHUNK, n - len(out)))
                    if not piece:
                        break
                    proxy.link.send(len(piece))
                    out += piece
                return bytes(out)

            def _forward(self):
                arrived = time.monotonic()
                if proxy.latency:
                    time.sleep(proxy.latency)
                body = self._body()
                op = classify(self.command, self.path, self.headers)
                if op == "query":
                    op = "query:" + (parse_qs(body.decode(errors="replace")).get("Action", ["?"])[0])
                with proxy.lock:
                    proxy.counts[op] += 1
                    proxy.bytes_up += len(body)
                conn = getattr(self.server.local, "conn", None)
                if conn is None:
                    conn = self.server.local.conn = http.client.HTTPConnection(
                        "127.0.0.1", proxy.upstream_port, timeout=120
                    )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    self.server.local.conn = None
                    raise
                self.send_response_only(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                with proxy.lock:
                    proxy.events.append((arrived, time.monotonic(), op, len(body), self.path))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            local = threading.local()

        self.server = Server(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.server.server_address[1]}"

    def start(self) -> CountingProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> tuple[Counter, int]:
        """Return (counts, bytes_up) since the last reset, and zero them (and ``events``)."""
        return self.reset_all()[:2]

    def reset_all(self) -> tuple[Counter, int, list[tuple[float, float, str, int, str]]]:
        """Return (counts, bytes_up, events) since the last reset, and zero them."""
        with self.lock:
            snapshot = (self.counts, self.bytes_up, self.events)
            self.counts, self.bytes_up, self.events = Counter(), 0, []
        return snapshot
