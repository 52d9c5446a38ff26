"""The stack of a preview (docs/environments.md, "Previews"): fitted names, preview tags, no account logging role."""

from __future__ import annotations

import json

import pytest

from tmkit import preview
from tmkit.config import load_env

BRANCH = "Feature/JIRA-1234 Add Login Page with Ünïcode, Spaces and CAPITALS for the new onboarding flow (v2)!"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    import aws_cdk as cdk

    from infra.app import build

    dev = load_env("dev")
    cfg = preview.derive_preview(
        dev,
        preview.preview_slug(BRANCH),
        {"preview": "true", "preview-of": "dev", "expires-at": "2026-12-05T10:00:00Z", "git-branch": "feature/x"},
    )
    mp = pytest.MonkeyPatch()
    mp.setenv(preview.MARKER_VAR, preview.marker(cfg)[preview.MARKER_VAR])
    try:
        app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")), stack_traces=False)
        (stack,) = build(app, [cfg.name])  # loads the preview through load_env, with cdk-nag
        app.synth()  # raises on an unacknowledged cdk-nag error
    finally:
        mp.undo()
    from aws_cdk.assertions import Template

    return cfg, stack, Template.from_stack(stack).to_json()


def resources(template: dict, rtype: str) -> list[dict]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == rtype]


def test_the_preview_stack_is_named_from_the_slug(synthesized):
    cfg, stack, _ = synthesized
    assert cfg.name == "dev-feature-jira-123-db9c591" and stack.stack_name == "TimeManagement-" + cfg.name


def test_every_explicit_name_fits(synthesized):
    cfg, _, t = synthesized
    (fn,) = resources(t, "AWS::Lambda::Function")
    assert fn["FunctionName"] == f"TimeManagement-{cfg.name}-api" and len(fn["FunctionName"]) <= 64
    (bucket,) = resources(t, "AWS::S3::Bucket")
    parts = bucket["BucketName"]["Fn::Join"][1]
    rendered = "".join(p if isinstance(p, str) else "123456789012" for p in parts)
    assert len(rendered) <= 63 and rendered.islower() and "-frontend-123456789012-us-east-1" in rendered
    (table,) = resources(t, "AWS::DynamoDB::Table")
    assert table["TableName"] == cfg.table_name
    (budget,) = resources(t, "AWS::Budgets::Budget")
    assert len(budget["Budget"]["BudgetName"]) <= 100 and float(budget["Budget"]["BudgetLimit"]["Amount"]) == 5
    for props in resources(t, "AWS::CloudFront::Function"):
        assert len(props["Name"]) <= 64


def test_every_taggable_resource_carries_the_preview_tags(synthesized):
    _, _, t = synthesized
    tagged = [r for r in resources(t, "AWS::DynamoDB::Table") + resources(t, "AWS::Lambda::Function")]
    for props in tagged:
        tags = {x["Key"]: x["Value"] for x in props["Tags"]}
        assert tags["preview"] == "true" and tags["preview-of"] == "dev"
        assert tags["expires-at"] == "2026-12-05T10:00:00Z" and tags["environment"].startswith("dev-feature")


def test_a_preview_is_disposable_and_sets_no_account_logging_role(synthesized):
    _, _, t = synthesized
    assert resources(t, "AWS::ApiGateway::Account") == []
    retained = [k for k, r in t["Resources"].items() if r.get("DeletionPolicy", "Delete") != "Delete"]
    assert retained == [], retained
    assert "CloudWatchRole" not in json.dumps(t)
