"""The API handler imported the way Lambda imports it: a fresh interpreter (``-I -S``: no site-packages, no
PYTHON* variables) whose sys.path holds only the function's code (lambda/api), the dependency layer built from
lambda/api/requirements.txt (tmkit/lambda_build.py) and what the Lambda Python runtime itself provides (boto3
and its dependencies), then called with an API Gateway proxy event. A dependency the handler imports but
requirements.txt lacks fails here, not after a deploy.

The deployed layer is built for the runtime's Python (3.14); compiled wheels (pydantic-core) only load in that
version, so this test builds the same requirements with the same pip options for the interpreter running it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tmkit import api_contract, paths
from tmkit.lambda_build import ensure_layer

# What the Lambda Python runtime ships besides the standard library (so requirements.txt does not list them).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
BOOTSTRAP = """\
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
print(json.dumps({"sys_path": sys.path}), file=sys.stderr)
import app
print(json.dumps(app.handler(json.loads(sys.stdin.read()), None)))
"""


@pytest.fixture(scope="module")
def layer() -> Path:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return ensure_layer(python_version=version) / "python"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory) -> Path:
    """A directory with the runtime-provided packages, linked from this environment."""
    root = tmp_path_factory.mktemp("lambda-runtime")
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (root / source.name).symlink_to(source, target_is_directory=source.is_dir())
    return root


def health_event() -> dict:
    return {
        "resource": "/health",
        "path": "/health",
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/health",
            "httpMethod": "GET",
            "path": "/api/health",
            "stage": "api",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.7"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def invoke(code_dirs: list[Path], event: dict) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **api_contract.function_environment(
            table_name="TimeManagement-pkgtest-data",
            data_access_role_arn="arn:aws:iam::123456789012:role/TimeManagement-pkgtest-DataAccess",
            secrets_prefix="TimeManagement-pkgtest/",
            secret_keys=["STRIPE_KEY"],
            secret_max_age_seconds=300,
            environment_name="pkgtest",
        ),
    }
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", BOOTSTRAP, json.dumps([str(d) for d in code_dirs])],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=env,
        cwd=code_dirs[0],
        timeout=120,
    )


def test_the_packaged_handler_answers_a_proxy_event(layer, runtime):
    proc = invoke([paths.LAMBDA_DIR, layer, runtime], health_event())
    assert proc.returncode == 0, proc.stderr[-3000:]
    sys_path = json.loads(proc.stderr.splitlines()[0])["sys_path"]
    assert not [p for p in sys_path if "site-packages" in p or "dist-packages" in p]  # nothing but the package
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["statusCode"] == 200
    assert json.loads(out["body"]) == {"status": "ok", "environment": "pkgtest"}


def test_a_dependency_missing_from_the_layer_fails(layer, runtime, tmp_path):
    """What a requirements.txt without pydantic would build: the same layer less that package."""
    trimmed = tmp_path / "python"
    trimmed.mkdir()
    for entry in layer.iterdir():
        if not entry.name.startswith("pydantic"):
            (trimmed / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    proc = invoke([paths.LAMBDA_DIR, trimmed, runtime], health_event())
    assert proc.returncode != 0
    assert "No module named 'pydantic'" in proc.stderr
