"""Runs the pinned CDK CLI (node_modules/.bin/cdk) with the right arguments and environment.

Command construction is pure (``command(...)``) so tasks can be tested with ``invoke.MockContext``;
``run(c, ...)`` executes through the Invoke context.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

from tmkit.aws import credentials_env
from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError
from tmkit.paths import CDK_OUT, ROOT

CDK_BIN = ROOT / "node_modules" / ".bin" / "cdk"
# Quiet, offline, reproducible CLI runs: no notices or version check over the network, no telemetry.
BASE_ENV = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
}
BASE_FLAGS = ("--no-notices", "--no-version-reporting")
REPORT_FILE = "validation-report.json"  # what CDK writes when cdk-nag (infra/nag.py) reports findings


def cli() -> str:
    if not CDK_BIN.exists():
        raise ToolkitError("the CDK CLI is not installed (node_modules/.bin/cdk is missing): run `make setup`.")
    return str(CDK_BIN.relative_to(ROOT))


def out_dir(cfg: EnvConfig | None) -> Path:
    """Each environment deploys from its own cloud assembly folder, so parallel runs never share one."""
    return CDK_OUT if cfg is None else CDK_OUT / cfg.name


def command(
    verb: str, *args: str, cfg: EnvConfig | None = None, output: Path | None = None, app: Path | None = None
) -> str:
    """``app``: an already synthesized cloud assembly to use as is (no synth; what was checked is what deploys)."""
    parts = [cli(), verb, *BASE_FLAGS]
    if cfg is not None:
        parts += ["-c", f"env={cfg.name}"]
    if app is not None:
        parts += ["--app", str(app.relative_to(ROOT))]
    else:
        # bootstrap too: with a cdk.json the CLI synthesizes the app, and must not share cdk.out with another run
        parts += ["--output", str((output or out_dir(cfg)).relative_to(ROOT))]
    parts += list(args)
    return " ".join(shlex.quote(p) for p in parts)


def environment(cfg: EnvConfig | None) -> dict[str, str]:
    env = dict(BASE_ENV)
    if cfg is not None:
        env.update(credentials_env(cfg))
        if cfg.is_preview:  # the CDK app gets the preview's config as is, without looking it up in AWS
            from tmkit.preview import marker

            env.update(marker(cfg))
    return env


def run(
    c,
    verb: str,
    *args: str,
    cfg: EnvConfig | None = None,
    output: Path | None = None,
    app: Path | None = None,
    hide: str | None = None,
    warn: bool = False,
):
    """Run one CDK CLI command from the repository root; its own output goes to stderr."""
    from tmkit.lambda_build import ensure_layer

    if app is None and verb in ("synth", "diff", "deploy", "destroy"):
        ensure_layer()  # the Lambda's dependency layer; a no-op when already built for these requirements
    cmd = command(verb, *args, cfg=cfg, output=output, app=app)
    with c.cd(str(ROOT)):
        return c.run(cmd, env=environment(cfg), hide=hide, warn=warn, in_stream=False, out_stream=sys.stderr)


def unacknowledged(assembly_dir: Path | str) -> list[str]:
    """Every finding left in ``<assembly_dir>/validation-report.json`` (empty when clean or no report)."""
    report = Path(assembly_dir) / REPORT_FILE
    if not report.is_file():
        return []
    data = json.loads(report.read_text(encoding="utf-8"))
    findings = []
    for plugin in data.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                findings.append(
                    f"{violation.get('severity', 'error')}: {plugin.get('pluginName')} "
                    f"{violation.get('ruleName')} at {construct.get('constructPath')}: "
                    f"{violation.get('description', '').strip()}"
                )
    return sorted(findings)


def differences(result) -> int | None:
    """Stacks with differences that ``cdk diff`` reported in its summary line; None when it printed none."""
    text = f"{getattr(result, 'stdout', '') or ''}\n{getattr(result, 'stderr', '') or ''}"
    found = re.findall(r"Number of stacks with differences:\s*(\d+)", text)
    return int(found[-1]) if found else None
