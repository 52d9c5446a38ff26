"""Benchmark: `inv frontend.publish` against `aws s3 sync --delete`, on the emulator, through a counting proxy.

    .venv/bin/python benchmarks/publish.py                 # link simulated (20 ms, 50 Mbit/s), then plain loopback
    .venv/bin/python benchmarks/publish.py --latency-ms 50 --upload-mbit 20 --no-loopback

A realistic Vite-like build (>= 300 files, >= 10 MB: an entry chunk that imports every route chunk by its
fingerprinted name, a vendor chunk, route chunks, CSS, images, fonts, a few unfingerprinted files) is
published twice by each tool, to its own bucket on the same endpoint: first publish, then after a rebuild in
which one module changed (every file rewritten, so new mtimes; one route chunk, the entry chunk and
index.html changed). Both tools run as CLIs (`inv frontend.publish --env local`, `aws s3 sync --delete` followed
by the usual `aws cloudfront create-invalidation --paths '/*'`) and, to take interpreter start-up out of the
figures, in-process (the package function; awscli's driver). Prints wall time, S3 requests by type, bytes
uploaded and invalidation paths, and checks the targets. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from emulator import start_emulator  # noqa: E402  (moto's server in its own process; also startup.py's)
from proxy import CountingProxy  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
VENV_BIN = Path(sys.executable).parent
SYNC_BUCKET = "bench-sync-site"


# ---- a Vite-like build ---------------------------------------------------------------------------
def vite_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest())[:8].decode()


def _text(rng: random.Random, size: int) -> bytes:
    words = [
        b"const",
        b"function",
        b"return",
        b"import",
        b"export",
        b"=>",
        b"useState",
        b"props",
        b"div",
        b"className",
        b"await",
        b"fetch",
        b"null",
        b"true",
        b"{",
        b"}",
        b"(",
        b")",
        b";",
    ]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + (b"_%x " % rng.getrandbits(24))
    return bytes(out[:size])


def emit_asset(root: Path, name: str, ext: str, data: bytes) -> str:
    """Write a fingerprinted asset as Vite names it; returns its build path."""
    path = f"assets/{name}-{vite_hash(data)}.{ext}"
    (root / path).write_bytes(data)
    return path


def write_shell(root: Path, rng: random.Random, *, css: list[str], preload: str, entry: str) -> None:
    """index.html loading ``css``, ``preload`` and ``entry``, and the unfingerprinted files a build has."""
    links = "".join(f'<link rel="stylesheet" href="/{c}">' for c in css)
    (root / "index.html").write_text(
        f'<!doctype html><html><head><meta charset="UTF-8"><link rel="icon" href="/favicon.svg">{links}'
        f'<link rel="modulepreload" href="/{preload}"><script type="module" src="/{entry}"></script></head>'
        f'<body><div id="root"></div></body></html>'
    )
    (root / "404.html").write_text("<!doctype html><title>Not found</title>")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "robots.txt").write_text("User-agent: *\n")
    (root / "manifest.webmanifest").write_text('{"name":"TimeManagement"}')
    (root / "apple-touch-icon.png").write_bytes(rng.randbytes(9_000))


def make_build(root: Path, *, changed_module: int | None = None, seed: int = 7) -> dict:
    """Write the build (removing the old one first, as `vite build` does). Returns sizes and names."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "assets").mkdir(parents=True)
    rng = random.Random(seed)
    names = {}

    def emit(name: str, ext: str, data: bytes) -> str:
        return emit_asset(root, name, ext, data)

    vendor = emit("vendor", "js", _text(rng, 900_000))
    chunks = []
    for i in range(250):
        body = _text(rng, int(rng.lognormvariate(9.6, 0.7)))  # median ~15 KB
        if i == changed_module:
            body = body.replace(b"return", b"return /*changed*/", 1)
        chunks.append(emit(f"route{i:03d}", "js", body))
    entry_src = _text(rng, 150_000) + b"".join(b'()=>import("/%s"),' % c.encode() for c in chunks)
    entry = emit("index", "js", entry_src)
    css = [emit(f"style{i:02d}", "css", _text(rng, rng.randint(2_000, 30_000))) for i in range(20)]
    for i in range(25):
        emit(f"photo{i:02d}", rng.choice(["webp", "png", "jpg"]), rng.randbytes(rng.randint(120_000, 260_000)))
    for i in range(8):
        emit(f"inter-{i}00-normal", "woff2", rng.randbytes(30_000))
    write_shell(root, rng, css=css[:2], preload=vendor, entry=entry)
    names.update(entry=entry, chunk=chunks[changed_module] if changed_module is not None else None)
    return names


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# ---- the emulator and the proxy ------------------------------------------------------------------
def prepare(endpoint: str) -> str:
    """Fresh emulator state: the local stack (bucket + distribution as outputs) and the sync bucket."""
    from tmkit.aws import client
    from tmkit.config import load_env

    os.environ["AWS_ENDPOINT_URL"] = endpoint  # never the shared emulator port from envs/local.toml
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    cfg = load_env("local")
    cf = client(cfg, "cloudfront")
    dist = cf.create_distribution(
        DistributionConfig={
            "CallerReference": str(time.time()),
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {"Id": "o", "DomainName": "site.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "o",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )["Distribution"]["Id"]
    template = {
        "Resources": {
            "Site": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "timemanagement-local-frontend-bench"}}
        },
        "Outputs": {"FrontendBucketName": {"Value": {"Ref": "Site"}}, "DistributionId": {"Value": dist}},
    }
    client(cfg, "cloudformation").create_stack(StackName=cfg.stack_name, TemplateBody=json.dumps(template))
    client(cfg, "s3").create_bucket(Bucket=SYNC_BUCKET)
    return dist


# ---- the two tools -------------------------------------------------------------------------------
def child_env(endpoint: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        ENVIRONMENT="local",
    )
    return env


def run_cli(args: list[str], endpoint: str) -> None:
    proc = subprocess.run(args, cwd=ROOT, env=child_env(endpoint), capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")


def tmkit_cli(build: Path, endpoint: str, dist: str) -> list[str]:
    run_cli([str(VENV_BIN / "inv"), "frontend.publish", "--env", "local", "--dir", str(build)], endpoint)
    return None  # read from the emulator afterwards


def sync_cli(build: Path, endpoint: str, dist: str) -> list[str]:
    aws = [str(VENV_BIN / "aws"), "--endpoint-url", endpoint]
    run_cli(aws + ["s3", "sync", str(build), f"s3://{SYNC_BUCKET}", "--delete", "--only-show-errors"], endpoint)
    run_cli(aws + ["cloudfront", "create-invalidation", "--distribution-id", dist, "--paths", "/*"], endpoint)
    return ["/*"]


def tmkit_lib(build: Path, endpoint: str, dist: str) -> list[str]:
    from tmkit import publish as pub
    from tmkit.config import load_env

    os.environ["AWS_ENDPOINT_URL"] = endpoint
    return pub.publish_env(load_env("local"), build).plan.invalidation


def sync_lib(build: Path, endpoint: str, dist: str) -> list[str]:
    from awscli.clidriver import create_clidriver

    from tmkit.localserve import process_environment

    with process_environment(child_env(endpoint)):
        for args in (
            ["s3", "sync", str(build), f"s3://{SYNC_BUCKET}", "--delete", "--only-show-errors"],
            ["cloudfront", "create-invalidation", "--distribution-id", dist, "--paths", "/*"],
        ):
            with contextlib.redirect_stdout(io.StringIO()):
                rc = create_clidriver().main(["--endpoint-url", endpoint] + args)
            if rc:
                raise SystemExit(f"aws {' '.join(args)} failed ({rc})")
    return ["/*"]


def last_invalidation(endpoint: str, dist: str) -> list[str]:
    from tmkit.aws import client
    from tmkit.config import load_env

    os.environ["AWS_ENDPOINT_URL"] = endpoint
    cf = client(load_env("local"), "cloudfront")
    items = cf.list_invalidations(DistributionId=dist)["InvalidationList"].get("Items", [])
    if not items:
        return []
    newest = max(items, key=lambda i: i["CreateTime"])
    return cf.get_invalidation(DistributionId=dist, Id=newest["Id"])["Invalidation"]["InvalidationBatch"]["Paths"][
        "Items"
    ]


# ---- the measurement -----------------------------------------------------------------------------
def measure(fn, build: Path, proxy: CountingProxy, endpoint_direct: str, dist: str) -> dict:
    proxy.reset()
    t0 = time.perf_counter()
    paths = fn(build, proxy.url, dist)
    wall = time.perf_counter() - t0
    counts, up = proxy.reset()
    if paths is None:
        paths = last_invalidation(endpoint_direct, dist) if counts["cloudfront:CreateInvalidation"] else []
    counts = {k: v for k, v in counts.items() if v > 0}
    return {"wall": wall, "counts": counts, "bytes": up, "paths": paths, "requests": sum(counts.values())}


def fmt_counts(counts: dict) -> str:
    return ", ".join(f"{k.split(':')[-1]} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def scenario(label: str, proxy: CountingProxy, direct: str, mode: str) -> dict:
    tmkit_fn, sync_fn = (tmkit_cli, sync_cli) if mode == "cli" else (tmkit_lib, sync_lib)
    build = OUT / "dist"
    dist = prepare(direct)
    rows = {}
    make_build(build)
    before = tree(build)
    rows["tmkit first"] = measure(tmkit_fn, build, proxy, direct, dist)
    rows["sync first"] = measure(sync_fn, build, proxy, direct, dist)
    make_build(build, changed_module=17)
    after = tree(build)
    changed = {p: b for p, b in after.items() if before.get(p) != b}
    rows["tmkit rebuild"] = measure(tmkit_fn, build, proxy, direct, dist)
    rows["sync rebuild"] = measure(sync_fn, build, proxy, direct, dist)

    total = sum(len(b) for b in after.values())
    changed_bytes = sum(len(b) for b in changed.values())
    print(
        f"\n== {label} ({'both as CLI processes' if mode == 'cli' else 'both in-process'}) "
        f"[load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs] == build: {len(after)} files, {total / 1e6:.1f} MB; rebuild changed "
        f"{len(changed)} files ({', '.join(sorted(changed))[:120]}...), {changed_bytes / 1e3:.1f} kB"
    )
    print(f"{'run':<15} {'wall s':>7} {'reqs':>5} {'uploaded':>11}  invalidation  S3/CloudFront requests by type")
    for name, r in rows.items():
        print(
            f"{name:<15} {r['wall']:>7.2f} {r['requests']:>5} {r['bytes'] / 1e6:>8.3f} MB  "
            f"{' '.join(r['paths']) or '-':<12}  {fmt_counts(r['counts'])}"
        )
    speedup = rows["sync rebuild"]["wall"] / rows["tmkit rebuild"]["wall"]
    ratio = rows["tmkit rebuild"]["bytes"] / changed_bytes
    first = rows["tmkit first"]["wall"] / rows["sync first"]["wall"]
    print(
        f"rebuild: tmkit {speedup:.1f}x faster than sync, uploaded {ratio:.2f}x the changed files' size; "
        f"first publish: tmkit takes {first:.2f}x sync's time"
    )
    return {"speedup": speedup, "ratio": ratio, "first": first}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--latency-ms", type=float, default=20, help="per-request latency of the simulated link (0: off)")
    ap.add_argument("--upload-mbit", type=float, default=50, help="shared upload bandwidth in Mbit/s (0: off)")
    ap.add_argument("--no-loopback", action="store_true", help="skip the plain-loopback run")
    ap.add_argument("--modes", default="cli,lib", help="cli (both tools as commands), lib (both in-process), or both")
    args = ap.parse_args()
    os.environ.pop("TM_ENVS_DIR", None)
    for k, v in child_env("").items():
        if k != "AWS_ENDPOINT_URL":
            os.environ[k] = v
    server, port = start_emulator()
    direct = os.environ["AWS_ENDPOINT_URL"] = f"http://localhost:{port}"
    links = [
        (
            f"link simulated: {args.latency_ms:g} ms/request, {args.upload_mbit:g} Mbit/s upload",
            args.latency_ms,
            args.upload_mbit,
        )
    ]
    if not args.no_loopback:
        links.append(("plain loopback", 0, 0))
    results = {}
    try:
        for label, latency, mbit in links:
            proxy = CountingProxy(port, latency_ms=latency, upload_mbit=mbit).start()
            try:
                for mode in args.modes.split(","):
                    results[(label, mode)] = scenario(label, proxy, direct, mode)
            finally:
                proxy.stop()
    finally:
        server.stop()
    print(
        "\ntargets (link simulated): rebuild bytes <= 2x changed, rebuild >= 5x faster than sync, first publish "
        "no slower than sync"
    )
    for (label, mode), r in results.items():
        if label.startswith("link"):
            ok = r["ratio"] <= 2 and r["speedup"] >= 5 and r["first"] <= 1.0
            print(
                f"  {mode}: bytes {r['ratio']:.2f}x, rebuild {r['speedup']:.1f}x faster, first {r['first']:.2f}x "
                f"-> {'MET' if ok else 'NOT MET'}"
            )


if __name__ == "__main__":
    main()
