"""The checks of `inv verify` (tmkit/verify.py runs them): plain HTTP(S) requests, as a browser and the SPA make them.

Stdlib ``http.client``: a timeout on each step and a deadline on each request, at most ``MAX_BODY_BYTES`` read,
redirects never followed, certificates verified; references on another origin are never fetched.
Nothing is read from the bucket or the stack; ``Target`` says where the site, API and Cognito are:

    https            the site answers over HTTPS (real CloudFront only)
    http-redirect    http:// redirects to https:// (real CloudFront only)
    site             GET / is the app shell: 200, text/html
    security-headers the response headers policy's headers (tmkit/site.py) are on the response
    deep-route       a client route (/tasks/123) is the app shell with 200
    missing-asset    a missing /assets/*.js is a 404, not the app shell
    asset <path>     every script, stylesheet, modulepreload and preload the live index.html references:
                     200, the Content-Type and Cache-Control the publish rules give it (tmkit/publish.py)
    api-health       GET <api>/health is 200
    api-auth         GET <api>/tasks without a token is 401
    cors-site        a preflight from the site's origin is allowed
    cors-foreign     a preflight from another origin is not (real AWS only: the local server is same-origin)
    user-*           signed in (Cognito InitiateAuth, USER_PASSWORD_AUTH, as the SPA): create, read, delete a task
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from tmkit import publish, site
from tmkit.publish.html import loaded_urls

TIMEOUT = 10.0  # seconds, every step of a request (connect, each read)
DEADLINE_STEPS = 3  # a whole request (a slow trickle included) takes at most this many TIMEOUTs
MAX_BODY_BYTES = 8 * 1024 * 1024  # read no more of any answer
MAX_REFERENCES = 100  # asset references of index.html checked; a Vite build has a handful
DEEP_ROUTE = "/tasks/123"
FOREIGN_ORIGIN = "https://verify-foreign-origin.example"
PASS, FAIL, SKIP = "pass", "fail", "skip"
LOCAL_NOTE = "skipped: the local server is plain HTTP on loopback (real CloudFront only)"


# ---- HTTP ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class Unreachable(Exception):
    """No HTTP answer (connection refused, TLS failure, timeout)."""


Fetch = Callable[..., Response]


def fetch(method: str, url: str, *, headers: dict | None = None, body: bytes | None = None) -> Response:
    """One request, no redirect followed, certificates verified, at most ``TIMEOUT`` seconds per step."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unreachable(f"{url!r} is not an http(s) URL")
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    late = Unreachable(f"{method} {url}: the answer did not finish in {TIMEOUT * DEADLINE_STEPS:.0f} s")
    watchdog = threading.Timer(TIMEOUT * DEADLINE_STEPS, _cut, (conn,))  # a trickle of headers or body ends here
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = b""
        while len(data) < MAX_BODY_BYTES and (chunk := resp.read1(min(65536, MAX_BODY_BYTES - len(data)))):
            data += chunk
        if getattr(conn, "_tmkit_cut", False):
            raise late  # the connection was cut: what was read is not the whole answer
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    except (OSError, http.client.HTTPException) as exc:
        if getattr(conn, "_tmkit_cut", False):
            raise late from None
        raise Unreachable(f"{method} {url}: {type(exc).__name__}: {exc}") from None
    finally:
        watchdog.cancel()
        conn.close()


def _cut(conn: http.client.HTTPConnection) -> None:
    """End a request that outlived its deadline: shutting the socket down wakes the blocked read."""
    conn._tmkit_cut = True
    with contextlib.suppress(OSError, AttributeError):
        conn.sock.shutdown(socket.SHUT_RDWR)


# ---- what the live index.html references ----------------------------------------------------------------
def asset_references(html_text: str) -> list[str]:
    """What an HTML page loads (tmkit/publish/html.py: scripts, stylesheets, preloads, icons, the manifest,
    import-map targets), resolved against its ``<base href>``, in order, each once."""
    urls, base = loaded_urls(html_text)
    return list(dict.fromkeys(urljoin(base, u.strip()) if base else u.strip() for u in urls))


def _same_ct(a: str, b: str) -> bool:
    return a.replace(" ", "").lower() == b.replace(" ", "").lower()


# ---- results ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    name: str
    status: str  # pass | fail | skip
    detail: str

    def line(self) -> str:
        return f"{self.status.upper():4}  {self.name}: {self.detail}"


@dataclass(frozen=True)
class Target:
    site: str  # origin + optional path prefix, no trailing slash
    api: str  # base URL ending in "/"
    cognito: str  # where the SPA posts Cognito calls
    local: bool  # served by `inv local.serve` (plain HTTP, same-origin API)

    @property
    def origin(self) -> str:
        p = urlsplit(self.site)
        return f"{p.scheme}://{p.netloc}"


# ---- the checks ---------------------------------------------------------------------------------------
class Verifier:
    """Runs the checks against ``target``; ``fetch`` is the HTTP seam (tests pass a fake)."""

    def __init__(self, target: Target, *, fetch: Fetch = fetch, report: Callable[[Result], None] = lambda r: None):
        self.t = target
        self.fetch = fetch
        self.report = report
        self.results: list[Result] = []
        self.shell: Response | None = None

    def _add(self, name: str, ok: bool | None, detail: str) -> bool:
        result = Result(name, SKIP if ok is None else PASS if ok else FAIL, detail)
        self.results.append(result)
        self.report(result)
        return bool(ok)

    def _get(self, name: str, method: str, url: str, **kw) -> Response | None:
        try:
            return self.fetch(method, url, **kw)
        except Unreachable as exc:
            self._add(name, False, f"no answer: {exc}")
            return None

    def site_checks(self) -> None:
        t = self.t
        shell = self._get("site", "GET", t.site + "/")
        if t.local:
            self._add("https", None, LOCAL_NOTE)
        else:
            answer = shell.status if shell else "no answer"
            ok = t.site.startswith("https://") and shell is not None
            self._add("https", ok, f"GET {t.site}/ over TLS, certificate verified -> {answer}")
        if shell is None:
            return
        self.shell = shell
        ct = shell.header("Content-Type")
        self._add("site", shell.status == 200 and ct.startswith("text/html"), f"GET / -> {shell.status} {ct}")
        expected = site.security_headers()
        problems = [n for n in expected if not shell.header(n)]
        for fixed in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
            if shell.header(fixed) and shell.header(fixed).lower() != expected[fixed].lower():
                problems.append(f"{fixed}={shell.header(fixed)!r}")
        if "max-age=" not in shell.header("Strict-Transport-Security"):
            problems.append("Strict-Transport-Security without max-age")
        self._add(
            "security-headers",
            not problems,
            "missing or wrong: " + ", ".join(dict.fromkeys(problems)) if problems else f"{len(expected)} present",
        )
        if not t.local:
            self._redirect()
        else:
            self._add("http-redirect", None, LOCAL_NOTE)
        deep = self._get("deep-route", "GET", t.site + DEEP_ROUTE)
        if deep is not None:
            self._add(
                "deep-route",
                deep.status == 200 and deep.body == shell.body,
                f"GET {DEEP_ROUTE} -> {deep.status} {deep.header('Content-Type')}"
                + ("" if deep.body == shell.body else " (not the app shell)"),
            )
        missing = f"/assets/tmkit-verify-missing-{uuid.uuid4().hex[:12]}.js"
        gone = self._get("missing-asset", "GET", t.site + missing)
        if gone is not None:
            is_shell = gone.body == shell.body
            self._add(
                "missing-asset",
                gone.status == 404 and not is_shell,
                f"GET {missing} -> {gone.status} {gone.header('Content-Type')}"
                + (" (the app shell: a missing script would load as HTML)" if is_shell else ""),
            )
        self._assets(shell)

    def _redirect(self) -> None:
        host = urlsplit(self.t.site).netloc
        resp = self._get("http-redirect", "GET", f"http://{host}/")
        if resp is None:
            return
        location = resp.header("Location")
        ok = resp.status in (301, 302, 307, 308) and location.startswith(f"https://{host}/")
        self._add("http-redirect", ok, f"GET http://{host}/ -> {resp.status} {location or '(no Location)'}")

    def _assets(self, shell: Response) -> None:
        refs = asset_references(shell.body.decode("utf-8", "replace"))
        if not refs:
            self._add("assets", False, "the live index.html references no script, stylesheet or preload")
            return
        if len(refs) > MAX_REFERENCES:
            self._add(
                "assets", False, f"{len(refs) - MAX_REFERENCES} more references than {MAX_REFERENCES}: not checked"
            )
            refs = refs[:MAX_REFERENCES]
        for ref in refs:
            url = urljoin(self.t.site + "/", ref)
            path = urlsplit(url).path
            name = f"asset {path}"
            if urlsplit(url)[:2] != urlsplit(self.t.site)[:2]:  # scheme and host: never fetch another origin
                self._add(name, False, f"{url[:200]} is on another origin: the CSP (script-src 'self') blocks it")
                continue
            resp = self._get(name, "GET", url)
            if resp is None:
                continue
            key = path.lstrip("/")
            ct, cc = resp.header("Content-Type"), resp.header("Cache-Control")
            want_ct, want_cc = publish.content_type(key), publish.cache_control(key)
            problems = []
            if resp.status != 200:
                problems.append("expected 200")
            elif resp.body == shell.body:
                problems.append("the app shell, not the file")
            if resp.status == 200 and not _same_ct(ct, want_ct):
                problems.append(f"expected Content-Type {want_ct}")
            if resp.status == 200 and not _same_ct(cc, want_cc):
                problems.append(f"expected Cache-Control {want_cc}")
            self._add(
                name, not problems, f"{resp.status} {ct or '-'}; {cc or '-'}" + "".join(f"; {p}" for p in problems)
            )

    def api_checks(self) -> None:
        t = self.t
        health = self._get("api-health", "GET", t.api + "health")
        if health is not None:
            self._add("api-health", health.status == 200, f"GET {t.api}health -> {health.status}")
        private = self._get("api-auth", "GET", t.api + "tasks")
        if private is not None:
            self._add("api-auth", private.status == 401, f"GET {t.api}tasks without a token -> {private.status}")
        self._preflight("cors-site", t.origin, allowed=True)
        if t.local:
            self._add("cors-foreign", None, "skipped: the local server serves the API on the site's own origin")
        else:
            self._preflight("cors-foreign", FOREIGN_ORIGIN, allowed=False)

    def _preflight(self, name: str, origin: str, *, allowed: bool) -> None:
        headers = {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        }
        resp = self._get(name, "OPTIONS", self.t.api + "tasks", headers=headers)
        if resp is None:
            return
        acao = resp.header("Access-Control-Allow-Origin")
        lets_in = 200 <= resp.status < 300 and acao in (origin, "*")
        if allowed:
            lets_in = lets_in and "authorization" in resp.header("Access-Control-Allow-Headers").lower()
        self._add(
            name,
            lets_in == allowed,
            f"OPTIONS from {origin} -> {resp.status}, Access-Control-Allow-Origin {acao or '(none)'}"
            + ("" if lets_in == allowed else (" (expected allowed)" if allowed else " (expected refused)")),
        )

    # -- signed in ---------------------------------------------------------------------------------------
    def user_checks(self, client_id: str, email: str, password: str) -> None:
        token = self._sign_in(client_id, email, password)
        if token is None:
            return
        auth = {"Authorization": token, "Content-Type": "application/json"}
        title = f"tmkit verify {uuid.uuid4().hex[:8]}"
        made = self._get("user-create-task", "POST", self.t.api + "tasks", headers=auth, body=_dumps({"title": title}))
        if made is None:
            return
        item = _loads(made.body)
        task_id = item.get("id") if isinstance(item, dict) else None
        if not self._add("user-create-task", made.status == 201 and bool(task_id), f"POST /tasks -> {made.status}"):
            return
        url = f"{self.t.api}tasks/{task_id}"
        read = self._get("user-read-task", "GET", url, headers=auth)
        if read is not None:
            body = _loads(read.body)
            same = isinstance(body, dict) and body.get("title") == title
            self._add("user-read-task", read.status == 200 and same, f"GET /tasks/{task_id} -> {read.status}")
        gone = self._get("user-delete-task", "DELETE", url, headers=auth)
        if gone is not None:
            after = self._get("user-delete-task", "GET", url, headers=auth)
            status = after.status if after else None
            self._add(
                "user-delete-task",
                gone.status in (200, 204) and status == 404,
                f"DELETE /tasks/{task_id} -> {gone.status}, then GET -> {status}",
            )

    def _sign_in(self, client_id: str, email: str, password: str) -> str | None:
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        }
        body = {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id, "AuthParameters": {}}
        body["AuthParameters"] = {"USERNAME": email, "PASSWORD": password}
        resp = self._get("user-sign-in", "POST", self.t.cognito, headers=headers, body=_dumps(body))
        if resp is None:
            return None
        found = _loads(resp.body)
        token = (found.get("AuthenticationResult") or {}).get("IdToken") if isinstance(found, dict) else None
        error = found.get("__type", "") if isinstance(found, dict) else ""
        self._add("user-sign-in", resp.status == 200 and bool(token), f"InitiateAuth -> {resp.status} {error}".rstrip())
        return token


def _dumps(value) -> bytes:
    return json.dumps(value).encode()


def _loads(data: bytes):
    try:
        return json.loads(data or b"null")
    except ValueError:
        return None
