"""`inv secrets.*`: seed and inspect the environment's Secrets Manager secrets (values never printed)."""

from invoke import Collection

from tmkit.tasks._base import load, tm_task
from tmkit.ui import data, say, table


@tm_task(
    positional=["key"],
    help={
        "key": "a secret key declared in envs/NAME.toml (`secrets = [...]`)",
        "from-file": "read the value from this file (one trailing newline is dropped) instead of standard input",
    },
)
def put(c, key, env=None, from_file=None):
    """Store a secret value as a new version; the value comes from stdin, a hidden prompt or --from-file."""
    from tmkit import secrets

    cfg = load(env)
    secrets.require_declared(cfg, key)  # before asking for a value
    value = secrets.read_value(key, from_file=from_file)
    say(secrets.put(cfg, key, value).describe())


@tm_task(name="list", help={"json": "print the list as JSON on stdout instead of a table on stderr"})
def list_(c, env=None, json=False):
    """List the declared secrets: full name, seeded or not, last changed (never values)."""
    from tmkit import secrets

    cfg = load(env)
    items = secrets.statuses(cfg)
    if json:
        data(secrets.to_json(items))
        return
    if not items:
        say(f"environment '{cfg.name}' declares no secrets (envs/{cfg.name}.toml: secrets = [...]).")
        return
    table(["key", "secret name", "state", "last changed"], secrets.table_rows(items))


@tm_task
def check(c, env=None):
    """Fail (exit 1) when a declared secret is missing or still holds the deploy-time placeholder."""
    from tmkit import secrets

    cfg = load(env)
    items = secrets.check(cfg)
    say(f"all {len(items)} secrets of environment '{cfg.name}' are seeded.")


ns = Collection("secrets", put, list_, check)
