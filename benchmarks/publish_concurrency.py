"""Benchmark: pairs of concurrent publishes of one environment, on the emulator.

    .venv/bin/python benchmarks/publish_concurrency.py              # 20 pairs, the second waits (--wait-lock)
    .venv/bin/python benchmarks/publish_concurrency.py --no-wait    # the second refuses, naming the holder

A moto server (with the emulator's patches) runs in this process. Each round publishes a base build, then
starts two publishes of two different builds at the same moment (two threads, each with its own clients),
and checks the result:
- site consistent: the live index.html and every asset it loads (transitively) are in the bucket;
- records consistent: the release index.html belongs to is the one state.json names and the newest in the
  history, and every release that reported success is in the history (or was refused with the lock message).
Prints N/rounds for each. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port  # noqa: E402
from tests.integration.test_publish import BUCKET, assert_site_consistent, make_build  # noqa: E402


def round_trip(endpoint: str, tmp: Path, n: int, wait_lock: float) -> tuple[bool, bool, int]:
    """One round: (site consistent, records consistent, publishes refused)."""
    from tmkit import publish as pub
    from tmkit.aws import client
    from tmkit.config import load_env
    from tmkit.errors import ToolkitError

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    cfg = load_env("local")
    s3 = client(cfg, "s3", max_pool=20)
    s3.create_bucket(Bucket=BUCKET)
    make_build(tmp / "base", tasks=f"base{n}")
    pub.publish(s3, None, BUCKET, None, tmp / "base")
    dirs = [tmp / "a", tmp / "b"]
    for d, name in zip(dirs, ("A", "B"), strict=True):
        make_build(d, tasks=f"{name}{n}")
    landed, refused, errors = [], [], []
    barrier = threading.Barrier(2)

    def run(d: Path) -> None:
        own = client(cfg, "s3", max_pool=20)
        barrier.wait()
        try:
            landed.append(pub.publish(own, None, BUCKET, None, d, wait_lock=wait_lock).plan.release)
        except ToolkitError as exc:
            (refused if "holds the lock" in str(exc) else errors).append(exc)
        except Exception as exc:
            errors.append(exc)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, dirs))
    try:
        assert_site_consistent(s3)
        site_ok = True
    except Exception:
        site_ok = False
    remote = pub.read_remote(s3, BUCKET)
    history = [e["id"] for e in remote.history]
    records_ok = (
        not errors
        and remote.live == remote.recorded_live == history[-1]
        and set(landed) <= set(history)
        and len(landed) + len(refused) == 2
        and pub.LOCK_KEY not in remote.objects
    )
    for e in errors:
        print(f"round {n}: {type(e).__name__}: {e}", file=sys.stderr)
    return site_ok, records_ok, len(refused)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--no-wait", action="store_true", help="the second publish refuses instead of waiting")
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    from tmkit.emulator import patches

    patches.apply()
    port = free_port()
    os.environ.pop("TM_ENVS_DIR", None)
    endpoint = os.environ["AWS_ENDPOINT_URL"] = f"http://localhost:{port}"
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    site = records = refused = 0
    started = time.monotonic()
    try:
        for n in range(args.pairs):
            with tempfile.TemporaryDirectory() as tmp:
                s, r, x = round_trip(endpoint, Path(tmp), n, 0 if args.no_wait else 60)
            site, records, refused = site + s, records + r, refused + x
    finally:
        srv.stop()
    mode = "second refuses (--wait-lock 0)" if args.no_wait else "second waits (--wait-lock 60)"
    print(f"{args.pairs} pairs of concurrent publishes, {mode}, {time.monotonic() - started:.0f}s:")
    print(f"live site consistent:  {site}/{args.pairs}")
    print(f"release records right: {records}/{args.pairs}")
    print(f"publishes refused with the holder named: {refused}")


if __name__ == "__main__":
    main()
