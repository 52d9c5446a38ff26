"""tmkit.publish against the emulator (a moto server on 127.0.0.1): headers, incremental uploads, order,
interrupted publishes, prune, rollback, dry run, invalidation, errors.

Builds are generated here the way Vite names them (``assets/<name>-<8 base64url chars of the content hash>``);
changing one module changes its chunk, the entry chunk that imports it, the entry's source map and index.html.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil

import pytest

from tests.helpers import distribution_config, free_port, moto_server
from tmkit import publish as pub
from tmkit.aws import client
from tmkit.config import load_env
from tmkit.errors import ToolkitError

BUCKET = "timemanagement-local-frontend-123456789012-us-east-1"


# ---- a Vite-like build ---------------------------------------------------------------------------
def vite_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest())[:8].decode()


def make_build(root, *, tasks="v1", robots="User-agent: *\n", extra_static: dict | None = None):
    """Write a build; every file is rewritten (new mtimes) even when its content is the same."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "assets").mkdir(parents=True)

    def emit(name, ext, data: bytes) -> str:
        path = f"assets/{name}-{vite_hash(data)}.{ext}"
        (root / path).write_bytes(data)
        return path

    vendor = emit("vendor", "js", b"/* react */" + b"x" * 4000)
    chunk = emit("tasks", "js", f"export const version = {tasks!r};".encode())
    entry = emit("index", "js", f'import "/{vendor}";const t=()=>import("/{chunk}");'.encode())
    (root / f"{entry}.map").write_text(json.dumps({"version": 3, "file": entry, "sources": [tasks]}))
    css = emit("index", "css", b"body{margin:0}")
    emit("logo", "svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    emit("inter-latin", "woff2", b"wOF2" + bytes(range(256)))
    (root / "index.html").write_text(
        f'<!doctype html><link rel="icon" href="/favicon.svg"><link rel="stylesheet" href="/{css}">'
        f'<link rel="modulepreload" href="/{vendor}"><script type="module" src="/{entry}"></script>'
    )
    (root / "404.html").write_text("<!doctype html><p>not found</p>")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'><circle r='1'/></svg>")
    (root / "robots.txt").write_text(robots)
    (root / "manifest.webmanifest").write_text('{"name":"TimeManagement"}')
    for path, text in (extra_static or {}).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return {"entry": entry, "chunk": chunk, "vendor": vendor, "css": css}


REF = re.compile(r"""/(assets/[^"')\s]+)""")


def get(s3, key) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def assert_site_consistent(s3) -> bytes:
    """The live index.html and everything it references (transitively) are in the bucket."""
    index = get(s3, "index.html")
    todo, seen = set(REF.findall(index.decode())), set()
    while todo:
        key = todo.pop()
        seen.add(key)
        body = get(s3, key)  # raises NoSuchKey when a referenced file is missing
        if key.endswith(".js"):
            todo |= set(REF.findall(body.decode())) - seen
    assert seen, "index.html references no asset"
    return index


# ---- the emulator --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server():
    with moto_server() as port:
        yield f"http://localhost:{port}"


@pytest.fixture
def env(server, monkeypatch, tmp_path):
    """A fresh emulator state with the local stack's bucket and distribution; clients and a build dir."""
    import urllib.request

    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    monkeypatch.delenv("TM_ENVS_DIR", raising=False)
    urllib.request.urlopen(urllib.request.Request(f"{server}/moto-api/reset", method="POST")).read()
    cfg = load_env("local")
    s3, cf = client(cfg, "s3", max_pool=20), client(cfg, "cloudfront")
    dist = cf.create_distribution(DistributionConfig=distribution_config(BUCKET))["Distribution"]["Id"]
    template = {
        "Resources": {"Site": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}}},
        "Outputs": {"FrontendBucketName": {"Value": {"Ref": "Site"}}, "DistributionId": {"Value": dist}},
    }
    client(cfg, "cloudformation").create_stack(StackName=cfg.stack_name, TemplateBody=json.dumps(template))

    class Env:
        pass

    e = Env()
    e.cfg, e.s3, e.cf, e.dist, e.dir = cfg, s3, cf, dist, tmp_path / "dist"
    e.publish = lambda **kw: pub.publish(s3, cf, BUCKET, dist, e.dir, poll=0.01, **kw)
    e.invalidations = lambda: [
        cf.get_invalidation(DistributionId=dist, Id=i["Id"])["Invalidation"]["InvalidationBatch"]["Paths"].get(
            "Items", []
        )
        for i in cf.list_invalidations(DistributionId=dist)["InvalidationList"].get("Items", [])
    ]
    return e


class Recorder:
    """Records S3 calls in order (botocore before-parameter-build events); optionally fails the n-th write."""

    WRITES = ("PutObject", "CopyObject", "DeleteObjects")

    def __init__(self, *clients, fail_at: int | None = None, fail_op: str | None = None):
        self.calls, self.fail_at, self.fail_op, self.lock_calls = [], fail_at, fail_op, []
        for c in clients:
            c.meta.events.register("before-parameter-build.*.*", self._hook)

    def _hook(self, model, params, **_):
        op = model.name
        if params.get("Key") == pub.LOCK_KEY:
            self.lock_calls.append(op)  # taking and releasing the lock: not a write of the publish
            return
        if op in self.WRITES + ("CreateInvalidation",):
            if (self.fail_op == op) or (self.fail_at is not None and len(self.writes) >= self.fail_at):
                raise KeyboardInterrupt(f"killed before {op} #{len(self.writes)}")
            self.calls.append((op, params.get("Key") or params.get("DistributionId")))
        else:
            self.calls.append((op, params.get("Key")))

    @property
    def writes(self):
        return [c for c in self.calls if c[0] in self.WRITES + ("CreateInvalidation",)]

    def ops(self, op):
        return [k for o, k in self.calls if o == op]

    def detach(self, *clients):
        for c in clients:
            c.meta.events.unregister("before-parameter-build.*.*", self._hook)


# ---- tests ---------------------------------------------------------------------------------------
def test_first_publish_sets_content_type_and_cache_control_per_file_class(env):
    refs = make_build(env.dir, extra_static={"data.bin": "??", "assets/readme.txt": "not fingerprinted"})
    result = env.publish()
    assert result.done and result.plan.live is None

    def head(key):
        h = env.s3.head_object(Bucket=BUCKET, Key=key)
        return h["ContentType"], h["CacheControl"]

    immutable = "public, max-age=31536000, immutable"
    assert head(refs["entry"]) == ("text/javascript; charset=utf-8", immutable)
    assert head(refs["css"]) == ("text/css; charset=utf-8", immutable)
    assert head(refs["entry"] + ".map") == ("application/json", immutable)
    woff2 = next(k for k in pub.scan_build(env.dir).files if k.endswith(".woff2"))
    assert head(woff2) == ("font/woff2", immutable)
    svg = next(k for k in pub.scan_build(env.dir).files if k.startswith("assets/logo-"))
    assert head(svg) == ("image/svg+xml", immutable)
    assert head("index.html") == ("text/html; charset=utf-8", "no-cache")
    assert head("404.html") == ("text/html; charset=utf-8", "no-cache")
    assert head("favicon.svg") == ("image/svg+xml", "no-cache")
    assert head("robots.txt") == ("text/plain; charset=utf-8", "no-cache")
    assert head("manifest.webmanifest") == ("application/manifest+json", "no-cache")
    assert head("data.bin") == ("application/octet-stream", "no-cache")
    assert head("assets/readme.txt") == ("text/plain; charset=utf-8", "no-cache")
    meta = env.s3.head_object(Bucket=BUCKET, Key="index.html")["Metadata"]
    assert meta["sha256"] == hashlib.sha256((env.dir / "index.html").read_bytes()).hexdigest()
    assert_site_consistent(env.s3)
    # first publish: every unfingerprinted path, not "/*" (5 files + "/" for index.html fits the threshold)
    assert env.invalidations() == [
        sorted(
            [
                "/",
                "/index.html",
                "/404.html",
                "/favicon.svg",
                "/robots.txt",
                "/manifest.webmanifest",
                "/data.bin",
                "/assets/readme.txt",
            ]
        )
    ]


def test_republishing_the_same_build_uploads_nothing_and_invalidates_nothing(env):
    make_build(env.dir)
    env.publish()
    make_build(env.dir)  # same content, new mtimes (what `aws s3 sync` re-uploads)
    rec = Recorder(env.s3, env.cf)
    result = env.publish()
    assert rec.writes == [] and rec.ops("HeadObject") == ["index.html"]  # which release is live
    assert not result.plan.changes_site and result.invalidation_id is None
    assert len(env.invalidations()) == 1  # only the first publish's


def test_one_module_rebuild_uploads_only_the_changed_files_and_invalidates_index_only(env):
    v1 = make_build(env.dir)
    env.publish()
    v2 = make_build(env.dir, tasks="v2")
    assert v2["chunk"] != v1["chunk"] and v2["entry"] != v1["entry"] and v2["vendor"] == v1["vendor"]
    rec = Recorder(env.s3, env.cf)
    result = env.publish()
    index_blob = pub.blob_key(hashlib.sha256((env.dir / "index.html").read_bytes()).hexdigest())
    uploaded = set(rec.ops("PutObject")) - {pub.STATE_KEY, pub.manifest_key(result.plan.release)}
    assert uploaded == {v2["chunk"], v2["entry"], v2["entry"] + ".map", index_blob}
    assert rec.ops("CopyObject") == ["index.html"]
    assert env.invalidations()[-1] == ["/", "/index.html"]
    assert get(env.s3, "index.html") == (env.dir / "index.html").read_bytes()
    assert_site_consistent(env.s3)
    # the previous release's assets are still there for open tabs
    assert get(env.s3, v1["entry"]) and get(env.s3, v1["chunk"])


def test_index_html_is_written_last_after_every_asset(env):
    make_build(env.dir)
    env.publish()
    make_build(env.dir, tasks="v2", robots="User-agent: *\nDisallow: /tmp\n")
    rec = Recorder(env.s3, env.cf)
    env.publish()
    site_writes = [k for op, k in rec.writes if op in ("PutObject", "CopyObject") and not k.startswith("_releases/")]
    assert site_writes[-1] == "index.html"
    assert site_writes.index("robots.txt") < site_writes.index("index.html")
    ops = [op for op, _ in rec.writes]
    # manifest first; index.html, then invalidation, then the state; pruning comes after going live
    assert rec.writes[0] == ("PutObject", pub.manifest_key(pub.scan_build(env.dir).release))
    i_index = rec.writes.index(("CopyObject", "index.html"))
    assert ops.index("CreateInvalidation") > i_index
    assert rec.writes.index(("PutObject", pub.STATE_KEY)) > ops.index("CreateInvalidation")


def _write_count(env, build_kwargs) -> int:
    """How many writes a full publish of ``build_kwargs`` after v1 makes (on a throwaway bucket state)."""
    make_build(env.dir)
    env.publish()
    make_build(env.dir, **build_kwargs)
    plan = pub.publish(env.s3, env.cf, BUCKET, env.dist, env.dir, dry_run=True).plan
    return 1 + len(plan.puts) + len(plan.copies) + 1 + 1  # manifest, puts, copies, invalidation, state


V2 = {"tasks": "v2", "robots": "User-agent: *\nDisallow: /x\n"}


@pytest.mark.parametrize("kill_at", range(0, 10))
def test_a_publish_killed_at_any_write_leaves_the_old_site_working_and_a_rerun_completes_it(env, kill_at):
    # writes: 0 manifest, 1-5 three assets + two blobs, 6 robots.txt, 7 index.html, 8 invalidation, 9 state
    assert _write_count(env, V2) == 10
    make_build(env.dir)
    old_index = (env.dir / "index.html").read_bytes()
    make_build(env.dir, **V2)  # (the bucket already holds v1 from _write_count)
    new_index = (env.dir / "index.html").read_bytes()
    rec = Recorder(env.s3, env.cf, fail_at=kill_at)
    with pytest.raises(KeyboardInterrupt):
        env.publish()
    rec.detach(env.s3, env.cf)
    live = assert_site_consistent(env.s3)
    assert live in (old_index, new_index)  # old until index.html is copied, then the new one, never broken
    assert live == (new_index if kill_at >= 8 else old_index)
    invalidations_before = len(env.invalidations())

    rerun = Recorder(env.s3, env.cf)
    result = env.publish()
    assert result.done
    assert assert_site_consistent(env.s3) == new_index
    assert get(env.s3, "robots.txt") == V2["robots"].encode()
    # the rerun uploads only what the killed run had not, and still invalidates index.html once
    assets_done = max(0, min(kill_at - 1, 5))
    assert len(rerun.ops("PutObject")) <= (5 - assets_done) + 2  # + manifest (when not written yet) + state
    # the state was never written, so the rerun invalidates index.html (again, if the killed run got that far)
    assert len(env.invalidations()) == invalidations_before + 1
    assert "/index.html" in env.invalidations()[-1]
    releases = pub.list_releases(pub.read_remote(env.s3, BUCKET))
    assert releases[0].live and releases[0].id == pub.scan_build(env.dir).release
    assert not pub.plan_publish(env.s3, BUCKET, pub.scan_build(env.dir), pub.read_remote(env.s3, BUCKET)).changes_site


def test_prune_keeps_the_previous_releases_assets_and_removes_older_ones(env):
    builds = []
    for n in range(4):
        builds.append(make_build(env.dir, tasks=f"v{n}"))
        env.publish(keep=1)
    keys = {o["Key"] for o in env.s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    current, previous = builds[3], builds[2]
    assert {current["chunk"], current["entry"], previous["chunk"], previous["entry"]} <= keys
    for old in builds[:2]:
        assert old["chunk"] not in keys and old["entry"] not in keys and old["entry"] + ".map" not in keys
    assert current["vendor"] in keys  # shared by every release
    assert len(pub.list_releases(pub.read_remote(env.s3, BUCKET))) == 2
    assert sum(k.startswith("_releases/blobs/") for k in keys) == 5 + 1  # 5 static files + previous index.html
    # default keep (3): publishing again retains more
    builds.append(make_build(env.dir, tasks="v4"))
    env.publish()
    keys = {o["Key"] for o in env.s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert builds[2]["chunk"] in keys and builds[3]["chunk"] in keys


def test_first_publish_into_a_bucket_keeps_foreign_objects_for_one_release(env):
    env.s3.put_object(Bucket=BUCKET, Key="assets/old-Ab12Cd34.js", Body=b"old")
    make_build(env.dir)
    assert env.publish().plan.deletes == []
    make_build(env.dir, tasks="v2")
    assert "assets/old-Ab12Cd34.js" in env.publish().plan.deletes


def test_rollback_restores_the_previous_index_html_and_invalidates_it(env):
    make_build(env.dir)
    v1_index = (env.dir / "index.html").read_bytes()
    v1 = env.publish().plan.release
    make_build(env.dir, tasks="v2", extra_static={"new.txt": "only in v2"})
    v2 = env.publish().plan.release
    assert get(env.s3, "index.html") != v1_index

    release, paths = pub.rollback(env.s3, env.cf, BUCKET, env.dist)
    # new.txt is not in v1: only the live release's unfingerprinted files are at live paths
    assert release == v1 and paths == ["/", "/index.html", "/new.txt"]
    assert "new.txt" not in {o["Key"] for o in env.s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert get(env.s3, "index.html") == v1_index
    assert env.s3.head_object(Bucket=BUCKET, Key="index.html")["CacheControl"] == "no-cache"
    assert assert_site_consistent(env.s3) == v1_index
    assert env.invalidations()[-1] == ["/", "/index.html", "/new.txt"]
    listed = pub.list_releases(pub.read_remote(env.s3, BUCKET))
    assert [(r.id, r.live) for r in listed] == [(v2, False), (v1, True)]  # newest first, v1 marked live
    with pytest.raises(ToolkitError, match="no release before the live one"):
        pub.rollback(env.s3, env.cf, BUCKET, env.dist)
    assert pub.rollback(env.s3, env.cf, BUCKET, env.dist, to=v2[:6])[0] == v2  # a unique prefix will do
    assert get(env.s3, "index.html") == (env.dir / "index.html").read_bytes()
    with pytest.raises(ToolkitError, match="unknown release 'nope'"):
        pub.rollback(env.s3, env.cf, BUCKET, env.dist, to="nope")


def test_rollback_refuses_a_release_whose_files_are_gone(env):
    make_build(env.dir)
    v1 = env.publish().plan.release
    make_build(env.dir, tasks="v2")
    env.publish()
    chunk = next(p for p in pub.read_remote(env.s3, BUCKET).manifests[v1].files if p.startswith("assets/tasks-"))
    env.s3.delete_object(Bucket=BUCKET, Key=chunk)
    before = get(env.s3, "index.html")
    with pytest.raises(ToolkitError, match="incomplete"):
        pub.rollback(env.s3, env.cf, BUCKET, env.dist, to=v1)
    assert get(env.s3, "index.html") == before


def test_dry_run_prints_the_plan_and_changes_nothing(env):
    make_build(env.dir)
    env.publish()
    v2 = make_build(env.dir, tasks="v2")

    def snapshot():
        return sorted((o["Key"], o["ETag"]) for o in env.s3.list_objects_v2(Bucket=BUCKET)["Contents"])

    before, invalidations = snapshot(), env.invalidations()
    rec = Recorder(env.s3, env.cf)
    result = env.publish(dry_run=True)
    assert rec.writes == [] and snapshot() == before and env.invalidations() == invalidations
    text = result.plan.render()
    assert f"upload  {v2['chunk']}" in text and "copy    _releases/blobs/" in text
    assert "invalidate  /index.html" in text and "total: 4 uploads" in text


def test_many_changed_unfingerprinted_files_invalidate_everything_at_once(env):
    make_build(env.dir)
    env.publish()
    make_build(env.dir, extra_static={f"docs/page{i}.html": f"p{i}" for i in range(20)})
    result = env.publish()
    assert result.plan.invalidation == ["/*"] and env.invalidations()[-1] == ["/*"]


def test_wait_waits_for_the_invalidation(env):
    make_build(env.dir)
    result = env.publish(wait=True, timeout=5)
    status = env.cf.get_invalidation(DistributionId=env.dist, Id=result.invalidation_id)["Invalidation"]["Status"]
    assert status.lower() == "completed"


def test_publish_env_reads_bucket_and_distribution_from_the_stack_outputs(env):
    make_build(env.dir)
    result = pub.publish_env(env.cfg, env.dir)
    assert result.done and get(env.s3, "index.html") == (env.dir / "index.html").read_bytes()
    assert [r.id for r in pub.releases_env(env.cfg)] == [result.plan.release]
    assert pub.invalidate_env(env.cfg, ["/index.html"], wait=True, timeout=5, poll=0.01)


def test_publish_env_says_deploy_first_when_the_stack_is_not_deployed(env):
    make_build(env.dir)
    client(env.cfg, "cloudformation").delete_stack(StackName=env.cfg.stack_name)
    with pytest.raises(ToolkitError, match=r"not deployed: run `inv deploy --env local`"):
        pub.publish_env(env.cfg, env.dir)


def test_publish_env_checks_the_build_before_calling_aws(env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:9")  # nothing listens: AWS is never reached
    with pytest.raises(ToolkitError, match=r"no build directory .*`inv frontend.build --env local`"):
        pub.publish_env(env.cfg, env.dir)


def test_publish_env_says_start_the_emulator_when_it_is_down(env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://localhost:{free_port()}")
    make_build(env.dir)
    with pytest.raises(ToolkitError, match=r"inv local.up"):
        pub.publish_env(env.cfg, env.dir)
