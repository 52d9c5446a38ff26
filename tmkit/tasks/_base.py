"""What every task module shares: the ``--env`` option and ToolkitError -> invoke.Exit."""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import os
import sys
from collections.abc import Callable

from invoke import Exit, Task, task

from tmkit.errors import ToolkitError

ENV_HELP = "environment name (envs/NAME.toml); default: $ENVIRONMENT, then ENVIRONMENT in .env, then dev"

# A task keeps most of what it allocates while starting (modules, pydantic's and botocore's models): with CPython's
# default first-generation threshold (700 allocations) the collector walks them again and again, and the service
# models of the first clients set off full collections of the whole process (30-40 ms each). A task body runs with
# this threshold instead: about 0.1 s less CPU up to the first S3 client of a publish, for at most 10^5 young
# objects awaiting collection (docs/architecture.md, "Start-up").
GC_THRESHOLD = 100_000


@contextlib.contextmanager
def fewer_collections():
    """Run the body with the first-generation threshold at least ``GC_THRESHOLD``; the previous one after."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _whole_numbers(sig: inspect.Signature) -> tuple[inspect.Signature, dict[str, int]]:
    """Options with an int default, offered to invoke as text so that a bad value reaches ``_number``.

    invoke converts ``--timeout abc`` with ``int()`` while parsing, which ends in a traceback; the task
    converts it instead and names the option.
    """
    numbers = {n: p.default for n, p in sig.parameters.items() if type(p.default) is int}
    params = [p.replace(default=str(p.default)) if p.name in numbers else p for p in sig.parameters.values()]
    return sig.replace(parameters=params), numbers


def _number(name: str, value, default: int) -> int:
    flag = "--" + name.replace("_", "-")
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ToolkitError(f"{flag} {value!r} is not a number: use e.g. {flag} {default}.") from None
    if number < 0:
        raise ToolkitError(f"{flag} {value!r} must be 0 or more: use e.g. {flag} {default}.")
    return number


def tm_task(*args, help: dict | None = None, **kwargs) -> Callable:
    """``invoke.task`` whose ToolkitError becomes a clean ``Exit`` (message on stderr, exit code 1).

    Every task gets the ``--env`` help text for free when it has an ``env`` parameter, and every
    option with an int default is checked to be a whole number of 0 or more before the body runs.
    The body runs with ``fewer_collections()``.
    """

    def decorate(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        env_help = {"env": ENV_HELP} if "env" in sig.parameters else {}
        shown, numbers = _whole_numbers(sig)

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            try:
                if numbers:
                    bound = sig.bind(*a, **kw)
                    for name in numbers.keys() & bound.arguments.keys():
                        bound.arguments[name] = _number(name, bound.arguments[name], numbers[name])
                    a, kw = bound.args, bound.kwargs
                with fewer_collections():
                    return fn(*a, **kw)
            except ToolkitError as exc:
                raise Exit(f"error: {exc}", code=1) from None
            except KeyboardInterrupt:
                raise Exit("interrupted", code=130) from None
            except BrokenPipeError:  # stdout's reader went away (`inv logs --follow | head -1`): end quietly
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
                raise Exit(code=141) from None  # 128 + SIGPIPE, as a shell tool killed by it

        wrapper.__signature__ = shown
        return task(*args, help={**env_help, **(help or {})}, **kwargs)(wrapper)

    if len(args) == 1 and callable(args[0]) and not isinstance(args[0], Task):  # bare @tm_task
        fn, args = args[0], ()
        return decorate(fn)
    return decorate


def load(env: str | None):
    """Resolve the environment name and load its validated config."""
    from tmkit.config import load_env, resolve_env_name

    return load_env(resolve_env_name(env))
