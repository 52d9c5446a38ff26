"""Benchmark: peak memory of a publish as a function of file size, on the emulator.

    .venv/bin/python benchmarks/publish_memory.py            # a 1 KB and a 50 MB file
    .venv/bin/python benchmarks/publish_memory.py --mb 200

A moto server runs in this process; each publish runs in a fresh child interpreter (so the server's copy of
the objects is not counted) and reports how much its RSS grew during the publish (sampled every 2 ms,
after the SDK's models are loaded) and its peak RSS (``ru_maxrss``). The build is an index.html plus one
fingerprinted asset of the given size. Uploads are streamed, so the 50 MB publish should peak within a few
MB of the 1 KB one. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port  # noqa: E402

BUCKET = "bench-memory-site"
CHILD = """
import json, resource, sys, threading, time
from tmkit import publish as pub
from tmkit.aws import client
from tmkit.config import load_env

def rss_kb():
    with open("/proc/self/status") as fh:
        return int(next(line for line in fh if line.startswith("VmRSS:")).split()[1])

s3 = client(load_env("local"), "s3")
s3.list_objects_v2(Bucket=sys.argv[1])  # load the SDK's models before measuring
start, peak, done = rss_kb(), [0], threading.Event()

def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss_kb())
        time.sleep(0.002)

sampler = threading.Thread(target=sample)
sampler.start()
pub.publish(s3, None, sys.argv[1], None, sys.argv[2])
done.set()
sampler.join()
print(json.dumps({"grew_kb": max(peak[0], rss_kb()) - start, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def build(root: Path, size: int) -> None:
    (root / "assets").mkdir(parents=True)
    name = "assets/blob-Zq8xK2pQ.bin"
    with open(root / name, "wb") as fh:
        chunk = os.urandom(1 << 20)
        for _ in range(size >> 20):
            fh.write(chunk)
        fh.write(os.urandom(size % (1 << 20)))
    (root / "index.html").write_text(f'<!doctype html><link rel="preload" href="/{name}">')


def measure(endpoint: str, size: int) -> tuple[float, float]:
    """(RSS growth during the publish, peak RSS of the process), in MB."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint}
    from tmkit.aws import client
    from tmkit.config import load_env

    client(load_env("local"), "s3").create_bucket(Bucket=BUCKET)
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp) / "dist", size)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, BUCKET, str(Path(tmp) / "dist")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return figures["grew_kb"] / 1024, figures["peak_kb"] / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=50, help="size of the large file in MB (default 50)")
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    port = free_port()
    os.environ.pop("TM_ENVS_DIR", None)
    os.environ["AWS_ENDPOINT_URL"] = f"http://localhost:{port}"
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    try:
        small = measure(os.environ["AWS_ENDPOINT_URL"], 1024)
        large = measure(os.environ["AWS_ENDPOINT_URL"], args.mb << 20)
    finally:
        srv.stop()
    for label, (grew, peak) in (("1 KB", small), (f"{args.mb} MB", large)):
        print(f"publishing a {label} file: RSS grew {grew:6.1f} MB during the publish; process peak {peak:6.1f} MB")
    print(f"difference: {large[0] - small[0]:+.1f} MB for {args.mb} MB more data (about 0 when streamed)")


if __name__ == "__main__":
    main()
