"""`inv local.*` tasks: the local AWS emulator (moto server on loopback) for emulator-backed environments."""

from invoke import Collection

from tmkit.errors import ToolkitError
from tmkit.tasks import local_serve  # serve, user: the offline app, kept in their own module
from tmkit.tasks._base import load, tm_task
from tmkit.ui import say

ENV_LOCAL = {"env": "emulator-backed environment (envs/NAME.toml with [emulator]); default: local"}


@tm_task(help=ENV_LOCAL)
def up(c, env="local"):
    """Start the AWS emulator in the background (a second `up` reports the running one)."""
    from tmkit import emulator

    cfg = load(env)
    st, started = emulator.start(cfg)
    say(f"emulator {'started' if started else 'already running'}: {st.endpoint} (pid {st.pid}, log {st.log})")


@tm_task(help=ENV_LOCAL)
def down(c, env="local"):
    """Stop the AWS emulator (everything deployed to it is forgotten)."""
    from tmkit import emulator

    cfg = load(env)
    before = emulator.stop(cfg)
    if before.state == "running":
        say(f"emulator stopped (was pid {before.pid} at {before.endpoint})")
    elif before.state == "foreign":
        say(f"nothing stopped: {before.detail}")
    else:
        say(f"emulator was not running ({before.endpoint})")


@tm_task(help=ENV_LOCAL)
def status(c, env="local"):
    """Say whether the AWS emulator runs; exit 1 when it does not."""
    from tmkit import emulator

    cfg = load(env)
    st = emulator.status(cfg)
    if st.state != "running":
        hint = "" if st.state == "foreign" else " Start it with `inv local.up`."
        raise ToolkitError(f"emulator {st.detail}.{hint}")
    say(f"emulator {st.detail}; log {st.log}")


ns = Collection("local", up, down, status, local_serve.serve, local_serve.user)
