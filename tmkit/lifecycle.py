"""The stack lifecycle around the CDK CLI: preflight checks, bootstrap detection, per-env locks,
failure reports, emptying the versioned bucket before a destroy."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from tmkit.aws import aws_errors, check_account, client
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError
from tmkit.paths import STATE_DIR

BOOTSTRAP_PARAM = "/cdk-bootstrap/hnb659fds/version"
MIN_BOOTSTRAP_VERSION = 6  # what the synthesized templates' CheckBootstrapVersion rule demands
MIN_NODE_MAJOR = 18


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fatal: bool = True  # a failed non-fatal check is a warning


def _version_of(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"\d+\.\d+\.\d+", out.stdout)
    return match.group(0) if out.returncode == 0 and match else None


def bootstrap_version(cfg: EnvConfig) -> int | None:
    """The CDK bootstrap stack version in the env's account/region, None when not bootstrapped."""
    from botocore.exceptions import ClientError

    with aws_errors(cfg, "reading the CDK bootstrap version"):
        try:
            value = client(cfg, "ssm").get_parameter(Name=BOOTSTRAP_PARAM)["Parameter"]["Value"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ParameterNotFound":
                return None
            raise
    return int(value) if value.isdigit() else None


def credentials_check(cfg: EnvConfig) -> Check:
    if cfg.is_local:
        return Check("credentials", True, "fake emulator credentials")
    import boto3

    try:
        creds = boto3.Session(region_name=cfg.region).get_credentials()
    except Exception as exc:  # a broken profile: ProfileNotFound and friends
        return Check(
            "credentials", False, f"{exc}. Set AWS_PROFILE to a configured profile or run `aws configure sso`."
        )
    if creds is None:
        return Check(
            "credentials",
            False,
            "no AWS credentials found. Set AWS_PROFILE to a configured profile "
            "(or run `aws configure sso` to create one).",
        )
    return Check("credentials", True, f"found ({creds.method})")


def preflight(cfg: EnvConfig, *, tools: bool = True) -> list[Check]:
    """Everything `inv doctor` reports; `deploy` runs it first and stops on a fatal failure."""
    checks: list[Check] = []
    if tools:
        from tmkit import cdk

        node = _version_of(["node", "--version"])
        node_ok = node is not None and int(node.split(".")[0]) >= MIN_NODE_MAJOR
        checks.append(
            Check(
                "node",
                node_ok,
                node or "not found",
            )
        )
        cdk_version = _version_of([str(cdk.CDK_BIN), "--version"]) if cdk.CDK_BIN.exists() else None
        checks.append(Check("cdk cli", cdk_version is not None, cdk_version or "missing: run `make setup`"))
    checks.append(Check("region", bool(cfg.region), cfg.region or "not set: add region to the env file"))
    if cfg.is_local:
        from tmkit.emulator import is_running

        up = is_running(cfg)
        checks.append(Check("emulator", up, cfg.endpoint_url if up else "not running: start it with `inv local.up`"))
        if not up:
            return checks
    creds = credentials_check(cfg)
    checks.append(creds)
    if not creds.ok:
        return checks
    try:
        account = check_account(cfg)
        checks.append(Check("account", True, account + ("" if cfg.expected_account else " (env declares none)")))
        version = bootstrap_version(cfg)
    except ToolkitError as exc:
        checks.append(Check("account", False, str(exc)))
        return checks
    checks.append(
        Check(
            "bootstrap",
            (version or 0) >= MIN_BOOTSTRAP_VERSION,
            f"version {version}" if version else "not bootstrapped: `inv bootstrap` (deploy does it for you)",
            fatal=False,
        )
    )
    return checks


def require(checks: list[Check]) -> None:
    failed = [c for c in checks if c.fatal and not c.ok]
    if failed:
        raise ToolkitError("preflight failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed))


@contextlib.contextmanager
def env_lock(cfg: EnvConfig) -> Iterator[None]:
    """One lifecycle command per environment at a time; different environments run in parallel."""
    import fcntl

    lock_dir = STATE_DIR / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{cfg.name}.lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            raise ToolkitError(
                f"another deploy or destroy of '{cfg.name}' is running ({fh.read().strip() or 'pid ?'}). "
                "Wait for it to finish, then retry."
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def failure_report(cfg: EnvConfig, limit: int = 5) -> str:
    """The failed resources of the stack's latest operation, each with its reason."""
    try:
        with aws_errors(cfg):
            events = client(cfg, "cloudformation").describe_stack_events(StackName=cfg.stack_name)["StackEvents"]
    except Exception:  # the report is best effort; the caller already knows the deploy failed
        return ""
    failed = []
    for ev in events:  # newest first
        if (
            ev.get("ResourceType") == "AWS::CloudFormation::Stack"
            and failed
            and ev.get("ResourceStatus") in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS")
        ):
            break  # reached the start of the failed operation
        if ev.get("ResourceStatus", "").endswith("_FAILED") and ev.get("ResourceType") != "AWS::CloudFormation::Stack":
            failed.append(
                f"{ev['LogicalResourceId']} ({ev['ResourceType']}): {ev.get('ResourceStatusReason', 'no reason given')}"
            )
        if len(failed) >= limit:
            break
    return "; ".join(failed)


def stack_status(cfg: EnvConfig) -> str | None:
    from tmkit.outputs import describe_stack

    stack = describe_stack(cfg)
    return stack["StackStatus"] if stack else None


def empty_bucket(cfg: EnvConfig, bucket: str) -> int:
    """Delete every object version and delete marker (a versioned bucket cannot be deleted otherwise)."""
    from botocore.exceptions import ClientError

    s3 = client(cfg, "s3")
    removed = 0
    with aws_errors(cfg, f"emptying bucket {bucket}"):
        try:
            pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
            for page in pages:
                keys = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                ]
                for i in range(0, len(keys), 1000):
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i : i + 1000], "Quiet": True})
                    removed += len(keys[i : i + 1000])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchBucket":
                raise
    return removed
