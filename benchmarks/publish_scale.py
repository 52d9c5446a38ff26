"""Benchmark: `inv frontend.publish` against `aws s3 sync --delete` at several build sizes, behind a simulated link.

    .venv/bin/python benchmarks/publish_scale.py                        # 300 and 3,500 files
    .venv/bin/python benchmarks/publish_scale.py --sizes 300,3500,20000 --json benchmarks/out/scale.json
    .venv/bin/python benchmarks/publish_scale.py --files 1000 --latency-ms 50 --upload-mbit 20
    .venv/bin/python benchmarks/publish_scale.py --sizes 300,3500 --workers 8,16,32,64 --no-scenarios

For each size a Vite-like build of N files is written (an entry chunk that imports every route chunk by its
fingerprinted name, vendor chunks, route chunks, CSS, images, fonts, six unfingerprinted files; see
``make_build``) and published by each tool, to its own bucket on the same emulator (moto's server in its own
process: benchmarks/emulator.py), through the counting proxy of benchmarks/proxy.py (default link: 20 ms per
request, 50 Mbit/s upload), in three scenarios:

- first publish (empty bucket);
- one-module rebuild: the build is written again (every file rewritten, new mtimes) with one route chunk
  changed, so that chunk, the entry chunk and index.html change; the changed bytes are exact (the files whose
  content differs between the two builds);
- no-change publish: the same build directory published again, untouched.

``--workers 8,16,32`` adds, per size, a first publish (emptied emulator) per count of uploads in flight, each
next to a first `aws s3 sync` (awscli's default: 10 in flight) run right after it under the same conditions.

Both tools run as CLI processes (`inv frontend.publish --env local`; `aws s3 sync --delete` then
`aws cloudfront create-invalidation --paths '/*'`), exactly as benchmarks/publish.py runs them. Prints, per size
and scenario: wall time, CPU time and peak memory of the tool's processes, the emulator's CPU time, requests,
bytes uploaded, the ratios, the requests by operation, where a first publish's time goes (start-up, before the
uploads, the uploads with the mean in flight and how busy the link was, after them, exit), and the targets of
the publish, each with its figure and met / NOT met (benchmarks/scale_report.py). ``--json PATH`` also writes
every row. Not a test: it prints figures.

Duration on the 2-core machine at a low load: about 25 s for 300 files, 1.5 minutes for 3,500 and 9 for
20,000 (each first publish or sync of a rebuilt site sends one PUT per file; the emulator spends 3.5-4 ms of
CPU on each); benchmarks/README.md has the measured runs. Each tool run is stopped after ``--run-timeout``
seconds (default 1800), which ends the benchmark with a message and the figures measured so far.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
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

from emulator import start_emulator  # noqa: E402
from proxy import CountingProxy  # noqa: E402
from publish import (  # noqa: E402
    OUT,
    SYNC_BUCKET,
    VENV_BIN,
    _text,
    child_env,
    emit_asset,
    last_invalidation,
    prepare,
    write_shell,
)
from scale_report import report  # noqa: E402

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


def digests(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of the build: (size, sha256), so that two builds compare exactly without holding their bytes."""
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, hashlib.sha256(p.read_bytes()).digest())
        for p in root.rglob("*")
        if p.is_file()
    }


# ---- running a tool: wall time, CPU, peak memory, and where its requests went ------------------------------
def _hwm_kb(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    except (OSError, ValueError):
        return 0


def run_measured(args: list[str], endpoint: str, timeout: float) -> tuple[int, float, float]:
    """Run one CLI to completion: (peak resident memory in kB, sampled every 5 ms from /proc; CPU seconds;
    the monotonic time it was spawned).

    (wait4's ru_maxrss would also count the benchmark process itself, copied by the fork before exec; its CPU
    time is the child's own.) On a busy machine the CPU time is the steadier figure.
    """
    with tempfile.TemporaryFile("w+") as err:
        spawned = time.monotonic()
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
    return peak, usage.ru_utime + usage.ru_stime, spawned


@functools.cache
def workers_flag() -> bool:
    """Whether `inv frontend.publish` takes --workers (else the benchmark passes the count through the package)."""
    out = subprocess.run(
        [str(VENV_BIN / "inv"), "--help", "frontend.publish"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    return "--workers" in out


def tmkit_args(build: Path, workers: int | None) -> list[str]:
    """`inv frontend.publish --env local --dir BUILD`, with ``workers`` uploads in flight when given: through
    the task's --workers when it has one, else the same `inv` program with the package's ``publish_env``
    given ``workers`` (the task calls it through the package, so nothing else differs)."""
    task = ["frontend.publish", "--env", "local", "--dir", str(build)]
    if workers is None:
        return [str(VENV_BIN / "inv"), *task]
    if workers_flag():
        return [str(VENV_BIN / "inv"), *task, "--workers", str(workers)]
    code = (
        "import sys, tmkit.publish as p; f = p.publish_env; "
        f"p.publish_env = lambda *a, **k: f(*a, **{{**k, 'workers': {workers}}}); "
        "from invoke.main import program; sys.argv[0] = 'inv'; sys.exit(program.run())"
    )
    return [sys.executable, "-c", code, *task]


def tmkit_run(build: Path, endpoint: str, dist: str, timeout: float, workers: int | None = None):
    return None, *run_measured(tmkit_args(build, workers), endpoint, timeout)


def sync_run(build: Path, endpoint: str, dist: str, timeout: float, workers: int | None = None):
    aws = [str(VENV_BIN / "aws"), "--endpoint-url", endpoint]
    rss, cpu, spawned = run_measured(
        aws + ["s3", "sync", str(build), f"s3://{SYNC_BUCKET}", "--delete", "--only-show-errors"], endpoint, timeout
    )
    invalidation = ["cloudfront", "create-invalidation", "--distribution-id", dist, "--paths", "/*"]
    rss2, cpu2, _ = run_measured(aws + invalidation, endpoint, 60)
    return ["/*"], max(rss, rss2), cpu + cpu2, spawned


def is_upload(op: str, path: str) -> bool:
    """A PUT of a site file (not the lock, a release record or the state)."""
    key = path.split("?")[0].split("/", 2)[-1]
    return op == "s3:PutObject" and (not key.startswith("_releases/") or key.startswith("_releases/blobs/"))


def phases(events: list, spawned: float, ended: float, link_rate: float) -> dict:
    """Where a run's wall time went, from the proxy's view of its requests (seconds)."""
    if not events:
        return {}
    first = min(e[0] for e in events)
    last = max(e[1] for e in events)
    ups = [e for e in events if is_upload(e[2], e[4])]
    out = {"startup": first - spawned, "requests": last - first, "exit": ended - last}
    if ups:
        u0, u1 = min(e[0] for e in ups), max(e[1] for e in ups)
        span = max(u1 - u0, 1e-9)
        out.update(
            before_uploads=u0 - first,
            uploads=u1 - u0,
            after_uploads=last - u1,
            in_flight=sum(e[1] - e[0] for e in ups) / span,  # mean uploads in flight
            link_busy=(sum(e[3] for e in ups) / link_rate / span) if link_rate else 0.0,
            others=sum(1 for e in events if not is_upload(e[2], e[4])),
        )
    return out


def measure(tool, build: Path, env: Harness, dist: str, timeout: float, workers: int | None = None) -> dict:
    proxy = env.proxy
    proxy.reset()
    emu0, own0 = env.emulator.cpu_seconds(), time.process_time()
    t0 = time.perf_counter()
    paths, rss, cpu, spawned = tool(build, proxy.url, dist, timeout, workers)
    wall = time.perf_counter() - t0
    ended = time.monotonic()
    emu, own = env.emulator.cpu_seconds() - emu0, time.process_time() - own0
    counts, up, events = proxy.reset_all()
    counts = {k: v for k, v in counts.items() if v > 0}
    if paths is None:
        paths = last_invalidation(env.direct, dist) if counts.get("cloudfront:CreateInvalidation") else []
    return {
        "wall": wall,
        "counts": counts,
        "bytes": up,
        "rss_kb": rss,
        "cpu": cpu,
        "emulator_cpu": emu,
        "proxy_cpu": own,
        "paths": paths,
        "requests": sum(counts.values()),
        "workers": workers,
        "phases": phases(events, spawned, ended, proxy.link.rate),
    }


# ---- one size ----------------------------------------------------------------------------------------------
class Harness:
    """The emulator (its own process, benchmarks/emulator.py) and the counting proxy in front of it."""

    def __init__(self, latency_ms: float, upload_mbit: float):
        self.emulator, port = start_emulator()
        self.direct = os.environ["AWS_ENDPOINT_URL"] = f"http://localhost:{port}"
        self.proxy = CountingProxy(port, latency_ms=latency_ms, upload_mbit=upload_mbit).start()

    def stop(self) -> None:
        self.proxy.stop()
        self.emulator.stop()


def run_size(
    n: int, env: Harness, timeout: float, scenarios: bool, sweep: list[int], repeat: int = 1
) -> tuple[list, list]:
    """The three scenarios at ``n`` files, then a first publish per worker count in ``sweep`` (each against
    an emptied emulator, next to a first `aws s3 sync` under the same conditions), ``repeat`` rounds."""
    build = OUT / f"dist-{n}"
    t_size = time.perf_counter()
    t = time.perf_counter()
    make_build(build, n)
    generated = time.perf_counter() - t
    before = digests(build)
    total = sum(size for size, _ in before.values())
    base = {"files": len(before), "mb": total / 1e6, "generate_s": generated}
    rows, sweep_rows = [], []

    def both(scenario: str, dist: str, workers: int | None = None, **extra) -> dict:
        tm = measure(tmkit_run, build, env, dist, timeout, workers)
        sy = measure(sync_run, build, env, dist, timeout)
        row = {**base, "scenario": scenario, "tmkit": tm, "sync": sy, "load": os.getloadavg()[0], **extra}
        label = f"{scenario}" + (f" --workers {workers}" if workers else "")
        say(f"  {n} files, {label}: tmkit {tm['wall']:.2f} s, sync {sy['wall']:.2f} s (load {row['load']:.1f})")
        return row

    if scenarios:
        dist = prepare(env.direct)
        rows.append(both("first publish", dist))
        t = time.perf_counter()
        make_build(build, n, changed_module=CHANGED_MODULE)
        generated += time.perf_counter() - t
        after = digests(build)
        # exact: the bytes of every file whose content differs between the two builds (or is new)
        changed = {p: d for p, d in after.items() if before.get(p) != d}
        changed_bytes = sum(size for size, _ in changed.values())
        rows.append(both("rebuild", dist, changed_files=len(changed), changed_bytes=changed_bytes))
        rows.append(both("no change", dist))
        if sweep:
            make_build(build, n)
    for _ in range(repeat):
        for workers in sweep:
            sweep_rows.append(both("first publish", prepare(env.direct), workers))
    shutil.rmtree(build, ignore_errors=True)
    say(f"  {n} files done in {time.perf_counter() - t_size:.0f} s (writing the builds: {generated:.1f} s)")
    return rows, sweep_rows


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, help="one build size (number of files)")
    ap.add_argument("--sizes", default="300,3500", help="comma-separated build sizes (default 300,3500)")
    ap.add_argument("--latency-ms", type=float, default=20, help="per-request latency of the simulated link")
    ap.add_argument("--upload-mbit", type=float, default=50, help="shared upload bandwidth in Mbit/s (0: off)")
    ap.add_argument("--run-timeout", type=float, default=1800, help="seconds one tool run may take")
    ap.add_argument("--workers", default="", help="also a first publish per upload count in flight, e.g. 8,16,32,64")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of the --workers first publishes (default 1)")
    ap.add_argument("--no-scenarios", action="store_true", help="only the --workers first publishes")
    ap.add_argument("--json", type=Path, help="also write every row (and the targets) to this file")
    args = ap.parse_args()
    sizes = [args.files] if args.files else [int(s) for s in args.sizes.split(",") if s.strip()]
    sweep = [int(w) for w in args.workers.split(",") if w.strip()]
    for n in sizes:
        composition(n)  # refuse a bad size before starting anything
    if any(w < 1 for w in sweep):
        raise SystemExit(f"--workers {args.workers}: each count must be 1 or more (e.g. --workers 8,16,32).")
    os.environ.pop("TM_ENVS_DIR", None)
    # As a user's interpreter: the toolkit's sources compiled once (into __pycache__), not in every process.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for k, v in child_env("").items():
        if k != "AWS_ENDPOINT_URL":
            os.environ[k] = v
    link = f"link simulated: {args.latency_ms:g} ms/request, {args.upload_mbit:g} Mbit/s upload"
    env = Harness(args.latency_ms, args.upload_mbit)
    rows: list[dict] = []
    sweep_rows: list[dict] = []
    started = time.time()
    try:
        for n in sizes:
            say(f"{n} files ...")
            r, s = run_size(n, env, args.run_timeout, not args.no_scenarios, sweep, max(1, args.repeat))
            rows += r
            sweep_rows += s
    finally:
        env.stop()
        if rows or sweep_rows:  # also what was measured before a size ran out of time
            meta = {"link": link, "latency_ms": args.latency_ms, "upload_mbit": args.upload_mbit}
            meta.update(started=started, seconds=time.time() - started, cpus=os.cpu_count())
            meta.update(workers_via="--workers" if sweep and workers_flag() else "publish_env(workers=N)")
            report(rows, sweep_rows, meta, args.json)


if __name__ == "__main__":
    main()
