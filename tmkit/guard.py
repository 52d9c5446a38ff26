"""The stateful-resource guard: before a deploy (and in ``inv diff``), which data-holding resources would be
replaced, destroyed or orphaned.

The deployed template (CloudFormation GetTemplate) and the synthesized one are compared by the CDK CLI's own
diff engine (``@aws-cdk/cloudformation-diff``, run by ``tmkit/stateful_diff.js``): its ``changeImpact`` per
resource, and per property, decides; there is no replacement table here. On a protected environment any such
change stops the deploy before anything is changed unless each resource is named with ``--allow-replace``;
elsewhere it is a warning (docs/deploying.md, "The stateful-resource guard").
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tmkit.aws import aws_errors, client
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError
from tmkit.paths import ROOT

SCRIPT = Path(__file__).with_name("stateful_diff.js")
NODE_MODULE = ROOT / "node_modules" / "@aws-cdk" / "cloudformation-diff"
STATEFUL_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::S3::Bucket",
    "AWS::SecretsManager::Secret",
    "AWS::Logs::LogGroup",
)
RISKY_IMPACTS = ("WILL_REPLACE", "MAY_REPLACE", "WILL_DESTROY", "WILL_ORPHAN")
WORDS = {
    "WILL_REPLACE": "will be replaced",
    "MAY_REPLACE": "may be replaced",
    "WILL_DESTROY": "will be destroyed",
    "WILL_ORPHAN": "will be orphaned (removed from the stack, left in the account)",
}


@dataclass(frozen=True)
class StatefulChange:
    logical_id: str
    resource_type: str
    impact: str
    properties: tuple[str, ...]  # the property changes that force the replacement

    def describe(self) -> str:
        cause = f" (forced by {', '.join(self.properties)})" if self.properties else ""
        if self.impact in ("WILL_DESTROY", "WILL_ORPHAN"):
            cause = " (removed from the template)"
        return f"{self.logical_id} ({self.resource_type}) {WORDS.get(self.impact, self.impact)}{cause}"


def classify(current: dict, proposed: dict, *, timeout: float = 120) -> list[StatefulChange]:
    """The stateful changes from ``current`` to ``proposed`` (``{}`` for a stack not yet deployed)."""
    if not NODE_MODULE.is_dir():
        raise ToolkitError("@aws-cdk/cloudformation-diff is not installed (node_modules): run `make setup`.")
    payload = json.dumps({"current": current, "proposed": proposed, "types": STATEFUL_TYPES, "impacts": RISKY_IMPACTS})
    try:
        proc = subprocess.run(
            ["node", str(SCRIPT)],
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env={**os.environ, "NODE_PATH": str(ROOT / "node_modules")},
        )
    except FileNotFoundError:
        raise ToolkitError("node is not installed: the stateful-resource guard needs it (`make setup`).") from None
    except subprocess.TimeoutExpired:
        raise ToolkitError(f"the stateful-resource check did not finish in {timeout:.0f} s; retry.") from None
    if proc.returncode != 0:
        raise ToolkitError(
            f"the stateful-resource check failed: {proc.stderr.strip()[-500:] or 'no message'}. "
            "Nothing was changed; fix the cause (or `make setup`) and retry."
        )
    try:
        return [
            StatefulChange(c["logicalId"], c["type"], c["impact"], tuple(p["name"] for p in c["properties"]))
            for c in json.loads(proc.stdout)
        ]
    except (ValueError, TypeError, KeyError):  # never read as "no changes"
        raise ToolkitError(
            f"the stateful-resource check gave an unreadable answer ({proc.stdout.strip()[:200]!r}). "
            "Nothing was changed; reinstall the tools (`make setup`) and retry."
        ) from None


def deployed_template(cfg: EnvConfig) -> dict:
    """The template the stack was last deployed with (``{}`` when the stack does not exist)."""
    from botocore.exceptions import ClientError

    with aws_errors(cfg, f"reading the deployed template of {cfg.stack_name}"):
        try:
            body = client(cfg, "cloudformation").get_template(StackName=cfg.stack_name, TemplateStage="Original")[
                "TemplateBody"
            ]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ValidationError" and "does not exist" in str(exc):
                return {}
            raise
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            raise ToolkitError(
                f"the deployed template of {cfg.stack_name} is not JSON (was it deployed outside this toolkit?): "
                "the stateful-resource guard cannot compare it. Redeploy it with `inv deploy` from a JSON template."
            ) from None
    return dict(body)


def synthesized_template(cfg: EnvConfig, assembly_dir: Path) -> dict:
    path = assembly_dir / f"{cfg.stack_name}.template.json"
    if not path.is_file():
        raise ToolkitError(f"{path} is missing after synth: run `inv synth --env {cfg.name}` and read its messages.")
    return json.loads(path.read_text(encoding="utf-8"))


def stateful_changes(cfg: EnvConfig, assembly_dir: Path) -> list[StatefulChange]:
    """Deployed vs just-synthesized template of ``cfg``'s stack, classified."""
    return classify(deployed_template(cfg), synthesized_template(cfg, assembly_dir))


def report(changes: Iterable[StatefulChange]) -> str:
    return "".join(f"\n  {c.describe()}" for c in changes)


def enforce(
    cfg: EnvConfig,
    changes: list[StatefulChange],
    allow_replace: Iterable[str] = (),
    *,
    say: Callable[[str], None],
) -> None:
    """Refuse (protected env) or warn about every stateful change not named in ``allow_replace``."""
    allowed = set(allow_replace)
    unknown = allowed - {c.logical_id for c in changes}
    if unknown:
        say(f"note: --allow-replace {', '.join(sorted(unknown))}: no such stateful change in this deploy")
    blocking = [c for c in changes if c.logical_id not in allowed]
    for change in changes:
        if change.logical_id in allowed:
            say(f"allowed by --allow-replace: {change.describe()}")
    if not blocking:
        return
    flags = " ".join(f"--allow-replace {c.logical_id}" for c in blocking)
    if cfg.protected:
        raise ToolkitError(
            f"refusing to deploy {cfg.stack_name} ('{cfg.name}' is protected): stateful resources would lose "
            f"their data:{report(blocking)}\nNothing was changed. Change the code so these resources are kept, "
            f"or, once the data is backed up or not needed, rerun with {flags} (see docs/troubleshooting.md)."
        )
    say(f"warning: in {cfg.stack_name}, stateful resources would lose their data:{report(blocking)}")
