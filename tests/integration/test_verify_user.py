"""`inv verify --user`'s throwaway user against Cognito in moto (mock_aws): made confirmed with a permanent
password, always deleted, and the ones an interrupted run left behind are removed (only those)."""

import time

import boto3
import pytest
from moto import mock_aws

from tests.helpers import env_toml
from tmkit.config import load_env
from tmkit.verify import USER_PREFIX, throwaway_user


@pytest.fixture
def pool(tmp_path, monkeypatch):
    (tmp_path / "dev.toml").write_text(env_toml())
    monkeypatch.setenv("TM_ENVS_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = idp.create_user_pool(PoolName="p", UsernameAttributes=["email"])["UserPool"]["Id"]
        yield load_env("dev"), idp, pool_id


def names(idp, pool_id) -> set[str]:
    users = idp.list_users(UserPoolId=pool_id)["Users"]
    return {next(a["Value"] for a in u["Attributes"] if a["Name"] == "email") for u in users}


def test_the_user_is_confirmed_for_the_round_trip_and_deleted_after(pool):
    cfg, idp, pool_id = pool
    lines = []
    with throwaway_user(cfg, pool_id, say=lines.append) as (email, password):
        assert email.startswith(USER_PREFIX) and names(idp, pool_id) == {email}
        user = idp.admin_get_user(UserPoolId=pool_id, Username=email)
        assert user["UserStatus"] == "CONFIRMED"
        assert password not in " ".join(lines)
    assert names(idp, pool_id) == set()


def test_the_user_is_deleted_when_the_checks_fail(pool):
    cfg, idp, pool_id = pool
    with pytest.raises(RuntimeError), throwaway_user(cfg, pool_id, say=print):
        raise RuntimeError("a check crashed")
    assert names(idp, pool_id) == set()


def test_users_an_interrupted_run_left_are_removed_but_not_a_running_ones_or_real_users(pool):
    cfg, idp, pool_id = pool
    for email in (f"{USER_PREFIX}left0behind@example.com", "alice@example.com"):
        idp.admin_create_user(UserPoolId=pool_id, Username=email, UserAttributes=[{"Name": "email", "Value": email}])
    lines = []
    with throwaway_user(cfg, pool_id, say=lines.append):  # now: the leftover is young (a run in progress)
        assert f"{USER_PREFIX}left0behind@example.com" in names(idp, pool_id)
    later = lambda: time.time() + 2 * 3600  # noqa: E731
    with throwaway_user(cfg, pool_id, say=lines.append, clock=later) as (email, _):
        assert names(idp, pool_id) == {"alice@example.com", email}
    assert names(idp, pool_id) == {"alice@example.com"}
    assert any("removed 1 throwaway user(s)" in line for line in lines)
