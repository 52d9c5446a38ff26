"""`inv logs`: the API's CloudWatch logs (the Lambda's group and API Gateway's access log) in one time-ordered view.

The log groups are the ones the stack outputs name (``ApiLogGroupName``, ``ApiAccessLogGroupName``); events come
from FilterLogEvents, the same calls against AWS and against the emulator (where ``inv local.serve`` writes them,
see tmkit/logsink.py). Each event becomes one readable line: time, level, request id, method and path, status,
duration, message. Log text is untrusted: control characters (ANSI escapes, C1) and characters that reorder or hide
text (bidirectional overrides, zero-width) are removed before it reaches the terminal.
See docs/deploying.md, "The daily loop".
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tmkit.config import EnvConfig
from tmkit.errors import ToolkitError

OUTPUT_KEYS = ("ApiLogGroupName", "ApiAccessLogGroupName")
DEFAULT_SINCE = "10m"
POLL_SECONDS = 2.0  # --follow: one FilterLogEvents round per group this often
# CloudWatch may deliver an event some seconds after its timestamp: --follow re-reads this much and drops repeats.
LATE_MS = 60_000
MAX_EVENTS = 10_000  # per call of `fetch`; more means: narrow --since or --filter
MAX_TERM = 256
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Shown text also loses what reorders or hides characters (bidirectional overrides and isolates, zero-width
# characters, the byte order mark); Unicode line and paragraph separators are line breaks.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_REPORT = re.compile(r"^(START|END|REPORT) RequestId: (\S+)(.*)$", re.S)
_DURATION = re.compile(r"\bDuration: ([0-9]{1,12}(?:\.[0-9]{1,6})?) ms")  # the runtime's; anything else: no duration


class NoLogGroup(ToolkitError):
    """None of the stack's log groups exists yet."""


# ---- input ---------------------------------------------------------------------------------------------
def parse_since(text: str, now: datetime) -> int:
    """``--since``: ``30s``, ``10m``, ``2h``, ``1d`` before ``now``, or an ISO 8601 time (UTC unless it says).

    Returns epoch milliseconds.
    """
    value = (text or "").strip()
    match = re.fullmatch(r"(\d{1,7})\s*([smhd])", value.lower())
    try:
        if match:
            start = now - timedelta(seconds=int(match[1]) * _UNITS[match[2]])
        else:
            start = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
            if start.tzinfo is None:
                start = start.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        start = None
    if start is None:
        raise ToolkitError(
            f"--since {text!r} is not a duration or a time: use e.g. --since 30s, 10m, 2h, 1d, "
            "or an ISO 8601 time such as 2026-01-31T09:00:00Z."
        )
    if start > now:
        raise ToolkitError(f"--since {text!r} is in the future: give a time before now (e.g. --since 10m).")
    return max(0, int(start.timestamp() * 1000))  # before 1970: from the start (FilterLogEvents refuses < 0)


def search_terms(filter_text: str | None, request_id: str | None) -> list[str]:
    """The terms every shown event must contain (exact, case-sensitive, as a quoted CloudWatch term)."""
    terms = []
    for flag, term in (("--filter", filter_text), ("--request-id", request_id)):
        if term is None:
            continue
        if not term.strip() or len(term) > MAX_TERM or _CONTROL.search(term):
            raise ToolkitError(
                f"{flag} {term[:40]!r} is not usable: give 1-{MAX_TERM} printable characters "
                "(the text to find, matched exactly and case-sensitively)."
            )
        terms.append(term)
    return terms


def server_pattern(terms: list[str]) -> str | None:
    """The FilterLogEvents pattern: one quoted term (the most selective, the last given); the others, and a term
    with quotes or backslashes, are checked here too (``matches``), so the result is the same everywhere."""
    plain = [t for t in terms if '"' not in t and "\\" not in t]
    return f'"{plain[-1]}"' if plain else None


def matches(message: str, terms: list[str]) -> bool:
    return all(t in message for t in terms)


def log_groups(cfg: EnvConfig, outputs: dict[str, str]) -> list[str]:
    groups = [outputs[k] for k in OUTPUT_KEYS if outputs.get(k)]
    if not groups:
        raise ToolkitError(
            f"stack {cfg.stack_name} has no {OUTPUT_KEYS[0]} output (it was deployed by an older version): "
            f"redeploy it with `inv deploy --env {cfg.name}`, then retry."
        )
    return groups


# ---- reading -----------------------------------------------------------------------------------------
def fetch(
    logs, groups: list[str], start_ms: int, terms: list[str], *, end_ms: int | None = None, say=None
) -> list[dict]:
    """Events of ``groups`` from ``start_ms`` that contain every term, in time order (``logGroupName`` added).

    Raises NoLogGroup when none of the groups exists.
    """
    from botocore.exceptions import ClientError

    pattern = server_pattern(terms)
    found: list[tuple[int, int, int, dict]] = []
    missing = []
    for rank, group in enumerate(groups):
        params = {"logGroupName": group, "startTime": start_ms}
        if end_ms is not None:
            params["endTime"] = end_ms
        if pattern:
            params["filterPattern"] = pattern
        count = 0
        try:
            for page in logs.get_paginator("filter_log_events").paginate(**params):
                for event in page.get("events", []):
                    if matches(event.get("message", ""), terms):
                        found.append((event.get("timestamp", 0), rank, count, {**event, "logGroupName": group}))
                        count += 1
                if count >= MAX_EVENTS:
                    if say:
                        say(f"{group}: stopped after {MAX_EVENTS} events; narrow --since or add --filter.")
                    break
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            missing.append(group)
    if missing and len(missing) == len(groups):
        raise NoLogGroup(
            f"no invocations yet: the log group {missing[0]} does not exist (it appears with the API's first "
            "log line). Call the API, then retry."
        )
    found.sort(key=lambda item: item[:3])
    return [item[3] for item in found]


# ---- one readable line per event ------------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    time: str
    level: str = "-"
    request_id: str = "-"
    request: str = "-"  # method and path
    status: str = "-"
    duration: str = "-"
    message: str = ""

    def render(self) -> str:
        return (
            f"{self.time} {self.level:<7} {self.request_id:<36} {self.request:<24} {self.status:>3} "
            f"{self.duration:>9}  {self.message}"
        ).rstrip()


def clean(text: object) -> str:
    """One line of printable text: line breaks become ' | '; control characters (ANSI escapes) and invisible
    reordering characters go."""
    text = re.sub("\r\n|[\n\u2028\u2029]", " | ", str(text).strip())
    return _INVISIBLE.sub("", _CONTROL.sub("", text))


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_event(event: dict, requests: dict[str, tuple[str, str]] | None = None) -> Line:
    """An event of either group as a Line: Powertools JSON, the access log's JSON, or the Lambda runtime's
    START/END/REPORT lines; anything else is shown as its text. ``requests`` ({request id: (method and path,
    status)}, from the access log, see ``request_index``) fills in those columns of the handler's own lines."""
    when = _time(int(event.get("timestamp", 0)))
    text = str(event.get("message", "")).strip()
    record = None
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except ValueError:
            record = None
    if isinstance(record, dict) and "httpMethod" in record:  # API Gateway access log (json_with_standard_fields)
        return Line(
            when,
            "ACCESS",
            clean(record.get("requestId") or "-"),
            clean(f"{record.get('httpMethod', '')} {record.get('resourcePath', '')}".strip() or "-"),
            clean(record.get("status") or "-"),
            message=clean(f"{record.get('responseLength', '-')} bytes from {record.get('ip', '-')}"),
        )
    if isinstance(record, dict) and "message" in record:  # Powertools
        message = clean(record.get("message"))
        if record.get("exception"):
            last = str(record["exception"]).strip().splitlines()[-1:]
            message += f" ({clean(last[0])})" if last else ""
        rid = clean(record.get("correlation_id") or record.get("function_request_id") or "-")
        request, status = (requests or {}).get(rid, ("-", "-"))
        return Line(when, clean(record.get("level") or "-"), rid, request, status, message=message)
    report = _REPORT.match(text)
    if report:
        kind, rid, rest = report.groups()
        duration = _DURATION.search(rest)
        return Line(
            when,
            kind,
            clean(rid),
            duration=f"{float(duration[1]):.1f}ms" if duration else "-",
            message=clean(rest.strip()) if kind != "REPORT" else "",
        )
    return Line(when, message=clean(text))


def request_index(events: Iterable[dict]) -> dict[str, tuple[str, str]]:
    """{request id: (method and path, status)} of the access log events among ``events``."""
    found = {}
    for event in events:
        text = str(event.get("message", "")).strip()
        if text.startswith("{") and '"httpMethod"' in text:
            line = parse_event(event)
            if line.level == "ACCESS":
                found[line.request_id] = (line.request, line.status)
    return found


def render(event: dict, as_json: bool, requests: dict[str, tuple[str, str]] | None = None) -> str:
    return json.dumps(event, sort_keys=True) if as_json else parse_event(event, requests).render()


# ---- the task ----------------------------------------------------------------------------------------------
def show(
    cfg: EnvConfig,
    *,
    since: str = DEFAULT_SINCE,
    filter_text: str | None = None,
    request_id: str | None = None,
    as_json: bool = False,
    follow: bool = False,
    out: Callable[[str], None],
    say: Callable[[str], None],
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    polls: int | None = None,
) -> int:
    """Print the events since ``since`` (and with ``follow``, new ones until Ctrl-C or ``polls`` rounds).

    Returns how many events were printed.
    """
    from tmkit.aws import aws_errors, client
    from tmkit.outputs import stack_outputs

    clock, sleep = clock or time.time, sleep or time.sleep
    start = parse_since(since, datetime.fromtimestamp(clock(), UTC))
    terms = search_terms(filter_text, request_id)
    groups = log_groups(cfg, stack_outputs(cfg))
    logs = client(cfg, "logs")
    shown = 0
    seen: dict[str, int] = {}  # eventId -> timestamp, for the --follow overlap
    rounds = 0
    while True:
        with aws_errors(cfg, f"reading the logs of {cfg.stack_name}"):
            try:
                events = fetch(logs, groups, start, terms, say=say)
            except NoLogGroup as exc:
                if not follow:
                    raise
                if rounds == 0:
                    say(f"{exc} Waiting for it (Ctrl-C stops).")
                events = []
        requests = {} if as_json else request_index(events)
        for event in _new(events, seen):
            out(render(event, as_json, requests))
            shown += 1
        if not follow:
            if not shown:
                say(f"no log events in {', '.join(groups)} since {_time(start)}.")
            return shown
        rounds += 1
        if polls is not None and rounds >= polls:
            return shown
        latest = max(seen.values(), default=start)
        start = max(start, latest - LATE_MS)
        for key in [k for k, ts in seen.items() if ts < start]:
            del seen[key]
        sleep(POLL_SECONDS)


def _new(events: Iterable[dict], seen: dict[str, int]) -> Iterable[dict]:
    for event in events:
        key = event.get("eventId") or f"{event.get('logGroupName')}/{event.get('timestamp')}/{event.get('message')}"
        if key not in seen:
            seen[key] = int(event.get("timestamp", 0))
            yield event
