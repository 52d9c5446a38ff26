"""`inv verify` end to end on the emulator, through the real CLI: after `inv deploy` and `inv frontend.publish` every
check passes (with the signed-in round trip); deleting a file the live index.html references from the bucket makes it
fail and name that file. The environment is a copy of envs/local.toml on a free port (TM_ENVS_DIR), as in
tests/e2e/test_lifecycle.py; verify starts its own local server on a free loopback port."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.test_lifecycle import Cli, env_file
from tests.helpers import free_port
from tmkit import paths

pytestmark = pytest.mark.e2e
ENV = "e2everify"
JS, PRELOAD, CSS = "assets/index-Qm3xT8vA.js", "assets/vendor-L0p9Wz2K.js", "assets/index-Hc7Ye1Rb.css"
INDEX = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
    <title>TimeManagement</title>
    <script type="module" crossorigin src="/{JS}"></script>
    <link rel="modulepreload" crossorigin href="/{PRELOAD}">
    <link rel="stylesheet" crossorigin href="/{CSS}">
  </head>
  <body><div id="root"></div></body>
</html>
"""
SKIPPED = {"https", "http-redirect", "cors-foreign"}  # the local server is plain HTTP and same-origin


def vite_shaped_build(out: Path) -> Path:
    """A build as Vite lays it out (fingerprinted assets, the SPA's public/ files), small and deterministic."""
    (out / "assets").mkdir(parents=True)
    (out / "index.html").write_text(INDEX)
    (out / JS).write_text('import "./vendor-L0p9Wz2K.js"; document.title = "TimeManagement";\n')
    (out / PRELOAD).write_text("export const vendor = 1;\n")
    (out / CSS).write_text("body { margin: 0 }\n")
    for page in ("404.html", "error.html", "favicon.svg"):
        shutil.copy(paths.FRONTEND_DIR / "public" / page, out / page)
    return out


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    envs = tmp_path_factory.mktemp("envs")
    env_file(envs, ENV, free_port())
    cli = Cli(envs)
    cli("local.up", "--env", ENV)
    os.environ["TM_ENVS_DIR"] = str(envs)
    try:
        cli("deploy", "--env", ENV)
        dist = vite_shaped_build(tmp_path_factory.mktemp("dist"))
        cli("frontend.publish", "--env", ENV, "--dir", str(dist))
        from tmkit.config import load_env

        yield cli, load_env(ENV)
    finally:
        os.environ.pop("TM_ENVS_DIR", None)
        cli("local.down", "--env", ENV, check=False)


def aws(cfg, service):
    from tmkit.aws import client

    return client(cfg, service)


def test_every_check_passes_after_deploy_and_publish_with_a_signed_in_round_trip(deployed):
    cli, cfg = deployed
    proc = cli("verify", "--env", ENV, "--user", "--json")
    report = json.loads(proc.stdout)
    assert report["environment"] == ENV and report["ok"] is True
    status = {c["name"]: c["status"] for c in report["checks"]}
    assert {n for n, s in status.items() if s == "skip"} == SKIPPED
    assert {n for n, s in status.items() if s != "skip"} == {
        "site",
        "security-headers",
        "deep-route",
        "missing-asset",
        "asset /favicon.svg",
        f"asset /{JS}",
        f"asset /{PRELOAD}",
        f"asset /{CSS}",
        "api-health",
        "api-auth",
        "cors-site",
        "user-sign-in",
        "user-create-task",
        "user-read-task",
        "user-delete-task",
    }
    assert set(status.values()) == {"pass", "skip"}
    for check in report["checks"]:  # one line per check on stderr
        assert f"{check['status'].upper():4}  {check['name']}: {check['detail']}" in proc.stderr
    # The throwaway user is gone, and the task it made with it.
    pool = json.loads(cli("outputs.show", "--env", ENV, "--json").stdout)["UserPoolId"]
    assert aws(cfg, "cognito-idp").list_users(UserPoolId=pool)["Users"] == []


def test_a_deleted_asset_the_live_index_references_fails_and_is_named(deployed):
    cli, cfg = deployed
    bucket = json.loads(cli("outputs.show", "--env", ENV, "--json").stdout)["FrontendBucketName"]
    aws(cfg, "s3").delete_object(Bucket=bucket, Key=PRELOAD)
    proc = cli("verify", "--env", ENV, check=False)
    assert proc.returncode == 1, proc.stderr
    assert f"FAIL  asset /{PRELOAD}: 404" in proc.stderr
    assert f"checks failed for TimeManagement-{ENV}: asset /{PRELOAD}." in proc.stderr
    assert f"PASS  asset /{JS}:" in proc.stderr and f"PASS  asset /{CSS}:" in proc.stderr
    assert proc.stdout == ""
