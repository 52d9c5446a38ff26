"""`inv verify`'s logic (tmkit/verify.py, tmkit/verify_checks.py): the references it reads from index.html,
each check's verdict against a fake deployment (the HTTP seam), good and broken in one way at a time, the
targets, and `fetch` against loopback."""

from __future__ import annotations

import json
import re
import string
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from tmkit import publish, site
from tmkit.config import load_env
from tmkit.errors import ToolkitError
from tmkit.verify import check_url, target_for, throwaway_password
from tmkit.verify_checks import (
    FAIL,
    FOREIGN_ORIGIN,
    PASS,
    SKIP,
    Response,
    Target,
    Unreachable,
    Verifier,
    asset_references,
    fetch,
)

VITE_INDEX = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
    <title>TimeManagement</title>
    <script type="module" crossorigin src="/assets/index-B2xK9qLm.js"></script>
    <link rel="modulepreload" crossorigin href="/assets/vendor-Dq81PzZa.js">
    <link REL="Stylesheet" crossorigin href="/assets/index-C7hYw0Tt.css">
    <link rel="preload" as="font" href="/assets/inter-Fz3kQ9aB.woff2" crossorigin>
    <script>window.inline = true</script>
    <script type="module" src="/assets/index-B2xK9qLm.js"></script>
  </head>
  <body><div id="root"></div></body>
</html>
"""
ASSETS = [
    "/favicon.svg",
    "/assets/index-B2xK9qLm.js",
    "/assets/vendor-Dq81PzZa.js",
    "/assets/index-C7hYw0Tt.css",
    "/assets/inter-Fz3kQ9aB.woff2",
]
REAL = Target(
    site="https://d1abcdef.cloudfront.net",
    api="https://a1b2c3.execute-api.us-east-1.amazonaws.com/api/",
    cognito="https://cognito-idp.us-east-1.amazonaws.com/",
    local=False,
)
LOCAL = Target(
    site="http://127.0.0.1:8080", api="http://127.0.0.1:8080/api/", cognito="http://127.0.0.1:8080/cognito", local=True
)


def test_references_are_what_the_page_loads_in_order_once():
    assert asset_references(VITE_INDEX) == ASSETS  # not the inline script, the duplicate once


def test_references_follow_the_base_href():
    page = '<base href="/app/"><script src="main-1a2b3c4d.js"></script><link rel=stylesheet href="/x.css">'
    assert asset_references(page) == ["/app/main-1a2b3c4d.js", "/x.css"]


def test_references_of_a_page_without_any():
    assert asset_references("<html><body><p>hi</p><script>1</script></body></html>") == []


class FakeDeployment:
    """A deployment as the browser sees it: CloudFront in front of the bucket, API Gateway, Cognito.

    Everything answers as a healthy stack would; tests break one thing at a time through the attributes.
    """

    def __init__(self, target: Target):
        self.t = target
        self.index = VITE_INDEX.encode()
        self.headers = {k.lower(): v for k, v in site.security_headers().items()}
        self.assets = {p: f"/* {p} */".encode() for p in ASSETS}
        self.asset_headers: dict[str, dict] = {}
        self.spa_rewrite = site.spa_rewrite
        self.redirect_to = "https"
        self.private_status = 401
        self.api_origin = target.origin  # API Gateway answers preflights with the one origin it allows
        self.tasks: dict[str, dict] = {}
        self.calls: list[tuple[str, str]] = []

    def __call__(self, method, url, *, headers=None, body=None) -> Response:
        self.calls.append((method, url))
        headers = headers or {}
        parts = urlsplit(url)
        if url.startswith(self.t.api):
            return self.api(method, url[len(self.t.api) :], headers, body)
        if url.startswith(self.t.cognito):
            return self.cognito(json.loads(body))
        if parts.scheme == "http" and not self.t.local:
            return Response(301, {"location": f"{self.redirect_to}://{parts.netloc}{parts.path}"}, b"")
        uri = self.spa_rewrite(parts.path)
        if uri == site.INDEX:
            return Response(
                200,
                {"content-type": "text/html; charset=utf-8", "cache-control": "no-cache", **self.headers},
                self.index,
            )
        if uri in self.assets:
            key = uri.lstrip("/")
            extra = {"content-type": publish.content_type(key), "cache-control": publish.cache_control(key)}
            return Response(200, {**extra, **self.asset_headers.get(uri, {}), **self.headers}, self.assets[uri])
        return Response(404, {"content-type": "text/html", **self.headers}, b"<h1>Not found</h1>")

    def api(self, method, path, headers, body) -> Response:
        if method == "OPTIONS":
            return Response(
                204,
                {
                    "access-control-allow-origin": self.api_origin,
                    "access-control-allow-headers": "Authorization,Content-Type",
                },
                b"",
            )
        if path == "health":
            return Response(200, {"content-type": "application/json"}, b'{"status": "ok"}')
        if headers.get("Authorization") != "id-token-of-the-user":
            return Response(self.private_status, {}, b'{"message": "Unauthorized"}')
        if method == "POST" and path == "tasks":
            self.tasks["T1"] = {"id": "T1", **json.loads(body)}
            return Response(201, {}, json.dumps(self.tasks["T1"]).encode())
        task_id = path.split("/", 1)[1]
        if method == "GET":
            found = self.tasks.get(task_id)
            return Response(200 if found else 404, {}, json.dumps(found or {}).encode())
        if method == "DELETE":
            return Response(204 if self.tasks.pop(task_id, None) else 404, {}, b"")
        return Response(405, {}, b"")

    def cognito(self, body) -> Response:
        if body["AuthParameters"] != {"USERNAME": "u@example.com", "PASSWORD": "pw"}:
            return Response(400, {}, b'{"__type": "NotAuthorizedException"}')
        return Response(200, {}, json.dumps({"AuthenticationResult": {"IdToken": "id-token-of-the-user"}}).encode())


def run(target: Target, deployment: FakeDeployment, *, user: bool = False) -> dict[str, tuple[str, str]]:
    v = Verifier(target, fetch=deployment)
    v.site_checks()
    v.api_checks()
    if user:
        v.user_checks("client-id", "u@example.com", "pw")
    return {r.name: (r.status, r.detail) for r in v.results}


def statuses(results) -> dict[str, str]:
    return {name: status for name, (status, _) in results.items()}


def test_a_healthy_real_deployment_passes_every_check():
    results = run(REAL, FakeDeployment(REAL), user=True)
    assert statuses(results) == {
        name: PASS
        for name in [
            "site",
            "https",
            "security-headers",
            "http-redirect",
            "deep-route",
            "missing-asset",
            *(f"asset {p}" for p in ASSETS),
            "api-health",
            "api-auth",
            "cors-site",
            "cors-foreign",
            "user-sign-in",
            "user-create-task",
            "user-read-task",
            "user-delete-task",
        ]
    }


def test_on_the_local_server_https_redirect_and_foreign_cors_are_skipped_with_a_reason():
    results = run(LOCAL, FakeDeployment(LOCAL))
    skipped = {name: detail for name, (status, detail) in results.items() if status == SKIP}
    assert sorted(skipped) == ["cors-foreign", "http-redirect", "https"]
    assert all("local server" in d for d in skipped.values())
    assert {s for s in statuses(results).values()} == {PASS, SKIP}


def test_a_missing_asset_fails_and_is_named():
    dep = FakeDeployment(REAL)
    del dep.assets["/assets/vendor-Dq81PzZa.js"]
    results = run(REAL, dep)
    assert [n for n, (s, _) in results.items() if s == FAIL] == ["asset /assets/vendor-Dq81PzZa.js"]
    assert results["asset /assets/vendor-Dq81PzZa.js"][1].startswith("404")


def test_an_asset_with_the_wrong_headers_fails_naming_what_was_expected():
    dep = FakeDeployment(REAL)
    dep.asset_headers["/assets/index-C7hYw0Tt.css"] = {"content-type": "text/plain", "cache-control": "max-age=60"}
    status, detail = run(REAL, dep)["asset /assets/index-C7hYw0Tt.css"]
    assert status == FAIL
    assert "expected Content-Type text/css; charset=utf-8" in detail
    assert f"expected Cache-Control {publish.cache_control('assets/index-C7hYw0Tt.css')}" in detail
    assert "immutable" in publish.cache_control("assets/index-C7hYw0Tt.css")


def test_an_index_that_references_nothing_fails():
    dep = FakeDeployment(REAL)
    dep.index = b"<html><body>maintenance</body></html>"
    assert run(REAL, dep)["assets"][0] == FAIL


def test_without_spa_routing_the_deep_route_fails():
    dep = FakeDeployment(REAL)
    dep.spa_rewrite = lambda uri: site.INDEX if uri == "/" else uri
    assert run(REAL, dep)["deep-route"][0] == FAIL


def test_a_missing_asset_answered_with_the_app_shell_fails():
    dep = FakeDeployment(REAL)
    dep.spa_rewrite = lambda uri: uri if uri in dep.assets else site.INDEX  # "rewrite everything" SPA config
    status, detail = run(REAL, dep)["missing-asset"]
    assert status == FAIL and "app shell" in detail


@pytest.mark.parametrize("header", ["Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options"])
def test_a_missing_security_header_fails_naming_it(header):
    dep = FakeDeployment(REAL)
    del dep.headers[header.lower()]
    status, detail = run(REAL, dep)["security-headers"]
    assert status == FAIL and header in detail


def test_a_weakened_security_header_fails():
    dep = FakeDeployment(REAL)
    dep.headers["x-frame-options"] = "SAMEORIGIN"
    status, detail = run(REAL, dep)["security-headers"]
    assert status == FAIL and "SAMEORIGIN" in detail


def test_an_http_redirect_that_stays_on_http_fails():
    dep = FakeDeployment(REAL)
    dep.redirect_to = "http"
    assert run(REAL, dep)["http-redirect"][0] == FAIL


def test_a_private_route_open_without_a_token_fails():
    dep = FakeDeployment(REAL)
    dep.private_status = 200
    assert run(REAL, dep)["api-auth"][0] == FAIL


def test_an_api_that_allows_every_origin_fails_the_foreign_preflight():
    dep = FakeDeployment(REAL)
    dep.api_origin = "*"
    results = run(REAL, dep)
    assert results["cors-site"][0] == PASS
    status, detail = results["cors-foreign"]
    assert status == FAIL and FOREIGN_ORIGIN in detail and "expected refused" in detail


def test_an_api_that_allows_another_origin_fails_the_site_preflight():
    dep = FakeDeployment(REAL)
    dep.api_origin = "https://old-site.example"
    assert run(REAL, dep)["cors-site"][0] == FAIL


def test_a_wrong_password_fails_the_sign_in_and_stops_the_round_trip():
    dep = FakeDeployment(REAL)
    v = Verifier(REAL, fetch=dep)
    v.user_checks("client-id", "u@example.com", "wrong")
    assert [(r.name, r.status) for r in v.results] == [("user-sign-in", FAIL)]
    assert "NotAuthorizedException" in v.results[0].detail and "wrong" not in v.results[0].detail


def test_a_site_that_does_not_answer_fails_every_check_that_needs_it():
    def down(method, url, **_):
        raise Unreachable(f"{method} {url}: ConnectionRefusedError")

    v = Verifier(REAL, fetch=down)
    v.site_checks()
    v.api_checks()
    results = {r.name: r for r in v.results}
    assert results["site"].status == FAIL and "no answer" in results["site"].detail
    assert results["https"].status == FAIL
    assert all(r.status == FAIL for r in v.results)
    assert {"api-health", "api-auth", "cors-site", "cors-foreign"} <= set(results)


# ---- where the checks point -----------------------------------------------------------------------------
@pytest.fixture
def envs(tmp_path, monkeypatch):
    from tests.helpers import env_toml

    (tmp_path / "dev.toml").write_text(env_toml())
    (tmp_path / "loc.toml").write_text(env_toml(4599))
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))


def test_target_of_a_real_environment_comes_from_the_outputs(envs):
    outputs = {
        "SiteUrl": "https://d1.cloudfront.net",
        "ApiUrl": "https://x.execute-api.eu-west-1.amazonaws.com/api/",
        "Region": "eu-west-1",
    }
    t = target_for(load_env("dev"), outputs)
    assert t == Target(
        "https://d1.cloudfront.net", outputs["ApiUrl"], "https://cognito-idp.eu-west-1.amazonaws.com/", False
    )
    assert target_for(load_env("dev"), outputs, "https://app.example.com/").site == "https://app.example.com"


@pytest.mark.parametrize("url", ["ftp://app.example.com", "app.example.com", "https://", "https://a.example/?x=1"])
def test_a_url_that_is_not_a_site_address_is_refused(url):
    with pytest.raises(ToolkitError, match="is not a site address: give it as https://HOST"):
        check_url(url)


def test_target_without_outputs_names_them_and_the_fix(envs):
    with pytest.raises(ToolkitError, match=r"lacks the outputs SiteUrl, ApiUrl.*inv deploy --env dev"):
        target_for(load_env("dev"), {"Region": "us-east-1"})


def test_target_of_an_emulator_environment_is_the_local_server(envs):
    t = target_for(load_env("loc"), {}, "http://127.0.0.1:9999/")
    assert (t.api, t.cognito, t.local) == ("http://127.0.0.1:9999/api/", "http://127.0.0.1:9999/cognito", True)


def test_throwaway_passwords_meet_the_pool_policy_and_differ():
    pw = {throwaway_password() for _ in range(20)}
    assert len(pw) == 20
    for p in pw:
        assert len(p) >= 12 and all(
            any(c in cls for c in p) for cls in (string.ascii_uppercase, string.ascii_lowercase, string.digits)
        )
        assert re.search(r"[^A-Za-z0-9]", p)


# ---- fetch, on loopback ------------------------------------------------------------------------------------
@pytest.fixture
def server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/slow":
                threading.Event().wait(3)
            self.send_response(302 if self.path == "/moved" else 200)
            self.send_header("Location", "https://elsewhere.example/")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_fetch_does_not_follow_redirects(server):
    resp = fetch("GET", server + "/moved")
    assert resp.status == 302 and resp.header("location") == "https://elsewhere.example/"


def test_fetch_times_out(server, monkeypatch):
    monkeypatch.setattr("tmkit.verify_checks.TIMEOUT", 0.5)
    with pytest.raises(Unreachable, match="timed out"):
        fetch("GET", server + "/slow")


def test_fetch_of_nothing_listening_is_unreachable():
    from tests.helpers import free_port

    with pytest.raises(Unreachable, match="ConnectionRefused"):
        fetch("GET", f"http://127.0.0.1:{free_port()}/")


# ---- hostile --url and index.html --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["https://app.example.com:99999", "https://app.example.com:port", "http://[::1", "file:///etc/passwd"]
)
def test_a_url_with_a_bad_port_or_scheme_is_refused_not_a_traceback(url):
    with pytest.raises(ToolkitError, match="is not a site address"):
        check_url(url)


def test_a_url_with_credentials_is_refused_without_echoing_them():
    with pytest.raises(ToolkitError, match="user name or password") as err:
        check_url("https://admin:hunter2@app.example.com")
    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize("url", ["https://app.example.com", "http://10.0.0.5:8080", "http://127.0.0.1.nip.io:8080"])
def test_an_emulator_environment_is_checked_on_loopback_only(envs, url):
    # the throwaway user's password goes to <url>/cognito: never to another host
    with pytest.raises(ToolkitError, match="loopback"):
        target_for(load_env("loc"), {}, url)


@pytest.mark.parametrize("url", ["http://localhost:8080", "http://127.0.0.1:9999/", "http://[::1]:8080"])
def test_an_emulator_environment_accepts_loopback_urls(envs, url):
    assert target_for(load_env("loc"), {}, url).local


def test_foreign_and_odd_references_are_never_fetched():
    index = (
        b'<html><script src="//evil.example/a.js"></script><script src="https://evil.example/b.js"></script>'
        b'<script src="data:text/javascript,alert(1)"></script><script src="javascript:alert(1)"></script>'
        b'<link rel="stylesheet" href="http://d1abcdef.cloudfront.net/assets/c.css">'
        b'<script src="../../../assets/d.js"></script></html>'
    )
    asked = []

    def fake(method, url, **kw):
        asked.append(url)
        if url.endswith("/d.js"):
            return Response(
                200,
                {
                    "content-type": publish.content_type("assets/d.js"),
                    "cache-control": publish.cache_control("assets/d.js"),
                },
                b"js",
            )
        return Response(200, {"content-type": "text/html"}, index)

    v = Verifier(REAL, fetch=fake)
    v._assets(Response(200, {"content-type": "text/html"}, index))
    assert asked == ["https://d1abcdef.cloudfront.net/assets/d.js"]  # `../` stays on the site, nothing else asked
    verdicts = {r.name: r.status for r in v.results}
    assert verdicts["asset /assets/d.js"] == PASS
    assert [s for n, s in verdicts.items() if n != "asset /assets/d.js"] == [FAIL] * 5


def test_an_index_with_thousands_of_references_is_read_up_to_a_bound():
    index = "".join(f'<script src="/assets/x{i}.js"></script>' for i in range(5000)).encode()
    asked = []

    def fake(method, url, **kw):
        asked.append(url)
        return Response(404, {}, b"")

    v = Verifier(REAL, fetch=fake)
    v._assets(Response(200, {"content-type": "text/html"}, index))
    assert 0 < len(asked) <= 200
    assert any("more references" in r.detail for r in v.results)


@pytest.mark.parametrize(
    ("head", "step"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n", lambda i: b"x"),  # a body, a byte at a time
        (b"HTTP/1.1 200 OK\r\n", lambda i: b"X-Slow-%d: 1\r\n" % i),  # headers: each read quick, never ending
    ],
    ids=["body", "headers"],
)
def test_fetch_of_a_trickling_server_stops_at_the_deadline(monkeypatch, head, step):
    import socket
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def trickle():
        conn, _ = listener.accept()
        with conn:
            conn.sendall(head)
            for i in range(60):
                time.sleep(0.1)
                try:
                    conn.sendall(step(i))
                except OSError:
                    return

    threading.Thread(target=trickle, daemon=True).start()
    monkeypatch.setattr("tmkit.verify_checks.TIMEOUT", 0.5)
    started = time.monotonic()
    with pytest.raises(Unreachable, match="did not finish"):
        fetch("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/")
    assert time.monotonic() - started < 4
    listener.close()


def test_fetch_reads_at_most_the_body_cap(monkeypatch, server):
    monkeypatch.setattr("tmkit.verify_checks.MAX_BODY_BYTES", 1)
    assert fetch("GET", server + "/").body == b"o"
