#!/usr/bin/env python3
"""Deploy lifecycle timings on the local emulator, through the real CLI. Prints figures; asserts nothing.

  .venv/bin/python benchmarks/deploy.py [--runs 3]

Measures: `inv --list` against `python -c "import invoke"` (startup cost of the task tree), a first local
deploy from an empty emulator (synth + bootstrap + deploy), a no-op redeploy, and destroy. It uses a private
env file on a free port (envs/local.toml with another endpoint), so a running developer emulator is untouched.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INV = str(ROOT / ".venv" / "bin" / "inv")
PY = str(ROOT / ".venv" / "bin" / "python")


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def median(samples: list[float]) -> str:
    return f"{statistics.median(samples):6.2f} s  (min {min(samples):.2f}, max {max(samples):.2f}, n={len(samples)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    envs = Path(tempfile.mkdtemp(prefix="bench-envs-"))
    (envs / "bench.toml").write_text(
        (ROOT / "envs" / "local.toml").read_text().replace("http://localhost:4599", f"http://localhost:{port}")
    )
    env = {**os.environ, "TM_ENVS_DIR": str(envs)}
    env.pop("AWS_ENDPOINT_URL", None)

    rows = {"python -c 'import invoke'": [], "inv --list": []}
    for _ in range(max(args.runs, 5)):
        rows["python -c 'import invoke'"].append(timed([PY, "-c", "import invoke"], env))
        rows["inv --list"].append(timed([INV, "--list"], env))

    first, noop, destroy = [], [], []
    timed([INV, "local.up", "--env", "bench"], env)
    try:
        for _ in range(args.runs):
            timed([INV, "local.down", "--env", "bench"], env)  # an empty emulator: bootstrap is part of it
            timed([INV, "local.up", "--env", "bench"], env)
            first.append(timed([INV, "deploy", "--env", "bench"], env))
            noop.append(timed([INV, "deploy", "--env", "bench"], env))
            destroy.append(timed([INV, "destroy", "--env", "bench"], env))
    finally:
        subprocess.run([INV, "local.down", "--env", "bench"], cwd=ROOT, env=env, capture_output=True)

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for name, samples in rows.items():
        print(f"{name:42s} {median(samples)}")
    print(f"{'local deploy (synth + bootstrap + deploy)':42s} {median(first)}")
    print(f"{'no-op redeploy':42s} {median(noop)}")
    print(f"{'destroy (empty bucket + delete stack)':42s} {median(destroy)}")


if __name__ == "__main__":
    main()
