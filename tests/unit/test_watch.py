"""tmkit/watch.py: what a changed path means, batching, the plan, and the loop with recorded actions."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from tmkit import watch
from tmkit.config import load_env
from tmkit.errors import ToolkitError

ROOT = Path("/repo")
ROOTS = watch.watched(ROOT, ROOT / "envs" / "dev.toml")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("lambda/api/app.py", watch.LAMBDA),
        ("lambda/api/tm_api/store.py", watch.LAMBDA),
        ("lambda/api/requirements.txt", watch.INFRA),  # the dependency layer: not a code swap
        ("infra/components/api.py", watch.INFRA),
        ("infra/stack.py", watch.INFRA),
        ("envs/dev.toml", watch.INFRA),
        ("envs/qa.toml", None),  # another environment's file
        ("frontend/src/App.tsx", watch.FRONTEND),
        ("frontend/public/favicon.svg", watch.FRONTEND),
        ("frontend/index.html", watch.FRONTEND),
        ("frontend/.env", None),  # watch writes it itself
        ("frontend/dist/index.html", None),
        ("frontend/package.json", None),
        ("lambda/api/__pycache__/app.cpython-311.pyc", None),
        ("lambda/api/.app.py.swp", None),
        ("lambda/api/app.py~", None),
        ("infra/#stack.py#", None),
        ("tmkit/watch.py", None),
        ("README.md", None),
    ],
)
def test_classify(path, kind):
    assert watch.classify(str(ROOT / path), ROOTS) == kind


def test_snapshot_and_diff(tmp_path):
    (tmp_path / "lambda" / "api" / "__pycache__").mkdir(parents=True)
    (tmp_path / "envs").mkdir()
    env_file = tmp_path / "envs" / "dev.toml"
    env_file.write_text("a")
    app = tmp_path / "lambda" / "api" / "app.py"
    app.write_text("v1")
    (tmp_path / "lambda" / "api" / "__pycache__" / "app.pyc").write_text("x")
    roots = watch.watched(tmp_path, env_file)
    first = watch.snapshot(roots)
    assert set(first) == {str(app), str(env_file)}  # missing roots are fine, ignored names skipped
    assert watch.diff(first, watch.snapshot(roots)) == set()
    app.write_text("v2 longer")
    new = tmp_path / "lambda" / "api" / "new.py"
    new.write_text("")
    env_file.unlink()
    assert watch.diff(first, watch.snapshot(roots)) == {str(app), str(new), str(env_file)}


def test_batches_wait_for_quiet():
    batch, ready = watch.step(watch.Batch(), {"a"}, now=10.0, quiet=0.5)
    assert ready is None
    batch, ready = watch.step(batch, {"b"}, now=10.3, quiet=0.5)
    assert ready is None
    batch, ready = watch.step(batch, set(), now=10.6, quiet=0.5)
    assert ready is None  # 0.3 s since the last change
    batch, ready = watch.step(batch, set(), now=10.8, quiet=0.5)
    assert ready == {"a", "b"} and batch.pending == set()
    assert watch.step(batch, set(), now=20.0, quiet=0.5)[1] is None


@pytest.mark.parametrize(
    ("kinds", "local", "running", "expected"),
    [
        ({"lambda"}, False, False, watch.Plan("hotswap")),
        ({"lambda"}, True, True, watch.Plan("reload")),
        ({"lambda"}, True, False, watch.Plan("deploy", write_env=True)),
        ({"infra"}, False, False, watch.Plan("deploy", write_env=True)),
        ({"infra", "lambda"}, False, False, watch.Plan("deploy", write_env=True)),  # never a hotswap past infra
        ({"infra", "lambda"}, True, True, watch.Plan("deploy", write_env=True)),
        ({"frontend"}, False, False, watch.Plan(None, frontend=True)),
        ({"lambda", "frontend"}, False, False, watch.Plan("hotswap", frontend=True)),
        ({"infra", "frontend"}, True, False, watch.Plan("deploy", write_env=True, frontend=True)),
    ],
)
def test_plan(kinds, local, running, expected):
    assert watch.plan(kinds, local=local, serve_running=running) == expected


def test_describe_says_what_it_does():
    text = watch.plan({"infra"}, local=False, serve_running=False).describe({"infra"})
    assert text == "infra changed: full deploy, then rewrite frontend/.env"
    assert "hotswap" in watch.Plan("hotswap").describe({"lambda"})


def test_protected_environments_are_refused():
    with pytest.raises(ToolkitError, match="refuses 'prod': it is protected"):
        watch.check_env(load_env("prod"))


# ---- the loop, with recorded actions -------------------------------------------------------------------------
class Recorder:
    def __init__(self, running=True, env_changes=False, fail=None):
        self.calls: list[str] = []
        self.running, self.env_changes, self.fail = running, env_changes, fail
        self.during: Callable[[], None] | None = None

    def serve_running(self):
        return self.running

    def _act(self, name):
        self.calls.append(name)
        if self.fail == name:
            raise ToolkitError(f"{name} broke")
        if self.during:
            during, self.during = self.during, None
            during()

    def reload(self):
        self._act("reload")

    def deploy(self, *, hotswap):
        self._act("hotswap" if hotswap else "deploy")

    def write_env(self):
        self._act("write_env")
        return self.env_changes

    def publish_frontend(self):
        self._act("publish")


def tree(tmp_path):
    for d in ("lambda/api", "infra", "envs", "frontend/src"):
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
    (tmp_path / "lambda/api/app.py").write_text("v1")
    (tmp_path / "envs/dev.toml").write_text("x")
    (tmp_path / "frontend/src/App.tsx").write_text("x")
    return tmp_path


def drive(tmp_path, cfg, actions, edits: list, rounds=None, load=None):
    """Run the loop; before poll round i apply edits[i] (a callable or None); fake clock, no real sleeping."""
    clock = itertools.count(0, 1.0)
    rounds = rounds or len(edits) + 4
    said: list[str] = []
    counter = iter(range(rounds))
    step = {"i": -1}

    def sleep(_):
        step["i"] += 1
        i = step["i"]
        if i < len(edits) and edits[i]:
            edits[i]()

    watch.run(
        cfg,
        actions,
        root=tmp_path,
        env_file=tmp_path / "envs" / f"{cfg.name}.toml",
        say=said.append,
        sleep=sleep,
        clock=lambda: float(next(clock)),
        stop=lambda: next(counter, None) is None,
        **({"load": load} if load else {}),
    )
    return said


def touch(path: Path, text: str):
    return lambda: path.write_text(text)


def test_loop_runs_the_plan_and_batches_changes_made_during_a_deploy(tmp_path):
    root = tree(tmp_path)
    cfg = load_env("dev")
    actions = Recorder()
    # The deploy (for the env file) is running when the Lambda changes: that change is the next batch.
    actions.during = touch(root / "lambda/api/app.py", "v2-longer")
    said = drive(tmp_path, cfg, actions, [touch(root / "envs/dev.toml", "changed")])
    assert actions.calls == ["deploy", "write_env", "hotswap"]
    assert any(line.startswith("infra changed: full deploy") for line in said)
    assert any(line.startswith("lambda changed: Lambda code hotswap") for line in said)


def test_loop_reloads_local_serve_and_rebuilds_the_spa_when_env_changed(tmp_path):
    root = tree(tmp_path)
    (root / "envs/local.toml").write_text("x")
    cfg = load_env("local")
    actions = Recorder(running=True)
    drive(tmp_path, cfg, actions, [touch(root / "lambda/api/app.py", "v2-longer")])
    assert actions.calls == ["reload"]
    actions = Recorder(running=False, env_changes=True)
    drive(tmp_path, cfg, actions, [touch(root / "lambda/api/app.py", "v3-longer!")])
    assert actions.calls == ["deploy", "write_env", "publish"]  # no local server: a full deploy; new .env: rebuild


def test_loop_survives_a_failed_step(tmp_path):
    root = tree(tmp_path)
    actions = Recorder(fail="hotswap")
    said = drive(
        tmp_path,
        load_env("dev"),
        actions,
        [touch(root / "lambda/api/app.py", "v2-longer"), None, None, None, touch(root / "frontend/src/App.tsx", "y2")],
    )
    assert actions.calls == ["hotswap", "publish"]
    assert any("failed: hotswap broke" in line for line in said)


def test_loop_refuses_protected_envs(tmp_path):
    with pytest.raises(ToolkitError, match="protected"):
        drive(tree(tmp_path), load_env("prod"), Recorder(), [])


def test_ctrl_c_exits_130_without_a_traceback(capsys, monkeypatch):
    from invoke import Collection, Program

    from tmkit.tasks.watch import watch as watch_task

    def interrupt(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(watch.time, "sleep", interrupt)
    with pytest.raises(SystemExit) as exited:
        Program(namespace=Collection(watch_task), binary="inv").run(["inv", "watch", "--env", "local", "--port", "1"])
    err = capsys.readouterr().err
    assert exited.value.code == 130 and "interrupted" in err and "Traceback" not in err
    assert "watching lambda/, infra/, local.toml" in err


def test_the_task_refuses_a_bad_port(capsys):
    from invoke import Collection, Program

    from tmkit.tasks.watch import watch as watch_task

    with pytest.raises(SystemExit) as exited:
        Program(namespace=Collection(watch_task), binary="inv").run(["inv", "watch", "--env", "dev", "--port", "x"])
    assert exited.value.code == 1 and "--port 'x' is not a TCP port" in capsys.readouterr().err


# ---- the env file edited while watching -------------------------------------------------------------------
class ConfigRecorder(Recorder):
    """Records the config each deploy ran with."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.deployed_with: list = []

    def deploy(self, *, hotswap):
        self.deployed_with.append(self.cfg)
        super().deploy(hotswap=hotswap)


def file_loader(env_file: Path):
    """envs/NAME.toml as the loop reads it again: 'bad' is invalid, 'protected' is a protected env, else dev
    with the file's text as its log retention."""

    def load(name):
        text = env_file.read_text()
        if text == "bad":
            raise ToolkitError(f"envs/{name}.toml is invalid: field 'x': broken. Fix envs/{name}.toml and retry.")
        if text == "protected":
            return load_env("prod")
        return load_env("dev").model_copy(update={"log_retention_days": int(text)})

    return load


def test_an_edited_env_file_is_deployed_with_its_new_settings(tmp_path):
    root = tree(tmp_path)
    env_file = root / "envs/dev.toml"
    actions = ConfigRecorder(load_env("dev"))
    drive(tmp_path, load_env("dev"), actions, [touch(env_file, "1024")], load=file_loader(env_file))
    assert actions.calls == ["deploy", "write_env"]
    assert [c.log_retention_days for c in actions.deployed_with] == [1024]  # not the settings watch started with


def test_an_env_file_made_invalid_deploys_nothing_and_watching_goes_on(tmp_path):
    root = tree(tmp_path)
    env_file = root / "envs/dev.toml"
    actions = ConfigRecorder(load_env("dev"))
    said: list[str] = []
    edits = [touch(env_file, "bad"), None, None, None, touch(env_file, "512")]
    steps = iter(range(len(edits) + 4))
    clock = itertools.count(0, 1.0)
    moves = iter(edits + [None] * 8)
    watch.run(
        load_env("dev"),
        actions,
        root=root,
        env_file=env_file,
        say=said.append,
        sleep=lambda _: (next(moves) or (lambda: None))(),
        clock=lambda: float(next(clock)),
        stop=lambda: next(steps, None) is None,
        load=file_loader(env_file),
    )
    assert any("failed: envs/dev.toml is invalid" in line for line in said)
    assert [c.log_retention_days for c in actions.deployed_with] == [512]  # only once it is valid again


def test_an_env_file_made_protected_stops_watching_before_any_deploy(tmp_path):
    root = tree(tmp_path)
    env_file = root / "envs/dev.toml"
    actions = ConfigRecorder(load_env("dev"))
    moves = iter([touch(env_file, "protected")] + [None] * 8)
    with pytest.raises(ToolkitError, match="refuses 'prod': it is protected"):
        watch.run(
            load_env("dev"),
            actions,
            root=root,
            env_file=env_file,
            say=lambda _: None,
            sleep=lambda _: (next(moves) or (lambda: None))(),
            clock=itertools.count(0, 1.0).__next__,
            load=file_loader(env_file),
        )
    assert actions.calls == []


def test_a_deleted_env_file_or_watched_directory_is_not_a_crash(tmp_path):
    import shutil

    root = tree(tmp_path)
    roots = watch.watched(root, root / "envs/dev.toml")
    before = watch.snapshot(roots)
    (root / "envs/dev.toml").unlink()
    shutil.rmtree(root / "frontend/src")
    after = watch.snapshot(roots)
    assert watch.diff(before, after) == {str(root / "envs/dev.toml"), str(root / "frontend/src/App.tsx")}


def test_an_env_file_deleted_between_the_check_and_the_read_is_just_gone(tmp_path, monkeypatch):
    root = tree(tmp_path)
    env_file = root / "envs/dev.toml"
    env_file.unlink()
    monkeypatch.setattr(Path, "is_file", lambda self: self == env_file or Path.exists(self))  # it was there
    assert str(env_file) not in watch.snapshot(watch.watched(root, env_file))


# ---- the probe of a local server on --port ----------------------------------------------------------------
def test_the_probe_of_another_server_that_streams_for_ever_returns_at_once(monkeypatch):
    import socket
    import threading
    import time

    from tmkit import watch_actions

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def endless():  # some other dev server on the port: a never-ending body
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nServer: other-dev-server\r\nContent-Type: text/event-stream\r\n\r\n")
            while not stop.is_set():
                try:
                    conn.sendall(b"data: x\n\n" * 1000)
                except OSError:
                    return
                time.sleep(0.01)

    threading.Thread(target=endless, daemon=True).start()
    started = time.monotonic()
    try:
        status, server, body = watch_actions.health(listener.getsockname()[1], timeout=1.0)
    finally:
        stop.set()
        listener.close()
    assert (status, server, body) == (200, "other-dev-server", {})
    assert time.monotonic() - started < 3


def test_symlink_loops_and_symlinked_files_are_not_followed(tmp_path):
    root = tree(tmp_path)
    (root / "lambda/api/loop").symlink_to(root / "lambda", target_is_directory=True)
    (root / "lambda/api/outside.py").symlink_to("/etc/hostname")
    found = watch.snapshot(watch.watched(root, root / "envs/dev.toml"))
    assert str(root / "lambda/api/outside.py") in found  # the link itself (lstat), not what it points to
    assert not any("/loop/" in p for p in found)


def test_a_reload_request_without_the_state_directory_creates_it(tmp_path, monkeypatch):
    # `.tmkit/` removed (git clean -fdx) while local.serve and watch run: the next save still reloads
    from tmkit import hotreload, paths

    monkeypatch.setattr(paths, "STATE_DIR", tmp_path / "gone" / ".tmkit")
    token = hotreload.request(load_env("local"))
    assert hotreload.trigger_path("local").read_text() == token


def test_a_watched_tree_that_grows_too_large_is_a_clear_error(tmp_path, monkeypatch):
    root = tree(tmp_path)
    monkeypatch.setattr(watch, "MAX_FILES", 5)
    for i in range(10):
        (root / f"frontend/src/gen{i}.js").write_text("x")
    with pytest.raises(ToolkitError, match=r"frontend/src holds more than 5 files: .*Move build output"):
        watch.snapshot(watch.watched(root, root / "envs/dev.toml"))


def test_a_trigger_that_is_a_fifo_or_huge_never_blocks_or_floods_an_api_call(tmp_path, monkeypatch):
    # local.serve reads the trigger before every API call: whatever sits at its path, the call goes on
    import os
    import threading

    from tmkit import hotreload, paths

    monkeypatch.setattr(paths, "STATE_DIR", tmp_path)
    path = hotreload.trigger_path("local")
    os.mkfifo(path)
    found = []
    reader = threading.Thread(target=lambda: found.append(hotreload._token("local")), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert found == [None]  # not a regular file: no reload requested
    path.unlink()
    path.write_text("1" * 5_000_000)
    assert len(hotreload._token("local") or "") <= 64
