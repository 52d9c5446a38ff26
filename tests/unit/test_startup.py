"""Start-up (docs/architecture.md, "Start-up"): the cheaper botocore loader (tmkit/aws_models.py) gives the same
models and errors as botocore's own; a client made in the background; the publish target makes its S3 client
while DescribeStacks waits. No request leaves the machine: making a client reads only local files."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError
from invoke import Context, Exit

from tmkit import aws, aws_models
from tmkit.config import load_env
from tmkit.errors import ToolkitError
from tmkit.paths import ROOT
from tmkit.publish import environment
from tmkit.tasks._base import GC_THRESHOLD, tm_task

SERVICES = ("cloudformation", "s3", "cloudfront", "sts")


@pytest.fixture(autouse=True)
def fresh(envs_dir, monkeypatch):
    monkeypatch.setattr(aws, "_sessions", {})
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)


@pytest.mark.parametrize("service", SERVICES)
def test_the_loader_reads_the_same_models_as_botocores(service):
    ours, theirs = aws_models.create_loader(), botocore.loaders.create_loader()
    for type_name in ("service-2", "endpoint-rule-set-1", "paginators-1"):
        try:
            expected = theirs.load_service_model(service, type_name)
        except botocore.exceptions.DataNotFoundError:
            with pytest.raises(botocore.exceptions.DataNotFoundError):
                ours.load_service_model(service, type_name)
            continue
        assert ours.load_service_model(service, type_name) == expected
    assert ours.load_data("endpoints") == theirs.load_data("endpoints")
    assert ours.determine_latest_version(service, "service-2") == theirs.determine_latest_version(service, "service-2")


def test_a_known_service_is_found_without_listing_every_service(monkeypatch):
    listed = []
    original = botocore.loaders.Loader.list_available_services

    def counting(self, type_name):
        listed.append(type_name)
        return original(self, type_name)

    monkeypatch.setattr(botocore.loaders.Loader, "list_available_services", counting)
    cfg = load_env("local")
    aws.client(cfg, "cloudformation")
    assert listed == []  # botocore's loader lists all ~400 services, twice, for its first client
    assert isinstance(aws.session(cfg).get_component("data_loader"), aws_models.ModelLoader)


def test_an_unknown_service_fails_as_in_botocore():
    with pytest.raises(UnknownServiceError) as ours:
        aws_models.create_loader().load_service_model("no-such-service", "service-2")
    with pytest.raises(UnknownServiceError) as theirs:
        botocore.loaders.create_loader().load_service_model("no-such-service", "service-2")
    assert str(ours.value) == str(theirs.value)
    assert "cloudformation" in str(ours.value)  # names the known services
    with pytest.raises(UnknownServiceError):
        aws.client(load_env("local"), "no-such-service")


def test_aws_data_path_is_searched_first(tmp_path, monkeypatch):
    """A model in AWS_DATA_PATH replaces botocore's, as with botocore's loader (and a service only there exists)."""
    model = botocore.loaders.create_loader().load_service_model("sts", "service-2")
    model["metadata"]["serviceFullName"] = "STS from AWS_DATA_PATH"
    for name in ("sts", "mysts"):
        (tmp_path / name / "2011-06-15").mkdir(parents=True)
        (tmp_path / name / "2011-06-15" / "service-2.json").write_text(json.dumps(model))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    loader = aws.session(load_env("local")).get_component("data_loader")
    assert loader.load_service_model("sts", "service-2")["metadata"]["serviceFullName"] == "STS from AWS_DATA_PATH"
    assert loader.load_service_model("mysts", "service-2")["metadata"]["serviceFullName"] == "STS from AWS_DATA_PATH"


@pytest.mark.parametrize("enabled", [True, False])
def test_parsing_leaves_the_garbage_collector_as_it_found_it(tmp_path, enabled):
    (tmp_path / "x.json").write_text('{"a": [1, 2, {"b": null}]}')
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert aws_models.PlainJSONFileLoader().load_file(str(tmp_path / "x")) == {"a": [1, 2, {"b": None}]}
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_a_client_made_later_comes_from_the_shared_session():
    cfg = load_env("local")
    later = aws.client_later(cfg, "s3", max_pool=12)
    s3 = later.get()
    assert s3.meta.config.max_pool_connections == 12
    assert s3.meta.endpoint_url == "http://localhost:4599"
    assert later.get() is s3
    with pytest.raises(UnknownServiceError):  # raised in the caller's thread, for aws_errors to translate
        aws.client_later(cfg, "no-such-service").get()


def test_the_publish_target_makes_its_s3_client_while_describe_stacks_waits(monkeypatch):
    cfg = load_env("local")
    made: list[str] = []
    aws.session(cfg).register("creating-client-class", lambda event_name, **_: made.append(event_name))
    during_request = []

    def describe(cfg_, cloudformation=None):
        assert cloudformation is not None and made == ["creating-client-class.cloudformation"]  # first, alone
        deadline = time.monotonic() + 10  # the "network wait": S3's client is made meanwhile, in another thread
        while len(made) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        during_request.append(list(made))
        return {"FrontendBucketName": "bucket", "DistributionId": "E123"}

    monkeypatch.setattr(environment, "stack_outputs", describe)
    t = environment.target(cfg, s3_workers=6)
    assert during_request == [["creating-client-class.cloudformation", "creating-client-class.s3"]]
    s3 = t.s3(6)
    assert s3.meta.config.max_pool_connections == 8 and t.s3(6) is s3
    other = t.s3(2)  # another pool size: its own client
    assert other is not s3 and other.meta.config.max_pool_connections == 4


def test_a_target_without_s3_workers_makes_no_s3_client(monkeypatch):
    cfg = load_env("local")
    made: list[str] = []
    aws.session(cfg).register("creating-client-class", lambda event_name, **_: made.append(event_name))
    monkeypatch.setattr(
        environment, "stack_outputs", lambda c, cf=None: {"FrontendBucketName": "b", "DistributionId": "E"}
    )
    t = environment.target(cfg)
    assert (t.bucket, t.distribution_id) == ("b", "E")
    assert made == ["creating-client-class.cloudformation"]  # invalidate needs no S3 (and CloudFront only when used)


def test_inv_writes_the_bytecode_of_the_toolkit_modules(tmp_path):
    """invoke turns bytecode writing off; without it every `inv` compiles the toolkit's modules anew."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path)  # bytecode goes there, not into the working tree
    inv = Path(sys.executable).parent / "inv"
    subprocess.run([str(inv), "--list"], cwd=ROOT, env=env, check=True, capture_output=True)
    written = {p.name.split(".")[0] for p in tmp_path.rglob("*.pyc") if "tmkit" in p.parts}
    assert {"frontend", "stack", "_base"} <= written
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the user's own setting still wins
    other = tmp_path / "none"
    env["PYTHONPYCACHEPREFIX"] = str(other)
    subprocess.run([str(inv), "--list"], cwd=ROOT, env=env, check=True, capture_output=True)
    assert not list(other.rglob("*.pyc"))


def test_a_task_body_runs_with_fewer_collections_and_restores_the_threshold():
    seen = []

    @tm_task
    def probe(c, env=None):
        seen.append(gc.get_threshold())
        raise ToolkitError("stop")

    before = gc.get_threshold()
    with pytest.raises(Exit):
        probe(Context())
    assert seen[0][0] >= GC_THRESHOLD and seen[0][1:] == before[1:]
    assert gc.get_threshold() == before


def test_a_task_given_env_does_not_import_dotenv(envs_dir):
    code = (
        "import sys; from tmkit.config import load_env, resolve_env_name; load_env(resolve_env_name('local')); "
        "print(sorted(m for m in ('dotenv', 'botocore', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_task_process_freezes_what_is_left_after_every_other_exit_handler():
    probe = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen at the end:', gc.get_freeze_count() > 0))\n"
        "import tmkit.tasks\n"
        "atexit.register(lambda: print('frozen before the later handlers:', gc.get_freeze_count() > 0))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert out.splitlines() == ["frozen before the later handlers: False", "frozen at the end: True"]
