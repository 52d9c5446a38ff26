#!/usr/bin/env python3
"""The CDK app: one ``TimeManagement-<env>`` stack per selected environment, checked by cdk-nag.

Environment selection: ``-c env=NAME``, else ``ENVIRONMENT`` (process), else ``ENVIRONMENT`` in
the root ``.env``; with none set, every non-local environment in ``envs/``. Run by the CDK CLI
as ``.venv/bin/python -m infra.app`` from the repository root (cdk.json).
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

from infra import nag
from infra.account_stack import AccountStack
from infra.deploy_role import DeployRoleStack
from infra.stack import TimeManagementStack
from tmkit.config import available_envs, load_env, read_dotenv_environment
from tmkit.errors import ToolkitError
from tmkit.lambda_build import require_layer


def selected_envs(app: cdk.App) -> list[str]:
    """``-c env=NAME`` > ENVIRONMENT (process, then .env) > every non-local environment."""
    name = app.node.try_get_context("env") or read_dotenv_environment()
    if name:
        return [name]
    return [n for n in available_envs() if not load_env(n).is_local]


def build(app: cdk.App, env_names: list[str] | None = None) -> list[TimeManagementStack]:
    """Add one stack per environment, and one account stack per project and region of those environments
    (infra/account_stack.py, deployed by `inv bootstrap`), to ``app``; register cdk-nag with the acknowledgements."""
    names = env_names if env_names is not None else selected_envs(app)
    if not names:
        raise ToolkitError("no environment to synthesize: add an envs/<name>.toml file or pass -c env=NAME.")
    layer = require_layer()
    configs = [load_env(n) for n in names]
    stacks = [TimeManagementStack(app, cfg, layer_dir=layer) for cfg in configs]
    accounts = {cfg.account_stack_id: cfg for cfg in configs}
    nag.check(app, stacks, [AccountStack(app, cfg) for cfg in accounts.values()])
    return stacks


def deploy_role(app: cdk.App) -> None:
    """Opt-in: ``-c deploy_role=<owner/repo>`` adds the GitHub OIDC deploy role stack (infra/deploy_role.py) for
    every non-local environment, or those in ``-c deploy_role_envs=dev,qa``; ``-c oidc_provider_arn=ARN`` reuses
    the account's existing GitHub provider."""
    repo = app.node.try_get_context("deploy_role")
    if not repo:
        return
    wanted = app.node.try_get_context("deploy_role_envs")
    names = wanted.split(",") if wanted else [n for n in available_envs() if not load_env(n).is_local]
    DeployRoleStack(
        app, github_repo=repo, environments=names, oidc_provider_arn=app.node.try_get_context("oidc_provider_arn")
    )


def main() -> int:
    app = cdk.App(stack_traces=False)  # traces hold temp paths: keep the cloud assembly byte-identical
    try:
        build(app)
        deploy_role(app)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
        print(
            f"error: cdk-nag reported unacknowledged findings (listed above; report: "
            f"{app.outdir}/{nag.REPORT_FILE}). Fix each one, or acknowledge it with a reason in infra/nag.py.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
