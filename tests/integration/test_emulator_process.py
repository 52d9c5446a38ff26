"""The emulator process: start in the background, second start, status of a dead process or a taken port,
stop, reset; and the `inv local.*` tasks around it. Each test uses its own free port and state folder."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import INV, free_port
from tmkit import emulator, paths
from tmkit.aws import client
from tmkit.config import load_env
from tmkit.errors import ToolkitError

ROOT = paths.ROOT


@pytest.fixture
def local_env(envs_dir, tmp_path, monkeypatch):
    """envs/local.toml on a free port, with the emulator state under tmp_path; stops what it started."""
    port = free_port()
    text = (envs_dir / "local.toml").read_text().replace("http://localhost:4599", f"http://localhost:{port}")
    (envs_dir / "local.toml").write_text(text)
    monkeypatch.setattr(paths, "STATE_DIR", tmp_path / "state")
    cfg = load_env("local")
    yield cfg
    emulator.stop(cfg)


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if not Path(f"/proc/{pid}/cmdline").read_bytes():
            return  # zombie of another parent
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} still alive")


def test_up_starts_once_and_status_reports_it(local_env):
    st, started = emulator.start(local_env)
    assert started and st.state == "running" and st.pid
    assert emulator.is_running(local_env)
    assert (paths.STATE_DIR / "emulator" / str(st.port) / "pid").read_text().strip() == str(st.pid)
    assert "emulator listening" in st.log.read_text()

    again, started_again = emulator.start(local_env)
    assert not started_again and again.pid == st.pid

    # It answers AWS APIs as account 123456789012, on loopback.
    sts = client(local_env, "sts")  # the toolkit's client: the emulator's endpoint and fake credentials
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_the_emulator_outlives_the_process_that_started_it(local_env, envs_dir):
    code = (
        "from tmkit import emulator; from tmkit.config import load_env; print(emulator.start(load_env('local'))[0].pid)"
    )
    env = {**os.environ, "TM_ENVS_DIR": str(envs_dir), "PYTHONPATH": str(ROOT), "TM_STATE_DIR": str(paths.STATE_DIR)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    pid = int(out.stdout.strip())
    assert emulator.status(local_env).state == "running" and emulator.status(local_env).pid == pid


def test_status_notices_a_dead_process_and_up_recovers(local_env):
    st, _ = emulator.start(local_env)
    os.killpg(st.pid, signal.SIGKILL)
    wait_gone(st.pid)

    dead = emulator.status(local_env)
    assert dead.state == "stale" and str(st.pid) in dead.detail
    assert not emulator.is_running(local_env)
    with pytest.raises(ToolkitError, match="inv local.up"):
        emulator.require_running(local_env)

    again, started = emulator.start(local_env)
    assert started and again.pid != st.pid and again.state == "running"


def test_down_stops_it_and_frees_the_port(local_env):
    st, _ = emulator.start(local_env)
    before = emulator.stop(local_env)
    assert before.state == "running"
    wait_gone(st.pid)
    assert emulator.status(local_env).state == "stopped"
    assert not (paths.STATE_DIR / "emulator" / str(st.port) / "pid").exists()
    with socket.socket() as probe:  # free again: nothing listens ...
        assert probe.connect_ex(("127.0.0.1", st.port)) != 0
    with socket.socket() as s:  # ... and a new server can bind it (servers set SO_REUSEADDR: TIME_WAIT is fine)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", st.port))
    assert emulator.stop(local_env).state == "stopped"  # a second down is harmless


def test_a_port_taken_by_another_program_is_reported_and_left_alone(local_env):
    server = http.server.HTTPServer(("127.0.0.1", local_env.emulator.port), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        st = emulator.status(local_env)
        assert st.state == "foreign" and "another program" in st.detail
        with pytest.raises(ToolkitError, match=f"port {local_env.emulator.port} is in use"):
            emulator.start(local_env)
        assert emulator.stop(local_env).state == "foreign"
        assert not emulator.is_running(local_env)
    finally:
        server.shutdown()
        server.server_close()


def test_reset_forgets_everything(local_env):
    emulator.start(local_env)
    s3 = client(local_env, "s3")  # the toolkit's client: the emulator's endpoint and fake credentials
    s3.create_bucket(Bucket="before-reset")
    emulator.reset(local_env)
    assert s3.list_buckets()["Buckets"] == []


def test_only_emulator_backed_loopback_environments_are_managed(local_env, monkeypatch):
    with pytest.raises(ToolkitError, match="real AWS"):
        emulator.start(load_env("dev"))
    with monkeypatch.context() as m:
        m.setenv("AWS_ENDPOINT_URL", "http://10.0.0.5:4599")
        with pytest.raises(ToolkitError, match="this machine only"):
            emulator.status(load_env("local"))


def test_aws_endpoint_url_overrides_the_configured_port(local_env, monkeypatch):
    port = free_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://localhost:{port}")
    cfg = load_env("local")
    try:
        st, _ = emulator.start(cfg)
        assert st.port == port and st.endpoint == f"http://localhost:{port}"
    finally:
        emulator.stop(cfg)


# ---- the tasks, as a person runs them -------------------------------------------------------------------
def inv(*args, envs_dir, state_dir):
    env = {**os.environ, "TM_ENVS_DIR": str(envs_dir), "TM_STATE_DIR": str(state_dir)}
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(
        [*INV, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_local_tasks_up_twice_status_down(local_env, envs_dir):
    state = paths.STATE_DIR
    r = inv("local.status", envs_dir=envs_dir, state_dir=state)
    assert r.returncode == 1 and "not running" in r.stderr and "inv local.up" in r.stderr and r.stdout == ""

    r = inv("local.up", envs_dir=envs_dir, state_dir=state)
    assert r.returncode == 0, r.stderr
    assert "emulator started" in r.stderr and r.stdout == ""
    r = inv("local.up", envs_dir=envs_dir, state_dir=state)
    assert r.returncode == 0 and "already running" in r.stderr

    r = inv("local.status", envs_dir=envs_dir, state_dir=state)
    assert r.returncode == 0 and "running at" in r.stderr

    r = inv("local.down", envs_dir=envs_dir, state_dir=state)
    assert r.returncode == 0 and "emulator stopped" in r.stderr
    r = inv("local.status", envs_dir=envs_dir, state_dir=state)
    assert r.returncode == 1


def test_local_up_refuses_a_real_aws_environment(local_env, envs_dir):
    r = inv("local.up", "--env", "dev", envs_dir=envs_dir, state_dir=paths.STATE_DIR)
    assert r.returncode == 1 and "real AWS" in r.stderr and "Traceback" not in r.stderr
