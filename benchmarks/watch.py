"""Benchmark: from saving a Lambda file to the new code answering on the emulator (`inv watch` + `inv local.serve`).

  .venv/bin/python benchmarks/watch.py [--saves 5]

Starts the emulator on a free loopback port, a stack like `inv deploy --env local` leaves (built directly, as
tests/integration/test_localserve.py does), `inv local.serve` on a copy of lambda/api (the repository is never
edited), and the watch loop with its real polling settings. Each round saves app.py with a new /health answer and
polls GET /api/health every 10 ms until the new answer comes back. Prints figures; no pass/fail thresholds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port  # noqa: E402
from tests.integration.test_localserve import emulator_env, make_local_stack  # noqa: E402
from tmkit import localserve, paths, watch  # noqa: E402
from tmkit.watch_actions import Actions  # noqa: E402

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def status(port: int) -> str | None:
    try:
        with OPENER.open(f"http://127.0.0.1:{port}/api/health", timeout=10) as resp:
            return json.loads(resp.read()).get("status")
    except Exception:  # noqa: BLE001  (a 502 while reloading counts as "not yet")
        return None


def save(app: Path, value: str) -> None:
    text = app.read_text()
    start = text.index('    return {"status": ', text.index('@app.get("/health")'))
    end = text.index("\n", start)
    app.write_text(
        f'{text[:start]}    return {{"status": "{value}", "environment": deps().settings.environment}}{text[end:]}'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        repo = tmp / "repo"
        shutil.copytree(paths.LAMBDA_DIR, repo / "lambda" / "api", ignore=shutil.ignore_patterns("__pycache__"))
        for d in ("infra", "envs", "frontend/src"):
            (repo / d).mkdir(parents=True)
        paths.LAMBDA_DIR = repo / "lambda" / "api"
        with emulator_env(tmp) as cfg:
            make_local_stack(cfg)
            serve = localserve.prepare(cfg)
            serve.say = lambda _m: None
            said: list[str] = []
            with serve.running(free_port()) as server:
                port = server.server_address[1]
                done = threading.Event()
                thread = threading.Thread(
                    target=watch.run,
                    args=(cfg, Actions(None, cfg, port=port, say=said.append)),
                    kwargs={
                        "root": repo,
                        "env_file": repo / "envs" / "local.toml",
                        "say": said.append,
                        "stop": done.is_set,
                    },
                    daemon=True,
                )
                thread.start()
                time.sleep(1.0)
                status(port)  # warm
                figures = []
                for i in range(args.saves):
                    value = f"bench-{i}"
                    started = time.perf_counter()
                    save(repo / "lambda" / "api" / "app.py", value)
                    while status(port) != value:
                        if time.perf_counter() - started > 60:
                            raise SystemExit(f"save {i}: the new code did not answer within 60 s")
                        time.sleep(0.01)
                    figures.append(time.perf_counter() - started)
                    time.sleep(0.5)
                done.set()
                thread.join(timeout=10)
    reloads = [float(line.rsplit("(", 1)[1].split()[0]) for line in said if "runs the new handler" in line]
    print(
        f"saves: {len(figures)} (watch polls every {watch.POLL_SECONDS}s, batches after {watch.QUIET_SECONDS}s quiet)"
    )
    print(
        f"save -> new code answering on the emulator: median {statistics.median(figures):.2f}s, "
        f"min {min(figures):.2f}s, max {max(figures):.2f}s"
    )
    if reloads:
        print(f"  of which the handler reload in local.serve: median {statistics.median(reloads):.0f} ms")


if __name__ == "__main__":
    main()
