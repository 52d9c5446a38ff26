"""API Lambda memory with many distinct users (moto in-process, no network): prints figures.

  .venv/bin/python benchmarks/lambda_memory.py [--users 1000]

A warm container serves GET /tasks once for each of N distinct users (each a new session-tagged
role session, i.e. a new entry in the per-user credential cache of lambda/api/tm_api/credentials.py)
and reports:
  - the function's footprint before the first request: RSS after importing the handler and its
    dependencies, before moto is imported (close to what Lambda reports for a cold start);
  - the Python heap growth over the N users (tracemalloc peak, counted from after the table exists);
    it includes moto's own bookkeeping for N role sessions, so it overstates the function's share;
  - the estimate (footprint + growth) against half the function's configured memory, read from
    infra/components/api.py (MEMORY_SIZE_MB) in a child process so aws_cdk is not loaded here.
Exit status 1 when the estimate is not under half the configured memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda" / "api"))
sys.path.insert(0, str(ROOT))

from api import ENV  # noqa: E402  (benchmarks/api.py: the function's environment for an in-process run)

MB = 1024 * 1024


def configured_memory_mb() -> int:
    """MemorySize of the API function as the CDK app sets it (imported in a child: aws_cdk is heavy)."""
    out = subprocess.run(
        [sys.executable, "-c", "from infra.components.api import MEMORY_SIZE_MB; print(MEMORY_SIZE_MB)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return int(out.stdout.strip())


def rss_mb(field: str = "VmRSS") -> float:
    """Resident set size (or its peak, VmHWM) of this process from /proc, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"/proc/self/status has no {field}: this benchmark needs Linux")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()
    limit_mb = configured_memory_mb()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(ENV)

    import app  # the handler and everything it imports, as in a cold start

    from tm_api.events import rest_event

    footprint = rss_mb()
    from moto import mock_aws

    with mock_aws():
        import boto3

        boto3.client("dynamodb").create_table(
            TableName=ENV["TABLE_NAME"],
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
        )
        app.reset()
        rss_before = rss_mb()
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        t0 = time.perf_counter()
        for n in range(args.users):
            sub = f"{n:08x}-2222-4000-8000-000000000000"
            status = app.handler(rest_event("GET", "/tasks", claims={"sub": sub}), None)["statusCode"]
            if status != 200:
                raise SystemExit(f"GET /tasks answered {status} for user {n}: the benchmark setup is broken")
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        cached = len(app.deps().store.credentials)
        rss_after, rss_peak = rss_mb(), rss_mb("VmHWM")
        app.reset()

    growth = (peak - base) / MB
    estimate = footprint + growth
    half = limit_mb / 2
    print(f"configured memory: {limit_mb} MB (infra/components/api.py MEMORY_SIZE_MB); budget: half = {half:.0f} MB")
    print(f"function footprint before the first request (RSS, handler imported, no moto): {footprint:.1f} MB")
    print(
        f"{args.users} distinct users: Python heap growth (tracemalloc peak, incl. moto's state) {growth:.1f} MB; "
        f"{cached} users cached; {elapsed:.1f} s"
    )
    print(f"process RSS (includes moto): {rss_before:.1f} MB before, {rss_after:.1f} MB after, peak {rss_peak:.1f} MB")
    verdict = "under" if estimate < half else "NOT under"
    print(f"estimate (footprint + growth): {estimate:.1f} MB, {verdict} half the configured memory ({half:.0f} MB)")
    if estimate >= half:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
