"""`inv preview.*` flags through invoke's Program in-process, against CloudFormation in moto (mock_aws)."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from tests.helpers import ENV_TOML, run_program
from tmkit import preview
from tmkit.tasks import preview as preview_tasks

TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


@pytest.fixture
def cf(tmp_path, monkeypatch):
    (tmp_path / "dev.toml").write_text(ENV_TOML + "[preview]\nttl_hours = 24\n")
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    with mock_aws():
        client = boto3.client("cloudformation", region_name="us-east-1")
        for name, hours in (("a", 5), ("b", 5), ("old", -1)):
            expires = preview.iso(datetime.now(UTC) + timedelta(hours=hours))
            client.create_stack(
                StackName=f"TimeManagement-dev-{name}",
                TemplateBody=TEMPLATE,
                Tags=[
                    {"Key": "preview", "Value": "true"},
                    {"Key": "preview-of", "Value": "dev"},
                    {"Key": "expires-at", "Value": expires},
                ],
            )
        yield client


@pytest.mark.parametrize(
    "keep,expected",
    [
        (None, ["dev-old"]),  # no --keep: only the expired one
        ("a", ["dev-b", "dev-old"]),
        ("dev-a, b", ["dev-old"]),  # NAMEs or environment names, spaces ignored
        ("", ["dev-a", "dev-b", "dev-old"]),  # --keep "": no open pull request, keep none
    ],
)
def test_gc_keep_flag(cf, capsys, keep, expected):
    argv = ["preview.gc", "--env", "dev", "--dry-run", "--json"] + (["--keep", keep] if keep is not None else [])
    code, out, err = run_program(capsys, preview_tasks.ns, *argv)
    assert code == 0, err
    assert sorted(json.loads(out)["would_destroy"]) == expected


def test_list_json_and_status_of_a_missing_name(cf, capsys):
    code, out, _ = run_program(capsys, preview_tasks.ns, "preview.list", "--env", "dev", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["name"] for r in rows] == ["dev-a", "dev-b", "dev-old"]
    assert [r["expired"] for r in rows] == [False, False, True]
    code, out, err = run_program(capsys, preview_tasks.ns, "preview.deploy", "--env", "dev", "--name", "...")
    assert code == 1 and out == "" and "no letters or digits" in err


def test_ttl_junk_is_a_clean_error_through_the_cli(cf, capsys):
    for junk in ("abc", "1.5", "24h"):
        code, out, err = run_program(
            capsys, preview_tasks.ns, "preview.deploy", "--env", "dev", "--name", "x", "--ttl-hours", junk
        )
        assert code == 1 and out == "" and "Traceback" not in err
        assert f"--ttl-hours '{junk}' is not a whole number of hours" in err


def test_status_skips_an_emulator_environment_whose_emulator_is_down(cf, capsys):
    from tests.helpers import free_port
    from tmkit import status
    from tmkit.config import envs_dir
    from tmkit.paths import ENVS_DIR

    text = (ENVS_DIR / "local.toml").read_text().replace("http://localhost:4599", f"http://localhost:{free_port()}")
    (envs_dir() / "local.toml").write_text(text)
    rows = status.collect(["dev", "local"])
    assert [r["name"] for r in rows] == ["dev", "dev-a", "dev-b", "dev-old"]
    assert "local: skipped (its emulator is not running; `inv local.up --env local`)" in capsys.readouterr().err


def test_status_of_an_environment_it_cannot_read_is_unknown_not_not_deployed(cf, monkeypatch):
    from tmkit import outputs, status
    from tmkit.config import load_env
    from tmkit.errors import ToolkitError

    def refused(cfg, stack_name=None):
        raise ToolkitError("reading stack TimeManagement-dev: no AWS credentials found.")

    monkeypatch.setattr(outputs, "describe_stack", refused)
    row = status.env_row(load_env("dev"))
    assert row["status"] == "UNKNOWN" and "no AWS credentials" in row["error"]
