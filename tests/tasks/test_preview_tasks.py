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
