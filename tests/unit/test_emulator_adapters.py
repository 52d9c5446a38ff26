"""The emulator's CloudFormation adapters and patches, in-process (moto's mock_aws, no server, no CLI).

A small template holds one resource of every adapted type; each test deploys it with CloudFormation
and inspects the result through the services' own APIs, as a user of the emulator would.
"""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from moto import mock_aws
from moto.core.exceptions import JsonRESTError

from tmkit.emulator.adapters.storage import generate_secret_string
from tmkit.emulator.patches import enforceable_policy, failure_reason
from tmkit.emulator.server import install

REGION = "us-east-1"
STACK = "TimeManagement-unit"
BUCKET = "timemanagement-unit-frontend"
TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}

TEMPLATE = {
    "Resources": {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": "TimeManagement-unit-data",
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                "AttributeDefinitions": [
                    {"AttributeName": "PK", "AttributeType": "S"},
                    {"AttributeName": "SK", "AttributeType": "S"},
                ],
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": False},
            },
        },
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": BUCKET,
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "expire-noncurrent",
                            "Status": "Enabled",
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                        }
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            },
        },
        "BucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": TLS_ONLY},
        },
        "Oac": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": "unit-oac",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "SpaFunction": {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": "unit-spa",
                "AutoPublish": True,
                "FunctionCode": "function handler(e){return e.request}",
                "FunctionConfig": {"Comment": "spa", "Runtime": "cloudfront-js-2.0"},
            },
        },
        "CachePolicy": {"Type": "AWS::CloudFront::CachePolicy", "Properties": {"CachePolicyConfig": {"Name": "c"}}},
        "Headers": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {"ResponseHeadersPolicyConfig": {"Name": "h"}},
        },
        "Distribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "Comment": "v1",
                    "DefaultRootObject": "index.html",
                    "HttpVersion": "http2and3",
                    "PriceClass": "PriceClass_100",
                    "Origins": [
                        {
                            "Id": "s3",
                            "DomainName": {"Fn::GetAtt": ["Bucket", "RegionalDomainName"]},
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                            "OriginAccessControlId": {"Fn::GetAtt": ["Oac", "Id"]},
                        }
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "s3",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "Compress": True,
                        "CachePolicyId": {"Ref": "CachePolicy"},
                        "ResponseHeadersPolicyId": {"Ref": "Headers"},
                        "FunctionAssociations": [
                            {
                                "EventType": "viewer-request",
                                "FunctionARN": {"Fn::GetAtt": ["SpaFunction", "FunctionARN"]},
                            }
                        ],
                    },
                    "CustomErrorResponses": [{"ErrorCode": 404, "ResponseCode": 404, "ResponsePagePath": "/404.html"}],
                }
            },
        },
        "Pool": {
            "Type": "AWS::Cognito::UserPool",
            "Properties": {"UserPoolName": "unit-users", "UsernameAttributes": ["email"]},
        },
        "Client": {
            "Type": "AWS::Cognito::UserPoolClient",
            "Properties": {
                "UserPoolId": {"Ref": "Pool"},
                "ClientName": "web",
                "GenerateSecret": False,
                "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            },
        },
        "Secret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": "TimeManagement-unit/STRIPE_KEY",
                "GenerateSecretString": {
                    "SecretStringTemplate": '{"tmkit":"unseeded"}',
                    "GenerateStringKey": "placeholder",
                    "ExcludePunctuation": True,
                },
            },
        },
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "unit-api"}},
        "Tasks": {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "PathPart": "tasks",
            },
        },
        "Authorizer": {
            "Type": "AWS::ApiGateway::Authorizer",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "Name": "cognito",
                "Type": "COGNITO_USER_POOLS",
                "IdentitySource": "method.request.header.Authorization",
                "ProviderARNs": [{"Fn::GetAtt": ["Pool", "Arn"]}],
            },
        },
        "Validator": {
            "Type": "AWS::ApiGateway::RequestValidator",
            "Properties": {"RestApiId": {"Ref": "Api"}, "ValidateRequestParameters": True},
        },
        "TasksGet": {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ResourceId": {"Ref": "Tasks"},
                "HttpMethod": "GET",
                "AuthorizationType": "COGNITO_USER_POOLS",
                "AuthorizerId": {"Ref": "Authorizer"},
                "RequestValidatorId": {"Ref": "Validator"},
                "Integration": {"Type": "MOCK", "RequestTemplates": {"application/json": '{"statusCode": 200}'}},
            },
        },
        "Deployment": {
            "Type": "AWS::ApiGateway::Deployment",
            "DependsOn": ["TasksGet"],
            "Properties": {"RestApiId": {"Ref": "Api"}},
        },
        "Stage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "api", "DeploymentId": {"Ref": "Deployment"}},
        },
        "Unauthorized": {
            "Type": "AWS::ApiGateway::GatewayResponse",
            "Properties": {"RestApiId": {"Ref": "Api"}, "ResponseType": "UNAUTHORIZED", "StatusCode": "401"},
        },
        "Budget": {
            "Type": "AWS::Budgets::Budget",
            "Properties": {
                "Budget": {
                    "BudgetName": "TimeManagement-unit-monthly",
                    "BudgetType": "COST",
                    "TimeUnit": "MONTHLY",
                    "BudgetLimit": {"Amount": 5, "Unit": "USD"},
                },
                "NotificationsWithSubscribers": [
                    {
                        "Notification": {
                            "NotificationType": "ACTUAL",
                            "ComparisonOperator": "GREATER_THAN",
                            "Threshold": 80,
                            "ThresholdType": "PERCENTAGE",
                        },
                        "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "ops@example.com"}],
                    }
                ],
            },
        },
        "Anomaly": {
            "Type": "AWS::CE::AnomalyMonitor",
            "Properties": {"MonitorName": "unit", "MonitorType": "DIMENSIONAL", "MonitorDimension": "SERVICE"},
        },
    },
    "Outputs": {
        "DistributionId": {"Value": {"Ref": "Distribution"}},
        "DistributionDomainName": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
        "UserPoolId": {"Value": {"Ref": "Pool"}},
        "UserPoolClientId": {"Value": {"Ref": "Client"}},
        "SecretArn": {"Value": {"Ref": "Secret"}},
        "ApiUrl": {
            "Value": {
                "Fn::Join": [
                    "",
                    ["https://", {"Ref": "Api"}, ".execute-api.us-east-1.amazonaws.com/", {"Ref": "Stage"}, "/"],
                ]
            }
        },
        "AuthorizerId": {"Value": {"Ref": "Authorizer"}},
        "OacId": {"Value": {"Fn::GetAtt": ["Oac", "Id"]}},
        "BudgetName": {"Value": {"Ref": "Budget"}},
        "MonitorArn": {"Value": {"Fn::GetAtt": ["Anomaly", "MonitorArn"]}},
    },
}


@pytest.fixture(scope="module", autouse=True)
def adapters():
    install()


@pytest.fixture
def aws(monkeypatch):
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "MOTO_ACCOUNT_ID": "123456789012",
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


def deploy(aws, template, *, update=False):
    cfn = aws("cloudformation")
    call = cfn.update_stack if update else cfn.create_stack
    call(StackName=STACK, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    return stack["StackStatus"], {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def failures(aws):
    events = aws("cloudformation").describe_stack_events(StackName=STACK)["StackEvents"]
    return [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason") or "")
        for e in events
        if e["ResourceStatus"].endswith("_FAILED")
    ]


def changed(**edits):
    """A copy of TEMPLATE with Properties edits: changed(Table={"PointInTimeRecoverySpecification": ...})."""
    template = copy.deepcopy(TEMPLATE)
    for logical_id, props in edits.items():
        template["Resources"][logical_id]["Properties"].update(props)
    return template


def test_every_adapted_type_creates_the_real_object(aws):
    status, out = deploy(aws, TEMPLATE)
    assert status == "CREATE_COMPLETE", failures(aws)
    assert all(v and "None" not in v for v in out.values()), out

    dist = aws("cloudfront").get_distribution(Id=out["DistributionId"])["Distribution"]
    assert dist["DomainName"] == out["DistributionDomainName"]
    origin = dist["DistributionConfig"]["Origins"]["Items"][0]
    assert origin["OriginAccessControlId"] == out["OacId"]
    assert aws("cloudfront").get_origin_access_control(Id=out["OacId"])["OriginAccessControl"]
    dcb = dist["DistributionConfig"]["DefaultCacheBehavior"]
    assert dcb["FunctionAssociations"]["Items"][0]["FunctionARN"].endswith(":function/unit-spa")
    assert aws("cloudfront").describe_function(Name="unit-spa")["FunctionSummary"]["Name"] == "unit-spa"

    s3 = aws("s3")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rule = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"][0]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())
    assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == TLS_ONLY

    pitr = aws("dynamodb").describe_continuous_backups(TableName="TimeManagement-unit-data")
    assert (
        pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        == "DISABLED"
    )

    pool = aws("cognito-idp").describe_user_pool(UserPoolId=out["UserPoolId"])["UserPool"]
    assert pool["Name"] == "unit-users"
    client = aws("cognito-idp").describe_user_pool_client(
        UserPoolId=out["UserPoolId"], ClientId=out["UserPoolClientId"]
    )["UserPoolClient"]
    assert client["ClientName"] == "web"

    secret = aws("secretsmanager").describe_secret(SecretId="TimeManagement-unit/STRIPE_KEY")
    assert secret["ARN"] == out["SecretArn"]
    value = json.loads(aws("secretsmanager").get_secret_value(SecretId=out["SecretArn"])["SecretString"])
    assert value["tmkit"] == "unseeded" and len(value["placeholder"]) == 32

    apigw = aws("apigateway")
    api_id = out["ApiUrl"].split("//")[1].split(".")[0]
    assert apigw.get_stage(restApiId=api_id, stageName="api")["deploymentId"]
    tasks = next(r for r in apigw.get_resources(restApiId=api_id)["items"] if r.get("pathPart") == "tasks")
    method = apigw.get_method(restApiId=api_id, resourceId=tasks["id"], httpMethod="GET")
    assert method["authorizerId"] == out["AuthorizerId"]
    assert method["requestValidatorId"]
    assert apigw.get_authorizer(restApiId=api_id, authorizerId=out["AuthorizerId"])["type"] == "COGNITO_USER_POOLS"
    assert apigw.get_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")["statusCode"] == "401"

    budget = aws("budgets").describe_budget(AccountId="123456789012", BudgetName=out["BudgetName"])["Budget"]
    assert budget["BudgetLimit"] == {"Amount": "5", "Unit": "USD"}
    assert out["MonitorArn"].startswith("arn:aws:ce::123456789012:anomalymonitor/")

    resources = aws("cloudformation").describe_stack_resources(StackName=STACK)["StackResources"]
    assert len(resources) == len(TEMPLATE["Resources"])
    assert all(r.get("PhysicalResourceId") for r in resources), [
        r["LogicalResourceId"] for r in resources if not r.get("PhysicalResourceId")
    ]


def test_tls_only_bucket_policy_is_stored_but_does_not_block_requests(aws):
    deploy(aws, TEMPLATE)
    aws("s3").put_object(Bucket=BUCKET, Key="index.html", Body=b"<html></html>")  # would be denied otherwise
    assert aws("s3").get_object(Bucket=BUCKET, Key="index.html")["Body"].read() == b"<html></html>"


def test_update_applies_in_place_and_keeps_ids_and_seeded_secrets(aws):
    _, before = deploy(aws, TEMPLATE)
    aws("secretsmanager").put_secret_value(SecretId="TimeManagement-unit/STRIPE_KEY", SecretString="sk_live_real")
    template = changed(
        Table={"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}},
        Bucket={"VersioningConfiguration": {"Status": "Suspended"}},
        Pool={"UserPoolName": "unit-users-2"},
        Budget={
            "Budget": {
                **TEMPLATE["Resources"]["Budget"]["Properties"]["Budget"],
                "BudgetLimit": {"Amount": 10, "Unit": "USD"},
            }
        },
        Secret={"Description": "now described"},
    )
    template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["Comment"] = "v2"
    status, after = deploy(aws, template, update=True)

    assert status == "UPDATE_COMPLETE", failures(aws)
    for key in ("DistributionId", "UserPoolId", "UserPoolClientId", "SecretArn", "AuthorizerId", "OacId", "ApiUrl"):
        assert after[key] == before[key], key
    pitr = aws("dynamodb").describe_continuous_backups(TableName="TimeManagement-unit-data")
    assert (
        pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    )
    assert aws("s3").get_bucket_versioning(Bucket=BUCKET)["Status"] == "Suspended"
    assert (
        aws("cloudfront").get_distribution(Id=after["DistributionId"])["Distribution"]["DistributionConfig"]["Comment"]
        == "v2"
    )
    assert aws("cognito-idp").describe_user_pool(UserPoolId=after["UserPoolId"])["UserPool"]["Name"] == "unit-users-2"
    budget = aws("budgets").describe_budget(AccountId="123456789012", BudgetName=after["BudgetName"])["Budget"]
    assert budget["BudgetLimit"]["Amount"] == "10"
    sm = aws("secretsmanager")
    assert sm.get_secret_value(SecretId=after["SecretArn"])["SecretString"] == "sk_live_real"
    assert sm.describe_secret(SecretId=after["SecretArn"])["Description"] == "now described"


def test_delete_stack_removes_every_object(aws):
    _, out = deploy(aws, TEMPLATE)
    aws("cloudformation").delete_stack(StackName=STACK)

    assert aws("cloudfront").list_distributions()["DistributionList"]["Quantity"] == 0
    assert aws("cloudfront").list_origin_access_controls()["OriginAccessControlList"].get("Items", []) == []
    assert aws("cloudfront").list_functions()["FunctionList"].get("Items", []) == []
    assert aws("cognito-idp").list_user_pools(MaxResults=10)["UserPools"] == []
    assert aws("secretsmanager").list_secrets()["SecretList"] == []
    assert aws("s3").list_buckets()["Buckets"] == []
    assert aws("dynamodb").list_tables()["TableNames"] == []
    assert aws("apigateway").get_rest_apis()["items"] == []
    assert aws("budgets").describe_budgets(AccountId="123456789012").get("Budgets", []) == []


def test_delete_stack_succeeds_when_a_resource_was_deleted_by_hand(aws):
    """As in CloudFormation: a resource that is already gone counts as deleted."""
    _, out = deploy(aws, TEMPLATE)
    aws("dynamodb").delete_table(TableName="TimeManagement-unit-data")
    aws("cloudformation").delete_stack(StackName=STACK)
    stacks = aws("cloudformation").describe_stacks()["Stacks"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == STACK] in ([], ["DELETE_COMPLETE"])
    assert aws("s3").list_buckets()["Buckets"] == []


RETAINED_IDS = ("Table", "Bucket", "Secret", "Pool")


def retained(policy="RetainExceptOnCreate"):
    """TEMPLATE with the stateful resources kept as a retain environment keeps them."""
    template = copy.deepcopy(TEMPLATE)
    for logical_id in RETAINED_IDS:
        template["Resources"][logical_id].update(DeletionPolicy=policy, UpdateReplacePolicy="Retain")
    return template


def test_retain_except_on_create_keeps_the_resources_when_the_stack_is_deleted(aws):
    _, out = deploy(aws, retained())
    aws("cloudformation").delete_stack(StackName=STACK)

    assert aws("dynamodb").list_tables()["TableNames"] == ["TimeManagement-unit-data"]
    assert [b["Name"] for b in aws("s3").list_buckets()["Buckets"]] == [BUCKET]
    assert [s["Name"] for s in aws("secretsmanager").list_secrets()["SecretList"]] == ["TimeManagement-unit/STRIPE_KEY"]
    assert [p["Id"] for p in aws("cognito-idp").list_user_pools(MaxResults=10)["UserPools"]] == [out["UserPoolId"]]
    assert aws("cloudfront").list_distributions()["DistributionList"]["Quantity"] == 0  # the rest went


def test_retained_resource_removed_from_the_template_is_kept(aws):
    deploy(aws, retained())
    template = retained()
    del template["Resources"]["Table"]
    template["Outputs"] = {k: v for k, v in template["Outputs"].items() if "Table" not in json.dumps(v)}
    status, _ = deploy(aws, template, update=True)
    assert status == "UPDATE_COMPLETE", failures(aws)
    assert aws("dynamodb").list_tables()["TableNames"] == ["TimeManagement-unit-data"]


def test_failed_first_create_deletes_retain_except_on_create_resources_so_a_rerun_succeeds(aws):
    aws("secretsmanager").create_secret(Name="TimeManagement-unit/STRIPE_KEY", SecretString="in the way")

    status, _ = deploy(aws, retained())

    assert status == "ROLLBACK_COMPLETE"
    assert aws("dynamodb").list_tables()["TableNames"] == []  # created by the failed attempt: gone
    assert aws("s3").list_buckets()["Buckets"] == []
    assert aws("cognito-idp").list_user_pools(MaxResults=10)["UserPools"] == []
    aws("secretsmanager").delete_secret(SecretId="TimeManagement-unit/STRIPE_KEY", ForceDeleteWithoutRecovery=True)
    aws("cloudformation").delete_stack(StackName=STACK)
    status, _ = deploy(aws, retained())
    assert status == "CREATE_COMPLETE", failures(aws)


def test_failed_first_create_keeps_plain_retain_resources(aws):
    """The failure RetainExceptOnCreate avoids: with Retain the rerun would stop at "already exists"."""
    aws("secretsmanager").create_secret(Name="TimeManagement-unit/STRIPE_KEY", SecretString="in the way")
    status, _ = deploy(aws, retained("Retain"))
    assert status == "ROLLBACK_COMPLETE"
    assert aws("dynamodb").list_tables()["TableNames"] == ["TimeManagement-unit-data"]


def test_failed_create_names_the_resource_rolls_back_and_a_corrected_rerun_succeeds(aws):
    aws("secretsmanager").create_secret(Name="TimeManagement-unit/STRIPE_KEY", SecretString="in the way")

    status, out = deploy(aws, TEMPLATE)

    assert status == "ROLLBACK_COMPLETE" and out == {}
    [(logical_id, state, reason)] = failures(aws)
    assert (logical_id, state) == ("Secret", "CREATE_FAILED")
    assert "ResourceExistsException" in reason and "<" not in reason
    stack = aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert "[Secret]" in stack["StackStatusReason"]
    # Rolled back: nothing the failed attempt created is left (only the secret that was in the way).
    assert aws("dynamodb").list_tables()["TableNames"] == []
    assert aws("cognito-idp").list_user_pools(MaxResults=10)["UserPools"] == []
    assert [s["Name"] for s in aws("secretsmanager").list_secrets()["SecretList"]] == ["TimeManagement-unit/STRIPE_KEY"]
    assert aws("cloudformation").describe_stack_resources(StackName=STACK)["StackResources"] == []

    # The fix, then what the CDK CLI does with a ROLLBACK_COMPLETE stack: delete it, create again.
    aws("secretsmanager").delete_secret(SecretId="TimeManagement-unit/STRIPE_KEY", ForceDeleteWithoutRecovery=True)
    aws("cloudformation").delete_stack(StackName=STACK)
    status, out = deploy(aws, TEMPLATE)
    assert status == "CREATE_COMPLETE", failures(aws)
    assert out["SecretArn"].startswith("arn:aws:secretsmanager:")


def test_failed_update_is_reported_and_a_corrected_update_succeeds(aws):
    deploy(aws, TEMPLATE)
    broken = changed(Client={"UserPoolId": "us-east-1_doesnotexist"})

    status, _ = deploy(aws, broken, update=True)

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    [(logical_id, state, reason)] = failures(aws)
    assert (logical_id, state) == ("Client", "UPDATE_FAILED")
    assert "us-east-1_doesnotexist" in reason or "ResourceNotFound" in reason
    status, out = deploy(aws, changed(Client={"ClientName": "web-2"}), update=True)
    assert status == "UPDATE_COMPLETE", failures(aws)
    client = aws("cognito-idp").describe_user_pool_client(
        UserPoolId=out["UserPoolId"], ClientId=out["UserPoolClientId"]
    )["UserPoolClient"]
    assert client["ClientName"] == "web-2"


def test_update_with_use_previous_value_parameters(aws):
    template = {**TEMPLATE, "Parameters": {"BootstrapVersion": {"Type": "String", "Default": "1"}}}
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "BootstrapVersion", "ParameterValue": "30"}],
    )
    cfn.update_stack(
        StackName=STACK,
        TemplateBody=json.dumps(changed(Pool={"UserPoolName": "x"}) | {"Parameters": template["Parameters"]}),
        Parameters=[{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}],
    )
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert stack["Parameters"] == [{"ParameterKey": "BootstrapVersion", "ParameterValue": "30"}]


# ---- pure helpers ------------------------------------------------------------------------------------
def test_generated_secret_follows_the_template_and_exclusions():
    value = json.loads(
        generate_secret_string(
            {
                "SecretStringTemplate": '{"tmkit":"unseeded"}',
                "GenerateStringKey": "placeholder",
                "ExcludePunctuation": True,
                "PasswordLength": 20,
            }
        )
    )
    assert value["tmkit"] == "unseeded" and len(value["placeholder"]) == 20 and value["placeholder"].isalnum()
    assert generate_secret_string({}) != generate_secret_string({})


def test_enforceable_policy_drops_only_statements_moto_cannot_evaluate():
    keep = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": "1"}},
    }
    plain = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    doc = {"Statement": [TLS_ONLY["Statement"][0], keep, plain]}
    assert json.loads(enforceable_policy(json.dumps(doc)))["Statement"] == [keep, plain]


def test_failure_reason_is_one_readable_line():
    reason = failure_reason(JsonRESTError("ResourceNotFoundException", "pool\n   us-east-1_x   does not exist"))
    assert reason == "ResourceNotFoundException: pool us-east-1_x does not exist"
    assert failure_reason(KeyError("UserPoolId")) == "KeyError: missing value 'UserPoolId'"
