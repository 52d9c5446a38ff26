"""Stack outputs: read from CloudFormation DescribeStacks (never from a file), rendered for people and the frontend."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from tmkit.aws import aws_errors, client
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError

# Frontend variable <- stack output. The one place this mapping is written.
VITE_OUTPUTS = {
    "VITE_API_URL": "ApiUrl",
    "VITE_REGION": "Region",
    "VITE_USER_POOL_ID": "UserPoolId",
    "VITE_USER_POOL_CLIENT_ID": "UserPoolClientId",
    "VITE_ENVIRONMENT": "EnvironmentName",
    "VITE_SITE_URL": "SiteUrl",
}
# Offline, `inv local.serve` is the API and the Cognito front door (same origin, so no CORS):
# the emulator runs no Lambda, and the browser must not talk to it directly.
LOCAL_SERVE_OVERRIDES = {"VITE_API_URL": "/api", "VITE_COGNITO_ENDPOINT": "/cognito"}

_GONE = ("DELETE_COMPLETE",)


def not_deployed(cfg: EnvConfig) -> ToolkitError:
    return ToolkitError(f"stack {cfg.stack_name} is not deployed: run `inv deploy --env {cfg.name}` first.")


def describe_stack(cfg: EnvConfig) -> dict | None:
    """The stack's DescribeStacks entry, or None when it does not exist."""
    from botocore.exceptions import ClientError

    with aws_errors(cfg, f"reading stack {cfg.stack_name}"):
        try:
            stacks = client(cfg, "cloudformation").describe_stacks(StackName=cfg.stack_name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise
    stacks = [s for s in stacks if s.get("StackStatus") not in _GONE]
    return stacks[0] if stacks else None


def stack_outputs(cfg: EnvConfig) -> dict[str, str]:
    """``{OutputKey: OutputValue}`` of the deployed stack; ToolkitError when it is not deployed."""
    stack = describe_stack(cfg)
    if stack is None:
        raise not_deployed(cfg)
    status = stack["StackStatus"]
    if status in ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        raise ToolkitError(
            f"stack {cfg.stack_name} failed to create ({status}): fix the cause and rerun "
            f"`inv deploy --env {cfg.name}`."
        )
    if status == "CREATE_IN_PROGRESS":
        raise ToolkitError(
            f"stack {cfg.stack_name} is being created ({status}): wait for the running deploy to finish, then retry."
        )
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    if not outputs:
        raise ToolkitError(
            f"stack {cfg.stack_name} has no outputs (status {stack['StackStatus']}): "
            f"rerun `inv deploy --env {cfg.name}`."
        )
    return outputs


def frontend_vars(cfg: EnvConfig, outputs: dict[str, str]) -> dict[str, str]:
    missing = sorted(out for out in VITE_OUTPUTS.values() if not outputs.get(out))
    if missing:
        raise ToolkitError(
            f"stack {cfg.stack_name} lacks the outputs {', '.join(missing)}: "
            f"redeploy with `inv deploy --env {cfg.name}`."
        )
    values = {var: outputs[out] for var, out in VITE_OUTPUTS.items()}
    if cfg.is_local:
        values.update(LOCAL_SERVE_OVERRIDES)
    return values


def render(values: dict[str, str], fmt: str = "env") -> str:
    if fmt == "json":
        return json.dumps(values, indent=2, sort_keys=True) + "\n"
    if fmt == "env":
        return "".join(f"{k}={_env_quote(v)}\n" for k, v in values.items())
    raise ToolkitError(f"unknown format {fmt!r}: use --format env or --format json.")


def render_env(cfg: EnvConfig, outputs: dict[str, str], fmt: str = "env") -> str:
    """The frontend's ``.env`` (or JSON) text from the stack outputs."""
    return render(frontend_vars(cfg, outputs), fmt)


def _env_quote(value: str) -> str:
    if value and all(ch.isalnum() or ch in "-_./:@+,=" for ch in value):
        return value
    return json.dumps(value)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file and rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
