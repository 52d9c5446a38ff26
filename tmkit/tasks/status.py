"""`inv status`: what is deployed where, across every environment of this project."""

from tmkit.tasks._base import tm_task


@tm_task(help={"json": "one JSON object per environment on stdout (one per line) instead of a table on stderr"})
def status(c, json=False):
    """Every environment (env files and previews): stack status, last update, live release, secrets, expiry, URL."""
    import json as jsonlib

    from tmkit import status as status_mod
    from tmkit.ui import data, say, table

    rows = status_mod.collect()
    if json:
        data("".join(jsonlib.dumps(r, sort_keys=True) + "\n" for r in rows))
        return
    if not rows:
        say("no environment in reach.")
        return
    table(["env", "stack", "updated", "release", "secrets", "expires-at", "site"], status_mod.table_rows(rows))
    for r in rows:
        if r.get("error"):
            say(f"{r['name']}: {r['error']}")
