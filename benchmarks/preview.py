#!/usr/bin/env python3
"""Preview timings on the local emulator through the real CLI, and the names a branch gets. Prints figures.

  .venv/bin/python benchmarks/preview.py [--name "feature/My branch"] [--names-only]

Prints every AWS name derived for the preview of `dev` and of `local` called NAME (tmkit/naming.py), then,
unless --names-only: on a private emulator (envs/local.toml on a free port, named `local`), deploys the
base, then times `inv preview.deploy` (create), a second `preview.deploy` of the same NAME (update,
extends the expiry) and `inv preview.destroy`.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
INV = str(ROOT / ".venv" / "bin" / "inv")
DEFAULT = "Feature/JIRA-1234 Add Login Page with Ünïcode, Spaces and CAPITALS for the new onboarding flow (v2)!"


def names(base: str, name: str) -> dict[str, str]:
    from tmkit import naming

    env = f"{base}-{naming.slugify(name)}"
    stack = naming.stack_name("TimeManagement", env)
    return {
        "environment": env,
        "stack": stack,
        "table": naming.table_name(stack),
        "bucket": naming.bucket_name("TimeManagement", env, "123456789012", "us-east-1"),
        "secret": naming.secret_name(stack, "SMTP_PASSWORD"),
        **naming.resource_names(stack),
    }


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([INV, *argv], cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        sys.exit(f"inv {' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=DEFAULT)
    parser.add_argument("--names-only", action="store_true")
    args = parser.parse_args()
    print(f"NAME ({len(args.name)} characters): {args.name}")
    for base in ("dev", "local"):
        for kind, value in names(base, args.name).items():
            print(f"  {base:5} {kind:18} {len(value):3}  {value}")
    if args.names_only:
        return

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    envs = Path(tempfile.mkdtemp(prefix="bench-envs-"))
    (envs / "local.toml").write_text(
        (ROOT / "envs" / "local.toml").read_text().replace("http://localhost:4599", f"http://localhost:{port}")
    )
    env = {**os.environ, "TM_ENVS_DIR": str(envs), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    for var in ("AWS_ENDPOINT_URL", "ENVIRONMENT", "AWS_PROFILE"):
        env.pop(var, None)
    timed(["local.up", "--env", "local"], env)
    try:
        base = timed(["deploy", "--env", "local"], env)
        create = timed(["preview.deploy", "--env", "local", "--name", args.name], env)
        update = timed(["preview.deploy", "--env", "local", "--name", args.name], env)
        destroy = timed(["preview.destroy", "--env", "local", "--name", args.name], env)
    finally:
        timed(["local.down", "--env", "local"], env)
    print(f"base deploy (bootstrap included): {base:6.1f} s")
    print(f"preview create:                   {create:6.1f} s")
    print(f"preview update (same NAME):       {update:6.1f} s")
    print(f"preview destroy:                  {destroy:6.1f} s")


if __name__ == "__main__":
    main()
