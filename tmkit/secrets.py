"""Secrets of one environment: read a value safely, write it as a new version, report what is seeded.

The stack owns every secret: CloudFormation creates ``TimeManagement-<env>/<key>`` for each key
declared in ``envs/<env>.toml`` with a generated PLACEHOLDER value (JSON ``{"tmkit": "unseeded", ...}``).
``put`` only ever writes a new version of a secret that already exists; it never creates one, because
CloudFormation would then fail on the next deploy with "already exists". A secret whose current
value is the placeholder counts as not seeded (the Lambda answers 503 for it).

Values never leave this module except towards Secrets Manager: nothing here prints, logs or puts
a value into an exception message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from tmkit.api_contract import PLACEHOLDER_FIELD, PLACEHOLDER_VALUE
from tmkit.aws import aws_errors, client, error_code
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError
from tmkit.ui import read_hidden

MAX_VALUE_BYTES = 65536  # Secrets Manager's limit for SecretString

SEEDED, UNSEEDED, MISSING, DELETED = "seeded", "unseeded", "missing", "scheduled for deletion"


def is_placeholder(value: str | None) -> bool:
    """True for the value CloudFormation generates (JSON with ``"tmkit": "unseeded"``)."""
    if value is None:
        return False
    try:
        doc = json.loads(value)
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get(PLACEHOLDER_FIELD) == PLACEHOLDER_VALUE


def _put_hint(cfg: EnvConfig, key: str = "KEY") -> str:
    return f"`inv secrets.put --env {cfg.name} {key}` (value on standard input, a hidden prompt or --from-file)"


def _deploy_hint(cfg: EnvConfig) -> str:
    return f"run `inv deploy --env {cfg.name}` first (the stack creates the secret with a placeholder)"


@contextlib.contextmanager
def _no_wire_logging():
    """botocore logs request and response bodies at DEBUG: keep secret traffic out of any debug log."""
    names = ["boto3", "botocore"] + [
        n for n in logging.root.manager.loggerDict if n.startswith(("boto3.", "botocore."))
    ]
    saved = [(lg, lg.level) for lg in map(logging.getLogger, names)]
    for lg, _ in saved:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.INFO))
    try:
        yield
    finally:
        for lg, level in saved:
            lg.setLevel(level)


quiet_wire = _no_wire_logging  # for other modules that read a secret value (tmkit/preview.py)


# ---- reading the value ------------------------------------------------------------------------


def read_value(
    key: str, *, from_file: str | None = None, stdin: TextIO | None = None, prompt: Callable[[str], str] | None = None
) -> str:
    """The value to store: from ``from_file``, else piped standard input, else a hidden prompt (asked twice).

    Exactly one trailing newline is removed from a file or piped input. Empty values, values over
    ``MAX_VALUE_BYTES`` (read with that bound: ``< /dev/zero`` stops at once), NUL bytes and invalid
    UTF-8 are refused, with messages that never quote the value.
    """
    value, source = read_hidden(
        f"value for {key}",
        flag="--from-file",
        from_file=from_file,
        stdin=stdin,
        prompt=prompt,
        max_bytes=MAX_VALUE_BYTES,
        limit_name="Secrets Manager's limit",
    )
    if not value.strip():
        raise ToolkitError(
            f"the value for {key} from {source} is empty. Nothing was changed. Pipe the value in "
            f'(`printf %s "$VALUE" | inv secrets.put ... {key}`), type it at the prompt, '
            "or use --from-file PATH."
        )
    if is_placeholder(value):
        raise ToolkitError(
            f'the value for {key} is the toolkit\'s placeholder ({{"{PLACEHOLDER_FIELD}": '
            f'"{PLACEHOLDER_VALUE}"}}), which would count as not seeded. Nothing was changed; '
            "give the real value."
        )
    return value


# ---- writing -----------------------------------------------------------------------------------


def require_declared(cfg: EnvConfig, key: str) -> None:
    if key not in cfg.secrets:
        declared = ", ".join(cfg.secrets) or "(none)"
        raise ToolkitError(
            f"secret key {key!r} is not declared for environment '{cfg.name}' "
            f"(declared: {declared}). Check the spelling, or add it to `secrets = [...]` in "
            f"envs/{cfg.name}.toml and run `inv deploy --env {cfg.name}` so the stack creates it."
        )


@dataclasses.dataclass(frozen=True)
class PutResult:
    key: str
    name: str
    version_id: str

    def describe(self) -> str:
        return f"{self.key}: new version {self.version_id} of {self.name}"


def put(cfg: EnvConfig, key: str, value: str) -> PutResult:
    """Write ``value`` as the new current version of ``key``'s secret. The secret must already exist."""
    require_declared(cfg, key)
    name = cfg.secret_name(key)
    sm = client(cfg, "secretsmanager")
    not_found = (
        f"secret {name} does not exist: the stack {cfg.stack_name} is not deployed, or was "
        f"deployed before {key} was declared. Nothing was changed; {_deploy_hint(cfg)}, "
        "then run this command again."
    )
    with (
        aws_errors(
            cfg,
            f"writing secret {name}",
            codes={"ResourceNotFoundException": not_found},
            denied="Use credentials allowed secretsmanager:DescribeSecret and PutSecretValue on it and retry.",
            otherwise="Check the secret in the AWS console and retry.",
        ),
        _no_wire_logging(),
    ):
        if sm.describe_secret(SecretId=name).get("DeletedDate"):
            raise ToolkitError(
                f"secret {name} is scheduled for deletion (was the stack destroyed?). Nothing "
                "was changed. If the stack is deployed, restore it with `aws secretsmanager "
                f"restore-secret --secret-id {name}`; if it was destroyed, remove the name with "
                f"`aws secretsmanager delete-secret --secret-id {name} "
                f"--force-delete-without-recovery`, then `inv deploy --env {cfg.name}`."
            )
        response = sm.put_secret_value(SecretId=name, SecretString=value)
    return PutResult(key=key, name=name, version_id=response["VersionId"])


# ---- reporting ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SecretStatus:
    key: str
    name: str
    state: str  # SEEDED | UNSEEDED | MISSING | DELETED
    last_changed: datetime | None = None

    @property
    def seeded(self) -> bool:
        return self.state == SEEDED

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "name": self.name,
            "state": self.state,
            "seeded": self.seeded,
            "last_changed": self.last_changed.isoformat() if self.last_changed else None,
        }


def _status(cfg: EnvConfig, sm, key: str) -> SecretStatus:
    from botocore.exceptions import ClientError

    name = cfg.secret_name(key)
    try:
        meta = sm.describe_secret(SecretId=name)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return SecretStatus(key, name, MISSING)
        raise
    changed = meta.get("LastChangedDate") or meta.get("CreatedDate")
    if changed is not None and changed.tzinfo is None:
        changed = changed.replace(tzinfo=UTC)
    if meta.get("DeletedDate"):
        return SecretStatus(key, name, DELETED, changed)
    try:
        current = sm.get_secret_value(SecretId=name)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":  # no AWSCURRENT version
            return SecretStatus(key, name, UNSEEDED, changed)
        raise
    state = UNSEEDED if is_placeholder(current.get("SecretString")) else SEEDED
    del current  # the value is not kept beyond this line
    return SecretStatus(key, name, state, changed)


def statuses(cfg: EnvConfig) -> list[SecretStatus]:
    """One status per key declared in the env file, in declaration order. Reads values, returns none."""
    sm = client(cfg, "secretsmanager")
    with (
        aws_errors(
            cfg,
            f"reading the secrets of {cfg.stack_name}",
            denied="Use credentials allowed secretsmanager:DescribeSecret and GetSecretValue on them and retry.",
            otherwise="Retry, and check them in the AWS console.",
        ),
        _no_wire_logging(),
    ):
        return [_status(cfg, sm, key) for key in cfg.secrets]


def table_rows(items: list[SecretStatus]) -> list[tuple[str, str, str, str]]:
    def when(s: SecretStatus) -> str:
        return s.last_changed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if s.last_changed else "-"

    return [(s.key, s.name, s.state, when(s)) for s in items]


def to_json(items: list[SecretStatus]) -> str:
    return json.dumps([s.as_dict() for s in items], indent=2)


def check(cfg: EnvConfig, items: list[SecretStatus] | None = None) -> list[SecretStatus]:
    """Raise ToolkitError naming every declared key that is not seeded; return the statuses otherwise."""
    items = statuses(cfg) if items is None else items
    bad = [s for s in items if not s.seeded]
    if not bad:
        return items
    listed = "; ".join(f"{s.key} ({s.state})" for s in bad)
    fixes = []
    if any(s.state in (MISSING, DELETED) for s in bad):
        fixes.append(f"For missing ones, {_deploy_hint(cfg)}.")
    fixes.append(f"Seed each with {_put_hint(cfg)}.")
    raise ToolkitError(
        f"{len(bad)} of {len(items)} secrets of environment '{cfg.name}' are not seeded: {listed}. " + " ".join(fixes)
    )
