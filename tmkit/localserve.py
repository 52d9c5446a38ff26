"""`inv local.serve`: the app of an emulator-backed stack in a browser, offline, on one loopback origin.

    /cognito        POST (X-Amz-Target)  -> the emulator's Cognito (same origin: the browser needs no CORS)
    /api/<path>     any method           -> the API handler in-process as <path>, behind a Cognito authorizer
    anything else   GET/HEAD             -> the SPA from the emulator's frontend bucket, with the distribution's
                                            rules from tmkit.site (SPA rewrite, security headers, error pages)

The authorizer verifies the ID token as API Gateway's Cognito authorizer does: RS256 signature against the
pool's JWKS (fetched from the emulator, cached), issuer, audience (the app client), expiry, token_use "id".
The signing key is moto's published test key, so these tokens prove nothing outside this machine: trusting
them is acceptable ONLY because the server listens on loopback and refuses other Host headers. Never bind it
to another interface.

No CDN cache: a publish shows on the next reload, no invalidation needed. One server per process (the handler
reads its configuration from the process environment, like in Lambda).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from tmkit import paths, site
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
API_PREFIX = "/api"
COGNITO_PATH = "/cognito"
PUBLIC_API_PATHS = ("/health",)  # as infra/components/api.py PUBLIC_ROUTES: no authorizer
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
JWKS_REFRESH_SECONDS = 30.0  # an unknown kid refetches the JWKS at most this often
REQUIRED_OUTPUTS = ("FrontendBucketName", "UserPoolId", "UserPoolClientId", "TableName", "DataAccessRoleArn")
UPSTREAM_TIMEOUT = 10.0
# Loopback calls never go through an HTTP proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _json(status: int, body: dict, headers: dict | None = None) -> Reply:
    return Reply(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode())


def _text(status: int, text: str) -> Reply:
    return Reply(status, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}, text.encode())


# ---- authorizer --------------------------------------------------------------------------------------
class Unauthorized(Exception):
    """The request carries no valid ID token of the pool's app client (the reason is for the log only)."""


class UpstreamDown(Exception):
    """The emulator did not answer."""


class CognitoAuthorizer:
    """API Gateway's Cognito user-pool authorizer (no OAuth scopes: ID tokens only) against the emulator."""

    def __init__(
        self, endpoint: str, region: str, pool_id: str, client_id: str, clock: Callable[[], float] = time.monotonic
    ):
        self.region = region
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        self.jwks_url = f"{endpoint.rstrip('/')}/{pool_id}/.well-known/jwks.json"
        self.client_id = client_id
        self._clock = clock
        self._keys: dict[str, object] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.jwks_fetches = 0

    def _key(self, kid: str):
        with self._lock:
            stale = self._fetched_at is None or self._clock() - self._fetched_at >= JWKS_REFRESH_SECONDS
            if kid not in self._keys and stale:
                self._keys = self._fetch()
                self._fetched_at = self._clock()
            return self._keys.get(kid)

    def _fetch(self) -> dict:
        import jwt

        try:
            with _OPENER.open(self.jwks_url, timeout=UPSTREAM_TIMEOUT) as resp:
                jwks = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise UpstreamDown(f"cannot read the user pool's JWKS at {self.jwks_url}: {exc}") from None
        self.jwks_fetches += 1
        return {k.key_id: k.key for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id}

    def claims(self, authorization: str | None) -> dict:
        """The verified claims of the ID token in an Authorization header value ("<jwt>" or "Bearer <jwt>")."""
        import jwt

        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise Unauthorized("no token")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256":
                raise Unauthorized(f"algorithm {header.get('alg')!r} is not RS256")
            key = self._key(str(header.get("kid") or ""))
            if key is None:
                raise Unauthorized("unknown signing key")
            found = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                audience=self.client_id,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(type(exc).__name__) from None
        if found.get("token_use") != "id":
            raise Unauthorized("not an ID token")
        return found


# ---- the API handler, in-process -----------------------------------------------------------------------
def handler_environment(cfg: EnvConfig, outputs: dict[str, str]) -> dict[str, str]:
    """The Lambda's environment variables for this stack (the team contract), pointed at the emulator.

    An empty value means: unset it (no profile, no session token: the fake emulator credentials only).
    """
    from tmkit.aws import credentials_env

    return {
        **credentials_env(cfg),
        "TABLE_NAME": outputs["TableName"],
        "DATA_ACCESS_ROLE_ARN": outputs["DataAccessRoleArn"],
        "SECRETS_PREFIX": cfg.secret_name(""),
        "SECRET_KEYS": ",".join(cfg.secrets),
        "SECRET_MAX_AGE_SECONDS": str(cfg.secret_cache_seconds),
        "ENVIRONMENT": cfg.name,
        "POWERTOOLS_SERVICE_NAME": "timemanagement-api",
        "LOG_LEVEL": "INFO",
    }


@contextlib.contextmanager
def process_environment(env: dict[str, str]) -> Iterator[None]:
    """Set (or, for empty values, unset) variables of this process; restore them afterwards."""
    saved = {k: os.environ.get(k) for k in env}
    try:
        for k, v in env.items():
            if v:
                os.environ[k] = v
            else:
                os.environ.pop(k, None)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load_handler():
    """Import the API Lambda (lambda/api/app.py) and forget any container state; its logs go to stderr."""
    if str(paths.LAMBDA_DIR) not in sys.path:
        sys.path.insert(0, str(paths.LAMBDA_DIR))
    import app  # noqa: PLC0415  (lambda/api/app.py)

    app.reset()
    handler = app.logger.registered_handler
    if hasattr(handler, "setStream"):
        handler.setStream(sys.stderr)  # stdout carries only requested data
    return app


def _event(method: str, path: str, query: str, headers: dict, body: str | None, claims: dict | None) -> dict:
    from tm_api.events import rest_event

    q = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    # API Gateway hands the authorizer's claims to the function as strings.
    claims = (
        {
            k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, (list, dict)) else str(v)
            for k, v in claims.items()
        }
        if claims is not None
        else None
    )
    return rest_event(method, path, body=body, claims=claims, query=q or None, headers=headers)


def _from_lambda(out: dict) -> Reply:
    headers = {k: str(v) for k, v in (out.get("headers") or {}).items()}
    for k, values in (out.get("multiValueHeaders") or {}).items():
        headers[k] = ", ".join(str(v) for v in values)
    body = out.get("body") or ""
    data = base64.b64decode(body) if out.get("isBase64Encoded") else body.encode()
    return Reply(int(out.get("statusCode", 502)), headers, data)


# ---- the server ---------------------------------------------------------------------------------------
class LocalServe:
    """Routes requests; shared by every request thread. ``say`` receives log lines (stderr by default)."""

    def __init__(self, cfg: EnvConfig, outputs: dict[str, str], *, say: Callable[[str], None] | None = None):
        from tmkit.aws import client

        missing = [k for k in REQUIRED_OUTPUTS if not outputs.get(k)]
        if missing:
            raise ToolkitError(
                f"stack {cfg.stack_name} lacks the outputs {', '.join(missing)}: redeploy it with "
                f"`inv deploy --env {cfg.name}`."
            )
        from tmkit.ui import say as ui_say

        self.cfg, self.outputs = cfg, outputs
        self.say = say or ui_say
        self.bucket = outputs["FrontendBucketName"]
        self.s3 = client(cfg, "s3", max_pool=20)
        self.authorizer = CognitoAuthorizer(
            cfg.endpoint_url, outputs.get("Region") or cfg.region, outputs["UserPoolId"], outputs["UserPoolClientId"]
        )
        self.headers = site.security_headers()  # everything is same-origin: connect-src 'self' suffices
        self.environment = handler_environment(cfg, outputs)
        self.app = None

    # -- the SPA ------------------------------------------------------------------------------------
    def _get_object(self, key: str) -> Reply:
        from botocore import exceptions as bex

        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=key)
        except bex.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 502)
            if code == "NoSuchBucket":
                return _text(
                    404,
                    f"Not found: the frontend bucket {self.bucket} does not exist. Redeploy with "
                    f"`inv deploy --env {self.cfg.name}`.",
                )
            if code in ("NoSuchKey", "404"):
                return _text(404, "Not found.")
            return _text(status, f"The origin answered {status} {code}.")
        except (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ConnectionClosedError, bex.ReadTimeoutError):
            from tmkit.aws import emulator_hint

            return _text(502, f"Bad gateway: {emulator_hint(self.cfg)}")
        headers = {"Content-Type": obj.get("ContentType") or "application/octet-stream"}
        for name, attr in (
            ("Cache-Control", "CacheControl"),
            ("ETag", "ETag"),
            ("Content-Encoding", "ContentEncoding"),
        ):
            if obj.get(attr):
                headers[name] = obj[attr]
        if obj.get("LastModified"):
            from email.utils import format_datetime

            headers["Last-Modified"] = format_datetime(obj["LastModified"].astimezone(UTC), usegmt=True)
        return Reply(200, headers, obj["Body"].read())

    def site(self, method: str, raw_path: str, request_headers) -> Reply:
        if method not in ("GET", "HEAD"):
            reply = _text(403, "This distribution allows only GET and HEAD requests.")
        else:
            uri = site.spa_rewrite(unquote(raw_path) or "/")
            reply = self._get_object(uri.lstrip("/"))
            error = site.ERROR_RESPONSES.get(reply.status)
            if error is not None:
                page = self._get_object(error.page.lstrip("/"))
                if page.status == 200:
                    reply = Reply(error.response_status, page.headers, page.body)
                elif reply.status == 404 and uri == site.INDEX:
                    reply = _text(
                        404,
                        f"Not found: nothing is published in {self.bucket}. Run `inv frontend.build "
                        f"--env {self.cfg.name}` then `inv frontend.publish --env {self.cfg.name}`.",
                    )
            elif (
                reply.status == 200
                and reply.headers.get("ETag")
                and reply.headers["ETag"] in (request_headers.get("If-None-Match") or "")
            ):
                reply = Reply(304, {k: v for k, v in reply.headers.items() if k in ("ETag", "Cache-Control")})
        reply.headers.update(self.headers)
        return reply

    # -- Cognito ------------------------------------------------------------------------------------
    def cognito(self, method: str, body: bytes, request_headers) -> Reply:
        if method != "POST":
            return _json(405, {"__type": "MethodNotAllowed", "message": "POST Cognito API calls here"})
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        from tmkit.aws import FAKE_CREDENTIALS, emulator_hint

        headers = {k: request_headers[k] for k in ("Content-Type", "X-Amz-Target") if request_headers.get(k)}
        # Signed with the fake emulator credentials only so the emulator routes it to this region's pool.
        request = AWSRequest("POST", self.cfg.endpoint_url.rstrip("/") + "/", data=body, headers=headers)
        SigV4Auth(
            Credentials(FAKE_CREDENTIALS["aws_access_key_id"], FAKE_CREDENTIALS["aws_secret_access_key"]),
            "cognito-idp",
            self.authorizer.region,
        ).add_auth(request)
        forward = urllib.request.Request(request.url, data=body, headers=dict(request.headers.items()), method="POST")
        try:
            with _OPENER.open(forward, timeout=UPSTREAM_TIMEOUT) as resp:
                status, resp_headers, data = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            status, resp_headers, data = exc.code, exc.headers, exc.read()
        except (urllib.error.URLError, OSError):
            return _json(502, {"__type": "ServiceUnavailable", "message": emulator_hint(self.cfg)})
        keep = {
            k: v
            for k, v in resp_headers.items()
            if k.lower() in ("content-type", "x-amzn-errortype", "x-amzn-requestid")
        }
        return Reply(status, keep, data)

    # -- the API ------------------------------------------------------------------------------------
    def api(self, method: str, path: str, query: str, body: bytes, request_headers) -> Reply:
        api_path = path[len(API_PREFIX) :] or "/"
        claims = None
        if method != "OPTIONS" and api_path.rstrip("/") not in PUBLIC_API_PATHS:
            try:
                claims = self.authorizer.claims(request_headers.get("Authorization"))
            except Unauthorized as exc:
                self.say(f"401 {method} {path}: {exc}")
                return _json(401, {"message": "Unauthorized"})
            except UpstreamDown as exc:
                return _json(502, {"message": f"authorizer unavailable: {exc}"})
        try:
            text = body.decode("utf-8") if body else None
        except UnicodeDecodeError:
            return _json(400, {"message": "the request body is not UTF-8 text"})
        headers = {k: v for k, v in request_headers.items() if k.lower() not in ("host", "content-length")}
        try:
            from tmkit import logsink  # the call as Lambda runs it, with its CloudWatch logs (tmkit/logsink.py)

            return _from_lambda(logsink.invoke(self, _event(method, api_path, query, headers, text, claims)))
        except Exception:  # noqa: BLE001  (API Gateway's answer to a crashed function)
            self.say("the API handler raised:\n" + traceback.format_exc())
            return _json(502, {"message": "Internal server error"})

    # -- routing ------------------------------------------------------------------------------------
    def route(self, method: str, target: str, body: bytes, request_headers) -> Reply:
        parts = urlsplit(target)
        path = parts.path or "/"
        if path.rstrip("/") == COGNITO_PATH:
            return self.cognito(method, body, request_headers)
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return self.api(method, path, parts.query, body, request_headers)
        return self.site(method, path, request_headers)

    @contextlib.contextmanager
    def running(self, port: int, host: str = DEFAULT_HOST) -> Iterator[ThreadingHTTPServer]:
        """Listen on ``host:port`` (loopback only) in a background thread, with the handler's environment set."""
        check_host(host)
        with process_environment(self.environment):
            self.app = load_handler()
            server = make_server(self, host, port)
            thread = threading.Thread(target=server.serve_forever, name="local-serve", daemon=True)
            thread.start()
            try:
                yield server
            finally:
                server.shutdown()
                server.server_close()
                thread.join(timeout=10)
                self.app.reset()


def check_host(host: str) -> None:
    if host not in LOOPBACK_HOSTS:
        raise ToolkitError(
            f"--host {host!r} is refused: the local server trusts tokens signed with the emulator's "
            "public test key, so it listens on loopback only. Use --host 127.0.0.1 (the default)."
        )


def _handler_class(serve: LocalServe):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "tmkit-local-serve"

        def _handle(self) -> None:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
            length = self.headers.get("Content-Length") or "0"
            if host not in LOOPBACK_HOSTS:  # DNS rebinding: a page elsewhere must not reach this server
                reply = _text(403, "Forbidden: this server answers only to localhost / 127.0.0.1.")
            elif not length.isdigit() or int(length) > MAX_BODY_BYTES:
                reply = _text(413, f"Request body larger than {MAX_BODY_BYTES} bytes.")
            else:
                body = self.rfile.read(int(length)) if int(length) else b""
                try:
                    reply = serve.route(self.command, self.path, body, self.headers)
                except Exception:  # noqa: BLE001  (a bug here must not look like a network failure)
                    serve.say(f"{self.command} {self.path} failed:\n{traceback.format_exc()}")
                    reply = _text(500, "Internal error in the local server; see its output.")
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply.body)) if reply.status != 304 else "0")
            if reply.status == 413:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD" and reply.status != 304:
                self.wfile.write(reply.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            serve.say(f"{self.address_string()} {format % args}")

    return Handler


def make_server(serve: LocalServe, host: str, port: int) -> ThreadingHTTPServer:
    import errno

    check_host(host)
    try:
        server = ThreadingHTTPServer((host, port), _handler_class(serve))
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


def prepare(cfg: EnvConfig) -> LocalServe:
    """Checks (emulator-backed env, emulator running, stack deployed) and the router for ``cfg``'s stack."""
    from tmkit import emulator
    from tmkit.outputs import stack_outputs

    if not cfg.is_local:
        raise ToolkitError(
            f"`inv local.serve` serves an emulator-backed environment; '{cfg.name}' deploys to real AWS "
            "(its site is at the SiteUrl output: `inv outputs.show`). Use --env local."
        )
    emulator.require_running(cfg)
    return LocalServe(cfg, stack_outputs(cfg))


def serve_forever(cfg: EnvConfig, *, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> None:
    """``inv local.serve``: serve until Ctrl-C."""
    from tmkit.ui import say

    check_host(host)
    if not 0 < port < 65536:
        raise ToolkitError(f"--port {port} is not a TCP port: use 1-65535 (e.g. --port {DEFAULT_PORT}).")
    serve = prepare(cfg)
    with serve.running(port, host) as server:
        say(
            f"serving {cfg.stack_name} at http://{host}:{server.server_address[1]}/ (API at /api, Cognito at /cognito); "
            "Ctrl-C stops."
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            say("stopped.")


# ---- `inv local.user`: a demo user in the emulator's user pool --------------------------------------------
_EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
PASSWORD_SYMBOLS = "!@#%^*_+-="


def generate_password(length: int = 20) -> str:
    """A throwaway emulator password that meets the pool's policy (upper, lower, digit, symbol, >= 12)."""
    import secrets
    import string

    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, PASSWORD_SYMBOLS)
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice("".join(classes)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def read_password(*, password_file: str | None = None, stdin=None, prompt: Callable[[str], str] | None = None) -> str:
    """The password from ``password_file``, else piped standard input, else a hidden prompt (asked twice).

    Never from the command line. One trailing newline is removed from a file or piped input.
    """
    from tmkit.ui import read_hidden

    text, source = read_hidden("password", flag="--password-file", from_file=password_file, stdin=stdin, prompt=prompt)
    if not text:
        raise ToolkitError(
            f"the password from {source} is empty. Nothing was changed. Pipe it in, type it at the "
            "prompt, use --password-file PATH, or --generate."
        )
    return text


def create_user(cfg: EnvConfig, email: str, password: str) -> tuple[str, bool]:
    """A confirmed user with a permanent password in the stack's user pool (emulator only).

    Returns (pool id, created): an existing user keeps its attributes and gets the new password.
    """
    import re

    from botocore.exceptions import ClientError

    from tmkit import emulator
    from tmkit.aws import aws_errors, client
    from tmkit.outputs import stack_outputs

    if not cfg.is_local:
        raise ToolkitError(
            f"`inv local.user` creates users in the emulator only; '{cfg.name}' is a real AWS "
            "environment (create its users in the Cognito console or with `aws cognito-idp`). "
            "Use --env local."
        )
    if not re.fullmatch(_EMAIL_RE, email or ""):
        raise ToolkitError(
            f"{email!r} is not an email address; the user pool signs people in by email. "
            "Give one like demo@example.com."
        )
    emulator.require_running(cfg)
    pool = stack_outputs(cfg).get("UserPoolId")
    if not pool:
        raise ToolkitError(
            f"stack {cfg.stack_name} has no UserPoolId output: redeploy it with `inv deploy --env {cfg.name}`."
        )
    idp = client(cfg, "cognito-idp")
    created = True
    with aws_errors(cfg, f"creating user {email}"):
        try:
            try:
                idp.admin_create_user(
                    UserPoolId=pool,
                    Username=email,
                    MessageAction="SUPPRESS",
                    UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "UsernameExistsException":
                    raise
                created = False
            # A permanent password: the user is CONFIRMED and signs in without the new-password challenge.
            idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
        except ClientError as exc:
            err = exc.response["Error"]
            if err["Code"] == "InvalidPasswordException":
                raise ToolkitError(
                    f"the password does not meet the user pool's policy ({err.get('Message')}): use "
                    "12 or more characters with upper and lower case letters, a digit and a symbol, "
                    "or --generate."
                ) from None
            raise ToolkitError(
                f"the emulator refused to create {email} ({err['Code']}: {err.get('Message')}). "
                f"Check that the stack is deployed (`inv deploy --env {cfg.name}`)."
            ) from None
    return pool, created
