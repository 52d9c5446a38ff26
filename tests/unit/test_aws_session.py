"""tmkit.aws.client: one botocore session per (profile, region, endpoint) per process, shared by every client.

No request is sent: creating a client reads only local files (service models, the profile files).
"""

from __future__ import annotations

import threading
import time

import botocore.session
import pytest

from tmkit import aws
from tmkit.config import load_env

PROFILES = """\
[profile alpha]
region = us-east-1
[profile beta]
region = us-east-1
"""
CREDENTIALS = """\
[alpha]
aws_access_key_id = AKIAALPHA
aws_secret_access_key = secret-alpha
[beta]
aws_access_key_id = AKIABETA
aws_secret_access_key = secret-beta
"""


@pytest.fixture(autouse=True)
def fresh(envs_dir, tmp_path, monkeypatch):
    """No session left from another test; profile files of our own; no credentials from the shell."""
    monkeypatch.setattr(aws, "_sessions", {})
    (tmp_path / "config").write_text(PROFILES)
    (tmp_path / "credentials").write_text(CREDENTIALS)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def sessions_made(monkeypatch) -> list:
    """Every botocore session created from now on."""
    made = []
    original = botocore.session.Session.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "__init__", counting_init)
    return made


def access_key(client) -> str:
    return client._request_signer._credentials.get_frozen_credentials().access_key


def test_every_client_of_a_process_comes_from_one_session(sessions_made):
    cfg = load_env("local")
    clients = [aws.client(cfg, s) for s in ("cloudformation", "s3", "cloudfront", "sts")]
    clients.append(aws.client(cfg, "s3", max_pool=12))
    assert len(sessions_made) == 1
    assert aws.session(cfg) is sessions_made[0]
    assert len({id(c) for c in clients}) == len(clients)  # clients are not shared, the session is


def test_clients_keep_the_endpoint_retries_and_pool_of_the_environment():
    local, dev = load_env("local"), load_env("dev")
    s3 = aws.client(local, "s3", max_pool=12)
    assert s3.meta.endpoint_url == "http://localhost:4599"
    assert s3.meta.region_name == "us-east-1"
    assert s3.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}  # max_attempts 2 = 2 retries
    assert s3.meta.config.connect_timeout == 2
    assert s3.meta.config.read_timeout == 60
    assert s3.meta.config.max_pool_connections == 12
    assert access_key(s3) == "testing"
    remote = aws.client(dev, "s3")
    assert remote.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}
    assert remote.meta.config.connect_timeout == 10
    assert remote.meta.config.max_pool_connections == 10


def test_concurrent_client_creation_makes_one_session_and_never_overlaps_on_it(sessions_made, monkeypatch):
    inflight, overlaps = [0], []
    lock = threading.Lock()
    original_init = botocore.session.Session.__init__
    original_create = botocore.session.Session.create_client

    def slow_init(self, *args, **kwargs):
        time.sleep(0.05)  # a wide window for a second thread to make its own session
        original_init(self, *args, **kwargs)

    def watched_create(self, *args, **kwargs):
        with lock:
            inflight[0] += 1
            overlaps.append(inflight[0])
        try:
            time.sleep(0.01)  # botocore's create_client mutates the session: it must never run twice at once
            return original_create(self, *args, **kwargs)
        finally:
            with lock:
                inflight[0] -= 1

    monkeypatch.setattr(botocore.session.Session, "__init__", slow_init)
    monkeypatch.setattr(botocore.session.Session, "create_client", watched_create)
    cfg = load_env("local")
    barrier = threading.Barrier(8)
    clients, errors = [], []

    def make(service: str) -> None:
        barrier.wait()
        try:
            clients.append(aws.client(cfg, service))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=make, args=(("s3", "cloudfront")[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(clients) == 8
    assert len(sessions_made) == 1
    assert max(overlaps) == 1


def test_another_endpoint_region_or_profile_gets_its_own_session(monkeypatch):
    local = load_env("local")
    first = aws.session(local)
    assert aws.session(load_env("local")) is first  # same key, same session
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4600")
    other_endpoint = aws.session(local)
    assert other_endpoint is not first
    assert aws.client(local, "s3").meta.endpoint_url == "http://localhost:4600"
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    other_region = aws.session(local.model_copy(update={"region": "eu-west-1"}))
    assert other_region not in (first, other_endpoint)

    dev = load_env("dev")
    monkeypatch.setenv("AWS_PROFILE", "alpha")
    alpha = aws.session(dev)
    assert access_key(aws.client(dev, "s3")) == "AKIAALPHA"
    monkeypatch.setenv("AWS_PROFILE", "beta")
    beta = aws.session(dev)
    assert beta is not alpha
    assert access_key(aws.client(dev, "s3")) == "AKIABETA"
    monkeypatch.setenv("AWS_PROFILE", "alpha")
    assert aws.session(dev) is alpha


def test_the_emulator_ignores_the_shell_profile_even_a_missing_one(monkeypatch):
    local = load_env("local")
    without = aws.session(local)
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    assert aws.session(local) is without
    assert access_key(aws.client(local, "s3")) == "testing"
