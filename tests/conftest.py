"""Shared fixtures: temporary environment directories built from the real env files."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

# Runtime state (per-environment locks, emulator pid/log) goes to a temporary directory, never into the
# checkout. Set before any tmkit module is imported (tmkit.paths reads TM_STATE_DIR once); `inv` run in a
# subprocess inherits it. Each pytest-xdist worker gets its own subdirectory of the controller's, so two
# workers never contend for one environment's lock.
_OWN_STATE_DIR = None if os.environ.get("TM_STATE_DIR") else tempfile.mkdtemp(prefix="tmkit-test-state-")
if _OWN_STATE_DIR:
    os.environ["TM_STATE_DIR"] = _OWN_STATE_DIR
if os.environ.get("PYTEST_XDIST_WORKER") and not os.environ["TM_STATE_DIR"].endswith(os.environ["PYTEST_XDIST_WORKER"]):
    os.environ["TM_STATE_DIR"] = os.path.join(os.environ["TM_STATE_DIR"], os.environ["PYTEST_XDIST_WORKER"])

import pytest  # noqa: E402

from tmkit.paths import ENVS_DIR  # noqa: E402


def pytest_unconfigure(config):
    if _OWN_STATE_DIR:
        shutil.rmtree(_OWN_STATE_DIR, ignore_errors=True)


@pytest.fixture
def envs_dir(tmp_path, monkeypatch) -> Path:
    """A private copy of envs/ that the toolkit reads (TM_ENVS_DIR); tests add or break files in it."""
    d = tmp_path / "envs"
    shutil.copytree(ENVS_DIR, d)
    monkeypatch.setenv("TM_ENVS_DIR", str(d))
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return d


@pytest.fixture
def write_env(envs_dir):
    """write_env(name, base="dev", replace={old: new}, append="...") -> name"""

    def _write(name: str, base: str = "dev", replace: dict | None = None, append: str = "") -> str:
        text = (ENVS_DIR / f"{base}.toml").read_text()
        for old, new in (replace or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        (envs_dir / f"{name}.toml").write_text(text + append)
        return name

    return _write
