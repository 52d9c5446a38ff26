#!/usr/bin/env python3
"""Start-up cost: `inv --list` vs a bare `python -c "import invoke"`, and a task's way to its first AWS request.

Usage: .venv/bin/python benchmarks/startup.py [--runs N]

Prints the median and minimum wall time (seconds) of:
- `import invoke`; `inv --list` over a one-task tasks.py (invoke's own floor); `inv --list` of this repository;
  then the heavy modules `inv --list` loads (should be none: they are imported inside the functions that use them);
- the start-up breakdown of a task, measured inside a fresh interpreter that does what `inv frontend.publish
  --env local` does before its first request, against an emulator started here: interpreter start (process
  spawn to the first line), `import invoke`, `import tasks` (every task module), config load (`load_env`),
  botocore session (import and creation), first client (CloudFormation), first request (DescribeStacks);
  each step's wall time and CPU time (the CPU time is the steadier figure on a busy machine); then the S3
  client, made in a background thread while DescribeStacks waits (its time counts from the first request);
- the real thing: `inv frontend.publish --env local` of a two-file build to a deployed stack, from process spawn
  until its first request (DescribeStacks) and its first S3 request reach the emulator (seen by the counting
  proxy of benchmarks/proxy.py);
- with --modules: where the imports of that path go, per step and top-level package (`-X importtime` self
  times summed per package, median over the runs; importtime's own overhead inflates them by about a fifth).
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
HEAVY = ("boto3", "botocore", "aws_cdk", "jsii", "moto", "jwt", "cryptography", "pydantic")

# Runs in the child: wall clock (time.time, comparable with the parent's) and CPU time after each step.
AFTER = "S3 client ready"
PROBE = (
    f"AFTER = {AFTER!r}\n"
    + """
import json, sys, time
marks = [("interpreter", time.time(), time.process_time())]
def mark(step):
    marks.append((step, time.time(), time.process_time()))
    sys.stderr.write(f"@@{step}\\n")  # for --modules: the imports above this line belong to ``step``
import invoke
mark("import invoke")
import tasks
mark("import tasks")
from tmkit.tasks._base import fewer_collections, load
task_body = fewer_collections()  # as tm_task runs a task's body (kept referenced: its exit restores the threshold)
task_body.__enter__()
cfg = load("local")
mark("config load")
from tmkit import aws
aws.session(cfg)
mark("botocore session")
cfn = aws.client(cfg, "cloudformation")
mark("first client")
s3 = aws.client_later(cfg, "s3", max_pool=12)  # as tmkit.publish.environment.target does
try:
    cfn.describe_stacks(StackName=cfg.stack_name)
except Exception as exc:  # the stack need not exist: the request was made
    if "does not exist" not in str(exc):
        raise
mark("first request")
s3.get()
mark(AFTER)
print(json.dumps(marks))
"""
)


def timed(argv: list[str], runs: int) -> list[float]:
    times = []
    subprocess.run(argv, cwd=ROOT, env=child_env(), check=True, stdout=subprocess.DEVNULL)  # warm __pycache__
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=child_env(), check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def child_env(endpoint: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("TM_ENVS_DIR", "ENVIRONMENT")}
    env["PYTHONPATH"] = str(ROOT)
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def breakdown(endpoint: str, runs: int) -> None:
    """Median per step over ``runs`` fresh interpreters."""
    steps: dict[str, list[tuple[float, float]]] = {}
    totals, cpu_totals = [], []
    subprocess.run(
        [str(BIN / "python"), "-c", PROBE], cwd=ROOT, env=child_env(endpoint), check=True, capture_output=True
    )
    for _ in range(runs):
        spawned = time.time()
        out = subprocess.run(
            [str(BIN / "python"), "-c", PROBE], cwd=ROOT, env=child_env(endpoint), check=True, capture_output=True
        ).stdout
        marks = json.loads(out)
        prev_wall, prev_cpu = spawned, 0.0
        for step, wall, cpu in marks:
            steps.setdefault(step, []).append((wall - prev_wall, cpu - prev_cpu))
            prev_wall, prev_cpu = wall, cpu
        first_request = next(m for m in marks if m[0] == "first request")
        totals.append(first_request[1] - spawned)
        cpu_totals.append(first_request[2])
    print(f"\nstart-up breakdown, process start to first request (median of {runs} runs; emulator on loopback):")
    print(f"  {'step':<18} {'wall s':>7} {'cpu s':>7}")
    for step, values in steps.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        note = "  (spawn to first line; cpu: the interpreter's own)" if step == "interpreter" else ""
        if step == "first request":
            note = "  (cpu: the process's, with the S3 client being made meanwhile)"
        if step == AFTER:
            print(f"  {'total':<18} {statistics.median(totals):>7.3f} {statistics.median(cpu_totals):>7.3f}")
            note = "  (after the first request; made in a background thread while it waited)"
        print(f"  {step:<18} {wall:>7.3f} {cpu:>7.3f}{note}")


def modules(endpoint: str, runs: int, top: int = 10) -> None:
    """Import CPU per step and top-level package along the probe's path (``-X importtime`` self times)."""
    per_run: list[dict[tuple[str, str], float]] = []
    for _ in range(runs):
        err = subprocess.run(
            [str(BIN / "python"), "-X", "importtime", "-c", PROBE],
            cwd=ROOT,
            env=child_env(endpoint),
            capture_output=True,
            text=True,
        ).stderr
        sums: dict[tuple[str, str], float] = {}
        pending: dict[str, float] = {}  # imports since the last mark: they belong to the next step
        for line in err.splitlines():
            if line.startswith("@@"):
                for package, seconds in pending.items():
                    sums[(line[2:], package)] = seconds
                pending = {}
            elif line.startswith("import time:") and line.count("|") == 2:
                own, _, name = line[len("import time:") :].split("|")
                if own.strip().isdigit():
                    package = name.strip().split(".")[0]
                    pending[package] = pending.get(package, 0.0) + int(own) / 1e6
        per_run.append(sums)
    steps = list(dict.fromkeys(k[0] for run in per_run for k in run))
    print(f"\nimports per step and top-level package, -X importtime self times, median of {runs} runs (s):")
    for step in steps:
        names = {k[1] for run in per_run for k in run if k[0] == step}
        median = {n: statistics.median(run.get((step, n), 0.0) for run in per_run) for n in names}
        total = statistics.median(sum(v for k, v in run.items() if k[0] == step) for run in per_run)
        shown = ", ".join(f"{n} {v:.3f}" for n, v in sorted(median.items(), key=lambda kv: -kv[1])[:top] if v >= 0.001)
        print(f"  {step:<18} {total:.3f}  {shown}")


def publish_first_request(proxy_url: str, proxy, runs: int) -> None:
    """`inv frontend.publish --env local` of a two-file build to a deployed stack: process spawn until its first
    request, and its first S3 request, reach the proxy. Each publish runs to its end (no lock is left behind)."""
    firsts, s3_firsts = [], []
    with tempfile.TemporaryDirectory() as build:
        Path(build, "assets").mkdir()
        Path(build, "assets", "app-0123abcd.js").write_text("console.log('startup');\n")
        Path(build, "index.html").write_text('<!doctype html><script type="module" src="/assets/app-0123abcd.js">')
        for _ in range(runs):
            proxy.reset()
            first = s3_first = None
            start = time.perf_counter()
            proc = subprocess.Popen(
                [str(BIN / "inv"), "frontend.publish", "--env", "local", "--dir", build],
                cwd=ROOT,
                env=child_env(proxy_url),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            while s3_first is None and proc.poll() is None and time.perf_counter() - start < 60:
                counts = dict(proxy.counts)
                now = time.perf_counter() - start
                if first is None and counts:
                    first = now
                if any(k.startswith("s3:") for k in counts):
                    s3_first = now
                time.sleep(0.0005)
            err = proc.communicate()[1]
            if first is None or s3_first is None or proc.returncode:
                raise SystemExit(
                    f"the publish made no S3 request or failed ({proc.returncode}):\n{err.decode()[-2000:]}"
                )
            firsts.append(first)
            s3_firsts.append(s3_first)
    print(
        f"\n`inv frontend.publish --env local`, spawn to first request at the emulator: "
        f"median {statistics.median(firsts):.3f} s  min {min(firsts):.3f} s  ({runs} runs)"
    )
    print(
        f"`inv frontend.publish --env local`, spawn to first S3 request:         "
        f"median {statistics.median(s3_firsts):.3f} s  min {min(s3_firsts):.3f} s  ({runs} runs)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--compile", action="store_true", help="keep PYTHONDONTWRITEBYTECODE: every process compiles the sources"
    )
    parser.add_argument("--modules", action="store_true", help="also print import time per step and package")
    args = parser.parse_args()
    runs = args.runs
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not args.compile:
        # Otherwise every measured process compiles the toolkit's sources again, which a user's interpreter
        # (writing __pycache__) does once.
        del os.environ["PYTHONDONTWRITEBYTECODE"]
        print("PYTHONDONTWRITEBYTECODE was set: unset for the measured processes (--compile keeps it)")
    print(f"[load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs]")
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

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from proxy import CountingProxy
    from publish import prepare, start_emulator

    server, port = start_emulator()
    proxy = CountingProxy(port).start()
    try:
        breakdown(f"http://localhost:{port}", runs)
        if args.modules:
            modules(f"http://localhost:{port}", runs)
        prepare(f"http://localhost:{port}")  # the local stack, with its bucket and distribution as outputs
        publish_first_request(proxy.url, proxy, runs)
    finally:
        proxy.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
