"""`inv local.serve`: the app of an emulator-backed stack in a browser, offline, on one loopback origin.

    /cognito        POST (X-Amz-Target)  -> the emulator's Cognito (tmkit/local_cognito.py)
    /api/<path>     any method           -> the API handler in-process as <path> (tmkit/local_lambda.py),
                                            behind a Cognito authorizer (tmkit/local_authorizer.py)
    anything else   GET/HEAD             -> the SPA from the emulator's frontend bucket, with the distribution's
                                            rules from tmkit.site (SPA rewrite, security headers, error pages)

This module routes and runs the server; tmkit/local_http.py is the HTTP plumbing (loopback only: never
bind it to another interface). No CDN cache: a publish shows on the next reload, no invalidation needed.
One server per process (the handler reads its configuration from the process environment, like in Lambda).
Programmatic use: ``start(cfg, port)`` returns a running server; ``.stop()`` ends it.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC
from http.server import ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from tmkit import logsink, site
from tmkit.api_contract import MISSING_AUTH_TOKEN_BODY, MISSING_AUTH_TOKEN_STATUS, find_route
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError
from tmkit.local_authorizer import CognitoAuthorizer, Unauthorized, UpstreamDown
from tmkit.local_cognito import CognitoProxy
from tmkit.local_http import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    Reply,
    check_host,
    check_port,
    json_reply,
    make_server,
    text_reply,
)
from tmkit.local_lambda import handler_environment, load_handler, process_environment, rest_event, to_reply

__all__ = ["LocalServe", "Running", "prepare", "process_environment", "serve_forever", "start"]

API_PREFIX = "/api"
COGNITO_PATH = "/cognito"
REQUIRED_OUTPUTS = ("FrontendBucketName", "UserPoolId", "UserPoolClientId", "TableName", "DataAccessRoleArn")


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
        region = outputs.get("Region") or cfg.region
        self.authorizer = CognitoAuthorizer(
            cfg.endpoint_url, region, outputs["UserPoolId"], outputs["UserPoolClientId"]
        )
        self.cognito_proxy = CognitoProxy(cfg, region)
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
                return text_reply(
                    404,
                    f"Not found: the frontend bucket {self.bucket} does not exist. Redeploy with "
                    f"`inv deploy --env {self.cfg.name}`.",
                )
            if code in ("NoSuchKey", "404"):
                return text_reply(404, "Not found.")
            return text_reply(status, f"The origin answered {status} {code}.")
        except (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ConnectionClosedError, bex.ReadTimeoutError):
            from tmkit.aws import emulator_hint

            return text_reply(502, f"Bad gateway: {emulator_hint(self.cfg)}")
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
            reply = text_reply(403, "This distribution allows only GET and HEAD requests.")
        elif (rewritten := site.viewer_request(raw_path or "/")) is None:
            reply = Reply(404)  # the viewer function's own answer: no origin, no error page
        else:
            uri = unquote(rewritten)
            reply = self._get_object(uri.lstrip("/"))
            error = site.ERROR_RESPONSES.get(reply.status)
            if error is not None:
                page = self._get_object(error.page.lstrip("/"))
                if page.status == 200:
                    reply = Reply(error.response_status, page.headers, page.body)
                elif reply.status == 404 and uri == site.INDEX:
                    reply = text_reply(
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
        return self.cognito_proxy.forward(method, body, request_headers)

    # -- the API ------------------------------------------------------------------------------------
    def invoke_handler(self, event: dict) -> dict:
        """Call the API Lambda with one proxy event, as the Lambda service does: the current handler module
        (reloaded when `inv watch` asks) with the logs Lambda and API Gateway would write (tmkit/logsink.py)."""
        return logsink.invoke(self, event)

    def api(self, method: str, path: str, query: str, body: bytes, request_headers) -> Reply:
        api_path = path[len(API_PREFIX) :] or "/"
        # API Gateway's resources and methods come from the same table (tmkit/api_contract.py); what it has no
        # resource for never reaches the function. OPTIONS: the CORS preflight every resource has.
        route = find_route(api_path)
        if route is None or not (method == "OPTIONS" or route.allows(method)):
            return json_reply(
                MISSING_AUTH_TOKEN_STATUS,
                MISSING_AUTH_TOKEN_BODY,
                {"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
            )
        claims = None
        if method != "OPTIONS" and not route.public:
            try:
                claims = self.authorizer.claims(request_headers.get("Authorization"))
            except Unauthorized as exc:
                self.say(f"401 {method} {path}: {exc}")
                return json_reply(401, {"message": "Unauthorized"})
            except UpstreamDown as exc:
                return json_reply(502, {"message": f"authorizer unavailable: {exc}"})
        try:
            text = body.decode("utf-8") if body else None
        except UnicodeDecodeError:
            return json_reply(400, {"message": "the request body is not UTF-8 text"})
        headers = {k: v for k, v in request_headers.items() if k.lower() not in ("host", "content-length")}
        try:
            return to_reply(self.invoke_handler(rest_event(method, api_path, query, headers, text, claims)))
        except Exception:  # noqa: BLE001  (API Gateway's answer to a crashed function)
            self.say("the API handler raised:\n" + traceback.format_exc())
            return json_reply(502, {"message": "Internal server error"})

    # -- routing ------------------------------------------------------------------------------------
    def route(self, method: str, target: str, body: bytes, request_headers) -> Reply:
        parts = urlsplit(target)
        path = parts.path or "/"
        if path.rstrip("/") == COGNITO_PATH:
            return self.cognito(method, body, request_headers)
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return self.api(method, path, parts.query, body, request_headers)
        return self.site(method, path, request_headers)

    def start(self, port: int, host: str = DEFAULT_HOST) -> Running:
        """Listen on ``host:port`` (loopback only; 0 = a free port) in a background thread, with the handler's
        environment set. ``.stop()`` on the result ends it and restores the environment."""
        check_host(host)
        with contextlib.ExitStack() as stack:
            stack.enter_context(process_environment(self.environment))
            self.app = load_handler()
            server = make_server(self.route, lambda line: self.say(line), host, port)
            thread = threading.Thread(target=server.serve_forever, name="local-serve", daemon=True)
            thread.start()
            return Running(self, server, thread, stack.pop_all())

    @contextlib.contextmanager
    def running(self, port: int, host: str = DEFAULT_HOST) -> Iterator[ThreadingHTTPServer]:
        """``start`` as a context manager yielding the HTTP server."""
        handle = self.start(port, host)
        try:
            yield handle.server
        finally:
            handle.stop()


class Running:
    """A started local server: ``url``, ``port``, ``stop()`` (idempotent)."""

    def __init__(self, serve: LocalServe, server: ThreadingHTTPServer, thread: threading.Thread, cleanup):
        self.serve, self.server, self._thread, self._cleanup = serve, server, thread, cleanup
        self.port = server.server_address[1]
        self.url = f"http://{server.server_address[0]}:{self.port}/"
        self._stopped = False

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            self.server.shutdown()
            self.server.server_close()
            self._thread.join(timeout=10)
            if self.serve.app is not None:
                self.serve.app.reset()
        finally:
            self._cleanup.close()

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


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


def start(cfg: EnvConfig, port: int = 0, host: str = DEFAULT_HOST) -> Running:
    """The programmatic entry point: check, then serve ``cfg``'s stack on ``host:port`` (0 = a free port)."""
    check_host(host)
    return prepare(cfg).start(port, host)


def serve_forever(cfg: EnvConfig, *, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> None:
    """``inv local.serve``: serve until Ctrl-C."""
    from tmkit.ui import say

    check_host(host)
    port = check_port(port)
    with start(cfg, port, host) as running:
        say(f"serving {cfg.stack_name} at {running.url} (API at /api, Cognito at /cognito); Ctrl-C stops.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            say("stopped.")
