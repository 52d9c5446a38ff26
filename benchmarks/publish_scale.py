"""Benchmark: `inv frontend.publish` against `aws s3 sync --delete` at several build sizes, behind a simulated link.

    .venv/bin/python benchmarks/publish_scale.py                        # 300 and 3,500 files
    .venv/bin/python benchmarks/publish_scale.py --sizes 300,3500,20000
    .venv/bin/python benchmarks/publish_scale.py --files 1000 --latency-ms 50 --upload-mbit 20

For each size a Vite-like build of N files is written (an entry chunk that imports every route chunk by its
fingerprinted name, vendor chunks, route chunks, CSS, images, fonts, six unfingerprinted files; see
``make_build``) and published by each tool, to its own bucket on the same emulator, through the counting proxy
of benchmarks/proxy.py (default link: 20 ms per request, 50 Mbit/s upload), in three scenarios:

- first publish (empty bucket);
- one-module rebuild: the build is written again (every file rewritten, new mtimes) with one route chunk
  changed, so that chunk, the entry chunk and index.html change;
- no-change publish: the same build directory published again, untouched.

Both tools run as CLI processes (`inv frontend.publish --env local`; `aws s3 sync --delete` then
`aws cloudfront create-invalidation --paths '/*'`), exactly as benchmarks/publish.py runs them. Prints, per size
and scenario: wall time, CPU time and peak memory of the tool's processes, requests, bytes uploaded, the
ratios, and the requests by operation (where they go). Not a test: it prints figures.

Expected duration on a 2-core machine with nothing else running: about 1 minute for 300 files, 5 minutes for
3,500, 30 minutes or more for 20,000 (the emulator handles one request in a few milliseconds of CPU, and a
first publish and a sync after a rebuild each send one PUT per file). Each tool run is stopped after
``--run-timeout`` seconds (default 1800), which ends the benchmark with a message.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from proxy import CountingProxy  # noqa: E402
from publish import (  # noqa: E402
    OUT,
    SYNC_BUCKET,
    VENV_BIN,
    _text,
    child_env,
    emit_asset,
    fmt_counts,
    last_invalidation,
    prepare,
    start_emulator,
    tree,
    write_shell,
)

UNFINGERPRINTED = 6  # index.html, 404.html, favicon.svg, robots.txt, manifest.webmanifest, apple-touch-icon.png
FONTS = 8
CHANGED_MODULE = 17


def composition(n: int) -> dict[str, int]:
    """How many files of each kind a build of ``n`` files has (at 308 files: benchmarks/publish.py's build)."""
    if n < 60:
        raise SystemExit(f"--files {n}: a build needs at least 60 files (use e.g. --files 300).")
    vendors = max(1, n // 1000)
    images = 25 + max(0, n - 308) // 200
    css = 20 + max(0, n - 308) // 40
    routes = n - UNFINGERPRINTED - FONTS - 1 - vendors - images - css  # 1: the entry chunk
    if routes <= CHANGED_MODULE:
        images, css = 5, 5
        routes = n - UNFINGERPRINTED - FONTS - 1 - vendors - images - css
    return {"vendors": vendors, "images": images, "css": css, "routes": routes}


def make_build(root: Path, n: int, *, changed_module: int | None = None, seed: int = 7) -> None:
    """Write a Vite-like build of exactly ``n`` files (removing the old one first, as `vite build` does).

    Route chunks are ~15 kB (median) in a small app and ~5 kB in a large one (many small lazy routes).
    """
    shutil.rmtree(root, ignore_errors=True)
    (root / "assets").mkdir(parents=True)
    rng = random.Random(seed)
    kinds = composition(n)
    route_mu = 9.6 if n <= 500 else 8.5

    def emit(name: str, ext: str, data: bytes) -> str:
        return emit_asset(root, name, ext, data)

    vendors = [emit(f"vendor{i}", "js", _text(rng, 900_000 if i == 0 else 300_000)) for i in range(kinds["vendors"])]
    chunks = []
    for i in range(kinds["routes"]):
        body = _text(rng, int(rng.lognormvariate(route_mu, 0.7)))
        if i == changed_module:
            body = body.replace(b"return", b"return /*changed*/", 1)
        chunks.append(emit(f"route{i:05d}", "js", body))
    entry_src = _text(rng, 150_000) + b"".join(b'()=>import("/%s"),' % c.encode() for c in chunks)
    entry = emit("index", "js", entry_src)
    css = [emit(f"style{i:04d}", "css", _text(rng, rng.randint(2_000, 30_000))) for i in range(kinds["css"])]
    for i in range(kinds["images"]):
        emit(f"photo{i:04d}", rng.choice(["webp", "png", "jpg"]), rng.randbytes(rng.randint(120_000, 260_000)))
    for i in range(FONTS):
        emit(f"inter-{i}00-normal", "woff2", rng.randbytes(30_000))
    write_shell(root, rng, css=css[:2], preload=vendors[0], entry=entry)


# ---- running a tool: wall time and the peak memory of its processes ----------------------------------------
def _hwm_kb(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    except (OSError, ValueError):
        return 0


def run_measured(args: list[str], endpoint: str, timeout: float) -> tuple[int, float]:
    """Run one CLI to completion: (peak resident memory in kB, sampled every 5 ms from /proc; CPU seconds).

    (wait4's ru_maxrss would also count the benchmark process itself, copied by the fork before exec; its CPU
    time is the child's own.) On a busy machine the CPU time is the steadier figure.
    """
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, cwd=ROOT, env=child_env(endpoint), stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + timeout
        peak = 0
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            peak = max(peak, _hwm_kb(proc.pid))
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise SystemExit(f"{' '.join(args[:3])} took more than {timeout:g} s (--run-timeout): stopped.")
            time.sleep(0.005)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err.read()[-2000:]}")
    return peak, usage.ru_utime + usage.ru_stime


def tmkit_run(build: Path, endpoint: str, dist: str, timeout: float) -> tuple[list[str] | None, int, float]:
    args = [str(VENV_BIN / "inv"), "frontend.publish", "--env", "local", "--dir", str(build)]
    return None, *run_measured(args, endpoint, timeout)


def sync_run(build: Path, endpoint: str, dist: str, timeout: float) -> tuple[list[str] | None, int, float]:
    aws = [str(VENV_BIN / "aws"), "--endpoint-url", endpoint]
    rss, cpu = run_measured(
        aws + ["s3", "sync", str(build), f"s3://{SYNC_BUCKET}", "--delete", "--only-show-errors"], endpoint, timeout
    )
    invalidation = ["cloudfront", "create-invalidation", "--distribution-id", dist, "--paths", "/*"]
    rss2, cpu2 = run_measured(aws + invalidation, endpoint, 60)
    return ["/*"], max(rss, rss2), cpu + cpu2


def measure(tool, build: Path, proxy: CountingProxy, direct: str, dist: str, timeout: float) -> dict:
    proxy.reset()
    t0 = time.perf_counter()
    paths, rss, cpu = tool(build, proxy.url, dist, timeout)
    wall = time.perf_counter() - t0
    counts, up = proxy.reset()
    counts = {k: v for k, v in counts.items() if v > 0}
    if paths is None:
        paths = last_invalidation(direct, dist) if counts.get("cloudfront:CreateInvalidation") else []
    return {
        "wall": wall,
        "counts": counts,
        "bytes": up,
        "rss_kb": rss,
        "cpu": cpu,
        "paths": paths,
        "requests": sum(counts.values()),
    }


# ---- one size ----------------------------------------------------------------------------------------------
def run_size(n: int, proxy: CountingProxy, direct: str, timeout: float) -> list[dict]:
    build = OUT / f"dist-{n}"
    dist = prepare(direct)
    t_size = time.perf_counter()
    make_build(build, n)
    before = tree(build)
    total = sum(len(b) for b in before.values())
    rows = []

    def both(scenario: str, **extra) -> None:
        tm = measure(tmkit_run, build, proxy, direct, dist, timeout)
        sy = measure(sync_run, build, proxy, direct, dist, timeout)
        rows.append({"files": len(before), "mb": total / 1e6, "scenario": scenario, "tmkit": tm, "sync": sy, **extra})
        say(f"  {n} files, {scenario}: tmkit {tm['wall']:.2f} s, sync {sy['wall']:.2f} s")

    both("first publish")
    make_build(build, n, changed_module=CHANGED_MODULE)
    after = tree(build)
    changed = {p: b for p, b in after.items() if before.get(p) != b}
    changed_bytes = sum(len(b) for b in changed.values())
    both("rebuild", changed_files=len(changed), changed_bytes=changed_bytes)
    both("no change")
    shutil.rmtree(build, ignore_errors=True)
    say(f"  {n} files done in {time.perf_counter() - t_size:.0f} s")
    return rows


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def report(rows: list[dict], link: str) -> None:
    print(f"\n## publish at scale ({link}; both tools as CLI processes) [load average {os.getloadavg()[0]:.1f}]")
    print(
        "\n| build | scenario | inv frontend.publish | aws s3 sync | wall ratio | request ratio |\n"
        "|---|---|---|---|---|---|"
    )
    for r in rows:
        tm, sy = r["tmkit"], r["sync"]
        build = f"{r['files']:,} files, {r['mb']:.1f} MB"
        scenario = r["scenario"]
        if "changed_bytes" in r:
            scenario += f" ({r['changed_files']} files, {r['changed_bytes'] / 1e3:.1f} kB changed)"
        cells = [
            f"{x['wall']:.2f} s ({x['cpu']:.2f} s CPU), {x['requests']} req, {x['bytes'] / 1e6:.3f} MB up, {x['rss_kb'] / 1024:.0f} MiB RSS"
            for x in (tm, sy)
        ]
        wall_ratio = tm["wall"] / sy["wall"] if sy["wall"] else float("nan")
        req_ratio = f"{tm['requests'] / sy['requests']:.2f}x" if sy["requests"] else "-"
        print(f"| {build} | {scenario} | {cells[0]} | {cells[1]} | {wall_ratio:.2f}x | {req_ratio} |")
    print("\nrequests by operation (where they go):")
    for r in rows:
        for tool in ("tmkit", "sync"):
            x = r[tool]
            print(f"  {r['files']:>6} files  {r['scenario']:<13} {tool:<5}  {fmt_counts(x['counts']) or '-'}")
    print("\nrebuild bytes uploaded / changed bytes:")
    for r in rows:
        if "changed_bytes" in r:
            print(
                f"  {r['files']:>6} files: tmkit {r['tmkit']['bytes'] / r['changed_bytes']:.2f}x, "
                f"sync {r['sync']['bytes'] / r['changed_bytes']:.2f}x"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, help="one build size (number of files)")
    ap.add_argument("--sizes", default="300,3500", help="comma-separated build sizes (default 300,3500)")
    ap.add_argument("--latency-ms", type=float, default=20, help="per-request latency of the simulated link")
    ap.add_argument("--upload-mbit", type=float, default=50, help="shared upload bandwidth in Mbit/s (0: off)")
    ap.add_argument("--run-timeout", type=float, default=1800, help="seconds one tool run may take")
    args = ap.parse_args()
    sizes = [args.files] if args.files else [int(s) for s in args.sizes.split(",") if s.strip()]
    for n in sizes:
        composition(n)  # refuse a bad size before starting anything
    os.environ.pop("TM_ENVS_DIR", None)
    # As a user's interpreter: the toolkit's sources compiled once (into __pycache__), not in every process.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for k, v in child_env("").items():
        if k != "AWS_ENDPOINT_URL":
            os.environ[k] = v
    server, port = start_emulator()
    direct = os.environ["AWS_ENDPOINT_URL"] = f"http://localhost:{port}"
    link = f"link simulated: {args.latency_ms:g} ms/request, {args.upload_mbit:g} Mbit/s upload"
    proxy = CountingProxy(port, latency_ms=args.latency_ms, upload_mbit=args.upload_mbit).start()
    rows: list[dict] = []
    try:
        for n in sizes:
            say(f"{n} files ...")
            rows += run_size(n, proxy, direct, args.run_timeout)
    finally:
        proxy.stop()
        server.stop()
        if rows:  # also what was measured before a size ran out of time
            report(rows, link)


if __name__ == "__main__":
    main()
