"""`inv secrets.*` run through invoke's Program in-process, against Secrets Manager in moto (mock_aws)."""

import json
import logging
import sys

import boto3
import pytest
from moto import mock_aws

from tests.helpers import ENV_TOML, PLACEHOLDER, Pipe, Terminal, run_program  # noqa: F401
from tmkit.tasks import secrets as secrets_tasks

CANARY = "CANARY-3b1f-tasks-never-print-me"
ENV = ENV_TOML


@pytest.fixture
def aws(tmp_path, monkeypatch):
    for name in ("dev", "qa"):
        (tmp_path / f"{name}.toml").write_text(ENV)
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def deploy(sm, env="dev"):
    for key in ("STRIPE_KEY", "SMTP_PASSWORD"):
        sm.create_secret(Name=f"TimeManagement-{env}/{key}", SecretString=PLACEHOLDER)


def inv(capsys, *argv, stdin=None, monkeypatch=None):
    """Run `inv <argv>`; returns (exit code, stdout, stderr)."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", stdin)
    return run_program(capsys, secrets_tasks.ns, *argv)


def value(sm, key, env="dev"):
    return sm.get_secret_value(SecretId=f"TimeManagement-{env}/{key}")["SecretString"]


def test_put_from_piped_stdin(aws, capsys, monkeypatch):
    deploy(aws)
    code, out, err = inv(
        capsys, "secrets.put", "--env", "dev", "STRIPE_KEY", stdin=Pipe("sk_test_1\n"), monkeypatch=monkeypatch
    )
    assert code == 0, err
    assert out == ""  # nothing requested on stdout
    version = aws.describe_secret(SecretId="TimeManagement-dev/STRIPE_KEY")
    current = [v for v, stages in version["VersionIdsToStages"].items() if "AWSCURRENT" in stages][0]
    assert f"STRIPE_KEY: new version {current} of TimeManagement-dev/STRIPE_KEY" in err
    assert value(aws, "STRIPE_KEY") == "sk_test_1"


def test_put_prompts_hidden_on_a_terminal(aws, capsys, monkeypatch):
    deploy(aws)
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda p: prompts.append(p) or "typed-value")
    code, out, err = inv(capsys, "secrets.put", "-e", "dev", "SMTP_PASSWORD", stdin=Terminal(), monkeypatch=monkeypatch)
    assert code == 0, err
    assert len(prompts) == 2 and value(aws, "SMTP_PASSWORD") == "typed-value"


def test_put_from_file(aws, capsys, monkeypatch, tmp_path):
    deploy(aws)
    f = tmp_path / "v.txt"
    f.write_text("multi\nline\n")
    code, _, err = inv(
        capsys,
        "secrets.put",
        "--env",
        "dev",
        "--from-file",
        str(f),
        "STRIPE_KEY",
        stdin=Pipe("ignored"),
        monkeypatch=monkeypatch,
    )
    assert code == 0, err
    assert value(aws, "STRIPE_KEY") == "multi\nline"


def test_put_refuses_empty_and_changes_nothing(aws, capsys, monkeypatch):
    deploy(aws)
    code, out, err = inv(capsys, "secrets.put", "--env", "dev", "STRIPE_KEY", stdin=Pipe("\n"), monkeypatch=monkeypatch)
    assert code == 1 and out == ""
    assert err.startswith("error: the value for STRIPE_KEY from standard input is empty")
    assert value(aws, "STRIPE_KEY") == PLACEHOLDER


def test_put_refuses_an_undeclared_key_before_asking_for_the_value(aws, capsys, monkeypatch):
    deploy(aws)
    monkeypatch.setattr("getpass.getpass", lambda p: pytest.fail("asked for a value of an undeclared key"))
    code, _, err = inv(capsys, "secrets.put", "--env", "dev", "GITHUB_TOKEN", stdin=Terminal(), monkeypatch=monkeypatch)
    assert code == 1
    assert "'GITHUB_TOKEN' is not declared" in err and "STRIPE_KEY, SMTP_PASSWORD" in err
    assert "envs/dev.toml" in err and "secrets = [...]" in err


def test_put_before_deploy_says_deploy_first(aws, capsys, monkeypatch):
    code, _, err = inv(capsys, "secrets.put", "--env", "dev", "STRIPE_KEY", stdin=Pipe("v"), monkeypatch=monkeypatch)
    assert code == 1 and "not deployed" in err and "inv deploy --env dev" in err
    assert aws.list_secrets()["SecretList"] == []


def test_put_has_no_value_argument(aws, capsys, monkeypatch):
    deploy(aws)
    code, _, err = inv(
        capsys, "secrets.put", "--env", "dev", "STRIPE_KEY", "--value", "x", stdin=Pipe("v"), monkeypatch=monkeypatch
    )
    assert code == 1 and "--value" in err
    assert value(aws, "STRIPE_KEY") == PLACEHOLDER


def test_list_table_on_stderr_json_on_stdout(aws, capsys, monkeypatch):
    deploy(aws)
    inv(capsys, "secrets.put", "--env", "dev", "STRIPE_KEY", stdin=Pipe(CANARY), monkeypatch=monkeypatch)
    code, out, err = inv(capsys, "secrets.list", "--env", "dev")
    assert code == 0 and out == ""
    lines = err.splitlines()
    assert lines[0].split() == ["key", "secret", "name", "state", "last", "changed"]
    assert lines[2].split()[:3] == ["STRIPE_KEY", "TimeManagement-dev/STRIPE_KEY", "seeded"]
    assert lines[3].split()[:3] == ["SMTP_PASSWORD", "TimeManagement-dev/SMTP_PASSWORD", "unseeded"]

    code, out, err = inv(capsys, "secrets.list", "--env", "dev", "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert [(d["key"], d["state"], d["seeded"]) for d in doc] == [
        ("STRIPE_KEY", "seeded", True),
        ("SMTP_PASSWORD", "unseeded", False),
    ]
    assert all(d["last_changed"] for d in doc)


def test_check_exit_codes(aws, capsys, monkeypatch):
    code, _, err = inv(capsys, "secrets.check", "--env", "dev")
    assert code == 1 and "STRIPE_KEY (missing)" in err and "inv deploy --env dev" in err
    deploy(aws)
    code, _, err = inv(capsys, "secrets.check", "--env", "dev")
    assert code == 1 and "STRIPE_KEY (unseeded); SMTP_PASSWORD (unseeded)" in err
    for key in ("STRIPE_KEY", "SMTP_PASSWORD"):
        assert inv(capsys, "secrets.put", "--env", "dev", key, stdin=Pipe("v"), monkeypatch=monkeypatch)[0] == 0
    code, out, err = inv(capsys, "secrets.check", "--env", "dev")
    assert code == 0 and out == "" and "all 2 secrets of environment 'dev' are seeded" in err


def test_environment_variable_selects_the_env_and_envs_stay_apart(aws, capsys, monkeypatch):
    deploy(aws, "dev")
    deploy(aws, "qa")
    monkeypatch.setenv("ENVIRONMENT", "qa")
    assert inv(capsys, "secrets.put", "STRIPE_KEY", stdin=Pipe("qa-v"), monkeypatch=monkeypatch)[0] == 0
    assert value(aws, "STRIPE_KEY", "qa") == "qa-v" and value(aws, "STRIPE_KEY", "dev") == PLACEHOLDER
    code, out, _ = inv(capsys, "secrets.list", "--env", "dev", "--json")
    assert [d["seeded"] for d in json.loads(out)] == [False, False]


def test_canary_never_printed_or_logged(aws, capsys, monkeypatch, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    deploy(aws)
    f = tmp_path / "v"
    f.write_text(CANARY + "-file\n")
    monkeypatch.setattr("getpass.getpass", lambda p: CANARY + "-prompt")
    runs = [
        inv(capsys, "secrets.put", "--env", "dev", "STRIPE_KEY", stdin=Pipe(CANARY), monkeypatch=monkeypatch),
        inv(capsys, "secrets.put", "--env", "dev", "SMTP_PASSWORD", stdin=Terminal(), monkeypatch=monkeypatch),
        inv(capsys, "secrets.put", "--env", "dev", "--from-file", str(f), "STRIPE_KEY"),
        inv(capsys, "secrets.put", "--env", "dev", "NOT_DECLARED", stdin=Pipe(CANARY), monkeypatch=monkeypatch),
        inv(capsys, "secrets.put", "--env", "qa", "STRIPE_KEY", stdin=Pipe(CANARY), monkeypatch=monkeypatch),
        inv(capsys, "secrets.list", "--env", "dev"),
        inv(capsys, "secrets.list", "--env", "dev", "--json"),
        inv(capsys, "secrets.check", "--env", "dev"),
    ]
    assert [r[0] for r in runs] == [0, 0, 0, 1, 1, 0, 0, 0]
    everything = "\n".join(o + e for _, o, e in runs) + caplog.text
    assert CANARY not in everything
    assert value(aws, "STRIPE_KEY") == CANARY + "-file" and value(aws, "SMTP_PASSWORD") == CANARY + "-prompt"


def test_put_from_dev_zero_stops_at_the_limit_and_changes_nothing(aws, capsys, monkeypatch):
    deploy(aws)
    with open("/dev/zero") as zero:  # endless: an unbounded read would never return
        code, out, err = inv(capsys, "secrets.put", "--env", "dev", "STRIPE_KEY", stdin=zero, monkeypatch=monkeypatch)
    assert code == 1 and out == ""
    assert "larger than Secrets Manager's limit of 65536 bytes" in err and "Traceback" not in err
    assert value(aws, "STRIPE_KEY") == PLACEHOLDER


def test_put_from_binary_stdin_is_a_clean_error(aws, capsys, monkeypatch, tmp_path):
    deploy(aws)
    raw = tmp_path / "raw"
    raw.write_bytes(b"\xff\xfe" + CANARY.encode())
    with open(raw) as stdin:  # text mode, as sys.stdin is: decoding it would raise
        code, out, err = inv(capsys, "secrets.put", "--env", "dev", "STRIPE_KEY", stdin=stdin, monkeypatch=monkeypatch)
    assert code == 1 and out == ""
    assert "not UTF-8 text" in err and "Traceback" not in err and CANARY not in err
    assert value(aws, "STRIPE_KEY") == PLACEHOLDER
