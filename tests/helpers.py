"""Helpers shared by test modules (import as ``from tests.helpers import ...``)."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import sys
from collections.abc import Iterator

from invoke import Collection, Program

from tmkit.paths import ROOT

# The real command line, `inv` over the repository's tasks.py (run it with cwd=ROOT).
INV = (
    [str(ROOT / ".venv" / "bin" / "inv")]
    if (ROOT / ".venv" / "bin" / "inv").exists()
    else [sys.executable, "-m", "invoke"]
)

# What CloudFormation stores in a freshly created secret (the toolkit's placeholder, see docs/secrets.md).
PLACEHOLDER = '{"tmkit":"unseeded","placeholder":"Gx81kQ2mZ"}'

# Every output the stack must declare (docs/architecture.md); tasks read them, never a file.
STACK_OUTPUTS = frozenset(
    {
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "Region",
        "DistributionId",
        "DistributionDomainName",
        "SiteUrl",
        "FrontendBucketName",
        "TableName",
        "SecretNames",
        "DataAccessRoleArn",
        "ApiFunctionName",
        "EnvironmentName",
        "ApiLogGroupName",
        "ApiAccessLogGroupName",
    }
)


# What turns an environment file into a protected one (confirmation, retained data, PITR).
PROTECTED = {'removal_policy = "destroy"': 'protected = true\nremoval_policy = "retain"', "pitr = false": "pitr = true"}


def env_toml(
    emulator_port: int | None = None,
    *,
    region: str = "us-east-1",
    secrets: tuple[str, ...] = ("STRIPE_KEY", "SMTP_PASSWORD"),
) -> str:
    """A minimal valid environment file; ``emulator_port`` makes it emulator-backed."""
    text = f"""project = "TimeManagement"
region = "{region}"
removal_policy = "destroy"
pitr = false
log_retention_days = 7
secrets = {json.dumps(list(secrets))}
[budget]
monthly_limit_usd = 10
emails = ["team@example.com"]
"""
    return text + (f'[emulator]\nendpoint = "http://localhost:{emulator_port}"\n' if emulator_port else "")


ENV_TOML = env_toml()


class Pipe(io.StringIO):
    """Standard input that is not a terminal (piped)."""

    def isatty(self):
        return False


class Terminal(io.StringIO):
    """Standard input that is a terminal: the value must be prompted for, never read."""

    def isatty(self):
        return True

    def read(self, *a):  # pragma: no cover - a terminal must never be read as the value
        raise AssertionError("read the terminal instead of prompting")


def run_program(capsys, collection: Collection, *argv: str) -> tuple[int, str, str]:
    """Run ``inv <argv>`` in-process over one collection; returns (exit code, stdout, stderr)."""
    ns = Collection()
    ns.add_collection(collection)
    code = 0
    try:
        Program(namespace=ns, binary="inv").run(["inv", *argv])
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def free_port() -> int:
    """A TCP port nothing listens on right now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def distribution_config(bucket: str) -> dict:
    """A minimal CloudFront DistributionConfig in front of ``bucket`` (tests create one in moto)."""
    return {
        "CallerReference": "t",
        "Comment": "",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {"Id": "o", "DomainName": f"{bucket}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "o",
            "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }


@contextlib.contextmanager
def moto_server() -> Iterator[int]:
    """A moto server (one process-wide state, like the emulator) on 127.0.0.1 at a free port; yields the port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield port
    finally:
        server.stop()
