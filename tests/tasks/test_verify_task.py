"""`inv verify` as a task (invoke.MockContext): the lines on stderr, JSON on stdout, exit 1 naming what failed.

The deployment is tests/unit/test_verify.FakeDeployment behind tmkit.verify's HTTP seam; the outputs are the
ones a real stack has (no AWS call)."""

import json

import pytest
from invoke import Exit, MockContext
from moto import mock_aws

from tests.helpers import PROTECTED, Pipe, env_toml
from tests.unit.test_verify import REAL, FakeDeployment
from tmkit.tasks.verify import verify

OUTPUTS = {"SiteUrl": REAL.site, "ApiUrl": REAL.api, "Region": "us-east-1", "UserPoolId": "p", "UserPoolClientId": "c"}


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    (tmp_path / "dev.toml").write_text(env_toml())
    prod = env_toml()
    for old, new in PROTECTED.items():
        prod = prod.replace(old, new)
    (tmp_path / "prod.toml").write_text(prod)
    (tmp_path / "other.toml").write_text(
        env_toml().replace('region = "us-east-1"', 'account = "210987654321"\nregion = "us-east-1"')
    )
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    monkeypatch.setattr("tmkit.outputs.stack_outputs", lambda cfg: dict(OUTPUTS))
    dep = FakeDeployment(REAL)
    monkeypatch.setattr("tmkit.verify.fetch", dep)
    with mock_aws():  # STS GetCallerIdentity (the account check) answers 123456789012
        yield dep


def test_all_checks_pass_lines_on_stderr_json_on_stdout(deployment, capsys):
    verify(MockContext(), env="dev", json=True)
    out, err = capsys.readouterr()
    found = json.loads(out)
    assert found["environment"] == "dev" and found["ok"] is True
    assert {c["status"] for c in found["checks"]} == {"pass"} and len(found["checks"]) == 15
    lines = [line for line in err.splitlines() if line.startswith(("PASS", "FAIL", "SKIP"))]
    assert len(lines) == 15 and "all 15 checks passed for TimeManagement-dev" in err
    assert ("GET", REAL.site + "/") in deployment.calls


def test_without_json_stdout_stays_empty(deployment, capsys):
    verify(MockContext(), env="dev")
    out, err = capsys.readouterr()
    assert out == "" and "PASS  api-auth" in err


def test_a_failing_check_exits_1_naming_it(deployment, capsys):
    del deployment.assets["/assets/index-C7hYw0Tt.css"]
    with pytest.raises(Exit) as exc:
        verify(MockContext(), env="dev", json=True)
    assert exc.value.code == 1
    assert "1 of 15 checks failed for TimeManagement-dev: asset /assets/index-C7hYw0Tt.css" in str(exc.value.message)
    out, err = capsys.readouterr()
    assert json.loads(out)["ok"] is False  # the results are still printed
    assert "FAIL  asset /assets/index-C7hYw0Tt.css: 404" in err


def test_url_checks_another_site_and_its_origin(deployment, capsys):
    with pytest.raises(Exit, match="cors-site"):  # the API allows the stack's own site origin only
        verify(MockContext(), env="dev", url="https://app.example.com")
    assert ("GET", "https://app.example.com/") in deployment.calls
    deployment.api_origin = "https://app.example.com"
    verify(MockContext(), env="dev", url="https://app.example.com")


def test_another_account_than_the_env_declares_is_refused_before_any_request(deployment):
    with pytest.raises(Exit, match="wrong AWS account: your credentials are for account 123456789012"):
        verify(MockContext(), env="other")
    assert deployment.calls == []


def test_user_on_a_protected_env_asks_first_and_refuses_without_a_terminal(deployment, monkeypatch):
    monkeypatch.setattr("sys.stdin", Pipe(""))
    with pytest.raises(Exit, match=r"confirmation needed \(--user creates a throwaway user .*Pass --yes"):
        verify(MockContext(), env="prod", user=True)
    assert deployment.calls == []  # nothing checked, no user made


def test_without_user_a_protected_env_is_checked_without_asking(deployment, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Pipe(""))
    verify(MockContext(), env="prod")
    assert "all 15 checks passed for TimeManagement-prod" in capsys.readouterr().err
