"""Reloading the API handler in a running `inv local.serve` when `inv watch` asks (a trigger file, no extra port).

`inv watch` (tmkit/watch.py) writes a new token to ``.tmkit/reload-<env>`` after a change under lambda/;
the local server compares the token before each API call (one small file read) and, when it changed, imports
lambda/api afresh, as a new Lambda container would. A handler that fails to import makes the call fail
(API Gateway's 502), as a broken deploy would; the next call tries again. See docs/deploying.md, "The daily loop".
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tmkit import paths
from tmkit.config import EnvConfig

_MODULES = ("app", "tm_api")  # lambda/api's import roots
# A reload forgets lambda/api's modules: it waits until no call is running the handler (a call may import a
# module of it lazily), and calls wait while it runs.
_gate = threading.Condition()
_in_flight = 0
_reloading = False


def trigger_path(env_name: str) -> Path:
    return paths.STATE_DIR / f"reload-{env_name}"


def request(cfg: EnvConfig) -> str:
    """Ask the local server of ``cfg`` to reload the handler before its next API call. Returns the token."""
    from tmkit.outputs import write_atomically

    token = str(time.time_ns())
    trigger_path(cfg.name).parent.mkdir(parents=True, exist_ok=True)  # .tmkit/ may have been cleaned meanwhile
    write_atomically(trigger_path(cfg.name), token)
    return token


def _token(env_name: str) -> str | None:
    """The token in the trigger file (its first bytes); None when there is none, or something else sits there
    (a FIFO would block the API call: opened without blocking, and only a regular file is read)."""
    try:
        fd = os.open(trigger_path(env_name), os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, 64).decode("ascii", "replace").strip() or None
    except OSError:
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def invoking(serve) -> Iterator:
    """The handler to call for one request (``current``), held so that no reload runs during the call."""
    global _in_flight
    app = current(serve)
    with _gate:
        if _reloading:  # another request's reload started meanwhile: take what it loads
            _gate.wait_for(lambda: not _reloading)
            app = serve.app
        _in_flight += 1
    try:
        yield app
    finally:
        with _gate:
            _in_flight -= 1
            _gate.notify_all()


def current(serve):
    """``serve.app``, re-imported first when a reload was requested since it was loaded.

    A trigger left by an earlier session reloads once on the first call (cheap, and never stale). The reload
    waits for the calls in flight to finish (``invoking``).
    """
    global _reloading
    token = _token(serve.cfg.name)
    if token is None or token == getattr(serve, "_reload_token", None):
        return serve.app
    with _gate:
        _gate.wait_for(lambda: not _reloading)
        if token == getattr(serve, "_reload_token", None):
            return serve.app
        _reloading = True
        _gate.wait_for(lambda: _in_flight == 0)
    try:
        serve.app = reload_handler()
        serve._reload_token = token
        serve.say(f"reloaded the API handler from {paths.LAMBDA_DIR}")
    finally:
        with _gate:
            _reloading = False
            _gate.notify_all()
    return serve.app


def reload_handler():
    """Forget lambda/api's modules and import them again (raises what the import raises)."""
    from tmkit.local_lambda import load_handler

    for name in list(sys.modules):
        if name.split(".")[0] in _MODULES:
            del sys.modules[name]
    return load_handler()
