"""API Lambda pieces that need no AWS: ids, body validation, settings, key building, secret states."""

import json

import pytest

from tm_api import models, store
from tm_api.events import rest_event
from tm_api.models import ENTITIES, DriverIn, InvalidInput, MilestoneIn, TaskIn, attributes, is_id, new_id, parse_body
from tm_api.secrets import is_unseeded
from tm_api.settings import SettingsError, load_settings

GOOD_ENV = {
    "TABLE_NAME": "TimeManagement-dev-data",
    "DATA_ACCESS_ROLE_ARN": "arn:aws:iam::123456789012:role/TimeManagement-dev-DataAccess",
    "SECRETS_PREFIX": "TimeManagement-dev/",
    "SECRET_KEYS": "STRIPE_KEY,SMTP_PASSWORD",
    "SECRET_MAX_AGE_SECONDS": "120",
    "ENVIRONMENT": "dev",
}


# ---- ids
def test_ids_are_ulid_shaped_unique_and_time_ordered(monkeypatch):
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000 and all(is_id(i) for i in ids)
    clock = iter(1_700_000_000.0 + n for n in range(50))
    monkeypatch.setattr(models.time, "time", lambda: next(clock))
    ordered = [new_id() for _ in range(50)]
    assert ordered == sorted(ordered)  # a Query on SK lists items in creation order


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        "01M88ZNM5BRA1V10M4EF4X84Y",
        "01m88znm5bra1v10m4ef4x84y3",
        "01M88ZNM5BRA1V10M4EF4X84YU",
        "TASK#01M88ZNM5BRA1V10M4EF4X84Y3",
        "../x",
    ],
)
def test_is_id_rejects_anything_else(bad):
    assert not is_id(bad)


# ---- bodies
def test_task_body_defaults_and_camel_case_attributes():
    body = parse_body(TaskIn, json.dumps({"title": "  Write report  ", "dueDate": "2025-03-01"}))
    assert attributes(body) == {
        "title": "Write report",
        "notes": "",
        "status": "todo",
        "dueDate": "2025-03-01",
        "milestoneId": None,
    }


@pytest.mark.parametrize(
    "model,payload,fields",
    [
        (TaskIn, {}, {"title"}),
        (TaskIn, {"title": ""}, {"title"}),
        (TaskIn, {"title": "x" * 201}, {"title"}),
        (TaskIn, {"title": "ok", "status": "later"}, {"status"}),
        (TaskIn, {"title": "ok", "dueDate": "tomorrow"}, {"dueDate"}),
        (TaskIn, {"title": "ok", "milestoneId": "USER#someone-else"}, {"milestoneId"}),
        (TaskIn, {"title": 42}, {"title"}),
        (TaskIn, {"title": "ok", "due_date": "2025-01-01"}, {"due_date"}),  # snake_case is an unknown field
        (MilestoneIn, {"title": "ok", "targetDate": "2025-13-01"}, {"targetDate"}),
        (DriverIn, {"name": "Health", "importance": 9}, {"importance"}),
        (DriverIn, {"title": "no name"}, {"name", "title"}),
    ],
)
def test_invalid_bodies_name_the_fields(model, payload, fields):
    with pytest.raises(InvalidInput) as err:
        parse_body(model, json.dumps(payload))
    assert {e["field"] for e in err.value.errors} == fields
    for field in fields:
        assert field in err.value.message


@pytest.mark.parametrize("field", ["PK", "SK", "id", "sub", "createdAt"])
def test_bodies_cannot_carry_keys_or_server_fields(field):
    with pytest.raises(InvalidInput) as err:
        parse_body(TaskIn, json.dumps({"title": "ok", field: "USER#victim"}))
    assert err.value.errors == [{"field": field, "message": "unknown field"}]


@pytest.mark.parametrize(
    "raw,expected",
    [
        (None, "needs a JSON object"),
        ("", "needs a JSON object"),
        ("{nope", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('"title"', "must be a JSON object"),
    ],
)
def test_malformed_bodies(raw, expected):
    with pytest.raises(InvalidInput, match=expected):
        parse_body(TaskIn, raw)


def test_validation_errors_never_echo_the_submitted_value():
    canary = "CANARY-" + "9" * 300  # too long for a title
    with pytest.raises(InvalidInput) as err:
        parse_body(TaskIn, json.dumps({"title": canary, "status": canary}))
    assert "CANARY" not in json.dumps(err.value.body())


def test_every_entity_has_a_distinct_prefix_and_collection():
    assert [e.kind for e in ENTITIES] == ["TASK", "MILESTONE", "DRIVER"]
    assert len({e.collection for e in ENTITIES}) == 3


# ---- settings
def test_settings_from_environment():
    s = load_settings(GOOD_ENV)
    assert s.secret_keys == ("STRIPE_KEY", "SMTP_PASSWORD")
    assert s.secret_max_age_seconds == 120
    assert s.secret_name("STRIPE_KEY") == "TimeManagement-dev/STRIPE_KEY"
    assert s.endpoint_url is None
    assert load_settings({**GOOD_ENV, "SECRET_KEYS": ""}).secret_keys == ()
    assert (
        load_settings({**GOOD_ENV, "AWS_ENDPOINT_URL": "http://localhost:4599"}).endpoint_url == "http://localhost:4599"
    )


def test_settings_errors_name_every_bad_variable():
    env = {k: v for k, v in GOOD_ENV.items() if k != "TABLE_NAME"}
    env.update(SECRETS_PREFIX="TimeManagement-dev", SECRET_MAX_AGE_SECONDS="-1", DATA_ACCESS_ROLE_ARN="role")
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    msg = str(err.value)
    for var in ("TABLE_NAME is not set", "SECRETS_PREFIX", "SECRET_MAX_AGE_SECONDS", "DATA_ACCESS_ROLE_ARN"):
        assert var in msg
    assert "redeploy" in msg


def test_settings_reject_bad_secret_keys():
    with pytest.raises(SettingsError, match="SECRET_KEYS"):
        load_settings({**GOOD_ENV, "SECRET_KEYS": "OK,not ok"})


# ---- keys and STS session names (the policy's intent: PK is always USER#<caller sub>)
def test_item_key_is_the_callers_partition():
    sub = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert store.item_key(sub, "TASK", "01ABC") == {"PK": f"USER#{sub}", "SK": "TASK#01ABC"}


@pytest.mark.parametrize("sub", ["", "a#b", "USER#x", "a b", "x" * 129, "ä", None])
def test_partition_refuses_subs_that_could_reshape_a_key(sub):
    with pytest.raises(ValueError):
        store.partition(sub)


@pytest.mark.parametrize("sub", ["0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "a" * 128, "a:b/c d#e"])
def test_session_names_are_valid_for_sts(sub):
    name = store.session_name(sub)
    assert 2 <= len(name) <= 64
    assert all(c.isalnum() or c in "+=,.@_-" for c in name)
    assert store.session_name(sub) == name
    if len(sub) > 61:
        assert name != store.session_name(sub[:-1] + "b")  # long subs stay distinct (hash suffix)


# ---- secret states
@pytest.mark.parametrize(
    "value,unseeded",
    [
        ('{"tmkit":"unseeded","placeholder":"Zx8"}', True),
        ('{"placeholder": "Zx8", "tmkit": "unseeded"}', True),
        ("", True),
        ("   ", True),
        (None, True),
        ("sk_live_123", False),
        ('{"tmkit":"seeded"}', False),
        ('["tmkit","unseeded"]', False),
        (b"\x00\x01", False),
    ],
)
def test_unseeded_detection(value, unseeded):
    assert is_unseeded(value) is unseeded


# ---- events
def test_rest_event_carries_claims_only_when_given():
    event = rest_event("POST", "/tasks", body={"title": "x"}, claims={"sub": "abc"}, query={"limit": "5"})
    assert event["requestContext"]["authorizer"]["claims"] == {"sub": "abc"}
    assert json.loads(event["body"]) == {"title": "x"}
    assert event["queryStringParameters"] == {"limit": "5"}
    assert "authorizer" not in rest_event("GET", "/health")["requestContext"]
