"""What `inv watch` does to an environment (tmkit/watch.py decides which): deploy, hotswap, reload the local
server's handler, rewrite frontend/.env, build and publish the SPA. Each is the toolkit's existing path."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tmkit import paths
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError

PROBE_TIMEOUT = 2.0
MAX_PROBE_BYTES = 64 * 1024  # /api/health is a few bytes
RELOAD_TIMEOUT = 30.0  # the first call after a reload imports the handler (and Powertools)
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy


def deploy_stack(c, cfg: EnvConfig, *, hotswap: bool) -> None:
    """`inv deploy --env NAME [--hotswap]`: the one call into the deploy orchestration."""
    from tmkit import deploy

    _task(deploy.deploy, c, cfg, hotswap=hotswap)


def _task(fn: Callable, *args, **kwargs) -> None:
    """Run a task body; its clean exits and failed commands become ToolkitError (watching goes on)."""
    from invoke.exceptions import Exit, UnexpectedExit

    try:
        fn(*args, **kwargs)
    except Exit as exc:
        raise ToolkitError(str(exc.message or f"exit {exc.code}").removeprefix("error: ")) from None
    except UnexpectedExit as exc:
        raise ToolkitError(f"`{exc.result.command}` failed with exit code {exc.result.exited}") from None


def health(port: int, timeout: float) -> tuple[int, str, dict]:
    """(status, Server header, JSON body or {}) of GET /api/health on a local server; status 0: nothing answers."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/health", headers={"Host": "127.0.0.1"})
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            status, server, body = resp.status, resp.headers.get("Server", ""), _body(resp)
    except urllib.error.HTTPError as exc:
        status, server, body = exc.code, exc.headers.get("Server", ""), _body(exc)
    except (urllib.error.URLError, OSError):
        return 0, "", {}
    try:
        found = json.loads(body)
    except ValueError:
        found = {}
    return status, server, found if isinstance(found, dict) else {}


def _body(resp) -> bytes:
    """The body of a local server's answer, at most MAX_PROBE_BYTES; none from another server on the port (it
    may stream for ever)."""
    if not (resp.headers.get("Server") or "").startswith("tmkit-local-serve"):
        return b""
    return resp.read(MAX_PROBE_BYTES)


class Actions:
    def __init__(self, c, cfg: EnvConfig, *, port: int, say: Callable[[str], None], frontend_dir: Path | None = None):
        self.c, self.cfg, self.port, self.say = c, cfg, port, say
        self.frontend_dir = frontend_dir or paths.FRONTEND_DIR  # where write_env writes .env (tests: elsewhere)

    def serve_running(self) -> bool:
        """Does `inv local.serve` for this environment answer on the port?"""
        status, server, body = health(self.port, PROBE_TIMEOUT)
        if not server.startswith("tmkit-local-serve"):
            return False
        if status == 200 and body.get("environment") != self.cfg.name:
            self.say(f"the local server on port {self.port} serves '{body.get('environment')}', not '{self.cfg.name}'.")
            return False
        return True

    def reload(self) -> None:
        from tmkit import hotreload

        started = time.monotonic()
        hotreload.request(self.cfg)
        status, _, _ = health(self.port, RELOAD_TIMEOUT)  # the reload happens on this call, not the user's next one
        if status == 0:
            raise ToolkitError(
                f"the local server on port {self.port} stopped answering; start it again with "
                f"`inv local.serve --env {self.cfg.name}` (it loads the new code)."
            )
        if status != 200:
            raise ToolkitError(
                f"the changed handler fails to load (GET /api/health answered {status}); the traceback is in "
                "local.serve's output."
            )
        self.say(f"local.serve runs the new handler ({(time.monotonic() - started) * 1000:.0f} ms)")

    def deploy(self, *, hotswap: bool) -> None:
        deploy_stack(self.c, self.cfg, hotswap=hotswap)

    def write_env(self) -> bool:
        """Rewrite frontend/.env from the stack outputs; True when its content changed."""
        from tmkit.outputs import render_env, stack_outputs, write_atomically

        target = self.frontend_dir / ".env"
        text = render_env(self.cfg, stack_outputs(self.cfg))
        try:
            old = target.read_text(encoding="utf-8")
        except OSError:
            old = None
        if old == text:
            self.say("frontend/.env is up to date")
            return False
        write_atomically(target, text)
        self.say(f"wrote frontend/.env from {self.cfg.stack_name}")
        return True

    def publish_frontend(self) -> None:
        from tmkit.publish import publish_env
        from tmkit.tasks.frontend import build

        _task(build, self.c, env=self.cfg.name)
        result = publish_env(self.cfg, paths.FRONTEND_DIR / "dist", say=self.say)  # where `build` writes
        self.say(f"release {result.plan.release} is live")
