"""Tests never write runtime state (locks, emulator pid/log) into the checkout: tests/conftest.py sets TM_STATE_DIR."""

import os
import subprocess
import sys

from tmkit import lambda_build, lifecycle, paths
from tmkit.config import load_env
from tmkit.paths import ROOT


def test_the_test_session_keeps_state_out_of_the_checkout():
    assert os.environ["TM_STATE_DIR"] == str(paths.STATE_DIR)
    assert not paths.STATE_DIR.is_relative_to(ROOT)
    assert lifecycle.STATE_DIR == paths.STATE_DIR  # read once, at import: the variable was set before


def test_the_environment_lock_is_written_to_the_state_dir(envs_dir):
    in_checkout = ROOT / ".tmkit" / "locks" / "dev.lock"
    before = in_checkout.stat().st_mtime_ns if in_checkout.exists() else None
    with lifecycle.env_lock(load_env("dev")):
        assert (paths.STATE_DIR / "locks" / "dev.lock").is_file()
    assert (in_checkout.stat().st_mtime_ns if in_checkout.exists() else None) == before


def test_tm_state_dir_moves_state_but_not_the_build_cache(tmp_path):
    code = "from tmkit import paths, lambda_build; print(paths.STATE_DIR); print(lambda_build.LAYERS_DIR)"
    env = {**os.environ, "TM_STATE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    assert out.stdout.split() == [str(tmp_path), str(ROOT / ".tmkit" / "lambda-layer")]
    assert lambda_build.LAYERS_DIR == ROOT / ".tmkit" / "lambda-layer"  # Lambda layers stay cached in the checkout
