"""Previews end to end through the real CLI against the emulator server (docs/environments.md, "Previews").

`local` (a copy of envs/local.toml on a private port) is deployed and seeded; two previews of it are deployed
at once (one from a 100-character branch name), published, listed, reported by `inv status`; `preview.gc --keep`
removes exactly one, `preview.destroy` the other, and nothing of either is left. The tests run in file order.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.e2e.test_lifecycle import CLI_TIMEOUT, INV, Cli, aws, env_file
from tests.helpers import free_port
from tmkit.paths import ROOT

pytestmark = pytest.mark.e2e

LONG = "Feature/JIRA-1234 Add Login Page with Ünïcode, Spaces and CAPITALS for the new onboarding flow (v2)!"
SHORT = "pr-7"
SECRETS = {"STRIPE_KEY": "sk_test_preview_e2e_1", "SMTP_PASSWORD": "smtp-preview-e2e-2"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    assert len(LONG) == 100
    envs = tmp_path_factory.mktemp("envs")
    port = free_port()
    env_file(envs, "local", port)
    env_file(envs, "safe", port, protected=True)  # a protected env may not have a [preview] table
    build = tmp_path_factory.mktemp("dist")
    (build / "index.html").write_text("<!doctype html><title>preview</title><script src=/assets/app-1a2b3c4d.js>")
    (build / "assets").mkdir()
    (build / "assets" / "app-1a2b3c4d.js").write_text("console.log('preview')")
    cli = Cli(envs)
    cli("local.up", "--env", "local")
    import os

    from tmkit.config import load_env

    os.environ["TM_ENVS_DIR"] = str(envs)
    try:
        cfg = load_env("local")
        yield cli, cfg, build, {}
    finally:
        os.environ.pop("TM_ENVS_DIR", None)
        cli("local.down", "--env", "local", check=False)


def test_base_deployed_and_seeded(world):
    cli, _cfg, _build, _state = world
    cli("deploy", "--env", "local")
    for key, value in SECRETS.items():
        proc = subprocess.run(
            [*INV, "secrets.put", "--env", "local", key],
            cwd=ROOT,
            env=cli.env,
            input=value,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )
        assert proc.returncode == 0, proc.stderr
    cli("secrets.check", "--env", "local")


def test_refusals(world):
    cli, _cfg, _build, _state = world
    proc = cli("preview.deploy", "--env", "safe", "--name", "x", check=False)
    assert proc.returncode == 1 and "may not have previews" in proc.stderr and proc.stdout == ""
    proc = cli("preview.deploy", "--env", "local", "--name", " /// -- ", check=False)
    assert proc.returncode == 1 and "no letters or digits" in proc.stderr
    proc = cli("preview.destroy", "--env", "local", "--name", "never-deployed")
    assert "local-never-deployed of 'local' is not deployed: nothing to destroy" in proc.stderr
    proc = cli("outputs.show", "--env", "local-never-deployed", check=False)
    assert proc.returncode == 1 and "unknown environment" in proc.stderr and "preview.deploy" in proc.stderr


def test_two_previews_deploy_at_once(world):
    cli, cfg, _build, state = world
    started = time.monotonic()
    procs = {
        n: cli.popen("preview.deploy", "--env", "local", "--name", n, "--secrets-from", "local") for n in (LONG, SHORT)
    }
    results = {n: p.communicate(timeout=2 * CLI_TIMEOUT) for n, p in procs.items()}
    state["create_seconds"] = time.monotonic() - started
    for n, p in procs.items():
        assert p.returncode == 0, results[n][1][-3000:]
    names = {n: results[n][0] for n in (LONG, SHORT)}
    assert names[SHORT] == "local-pr-7\n"
    long_name = names[LONG].strip()
    assert names[LONG] == long_name + "\n" and long_name.startswith("local-feature-jira-")
    assert len(long_name) <= len("local-") + 24
    state["names"] = {"long": long_name, "short": "local-pr-7"}
    for value in SECRETS.values():  # never printed
        assert all(value not in out + err for out, err in results.values())


def test_each_preview_has_outputs_site_and_copied_secrets(world):
    cli, cfg, build, state = world
    sm = aws(cfg, "secretsmanager")
    for env in state["names"].values():
        out = json.loads(cli("outputs.show", "--env", env, "--json").stdout)
        assert out["EnvironmentName"] == env
        stack = aws(cfg, "cloudformation").describe_stacks(StackName=f"TimeManagement-{env}")["Stacks"][0]
        tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
        assert tags["preview"] == "true" and tags["preview-of"] == "local" and tags["environment"] == env
        assert tags["expires-at"].endswith("Z") and tags["git-commit"]
        assert len(out["FrontendBucketName"]) <= 63 and len(out["ApiFunctionName"]) <= 64
        cli("frontend.publish", "--env", env, "--dir", str(build))
        body = aws(cfg, "s3").get_object(Bucket=out["FrontendBucketName"], Key="index.html")["Body"].read()
        assert b"<title>preview</title>" in body
        cli("secrets.check", "--env", env)
        for key, value in SECRETS.items():
            assert sm.get_secret_value(SecretId=f"TimeManagement-{env}/{key}")["SecretString"] == value
        state.setdefault("outputs", {})[env] = out


def test_list_and_status_report_both(world):
    cli, _cfg, _build, state = world
    listed = json.loads(cli("preview.list", "--env", "local", "--json").stdout)
    assert sorted(p["name"] for p in listed) == sorted(state["names"].values())
    for p in listed:
        assert p["status"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE") and p["expired"] is False
        assert p["site_url"] == state["outputs"][p["name"]]["SiteUrl"] and p["expires_at"] and p["created"]
    rows = [json.loads(line) for line in cli("status", "--json").stdout.splitlines()]
    by_name = {r["name"]: r for r in rows}
    assert {"local", *state["names"].values()} <= set(by_name)
    assert by_name["local"]["preview_of"] is None and by_name["local"]["expires_at"] is None
    for env in state["names"].values():
        row = by_name[env]
        assert row["preview_of"] == "local" and row["expires_at"] and row["secrets_seeded"] is True
        assert row["release"] and row["site_url"] == state["outputs"][env]["SiteUrl"] and row["error"] is None


def test_a_foreign_stack_with_a_preview_name_is_never_touched(world):
    cli, cfg, _build, _state = world
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    aws(cfg, "cloudformation").create_stack(
        StackName="TimeManagement-local-imposter", TemplateBody=json.dumps(template)
    )
    proc = cli("preview.destroy", "--env", "local", "--name", "imposter", check=False)
    assert proc.returncode == 1 and "is not a preview of 'local'" in proc.stderr


def test_gc_keep_removes_exactly_one(world):
    cli, cfg, _build, state = world
    long_env, short_env = state["names"]["long"], state["names"]["short"]
    # resources deleted by hand must not stop the cleanup
    aws(cfg, "dynamodb").delete_table(TableName=state["outputs"][long_env]["TableName"])
    dry = json.loads(cli("preview.gc", "--env", "local", "--keep", f"{SHORT},pr-999", "--dry-run", "--json").stdout)
    assert dry["would_destroy"] == [long_env] and dry["destroyed"] == []
    started = time.monotonic()
    report = json.loads(cli("preview.gc", "--env", "local", "--keep", f"{SHORT},pr-999", "--json").stdout)
    state["destroy_seconds"] = time.monotonic() - started
    assert report["destroyed"] == [long_env] and report["failed"] == {} and report["kept"] == [short_env]
    cf = aws(cfg, "cloudformation")
    live = {s["StackName"] for s in cf.describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"}
    assert {"TimeManagement-local", f"TimeManagement-{short_env}", "TimeManagement-local-imposter"} <= live
    assert f"TimeManagement-{long_env}" not in live
    cli("secrets.check", "--env", "local")  # the base is untouched


def test_destroy_removes_the_other_and_nothing_is_left(world):
    cli, cfg, _build, state = world
    short_env = state["names"]["short"]
    cli("preview.destroy", "--env", "local", "--name", SHORT)
    assert json.loads(cli("preview.list", "--env", "local", "--json").stdout) == []
    for env, out in state["outputs"].items():
        prefix = f"TimeManagement-{env}"
        cf = aws(cfg, "cloudformation")
        assert not [
            s
            for s in cf.describe_stacks()["Stacks"]
            if s["StackName"] == prefix and s["StackStatus"] != "DELETE_COMPLETE"
        ]
        assert out["FrontendBucketName"] not in [b["Name"] for b in aws(cfg, "s3").list_buckets()["Buckets"]]
        assert out["TableName"] not in aws(cfg, "dynamodb").list_tables()["TableNames"]
        secrets = aws(cfg, "secretsmanager").list_secrets(IncludePlannedDeletion=True)["SecretList"]
        assert not [s for s in secrets if s["Name"].startswith(prefix + "/")]
        pools = aws(cfg, "cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
        assert out["UserPoolId"] not in [p["Id"] for p in pools]
        functions = aws(cfg, "lambda").list_functions()["Functions"]
        assert out["ApiFunctionName"] not in [f["FunctionName"] for f in functions]
        groups = aws(cfg, "logs").describe_log_groups()["logGroups"]
        assert not [g for g in groups if out["ApiFunctionName"] in g["logGroupName"]]
    proc = cli("outputs.show", "--env", short_env, check=False)
    assert proc.returncode == 1 and "unknown environment" in proc.stderr
    print(
        f"\npreview create (two at once): {state['create_seconds']:.0f} s; gc destroy of one: {state['destroy_seconds']:.0f} s"
    )
