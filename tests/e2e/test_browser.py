"""The app in a real browser, offline: headless Debian Chromium (Playwright, system browser) against `inv local.serve`.

Fixture: the emulator on a free port (tmkit.emulator), the stack's resources and outputs built with boto3
(tests/integration/test_localserve.make_local_stack), the real SPA built by Vite with the VITE_* values
`inv outputs.env` would write for the stack, published with tmkit.publish, a user made by `inv local.user`,
and `inv local.serve` running as its own process.

Then: sign in, create a task, open a deep link directly, reload, and see the task; a missing asset is a 404.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import INV, free_port
from tests.integration.test_localserve import emulator_env, make_local_stack
from tmkit import paths

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMAIL = "browser@example.com"
PASSWORD = "Browser-Test-Pw-7!"
TASK = "Plan the quarterly review"
TIMEOUT_MS = 20_000  # an upper bound for each wait, not a speed claim


def require_chromium() -> None:
    if Path(CHROMIUM).is_file():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing in CI: `.ci/run` installs it (scripts/install-browser.sh).")
    pytest.skip(
        f"{CHROMIUM} is missing: install it with `sudo apt-get install -y chromium` "
        "(or scripts/install-browser.sh) to run the browser test."
    )


def build_spa(cfg, outputs: dict, out_dir: Path) -> Path:
    """`vite build` of frontend/ with the values `inv outputs.env --env local` writes, into ``out_dir``."""
    from tmkit.outputs import frontend_vars

    vite = paths.FRONTEND_DIR / "node_modules" / ".bin" / "vite"
    if not vite.exists():
        pytest.fail(f"{vite} is missing: install the frontend's dependencies with `make setup`.")
    env = {**os.environ, **frontend_vars(cfg, outputs)}
    subprocess.run(
        [str(vite), "build", "--outDir", str(out_dir), "--emptyOutDir", "--logLevel", "warn"],
        cwd=paths.FRONTEND_DIR,
        env=env,
        check=True,
        timeout=300,
        stdout=sys.stderr,
    )
    return out_dir


def tmkit_env(cfg) -> dict:
    return {**os.environ, "PYTHONPATH": str(paths.ROOT), "TM_ENVS_DIR": os.environ["TM_ENVS_DIR"]}


def wait_until_serving(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"`inv local.serve` exited with {proc.returncode}: {proc.stderr.read().decode()}")
        try:
            with opener.open(url + "/api/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"`inv local.serve` did not answer at {url} within {timeout:.0f}s")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("browser")
    with emulator_env(tmp) as cfg:
        outputs = make_local_stack(cfg)
        from tmkit import publish
        from tmkit.aws import client

        dist = build_spa(cfg, outputs, tmp / "dist")
        publish.publish(client(cfg, "s3"), None, outputs["FrontendBucketName"], None, dist)
        subprocess.run(
            [*INV, "local.user", "--env", cfg.name, EMAIL],  # the real tasks.py namespace
            input=PASSWORD + "\n",
            text=True,
            env=tmkit_env(cfg),
            cwd=paths.ROOT,
            check=True,
            timeout=120,
            capture_output=True,
        )
        port = free_port()
        proc = subprocess.Popen(
            [*INV, "local.serve", "--env", cfg.name, "--port", str(port)],
            env=tmkit_env(cfg),
            cwd=paths.ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(url, proc)
            yield url, dist
        finally:
            proc.terminate()
            try:
                out, _ = proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            assert out == b"", "`inv local.serve` printed on stdout (only requested data belongs there)"


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_sign_in_create_a_task_deep_link_and_reload(served, browser):
    from playwright.sync_api import expect

    url, _ = served
    context = browser.new_context()
    page = context.new_page()
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(f"{r.url} {r.failure}"))
    page.on("console", lambda m: failures.append(m.text) if m.type == "error" else None)
    try:
        page.goto(url + "/signin")
        page.get_by_label("Email or username").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(url + "/tasks", timeout=TIMEOUT_MS)
        expect(page.get_by_text("No tasks yet.")).to_be_visible(timeout=TIMEOUT_MS)

        page.get_by_label("Task title").fill(TASK)
        page.get_by_role("button", name="Add task").click()
        expect(page.get_by_test_id("task-list").get_by_text(TASK)).to_be_visible(timeout=TIMEOUT_MS)

        # A deep link opened directly (a new page: the server answers /tasks with the app shell) ...
        deep = context.new_page()
        response = deep.goto(url + "/tasks")
        assert response.status == 200 and response.headers["content-type"].startswith("text/html")
        assert response.headers["x-frame-options"] == "DENY"
        expect(deep.get_by_test_id("task-list").get_by_text(TASK)).to_be_visible(timeout=TIMEOUT_MS)
        # ... and after a reload: the session survives and the task comes back from the API.
        deep.reload()
        expect(deep.get_by_test_id("task-list").get_by_text(TASK)).to_be_visible(timeout=TIMEOUT_MS)
        assert deep.get_by_test_id("task-list").get_by_role("listitem").count() == 1
    finally:
        context.close()
    assert not [f for f in failures if "/assets/" in f or "/api/" in f or "/cognito" in f], failures


def test_a_missing_asset_is_a_404_not_the_app(served, browser):
    url, dist = served
    real_asset = next(p.relative_to(dist).as_posix() for p in (dist / "assets").glob("index-*.js"))
    page = browser.new_page()
    try:
        missing = page.goto(url + "/assets/missing.js")
        assert missing.status == 404
        assert "Not found" in page.content() and 'id="root"' not in page.content()
        present = page.goto(url + "/" + real_asset)
        assert present.status == 200 and "javascript" in present.headers["content-type"]
    finally:
        page.close()
