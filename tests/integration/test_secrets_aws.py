"""tmkit.secrets against Secrets Manager in moto (in-process): put, list, check, isolation, leaks."""

import json
import logging

import boto3
import pytest
from moto import mock_aws

from tests.helpers import PLACEHOLDER, env_toml, free_port
from tmkit import secrets
from tmkit.config import load_env
from tmkit.errors import ToolkitError

CANARY = "CANARY-d41d8cd9-never-print-me"


@pytest.fixture
def envs(tmp_path, monkeypatch):
    """Two environments declaring the same keys, plus one declaring none."""
    for name in ("dev", "qa"):
        (tmp_path / f"{name}.toml").write_text(env_toml())
    (tmp_path / "bare.toml").write_text(env_toml(secrets=()))
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield {name: load_env(name) for name in ("dev", "qa", "bare")}


def sm():
    return boto3.client("secretsmanager", region_name="us-east-1")


def deploy_secrets(cfg):
    """What the stack does: one secret per declared key, holding the generated placeholder."""
    for key in cfg.secrets:
        sm().create_secret(
            Name=cfg.secret_name(key), SecretString=PLACEHOLDER, Tags=[{"Key": "environment", "Value": cfg.name}]
        )


def current(cfg, key):
    return sm().get_secret_value(SecretId=cfg.secret_name(key))


def test_put_refuses_when_the_stack_is_not_deployed_and_creates_nothing(envs):
    dev = envs["dev"]
    with pytest.raises(ToolkitError) as exc:
        secrets.put(dev, "STRIPE_KEY", CANARY)
    msg = str(exc.value)
    assert "TimeManagement-dev/STRIPE_KEY does not exist" in msg and "inv deploy --env dev" in msg
    assert CANARY not in msg
    assert sm().list_secrets()["SecretList"] == []


def test_put_writes_a_new_current_version(envs):
    dev = envs["dev"]
    deploy_secrets(dev)
    first = secrets.put(dev, "STRIPE_KEY", "v1")
    assert first.name == "TimeManagement-dev/STRIPE_KEY"
    assert first.describe() == f"STRIPE_KEY: new version {first.version_id} of TimeManagement-dev/STRIPE_KEY"
    got = current(dev, "STRIPE_KEY")
    assert got["SecretString"] == "v1" and got["VersionId"] == first.version_id

    second = secrets.put(dev, "STRIPE_KEY", "v2")
    assert second.version_id != first.version_id
    assert current(dev, "STRIPE_KEY")["SecretString"] == "v2"
    previous = sm().get_secret_value(SecretId=dev.secret_name("STRIPE_KEY"), VersionStage="AWSPREVIOUS")
    assert previous["VersionId"] == first.version_id and previous["SecretString"] == "v1"


def test_put_refuses_an_undeclared_key_before_any_call(envs):
    deploy_secrets(envs["dev"])
    with pytest.raises(ToolkitError, match="not declared.*STRIPE_KEY, SMTP_PASSWORD"):
        secrets.put(envs["dev"], "OTHER", "x")
    names = {s["Name"] for s in sm().list_secrets()["SecretList"]}
    assert names == {"TimeManagement-dev/STRIPE_KEY", "TimeManagement-dev/SMTP_PASSWORD"}


def test_statuses_missing_unseeded_seeded_deleted(envs):
    dev = envs["dev"]
    assert [s.state for s in secrets.statuses(dev)] == ["missing", "missing"]
    deploy_secrets(dev)
    before = secrets.statuses(dev)
    assert [(s.key, s.name, s.state) for s in before] == [
        ("STRIPE_KEY", "TimeManagement-dev/STRIPE_KEY", "unseeded"),
        ("SMTP_PASSWORD", "TimeManagement-dev/SMTP_PASSWORD", "unseeded"),
    ]
    assert all(s.last_changed is not None for s in before)

    secrets.put(dev, "STRIPE_KEY", "v1")
    after = secrets.statuses(dev)
    assert [s.state for s in after] == ["seeded", "unseeded"]
    assert after[0].last_changed >= before[0].last_changed

    sm().delete_secret(SecretId=dev.secret_name("SMTP_PASSWORD"), RecoveryWindowInDays=7)
    assert secrets.statuses(dev)[1].state == secrets.DELETED
    with pytest.raises(ToolkitError, match="scheduled for deletion.*restore-secret"):
        secrets.put(dev, "SMTP_PASSWORD", "x")


def test_a_secret_without_a_current_value_is_unseeded(envs):
    dev = envs["dev"]
    sm().create_secret(Name=dev.secret_name("STRIPE_KEY"))  # no value at all
    assert secrets.statuses(dev)[0].state == "unseeded"


def test_a_value_rewritten_to_the_placeholder_is_unseeded_again(envs):
    dev = envs["dev"]
    deploy_secrets(dev)
    secrets.put(dev, "STRIPE_KEY", "v1")
    sm().put_secret_value(SecretId=dev.secret_name("STRIPE_KEY"), SecretString=PLACEHOLDER)
    assert secrets.statuses(dev)[0].state == "unseeded"


def test_check_fails_until_every_declared_key_is_seeded(envs):
    dev = envs["dev"]
    with pytest.raises(ToolkitError, match=r"STRIPE_KEY \(missing\).*inv deploy --env dev"):
        secrets.check(dev)
    deploy_secrets(dev)
    secrets.put(dev, "STRIPE_KEY", "v1")
    with pytest.raises(ToolkitError) as exc:
        secrets.check(dev)
    assert "1 of 2" in str(exc.value) and "SMTP_PASSWORD (unseeded)" in str(exc.value)
    assert "STRIPE_KEY (" not in str(exc.value)
    secrets.put(dev, "SMTP_PASSWORD", "v2")
    assert [s.seeded for s in secrets.check(dev)] == [True, True]
    assert secrets.check(envs["bare"]) == []  # nothing declared: nothing to seed


def test_environments_never_share_secrets(envs):
    dev, qa = envs["dev"], envs["qa"]
    deploy_secrets(dev)
    # qa is not deployed: writing to it must not touch (or fall back to) dev's secret
    with pytest.raises(ToolkitError, match="TimeManagement-qa/STRIPE_KEY does not exist"):
        secrets.put(qa, "STRIPE_KEY", "qa-value")
    assert current(dev, "STRIPE_KEY")["SecretString"] == PLACEHOLDER

    deploy_secrets(qa)
    secrets.put(dev, "STRIPE_KEY", "dev-value")
    assert [s.state for s in secrets.statuses(qa)] == ["unseeded", "unseeded"]
    with pytest.raises(ToolkitError, match="environment 'qa'"):
        secrets.check(qa)
    secrets.put(qa, "STRIPE_KEY", "qa-value")
    assert current(dev, "STRIPE_KEY")["SecretString"] == "dev-value"
    assert current(qa, "STRIPE_KEY")["SecretString"] == "qa-value"
    assert {s.name for s in secrets.statuses(qa)} == {"TimeManagement-qa/STRIPE_KEY", "TimeManagement-qa/SMTP_PASSWORD"}


def test_canary_never_reaches_output_logs_or_exceptions(envs, capsys, caplog):
    """Even with every logger (botocore's wire log included) at DEBUG, the value stays inside."""
    caplog.set_level(logging.DEBUG)
    dev = envs["dev"]
    texts = []
    for step in (
        lambda: secrets.put(dev, "STRIPE_KEY", CANARY),  # not deployed: error
        lambda: deploy_secrets(dev),
        lambda: secrets.put(dev, "STRIPE_KEY", CANARY),
        lambda: secrets.put(dev, "SMTP_PASSWORD", CANARY + "-2"),
        lambda: secrets.statuses(dev),
        lambda: secrets.check(dev),
    ):
        try:
            result = step()
            texts.append(repr(result))
            if isinstance(result, secrets.PutResult):
                texts.append(result.describe())
        except ToolkitError as exc:
            texts.append(str(exc))
    out, err = capsys.readouterr()
    everything = "\n".join(texts + [out, err, caplog.text] + [r.getMessage() for r in caplog.records])
    assert current(dev, "STRIPE_KEY")["SecretString"] == CANARY  # it did get stored (checked after capture)
    assert "does not exist" in everything and "new version" in everything
    assert any(r.name.startswith("botocore") for r in caplog.records)  # debug logging was really captured
    assert CANARY not in everything
    # the wire-log guard restores the levels it lowered
    assert logging.getLogger("botocore").getEffectiveLevel() == logging.DEBUG


def test_json_listing_holds_no_values(envs):
    dev = envs["dev"]
    deploy_secrets(dev)
    secrets.put(dev, "STRIPE_KEY", CANARY)
    doc = json.loads(secrets.to_json(secrets.statuses(dev)))
    assert [(d["key"], d["seeded"]) for d in doc] == [("STRIPE_KEY", True), ("SMTP_PASSWORD", False)]
    assert all(set(d) == {"key", "name", "state", "seeded", "last_changed"} for d in doc)
    assert CANARY not in json.dumps(doc)


def test_emulator_down_says_start_it(tmp_path, monkeypatch):
    (tmp_path / "emu.toml").write_text(env_toml(free_port(), secrets=("STRIPE_KEY",)))  # nobody listens there
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    cfg = load_env("emu")
    for call in (lambda: secrets.put(cfg, "STRIPE_KEY", CANARY), lambda: secrets.statuses(cfg)):
        with pytest.raises(ToolkitError) as exc:
            call()
        assert "inv local.up" in str(exc.value) and CANARY not in str(exc.value)
