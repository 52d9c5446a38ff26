"""tmkit.cost against a Cost Explorer client driven by botocore's Stubber.

moto 5.2.5 does not implement ListCostAllocationTags or UpdateCostAllocationTagsStatus (moto/ce
has cost categories, tags and get_cost_and_usage only), so these tests stub the two calls. The
Stubber validates every request against the real service model and fails on any unexpected call.
"""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from tests.helpers import env_toml
from tmkit import cost
from tmkit.config import load_env
from tmkit.errors import ToolkitError

WHEN = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    (tmp_path / "dev.toml").write_text(env_toml(region="eu-west-1", secrets=()))
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    return load_env("dev")


@pytest.fixture
def ce():
    # never reaches the network: the Stubber answers before sending (and the endpoint is a closed loopback port)
    client = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing").client(
        "ce", region_name="us-east-1", endpoint_url="http://127.0.0.1:9"
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def tag(key, status):
    return {
        "TagKey": key,
        "Type": "UserDefined",
        "Status": status,
        "LastUpdatedDate": WHEN.isoformat(),
        "LastUsedDate": WHEN.isoformat(),
    }


LIST_PARAMS = {"TagKeys": ["project-name", "environment"], "Type": "UserDefined"}


def test_plan_sorts_tags_by_status(cfg, ce):
    client, stub = ce
    stub.add_response(
        "list_cost_allocation_tags",
        {"CostAllocationTags": [tag("project-name", "Active"), tag("environment", "Inactive")]},
        LIST_PARAMS,
    )
    plan = cost.plan(cfg, client)
    assert (plan.active, plan.inactive, plan.unseen) == (("project-name",), ("environment",), ())
    assert plan.to_activate == ("environment",)


def test_plan_reports_keys_billing_has_not_seen(cfg, ce):
    client, stub = ce
    stub.add_response("list_cost_allocation_tags", {"CostAllocationTags": []}, LIST_PARAMS)
    assert cost.plan(cfg, client).unseen == ("project-name", "environment")


def test_activate_sends_exactly_the_requested_keys(cfg, ce):
    client, stub = ce
    stub.add_response(
        "update_cost_allocation_tags_status",
        {"Errors": []},
        {
            "CostAllocationTagsStatus": [
                {"TagKey": "project-name", "Status": "Active"},
                {"TagKey": "environment", "Status": "Active"},
            ]
        },
    )
    cost.activate(cfg, ("project-name", "environment"), client)


def test_activate_nothing_makes_no_call(cfg, ce):
    client, _ = ce
    cost.activate(cfg, (), client)  # the Stubber would raise on any call


def test_activate_reports_per_tag_errors_with_the_fix(cfg, ce):
    client, stub = ce
    stub.add_response(
        "update_cost_allocation_tags_status",
        {"Errors": [{"TagKey": "environment", "Code": "TagKeysNotFoundException", "Message": "Tag key not found"}]},
    )
    with pytest.raises(ToolkitError) as exc:
        cost.activate(cfg, ("project-name", "environment"), client)
    msg = str(exc.value)
    assert "1 of 2" in msg and "environment: TagKeysNotFoundException" in msg
    assert "24 hours" in msg and "inv cost.tags --env dev" in msg and "inv deploy --env dev" in msg


@pytest.mark.parametrize("call", ["plan", "activate"])
def test_access_denied_points_at_the_management_account(cfg, ce, call):
    client, stub = ce
    op = "list_cost_allocation_tags" if call == "plan" else "update_cost_allocation_tags_status"
    stub.add_client_error(op, service_error_code="AccessDeniedException", http_status_code=400)
    with pytest.raises(ToolkitError, match="management \\(payer\\) account"):
        cost.plan(cfg, client) if call == "plan" else cost.activate(cfg, ("environment",), client)


def test_other_service_errors_become_toolkit_errors(cfg, ce):
    client, stub = ce
    stub.add_client_error(
        "update_cost_allocation_tags_status", service_error_code="LimitExceededException", http_status_code=400
    )
    with pytest.raises(ToolkitError, match="LimitExceededException.*Retry later"):
        cost.activate(cfg, ("environment",), client)


def test_uses_the_toolkit_client_factory(cfg, ce, monkeypatch):
    client, stub = ce
    asked = []
    monkeypatch.setattr(cost, "client", lambda c, service: asked.append((c.name, service)) or client)
    stub.add_response("list_cost_allocation_tags", {"CostAllocationTags": []}, LIST_PARAMS)
    cost.plan(cfg)
    assert asked == [("dev", "ce")]


def test_the_delay_note_explains_both_waits():
    assert "24 hours" in cost.DELAY_NOTE and "billed resource" in cost.DELAY_NOTE
