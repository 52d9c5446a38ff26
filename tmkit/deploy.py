"""Synth, bootstrap, diff, deploy and destroy of one environment's stack: the orchestration around the CDK CLI.

Each function takes the Invoke context (to run the CLI through it) and a validated ``EnvConfig``; the tasks in
``tmkit/tasks/stack.py`` only parse flags, call these and print. Preflight checks, per-env locks and failure
reports live in ``tmkit.lifecycle``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tmkit import aws, cdk, guard, lifecycle
from tmkit.config import EnvConfig, envs_dir
from tmkit.errors import ToolkitError
from tmkit.outputs import describe_stack
from tmkit.ui import confirm, say


def synth(c, cfg: EnvConfig | None) -> list[str]:
    """Synthesize into cdk.out/ in one CLI call (every non-local env when ``cfg`` is None); the template names."""
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
    return sorted(p.name for p in cdk.CDK_OUT.glob("*.template.json"))


def require_pinned_account(cfg: EnvConfig) -> None:
    """A protected environment deploys, diffs and destroys only in the account its env file names."""
    if cfg.protected and not cfg.is_local and cfg.account is None:
        path = envs_dir() / f"{cfg.name}.toml"
        shown = path.relative_to(cdk.ROOT) if path.is_relative_to(cdk.ROOT) else path
        raise ToolkitError(
            f"{shown}: field 'account' is required for a protected environment, so its commands can never run "
            f'against another account. Add account = "<12-digit id>" to {shown} (synth works without it).'
        )


def prepare(cfg: EnvConfig) -> list[lifecycle.Check]:
    """Preflight that every AWS-touching command runs first (pinned account, emulator up, credentials, account)."""
    require_pinned_account(cfg)
    checks = lifecycle.preflight(cfg, tools=False)
    lifecycle.require(checks)
    return checks


def _deploy_args(cfg: EnvConfig, stack: str) -> list[str]:
    """``cdk deploy`` of one stack without prompts; direct on the emulator (moto runs change sets out of order)."""
    return [stack, "--require-approval", "never", "--progress", "events"] + (
        ["--method=direct"] if cfg.is_local else []
    )


def bootstrap(c, cfg: EnvConfig, *, assembly: Path | None = None) -> None:
    """The CDK bootstrap stack (asset bucket, roles), then the account stack (API Gateway's logging role, once per
    account and region: infra/account_stack.py) in the environment's account and region. ``assembly``: deploy
    the account stack from this already synthesized cloud assembly."""
    prepare(cfg)
    account = aws.caller_account(cfg)
    cdk.run(c, "bootstrap", f"aws://{account}/{cfg.region}", cfg=cfg)
    result = cdk.run(c, "deploy", *_deploy_args(cfg, cfg.account_stack_id), cfg=cfg, app=assembly, warn=True)
    if result.failed:
        raise ToolkitError(
            f"deploy of the account stack {cfg.account_stack_name} ({cfg.region}) failed (see the messages above). "
            f"Fix the cause and rerun `inv bootstrap --env {cfg.name}`."
        )


def diff(c, cfg: EnvConfig, *, fail: bool = False) -> int:
    """Print the stack's diff and its stateful changes; the number of stacks with differences (0 or 1).

    ``--method template`` compares templates with the CDK lookup role only (read-only, no change set, no asset
    publishing). A diff that could not be computed raises; ``fail`` raises when there are differences.
    """
    prepare(cfg)
    result = cdk.run(c, "diff", cfg.stack_name, "--method", "template", cfg=cfg, warn=True)
    count = cdk.differences(result)
    if result.failed or count is None:
        raise ToolkitError(
            f"the diff of {cfg.stack_name} could not be computed (see the messages above). "
            f"Fix the cause (credentials, `inv doctor --env {cfg.name}`) and retry."
        )
    changes = guard.stateful_changes(cfg, cdk.out_dir(cfg))
    if changes:
        say(f"stateful resources that a deploy would replace, destroy or orphan:{guard.report(changes)}")
    else:
        say("stateful resources: no replacement, destruction or orphaning")
    if fail and count:
        raise ToolkitError(f"{cfg.stack_name} differs from the code (--fail): review the diff above.")
    return count


def _synth_one(c, cfg: EnvConfig) -> Path:
    """Synthesize only ``cfg``'s stack into its own assembly folder, which the deploy then uses as is."""
    result = cdk.run(c, "synth", cfg.stack_name, "--quiet", cfg=cfg, warn=True)
    if result.failed:
        raise ToolkitError(
            f"synth of {cfg.stack_name} failed (see the messages above). Nothing was changed; fix it and retry."
        )
    return cdk.out_dir(cfg)


def deploy(c, cfg: EnvConfig, *, hotswap: bool = False, yes: bool = False, allow_replace: Iterable[str] = ()) -> None:
    """Synth, stop at the stateful-resource guard, bootstrap when needed, show the diff and ask on a protected
    env, deploy exactly the checked assembly; a failure names the resources."""
    if hotswap and cfg.protected:
        raise ToolkitError(
            f"--hotswap is not allowed on '{cfg.name}' (protected): it bypasses CloudFormation. "
            "Deploy without --hotswap."
        )
    with lifecycle.env_lock(cfg):
        checks = prepare(cfg)
        assembly = _synth_one(c, cfg)
        guard.enforce(cfg, guard.stateful_changes(cfg, assembly), allow_replace, say=say)  # before any change
        if not next(ch for ch in checks if ch.name == "bootstrap").ok:
            say(f"'{cfg.name}' ({cfg.region}) is not bootstrapped yet: bootstrapping first")
            bootstrap(c, cfg, assembly=assembly)
        if cfg.protected:
            cdk.run(c, "diff", cfg.stack_name, cfg=cfg, app=assembly, warn=True)
            if not yes:
                confirm(
                    f"Deploy the changes above to {cfg.stack_name}?", how_to_skip="Pass --yes to deploy without asking."
                )
        args = _deploy_args(cfg, cfg.stack_name) + (["--hotswap"] if hotswap else [])
        result = cdk.run(c, "deploy", *args, cfg=cfg, app=assembly, warn=True)
        if result.failed:
            report = lifecycle.failure_report(cfg)
            status = lifecycle.stack_status(cfg) or "not created"
            raise ToolkitError(
                f"deploy of {cfg.stack_name} failed"
                + (f": {report}" if report else "")
                + f". Stack status: {status}. Fix the cause and rerun `inv deploy --env {cfg.name}`."
            )


def destroy(c, cfg: EnvConfig, *, yes: bool = False, force: bool = False) -> bool:
    """Delete the stack, emptying the frontend bucket first when it goes too; False when nothing was deployed."""
    require_pinned_account(cfg)
    if cfg.protected and not (yes and force):
        confirm(
            f"This deletes the stack {cfg.stack_name} (protected).",
            expected=cfg.name,
            how_to_skip="To destroy a protected environment from automation pass --yes --force.",
        )
    with lifecycle.env_lock(cfg):
        prepare(cfg)
        stack = describe_stack(cfg)
        if stack is None:
            return False
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
    return True
