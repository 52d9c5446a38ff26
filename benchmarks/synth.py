#!/usr/bin/env python3
"""Synth time of every environment: one `cdk synth` CLI call vs a bare `python infra/app.py`.

Usage: .venv/bin/python benchmarks/synth.py [--runs N]
Prints the median wall time (seconds) of each; nothing is asserted. Offline: no AWS call is made.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tmkit.lambda_build import ensure_layer  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k not in ("ENVIRONMENT", "CDK_CONTEXT_JSON", "CDK_OUTDIR")}
ENV.update(
    JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    AWS_EC2_METADATA_DISABLED="true",
    CDK_DISABLE_CLI_TELEMETRY="true",
)


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    ensure_layer()
    cdk = str(ROOT / "node_modules" / ".bin" / "cdk")
    python = str(ROOT / ".venv" / "bin" / "python")
    results: dict[str, list[float]] = {"cdk synth (CLI, all envs)": [], "python -m infra.app (all envs)": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            out = Path(tmp) / f"cli{i}"
            results["cdk synth (CLI, all envs)"].append(
                timed([cdk, "synth", "--quiet", "--no-notices", "--no-version-reporting", "-o", str(out)], ENV)
            )
            out = Path(tmp) / f"bare{i}"
            results["python -m infra.app (all envs)"].append(
                timed([python, "-m", "infra.app"], {**ENV, "CDK_OUTDIR": str(out)})
            )
            envs = sorted(p.name for p in out.glob("*.template.json"))
    print(f"environments: {', '.join(e.removesuffix('.template.json') for e in envs)}; runs: {runs}")
    for name, times in results.items():
        print(f"{name:34s} median {statistics.median(times):6.2f} s  (min {min(times):.2f}, max {max(times):.2f})")


if __name__ == "__main__":
    main()
