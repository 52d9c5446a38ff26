"""Root tasks of the stack lifecycle: synth, bootstrap, diff, deploy, destroy, doctor."""

from tmkit.tasks._base import load, tm_task
from tmkit.ui import say


@tm_task(help={"env": "synthesize only this environment (default: every non-local environment)"})
def synth(c, env=None):
    """Synthesize templates into cdk.out/ in one CDK CLI call; fails listing unacknowledged cdk-nag findings."""
    from tmkit import cdk
    from tmkit.errors import ToolkitError

    cfg = load(env) if env else None
    report = cdk.CDK_OUT / cdk.REPORT_FILE
    report.unlink(missing_ok=True)  # a stale report or template from an earlier synth must not decide this one
    for old in cdk.CDK_OUT.glob("*.template.json"):
        old.unlink()
    result = cdk.run(c, "synth", "--quiet", cfg=cfg, output=cdk.CDK_OUT, warn=True)
    findings = cdk.unacknowledged(cdk.CDK_OUT)
    if result.failed or findings:
        listed = "".join(f"\n  {f}" for f in findings)
        fix = (
            "\nFix the construct, or acknowledge the finding with a reason in infra/nag.py."
            if findings
            else " Fix what the messages above name (env file, Lambda layer, cdk-nag error) and retry."
        )
        raise ToolkitError(
            f"synth failed{' with unacknowledged cdk-nag findings:' if findings else ' (see the messages above)'}"
            f"{listed}{fix}"
        )
    templates = sorted(p.name for p in cdk.CDK_OUT.glob("*.template.json"))
    say(f"synthesized {', '.join(templates)} into cdk.out/")


def _prepare(cfg):
    """Preflight that every AWS-touching task runs first (emulator up, credentials, account)."""
    from tmkit import lifecycle

    checks = lifecycle.preflight(cfg, tools=False)
    lifecycle.require(checks)
    return checks


@tm_task(help={"env": "environment whose account/region to bootstrap"})
def bootstrap(c, env=None):
    """Create the CDK bootstrap stack (asset bucket, roles) in the environment's account and region."""
    from tmkit import cdk
    from tmkit.aws import caller_account

    cfg = load(env)
    _prepare(cfg)
    account = caller_account(cfg)
    cdk.run(c, "bootstrap", f"aws://{account}/{cfg.region}", cfg=cfg)


@tm_task
def diff(c, env=None):
    """Show what a deploy would change in the environment's stack."""
    from tmkit import cdk

    cfg = load(env)
    _prepare(cfg)
    cdk.run(c, "diff", cfg.stack_name, cfg=cfg, warn=True)


@tm_task(
    help={
        "hotswap": "update Lambda code in place without CloudFormation (dev/qa only; refused on protected envs)",
        "yes": "do not ask for confirmation on a protected (prod) environment",
    }
)
def deploy(c, env=None, hotswap=False, yes=False):
    """Deploy the environment's stack (bootstraps first when needed) and print its outputs."""
    from tmkit import cdk, lifecycle
    from tmkit.errors import ToolkitError
    from tmkit.ui import confirm

    cfg = load(env)
    if hotswap and cfg.protected:
        raise ToolkitError(
            f"--hotswap is not allowed on '{cfg.name}' (protected): it bypasses CloudFormation. "
            "Deploy without --hotswap."
        )
    with lifecycle.env_lock(cfg):
        checks = _prepare(cfg)
        if not next(ch for ch in checks if ch.name == "bootstrap").ok:
            say(f"'{cfg.name}' ({cfg.region}) is not bootstrapped yet: bootstrapping first")
            bootstrap(c, env=cfg.name)
        if cfg.protected:
            cdk.run(c, "diff", cfg.stack_name, cfg=cfg, warn=True)
            if not yes:
                confirm(
                    f"Deploy the changes above to {cfg.stack_name}?", how_to_skip="Pass --yes to deploy without asking."
                )
        args = [cfg.stack_name, "--require-approval", "never", "--progress", "events"]
        args += ["--method=direct"] if cfg.is_local else []
        args += ["--hotswap"] if hotswap else []
        result = cdk.run(c, "deploy", *args, cfg=cfg, warn=True)
        if result.failed:
            report = lifecycle.failure_report(cfg)
            status = lifecycle.stack_status(cfg) or "not created"
            raise ToolkitError(
                f"deploy of {cfg.stack_name} failed"
                + (f": {report}" if report else "")
                + f". Stack status: {status}. Fix the cause and rerun `inv deploy --env {cfg.name}`."
            )
    from tmkit.tasks.outputs import show

    show(c, env=cfg.name)


@tm_task(
    help={
        "yes": "skip the typed confirmation (a protected env also needs --force)",
        "force": "with --yes, destroy a protected (prod) environment without a prompt",
    }
)
def destroy(c, env=None, yes=False, force=False):
    """Delete the environment's stack; empties the versioned frontend bucket first (all versions)."""
    from tmkit import cdk, lifecycle
    from tmkit.errors import ToolkitError
    from tmkit.outputs import describe_stack
    from tmkit.ui import confirm

    cfg = load(env)
    if cfg.protected and not (yes and force):
        confirm(
            f"This deletes the stack {cfg.stack_name} (protected).",
            expected=cfg.name,
            how_to_skip="To destroy a protected environment from automation pass --yes --force.",
        )
    with lifecycle.env_lock(cfg):
        _prepare(cfg)
        stack = describe_stack(cfg)
        if stack is None:
            say(f"stack {cfg.stack_name} is not deployed: nothing to destroy")
            return
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        bucket = outputs.get("FrontendBucketName")
        if bucket and cfg.removal_policy == "destroy":
            say(f"emptying s3://{bucket} (all versions) ...")
            say(f"removed {lifecycle.empty_bucket(cfg, bucket)} object versions")
        result = cdk.run(c, "destroy", cfg.stack_name, "--force", cfg=cfg, warn=True)
        if result.failed or describe_stack(cfg) is not None:
            report = lifecycle.failure_report(cfg)
            raise ToolkitError(
                f"destroy of {cfg.stack_name} failed"
                + (f": {report}" if report else "")
                + f". Fix the cause and rerun `inv destroy --env {cfg.name}`."
            )
    say(
        f"destroyed {cfg.stack_name}"
        + (" (table and bucket retained by policy)" if cfg.removal_policy == "retain" else "")
    )


@tm_task
def doctor(c, env=None):
    """Check the toolchain, credentials, account and bootstrap for an environment."""
    from tmkit import lifecycle
    from tmkit.ui import table

    cfg = load(env)
    checks = lifecycle.preflight(cfg)
    table(
        ["check", "status", "detail"],
        [(ch.name, "ok" if ch.ok else ("FAIL" if ch.fatal else "warn"), ch.detail) for ch in checks],
    )
    lifecycle.require(checks)
    say(f"'{cfg.name}' is ready to deploy")
