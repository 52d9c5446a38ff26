"""Reloading the API handler in a running `inv local.serve` when `inv watch` asks (a trigger file, no extra port).

`inv watch` (tmkit/watch.py) writes a new token to ``.tmkit/reload-<env>`` after a change under lambda/;
the local server compares the token before each API call (one small file read) and, when it changed, imports
lambda/api afresh, as a new Lambda container would. A handler that fails to import makes the call fail
(API Gateway's 502), as a broken deploy would; the next call tries again. See docs/deploying.md, "The daily loop".
"""

from __future__ import annotations

import os
import stat
import sys
import threading
import time
from pathlib import Path

from tmkit import paths
from tmkit.config import EnvConfig

_MODULES = ("app", "tm_api")  # lambda/api's import roots
_lock = threading.Lock()


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


def current(serve):
    """``serve.app``, re-imported first when a reload was requested since it was loaded.

    A trigger left by an earlier session reloads once on the first call (cheap, and never stale).
    """
    token = _token(serve.cfg.name)
    if token is None or token == getattr(serve, "_reload_token", None):
        return serve.app
    with _lock:
        if token != getattr(serve, "_reload_token", None):
            serve.app = reload_handler()
            serve._reload_token = token
            serve.say(f"reloaded the API handler from {paths.LAMBDA_DIR}")
    return serve.app


def reload_handler():
    """Forget lambda/api's modules and import them again (raises what the import raises)."""
    from tmkit.local_lambda import load_handler

    for name in list(sys.modules):
        if name.split(".")[0] in _MODULES:
            del sys.modules[name]
    return load_handler()
