"""What every task module shares: the ``--env`` option and ToolkitError -> invoke.Exit."""

from __future__ import annotations

import functools
from collections.abc import Callable

from invoke import Exit, Task, task

from tmkit.errors import ToolkitError

ENV_HELP = "environment name (envs/NAME.toml); default: $ENVIRONMENT, then ENVIRONMENT in .env, then dev"


def tm_task(*args, help: dict | None = None, **kwargs) -> Callable:
    """``invoke.task`` whose ToolkitError becomes a clean ``Exit`` (message on stderr, exit code 1).

    Every task gets the ``--env`` help text for free when it has an ``env`` parameter.
    """

    def decorate(fn: Callable) -> Callable:
        import inspect

        env_help = {"env": ENV_HELP} if "env" in inspect.signature(fn).parameters else {}

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            try:
                return fn(*a, **kw)
            except ToolkitError as exc:
                raise Exit(f"error: {exc}", code=1) from None
            except KeyboardInterrupt:
                raise Exit("interrupted", code=130) from None

        return task(*args, help={**env_help, **(help or {})}, **kwargs)(wrapper)

    if len(args) == 1 and callable(args[0]) and not isinstance(args[0], Task):  # bare @tm_task
        fn, args = args[0], ()
        return decorate(fn)
    return decorate


def load(env: str | None):
    """Resolve the environment name and load its validated config."""
    from tmkit.config import load_env, resolve_env_name

    return load_env(resolve_env_name(env))
