"""`inv verify`: prove a deployed environment works from the outside (site, assets, API, CORS, sign-in).

The work is in tmkit/verify.py.
"""

from tmkit.tasks._base import load, tm_task


@tm_task(
    help={
        "user": "also sign in as a throwaway user it creates and deletes, and create, read and delete a task",
        "json": "print the results as JSON on stdout (the check lines still go to stderr)",
        "url": "the site URL to check (default: the SiteUrl output; on the emulator, a local server it starts)",
        "yes": "with --user on a protected (prod) environment: do not ask before creating the throwaway user",
    }
)
def verify(c, env=None, user=False, json=False, url=None, yes=False):
    """Check the deployed site and API as a browser would; one line per check, exit 1 if any fails."""
    from tmkit import verify as ver
    from tmkit.errors import ToolkitError
    from tmkit.ui import confirm, data, say

    cfg = load(env)
    if user and cfg.protected and not yes:
        confirm(
            f"--user creates a throwaway user in the user pool of {cfg.stack_name} (protected), makes and deletes "
            "one task with it, then deletes the user.",
            how_to_skip="Pass --yes to run the signed-in round trip without asking.",
        )
    results = ver.verify_env(cfg, url=url, user=user, say=say)
    if json:
        data(ver.as_json(cfg, results))
    bad = ver.failed(results)
    if bad:
        raise ToolkitError(
            f"{len(bad)} of {len(results)} checks failed for {cfg.stack_name}: "
            + ", ".join(r.name for r in bad)
            + ". See each line above (docs/deploying.md, 'Verify a deployment')."
        )
    say(f"all {len(results)} checks passed for {cfg.stack_name} ({sum(r.status == 'skip' for r in results)} skipped).")
