"""A handler reload (`inv watch` -> a running `inv local.serve`) never runs while a call is using the handler."""

import threading
import time
import types

from tmkit import hotreload


def test_a_reload_waits_for_the_calls_in_flight_and_later_calls_get_the_new_handler(monkeypatch):
    events: list[str] = []
    tokens = iter(["t1"] + ["t2"] * 100)
    monkeypatch.setattr(hotreload, "_token", lambda env: next(tokens))

    def reload_handler():
        events.append("reload")
        return "new handler"

    monkeypatch.setattr(hotreload, "reload_handler", reload_handler)
    serve = types.SimpleNamespace(
        cfg=types.SimpleNamespace(name="local"), app="old handler", _reload_token="t1", say=lambda m: None
    )
    started, release = threading.Event(), threading.Event()

    def slow_call():
        with hotreload.invoking(serve) as app:  # token t1: no reload; holds the handler
            events.append(f"call with {app}")
            started.set()
            release.wait(5)
            events.append("call done")

    caller = threading.Thread(target=slow_call)
    caller.start()
    assert started.wait(5)
    got: list[str] = []
    second = threading.Thread(target=lambda: got.append(hotreload.current(serve)))  # token t2: reload
    second.start()
    time.sleep(0.3)
    assert "reload" not in events  # waiting for the call in flight
    release.set()
    caller.join(5)
    second.join(5)
    assert events == ["call with old handler", "call done", "reload"]
    assert got == ["new handler"]
    with hotreload.invoking(serve) as app:
        assert app == "new handler"
