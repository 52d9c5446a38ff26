"""`inv logs --env local`: API calls through `inv local.serve` land in the emulator's CloudWatch Logs (tmkit/logsink.py)
and `inv logs` reads them back by the same FilterLogEvents path as on AWS (tmkit/logs.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from invoke import Collection, Program

from tests.helpers import free_port
from tests.integration.test_localserve import PASSWORD, Http, emulator_env, make_local_stack, sign_in
from tmkit import localserve
from tmkit.aws import client
from tmkit.local_users import create_user
from tmkit.tasks.logs import logs as logs_task

ALICE = "alice@example.com"


def add_log_groups(cfg, outputs: dict[str, str]) -> dict[str, str]:
    """Redeploy the stack with the API's two log groups and the outputs that name them, as the real stack has."""
    outputs = {**outputs, "ApiFunctionName": f"{cfg.stack_name}-api"}
    template = {
        "Resources": {
            "Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"},
            "FunctionLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": f"/aws/lambda/{cfg.stack_name}-api"},
            },
            "AccessLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
        },
        "Outputs": {
            **{k: {"Value": v} for k, v in outputs.items()},
            "ApiLogGroupName": {"Value": {"Ref": "FunctionLogs"}},
            "ApiAccessLogGroupName": {"Value": {"Ref": "AccessLogs"}},
        },
    }
    client(cfg, "cloudformation").update_stack(StackName=cfg.stack_name, TemplateBody=json.dumps(template))
    from tmkit.outputs import stack_outputs

    return stack_outputs(cfg)


def inv_logs(capsys, *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        Program(namespace=Collection(logs_task), binary="inv").run(["inv", "logs", *argv])
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("logs")
    with emulator_env(tmp) as cfg:
        outputs = add_log_groups(cfg, make_local_stack(cfg))
        create_user(cfg, ALICE, PASSWORD)
        log: list[str] = []
        serve = localserve.prepare(cfg)
        serve.say = log.append
        with serve.running(free_port()) as server:
            yield cfg, outputs, Http(server.server_address[1]), log


def test_the_outputs_name_existing_groups(served):
    cfg, outputs, _, _ = served
    groups = {g["logGroupName"] for g in client(cfg, "logs").describe_log_groups()["logGroups"]}
    assert {outputs["ApiLogGroupName"], outputs["ApiAccessLogGroupName"]} <= groups


def test_an_api_call_appears_in_inv_logs(served, capsys, monkeypatch):
    cfg, outputs, http, log = served
    assert http.json("GET", "/api/health") == (200, {"status": "ok", "environment": cfg.name})
    code, out, err = inv_logs(capsys, "--env", cfg.name, "--since", "5m")
    assert code == 0, err
    lines = out.splitlines()
    access = [line for line in lines if " ACCESS " in line and "GET /health" in line]
    assert access and " 200 " in access[-1]
    assert any(line.split()[1] == "START" for line in lines)
    report = [line for line in lines if line.split()[1] == "REPORT"]
    assert report and report[-1].split()[-1].endswith("ms")  # the duration column
    assert [line[:24] for line in lines] == sorted(line[:24] for line in lines)  # interleaved in time order
    assert not any("could not write" in line for line in log)


def test_handler_lines_share_the_request_id_of_the_access_log(served, capsys):
    cfg, outputs, http, _ = served
    token = sign_in(http, outputs["UserPoolClientId"], ALICE)["IdToken"]
    status, body = http.json("GET", "/api/integrations/STRIPE_KEY", token=token)
    assert status == 503, body
    code, out, err = inv_logs(capsys, "--env", cfg.name, "--json", "--filter", "/integrations/STRIPE_KEY")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    access = [e for e in events if e["logGroupName"] == outputs["ApiAccessLogGroupName"]]
    assert len(access) == 1 and json.loads(access[0]["message"])["status"] == "503"
    request_id = json.loads(access[0]["message"])["requestId"]

    code, out, err = inv_logs(capsys, "--env", cfg.name, "--request-id", request_id)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and all(request_id in line for line in lines), out
    assert any(" ERROR " in line and "secret not configured" in line for line in lines), out
    # The handler's line shows the request's method, path and status, taken from the access log line.
    assert any(" ERROR " in line and "GET /integrations/STRIPE_KEY" in line and " 503 " in line for line in lines), out
    assert any(" ACCESS " in line and " 503 " in line for line in lines), out


def test_follow_prints_new_calls_once(served, capsys):
    from tmkit import logs

    cfg, _, http, _ = served
    printed: list[str] = []
    polls = iter(range(3))

    def sleep(_seconds):
        if next(polls) == 0:
            http.json("GET", "/api/health?follow=1")

    since = datetime.now(UTC).isoformat()  # after the other tests' calls
    logs.show(cfg, since=since, follow=True, out=printed.append, say=lambda _m: None, sleep=sleep, polls=3)
    access = [p for p in printed if " ACCESS " in p]
    assert (
        len(access) == 1 and "GET /health" in access[0]
    )  # the call made between two polls, printed once although polls overlap


def test_errors(served, capsys, tmp_path):
    cfg, _, _, _ = served
    code, _, err = inv_logs(capsys, "--env", cfg.name, "--since", "yesterday")
    assert code == 1 and "--since 'yesterday'" in err and "10m" in err
    code, _, err = inv_logs(capsys, "--env", "nosuchenv")
    assert code == 1 and "nosuchenv" in err
    code, out, err = inv_logs(capsys, "--env", cfg.name, "--filter", "no-such-text-anywhere")
    assert code == 0 and out == "" and "no log events" in err


def test_follow_stops_on_ctrl_c_with_130(served, capsys, monkeypatch):
    from tmkit import logs

    cfg, _, _, _ = served

    def interrupt(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(logs.time, "sleep", interrupt)
    code, _, err = inv_logs(capsys, "--env", cfg.name, "--follow", "--since", "1s")
    assert code == 130 and "interrupted" in err and "Traceback" not in err


def test_a_stack_not_deployed(served, capsys):
    import os
    from pathlib import Path

    cfg, _, _, _ = served
    envs = Path(os.environ["TM_ENVS_DIR"])
    (envs / "other.toml").write_text((envs / f"{cfg.name}.toml").read_text())
    code, out, err = inv_logs(capsys, "--env", "other")
    assert code == 1 and out == ""
    assert "stack TimeManagement-other is not deployed: run `inv deploy --env other` first" in err
