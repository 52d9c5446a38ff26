"""`inv outputs.*`: the deployed stack's outputs, read from CloudFormation (never from a file)."""

import json as jsonlib

from invoke import Collection

from tmkit.tasks._base import load, tm_task
from tmkit.ui import data, say, table


@tm_task(help={"json": "print the outputs as JSON on stdout instead of a table on stderr"})
def show(c, env=None, json=False):
    """Show every stack output (table on stderr; --json on stdout)."""
    from tmkit.outputs import stack_outputs

    cfg = load(env)
    outputs = stack_outputs(cfg)
    if json:
        data(jsonlib.dumps(outputs, indent=2, sort_keys=True))
        return
    say(f"outputs of {cfg.stack_name} ({cfg.region}{', emulator ' + cfg.endpoint_url if cfg.is_local else ''}):")
    table(["output", "value"], sorted(outputs.items()))


@tm_task(
    name="env",
    help={
        "format": "env (VITE_*=value lines, default) or json",
        "write": "write to this file atomically instead of stdout (only when everything succeeded)",
    },
)
def env_(c, env=None, format="env", write=None):
    """Print the frontend's VITE_* variables from the stack outputs (`> frontend/.env` works)."""
    from tmkit.outputs import check_format, check_write_target, render_env, stack_outputs, write_atomically

    check_format(format)  # arguments first: a bad one is named even when AWS or the emulator is down
    if write is not None:
        check_write_target(write)
    cfg = load(env)
    text = render_env(cfg, stack_outputs(cfg), format)
    if write is not None:
        write_atomically(write, text)
        say(f"wrote {write} ({len(text.splitlines())} lines) from {cfg.stack_name}")
    else:
        data(text)


ns = Collection("outputs", show, env_)
