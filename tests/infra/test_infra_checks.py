"""cdk-nag clean, cfn-lint clean, the SPA routing function's logic, byte-identical synths, env selection."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import nag
from tmkit.paths import ROOT
from tmkit.site import SPA_ROUTING_JS

from .conftest import ENV_NAMES

PYTHON = sys.executable


# ---- cdk-nag ---------------------------------------------------------------------------------
def test_nag_clean(assembly):
    outdir, stacks = assembly
    assert set(stacks) == set(ENV_NAMES)
    assert nag.unacknowledged(outdir) == []
    report = json.loads((outdir / nag.REPORT_FILE).read_text())
    assert "AwsSolutions" in {p["pluginName"] for p in report["pluginReports"]}  # the pack really ran


def test_unacknowledged_findings_fail_synth_and_are_listed(layer, tmp_path):
    """Without the acknowledgements the same stack fails synth, and unacknowledged() names the findings."""
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks

    from infra.stack import TimeManagementStack
    from tmkit.config import load_env

    app = cdk.App(outdir=str(tmp_path))
    TimeManagementStack(app, load_env("dev"), layer_dir=layer)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    findings = nag.unacknowledged(tmp_path)
    assert any("AwsSolutions-SMG4" in f and "TimeManagement-dev/Secrets/SecretSTRIPEKEY" in f for f in findings)
    assert any(f.startswith("error:") for f in findings)


def test_unacknowledged_without_report_is_empty(tmp_path):
    assert nag.unacknowledged(tmp_path) == []


# ---- cfn-lint ----------------------------------------------------------------------------------
def test_cfn_lint_clean(assembly):
    outdir, _ = assembly
    templates = sorted(outdir.glob("*.template.json"))
    assert len(templates) == len(ENV_NAMES) + 1  # and the one account stack (every env file is in us-east-1)
    cfn_lint = Path(PYTHON).parent / "cfn-lint"
    # strict E3012: a value of the wrong type (a string where CloudFormation documents a number) fails too
    args = [str(cfn_lint), *map(str, templates), "--configure-rule", "E3012:strict=true"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---- the CloudFront Function, run with node ----------------------------------------------------
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_spa_routing_function_logic():
    cases = {
        "/": "/index.html",
        "/tasks": "/index.html",
        "/tasks/42": "/index.html",
        "/milestones/abc/edit/": "/index.html",
        "/index.html": "/index.html",
        "/assets/app-1a2b.js": "/assets/app-1a2b.js",
        "/assets/missing.js": "/assets/missing.js",  # stays a file request: S3 answers 404
        "/favicon.ico": "/favicon.ico",
        "/404.html": "/404.html",
    }
    harness = SPA_ROUTING_JS + (
        "\nconst uris = JSON.parse(process.argv[1]);"
        "\nconst out = {}; for (const u of uris) { out[u] = handler({request: {uri: u, headers: {}}}).uri; }"
        "\nprocess.stdout.write(JSON.stringify(out));"
    )
    proc = subprocess.run(["node", "-e", harness, json.dumps(list(cases))], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == cases


# ---- determinism and environment selection (the real entry point, as the CDK CLI runs it) -------
def run_app(outdir, *, environment=None, context=None, dotenv_root=None, seed="0"):
    env = {k: v for k, v in os.environ.items() if k not in ("ENVIRONMENT", "CDK_CONTEXT_JSON", "CDK_OUTDIR")}
    env.update(CDK_OUTDIR=str(outdir), PYTHONHASHSEED=seed, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    if environment is not None:
        env["ENVIRONMENT"] = environment
    if context is not None:
        env["CDK_CONTEXT_JSON"] = json.dumps(context)  # what `cdk synth -c env=NAME` hands the app
    return subprocess.run([PYTHON, "-m", "infra.app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


ACCOUNT = "TimeManagement-account-us-east-1"  # the per account and region stack (infra/account_stack.py)


def synthesized(outdir) -> list[str]:
    return sorted(p.name.removesuffix(".template.json") for p in outdir.glob("*.template.json"))


def test_synth_is_byte_identical(layer, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    ra, rb = run_app(a, seed="1"), run_app(b, seed="2")
    assert ra.returncode == 0 and rb.returncode == 0, ra.stderr[-2000:] + rb.stderr[-2000:]
    files = sorted(p.name for p in a.iterdir() if p.is_file())
    assert files == sorted(p.name for p in b.iterdir() if p.is_file())
    assert any(f.endswith(".template.json") for f in files)
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs between two synths"
    assert sorted(p.name for p in a.glob("asset.*")) == sorted(p.name for p in b.glob("asset.*"))


def test_no_selection_synthesizes_every_non_local_env(layer, tmp_path):
    proc = run_app(tmp_path, environment="")
    assert proc.returncode == 0, proc.stderr[-2000:]
    from tmkit.config import load_env

    expected = [f"TimeManagement-{n}" for n in ENV_NAMES if not load_env(n).is_local] + [ACCOUNT]
    assert synthesized(tmp_path) == sorted(expected)


def test_environment_variable_selects_one_env(layer, tmp_path):
    proc = run_app(tmp_path, environment="qa")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert synthesized(tmp_path) == sorted(["TimeManagement-qa", ACCOUNT])


def test_context_wins_over_environment_variable(layer, tmp_path):
    proc = run_app(tmp_path, environment="qa", context={"env": "local"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert synthesized(tmp_path) == sorted(["TimeManagement-local", ACCOUNT])


def test_unknown_environment_is_a_clean_error(layer, tmp_path):
    proc = run_app(tmp_path, context={"env": "nope"})
    assert proc.returncode == 1
    assert "unknown environment 'nope'" in proc.stderr and "Available:" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("*.template.json"))


def test_selected_envs_reads_dotenv(monkeypatch, tmp_path):
    import aws_cdk as cdk

    import tmkit.config
    from infra.app import selected_envs

    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.setattr(tmkit.config, "ROOT", tmp_path)
    (tmp_path / ".env").write_text("ENVIRONMENT=qa\n")
    assert selected_envs(cdk.App()) == ["qa"]
    assert selected_envs(cdk.App(context={"env": "prod"})) == ["prod"]
    monkeypatch.setenv("ENVIRONMENT", "dev")
    assert selected_envs(cdk.App()) == ["dev"]
    monkeypatch.delenv("ENVIRONMENT")
    (tmp_path / ".env").unlink()
    assert "local" not in selected_envs(cdk.App()) and "dev" in selected_envs(cdk.App())
