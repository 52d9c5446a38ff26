"""The deploy lifecycle through the real CLI (`inv ...` in a subprocess) against the emulator server.

Two emulator-backed test environments (`e2ea`, `e2eb`, copies of envs/local.toml on a private port) share one
emulator; the tests run in file order: bootstrap, parallel deploy, real outputs, no-op redeploy, destroy, then the
failure paths. Every CLI run is bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import INV, PROTECTED, free_port
from tmkit.paths import ENVS_DIR, ROOT

pytestmark = pytest.mark.e2e
CLI_TIMEOUT = 300


def env_file(envs: Path, name: str, port: int, extra: dict[str, str] | None = None, *, protected=False) -> None:
    """envs/local.toml as ``name`` on ``port``; ``protected``: without its [preview] table (docs/environments.md)."""
    text = (ENVS_DIR / "local.toml").read_text().replace("http://localhost:4599", f"http://localhost:{port}")
    if protected:
        text = text[: text.index("[preview]")]
    for old, new in {**(PROTECTED if protected else {}), **(extra or {})}.items():
        assert old in text, old
        text = text.replace(old, new)
    (envs / f"{name}.toml").write_text(text)


class Cli:
    def __init__(self, envs: Path):
        self.env = {**os.environ, "TM_ENVS_DIR": str(envs), "CI": "true"}
        for var in ("ENVIRONMENT", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
            self.env.pop(var, None)

    def __call__(self, *args: str, check: bool = True, timeout: int = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [*INV, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            pytest.fail(f"inv {' '.join(args)} exited {proc.returncode}\n{proc.stderr[-3000:]}")
        return proc

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [*INV, *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    envs = tmp_path_factory.mktemp("envs")
    port = free_port()
    env_file(envs, "e2ea", port)
    env_file(envs, "e2eb", port)
    env_file(envs, "e2edown", free_port())  # nothing listens there
    env_file(envs, "e2eprod", port, protected=True)
    cli = Cli(envs)
    cli("local.up", "--env", "e2ea")
    from tmkit.config import load_env

    os.environ["TM_ENVS_DIR"] = str(envs)
    try:
        yield cli, {name: load_env(name) for name in ("e2ea", "e2eb", "e2eprod")}
    finally:
        os.environ.pop("TM_ENVS_DIR", None)
        cli("local.down", "--env", "e2ea", check=False)


def aws(cfg, service):
    from tmkit.aws import client

    return client(cfg, service)


def outputs(cli, env) -> dict:
    return json.loads(cli("outputs.show", "--env", env, "--json").stdout)


def test_bootstrap(world):
    cli, cfgs = world
    proc = cli("bootstrap", "--env", "e2ea")
    assert "bootstrap" in proc.stderr.lower()
    param = aws(cfgs["e2ea"], "ssm").get_parameter(Name="/cdk-bootstrap/hnb659fds/version")["Parameter"]["Value"]
    assert int(param) >= 6
    # the per account and region stack: API Gateway's logging role, owned by no environment
    account = aws(cfgs["e2ea"], "cloudformation").describe_stacks(StackName="TimeManagement-account")["Stacks"][0]
    role = next(o["OutputValue"] for o in account["Outputs"] if o["OutputKey"] == "ApiGatewayCloudWatchRoleArn")
    assert aws(cfgs["e2ea"], "apigateway").get_account()["cloudwatchRoleArn"] == role


def test_two_environments_deploy_in_parallel(world):
    cli, cfgs = world
    procs = {env: cli.popen("deploy", "--env", env) for env in ("e2ea", "e2eb")}
    results = {env: p.communicate(timeout=CLI_TIMEOUT) for env, p in procs.items()}
    for env, p in procs.items():
        assert p.returncode == 0, results[env][1][-3000:]
        assert "TableName" in results[env][1]  # the outputs table printed at the end (stderr)
        assert results[env][0] == ""  # nothing on stdout: deploy was not asked for data
    cf = aws(cfgs["e2ea"], "cloudformation")
    for env in ("e2ea", "e2eb"):
        assert cf.describe_stacks(StackName=f"TimeManagement-{env}")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert (ROOT / "cdk.out" / "e2ea").is_dir() and (ROOT / "cdk.out" / "e2eb").is_dir()  # one assembly each


def test_outputs_name_real_resources_with_the_configured_properties(world):
    cli, cfgs = world
    cfg = cfgs["e2ea"]
    out = outputs(cli, "e2ea")
    assert out["TableName"] == "TimeManagement-e2ea-data" and out["EnvironmentName"] == "e2ea"

    table = aws(cfg, "dynamodb").describe_table(TableName=out["TableName"])["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"PK": "HASH", "SK": "RANGE"}

    s3 = aws(cfg, "s3")
    bucket = out["FrontendBucketName"]
    assert bucket == "timemanagement-e2ea-frontend-123456789012-us-east-1"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(pab.values()) and len(pab) == 4
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert any(r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") == 30 for r in rules)
    assert "aws:SecureTransport" in s3.get_bucket_policy(Bucket=bucket)["Policy"]

    dist = aws(cfg, "cloudfront").get_distribution(Id=out["DistributionId"])["Distribution"]
    assert dist["DomainName"] == out["DistributionDomainName"]
    assert dist["DistributionConfig"]["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"

    pool = aws(cfg, "cognito-idp").describe_user_pool(UserPoolId=out["UserPoolId"])["UserPool"]
    assert pool["Id"] == out["UserPoolId"]
    aws(cfg, "cognito-idp").describe_user_pool_client(UserPoolId=out["UserPoolId"], ClientId=out["UserPoolClientId"])

    sm = aws(cfg, "secretsmanager")
    names = out["SecretNames"].split(",")
    assert names == [f"TimeManagement-e2ea/{k}" for k in cfg.secrets]
    for name in names:
        assert sm.describe_secret(SecretId=name)["Name"] == name

    env_text = cli("outputs.env", "--env", "e2ea").stdout
    lines = env_text.splitlines()
    assert lines and all(line.startswith("VITE_") for line in lines)
    assert f"VITE_USER_POOL_ID={out['UserPoolId']}" in lines


def test_an_api_call_through_local_serve_appears_in_inv_logs(world):
    """The deployed stack's log group outputs name groups the emulator has; local.serve writes there, `inv logs`
    reads them (docs/deploying.md, "The daily loop")."""
    import urllib.request

    cli, _ = world
    port = free_port()
    server = cli.popen("local.serve", "--env", "e2ea", "--port", str(port))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with opener.open(f"http://127.0.0.1:{port}/api/health", timeout=10) as resp:
                    answer = json.loads(resp.read())
            except OSError:
                time.sleep(0.2)
        assert answer == {"status": "ok", "environment": "e2ea"}, server.poll()
        lines = cli("logs", "--env", "e2ea", "--since", "5m").stdout.splitlines()
        assert any(" ACCESS " in line and "GET /health" in line and " 200 " in line for line in lines), lines
        assert any(line.split()[1] == "REPORT" for line in lines), lines
        raw = [json.loads(line) for line in cli("logs", "--env", "e2ea", "--json").stdout.splitlines()]
        out = outputs(cli, "e2ea")
        assert {e["logGroupName"] for e in raw} == {out["ApiLogGroupName"], out["ApiAccessLogGroupName"]}
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_outputs_env_write_is_atomic_and_only_on_success(world, tmp_path):
    cli, _ = world
    target = tmp_path / "frontend.env"
    cli("outputs.env", "--env", "e2ea", "--write", str(target))
    assert target.read_text().startswith("VITE_")
    target.write_text("KEEP=1\n")
    proc = cli("outputs.env", "--env", "e2edown", "--write", str(target), check=False)
    assert proc.returncode != 0 and target.read_text() == "KEEP=1\n"


def test_second_deploy_changes_nothing(world):
    cli, cfgs = world
    cf = aws(cfgs["e2ea"], "cloudformation")
    before = cf.describe_stacks(StackName="TimeManagement-e2ea")["Stacks"][0]
    proc = cli("deploy", "--env", "e2ea")
    assert "no changes" in proc.stderr
    after = cf.describe_stacks(StackName="TimeManagement-e2ea")["Stacks"][0]
    assert after.get("LastUpdatedTime") == before.get("LastUpdatedTime")
    assert after["Outputs"] == before["Outputs"]


def test_watch_deploys_an_env_file_change_then_rebuilds_the_spa(world, tmp_path, monkeypatch):
    """`inv watch` on the emulator, infrastructure kind: a saved envs/<env>.toml is a full deploy (never a hotswap),
    then frontend/.env is rewritten from the outputs and, since it changed, the SPA is built and published.
    The SPA is a copy (paths.FRONTEND_DIR points at it): the repository's frontend/ is not written."""
    import threading

    from invoke import Config, Context

    from tests.integration.test_watch_localserve import copy_repo
    from tmkit import paths, watch
    from tmkit.watch_actions import Actions

    cli, cfgs = world
    cfg = cfgs["e2ea"]
    front = copy_repo(tmp_path)
    monkeypatch.setattr(paths, "FRONTEND_DIR", front)
    env_file = Path(os.environ["TM_ENVS_DIR"]) / "e2ea.toml"
    said: list[str] = []
    done = threading.Event()
    actions = Actions(Context(Config(overrides={"run": {"in_stream": False}})), cfg, port=free_port(), say=said.append)
    thread = threading.Thread(
        target=watch.run,
        args=(cfg, actions),
        kwargs={"root": tmp_path, "env_file": env_file, "say": said.append, "stop": done.is_set},
        daemon=True,
    )
    thread.start()
    try:
        time.sleep(1.0)  # the first snapshot
        text = env_file.read_text()
        assert "log_retention_days = 7\n" in text
        env_file.write_text(text.replace("log_retention_days = 7\n", "log_retention_days = 30\n"))
        deadline = time.monotonic() + CLI_TIMEOUT
        while not any(line.startswith(("done in", "failed:")) for line in said) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        done.set()
        thread.join(timeout=30)
    assert any(line.startswith("done in") for line in said), said
    assert any(line.startswith("infra changed: full deploy, then rewrite frontend/.env") for line in said), said
    out = outputs(cli, "e2ea")
    groups = aws(cfg, "logs").describe_log_groups(logGroupNamePrefix=out["ApiLogGroupName"])["logGroups"]
    assert groups[0]["retentionInDays"] == 30  # deployed
    assert f"VITE_USER_POOL_ID={out['UserPoolId']}" in (front / ".env").read_text()
    assert any(line.startswith("release ") and line.endswith("is live") for line in said), said
    index = aws(cfg, "s3").get_object(Bucket=out["FrontendBucketName"], Key="index.html")["Body"].read()
    assert b'<div id="root">' in index


def test_destroy_leaves_nothing(world):
    cli, cfgs = world
    cfg = cfgs["e2eb"]
    out = outputs(cli, "e2eb")
    s3 = aws(cfg, "s3")
    for body in (b"v1", b"v2"):  # two versions of one object, then a delete marker
        s3.put_object(Bucket=out["FrontendBucketName"], Key="index.html", Body=body)
    s3.delete_object(Bucket=out["FrontendBucketName"], Key="index.html")

    cli("destroy", "--env", "e2eb")

    from botocore.exceptions import ClientError

    assert out["FrontendBucketName"] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert out["TableName"] not in aws(cfg, "dynamodb").list_tables()["TableNames"]
    dists = aws(cfg, "cloudfront").list_distributions()["DistributionList"].get("Items", [])
    assert out["DistributionId"] not in [d["Id"] for d in dists]
    with pytest.raises(ClientError):
        aws(cfg, "cognito-idp").describe_user_pool(UserPoolId=out["UserPoolId"])
    secrets = [s["Name"] for s in aws(cfg, "secretsmanager").list_secrets()["SecretList"]]
    assert not [s for s in secrets if s.startswith("TimeManagement-e2eb/")]
    stacks = aws(cfg, "cloudformation").list_stacks()["StackSummaries"]
    assert all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks if s["StackName"] == "TimeManagement-e2eb")
    roles = [r["RoleName"] for r in aws(cfg, "iam").list_roles()["Roles"]]
    assert not [r for r in roles if r.startswith("TimeManagement-e2eb")]  # no role retained by the stack
    # the other environment was not touched
    assert outputs(cli, "e2ea")["TableName"] == "TimeManagement-e2ea-data"


def test_outputs_of_a_stack_not_deployed(world):
    cli, _ = world
    proc = cli("outputs.env", "--env", "e2eb", check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "TimeManagement-e2eb is not deployed" in proc.stderr and "inv deploy --env e2eb" in proc.stderr


def test_emulator_not_running(world):
    cli, _ = world
    for task in ("deploy", "outputs.show", "destroy"):
        proc = cli(task, "--env", "e2edown", check=False)
        assert proc.returncode == 1, task
        assert "inv local.up" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_unknown_env(world):
    cli, _ = world
    proc = cli("deploy", "--env", "nosuch", check=False)
    assert proc.returncode == 1 and "unknown environment 'nosuch'" in proc.stderr and "e2ea" in proc.stderr


def test_protected_deploy_and_destroy_need_confirmation(world):
    cli, cfgs = world
    proc = cli("deploy", "--env", "e2eprod", check=False)
    assert proc.returncode == 1 and "--yes" in proc.stderr
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        aws(cfgs["e2eprod"], "cloudformation").describe_stacks(StackName="TimeManagement-e2eprod")
    proc = cli("destroy", "--env", "e2eprod", "--yes", check=False)
    assert proc.returncode == 1 and "--yes --force" in proc.stderr
    proc = cli("deploy", "--env", "e2eprod", "--hotswap", "--yes", check=False)
    assert proc.returncode == 1 and "--hotswap is not allowed" in proc.stderr


def test_credentials_for_the_wrong_account(tmp_path):
    """A second emulator that answers as account 111111111111: the env expects 123456789012."""
    port = free_port()
    env_file(tmp_path, "wrongacct", port)
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "MOTO_ACCOUNT_ID": "111111111111"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        proc = Cli(tmp_path)("deploy", "--env", "wrongacct", check=False)
        assert proc.returncode == 1
        assert "wrong AWS account" in proc.stderr and "111111111111" in proc.stderr and "123456789012" in proc.stderr
        assert "Nothing was changed" in proc.stderr
    finally:
        moto.terminate()
        moto.wait(timeout=10)


def test_a_failed_deploy_names_the_resource_and_a_corrected_rerun_succeeds(world):
    """A table with the stack's table name already exists: the deploy fails at that resource; remove it, rerun."""
    cli, cfgs = world
    cfg = cfgs["e2eb"]
    ddb = aws(cfg, "dynamodb")
    ddb.create_table(
        TableName="TimeManagement-e2eb-data",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "x", "KeyType": "HASH"}],
    )
    proc = cli("deploy", "--env", "e2eb", check=False)
    assert proc.returncode == 1
    assert "AWS::DynamoDB::Table" in proc.stderr and "deploy of TimeManagement-e2eb failed" in proc.stderr
    ddb.delete_table(TableName="TimeManagement-e2eb-data")
    cli("deploy", "--env", "e2eb")
    assert outputs(cli, "e2eb")["TableName"] == "TimeManagement-e2eb-data"


def test_emulator_killed_during_a_deploy_then_a_rerun_recovers(tmp_path):
    port = free_port()
    env_file(tmp_path, "e2ekill", port)
    cli = Cli(tmp_path)
    cli("local.up", "--env", "e2ekill")
    try:
        from tmkit import emulator
        from tmkit.config import load_env

        os.environ["TM_ENVS_DIR"] = str(tmp_path)
        cfg = load_env("e2ekill")
        pid = emulator.status(cfg).pid
        cf = aws(cfg, "cloudformation")
        deploy = cli.popen("deploy", "--env", "e2ekill")
        deadline = time.time() + CLI_TIMEOUT
        while time.time() < deadline and deploy.poll() is None:  # wait until CloudFormation is at work
            if cf.list_stacks()["StackSummaries"]:
                break
            time.sleep(0.05)
        assert deploy.poll() is None, "the deploy ended before the emulator could be killed"
        os.kill(pid, signal.SIGKILL)
        _, err = deploy.communicate(timeout=CLI_TIMEOUT)
        assert deploy.returncode != 0 and "Traceback" not in err
        cli("local.up", "--env", "e2ekill")  # notices the dead process and starts a new one
        cli("deploy", "--env", "e2ekill")
        assert json.loads(cli("outputs.show", "--env", "e2ekill", "--json").stdout)["EnvironmentName"] == "e2ekill"
    finally:
        cli("local.down", "--env", "e2ekill", check=False)
        os.environ.pop("TM_ENVS_DIR", None)
