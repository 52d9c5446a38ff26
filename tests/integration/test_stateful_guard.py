"""The stateful-resource guard's classification, through the real Node script and the CDK's diff library,
and the deployed template read from CloudFormation (moto in-process)."""

from __future__ import annotations

import copy
import json

import pytest

from tmkit import guard

TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "DeletionPolicy": "Delete",
    "Properties": {
        "TableName": "TimeManagement-x-data",
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
    },
}
DEPLOYED = {
    "Resources": {
        "DataTable": TABLE,
        "SecretSTRIPEKEY": {
            "Type": "AWS::SecretsManager::Secret",
            "DeletionPolicy": "RetainExceptOnCreate",
            "Properties": {"Name": "TimeManagement-x/STRIPE_KEY"},
        },
        "FrontendBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete", "Properties": {"BucketName": "b"}},
        "ApiFunction": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "f", "Runtime": "python3.13"}},
    }
}


def edited(fn) -> dict:
    template = copy.deepcopy(DEPLOYED)
    fn(template["Resources"])
    return template


def sort_key(resources, name="SortKey"):
    props = resources["DataTable"]["Properties"]
    props["KeySchema"][1]["AttributeName"] = name
    props["AttributeDefinitions"][1]["AttributeName"] = name


def test_a_new_sort_key_replaces_the_table_and_names_the_property():
    (change,) = guard.classify(DEPLOYED, edited(sort_key))
    assert change == guard.StatefulChange("DataTable", "AWS::DynamoDB::Table", "WILL_REPLACE", ("KeySchema",))
    assert change.describe() == "DataTable (AWS::DynamoDB::Table) will be replaced (forced by KeySchema)"


def test_removed_resources_are_destroyed_or_orphaned_by_their_deletion_policy():
    def remove(resources):
        del resources["SecretSTRIPEKEY"], resources["FrontendBucket"]

    changes = {c.logical_id: c.impact for c in guard.classify(DEPLOYED, edited(remove))}
    assert changes == {"SecretSTRIPEKEY": "WILL_ORPHAN", "FrontendBucket": "WILL_DESTROY"}


def test_in_place_updates_new_resources_and_stateless_replacements_are_not_reported():
    def harmless(resources):
        resources["DataTable"]["Properties"]["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        resources["ApiFunction"]["Properties"]["FunctionName"] = "renamed"  # replaced, but holds no data
        resources["NewLogs"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}}

    assert guard.classify(DEPLOYED, edited(harmless)) == []
    assert guard.classify({}, DEPLOYED) == []  # a first deploy creates, it replaces nothing
    assert guard.classify(DEPLOYED, DEPLOYED) == []


def test_renaming_a_bucket_replaces_it():
    def rename(resources):
        resources["FrontendBucket"]["Properties"]["BucketName"] = "other"

    (change,) = guard.classify(DEPLOYED, edited(rename))
    assert (change.logical_id, change.impact, change.properties) == ("FrontendBucket", "WILL_REPLACE", ("BucketName",))


@pytest.fixture
def cfg(envs_dir, monkeypatch):
    from moto import mock_aws

    from tmkit.config import load_env

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield load_env("dev")


def test_deployed_template_is_read_from_cloudformation(cfg):
    from tmkit.aws import client

    assert guard.deployed_template(cfg) == {}  # not deployed yet
    body = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    client(cfg, "cloudformation").create_stack(StackName=cfg.stack_name, TemplateBody=json.dumps(body))
    assert guard.deployed_template(cfg) == body


def test_enforce_refuses_on_protected_and_warns_elsewhere(envs_dir):
    from tmkit.config import load_env
    from tmkit.errors import ToolkitError

    change = guard.StatefulChange("DataTable", "AWS::DynamoDB::Table", "WILL_REPLACE", ("KeySchema",))
    said = []
    with pytest.raises(ToolkitError, match="--allow-replace DataTable"):
        guard.enforce(load_env("prod"), [change], say=said.append)
    guard.enforce(load_env("prod"), [change], ["DataTable"], say=said.append)
    guard.enforce(load_env("dev"), [change], say=said.append)
    assert said[0].startswith("allowed by --allow-replace: DataTable") and said[1].startswith("warning:")
