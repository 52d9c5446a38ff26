"""Session-tag credentials of the data-access role: one AssumeRole per user per credential lifetime,
renewed before expiry, bounded cache. STS is moto in-process; time is a controlled clock."""

import time
from datetime import timedelta

import boto3
import pytest
from moto import mock_aws
from moto.core.utils import utcnow
from moto.sts import models as sts_models

from tm_api.store import UserCredentials, session_name

ROLE_ARN = "arn:aws:iam::123456789012:role/TimeManagement-test-DataAccess"
USERS = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(6)]


@pytest.fixture
def creds(monkeypatch):
    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    # One controlled clock for the cache and for the expiry STS (moto) stamps on new credentials.
    skew = [0.0]
    monkeypatch.setattr(sts_models, "utcnow", lambda: utcnow() + timedelta(seconds=skew[0]))
    with mock_aws():
        cache = UserCredentials(
            boto3.session.Session(),
            ROLE_ARN,
            max_users=3,
            refresh_margin=300,
            duration_seconds=3600,
            clock=lambda: time.time() + skew[0],
        )
        calls = []
        cache.sts.meta.events.register(
            "before-parameter-build.sts.AssumeRole", lambda params, **_: calls.append(dict(params))
        )
        yield cache, calls, skew


def test_one_assume_role_per_user_within_the_lifetime(creds):
    cache, calls, skew = creds
    first = cache.client(USERS[0])
    for _ in range(200):
        assert cache.client(USERS[0]) is first
    skew[0] += 3600 - 301  # still more than the margin before expiry
    assert cache.client(USERS[0]) is first
    assert len(calls) == 1
    assert calls[0] == {
        "RoleArn": ROLE_ARN,
        "RoleSessionName": session_name(USERS[0]),
        "DurationSeconds": 3600,
        "Tags": [{"Key": "sub", "Value": USERS[0]}],
    }


def test_renewed_within_the_margin_before_expiry(creds):
    cache, calls, skew = creds
    old = cache.entry(USERS[0])
    skew[0] += 3600 - 299  # inside the 5-minute margin: renew before the credentials expire
    new = cache.entry(USERS[0])
    assert len(calls) == 2 and new is not old and new.access_key_id != old.access_key_id
    assert new.expires_at > old.expires_at
    assert cache.entry(USERS[0]) is new and len(calls) == 2


def test_each_user_gets_their_own_tagged_session(creds):
    cache, calls, _ = creds
    a, b = cache.entry(USERS[0]), cache.entry(USERS[1])
    assert a.client is not b.client and a.access_key_id != b.access_key_id
    assert [c["Tags"] for c in calls] == [[{"Key": "sub", "Value": USERS[0]}], [{"Key": "sub", "Value": USERS[1]}]]


def test_the_cache_is_bounded_and_least_recently_used_goes_first(creds):
    cache, calls, _ = creds
    for user in USERS[:3]:
        cache.client(user)
    cache.client(USERS[0])  # USERS[0] is now the most recently used
    cache.client(USERS[3])  # evicts USERS[1]
    assert len(cache) == 3 and len(calls) == 4
    cache.client(USERS[0])
    cache.client(USERS[2])
    assert len(calls) == 4  # still cached
    cache.client(USERS[1])  # was evicted: assumed again
    assert len(calls) == 5 and len(cache) == 3


@pytest.mark.parametrize("sub", ["", "a#b", "x" * 200])
def test_malformed_sub_never_reaches_sts(creds, sub):
    cache, calls, _ = creds
    with pytest.raises(ValueError):
        cache.client(sub)
    assert calls == []
