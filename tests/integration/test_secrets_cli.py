"""The real command line: `printf v | .venv/bin/inv secrets.put ...` against a moto server on loopback.

The subprocess cannot see in-process moto, so a ThreadedMotoServer listens on 127.0.0.1 and a
temporary env file (the shape of envs/local.toml) points the toolkit at it.
"""

import json
import os
import subprocess

import boto3
import pytest

from tests.helpers import INV, PLACEHOLDER, env_toml, free_port, moto_server
from tmkit.paths import ROOT

CANARY = "CANARY-9c0e-cli-never-print-me"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    envs = tmp_path_factory.mktemp("envs")
    (envs / "down.toml").write_text(env_toml(free_port()))  # nobody listens there
    with moto_server() as port:
        for name in ("emua", "emub"):
            (envs / f"{name}.toml").write_text(env_toml(port))
        sm = boto3.client(
            "secretsmanager",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        yield envs, sm


def inv(envs, *argv, stdin=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "ENVIRONMENT"}
    env["TM_ENVS_DIR"] = str(envs)
    proc = subprocess.run([*INV, *argv], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def test_cli_flow_with_a_canary(emulator):
    envs, sm = emulator
    outputs = []

    def run(*argv, stdin=None, expect=0):
        code, out, err = inv(envs, *argv, stdin=stdin)
        outputs.append(out + err)
        assert code == expect, err
        return out, err

    _, err = run("secrets.put", "--env", "emua", "STRIPE_KEY", stdin=CANARY, expect=1)
    assert "not deployed" in err and "inv deploy --env emua" in err

    for env in ("emua", "emub"):  # what the stack creates
        for key in ("STRIPE_KEY", "SMTP_PASSWORD"):
            sm.create_secret(Name=f"TimeManagement-{env}/{key}", SecretString=PLACEHOLDER)

    _, err = run("secrets.check", "--env", "emua", expect=1)
    assert "STRIPE_KEY (unseeded); SMTP_PASSWORD (unseeded)" in err

    out, err = run("secrets.put", "--env", "emua", "STRIPE_KEY", stdin=CANARY + "\n")
    assert out == "" and "STRIPE_KEY: new version" in err and "of TimeManagement-emua/STRIPE_KEY" in err
    run("secrets.put", "--env", "emua", "SMTP_PASSWORD", stdin=CANARY + "-smtp")
    run("secrets.put", "--env", "emua", "SMTP_PASSWORD", stdin="", expect=1)
    run("secrets.put", "--env", "emua", "UNKNOWN", stdin=CANARY, expect=1)

    out, _ = run("secrets.list", "--env", "emua", "--json")
    assert [(d["key"], d["seeded"]) for d in json.loads(out)] == [("STRIPE_KEY", True), ("SMTP_PASSWORD", True)]
    _, err = run("secrets.check", "--env", "emua")
    assert "all 2 secrets" in err
    _, err = run("secrets.check", "--env", "emub", expect=1)  # the other environment is untouched
    assert "2 of 2" in err

    assert sm.get_secret_value(SecretId="TimeManagement-emua/STRIPE_KEY")["SecretString"] == CANARY
    assert sm.get_secret_value(SecretId="TimeManagement-emub/STRIPE_KEY")["SecretString"] == PLACEHOLDER
    assert not any(CANARY in text for text in outputs)


def test_cli_emulator_down_names_the_fix(emulator):
    envs, _ = emulator
    code, out, err = inv(envs, "secrets.put", "--env", "down", "STRIPE_KEY", stdin=CANARY)
    assert code == 1 and out == ""
    assert "not answering" in err and "inv local.up" in err and "Traceback" not in err
    assert CANARY not in err
