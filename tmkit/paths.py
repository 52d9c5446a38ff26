"""Well-known paths of the repository (one place, so tests and tasks agree)."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVS_DIR = ROOT / "envs"
CDK_OUT = ROOT / "cdk.out"
CACHE_DIR = ROOT / ".tmkit"  # git-ignored: build caches kept between runs (Lambda layers)
# git-ignored runtime state: per-environment locks, emulator pid/log. TM_STATE_DIR moves it (the tests
# point it at a temporary directory, so they never write locks into the checkout).
STATE_DIR = Path(os.environ.get("TM_STATE_DIR") or CACHE_DIR)
FRONTEND_DIR = ROOT / "frontend"
LAMBDA_DIR = ROOT / "lambda" / "api"
