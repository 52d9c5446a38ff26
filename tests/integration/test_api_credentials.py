"""Session-tag credentials of the data-access role: one AssumeRole per user per credential lifetime,
renewed before expiry, bounded cache; one DynamoDB client whose every call is signed with the calling
user's credentials. STS and DynamoDB are moto in-process; time is a controlled clock."""

import threading
import time
from datetime import timedelta

import boto3
import pytest
from moto import mock_aws
from moto.core.utils import utcnow
from moto.sts import models as sts_models

from tm_api.credentials import NoUserCredentials, UserCredentials, session_name

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
        session = boto3.session.Session()
        clients = []
        session.events.register("creating-client-class.dynamodb", lambda **_: clients.append(1))
        cache = UserCredentials(
            session,
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
        cache.dynamodb_clients_built = clients
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


def test_the_cache_never_holds_more_than_max_users(creds):
    cache, calls, _ = creds
    subs = [f"{n:08x}-0000-4000-8000-00000000ffff" for n in range(40)]
    for sub in subs:
        cache.client(sub)
        assert len(cache) <= cache.max_users == 3
    assert len(calls) == 40


def _table(cache) -> str:
    name = "TimeManagement-test-data"
    boto3.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
    )
    return name


def _signed_by(request) -> str:
    """The access key id in a SigV4 Authorization header."""
    return request.headers["Authorization"].decode().split("Credential=", 1)[1].split("/", 1)[0]


def test_one_dynamodb_client_for_all_users_each_call_signed_as_its_user(creds):
    cache, _, _ = creds
    table = _table(cache)
    sent = []
    cache.dynamodb.meta.events.register("before-send.dynamodb", lambda request, **_: sent.append(_signed_by(request)))
    for sub in USERS[:3] * 2:
        item = {"PK": {"S": f"USER#{sub}"}, "SK": {"S": "TASK#1"}}
        cache.client(sub).put_item(TableName=table, Item=item)
        assert cache.client(sub).get_item(TableName=table, Key=item)["Item"] == item
        assert sent[-2:] == [cache.entry(sub).access_key_id] * 2
    assert len(set(sent)) == 3
    assert len(cache.dynamodb_clients_built) == 1  # not one client per user: memory stays flat


def test_a_call_without_user_credentials_is_refused_before_it_is_sent(creds):
    cache, _, _ = creds
    sent = []
    cache.dynamodb.meta.events.register("before-send.dynamodb", lambda **_: sent.append(1))
    with pytest.raises(NoUserCredentials):
        cache.dynamodb.list_tables()
    cache.client(USERS[0]).list_tables()  # the user's call works, and leaves nothing behind
    with pytest.raises(NoUserCredentials):
        cache.dynamodb.list_tables()
    assert sent == [1]


def test_concurrent_users_on_threads_sign_with_their_own_credentials(creds):
    cache, _, _ = creds
    table = _table(cache)
    seen: dict[str, set] = {sub: set() for sub in USERS[:3]}  # max_users: no eviction
    cache.dynamodb.meta.events.register(
        "before-send.dynamodb",
        lambda request, **_: seen[threading.current_thread().name].add(_signed_by(request)),
    )
    start = threading.Barrier(3)

    def work(sub):
        start.wait(timeout=10)
        for n in range(15):
            key = {"PK": {"S": f"USER#{sub}"}, "SK": {"S": f"TASK#{n}"}}
            cache.client(sub).put_item(TableName=table, Item=key)

    threads = [threading.Thread(target=work, args=(sub,), name=sub) for sub in USERS[:3]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert {sub: keys for sub, keys in seen.items()} == {sub: {cache.entry(sub).access_key_id} for sub in seen}


def test_a_botocore_without_per_request_credentials_is_refused_plainly(creds, monkeypatch):
    from botocore.signers import RequestSigner

    cache, _, _ = creds
    original = RequestSigner.get_auth_instance

    def old_signature(self, signing_name, region_name, signature_version=None, **kwargs):
        return original(self, signing_name, region_name, signature_version, **kwargs)

    monkeypatch.setattr(RequestSigner, "get_auth_instance", old_signature)
    with pytest.raises(RuntimeError, match="cannot sign a request with per-request credentials"):
        cache.client(USERS[0])
