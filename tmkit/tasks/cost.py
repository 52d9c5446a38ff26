"""`inv cost.*`: cost guardrails that are account settings rather than stack resources."""

from invoke import Collection

from tmkit.tasks._base import load, tm_task
from tmkit.ui import say


@tm_task(help={"dry-run": "show which tags would be activated, change nothing"})
def tags(c, env=None, dry_run=False):
    """Activate the cost allocation tags project-name and environment (Cost Explorer; up to 24 h delay)."""
    from tmkit import cost

    cfg = load(env)
    if cfg.is_local:
        say(
            f"environment '{cfg.name}' runs on the local emulator, which has no billing: "
            "there are no cost allocation tags to activate. Nothing was changed."
        )
        return
    plan = cost.plan(cfg)
    for key in plan.active:
        say(f"{key}: already active")
    for key in plan.inactive:
        say(f"{key}: inactive -> {'would activate' if dry_run else 'activating'}")
    for key in plan.unseen:
        say(
            f"{key}: not seen on a billed resource yet -> {'would try to activate' if dry_run else 'trying to activate'}"
        )
    if dry_run:
        say("dry run: nothing was changed.")
    else:
        cost.activate(cfg, plan.to_activate)
        say(f"cost allocation tags active: {', '.join(cost.TAG_KEYS)}.")
    say(cost.DELAY_NOTE)


ns = Collection("cost", tags)
