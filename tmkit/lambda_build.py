"""The API Lambda's dependency layer, built once per requirements hash (no Docker, no pip inside synth).

``ensure_layer()`` pip-installs ``lambda/api/requirements.txt`` for the Lambda platform into
``.tmkit/lambda-layer/<key>/python`` where ``<key>`` hashes the requirements and the pip options.
A present directory is reused as is (fast no-op); a build goes to a temporary sibling that is
renamed into place, so an interrupted build never leaves a half-filled layer behind.
The CDK app only calls ``layer_dir()``: it never runs pip, and fails with a clear message instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tmkit.errors import ToolkitError
from tmkit.paths import CACHE_DIR, LAMBDA_DIR

REQUIREMENTS = LAMBDA_DIR / "requirements.txt"
LAYERS_DIR = CACHE_DIR / "lambda-layer"
RUNTIME_PYTHON = "3.14"  # the Lambda runtime (infra/components/api.py RUNTIME)


def pip_options(python_version: str = RUNTIME_PYTHON) -> tuple[str, ...]:
    """Lambda on x86_64: wheels only, no bytecode (keeps the asset hash deterministic). Another
    ``python_version`` builds the same layer for another interpreter (the import test on this machine)."""
    return (
        "--platform",
        "manylinux2014_x86_64",
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--no-compile",
    )


PIP_OPTIONS = pip_options()
BUILD_HINT = "run `inv lambda.build` (or `make setup`) to build it"


def layer_key(requirements: Path = REQUIREMENTS, python_version: str = RUNTIME_PYTHON) -> str:
    if not requirements.is_file():
        raise ToolkitError(
            f"{requirements} is missing: the API Lambda's dependencies are listed there. "
            "Restore it (one pinned package per line) and retry."
        )
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update("\0".join(pip_options(python_version)).encode())
    return digest.hexdigest()[:32]


def layer_dir(
    requirements: Path = REQUIREMENTS, layers_dir: Path = LAYERS_DIR, python_version: str = RUNTIME_PYTHON
) -> Path:
    """Where the layer for the current requirements lives (the asset root: it holds ``python/``)."""
    return layers_dir / layer_key(requirements, python_version)


def require_layer(requirements: Path = REQUIREMENTS, layers_dir: Path = LAYERS_DIR) -> Path:
    """The built layer directory; ToolkitError (never a pip run) when it has not been built yet."""
    path = layer_dir(requirements, layers_dir)
    if not (path / "python").is_dir():
        raise ToolkitError(
            f"the Lambda dependency layer for {requirements.name} is not built (expected {path}): {BUILD_HINT}."
        )
    return path


def ensure_layer(
    requirements: Path = REQUIREMENTS,
    layers_dir: Path = LAYERS_DIR,
    *,
    pip: list[str] | None = None,
    python_version: str = RUNTIME_PYTHON,
) -> Path:
    """Build the layer when missing and return its directory. Idempotent; atomic."""
    target = layer_dir(requirements, layers_dir, python_version)
    if (target / "python").is_dir():
        return target
    layers_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=layers_dir))
    try:
        cmd = [
            *(pip or [sys.executable, "-m", "pip"]),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--target",
            str(tmp / "python"),
            *pip_options(python_version),
            "-r",
            str(requirements),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise ToolkitError(
                f"building the Lambda dependency layer failed (pip exit {proc.returncode}):\n{tail}\n"
                f"Check {requirements} (pinned versions with wheels for Python {python_version}) and your "
                "package index settings, then retry."
            )
        _normalise(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "python").is_dir():  # a concurrent build that won the race is fine
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _normalise(root: Path) -> None:
    """Drop what varies between machines: console scripts (their shebang names this venv's python),
    bytecode caches, and pip's install records that hash those files."""
    shutil.rmtree(root / "python" / "bin", ignore_errors=True)
    for cache in sorted(root.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)
    for path in root.rglob("*"):
        if path.is_file() and path.name in ("RECORD", "INSTALLER", "direct_url.json", "REQUESTED"):
            path.unlink()
