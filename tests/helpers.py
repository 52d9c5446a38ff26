"""Helpers shared by test modules (import as ``from tests.helpers import ...``)."""

from __future__ import annotations

import io

from invoke import Collection, Program

# What CloudFormation stores in a freshly created secret (the toolkit's placeholder, see docs/secrets.md).
PLACEHOLDER = '{"tmkit":"unseeded","placeholder":"Gx81kQ2mZ"}'

# A minimal valid environment file; ``emulator_port`` makes it emulator-backed.
ENV_TOML = """project = "TimeManagement"
region = "us-east-1"
removal_policy = "destroy"
pitr = false
log_retention_days = 7
secrets = ["STRIPE_KEY", "SMTP_PASSWORD"]
[budget]
monthly_limit_usd = 10
emails = ["team@example.com"]
"""


def env_toml(emulator_port: int | None = None) -> str:
    return ENV_TOML + (f'[emulator]\nendpoint = "http://localhost:{emulator_port}"\n' if emulator_port else "")


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
    import socket

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
