"""Root tasks of the stack lifecycle: synth, bootstrap, diff, deploy, destroy, doctor.

The work is in ``tmkit.deploy``; these bodies parse flags, call it and print.
"""

from tmkit.tasks import outputs
from tmkit.tasks._base import load, tm_task
from tmkit.ui import say, table


@tm_task(help={"env": "synthesize only this environment (default: every non-local environment)"})
def synth(c, env=None):
    """Synthesize templates into cdk.out/ in one CDK CLI call; fails listing unacknowledged cdk-nag findings."""
    from tmkit import deploy as stack_ops

    templates = stack_ops.synth(c, load(env) if env else None)
    say(f"synthesized {', '.join(templates)} into cdk.out/")


@tm_task(help={"env": "environment whose account/region to bootstrap"})
def bootstrap(c, env=None):
    """Create the CDK bootstrap stack (asset bucket, roles) in the environment's account and region."""
    from tmkit import deploy as stack_ops

    stack_ops.bootstrap(c, load(env))


@tm_task(help={"fail": "exit 1 when the stack differs from the code (for CI)"})
def diff(c, env=None, fail=False):
    """Show what a deploy would change, and which stateful resources it would replace; exit 1 if it cannot."""
    from tmkit import deploy as stack_ops

    stack_ops.diff(c, load(env), fail=fail)


@tm_task(
    help={
        "hotswap": "update Lambda code in place without CloudFormation (dev/qa only; refused on protected envs)",
        "yes": "do not ask for confirmation on a protected (prod) environment",
        "allow_replace": "LOGICAL_ID of a stateful resource the deploy may replace/destroy (repeatable)",
    },
    iterable=["allow_replace"],
)
def deploy(c, env=None, hotswap=False, yes=False, allow_replace=None):
    """Deploy the environment's stack (bootstraps first when needed) and print its outputs."""
    from tmkit import deploy as stack_ops

    cfg = load(env)
    stack_ops.deploy(c, cfg, hotswap=hotswap, yes=yes, allow_replace=allow_replace or ())
    outputs.show(c, env=cfg.name)


@tm_task(
    help={
        "yes": "skip the typed confirmation (a protected env also needs --force)",
        "force": "with --yes, destroy a protected (prod) environment without a prompt",
    }
)
def destroy(c, env=None, yes=False, force=False):
    """Delete the environment's stack; empties the versioned frontend bucket first (all versions)."""
    from tmkit import deploy as stack_ops

    cfg = load(env)
    if not stack_ops.destroy(c, cfg, yes=yes, force=force):
        say(f"stack {cfg.stack_name} is not deployed: nothing to destroy")
        return
    say(
        f"destroyed {cfg.stack_name}"
        + (" (table and bucket retained by policy)" if cfg.removal_policy == "retain" else "")
    )


@tm_task
def doctor(c, env=None):
    """Check the toolchain, credentials, account and bootstrap for an environment."""
    from tmkit import lifecycle

    cfg = load(env)
    checks = lifecycle.preflight(cfg)
    table(
        ["check", "status", "detail"],
        [(ch.name, "ok" if ch.ok else ("FAIL" if ch.fatal else "warn"), ch.detail) for ch in checks],
    )
    lifecycle.require(checks)
    say(f"'{cfg.name}' is ready to deploy")
