"""`inv local.serve` against the emulator (a moto server on a free loopback port, started by tmkit.emulator):
CloudFront semantics for the SPA, the Cognito proxy, the JWT authorizer, the API in-process; `inv local.user`.

The stack is built directly with boto3 (bucket, pool, client, table, role) plus a CloudFormation stack that
carries the outputs, so `stack_outputs` works as after `inv deploy --env local`; the site is uploaded with
tmkit.publish. ``make_local_stack`` is reused by tests/e2e/test_browser.py.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import shutil
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from invoke import Collection, Program

from tests.helpers import free_port
from tmkit import emulator, local_http, local_users, localserve, paths, site
from tmkit.aws import client
from tmkit.config import load_env
from tmkit.errors import ToolkitError

PASSWORD = "Local-Serve-Pw-9x!"
ALICE, BOB = "alice@example.com", "bob@example.com"
ASSET = "assets/index-Ab12Cd34.js"


# ---- the stack, as `inv deploy --env local` + `inv frontend.publish` leave it -------------------------------
def write_site(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(
        f'<!doctype html><title>TM</title><div id="root"></div><script type="module" src="/{ASSET}"></script>'
    )
    (root / ASSET).write_text("console.log('app');")
    (root / "404.html").write_text("<!doctype html><h1>Not found</h1>")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return root


def make_local_stack(cfg, build_dir: Path | None = None) -> dict[str, str]:
    """Bucket, user pool + client, table, data-access role and a stack whose outputs name them; publish ``build_dir``
    (when given) with tmkit.publish."""
    from tmkit import publish

    s3, idp = client(cfg, "s3"), client(cfg, "cognito-idp")
    bucket = f"{cfg.stack_name.lower()}-frontend"
    s3.create_bucket(Bucket=bucket)
    pool = idp.create_user_pool(
        PoolName=f"{cfg.stack_name}-users",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
    )["UserPool"]["Id"]
    app_client = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="web",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    client(cfg, "dynamodb").create_table(
        TableName=cfg.table_name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            }
        ],
    }
    role = client(cfg, "iam").create_role(
        RoleName=f"{cfg.stack_name}-DataAccess", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    outputs = {
        "FrontendBucketName": bucket,
        "UserPoolId": pool,
        "UserPoolClientId": app_client,
        "TableName": cfg.table_name,
        "DataAccessRoleArn": role,
        "Region": cfg.region,
        "EnvironmentName": cfg.name,
        "ApiUrl": "/api",
        "SiteUrl": "http://127.0.0.1",
        "DistributionId": "ELOCAL",
    }
    template = {
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    client(cfg, "cloudformation").create_stack(StackName=cfg.stack_name, TemplateBody=json.dumps(template))
    if build_dir is not None:
        publish.publish(s3, None, bucket, None, build_dir)
    return outputs


@contextlib.contextmanager
def emulator_env(tmp: Path, name: str = "local"):
    """envs/<name>.toml = envs/local.toml on a free port, emulator state under ``tmp``; the emulator runs."""
    envs = tmp / "envs"
    shutil.copytree(paths.ENVS_DIR, envs)
    port = free_port()
    (envs / f"{name}.toml").write_text(
        (paths.ENVS_DIR / "local.toml").read_text().replace("http://localhost:4599", f"http://localhost:{port}")
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TM_ENVS_DIR", str(envs))
        for var in ("AWS_ENDPOINT_URL", "ENVIRONMENT", "AWS_PROFILE"):
            mp.delenv(var, raising=False)
        mp.setattr(paths, "STATE_DIR", tmp / "state")
        cfg = load_env(name)
        emulator.start(cfg)
        try:
            yield cfg
        finally:
            emulator.stop(cfg)


class Http:
    def __init__(self, port: int):
        self.port = port

    def __call__(self, method: str, path: str, body=None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def json(self, method: str, path: str, body=None, token: str | None = None):
        headers = {"Content-Type": "application/json", **({"Authorization": token} if token else {})}
        status, _, data = self(method, path, body, headers)
        return status, (json.loads(data) if data else None)


def cognito_call(http: Http, operation: str, params: dict) -> tuple[int, dict]:
    """One Cognito API call through the server's /cognito proxy, unsigned, as the browser sends it."""
    status, _, data = http(
        "POST",
        "/cognito",
        json.dumps(params).encode(),
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
        },
    )
    return status, json.loads(data) if data else {}


def sign_in(http: Http, client_id: str, email: str, password: str = PASSWORD) -> dict:
    """InitiateAuth through the server's /cognito proxy, as the SPA does."""
    status, body = cognito_call(
        http,
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client_id,
            "AuthParameters": {"USERNAME": email, "PASSWORD": password},
        },
    )
    assert status == 200, body
    return body["AuthenticationResult"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("localserve")
    with emulator_env(tmp) as cfg:
        outputs = make_local_stack(cfg, write_site(tmp / "dist"))
        for email in (ALICE, BOB):
            local_users.create_user(cfg, email, PASSWORD)
        log: list[str] = []
        serve = localserve.prepare(cfg)
        serve.say = log.append
        with serve.running(free_port()) as server:
            yield cfg, outputs, Http(server.server_address[1]), serve, log


# ---- the SPA with the distribution's semantics -----------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/tasks", "/tasks/42", "/config/", "/index.html"])
def test_routes_get_the_app_shell(stack, path):
    _, _, http, _, _ = stack
    status, headers, body = http("GET", path)
    assert status == 200 and b'<div id="root">' in body
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-cache"
    for name, value in site.security_headers().items():
        assert headers[name.lower()] == value


def test_assets_keep_their_stored_headers(stack):
    _, _, http, _, _ = stack
    status, headers, body = http("GET", "/" + ASSET)
    assert (status, body) == (200, b"console.log('app');")
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    again, again_headers, again_body = http("GET", "/" + ASSET, headers={"If-None-Match": headers["etag"]})
    assert (again, again_body) == (304, b"") and again_headers["etag"] == headers["etag"]


@pytest.mark.parametrize("path", ["/assets/missing.js", "/assets/index-Zz99Yy88.css", "/robots.txt", "/tasks/x.json"])
def test_a_missing_file_is_the_404_page_never_the_app(stack, path):
    _, _, http, _, _ = stack
    status, headers, body = http("GET", path)
    assert status == 404
    assert b"Not found" in body and b'<div id="root">' not in body
    assert headers["x-frame-options"] == "DENY" and "content-security-policy" in headers


@pytest.mark.parametrize(
    "path", ["/_releases/state.json", "/%5Freleases/state.json", "/_releases/", "/x/_releases/state.json"]
)
def test_release_records_are_never_served(stack, path):
    cfg, outputs, http, _, _ = stack
    records = client(cfg, "s3").list_objects_v2(Bucket=outputs["FrontendBucketName"], Prefix="_releases/")
    assert "_releases/state.json" in [o["Key"] for o in records.get("Contents", [])]  # they are in the bucket
    status, headers, body = http("GET", path)
    assert (status, body) == (404, b"") and headers["x-frame-options"] == "DENY"
    assert http("HEAD", path)[0] == 404


def test_head_has_no_body_and_other_methods_are_refused(stack):
    _, _, http, _, _ = stack
    status, headers, body = http("HEAD", "/tasks")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    assert http("POST", "/tasks", b"x")[0] == 403
    assert http("DELETE", "/index.html")[0] == 403


def test_only_loopback_host_names_are_answered(stack):
    _, _, http, _, _ = stack
    assert http("GET", "/", headers={"Host": "attacker.example:8080"})[0] == 403
    assert http("GET", "/api/health", headers={"Host": "localhost:8080"})[0] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/..%2f..%2fetc%2fpasswd.txt",
        "/assets/..%2f..%2f_releases%2fstate.json",
        "/assets/%00.js",
        "/assets/a%00b.css",
        "/%2e%2e/%2e%2e/etc/passwd.txt",
        "/assets/%ff%fe.js",
        "/assets/" + "a" * 4000 + ".js",
        "/api/..%2ftasks",
        "/api/tasks/%00",
        "//evil.example/x.js",
    ],
)
def test_traversal_nul_and_long_paths_get_an_answer_never_a_file_or_a_crash(stack, path):
    _, _, http, _, log = stack
    before = len(log)
    status, _, body = http("GET", path)
    assert status in (200, 400, 401, 403, 404), (status, body[:200])
    assert b"root:" not in body and b'"releases"' not in body
    if status == 200:
        assert b'<div id="root">' in body  # a client route: the app shell, nothing else
    assert not any("Traceback" in line for line in log[before:])


# ---- the Cognito proxy: what real Cognito answers without AWS credentials, nothing more --------------------
def test_cognito_forwards_sign_in_and_token_operations(stack):
    _, outputs, http, _, _ = stack
    tokens = sign_in(http, outputs["UserPoolClientId"], ALICE)
    status, user = cognito_call(http, "GetUser", {"AccessToken": tokens["AccessToken"]})
    assert status == 200 and user["Username"]
    status, body = cognito_call(
        http,
        "InitiateAuth",
        {
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "ClientId": outputs["UserPoolClientId"],
            "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]},
        },
    )
    assert status == 200 and body["AuthenticationResult"]["IdToken"]


def test_cognito_refuses_administration_without_credentials(stack):
    cfg, outputs, http, _, _ = stack
    pool = outputs["UserPoolId"]
    refused = {
        "AdminSetUserPassword": {
            "UserPoolId": pool,
            "Username": BOB,
            "Password": "Taken-Over-Pw-1!",
            "Permanent": True,
        },
        "ListUsers": {"UserPoolId": pool},
        "ListUserPools": {"MaxResults": 60},
        "AdminCreateUser": {"UserPoolId": pool, "Username": "mallory@example.com"},
        "AdminInitiateAuth": {
            "UserPoolId": pool,
            "ClientId": outputs["UserPoolClientId"],
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": BOB, "PASSWORD": PASSWORD},
        },
        "DescribeUserPoolClient": {"UserPoolId": pool, "ClientId": outputs["UserPoolClientId"]},
    }
    for operation, params in refused.items():
        assert cognito_call(http, operation, params) == (
            400,
            {"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"},
        ), operation
    assert cognito_call(http, "NoSuchOperation", {}) == (400, {"__type": "UnknownOperationException"})
    # Nothing happened: Bob's password is unchanged and nobody was created.
    sign_in(http, outputs["UserPoolClientId"], BOB)
    users = client(cfg, "cognito-idp").list_users(UserPoolId=pool)["Users"]
    assert "mallory@example.com" not in [a["Value"] for u in users for a in u["Attributes"] if a["Name"] == "email"]


# ---- the API behind the authorizer --------------------------------------------------------------------
def test_health_needs_no_token(stack):
    cfg, _, http, _, _ = stack
    assert http.json("GET", "/api/health") == (200, {"status": "ok", "environment": cfg.name})


def moto_private_key():
    """moto's published test key: what the emulator signs tokens with."""
    from moto.utilities.utils import load_resource

    return jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json")).key


def claims_for(outputs, token: str, **changes) -> dict:
    found = jwt.decode(token, options={"verify_signature": False})
    found.update(changes)
    return {k: v for k, v in found.items() if v is not None}


def test_tokens_the_authorizer_refuses(stack):
    _, outputs, http, serve, log = stack
    tokens = sign_in(http, outputs["UserPoolClientId"], ALICE)
    real = tokens["IdToken"]
    now = int(time.time())
    moto_key = moto_private_key()
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def sign(claims, key=moto_key, kid="dummy"):
        return jwt.encode(
            claims,
            key,
            algorithm="RS256",
            headers={"kid": kid},
        )

    # The moto key signs a token the authorizer accepts: so each refusal below is for the one changed thing.
    assert http.json("GET", "/api/tasks", token=sign(claims_for(outputs, real)))[0] == 200
    refused = {
        "no token": None,
        "garbage": "not-a-jwt",
        "expired": sign(claims_for(outputs, real, iat=now - 7200, exp=now - 3600)),
        "forged (own key, same kid)": sign(claims_for(outputs, real), own_key),
        "unknown kid": sign(claims_for(outputs, real), kid="other"),
        "other audience": sign(claims_for(outputs, real, aud="someotherclient")),
        "other issuer": sign(claims_for(outputs, real, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x")),
        "no sub": sign(claims_for(outputs, real, sub=None)),
        "access token": tokens["AccessToken"],
        "alg none": jwt.encode(claims_for(outputs, real), None, algorithm="none"),
        "HS256": jwt.encode(claims_for(outputs, real), "dummy" * 8, algorithm="HS256", headers={"kid": "dummy"}),
        "tampered payload": real.split(".")[0]
        + "."
        + jwt.utils.base64url_encode(
            json.dumps(claims_for(outputs, real, sub="b2b2b2b2-0000-4000-8000-000000000002")).encode()
        ).decode()
        + "."
        + real.split(".")[2],
    }
    for what, token in refused.items():
        assert http.json("GET", "/api/tasks", token=token) == (401, {"message": "Unauthorized"}), what
    assert any("ExpiredSignatureError" in line for line in log)
    assert any("InvalidSignatureError" in line for line in log)
    assert serve.authorizer.jwks_fetches <= 3  # cached; an unknown kid refetches at most once per window


def test_create_and_list_tasks_per_user(stack):
    _, outputs, http, _, _ = stack
    alice = sign_in(http, outputs["UserPoolClientId"], ALICE)["IdToken"]
    bob = "Bearer " + sign_in(http, outputs["UserPoolClientId"], BOB)["IdToken"]
    status, created = http.json("POST", "/api/tasks", {"title": "Write the report"}, token=alice)
    assert status == 201 and created["title"] == "Write the report" and created["id"]
    status, listed = http.json("GET", "/api/tasks", token=alice)
    assert status == 200 and [t["id"] for t in listed["items"]] == [created["id"]]
    assert http.json("GET", f"/api/tasks/{created['id']}", token=alice)[0] == 200
    # Bob's token maps to Bob's partition: he neither sees nor reaches Alice's task.
    assert http.json("GET", "/api/tasks", token=bob) == (200, {"items": [], "nextToken": None})
    assert http.json("GET", f"/api/tasks/{created['id']}", token=bob)[0] == 404
    status, me = http.json("GET", "/api/me", token=alice)
    assert status == 200 and me["email"] == ALICE
    # Validation errors come from the handler, unchanged.
    assert http.json("POST", "/api/tasks", {"title": ""}, token=alice)[0] == 400
    assert http.json("GET", "/api/tasks/not-an-id", token=alice)[0] == 404  # a resource; the handler's answer


MISSING_TOKEN = (403, {"message": "Missing Authentication Token"})  # API Gateway's answer without a resource


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/nope"),
        ("GET", "/api"),
        ("GET", "/api/"),
        ("GET", "/api/tasks/a/b"),
        ("GET", "/api/integrations"),
        ("POST", "/api/health"),  # /health has GET only
        ("DELETE", "/api/health"),
    ],
)
def test_a_path_api_gateway_has_no_resource_for_never_reaches_the_handler(stack, monkeypatch, method, path):
    _, outputs, http, serve, _ = stack
    alice = sign_in(http, outputs["UserPoolClientId"], ALICE)["IdToken"]
    calls = []
    monkeypatch.setattr(serve, "invoke_handler", lambda event: calls.append(event))
    assert http.json(method, path, token=alice) == MISSING_TOKEN
    assert http.json(method, path) == MISSING_TOKEN  # before the authorizer, as API Gateway
    assert calls == []


def test_the_handler_logs_go_to_stderr(stack, capfd):
    _, _, http, _, _ = stack
    capfd.readouterr()
    assert http.json("GET", "/api/health")[0] == 200
    out = capfd.readouterr()
    assert out.out == ""


def test_start_on_a_free_port_and_stop(stack, monkeypatch):
    """The programmatic entry point: start(cfg, 0) serves on a free loopback port until stop()."""
    import os

    cfg, _, _, _, _ = stack
    monkeypatch.setenv("TABLE_NAME", "before")  # the handler's variables are restored on stop
    running = localserve.start(cfg, 0)
    try:
        assert running.url == f"http://127.0.0.1:{running.port}/" and running.port > 0
        assert os.environ["TABLE_NAME"] == cfg.table_name
        assert Http(running.port).json("GET", "/api/health") == (200, {"status": "ok", "environment": cfg.name})
    finally:
        running.stop()
    running.stop()  # idempotent
    assert os.environ["TABLE_NAME"] == "before"
    with pytest.raises(ConnectionRefusedError):
        Http(running.port)("GET", "/")


# ---- failures a person can fix ----------------------------------------------------------------------
def test_emulator_down_gives_502_with_the_fix(stack, monkeypatch):
    cfg, outputs, _, _, _ = stack
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://localhost:{free_port()}")  # nothing listens there
    serve = localserve.LocalServe(cfg, outputs, say=lambda m: None)
    reply = serve.route("GET", "/tasks", b"", {})
    assert reply.status == 502 and b"inv local.up" in reply.body
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert (
        serve.cognito("POST", b"{}", {"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"}).status == 502
    )
    assert serve.api("GET", "/api/tasks", "", b"", {"Authorization": "x.y.z"}).status == 401


def test_refusals(stack, tmp_path):
    cfg, outputs, http, serve, _ = stack
    with pytest.raises(ToolkitError, match="loopback only"):
        local_http.check_host("0.0.0.0")
    with pytest.raises(ToolkitError, match="already in use"):
        local_http.make_server(serve.route, serve.say, "127.0.0.1", http.port)
    with pytest.raises(ToolkitError, match="DataAccessRoleArn"):
        localserve.LocalServe(cfg, {k: v for k, v in outputs.items() if k != "DataAccessRoleArn"})
    with pytest.raises(ToolkitError, match="real AWS"):
        localserve.prepare(load_env("dev"))


# ---- the tasks, through invoke -------------------------------------------------------------------------
def run_task(argv: list[str], stdin: str | None = None, monkeypatch=None):
    from tmkit.tasks import local_serve

    program = Program(namespace=Collection(Collection("local", local_serve.serve, local_serve.user)))
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        if stdin is not None and monkeypatch is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            program.run(["inv", *argv], exit=True)
        except SystemExit as exc:
            code = exc.code or 0
    return code, out.getvalue(), err.getvalue()


def test_local_user_from_stdin_then_sign_in(stack, monkeypatch):
    cfg, outputs, http, _, _ = stack
    password = "Piped-Password-42!"
    code, out, err = run_task(
        ["local.user", "--env", cfg.name, "carol@example.com"], stdin=password + "\n", monkeypatch=monkeypatch
    )
    assert code == 0 and out == "" and password not in err and "created" in err
    sign_in(http, outputs["UserPoolClientId"], "carol@example.com", password)
    # Again: the user exists, the password is replaced.
    code, out, err = run_task(
        ["local.user", "--env", cfg.name, "carol@example.com"], stdin="Second-Password-43!", monkeypatch=monkeypatch
    )
    assert code == 0 and "password replaced" in err
    sign_in(http, outputs["UserPoolClientId"], "carol@example.com", "Second-Password-43!")


def test_local_user_generate_prints_the_password_once(stack, monkeypatch):
    cfg, outputs, http, _, _ = stack
    code, out, err = run_task(["local.user", "--env", cfg.name, "--generate", "dave@example.com"])
    password = out.strip()
    assert code == 0 and out.count(password) == 1 and password not in err and len(password) >= 12
    sign_in(http, outputs["UserPoolClientId"], "dave@example.com", password)


def test_local_user_from_file_and_bad_input(stack, monkeypatch, tmp_path):
    cfg, outputs, http, _, _ = stack
    secret_file = tmp_path / "pw"
    secret_file.write_text("File-Password-44!\n")
    assert run_task(["local.user", "--env", cfg.name, "--password-file", str(secret_file), "erin@example.com"])[0] == 0
    sign_in(http, outputs["UserPoolClientId"], "erin@example.com", "File-Password-44!")

    weak = run_task(["local.user", "--env", cfg.name, "frank@example.com"], stdin="weak", monkeypatch=monkeypatch)
    assert weak[0] == 1 and "policy" in weak[2]
    assert (
        run_task(["local.user", "--env", cfg.name, "frank@example.com"], stdin="\n", monkeypatch=monkeypatch)[2].count(
            "is empty"
        )
        == 1
    )
    assert "not an email" in run_task(["local.user", "--env", cfg.name, "frank"], stdin="x", monkeypatch=monkeypatch)[2]
    missing = run_task(["local.user", "--env", cfg.name, "--password-file", str(tmp_path / "nope"), "g@example.com"])
    assert missing[0] == 1 and "no such file" in missing[2]


def test_local_serve_task_refusals(stack):
    cfg, _, http, _, _ = stack
    code, out, err = run_task(["local.serve", "--env", cfg.name, "--host", "0.0.0.0"])
    assert code == 1 and "loopback only" in err and out == ""
    code, _, err = run_task(["local.serve", "--env", cfg.name, "--port", str(http.port)])
    assert code == 1 and "already in use" in err
    code, _, err = run_task(["local.serve", "--env", "dev"])
    assert code == 1 and "real AWS" in err


@pytest.mark.parametrize(
    "value,message",
    [
        ("abc", "--port 'abc' is not a number"),
        ("1.5", "--port '1.5' is not a number"),
        ("", "--port '' is not a number"),
        ("-1", "--port -1 is not a TCP port: use 1-65535"),
        ("0", "--port 0 is not a TCP port"),
        ("70000", "--port 70000 is not a TCP port"),
    ],
)
def test_local_serve_port_is_checked_before_anything_else(value, message):
    # 'dev' is a real AWS environment: a check that ran after loading it or calling out would say so instead.
    code, out, err = run_task(["local.serve", "--env", "dev", "--port", value])
    assert code == 1 and out == "" and message in err
    assert "Traceback" not in err and "real AWS" not in err
