"""`inv logs`: the API's logs (Lambda + API Gateway access log) of any environment, in time order. Work: tmkit/logs.py."""

from tmkit.tasks._base import load, tm_task


@tm_task(
    help={
        "since": "how far back: 30s, 10m, 2h, 1d or an ISO 8601 time (default 10m)",
        "follow": "keep printing new events until Ctrl-C",
        "filter": "show only events containing this text (exact, case-sensitive)",
        "request_id": "show only the events of this request id",
        "json": "print the raw CloudWatch events as JSON lines on stdout",
    }
)
def logs(c, env=None, since="10m", follow=False, filter=None, request_id=None, json=False):
    """Show the API's logs (Lambda and access log) interleaved in time order; works on the emulator too."""
    from tmkit import logs as logs_
    from tmkit.ui import data, say

    logs_.show(
        load(env),
        since=since,
        filter_text=filter,
        request_id=request_id,
        as_json=json,
        follow=follow,
        out=data,
        say=say,
    )
