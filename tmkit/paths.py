"""Well-known paths of the repository (one place, so tests and tasks agree)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVS_DIR = ROOT / "envs"
CDK_OUT = ROOT / "cdk.out"
STATE_DIR = ROOT / ".tmkit"  # git-ignored: emulator pid/log, per-run scratch
FRONTEND_DIR = ROOT / "frontend"
LAMBDA_DIR = ROOT / "lambda" / "api"
