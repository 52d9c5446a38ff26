"""`inv watch`: redeploy what changed on every save (Lambda code, infrastructure, the SPA). Work: tmkit/watch.py."""

from tmkit.tasks._base import load, tm_task


@tm_task(help={"port": "emulator environments: the port of a running `inv local.serve` to reload (default 8080)"})
def watch(c, env=None, port=None):
    """Watch lambda/, infra/, envs/NAME.toml and the SPA; redeploy the smallest correct way. Refuses protected envs."""
    from tmkit import paths
    from tmkit import watch as watch_
    from tmkit.config import envs_dir
    from tmkit.errors import ToolkitError
    from tmkit.ui import say
    from tmkit.watch_actions import Actions

    port = "8080" if port is None else port  # a str flag: a bad value gets this message, not a parser traceback
    if not str(port).isdigit() or not 0 < int(port) < 65536:
        raise ToolkitError(f"--port {port!r} is not a TCP port: use 1-65535 (e.g. --port 8080).")
    cfg = load(env)
    watch_.check_env(cfg)
    actions = Actions(c, cfg, port=int(port), say=say)
    watch_.run(cfg, actions, root=paths.ROOT, env_file=envs_dir() / f"{cfg.name}.toml", say=say)
