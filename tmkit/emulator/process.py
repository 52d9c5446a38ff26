"""Start, watch and stop the emulator process for an emulator-backed environment.

One emulator per port. Its state lives in ``.tmkit/emulator/<port>/`` (git-ignored): ``pid`` and
``emulator.log``. The process is detached (own session), so it outlives the ``inv local.up`` that
started it. Only loopback endpoints are managed: the toolkit never starts anything reachable from
outside this machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from tmkit import paths
from tmkit.aws import emulator_hint
from tmkit.config import EMULATOR_ACCOUNT, EnvConfig
from tmkit.errors import ToolkitError

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PROBE_TIMEOUT = 1.0
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
MODULE = "tmkit.emulator"


@dataclass(frozen=True)
class Status:
    state: str  # "running" | "stopped" | "stale" (pid file, process gone) | "foreign" (port used by another process)
    endpoint: str
    port: int
    pid: int | None
    log: Path
    detail: str

    @property
    def running(self) -> bool:
        return self.state == "running"


# ---- where things are ------------------------------------------------------------------------------
def _endpoint(cfg: EnvConfig) -> tuple[str, int]:
    if not cfg.is_local:
        raise ToolkitError(
            f"environment '{cfg.name}' deploys to real AWS, it has no emulator. "
            "Use an emulator-backed environment, e.g. `--env local`."
        )
    endpoint = cfg.endpoint_url
    url = urlparse(endpoint)
    if url.scheme != "http" or url.hostname not in LOOPBACK_HOSTS or not url.port:
        raise ToolkitError(
            f"the emulator endpoint {endpoint!r} is not http://localhost:PORT; the toolkit runs the "
            "emulator on this machine only. Fix AWS_ENDPOINT_URL or the [emulator] endpoint in "
            f"envs/{cfg.name}.toml."
        )
    return endpoint, url.port


def state_dir(port: int) -> Path:
    return paths.STATE_DIR / "emulator" / str(port)


def _pid_file(port: int) -> Path:
    return state_dir(port) / "pid"


def log_file(port: int) -> Path:
    return state_dir(port) / "emulator.log"


# ---- probes ----------------------------------------------------------------------------------------
def _answers(endpoint: str) -> bool | None:
    """True: a moto server answers; False: something else answers; None: nothing listens."""
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/config", timeout=PROBE_TIMEOUT) as resp:
            return isinstance(json.loads(resp.read() or b"null"), dict)
    except urllib.error.HTTPError:
        return False
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None
    except ValueError:
        return False


def _read_pid(port: int) -> int | None:
    try:
        return int(_pid_file(port).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _is_our_process(pid: int) -> bool:
    """Alive and running this launcher (a recycled pid running something else does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the pid
    if any(part.endswith(b"<defunct>") for part in cmdline) or not any(cmdline):
        return False  # a zombie
    return MODULE.encode() in cmdline


def status(cfg: EnvConfig) -> Status:
    endpoint, port = _endpoint(cfg)
    pid = _read_pid(port)
    ours = pid is not None and _is_our_process(pid)
    answer = _answers(endpoint)
    mk = lambda state, detail: Status(state, endpoint, port, pid, log_file(port), detail)  # noqa: E731
    if ours and answer:
        return mk("running", f"running at {endpoint} (pid {pid})")
    if ours:
        return mk("running", f"starting or not answering at {endpoint} (pid {pid}); see {log_file(port)}")
    if answer is not None:
        what = "another moto server" if answer else "another program"
        return mk("foreign", f"port {port} is in use by {what}, not an emulator started by the toolkit")
    if pid is not None:
        return mk("stale", f"not running: the process (pid {pid}) has exited; see {log_file(port)}")
    return mk("stopped", f"not running (endpoint {endpoint})")


def is_running(cfg: EnvConfig) -> bool:
    """An emulator answers at the environment's endpoint."""
    endpoint, _ = _endpoint(cfg)
    return bool(_answers(endpoint))


def require_running(cfg: EnvConfig) -> None:
    if not is_running(cfg):
        raise ToolkitError(emulator_hint(cfg))


# ---- start / stop / reset --------------------------------------------------------------------------
@contextlib.contextmanager
def _locked(port: int) -> Iterator[None]:
    """One start/stop at a time per port (two `inv local.up` at once start one emulator)."""
    state_dir(port).mkdir(parents=True, exist_ok=True)
    with open(state_dir(port) / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def start(cfg: EnvConfig, *, timeout: float = START_TIMEOUT) -> tuple[Status, bool]:
    """Start the emulator in the background and wait until it answers.

    Returns (status, started): ``started`` is False when it was already running.
    """
    endpoint, port = _endpoint(cfg)
    with _locked(port):
        current = status(cfg)
        if current.state == "running":
            return current, False
        if current.state == "foreign":
            raise ToolkitError(
                f"cannot start the emulator: {current.detail}. Stop that program, or choose another "
                f"port in the [emulator] endpoint of envs/{cfg.name}.toml."
            )
        _pid_file(port).unlink(missing_ok=True)
        log = log_file(port)
        env = {
            **os.environ,
            "MOTO_ACCOUNT_ID": EMULATOR_ACCOUNT,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(paths.ROOT), os.environ.get("PYTHONPATH")])),
        }
        with open(log, "wb") as out:  # one run per log: a stale run's log was shown by `status` already
            proc = subprocess.Popen(
                [sys.executable, "-m", MODULE, "--port", str(port)],
                cwd=paths.ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        _pid_file(port).write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                _pid_file(port).unlink(missing_ok=True)
                raise ToolkitError(
                    f"the emulator exited at start (code {proc.returncode}). Last lines of {log}:\n{_tail(log)}"
                )
            if _answers(endpoint):
                return status(cfg), True
            time.sleep(0.1)
        _terminate(proc.pid)
        _pid_file(port).unlink(missing_ok=True)
        raise ToolkitError(
            f"the emulator did not answer at {endpoint} within {timeout:.0f} s and was stopped. "
            f"Last lines of {log}:\n{_tail(log)}"
        )


def _terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(pid, sig)  # its own session: the group is just the emulator
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it when we are its parent (tests)
            if not _is_our_process(pid):
                return
            time.sleep(0.05)


def stop(cfg: EnvConfig) -> Status:
    """Stop the emulator this toolkit started on the env's port; returns the status before stopping.

    Its in-memory state (every deployed stack) is gone afterwards. A stale pid file is removed.
    Another program on the port is left alone.
    """
    _, port = _endpoint(cfg)
    with _locked(port):
        before = status(cfg)
        if before.state == "running" and before.pid is not None:
            _terminate(before.pid)
        _pid_file(port).unlink(missing_ok=True)
        return before


def reset(cfg: EnvConfig) -> None:
    """Forget every resource in the running emulator (``POST /moto-api/reset``)."""
    require_running(cfg)
    endpoint, _ = _endpoint(cfg)
    req = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        if resp.status != 200:
            raise ToolkitError(
                f"the emulator refused the reset (HTTP {resp.status}); restart it with "
                "`inv local.down` then `inv local.up`."
            )
