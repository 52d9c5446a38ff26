"""The stateful-resource guard end to end: the real CLI (`inv ...` in a subprocess) against the emulator.

A protected emulator environment (`e2eguard`, a copy of envs/local.toml with protected = true) is deployed from
the repository; then a test copy of the app whose table has another sort key name (a change CloudFormation can
only make by replacing the table) is deployed to it: refused, stack unchanged; `inv diff` lists the change and
`--fail` exits 1; `--allow-replace DataTable` lets it through. The tests run in file order.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.test_lifecycle import INV, Cli, env_file
from tests.helpers import free_port
from tmkit.paths import ROOT

pytestmark = pytest.mark.e2e
ENV = "e2eguard"
STACK = f"TimeManagement-{ENV}"
SORT_KEY_LINE = 'sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING)'


def app_copy(dest: Path) -> Path:
    """The app with the table's sort key renamed; toolchain, node_modules and the Lambda layer shared (links)."""
    for name in ("tasks.py", "cdk.json", "package.json"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("tmkit", "infra", "lambda"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in (".venv", "node_modules"):
        (dest / name).symlink_to(ROOT / name)
    (dest / ".tmkit").mkdir()
    (dest / ".tmkit" / "lambda-layer").symlink_to(ROOT / ".tmkit" / "lambda-layer")
    table = dest / "infra" / "components" / "data_table.py"
    text = table.read_text()
    assert SORT_KEY_LINE in text
    table.write_text(text.replace(SORT_KEY_LINE, SORT_KEY_LINE.replace('"SK"', '"SortKey"')))
    return dest


class CopyCli(Cli):
    """`inv` run from the app copy (its tasks.py, tmkit and infra), same env files and emulator."""

    def __init__(self, envs: Path, app: Path):
        super().__init__(envs)
        self.app = app

    def __call__(self, *args: str, check: bool = True, timeout: int = 300):
        import subprocess

        proc = subprocess.run(
            [*INV, *args], cwd=self.app, env=self.env, capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if check and proc.returncode != 0:
            pytest.fail(f"(copy) inv {' '.join(args)} exited {proc.returncode}\n{proc.stderr[-3000:]}")
        return proc


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from tmkit.lambda_build import ensure_layer

    ensure_layer()  # the copy links the repository's built layer
    envs = tmp_path_factory.mktemp("envs")
    env_file(envs, ENV, free_port(), protected=True)
    cli = Cli(envs)
    copy = CopyCli(envs, app_copy(tmp_path_factory.mktemp("app")))
    cli("local.up", "--env", ENV)
    os.environ["TM_ENVS_DIR"] = str(envs)
    try:
        from tmkit.config import load_env

        yield cli, copy, load_env(ENV)
    finally:
        os.environ.pop("TM_ENVS_DIR", None)
        cli("local.down", "--env", ENV, check=False)


def cloudformation(cfg):
    from tmkit.aws import client

    return client(cfg, "cloudformation")


def deployed_sort_key(cfg) -> str:
    template = cloudformation(cfg).get_template(StackName=STACK, TemplateStage="Original")["TemplateBody"]
    template = json.loads(template) if isinstance(template, str) else template
    return template["Resources"]["DataTable"]["Properties"]["KeySchema"][1]["AttributeName"]


def test_deploy_the_protected_environment(world):
    cli, _, cfg = world
    cli("deploy", "--env", ENV, "--yes")
    assert deployed_sort_key(cfg) == "SK"


def test_protected_deploy_refuses_to_replace_the_table_and_changes_nothing(world):
    _, copy, cfg = world
    before = cloudformation(cfg).describe_stacks(StackName=STACK)["Stacks"][0]
    proc = copy("deploy", "--env", ENV, "--yes", check=False)
    print(proc.stderr[-1500:])  # the guard's output, shown with pytest -s
    assert proc.returncode == 1
    assert f"refusing to deploy {STACK} ('{ENV}' is protected)" in proc.stderr
    assert "DataTable (AWS::DynamoDB::Table) will be replaced (forced by KeySchema)" in proc.stderr
    assert "--allow-replace DataTable" in proc.stderr and "Nothing was changed" in proc.stderr
    after = cloudformation(cfg).describe_stacks(StackName=STACK)["Stacks"][0]
    assert after["StackStatus"] == before["StackStatus"] == "CREATE_COMPLETE"
    assert after.get("LastUpdatedTime") == before.get("LastUpdatedTime")
    assert deployed_sort_key(cfg) == "SK"


def test_diff_lists_the_replacement_and_fail_exits_1(world):
    _, copy, _ = world
    proc = copy("diff", "--env", ENV, "--fail", check=False)
    assert proc.returncode == 1 and "differs from the code (--fail)" in proc.stderr
    assert "DataTable (AWS::DynamoDB::Table) will be replaced (forced by KeySchema)" in proc.stderr
    assert proc.stdout == ""


def test_allow_replace_lets_the_deploy_through(world):
    _, copy, cfg = world
    proc = copy("deploy", "--env", ENV, "--yes", "--allow-replace", "DataTable")
    assert "allowed by --allow-replace: DataTable" in proc.stderr
    assert deployed_sort_key(cfg) == "SortKey"
    assert cloudformation(cfg).describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
