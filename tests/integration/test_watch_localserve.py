"""`inv watch --env local` with `inv local.serve` running (emulator): a saved Lambda file is the code that answers
the next request, without a deploy; a broken save is reported and the fixed one is picked up. Bounded in time.

The Lambda source is a temporary copy (tmkit.paths.LAMBDA_DIR points at it), so the repository is never edited.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time

import pytest

from tests.helpers import free_port
from tests.integration.test_localserve import Http, emulator_env, make_local_stack
from tmkit import hotreload, localserve, paths, watch
from tmkit.watch_actions import Actions

DEADLINE = 30.0


def forget_handler_modules():
    for name in list(sys.modules):
        if name.split(".")[0] in ("app", "tm_api"):
            del sys.modules[name]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A repository-shaped tree whose lambda/api is a copy of the real one; the local server imports the copy."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(paths.LAMBDA_DIR, root / "lambda" / "api", ignore=shutil.ignore_patterns("__pycache__"))
    for d in ("infra", "envs", "frontend/src"):
        (root / d).mkdir(parents=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(paths, "LAMBDA_DIR", root / "lambda" / "api")
        forget_handler_modules()
        yield root
        forget_handler_modules()
        while str(root / "lambda" / "api") in sys.path:
            sys.path.remove(str(root / "lambda" / "api"))


@pytest.fixture(scope="module")
def served(repo, tmp_path_factory):
    with emulator_env(tmp_path_factory.mktemp("watch")) as cfg:
        make_local_stack(cfg)
        log: list[str] = []
        serve = localserve.prepare(cfg)
        serve.say = log.append
        with serve.running(free_port()) as server:
            yield cfg, serve, Http(server.server_address[1]), log


@pytest.fixture
def watching(repo, served):
    cfg, _, http, log = served
    said: list[str] = []
    done = threading.Event()
    actions = Actions(None, cfg, port=http.port, say=said.append)
    thread = threading.Thread(
        target=watch.run,
        args=(cfg, actions),
        kwargs={
            "root": repo,
            "env_file": repo / "envs" / f"{cfg.name}.toml",
            "say": said.append,
            "stop": done.is_set,
            "poll": 0.1,
        },
        daemon=True,
    )
    thread.start()
    time.sleep(0.5)  # the first snapshot
    yield said
    done.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def wait_for(predicate, what: str):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {DEADLINE}s: {what}")


def save_health(repo, status: str) -> None:
    """Save app.py with /health answering ``status``."""
    app = repo / "lambda" / "api" / "app.py"
    text = app.read_text()
    start = text.index('    return {"status": ', text.index('@app.get("/health")'))
    end = text.index("\n", start)
    app.write_text(
        f'{text[:start]}    return {{"status": "{status}", "environment": deps().settings.environment}}{text[end:]}'
    )


def test_a_saved_lambda_file_answers_the_next_request(repo, served, watching):
    cfg, _, http, _ = served
    assert http.json("GET", "/api/health")[1]["status"] == "ok"
    save_health(repo, "ok-v2")
    wait_for(lambda: http.json("GET", "/api/health") == (200, {"status": "ok-v2", "environment": cfg.name}), "v2")
    wait_for(lambda: any("runs the new handler" in line for line in watching), "watch reports the reload")
    assert any(line.startswith("lambda changed: reload the handler in local.serve") for line in watching)
    assert not any("deploy" in line for line in watching)  # the emulator's server reloads: no deploy


def test_a_broken_save_is_reported_and_the_fix_picked_up(repo, served, watching):
    cfg, _, http, log = served
    app = repo / "lambda" / "api" / "app.py"
    good = app.read_text()
    app.write_text(good + "\ndef broken(:\n")
    wait_for(lambda: any("fails to load" in line for line in watching), "watch reports the broken handler")
    assert http.json("GET", "/api/health")[0] == 502  # as a function that cannot import: API Gateway's 502
    assert any("SyntaxError" in line for line in log)
    save_health(repo, "ok-v3")
    app.write_text(app.read_text().replace("\ndef broken(:\n", ""))
    wait_for(lambda: http.json("GET", "/api/health") == (200, {"status": "ok-v3", "environment": cfg.name}), "v3")


def test_without_a_local_server_it_is_a_full_deploy(served):
    cfg, _, http, _ = served
    said: list[str] = []
    assert Actions(None, cfg, port=http.port, say=said.append).serve_running()
    assert not Actions(None, cfg, port=free_port(), say=said.append).serve_running()
    assert watch.plan({watch.LAMBDA}, local=True, serve_running=False).code == "deploy"


def test_write_env_rewrites_only_on_change(served, tmp_path):
    cfg, _, _, _ = served
    said: list[str] = []
    actions = Actions(None, cfg, port=1, say=said.append, frontend_dir=tmp_path)
    assert actions.write_env() is True
    assert "VITE_API_URL=/api" in (tmp_path / ".env").read_text()
    assert actions.write_env() is False
    assert hotreload.trigger_path(cfg.name).parent == paths.STATE_DIR
