"""The synthesized stack of every environment file, against the stack's requirements (docs/architecture.md,
docs/decisions.md) and the house rules."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk.assertions import Match

from infra.components.app_secrets import UNSEEDED_TEMPLATE, logical_id
from tests.helpers import STACK_OUTPUTS
from tmkit.api_contract import ROUTES
from tmkit.site import NOT_FOUND_PAGE, SERVER_ERROR_PAGE, SPA_ROUTING_JS

LAMBDA_ENV_VARS = {
    "TABLE_NAME",
    "DATA_ACCESS_ROLE_ARN",
    "SECRETS_PREFIX",
    "SECRET_KEYS",
    "SECRET_MAX_AGE_SECONDS",
    "ENVIRONMENT",
    "POWERTOOLS_SERVICE_NAME",
    "LOG_LEVEL",
}


def deletion(cfg) -> str:
    return "RetainExceptOnCreate" if cfg.removal_policy == "retain" else "Delete"


def replace_policy(cfg) -> str:
    return "Retain" if cfg.removal_policy == "retain" else "Delete"


def test_retained_resources_roll_back_on_a_failed_first_create_and_survive_everything_else(env):
    """Every stateful resource of a retain env: RetainExceptOnCreate + UpdateReplacePolicy Retain."""
    stateful = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SecretsManager::Secret", "AWS::Cognito::UserPool")
    found = {lid: r for t in stateful for lid, r in env.of_type(t).items()}
    assert {r["Type"] for r in found.values()} == set(stateful)
    for lid, resource in found.items():
        assert resource["DeletionPolicy"] == deletion(env.cfg), lid
        assert resource["UpdateReplacePolicy"] == replace_policy(env.cfg), lid


def test_stack_identity(env):
    assert env.stack.stack_name == f"TimeManagement-{env.cfg.name}"
    assert env.stack.region == env.cfg.region
    if env.cfg.is_local:
        assert env.stack.account == "123456789012"
    elif env.cfg.account is None:
        assert cdk.Token.is_unresolved(env.stack.account)


def test_table(env):
    lid, table = env.one("AWS::DynamoDB::Table")
    assert lid == "DataTable"  # stateful: the logical id never changes
    props = table["Properties"]
    assert props["TableName"] == f"TimeManagement-{env.cfg.name}-data"
    assert props["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in props
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert "KMSMasterKeyId" not in props["SSESpecification"]  # AWS-managed key
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is env.cfg.pitr
    assert table["DeletionPolicy"] == deletion(env.cfg)
    assert table["UpdateReplacePolicy"] == replace_policy(env.cfg)


def test_pitr_only_in_prod():
    from tmkit.config import load_env

    assert load_env("prod").pitr is True
    assert all(not load_env(n).pitr for n in ("dev", "qa", "local"))


def test_bucket(env):
    lid, bucket = env.one("AWS::S3::Bucket")
    assert lid == "FrontendBucket"
    props = bucket["Properties"]
    name = env.stack.resolve(env.stack.hosting.bucket.bucket_name)
    if env.cfg.is_local:
        assert props["BucketName"] == f"timemanagement-local-frontend-123456789012-{env.cfg.region}"
    else:
        assert props["BucketName"] == {
            "Fn::Join": [
                "",
                [f"timemanagement-{env.cfg.name}-frontend-", {"Ref": "AWS::AccountId"}, f"-{env.cfg.region}"],
            ]
        }
        assert name == {"Ref": "FrontendBucket"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    rules = props["LifecycleConfiguration"]["Rules"]
    assert any(r["Status"] == "Enabled" and r["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30} for r in rules)
    assert "WebsiteConfiguration" not in props  # not a public website: CloudFront only
    assert bucket["DeletionPolicy"] == deletion(env.cfg)


def test_bucket_policy_tls_only_and_cloudfront_only(env):
    _, policy = env.one("AWS::S3::BucketPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Principal"] == {"AWS": "*"}
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows, "CloudFront must be allowed to read"
    for s in allows:  # nobody but this distribution (OAC) reads the bucket
        assert s["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert "AWS:SourceArn" in json.dumps(s["Condition"])
    actions = {a for s in allows for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"s3:GetObject", "s3:ListBucket"}  # ListBucket: a missing key is a 404, not a 403


def test_distribution(env):
    dist_id, dist = env.one("AWS::CloudFront::Distribution")
    cfg = dist["Properties"]["DistributionConfig"]
    oac_id, oac = env.one("AWS::CloudFront::OriginAccessControl")
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert oac["Properties"]["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    (origin,) = cfg["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["DomainName"] == {"Fn::GetAtt": ["FrontendBucket", "RegionalDomainName"]}
    behavior = cfg["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["Compress"] is True
    assert behavior["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"  # CachingOptimized
    fn_id, _ = env.one("AWS::CloudFront::Function")
    assert behavior["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [fn_id, "FunctionARN"]}}
    ]
    headers_id, _ = env.one("AWS::CloudFront::ResponseHeadersPolicy")
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": headers_id}
    assert cfg["HttpVersion"] == "http2and3"
    assert cfg["PriceClass"] == env.cfg.price_class
    assert cfg["DefaultRootObject"] == "index.html"
    assert cfg["Enabled"] is True


def test_error_pages_do_not_hide_missing_assets(env):
    _, dist = env.one("AWS::CloudFront::Distribution")
    errors = {e["ErrorCode"]: e for e in dist["Properties"]["DistributionConfig"]["CustomErrorResponses"]}
    assert set(errors) == {404, 500, 502, 503, 504}
    assert 403 not in errors
    assert errors[404]["ResponseCode"] == 404 and errors[404]["ResponsePagePath"] == NOT_FOUND_PAGE
    for code in (500, 502, 503, 504):
        assert errors[code]["ResponseCode"] == code and errors[code]["ResponsePagePath"] == SERVER_ERROR_PAGE
    assert all(e["ResponsePagePath"] != "/index.html" for e in errors.values())


def test_spa_function(env):
    _, fn = env.one("AWS::CloudFront::Function")
    props = fn["Properties"]
    assert props["FunctionCode"] == SPA_ROUTING_JS
    assert props["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert props["AutoPublish"] is True
    assert props["Name"] == f"TimeManagement-{env.cfg.name}-spa-routing"


def test_security_headers(env):
    _, policy = env.one("AWS::CloudFront::ResponseHeadersPolicy")
    sec = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert sec["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert sec["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert sec["ContentTypeOptions"] == {"Override": True}
    assert sec["FrameOptions"]["FrameOption"] == "DENY"
    assert sec["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    assert sec["XSSProtection"]["Protection"] is True
    csp = json.dumps(sec["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    rest_api_id, _ = env.one("AWS::ApiGateway::RestApi")
    assert f'"Ref": "{rest_api_id}"' in csp and f".execute-api.{env.cfg.region}.amazonaws.com" in csp
    assert f"https://cognito-idp.{env.cfg.region}.amazonaws.com" in csp


def test_secrets(env):
    secrets = env.of_type("AWS::SecretsManager::Secret")
    assert {s["Properties"]["Name"] for s in secrets.values()} == {
        f"TimeManagement-{env.cfg.name}/{k}" for k in env.cfg.secrets
    }
    assert set(secrets) == {logical_id(k) for k in env.cfg.secrets}  # stable logical ids
    for secret in secrets.values():
        props = secret["Properties"]
        assert "SecretString" not in props  # no value in the template
        assert "KmsKeyId" not in props  # AWS-managed key
        assert props["GenerateSecretString"]["SecretStringTemplate"] == UNSEEDED_TEMPLATE
        assert props["GenerateSecretString"]["GenerateStringKey"] == "placeholder"
        assert secret["DeletionPolicy"] == deletion(env.cfg)


def _statements(doc) -> list[dict]:
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def _actions(statement) -> list[str]:
    a = statement.get("Action", [])
    return [a] if isinstance(a, str) else a


def _function_policy(env) -> list[dict]:
    role_id = env.stack.resolve(env.stack.api.role.node.default_child.logical_id)
    policies = [p for p in env.of_type("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]]
    assert len(policies) == 1
    return _statements(policies[0]["Properties"]["PolicyDocument"])


def test_lambda_reads_exactly_the_declared_secrets(env):
    statements = _function_policy(env)
    secret_statements = [s for s in statements if any(a.startswith("secretsmanager:") for a in _actions(s))]
    assert len(secret_statements) == 1
    (st,) = secret_statements
    assert _actions(st) == ["secretsmanager:GetSecretValue"] or st["Action"] == "secretsmanager:GetSecretValue"
    resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
    assert sorted(resources, key=json.dumps) == sorted(
        [{"Ref": logical_id(k)} for k in env.cfg.secrets], key=json.dumps
    )  # Ref of a secret = its full ARN


def test_lambda_role_permissions_are_scoped(env):
    statements = {s["Sid"]: s for s in _function_policy(env)}
    assert set(statements) == {"WriteOwnLogs", "AssumeDataAccessRole", "ReadDeclaredSecrets"}
    log_id = env.stack.resolve(env.stack.api.log_group.node.default_child.logical_id)
    assert statements["WriteOwnLogs"]["Resource"] == {"Fn::GetAtt": [log_id, "Arn"]}
    data_role_id = env.stack.resolve(env.stack.api.data_role.node.default_child.logical_id)
    assert sorted(_actions(statements["AssumeDataAccessRole"])) == ["sts:AssumeRole", "sts:TagSession"]
    assert statements["AssumeDataAccessRole"]["Resource"] == {"Fn::GetAtt": [data_role_id, "Arn"]}
    for role in env.of_type("AWS::IAM::Role").values():  # inline policies only
        assert "ManagedPolicyArns" not in role["Properties"]


def test_data_access_role_is_partition_scoped(env):
    data_role_id = env.stack.resolve(env.stack.api.data_role.node.default_child.logical_id)
    fn_role_id = env.stack.resolve(env.stack.api.role.node.default_child.logical_id)
    role = env.json["Resources"][data_role_id]["Properties"]
    (trust,) = _statements(role["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"AWS": {"Fn::GetAtt": [fn_role_id, "Arn"]}}
    assert sorted(_actions(trust)) == ["sts:AssumeRole", "sts:TagSession"]
    (policy,) = role["Policies"]
    (st,) = _statements(policy["PolicyDocument"])
    assert st["Resource"] == {"Fn::GetAtt": ["DataTable", "Arn"]}
    assert st["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["USER#${aws:PrincipalTag/sub}"]}}
    assert {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    } <= set(_actions(st))
    assert "dynamodb:Scan" not in _actions(st)  # a Scan cannot be limited to one partition


def test_lambda_function(env):
    _, fn = env.one("AWS::Lambda::Function")
    props = fn["Properties"]
    assert props["Runtime"] == "python3.14"
    assert props["Handler"] == "app.handler"
    assert props["FunctionName"] == f"TimeManagement-{env.cfg.name}-api"
    variables = props["Environment"]["Variables"]
    assert set(variables) >= LAMBDA_ENV_VARS
    assert variables["SECRETS_PREFIX"] == f"TimeManagement-{env.cfg.name}/"
    assert variables["SECRET_KEYS"] == ",".join(env.cfg.secrets)
    assert variables["SECRET_MAX_AGE_SECONDS"] == str(env.cfg.secret_cache_seconds)
    assert variables["ENVIRONMENT"] == env.cfg.name
    assert variables["POWERTOOLS_SERVICE_NAME"] == "timemanagement-api"
    assert variables["TABLE_NAME"] == {"Ref": "DataTable"}
    layer_id, layer = env.one("AWS::Lambda::LayerVersion")
    assert props["Layers"] == [{"Ref": layer_id}]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.14"]
    log_id = env.stack.resolve(env.stack.api.log_group.node.default_child.logical_id)
    assert props["LoggingConfig"] == {"LogGroup": {"Ref": log_id}}


def test_log_groups_have_configured_retention(env):
    groups = env.of_type("AWS::Logs::LogGroup")
    assert len(groups) == 3  # function, API access, API execution
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == env.cfg.log_retention_days
    fn_log = env.json["Resources"][env.stack.resolve(env.stack.api.log_group.node.default_child.logical_id)]
    assert fn_log["Properties"]["LogGroupName"] == f"/aws/lambda/TimeManagement-{env.cfg.name}-api"


def test_api(env):
    _, stage = env.one("AWS::ApiGateway::Stage")
    assert stage["Properties"]["StageName"] == "api"
    access_id = env.stack.resolve(env.stack.api.access_logs.node.default_child.logical_id)
    assert stage["Properties"]["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": [access_id, "Arn"]}
    (settings,) = stage["Properties"]["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False
    auth_id, auth = env.one("AWS::ApiGateway::Authorizer")
    assert auth["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert auth["Properties"]["ProviderARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    validator_id, validator = env.one("AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert validator["Properties"]["ValidateRequestParameters"] is True
    paths = {}
    for lid, res in env.of_type("AWS::ApiGateway::Resource").items():
        parent = res["Properties"]["ParentId"]
        prefix = paths.get(parent.get("Ref"), "") if "Ref" in parent else ""
        paths[lid] = f"{prefix}/{res['Properties']['PathPart']}"
    methods = {
        (paths[m["Properties"]["ResourceId"]["Ref"]], m["Properties"]["HttpMethod"]): m["Properties"]
        for m in env.of_type("AWS::ApiGateway::Method").values()
    }
    assert methods[("/health", "GET")]["AuthorizationType"] == "NONE"
    for route in ROUTES:  # the one route table (tmkit/api_contract.py), which `inv local.serve` also routes with
        if route.public:
            continue
        path = "/" + route.path
        m = methods[(path, "ANY")]
        assert m["AuthorizationType"] == "COGNITO_USER_POOLS" and m["AuthorizerId"] == {"Ref": auth_id}
        assert m["RequestValidatorId"] == {"Ref": validator_id}
        assert (path, "OPTIONS") in methods  # CORS preflight for the SPA
    non_options = {k: v for k, v in methods.items() if k[1] != "OPTIONS"}
    assert set(non_options) == {("/" + r.path, m) for r in ROUTES for m in r.methods}
    public = {("/" + r.path, m) for r in ROUTES if r.public for m in r.methods}
    assert {k for k, v in non_options.items() if v["AuthorizationType"] == "NONE"} == public == {("/health", "GET")}


def test_cognito(env):
    _, pool = env.one("AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
    assert props["UsernameAttributes"] == ["email"]
    pw = props["Policies"]["PasswordPolicy"]
    assert pw["MinimumLength"] >= 12
    assert all(pw[k] is True for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert pool["DeletionPolicy"] == deletion(env.cfg)
    _, client = env.one("AWS::Cognito::UserPoolClient")
    cprops = client["Properties"]
    assert cprops["GenerateSecret"] is False
    assert set(cprops["ExplicitAuthFlows"]) >= {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    }
    assert cprops["UserPoolId"] == {"Ref": "UserPool"}


def test_budget(env):
    _, budget = env.one("AWS::Budgets::Budget")
    data = budget["Properties"]["Budget"]
    assert data["BudgetType"] == "COST" and data["TimeUnit"] == "MONTHLY"
    assert isinstance(data["BudgetLimit"]["Amount"], (int, float))  # Spend.Amount is a Number (cfn-lint E3012)
    assert float(data["BudgetLimit"]["Amount"]) == env.cfg.budget.monthly_limit_usd
    assert data["BudgetLimit"]["Unit"] == "USD"
    assert data["CostFilters"] == {"TagKeyValue": [f"user:environment${env.cfg.name}"]}
    notes = {
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"]): n
        for n in budget["Properties"]["NotificationsWithSubscribers"]
    }
    assert set(notes) == {("ACTUAL", 80), ("FORECASTED", 100)}
    for n in notes.values():
        assert n["Notification"]["ThresholdType"] == "PERCENTAGE"
        assert n["Notification"]["ComparisonOperator"] == "GREATER_THAN"
        assert n["Subscribers"] == [{"SubscriptionType": "EMAIL", "Address": e} for e in env.cfg.budget.emails]
    monitors = env.of_type("AWS::CE::AnomalyMonitor")
    assert len(monitors) == (1 if env.cfg.budget.anomaly_monitor else 0)
    assert len(env.of_type("AWS::CE::AnomalySubscription")) == len(monitors)


def test_outputs(env):
    outputs = env.json["Outputs"]
    assert set(outputs) >= STACK_OUTPUTS
    assert outputs["EnvironmentName"]["Value"] == env.cfg.name
    assert outputs["SecretNames"]["Value"] == ",".join(f"TimeManagement-{env.cfg.name}/{k}" for k in env.cfg.secrets)
    assert outputs["TableName"]["Value"] == {"Ref": "DataTable"}
    assert outputs["FrontendBucketName"]["Value"] == {"Ref": "FrontendBucket"}
    assert outputs["UserPoolId"]["Value"] == {"Ref": "UserPool"}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}
    # `inv logs` reads the groups these name (docs/deploying.md, "The daily loop").
    groups = env.of_type("AWS::Logs::LogGroup")
    function_group = outputs["ApiLogGroupName"]["Value"]["Ref"]
    assert groups[function_group]["Properties"]["LogGroupName"] == f"/aws/lambda/TimeManagement-{env.cfg.name}-api"
    _, stage = env.one("AWS::ApiGateway::Stage")
    access_group = outputs["ApiAccessLogGroupName"]["Value"]["Ref"]
    assert stage["Properties"]["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": [access_group, "Arn"]}
    assert "Export" not in json.dumps(outputs)  # nothing shared between environments
    env.template.has_output("SiteUrl", {"Value": {"Fn::Join": ["", ["https://", Match.any_value()]]}})


def _rendered_tags(value) -> dict:
    if isinstance(value, dict):
        return value
    return {t["Key"]: t["Value"] for t in value or []}


def test_every_taggable_resource_has_the_three_tags(env):
    expected = {"project-name": "TimeManagement", "environment": env.cfg.name, "managed-by": "cdk"}
    checked = 0
    for construct in env.stack.node.find_all():
        if not isinstance(construct, cdk.CfnResource) or not cdk.TagManager.is_taggable(construct):
            continue
        lid = env.stack.resolve(construct.logical_id)
        props = env.json["Resources"][lid].get("Properties", {})
        name = construct.tags.tag_property_name  # camelCase ("tags", "userPoolTags", "resourceTags")
        tags = _rendered_tags(props.get(name[0].upper() + name[1:]))
        assert expected.items() <= tags.items(), f"{lid} ({construct.cfn_resource_type}) tags: {tags}"
        checked += 1
    assert checked >= 14  # the API Gateway logging role lives in the account stack


def test_no_wildcard_iam_action_anywhere(env):
    """No permission is granted with a wildcard action. The one wildcard allowed is the bucket's TLS-only
    *Deny* of ``s3:*`` without aws:SecureTransport (AWS's recommended form: a list would leave gaps)."""
    docs = []
    for res in env.json["Resources"].values():
        props = res.get("Properties", {})
        for key in ("PolicyDocument", "AssumeRolePolicyDocument"):
            if key in props:
                docs.append(props[key])
        if res["Type"] == "AWS::IAM::Role":
            docs += [p["PolicyDocument"] for p in props.get("Policies", [])]
    assert len(docs) >= 5
    for doc in docs:
        for st in _statements(doc):
            assert "NotAction" not in st
            for action in _actions(st):
                if "*" in action:
                    assert (st["Effect"], action, st.get("Condition")) == (
                        "Deny",
                        "s3:*",
                        {"Bool": {"aws:SecureTransport": "false"}},
                    ), f"wildcard action {action!r}"


def test_no_custom_resources(env):
    types = {r["Type"] for r in env.json["Resources"].values()}
    assert not {t for t in types if t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource"}
    assert list(env.of_type("AWS::Lambda::Function")) == [
        env.stack.resolve(env.stack.api.function.node.default_child.logical_id)
    ]  # no provider Lambdas
    assert "AWS::CDK::Metadata" not in types


def test_bucket_name_length_holds_when_the_account_is_not_pinned():
    """An unpinned account is a token at synth time: the name is fitted as if it were 12 digits."""
    from infra.stack import bucket_name
    from tmkit.config import load_env

    long_name = load_env("dev").model_copy(update={"name": "abcdefghijklmnop", "region": "ap-southeast-2"})
    pinned = bucket_name(long_name, "123456789012")
    unpinned = bucket_name(long_name, cdk.Aws.ACCOUNT_ID)
    assert len(pinned) <= 63 and pinned.endswith("-123456789012-ap-southeast-2")
    assert unpinned.replace(cdk.Aws.ACCOUNT_ID, "123456789012") == pinned  # same fit, whatever the account
    fits = long_name.model_copy(update={"name": "abcdefghijk"})  # 63 characters with a 12-digit account
    assert bucket_name(fits, cdk.Aws.ACCOUNT_ID).startswith("timemanagement-abcdefghijk-frontend-")


# ---- the per account and region settings (infra/account_stack.py) -----------------------------------
def test_no_environment_stack_owns_the_api_gateway_account_setting_or_retains_anything(env):
    assert env.of_type("AWS::ApiGateway::Account") == {}
    # destroying an environment leaves nothing behind but what its removal policy keeps
    kept = {lid for lid, r in env.json["Resources"].items() if r.get("DeletionPolicy", "Delete") != "Delete"}
    stateful = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SecretsManager::Secret", "AWS::Cognito::UserPool")
    expected = {lid for t in stateful for lid in env.of_type(t)} if env.cfg.removal_policy == "retain" else set()
    assert kept == expected


def test_the_account_stack_sets_the_api_gateway_logging_role(assembly):
    import json as jsonlib

    outdir, _ = assembly
    template = jsonlib.loads((outdir / "TimeManagement-account-us-east-1.template.json").read_text())
    resources = template["Resources"]
    (account,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Account"]
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = resources[role_id]
    assert role["Type"] == "AWS::IAM::Role"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    (policy,) = role["Properties"]["Policies"]
    actions = {a for s in policy["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert "logs:PutLogEvents" in actions and not any("*" in a for a in actions)
    assert "DeletionPolicy" not in account and "DeletionPolicy" not in role  # the stack owns them: nothing retained
