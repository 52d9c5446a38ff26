"""DeployRoleStack (infra/deploy_role.py): OIDC trust, least-privilege permissions, cdk-nag, cfn-lint."""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from infra import nag  # noqa: E402
from infra.deploy_role import DeployRoleStack  # noqa: E402
from tmkit.errors import ToolkitError  # noqa: E402

REPO = "my-org/time-management"
ENVS = ["dev", "qa", "prod"]
ACCOUNT = "111111111111"
REGION = "us-east-1"  # the region of envs/dev|qa|prod.toml: every ARN follows the env files
STACK_REGION = "eu-west-1"  # where the role stack itself is deployed (IAM is global)
OIDC = "token.actions.githubusercontent.com"


def text(value) -> str:
    """A resolved template value as text: Fn::Join flattened, a Ref as ${Name}."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "${{{}}}".format(value["Ref"])
    if "Fn::GetAtt" in value:
        return "${{{}}}".format(".".join(value["Fn::GetAtt"]))
    return "".join(text(p) for p in value["Fn::Join"][1])


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def synth(**props) -> dict:
    props.setdefault("github_repo", REPO)
    props.setdefault("environments", ENVS)
    props.setdefault("env", cdk.Environment(account=ACCOUNT, region=STACK_REGION))
    stack = DeployRoleStack(cdk.App(), **props)
    return Template.from_stack(stack).to_json()


@pytest.fixture(scope="module")
def template() -> dict:
    return synth()


def resources(template, type_: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def role(template, prefix: str) -> dict:
    (props,) = [v["Properties"] for k, v in resources(template, "AWS::IAM::Role").items() if k.startswith(prefix)]
    return props


def grants(template, prefix: str) -> dict[str, set[str]]:
    """{action: {resource ARN text}} of the role's inline policy."""
    (policy,) = [v["Properties"] for k, v in resources(template, "AWS::IAM::Policy").items() if k.startswith(prefix)]
    out: dict[str, set[str]] = {}
    for st in policy["PolicyDocument"]["Statement"]:
        assert st["Effect"] == "Allow"
        for action in as_list(st["Action"]):
            out.setdefault(action, set()).update(text(r) for r in as_list(st["Resource"]))
    return out


def arn(service: str, rest: str, region: str = REGION) -> str:
    return f"arn:${{AWS::Partition}}:{service}:{region}:{ACCOUNT}:{rest}"


def test_creates_the_github_oidc_provider_as_a_plain_resource_not_a_custom_resource(template):
    (provider,) = resources(template, "AWS::IAM::OIDCProvider").values()
    assert provider["Properties"]["Url"] == f"https://{OIDC}"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    types = {v["Type"] for v in template["Resources"].values()}
    assert not any(
        t.startswith("Custom::") or t in ("AWS::Lambda::Function", "AWS::CloudFormation::CustomResource") for t in types
    ), types


def test_deploy_role_trusts_only_the_listed_github_environments_of_the_repository(template):
    (trust,) = role(template, "DeployRole")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert text(trust["Principal"]["Federated"]) == "${GitHubOidcProvider.Arn}"
    assert trust["Condition"] == {
        "StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com"},
        "StringLike": {f"{OIDC}:sub": [f"repo:{REPO}:environment:{e}" for e in ENVS]},
    }


def test_diff_role_trusts_only_runs_on_main_without_an_environment(template):
    (trust,) = role(template, "DiffRole")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {f"{OIDC}:aud": "sts.amazonaws.com"}
    assert trust["Condition"]["StringLike"] == {f"{OIDC}:sub": [f"repo:{REPO}:ref:refs/heads/main"]}
    custom = synth(diff_branch="release")
    (trust,) = role(custom, "DiffRole")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringLike"] == {f"{OIDC}:sub": [f"repo:{REPO}:ref:refs/heads/release"]}


def test_deploy_role_has_exactly_the_permissions_a_deploy_and_publish_need(template):
    cdk_role = f"arn:${{AWS::Partition}}:iam::{ACCOUNT}:role/cdk-hnb659fds-KIND-role-{ACCOUNT}-{REGION}"
    buckets = {f"arn:${{AWS::Partition}}:s3:::timemanagement-{e}-frontend-{ACCOUNT}-{REGION}" for e in ENVS}
    stacks = {arn("cloudformation", f"stack/TimeManagement-{e}/*") for e in ENVS}
    distributions = {f"arn:${{AWS::Partition}}:cloudfront::{ACCOUNT}:distribution/*"}
    expected = {
        # CloudFormation changes resources through the bootstrap roles; the CLI only assumes them.
        "sts:AssumeRole": {cdk_role.replace("KIND", k) for k in ("deploy", "file-publishing", "lookup")},
        "ssm:GetParameter": {arn("ssm", "parameter/cdk-bootstrap/hnb659fds/version")},
        "cloudformation:DescribeStacks": stacks,
        "cloudformation:DescribeStackEvents": stacks,
        "cloudformation:GetTemplate": stacks,
        "s3:ListBucket": buckets,
        "s3:GetObject": {f"{b}/*" for b in buckets},
        "s3:PutObject": {f"{b}/*" for b in buckets},
        "s3:DeleteObject": {f"{b}/*" for b in buckets},
        "cloudfront:CreateInvalidation": distributions,
        "cloudfront:GetInvalidation": distributions,
        "cloudfront:ListInvalidations": distributions,
    }
    for action, arns in previews("dev").items():  # envs/dev.toml has a [preview] table; qa and prod do not
        expected[action] = expected.get(action, set()) | arns  # (the sets above are shared between actions)
    assert grants(template, "DeployRole") == expected


def previews(base: str) -> dict[str, set[str]]:
    """What the previews of ``base`` add to the DeployRole (docs/environments.md, "Previews")."""
    stacks = {arn("cloudformation", f"stack/TimeManagement-{base}-*/*")}
    buckets = {f"arn:${{AWS::Partition}}:s3:::timemanagement-{base}-*"}
    objects = {f"{b}/*" for b in buckets}
    secrets = {arn("secretsmanager", f"secret:TimeManagement-{base}-*")}
    return {
        "cloudformation:DescribeStacks": {"*"},
        "cloudformation:DescribeStackEvents": stacks,
        "cloudformation:GetTemplate": stacks,
        "s3:ListBucket": buckets,
        "s3:ListBucketVersions": buckets,
        "s3:GetObject": objects,
        "s3:PutObject": objects,
        "s3:DeleteObject": objects,
        "s3:DeleteObjectVersion": objects,
        "secretsmanager:DescribeSecret": secrets,
        "secretsmanager:DeleteSecret": secrets,
    }


def test_previews_add_only_their_own_wildcards():
    without = grants(synth(environments=["qa"]), "DeployRole")
    assert "secretsmanager:DeleteSecret" not in without and "*" not in set().union(*without.values())
    with_dev = grants(synth(environments=["dev"]), "DeployRole")
    for action, arns in previews("dev").items():
        assert arns <= with_dev[action], action


def test_diff_role_can_only_read(template):
    assert grants(template, "DiffRole") == {
        "sts:AssumeRole": {f"arn:${{AWS::Partition}}:iam::{ACCOUNT}:role/cdk-hnb659fds-lookup-role-{ACCOUNT}-{REGION}"},
        "ssm:GetParameter": {arn("ssm", "parameter/cdk-bootstrap/hnb659fds/version")},
        "cloudformation:GetTemplate": {arn("cloudformation", f"stack/TimeManagement-{e}/*") for e in ENVS},
    }


def test_no_iam_action_has_a_wildcard_and_no_managed_policy(template):
    for key, res in template["Resources"].items():
        props = res.get("Properties", {})
        assert not props.get("ManagedPolicyArns"), key
        for doc in [props.get("PolicyDocument"), props.get("AssumeRolePolicyDocument")]:
            for st in (doc or {}).get("Statement", []):
                for action in as_list(st["Action"]):
                    assert "*" not in action and "?" not in action, (key, action)


def test_only_the_listed_environments_are_reachable():
    granted = grants(synth(environments=["qa"]), "DeployRole")
    reachable = " ".join(sorted(set().union(*granted.values())))
    assert "TimeManagement-qa/" in reachable and "timemanagement-qa-frontend" in reachable
    assert "-dev" not in reachable and "-prod" not in reachable


def test_an_existing_oidc_provider_is_reused_instead_of_created():
    existing = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"
    template = synth(oidc_provider_arn=existing)
    assert resources(template, "AWS::IAM::OIDCProvider") == {}
    for prefix in ("DeployRole", "DiffRole"):
        (trust,) = role(template, prefix)["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"]["Federated"] == existing


def test_tags_and_outputs(template):
    for res in {**resources(template, "AWS::IAM::Role"), **resources(template, "AWS::IAM::OIDCProvider")}.values():
        tags = {t["Key"]: t["Value"] for t in res["Properties"]["Tags"]}
        assert tags["project-name"] == "TimeManagement" and tags["managed-by"] == "cdk"
    outputs = template["Outputs"]
    assert outputs["DeployRoleArn"]["Value"] == {
        "Fn::GetAtt": [
            next(iter(k for k in resources(template, "AWS::IAM::Role") if k.startswith("DeployRole"))),
            "Arn",
        ]
    }
    assert text(outputs["DiffRoleArn"]["Value"]).startswith("${DiffRole")


@pytest.mark.parametrize(
    "repo",
    [
        "",
        "time-management",
        "my-org/time-management/extra",
        "my org/x",
        "o/r*",
        "https://github.com/my-org/time-management",
    ],
)
def test_a_bad_repository_is_refused_with_the_expected_form(repo):
    with pytest.raises(ToolkitError, match="owner/repo"):
        DeployRoleStack(cdk.App(), github_repo=repo, environments=ENVS)


@pytest.mark.parametrize("envs", [[], ["prod*"], ["dev", "q a"], [""]])
def test_bad_environment_names_are_refused(envs):
    with pytest.raises(ToolkitError, match="environment names"):
        DeployRoleStack(cdk.App(), github_repo=REPO, environments=envs)


def test_the_emulator_environment_and_unknown_environments_are_refused():
    with pytest.raises(ToolkitError, match="no emulator environment"):
        DeployRoleStack(cdk.App(), github_repo=REPO, environments=["dev", "local"])
    with pytest.raises(ToolkitError):
        DeployRoleStack(cdk.App(), github_repo=REPO, environments=["staging"])  # no envs/staging.toml


def test_arns_follow_each_environment_file(write_env):
    """An environment in another region (and a new env file) is covered with that region's ARNs."""
    write_env("staging", base="qa", replace={'region = "us-east-1"': 'region = "eu-central-1"'})
    granted = grants(synth(environments=["dev", "staging"]), "DeployRole")
    assert (
        arn("cloudformation", "stack/TimeManagement-staging/*", "eu-central-1")
        in granted["cloudformation:DescribeStacks"]
    )
    assert (
        f"arn:${{AWS::Partition}}:s3:::timemanagement-staging-frontend-{ACCOUNT}-eu-central-1"
        in granted["s3:ListBucket"]
    )
    assert {r.split(f"-role-{ACCOUNT}-")[1] for r in granted["sts:AssumeRole"]} == {"us-east-1", "eu-central-1"}
    assert granted["ssm:GetParameter"] == {
        arn("ssm", "parameter/cdk-bootstrap/hnb659fds/version", r) for r in ("us-east-1", "eu-central-1")
    }


def _nag_findings(tmp_path, acknowledge: bool, monkeypatch) -> list[str]:
    if not acknowledge:
        monkeypatch.setattr(DeployRoleStack, "_acknowledge", lambda self, reasons, role=None: None)
    app = cdk.App(outdir=str(tmp_path))
    DeployRoleStack(app, github_repo=REPO, environments=ENVS)  # env-agnostic, as `cdk deploy` synthesizes it
    nag.check(app, [])
    try:
        app.synth()
    except RuntimeError as exc:  # unacknowledged cdk-nag errors fail synth (ValidationFailed)
        assert "ValidationFailed" in str(exc)
    return nag.unacknowledged(tmp_path)


def test_cdk_nag_has_no_unacknowledged_finding(tmp_path, monkeypatch):
    assert _nag_findings(tmp_path, True, monkeypatch) == []


def test_cdk_nag_acknowledgements_cover_only_the_resource_wildcards(tmp_path, monkeypatch):
    """Without them, the findings are exactly the IAM5 resource wildcards (stack ids, bucket objects, CDN)."""
    findings = _nag_findings(tmp_path, False, monkeypatch)
    wildcards = sorted({f.split("[Resource::")[1].split("]")[0] for f in findings})
    assert all("AwsSolutions-IAM5[Resource::" in f and "Role/DefaultPolicy" in f for f in findings), findings
    diff_role = sorted(f.split("[Resource::")[1].split("]")[0] for f in findings if "DiffRole/DefaultPolicy" in f)
    assert diff_role == sorted(  # the diff role's only wildcards: the stack ids of GetTemplate
        f"arn:<AWS::Partition>:cloudformation:{REGION}:<AWS::AccountId>:stack/TimeManagement-{e}/*" for e in ENVS
    )
    assert wildcards == sorted(
        [f"arn:<AWS::Partition>:cloudformation:{REGION}:<AWS::AccountId>:stack/TimeManagement-{e}/*" for e in ENVS]
        + [f"arn:<AWS::Partition>:s3:::timemanagement-{e}-frontend-<AWS::AccountId>-{REGION}/*" for e in ENVS]
        + ["arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/*"]
        + [  # the previews of dev (envs/dev.toml has a [preview] table)
            "*",
            f"arn:<AWS::Partition>:cloudformation:{REGION}:<AWS::AccountId>:stack/TimeManagement-dev-*/*",
            "arn:<AWS::Partition>:s3:::timemanagement-dev-*",
            "arn:<AWS::Partition>:s3:::timemanagement-dev-*/*",
            f"arn:<AWS::Partition>:secretsmanager:{REGION}:<AWS::AccountId>:secret:TimeManagement-dev-*",
        ]
    )


def test_cfn_lint_passes_and_synth_is_deterministic():
    from cfnlint.api import lint_all

    def problems(template: dict) -> list[str]:  # errors and warnings, as the cfn-lint CLI reports them
        return [str(m) for m in lint_all(json.dumps(template)) if m.rule.id[0] in "EW"]

    first, second = synth(), synth()
    assert first == second
    assert problems(first) == []
    assert problems(synth(env=None)) == []  # env-agnostic, as `cdk deploy` synthesizes it
