"""tmkit/logs.py: --since, search terms, one readable line per event, time-ordered reads across groups (moto)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from tmkit import logs
from tmkit.errors import ToolkitError

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), (" 5M ", 300), ("0s", 0)]
)
def test_since_durations(text, seconds):
    assert logs.parse_since(text, NOW) == NOW_MS - seconds * 1000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T11:00:00Z", datetime(2026, 3, 1, 11, tzinfo=UTC)),
        ("2026-03-01T11:00:00", datetime(2026, 3, 1, 11, tzinfo=UTC)),  # no zone: UTC
        ("2026-03-01T12:30:00+02:00", datetime(2026, 3, 1, 10, 30, tzinfo=UTC)),
        ("2026-02-28", datetime(2026, 2, 28, tzinfo=UTC)),
    ],
)
def test_since_iso_times(text, expected):
    assert logs.parse_since(text, NOW) == int(expected.timestamp() * 1000)


@pytest.mark.parametrize("text", ["", "yesterday", "10", "10y", "-5m", "2026-13-01", "99999999d", "m10"])
def test_since_refuses_what_it_cannot_read(text):
    with pytest.raises(ToolkitError, match=r"--since .* use e.g. --since 30s, 10m, 2h, 1d"):
        logs.parse_since(text, NOW)


def test_since_refuses_the_future():
    with pytest.raises(ToolkitError, match="in the future"):
        logs.parse_since("2026-03-02T00:00:00Z", NOW)


def test_terms_and_the_server_pattern():
    assert logs.search_terms(None, None) == []
    terms = logs.search_terms("GET /tasks", "abc-123")
    assert terms == ["GET /tasks", "abc-123"]
    assert logs.server_pattern(terms) == '"abc-123"'  # one quoted term (the emulator understands only one)
    assert logs.server_pattern(['say "hi"']) is None  # quotes: matched here only
    assert logs.matches("x GET /tasks abc-123", terms) and not logs.matches("GET /tasks", terms)
    for bad in ("", "   ", "a\x1b[31mb", "x" * 300):
        with pytest.raises(ToolkitError, match="--filter"):
            logs.search_terms(bad, None)


@pytest.mark.parametrize("junk", ["", " ", "id\x00", "id\x1b[2J", "r" * 257, "\x9b31m"])
def test_request_id_junk_is_refused_naming_the_flag(junk):
    with pytest.raises(ToolkitError, match=r"--request-id .* is not usable: give 1-256 printable characters"):
        logs.search_terms(None, junk)


def test_terms_with_quotes_or_backslashes_are_matched_here_not_sent_to_cloudwatch():
    terms = logs.search_terms('say "hi"', "a\\b")
    assert logs.server_pattern(terms) is None
    assert logs.matches('x say "hi" a\\b', terms) and not logs.matches("say hi a\\b", terms)


def test_log_groups_need_the_outputs(tmp_path):
    from tmkit.config import load_env

    cfg = load_env("dev")
    assert logs.log_groups(cfg, {"ApiLogGroupName": "/aws/lambda/f", "ApiAccessLogGroupName": "acc"}) == [
        "/aws/lambda/f",
        "acc",
    ]
    with pytest.raises(ToolkitError, match="no ApiLogGroupName output.*inv deploy --env dev"):
        logs.log_groups(cfg, {"TableName": "t"})


# ---- one readable line per event -------------------------------------------------------------------------
def ev(message, ts=NOW_MS, group="/aws/lambda/f"):
    return {"timestamp": ts, "message": message, "logGroupName": group, "eventId": str(ts)}


def test_powertools_line():
    msg = json.dumps(
        {
            "level": "ERROR",
            "message": "secret not configured",
            "timestamp": "2026-03-01 12:00:00,000+0000",
            "correlation_id": "req-1",
            "function_request_id": "fn-1",
            "exception": "Traceback (most recent call last):\n  ...\nKeyError: 'x'",
        }
    )
    line = logs.parse_event(ev(msg))
    assert (line.time, line.level, line.request_id) == ("2026-03-01T12:00:00.000Z", "ERROR", "req-1")
    assert line.message == "secret not configured (KeyError: 'x')"
    assert "\n" not in line.render()


def test_access_log_line():
    msg = json.dumps(
        {
            "requestId": "req-2",
            "ip": "1.2.3.4",
            "httpMethod": "POST",
            "resourcePath": "/tasks",
            "status": "201",
            "responseLength": "57",
        }
    )
    line = logs.parse_event(ev(msg))
    assert (line.level, line.request_id, line.request, line.status) == ("ACCESS", "req-2", "POST /tasks", "201")
    rendered = line.render()
    assert "POST /tasks" in rendered and " 201 " in rendered and "57 bytes" in rendered


def test_handler_lines_get_method_path_and_status_from_the_access_log():
    access = ev(json.dumps({"requestId": "req-9", "httpMethod": "PUT", "resourcePath": "/tasks/{id}", "status": "404"}))
    handler = ev(json.dumps({"level": "WARNING", "message": "not found", "correlation_id": "req-9"}))
    other = ev(json.dumps({"level": "INFO", "message": "x", "correlation_id": "req-other"}))
    requests = logs.request_index([handler, access, other])
    assert requests == {"req-9": ("PUT /tasks/{id}", "404")}
    line = logs.parse_event(handler, requests)
    assert (line.request, line.status, line.message) == ("PUT /tasks/{id}", "404", "not found")
    assert logs.parse_event(other, requests).request == "-"


def test_runtime_lines():
    report = logs.parse_event(
        ev("REPORT RequestId: fn-3\tDuration: 12.345 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t")
    )
    assert (report.level, report.request_id, report.duration) == ("REPORT", "fn-3", "12.3ms")
    start = logs.parse_event(ev("START RequestId: fn-3 Version: $LATEST\n"))
    assert (start.level, start.request_id, start.message) == ("START", "fn-3", "Version: $LATEST")


def test_untrusted_text_cannot_drive_the_terminal():
    line = logs.parse_event(ev("plain \x1b[2J\x1b]0;owned\x07text\nsecond line")).render()
    assert "\x1b" not in line and "\x07" not in line and "\n" not in line
    assert line.endswith("plain [2J]0;ownedtext | second line")


def test_text_that_reorders_or_hides_itself_is_shown_as_it_is_stored():
    # bidirectional overrides (the displayed order lies), zero-width characters, Unicode line separators,
    # and C1 controls such as CSI (U+009B, an escape sequence without ESC) in a message or a JSON field
    fields = json.dumps(
        {"level": "INFO\u202e", "message": "ok \u202egnp.exe\u202c \u2066x\u2069\u200b\u2028next\u009b2J"}
    )
    for message in ("ok \u202egnp.exe\u202c \u2066x\u2069\u200b\u2028next\u009b2J", fields):
        line = logs.parse_event(ev(message)).render()
        assert not any(c in line for c in "\u202e\u202c\u2066\u2069\u200b\u2028\u009b"), repr(line)
        assert "ok gnp.exe x | next2J" in line


@pytest.mark.parametrize("text", ["1900-01-01", "0001-01-01T00:00:00Z", "700000d"])
def test_since_before_1970_means_from_the_start(text):
    # FilterLogEvents refuses a negative startTime: anything before the epoch reads everything there is
    assert logs.parse_since(text, NOW) == 0


@pytest.mark.parametrize(
    "text",
    [
        "REPORT RequestId: x Duration: 1..2 ms",
        "REPORT RequestId: x Duration: . ms",
        "REPORT RequestId: x\tDuration: 1e999 ms",
        "START RequestId: \x1b[2J",
        '{"httpMethod": ["GET"], "status": {"a": 1}, "requestId": null}',
        '{"message": null, "level": 7, "exception": "   "}',
        '{"message": "x", "exception": {"not": "text"}}',
        "{not json",
        "[1, 2]",
    ],
)
def test_a_line_that_only_looks_like_a_known_format_is_shown_not_a_crash(text):
    # a handler can print anything: a line shaped like the runtime's REPORT or like JSON is still one line
    line = logs.parse_event(ev(text)).render()
    assert line.startswith("2026-03-01T12:00:00.000Z") and "\x1b" not in line


def test_json_output_is_the_raw_event():
    event = ev("START RequestId: a Version: $LATEST")
    assert json.loads(logs.render(event, as_json=True)) == event


# ---- reading several groups (moto in-process) -------------------------------------------------------------
@pytest.fixture
def cw(monkeypatch):
    from moto import mock_aws

    for k, v in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        import boto3

        client = boto3.client("logs", region_name="us-east-1")
        for group in ("fn", "access"):
            client.create_log_group(logGroupName=group)
            client.create_log_stream(logGroupName=group, logStreamName="s")
        yield client


T = int(time.time() * 1000) - 60_000  # CloudWatch refuses events older than 14 days


def put(client, group, *events):
    client.put_log_events(
        logGroupName=group, logStreamName="s", logEvents=[{"timestamp": ts, "message": m} for ts, m in events]
    )


def test_fetch_interleaves_groups_in_time_order_and_filters(cw):
    put(cw, "fn", (T + 1, "START RequestId: a"), (T + 3, "END RequestId: a"))
    put(cw, "access", (T - 5000, "too old"), (T + 2, '{"requestId": "r", "httpMethod": "GET"}'))
    events = logs.fetch(cw, ["fn", "access"], T - 1000, [])
    assert [(e["logGroupName"], e["timestamp"]) for e in events] == [
        ("fn", T + 1),
        ("access", T + 2),
        ("fn", T + 3),
    ]
    only = logs.fetch(cw, ["fn", "access"], T - 1000, logs.search_terms("RequestId", "END"))
    assert [e["message"] for e in only] == ["END RequestId: a"]


def test_fetch_without_any_group_says_no_invocations_yet(cw):
    assert logs.fetch(cw, ["fn", "missing"], T, []) == []  # one group is enough
    with pytest.raises(logs.NoLogGroup, match="no invocations yet: the log group missing does not exist"):
        logs.fetch(cw, ["missing"], T, [])
