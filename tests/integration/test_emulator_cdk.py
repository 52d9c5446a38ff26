"""The real synthesized `local` template, deployed through the real CDK CLI to the emulator server.

bootstrap -> a deploy that fails part-way (a secret is in the way) is reported and rolled back -> the
corrected rerun reaches CREATE_COMPLETE with real ids in every output -> a redeploy changes nothing
-> an update (PITR on, longer log retention) applies in place -> destroy (bucket emptied first)
leaves nothing. Slow (two synths): marked e2e.
"""

from __future__ import annotations

import json
import os
import subprocess

import boto3
import pytest

from tests.helpers import STACK_OUTPUTS, free_port
from tmkit import emulator, paths
from tmkit.aws import credentials_env
from tmkit.config import load_env

pytestmark = pytest.mark.e2e

ROOT = paths.ROOT
CDK = ROOT / "node_modules" / ".bin" / "cdk"
STACK = "TimeManagement-local"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """An emulator on a free port, `local` pointing at it, and two synthesized cloud assemblies."""
    if not CDK.exists():
        pytest.skip("the CDK CLI is not installed (npm ci)")
    tmp = tmp_path_factory.mktemp("emulator-cdk")
    port = free_port()
    base = (paths.ENVS_DIR / "local.toml").read_text().replace("http://localhost:4599", f"http://localhost:{port}")
    assert "pitr = false" in base and "log_retention_days = 7" in base
    envs = {
        "v1": base,
        "v2": base.replace("pitr = false", "pitr = true").replace("log_retention_days = 7", "log_retention_days = 14"),
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(paths, "STATE_DIR", tmp / "state")
        for var in ("AWS_ENDPOINT_URL", "ENVIRONMENT", "AWS_PROFILE"):
            mp.delenv(var, raising=False)
        synths = {}
        for version, text in envs.items():
            (tmp / version).mkdir()
            (tmp / version / "local.toml").write_text(text)
            env = {
                **os.environ,
                "TM_ENVS_DIR": str(tmp / version),
                "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            }
            synths[version] = subprocess.Popen(
                [str(CDK), "synth", "-c", "env=local", "-o", str(tmp / f"out-{version}"), "-q"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        for version, proc in synths.items():
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, f"synth {version} failed:\n{err[-3000:]}"
        mp.setenv("TM_ENVS_DIR", str(tmp / "v1"))
        cfg = load_env("local")
        emulator.start(cfg)
        try:
            yield {"cfg": cfg, "v1": tmp / "out-v1", "v2": tmp / "out-v2"}
        finally:
            emulator.stop(cfg)


def cdk(world, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **credentials_env(world["cfg"]),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    result = subprocess.run([str(CDK), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def deploy(world, assembly: str, **kw) -> subprocess.CompletedProcess:
    return cdk(
        world, "deploy", STACK, "--app", str(world[assembly]), "--method=direct", "--require-approval", "never", **kw
    )


def aws(world, service):
    return boto3.client(
        service,
        endpoint_url=world["cfg"].endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def outputs(world) -> dict[str, str]:
    stack = aws(world, "cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_lifecycle_through_the_cdk_cli(world):
    template = json.loads((world["v1"] / f"{STACK}.template.json").read_text())
    cdk(world, "bootstrap", "aws://123456789012/us-east-1", "--app", str(world["v1"]))

    # 1. A deploy that fails part-way: a secret of that name already exists.
    sm = aws(world, "secretsmanager")
    sm.create_secret(Name="TimeManagement-local/SMTP_PASSWORD", SecretString="in the way")
    failed = deploy(world, "v1", check=False)
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "SecretSMTPPASSWORD" in text and "ResourceExistsException" in text and "<?xml" not in text
    stack = aws(world, "cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert aws(world, "dynamodb").list_tables()["TableNames"] == []  # rolled back

    # 2. Corrected rerun: the CLI replaces the failed stack.
    sm.delete_secret(SecretId="TimeManagement-local/SMTP_PASSWORD", ForceDeleteWithoutRecovery=True)
    deploy(world, "v1")
    out = outputs(world)
    assert set(out) >= STACK_OUTPUTS, STACK_OUTPUTS - set(out)
    assert all(v and "None" not in v and "[object" not in v for v in out.values()), out
    resources = aws(world, "cloudformation").describe_stack_resources(StackName=STACK)["StackResources"]
    assert len(resources) == len(template["Resources"])
    assert [r["LogicalResourceId"] for r in resources if not r.get("PhysicalResourceId")] == []

    # What the outputs name exists, with the configured properties.
    bucket = out["FrontendBucketName"]
    s3 = aws(world, "s3")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["NoncurrentVersionExpiration"]
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert "aws:SecureTransport" in s3.get_bucket_policy(Bucket=bucket)["Policy"]
    ddb = aws(world, "dynamodb")
    assert ddb.describe_table(TableName=out["TableName"])["Table"]["TableStatus"] == "ACTIVE"
    pitr = ddb.describe_continuous_backups(TableName=out["TableName"])["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    dist = aws(world, "cloudfront").get_distribution(Id=out["DistributionId"])["Distribution"]
    assert dist["DomainName"] == out["DistributionDomainName"]
    oac_id = dist["DistributionConfig"]["Origins"]["Items"][0]["OriginAccessControlId"]
    assert aws(world, "cloudfront").get_origin_access_control(Id=oac_id)
    idp = aws(world, "cognito-idp")
    assert idp.describe_user_pool(UserPoolId=out["UserPoolId"])["UserPool"]["Id"] == out["UserPoolId"]
    assert idp.describe_user_pool_client(UserPoolId=out["UserPoolId"], ClientId=out["UserPoolClientId"])
    for name in out["SecretNames"].split(","):
        assert json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["tmkit"] == "unseeded"
    budgets = aws(world, "budgets").describe_budgets(AccountId="123456789012")["Budgets"]
    assert [b["BudgetLimit"]["Amount"] for b in budgets] == ["1"]

    # 3. A second deploy of the same template changes nothing.
    again = deploy(world, "v1")
    assert "(no changes)" in again.stdout + again.stderr
    assert outputs(world) == out

    # 4. An update applies in place: same ids, new settings.
    deploy(world, "v2")
    assert (
        aws(world, "cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    )
    assert outputs(world) == out
    pitr = ddb.describe_continuous_backups(TableName=out["TableName"])["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    retention = {
        g["logGroupName"]: g.get("retentionInDays") for g in aws(world, "logs").describe_log_groups()["logGroups"]
    }
    assert retention[f"/aws/lambda/{out['ApiFunctionName']}"] == 14

    # 5. Destroy: empty the versioned bucket (every version), then nothing is left.
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"v1")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"v2")
    versions = s3.list_object_versions(Bucket=bucket)
    doomed = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])
    ]
    s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})
    cdk(world, "destroy", STACK, "--app", str(world["v2"]), "--force")

    with pytest.raises(Exception, match="does not exist"):
        aws(world, "cloudformation").describe_stacks(StackName=STACK)
    assert out["TableName"] not in ddb.list_tables()["TableNames"]
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert aws(world, "cloudfront").list_distributions()["DistributionList"]["Quantity"] == 0
    assert idp.list_user_pools(MaxResults=10)["UserPools"] == []
    assert sm.list_secrets()["SecretList"] == []
    assert aws(world, "budgets").describe_budgets(AccountId="123456789012").get("Budgets", []) == []
    assert aws(world, "apigateway").get_rest_apis()["items"] == []
    assert not [
        f for f in aws(world, "lambda").list_functions()["Functions"] if f["FunctionName"] == out["ApiFunctionName"]
    ]
