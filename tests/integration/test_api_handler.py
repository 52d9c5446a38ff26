"""The API handler end to end against moto in-process: CRUD, isolation, validation, auth, secrets.

Events are REST v1 Lambda-proxy events as API Gateway's Cognito authorizer sends them; the
handler runs exactly as in Lambda (and as ``inv local.serve`` runs it).
"""

import io
import json
import logging
from datetime import datetime, timedelta

import app
import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters import base as params_base
from moto import mock_aws

from tm_api.events import rest_event
from tm_api.models import ENTITIES
from tm_api.secrets import UNSEEDED_MARKER
from tm_api.settings import Settings, load_settings
from tmkit import api_contract

ENV = "apitest"
TABLE = f"TimeManagement-{ENV}-data"
PREFIX = f"TimeManagement-{ENV}/"
ROLE_ARN = "arn:aws:iam::123456789012:role/TimeManagement-apitest-DataAccess"
ALICE = "a1a1a1a1-0000-4000-8000-000000000001"
BOB = "b2b2b2b2-0000-4000-8000-000000000002"
PLACEHOLDER = json.dumps(
    {api_contract.PLACEHOLDER_FIELD: api_contract.PLACEHOLDER_VALUE, "placeholder": "PLACEHOLDER-CANARY-q8Zt"}
)
CANARY = "sk_live_CANARY_7f3a9e1d"
BODIES = {  # one valid body per entity, and the field a client changes on PUT
    "tasks": ({"title": "Write report", "dueDate": "2025-03-01"}, {"title": "Write the report", "status": "done"}),
    "milestones": ({"title": "Beta", "targetDate": "2025-06-30"}, {"title": "Beta 2", "status": "in_progress"}),
    "drivers": ({"name": "Health", "importance": 5}, {"name": "Family", "importance": 4}),
}
NAME_FIELD = {"tasks": "title", "milestones": "title", "drivers": "name"}


class EverythingFormatter(logging.Formatter):
    """Every attribute of the record (message, extra keys, exception text): what a log could leak."""

    def format(self, record):
        text = super().format(record)
        return text + " " + json.dumps(vars(record), default=str)


class Api:
    def __init__(self, log: io.StringIO):
        self.log = log
        self.responses: list[str] = []

    def call(self, method, path, *, sub=ALICE, body=None, query=None, claims=None):
        if claims is None and sub is not None:
            claims = {"sub": sub, "email": f"{sub[:4]}@example.com", "cognito:username": sub}
        out = app.handler(rest_event(method, path, body=body, claims=claims, query=query), None)
        self.responses.append(out["body"] or "")
        body = json.loads(out["body"]) if out["body"] else None
        return out["statusCode"], body


def _aws_env(monkeypatch):
    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": TABLE,
        "DATA_ACCESS_ROLE_ARN": ROLE_ARN,
        "SECRETS_PREFIX": PREFIX,
        "SECRET_KEYS": "STRIPE_KEY,SMTP_PASSWORD",
        "SECRET_MAX_AGE_SECONDS": "300",
        "ENVIRONMENT": ENV,
        "LOG_LEVEL": "DEBUG",
    }.items():
        monkeypatch.setenv(var, value)
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def api(monkeypatch):
    _aws_env(monkeypatch)
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
        )
        sm = boto3.client("secretsmanager")
        sm.create_secret(Name=PREFIX + "STRIPE_KEY", SecretString=PLACEHOLDER)
        sm.create_secret(Name=PREFIX + "SMTP_PASSWORD", SecretString=PLACEHOLDER)
        log = io.StringIO()
        handler = logging.StreamHandler(log)
        handler.setFormatter(EverythingFormatter())
        app.logger.addHandler(handler)
        app.reset()
        try:
            yield Api(log)
        finally:
            app.reset()
            app.logger.removeHandler(handler)


def counting_secrets_client():
    """Install a Secrets Manager client that counts GetSecretValue calls as Powertools' default provider."""
    client = boto3.client("secretsmanager")
    calls = []
    client.meta.events.register(
        "before-parameter-build.secrets-manager.GetSecretValue", lambda params, **_: calls.append(params["SecretId"])
    )
    params_base.DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=client)
    return calls


# ---- the contract with the stack and the local server (tmkit/api_contract.py) ---------------------------
def _shape(path: str) -> str:
    """``/tasks/<item_id>`` (Powertools) and ``tasks/{id}`` (API Gateway) -> ``tasks/{}``."""
    return "/".join("{}" if s[:1] in "<{" and s[-1:] in ">}" else s for s in path.strip("/").split("/"))


def test_the_handlers_routes_are_the_route_table():
    served = {(r.method, _shape(r.path)) for r in app.app._static_routes + app.app._dynamic_routes}
    table = {_shape(r.path): r for r in api_contract.ROUTES}
    assert {path for _, path in served} == set(table)  # no route without an API Gateway resource, and none unused
    for method, path in served:
        assert table[path].allows(method), (method, path)
    assert {_shape(r.path) for r in api_contract.ROUTES if r.public} == {"health"}


def test_the_settings_read_the_variables_the_stack_sets():
    env = api_contract.function_environment(
        table_name=TABLE,
        data_access_role_arn=ROLE_ARN,
        secrets_prefix=PREFIX,
        secret_keys=["STRIPE_KEY"],
        secret_max_age_seconds=60,
        environment_name=ENV,
    )
    read = {f.alias for f in Settings.model_fields.values()} - {"AWS_ENDPOINT_URL"}  # boto3's own variable
    assert read == set(env) - {"POWERTOOLS_SERVICE_NAME", "LOG_LEVEL"}  # those two configure Powertools
    settings = load_settings(env)
    assert (settings.table_name, settings.secret_keys, settings.environment) == (TABLE, ("STRIPE_KEY",), ENV)
    assert UNSEEDED_MARKER == (api_contract.PLACEHOLDER_FIELD, api_contract.PLACEHOLDER_VALUE)


# ---- health, me, auth -------------------------------------------------------------------------
def test_health_needs_no_token(api):
    assert api.call("GET", "/health", sub=None) == (200, {"status": "ok", "environment": ENV})


def test_me_reports_the_verified_claims(api):
    status, body = api.call("GET", "/me")
    assert status == 200
    assert body == {"sub": ALICE, "email": "a1a1@example.com", "username": ALICE, "environment": ENV}


PROTECTED = [("GET", "/me"), ("GET", "/integrations/status"), ("GET", "/integrations/STRIPE_KEY")] + [
    (m, p)
    for e in ENTITIES
    for m, p in (
        ("GET", f"/{e.collection}"),
        ("POST", f"/{e.collection}"),
        ("GET", f"/{e.collection}/01M88ZNM5BRA1V10M4EF4X84Y3"),
        ("PUT", f"/{e.collection}/01M88ZNM5BRA1V10M4EF4X84Y3"),
        ("DELETE", f"/{e.collection}/01M88ZNM5BRA1V10M4EF4X84Y3"),
    )
]


@pytest.mark.parametrize(
    "claims",
    [None, {}, {"email": "x@example.com"}, {"sub": ""}, {"sub": "a#b"}],
    ids=["no-authorizer", "empty", "no-sub", "blank-sub", "bad-sub"],
)
def test_every_protected_route_answers_401_without_a_verified_sub(api, claims):
    for method, path in PROTECTED:
        status, body = api.call(method, path, sub=None, claims=claims, body={"title": "x"})
        assert status == 401, (method, path)
        assert "sign in" in body["message"]


def test_unknown_route_is_404(api):
    assert api.call("GET", "/admin/users")[0] == 404


# ---- CRUD for every entity --------------------------------------------------------------------
@pytest.mark.parametrize("collection", list(BODIES))
def test_crud(api, collection):
    create, change = BODIES[collection]
    status, created = api.call("POST", f"/{collection}", body=create)
    assert status == 201
    item_id = created["id"]
    assert {k: created[k] for k in create} == create
    assert created["createdAt"] == created["updatedAt"]

    assert api.call("GET", f"/{collection}/{item_id}") == (200, created)
    assert api.call("GET", f"/{collection}") == (200, {"items": [created], "nextToken": None})

    status, updated = api.call("PUT", f"/{collection}/{item_id}", body=change)
    assert status == 200
    assert updated["id"] == item_id and updated["createdAt"] == created["createdAt"]
    assert {k: updated[k] for k in change} == change
    assert api.call("GET", f"/{collection}/{item_id}") == (200, updated)

    assert api.call("DELETE", f"/{collection}/{item_id}") == (204, None)
    assert api.call("GET", f"/{collection}/{item_id}")[0] == 404
    assert api.call("DELETE", f"/{collection}/{item_id}")[0] == 404
    assert api.call("GET", f"/{collection}") == (200, {"items": [], "nextToken": None})


def test_put_replaces_optional_fields(api):
    _, task = api.call("POST", "/tasks", body={"title": "t", "notes": "n", "dueDate": "2025-01-01"})
    _, updated = api.call("PUT", f"/tasks/{task['id']}", body={"title": "t"})
    assert updated["notes"] == "" and updated["dueDate"] is None


def test_entities_do_not_mix(api):
    api.call("POST", "/tasks", body=BODIES["tasks"][0])
    _, milestone = api.call("POST", "/milestones", body=BODIES["milestones"][0])
    assert api.call("GET", "/drivers")[1]["items"] == []
    assert [t["title"] for t in api.call("GET", "/tasks")[1]["items"]] == ["Write report"]
    assert api.call("GET", f"/tasks/{milestone['id']}")[0] == 404  # a milestone id is not a task


def test_list_pages_through_everything_in_creation_order(api):
    ids = [api.call("POST", "/tasks", body={"title": f"t{n}"})[1]["id"] for n in range(5)]
    seen, token, pages = [], None, 0
    while True:
        query = {"limit": "2", **({"nextToken": token} if token else {})}
        status, page = api.call("GET", "/tasks", query=query)
        assert status == 200 and len(page["items"]) <= 2
        seen += [t["id"] for t in page["items"]]
        pages += 1
        token = page["nextToken"]
        if not token or pages > 5:
            break
    assert seen == sorted(ids) and set(seen) == set(ids)


@pytest.mark.parametrize(
    "query,field",
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"nextToken": "USER#x"}, "nextToken"),
    ],
)
def test_bad_list_parameters_are_400(api, query, field):
    status, body = api.call("GET", "/tasks", query=query)
    assert status == 400 and body["errors"][0]["field"] == field


# ---- validation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,
        '{"title": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"title": "x", "notes": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}",
    ],
    ids=["array", "in-a-field", "objects"],
)
def test_a_deeply_nested_body_is_400_not_500(api, body):
    status, answer = api.call("POST", "/tasks", body=body)
    assert status == 400 and "nested too deeply" in answer["message"]
    assert api.call("GET", "/tasks")[1]["items"] == []


def test_a_task_may_only_name_the_callers_own_milestone(api):
    _, bobs = api.call("POST", "/milestones", sub=BOB, body={"title": "Bob's"})
    _, alices = api.call("POST", "/milestones", body={"title": "Alice's"})
    _, task = api.call("POST", "/tasks", body={"title": "t"})
    refused = [{"field": "milestoneId", "message": "no such milestone"}]
    for other in (bobs["id"], "01JZZZZZZZZZZZZZZZZZZZZZZZ"):  # another user's milestone, or none at all
        status, body = api.call("POST", "/tasks", body={"title": "t", "milestoneId": other})
        assert status == 400 and body["errors"] == refused
        status, body = api.call("PUT", f"/tasks/{task['id']}", body={"title": "t", "milestoneId": other})
        assert status == 400 and body["errors"] == refused
    assert [t["id"] for t in api.call("GET", "/tasks")[1]["items"]] == [task["id"]]  # nothing created
    assert api.call("GET", f"/tasks/{task['id']}") == (200, task)  # nothing changed
    status, linked = api.call("POST", "/tasks", body={"title": "t", "milestoneId": alices["id"]})
    assert status == 201 and linked["milestoneId"] == alices["id"]
    status, moved = api.call("PUT", f"/tasks/{task['id']}", body={"title": "t", "milestoneId": alices["id"]})
    assert status == 200 and moved["milestoneId"] == alices["id"]


@pytest.mark.parametrize("collection", list(BODIES))
def test_create_and_replace_validate_the_body(api, collection):
    name = NAME_FIELD[collection]
    status, body = api.call("POST", f"/{collection}", body={name: "", "colour": "red"})
    assert status == 400
    assert {e["field"] for e in body["errors"]} == {name, "colour"}
    assert name in body["message"]

    _, created = api.call("POST", f"/{collection}", body=BODIES[collection][0])
    status, body = api.call("PUT", f"/{collection}/{created['id']}", body={name: "ok", "PK": f"USER#{BOB}"})
    assert status == 400 and body["errors"] == [{"field": "PK", "message": "unknown field"}]
    assert api.call("GET", f"/{collection}/{created['id']}") == (200, created)  # unchanged
    assert api.call("POST", f"/{collection}", body="not json")[0] == 400
    assert api.call("POST", f"/{collection}", body=None)[0] == 400
    assert len(api.call("GET", f"/{collection}")[1]["items"]) == 1  # nothing half-written


# ---- isolation --------------------------------------------------------------------------------
@pytest.mark.parametrize("collection", list(BODIES))
def test_another_users_items_are_invisible(api, collection):
    create, change = BODIES[collection]
    _, mine = api.call("POST", f"/{collection}", sub=ALICE, body=create)
    path = f"/{collection}/{mine['id']}"

    assert api.call("GET", f"/{collection}", sub=BOB) == (200, {"items": [], "nextToken": None})
    for method, body in (("GET", None), ("PUT", change), ("DELETE", None)):
        status, answer = api.call(method, path, sub=BOB, body=body)
        assert status == 404, method  # never 403: nothing reveals that the id exists
        assert mine["id"] not in json.dumps(answer)
    assert api.call("GET", path, sub=ALICE) == (200, mine)  # untouched by Bob's PUT and DELETE

    # Bob's own item with the same kind of body lives in his partition only.
    _, his = api.call("POST", f"/{collection}", sub=BOB, body=create)
    assert [i["id"] for i in api.call("GET", f"/{collection}", sub=ALICE)[1]["items"]] == [mine["id"]]
    assert [i["id"] for i in api.call("GET", f"/{collection}", sub=BOB)[1]["items"]] == [his["id"]]


def test_the_partition_never_comes_from_the_request(api):
    _, mine = api.call("POST", "/tasks", sub=ALICE, body={"title": "alice's"})
    # Bob tries to point the request at Alice's partition through the path, query and body.
    guesses = [f"USER%23{ALICE}", f"USER#{ALICE}#TASK#{mine['id']}", f"{mine['id']}%00", f"{mine['id'].lower()}"]
    for guess in guesses:
        assert api.call("GET", f"/tasks/{guess}", sub=BOB)[0] == 404
    status, page = api.call("GET", "/tasks", sub=BOB, query={"sub": ALICE, "PK": f"USER#{ALICE}"})
    assert status == 200 and page["items"] == []
    assert api.call("POST", "/tasks", sub=BOB, body={"title": "x", "sub": ALICE})[0] == 400
    assert api.call("GET", "/me", sub=BOB, query={"sub": ALICE})[1]["sub"] == BOB


def test_every_dynamodb_request_targets_the_callers_partition_with_the_callers_session(api):
    """moto does not evaluate IAM conditions, so check the policy's intent at the SDK boundary:
    every key the handler sends is USER#<caller sub>, signed with a role session tagged sub=<caller sub>."""
    session = boto3.session.Session()
    ddb_calls, assumed = [], {}
    session.events.register(
        "before-parameter-build.dynamodb", lambda model, params, **_: ddb_calls.append((model.name, dict(params)))
    )
    app.reset(app.build_deps(load_settings(), session=session))
    sts = app.deps().store.credentials.sts
    pending = []
    sts.meta.events.register("before-parameter-build.sts.AssumeRole", lambda params, **_: pending.append(dict(params)))

    def record(parsed, **_):
        params = pending.pop()
        assumed[parsed["Credentials"]["AccessKeyId"]] = params

    sts.meta.events.register("after-call.sts.AssumeRole", record)

    for sub in (ALICE, BOB, ALICE, BOB):
        for collection, (create, change) in BODIES.items():
            before = len(ddb_calls)
            _, item = api.call("POST", f"/{collection}", sub=sub, body=create)
            api.call("GET", f"/{collection}", sub=sub)
            api.call("GET", f"/{collection}/{item['id']}", sub=sub)
            api.call("PUT", f"/{collection}/{item['id']}", sub=sub, body=change)
            api.call("DELETE", f"/{collection}/{item['id']}", sub=sub)
            calls = ddb_calls[before:]
            assert [name for name, _ in calls] == ["PutItem", "Query", "GetItem", "UpdateItem", "DeleteItem"]
            for name, params in calls:
                assert "Scan" not in name
                if name == "Query":
                    assert params["KeyConditionExpression"].startswith("PK = :pk")
                    pk = params["ExpressionAttributeValues"][":pk"]["S"]
                else:
                    pk = (params.get("Key") or params["Item"])["PK"]["S"]
                assert pk == f"USER#{sub}", (name, params)
            entry = app.deps().store.credentials.entry(sub)
            tagged = assumed[entry.access_key_id]
            assert tagged["Tags"] == [{"Key": "sub", "Value": sub}]
            assert tagged["RoleArn"] == ROLE_ARN
    assert len(assumed) == 2  # one role session per user, reused across all their requests


# ---- secrets ----------------------------------------------------------------------------------
def _seed(key, value):
    boto3.client("secretsmanager").put_secret_value(SecretId=PREFIX + key, SecretString=value)


def test_unseeded_secret_is_503_naming_the_key_and_never_the_value(api):
    status, body = api.call("GET", "/integrations/STRIPE_KEY")
    assert status == 503
    assert body["secret"] == "STRIPE_KEY" and f"inv secrets.put --env {ENV} STRIPE_KEY" in body["message"]
    log = api.log.getvalue()
    assert "STRIPE_KEY" in log and "unseeded" in log
    assert "PLACEHOLDER-CANARY" not in log and "PLACEHOLDER-CANARY" not in "".join(api.responses)


def test_missing_secret_is_503_with_a_log_line(api):
    boto3.client("secretsmanager").delete_secret(SecretId=PREFIX + "SMTP_PASSWORD", ForceDeleteWithoutRecovery=True)
    status, body = api.call("GET", "/integrations/SMTP_PASSWORD")
    assert status == 503 and body["secret"] == "SMTP_PASSWORD"
    assert "SMTP_PASSWORD" in api.log.getvalue()


def test_seeded_secret_works_and_its_value_never_leaves(api, capfd):
    _seed("STRIPE_KEY", CANARY)
    assert api.call("GET", "/integrations/STRIPE_KEY") == (200, {"key": "STRIPE_KEY", "configured": True})
    assert api.call("GET", "/integrations/status") == (
        200,
        {"integrations": [{"key": "STRIPE_KEY", "configured": True}, {"key": "SMTP_PASSWORD", "configured": False}]},
    )
    assert api.call("GET", "/integrations/NOT_DECLARED")[0] == 404
    out, err = capfd.readouterr()
    everything = api.log.getvalue() + "".join(api.responses) + out + err
    assert CANARY not in everything and "PLACEHOLDER-CANARY" not in everything
    assert app.deps().secrets.get("STRIPE_KEY") == CANARY  # the routes can use the value


def test_one_secrets_manager_call_per_secret_per_cache_window(api, monkeypatch):
    _seed("STRIPE_KEY", CANARY)
    calls = counting_secrets_client()
    for _ in range(300):
        assert api.call("GET", "/integrations/STRIPE_KEY")[0] == 200
        api.call("GET", "/integrations/status")
    assert sorted(calls) == [PREFIX + "SMTP_PASSWORD", PREFIX + "STRIPE_KEY"]  # unseeded ones are cached too

    class Later(datetime):  # the cache window (SECRET_MAX_AGE_SECONDS=300) has passed
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(seconds=301)

    monkeypatch.setattr(params_base, "datetime", Later)
    for _ in range(50):
        api.call("GET", "/integrations/STRIPE_KEY")
    assert calls.count(PREFIX + "STRIPE_KEY") == 2


def test_a_seeded_value_is_picked_up_after_the_window(api, monkeypatch):
    calls = counting_secrets_client()
    assert api.call("GET", "/integrations/STRIPE_KEY")[0] == 503
    _seed("STRIPE_KEY", CANARY)
    assert api.call("GET", "/integrations/STRIPE_KEY")[0] == 503  # still within the window: cached placeholder

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(seconds=301)

    monkeypatch.setattr(params_base, "datetime", Later)
    assert api.call("GET", "/integrations/STRIPE_KEY")[0] == 200
    assert len(calls) == 2


def test_a_missing_secret_is_asked_for_once_per_window(api):
    boto3.client("secretsmanager").delete_secret(SecretId=PREFIX + "SMTP_PASSWORD", ForceDeleteWithoutRecovery=True)
    now = [1_000_000.0]
    app.reset(app.build_deps(load_settings(), clock=lambda: now[0]))
    calls = counting_secrets_client()
    for _ in range(100):
        assert api.call("GET", "/integrations/SMTP_PASSWORD")[0] == 503
    assert calls == [PREFIX + "SMTP_PASSWORD"]
    now[0] += 301
    api.call("GET", "/integrations/SMTP_PASSWORD")
    assert len(calls) == 2


# ---- misconfiguration -------------------------------------------------------------------------
def test_missing_configuration_is_a_500_naming_the_variable_in_the_log(api, monkeypatch):
    monkeypatch.delenv("TABLE_NAME")
    app.reset()
    status, body = api.call("GET", "/tasks")
    assert status == 500 and "internal error" in body["message"]
    assert "TABLE_NAME is not set" in api.log.getvalue()


# ---- concurrency (the local server may call the handler from several threads) ---------------
def test_concurrent_callers_only_ever_see_their_own_items(api):
    import sys
    from concurrent.futures import ThreadPoolExecutor

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads very often: make request-state races show up

    own = {sub: api.call("POST", "/tasks", sub=sub, body={"title": sub})[1]["id"] for sub in (ALICE, BOB)}

    def list_as(sub):
        event = rest_event("GET", "/tasks", claims={"sub": sub})
        return sub, json.loads(app.handler(event, None)["body"])["items"]

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(list_as, [ALICE, BOB] * 40))
    finally:
        sys.setswitchinterval(interval)
    assert len(results) == 80
    for sub, items in results:
        assert [i["id"] for i in items] == [own[sub]]
