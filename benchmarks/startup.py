#!/usr/bin/env python3
"""Start-up cost of the task list: `inv --list` vs a bare `python -c "import invoke"`.

Usage: .venv/bin/python benchmarks/startup.py [--runs N]
Prints the median and minimum wall time (seconds) of: `import invoke`; `inv --list` over a one-task
tasks.py (invoke's own floor); `inv --list` of this repository. Then the heavy modules `inv --list`
loads (should be none: they are imported inside the functions that use them). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
HEAVY = ("boto3", "botocore", "aws_cdk", "jsii", "moto", "jwt", "cryptography", "pydantic")


def timed(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    loaded = subprocess.run(
        [str(BIN / "python"), "-c", f"import sys, tasks; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as empty:
        Path(empty, "tasks.py").write_text("from invoke import task\n\n\n@task\ndef hello(c):\n    pass\n")
        for label, argv in (
            ('python -c "import invoke"', [str(BIN / "python"), "-c", "import invoke"]),
            ("inv --list (one-task tasks.py)", [str(BIN / "inv"), "--search-root", empty, "--list"]),
            ("inv --list (this repository)", [str(BIN / "inv"), "--list"]),
        ):
            times = timed(argv, runs)
            print(f"{label:32} median {statistics.median(times):.3f} s  min {min(times):.3f} s  ({runs} runs)")
    print(f"heavy modules loaded by `inv --list`: {loaded or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
