"""tmkit/logsink.py without the emulator: what one call of the handler writes to each log group (puts recorded)."""

from __future__ import annotations

import json
import types

import pytest
from aws_lambda_powertools import Logger

from tmkit import hotreload, logsink
from tmkit.config import load_env

EVENT = {
    "httpMethod": "GET",
    "resource": "/tasks",
    "requestContext": {"requestId": "api-req-1", "resourcePath": "/tasks", "identity": {"sourceIp": "127.0.0.1"}},
}


class Context:
    memory_limit_in_mb = 128

    def __init__(self):
        self.aws_request_id = "fn-req-1"


def fake_app(handler):
    logger = Logger(service="tm-logsink-test")
    return types.SimpleNamespace(logger=logger, LocalContext=Context, handler=handler(logger))


@pytest.fixture
def sink():
    outputs = {"ApiLogGroupName": "/aws/lambda/fn", "ApiAccessLogGroupName": "access"}
    sink = logsink.LogSink(load_env("local"), outputs, say=lambda _m: None)
    sink.puts = []
    sink.put = lambda group, stream, events: sink.puts.append((group, [text for _, text in events]))
    return sink


def test_a_call_writes_the_runtime_lines_the_handler_lines_and_the_access_line(sink):
    def handler(logger):
        def handle(event, context):
            logger.warning("listing tasks")
            return {"statusCode": 200, "body": "[1, 2]"}

        return handle

    out = sink.call(fake_app(handler), EVENT)
    assert out["statusCode"] == 200
    (group, lines), (access_group, access) = sink.puts
    assert group == "/aws/lambda/fn" and access_group == "access"
    assert lines[0] == "START RequestId: fn-req-1 Version: $LATEST"
    assert json.loads(lines[1])["message"] == "listing tasks" and json.loads(lines[1])["level"] == "WARNING"
    assert lines[2] == "END RequestId: fn-req-1"
    assert lines[3].startswith("REPORT RequestId: fn-req-1\tDuration: ") and "Billed Duration" in lines[3]
    record = json.loads(access[0])
    assert record == {**record, "requestId": "api-req-1", "httpMethod": "GET", "resourcePath": "/tasks"}
    assert (record["status"], record["responseLength"]) == ("200", "6")
    # The keys of the stage's access log format (AccessLogFormat.json_with_standard_fields, caller=False).
    assert set(record) == {
        "requestId", "ip", "user", "requestTime", "httpMethod", "resourcePath", "status", "protocol", "responseLength"
    }  # fmt: skip


def test_lines_of_other_threads_are_not_captured(sink):
    import threading

    def handler(logger):
        def handle(event, context):
            other = threading.Thread(target=lambda: logger.info("from another thread"))
            other.start()
            other.join()
            logger.info("from the call")
            return {"statusCode": 204}

        return handle

    app = fake_app(handler)
    capture = logsink._capture_for(app)
    assert logsink._capture_for(app) is capture  # one capture handler per logger
    app.logger.info("outside any call")
    sink.call(app, EVENT)
    text = "\n".join(sink.puts[0][1])
    assert "from the call" in text and "from another thread" not in text and "outside any call" not in text


def test_a_crash_is_logged_and_the_access_line_says_502(sink):
    def handler(logger):
        def handle(event, context):
            raise RuntimeError("boom")

        return handle

    with pytest.raises(RuntimeError):
        sink.call(fake_app(handler), EVENT)
    lines = sink.puts[0][1]
    assert "[ERROR] RuntimeError: boom" in lines and lines[-1].startswith("REPORT")
    assert json.loads(sink.puts[1][1][0])["status"] == "502"


def test_code_that_does_not_import_is_logged_as_lambda_does(sink, monkeypatch):
    def broken(_serve):
        raise SyntaxError("invalid syntax (app.py, line 3)")

    monkeypatch.setattr(hotreload, "current", broken)
    serve = types.SimpleNamespace(_log_sink=sink)
    with pytest.raises(SyntaxError):
        logsink.invoke(serve, EVENT)
    assert sink.puts[0] == (
        "/aws/lambda/fn",
        [
            "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': SyntaxError: invalid syntax (app.py, line 3)"
        ],
    )
    assert json.loads(sink.puts[1][1][0])["status"] == "502"


def test_without_the_outputs_the_function_group_comes_from_the_function_name():
    said: list[str] = []
    cfg = load_env("local")
    assert logsink.LogSink(cfg, {"ApiFunctionName": "f"}, said.append).function_group == "/aws/lambda/f"
    assert logsink.LogSink(cfg, {}, said.append).function_group is None
    assert any("has no ApiLogGroupName output" in line for line in said)
