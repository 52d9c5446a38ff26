"""What Lambda and API Gateway write to CloudWatch Logs, written by `inv local.serve` to the emulator's CloudWatch Logs.

Each API call through the local server leaves in the log groups the stack outputs name (so `inv logs --env local`
reads them by the same FilterLogEvents calls as on AWS, see tmkit/logs.py):
- ``ApiLogGroupName``: the Lambda runtime's ``START`` line, the handler's own log lines (Powertools JSON, captured
  from its logger in the calling thread), ``END`` and ``REPORT`` with the duration, in one PutLogEvents per call;
- ``ApiAccessLogGroupName``: one JSON line in the stage's access log format (infra/components/api.py:
  ``json_with_standard_fields``).
Streams are per server process, as Lambda's are per container. A failing sink never fails the request: it says so
once and the API answers as usual. See docs/deploying.md, "The daily loop".
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from tmkit.config import EnvConfig

MAX_MESSAGE_BYTES = 256 * 1024 - 26  # PutLogEvents: an event is at most 256 KiB including 26 bytes of overhead
MAX_BATCH_EVENTS = 10_000


class _Capture(logging.Handler):
    """Collects the records of the thread that started a capture (the request thread); others pass by."""

    def __init__(self, formatter: logging.Formatter | None):
        super().__init__()
        self.setFormatter(formatter)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        lines = getattr(self.local, "lines", None)
        if lines is not None:
            try:
                lines.append((int(record.created * 1000), self.format(record)))
            except Exception:  # noqa: BLE001  (logging must never break the request)
                self.handleError(record)


def _capture_for(app) -> _Capture:
    """The capture handler on the handler module's logger (added once; a reloaded module reuses it)."""
    logger = logging.getLogger(app.logger.name)
    for handler in logger.handlers:
        if isinstance(handler, _Capture):
            return handler
    handler = _Capture(app.logger.registered_formatter)
    logger.addHandler(handler)
    return handler


class LogSink:
    def __init__(self, cfg: EnvConfig, outputs: dict[str, str], say: Callable[[str], None]):
        from tmkit.aws import client

        self.say = say
        fallback = f"/aws/lambda/{outputs['ApiFunctionName']}" if outputs.get("ApiFunctionName") else None
        self.function_group = outputs.get("ApiLogGroupName") or fallback
        self.access_group = outputs.get("ApiAccessLogGroupName")
        if not self.function_group:
            say(
                f"`inv logs` will not see this server's calls: stack {cfg.stack_name} has no ApiLogGroupName output. "
                f"Redeploy it with `inv deploy --env {cfg.name}`."
            )
        self.logs = client(cfg, "logs", max_pool=20)
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        self.function_stream = f"{day}/[$LATEST]{secrets.token_hex(16)}"
        self.access_stream = secrets.token_hex(16)
        self._ready: set[str] = set()
        self._failed: set[str] = set()
        self._lock = threading.Lock()

    def put(self, group: str | None, stream: str, events: list[tuple[int, str]]) -> None:
        """PutLogEvents of ``events`` (ms, text) in time order; creates the group (as Lambda does) and stream."""
        if not group or not events:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        batch = [
            {"timestamp": ts, "message": text.encode()[:MAX_MESSAGE_BYTES].decode(errors="ignore")}
            for ts, text in sorted(events, key=lambda e: e[0])[:MAX_BATCH_EVENTS]
        ]
        try:
            self._ensure(group, stream)
            self.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
        except (BotoCoreError, ClientError) as exc:
            with self._lock:
                first = group not in self._failed
                self._failed.add(group)
                self._ready.discard(group)
            if first:
                self.say(f"could not write the API's logs to {group} on the emulator ({exc}); the API still answers.")

    def _ensure(self, group: str, stream: str) -> None:
        from botocore.exceptions import ClientError

        with self._lock:
            if group in self._ready:
                return
        try:
            self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ResourceNotFoundException":
                self._ignore_exists(self.logs.create_log_group, logGroupName=group)
                self._ignore_exists(self.logs.create_log_stream, logGroupName=group, logStreamName=stream)
            elif code != "ResourceAlreadyExistsException":
                raise
        with self._lock:
            self._ready.add(group)
            self._failed.discard(group)

    @staticmethod
    def _ignore_exists(call, **kwargs) -> None:
        from botocore.exceptions import ClientError

        try:
            call(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
                raise

    # -- one invocation ---------------------------------------------------------------------------
    def call(self, app, event: dict) -> dict:
        """``app.handler(event)`` as Lambda behind API Gateway runs it, with what both would log."""
        capture = _capture_for(app)
        context = app.LocalContext()
        rid = context.aws_request_id
        started = time.time()
        lines = [(int(started * 1000), f"START RequestId: {rid} Version: $LATEST")]
        capture.local.lines = lines
        out = None
        try:
            out = app.handler(event, context)
            return out
        except Exception as exc:
            lines.append((int(time.time() * 1000), f"[ERROR] {type(exc).__name__}: {exc}"))
            raise
        finally:
            capture.local.lines = None
            ended = time.time()
            ms = (ended - started) * 1000
            lines.append((int(ended * 1000), f"END RequestId: {rid}"))
            lines.append(
                (
                    int(ended * 1000),
                    f"REPORT RequestId: {rid}\tDuration: {ms:.2f} ms\tBilled Duration: {max(1, round(ms + 0.5))} ms"
                    f"\tMemory Size: {app.LocalContext.memory_limit_in_mb} MB\t",
                )
            )
            self.put(self.function_group, self.function_stream, lines)
            self.put(self.access_group, self.access_stream, [(int(ended * 1000), access_line(event, out))])


def access_line(event: dict, out: dict | None) -> str:
    """The stage's access log line (``AccessLogFormat.json_with_standard_fields``) for one request; ``out`` is the
    function's answer (None: it failed, API Gateway answers 502)."""
    ctx = event.get("requestContext") or {}
    status = int(out.get("statusCode", 502)) if isinstance(out, dict) else 502
    response_length = len(out.get("body") or "") if isinstance(out, dict) else 0
    return json.dumps(
        {
            "requestId": ctx.get("requestId", "-"),
            "ip": (ctx.get("identity") or {}).get("sourceIp", "-"),
            "user": "-",
            "requestTime": datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "httpMethod": event.get("httpMethod", "-"),
            "resourcePath": ctx.get("resourcePath") or event.get("resource") or "-",
            "status": str(status),
            "protocol": "HTTP/1.1",
            "responseLength": str(response_length),
        }
    )


_sinks_lock = threading.Lock()


def invoke(serve, event: dict) -> dict:
    """The local server's call of the API handler (the hook in tmkit/localserve.py): the current handler module
    (reloaded when `inv watch` asks, tmkit/hotreload.py), run with the logs Lambda and API Gateway would write."""
    from tmkit import hotreload

    with _sinks_lock:
        sink = getattr(serve, "_log_sink", None)
        if sink is None:
            sink = serve._log_sink = LogSink(serve.cfg, serve.outputs, serve.say)
    with contextlib.ExitStack() as held:
        try:
            app = held.enter_context(hotreload.invoking(serve))  # no reload while this call runs
        except Exception as exc:  # the changed code does not import: what Lambda logs, then API Gateway's 502
            now = int(time.time() * 1000)
            sink.put(sink.function_group, sink.function_stream, [(now, import_error_line(exc))])
            sink.put(sink.access_group, sink.access_stream, [(now, access_line(event, None))])
            raise
        return sink.call(app, event)


def import_error_line(exc: Exception) -> str:
    return f"[ERROR] Runtime.ImportModuleError: Unable to import module 'app': {type(exc).__name__}: {exc}"
