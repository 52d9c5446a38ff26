"""`inv watch --env local` with `inv local.serve` running (emulator): a saved Lambda file is the code that answers
the next request, without a deploy; a broken save is reported and the fixed one is picked up; a saved SPA source
file is built and published and served. Bounded in time.

The Lambda and SPA sources are temporary copies (tmkit.paths.LAMBDA_DIR and FRONTEND_DIR point at them), so the
repository is never edited.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import threading
import time
import uuid

import pytest
from invoke import Config, Context

from tests.helpers import distribution_config, free_port
from tests.integration.test_localserve import Http, emulator_env, make_local_stack
from tmkit import hotreload, localserve, paths, watch
from tmkit.aws import client
from tmkit.watch_actions import Actions

DEADLINE = 30.0


def forget_handler_modules():
    for name in list(sys.modules):
        if name.split(".")[0] in ("app", "tm_api"):
            del sys.modules[name]


def copy_repo(root):
    """What `inv watch` watches, copied under ``root`` (the SPA's node_modules linked); returns the frontend dir."""
    shutil.copytree(paths.LAMBDA_DIR, root / "lambda" / "api", ignore=shutil.ignore_patterns("__pycache__"))
    for d in ("infra", "envs"):
        (root / d).mkdir(parents=True)
    front = root / "frontend"
    for name in ("src", "public"):
        shutil.copytree(paths.FRONTEND_DIR / name, front / name)
    for name in ("index.html", "package.json", "vite.config.js"):
        shutil.copy(paths.FRONTEND_DIR / name, front / name)
    (front / "node_modules").symlink_to((paths.FRONTEND_DIR / "node_modules").resolve())
    return front


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A repository-shaped tree whose lambda/api is a copy of the real one; the local server imports the copy."""
    root = tmp_path_factory.mktemp("repo")
    front = copy_repo(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(paths, "LAMBDA_DIR", root / "lambda" / "api")
        mp.setattr(paths, "FRONTEND_DIR", front)
        forget_handler_modules()
        yield root
        forget_handler_modules()
        while str(root / "lambda" / "api") in sys.path:
            sys.path.remove(str(root / "lambda" / "api"))


@pytest.fixture(scope="module")
def served(repo, tmp_path_factory):
    with emulator_env(tmp_path_factory.mktemp("watch")) as cfg:
        outputs = make_local_stack(cfg)
        # A distribution to invalidate, as the deployed stack has (publish invalidates index.html).
        distribution = client(cfg, "cloudfront").create_distribution(
            DistributionConfig=distribution_config(outputs["FrontendBucketName"])
        )["Distribution"]["Id"]
        template = {
            "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {k: {"Value": v} for k, v in {**outputs, "DistributionId": distribution}.items()},
        }
        client(cfg, "cloudformation").update_stack(StackName=cfg.stack_name, TemplateBody=json.dumps(template))
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
    actions = Actions(Context(Config(overrides={"run": {"in_stream": False}})), cfg, port=http.port, say=said.append)
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


def test_a_saved_spa_file_is_built_published_and_served(repo, served, watching):
    _, _, http, _ = served
    marker = f"watch-marker-{uuid.uuid4().hex[:12]}"
    main = repo / "frontend" / "src" / "main.jsx"
    main.write_text(main.read_text() + f'\nconsole.log("{marker}");\n')
    wait_for(lambda: any(line.startswith("release ") and "is live" in line for line in watching), "a release")
    assert any(line.startswith("frontend changed: build and publish the SPA") for line in watching)
    assert (repo / "frontend" / ".env").is_file()  # the build wrote it from the outputs
    status, _, page = http("GET", "/")
    assert status == 200
    scripts = re.findall(r'src="(/assets/[^"]+\.js)"', page.decode())
    bodies = [http("GET", src)[2] for src in scripts]
    assert any(marker.encode() in body for body in bodies), scripts
