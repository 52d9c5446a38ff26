"""`inv cost.tags` through invoke's Program in-process; Cost Explorer stubbed (moto lacks these calls)."""

import boto3
import pytest
from botocore.stub import Stubber

from tests.helpers import env_toml, run_program
from tmkit import cost
from tmkit.tasks import cost as cost_tasks

LIST_PARAMS = {"TagKeys": ["project-name", "environment"], "Type": "UserDefined"}


@pytest.fixture
def stub(tmp_path, monkeypatch):
    (tmp_path / "dev.toml").write_text(env_toml(secrets=()))
    (tmp_path / "local.toml").write_text(env_toml(4599, secrets=()))
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    client = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing").client(
        "ce", region_name="us-east-1", endpoint_url="http://127.0.0.1:9"
    )
    monkeypatch.setattr(cost, "client", lambda cfg, service: client)
    with Stubber(client) as s:
        yield s
        s.assert_no_pending_responses()


def inv(capsys, *argv):
    return run_program(capsys, cost_tasks.ns, *argv)


def listed(**status):
    return {
        "CostAllocationTags": [
            {"TagKey": k.replace("_", "-"), "Type": "UserDefined", "Status": v} for k, v in status.items()
        ]
    }


def test_activates_inactive_tags_and_explains_the_delay(stub, capsys):
    stub.add_response("list_cost_allocation_tags", listed(project_name="Inactive", environment="Active"), LIST_PARAMS)
    stub.add_response(
        "update_cost_allocation_tags_status",
        {"Errors": []},
        {"CostAllocationTagsStatus": [{"TagKey": "project-name", "Status": "Active"}]},
    )
    code, out, err = inv(capsys, "cost.tags", "--env", "dev")
    assert code == 0 and out == ""
    assert "project-name: inactive -> activating" in err and "environment: already active" in err
    assert "24 hours" in err


def test_dry_run_changes_nothing(stub, capsys):
    stub.add_response("list_cost_allocation_tags", listed(project_name="Inactive"), LIST_PARAMS)
    code, out, err = inv(capsys, "cost.tags", "--env", "dev", "--dry-run")
    assert code == 0 and out == ""  # no update call: the Stubber would have failed on it
    assert "project-name: inactive -> would activate" in err
    assert "environment: not seen on a billed resource yet -> would try to activate" in err
    assert "nothing was changed" in err


def test_all_active_makes_no_update_call(stub, capsys):
    stub.add_response("list_cost_allocation_tags", listed(project_name="Active", environment="Active"), LIST_PARAMS)
    code, _, err = inv(capsys, "cost.tags", "--env", "dev")
    assert code == 0 and err.count("already active") == 2


def test_unseen_tag_fails_with_the_fix(stub, capsys):
    stub.add_response("list_cost_allocation_tags", listed(project_name="Active"), LIST_PARAMS)
    stub.add_response(
        "update_cost_allocation_tags_status",
        {"Errors": [{"TagKey": "environment", "Code": "TagKeysNotFoundException", "Message": "not found"}]},
        {"CostAllocationTagsStatus": [{"TagKey": "environment", "Status": "Active"}]},
    )
    code, out, err = inv(capsys, "cost.tags", "--env", "dev")
    assert code == 1 and out == ""
    assert "error: AWS did not activate 1 of 1" in err and "wait up to 24 hours" in err


def test_local_env_has_no_billing_and_makes_no_call(stub, capsys):
    code, out, err = inv(capsys, "cost.tags", "--env", "local")
    assert code == 0 and out == "" and "no billing" in err
