"""tmkit.publish against the emulator: what may be published, removed files, streaming, the per-environment
lock, prune against concurrent manifests, and publishes killed after going live (docs/frontend.md)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration import test_publish as base
from tests.integration.test_publish import BUCKET, Recorder, assert_site_consistent, get, make_build
from tmkit import publish as pub
from tmkit.errors import ToolkitError
from tmkit.publish import lock as locking

server, env = base.server, base.env  # the emulator fixtures of tests/integration/test_publish.py


def keys(env) -> set[str]:
    return {
        o["Key"]
        for page in env.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for o in page.get("Contents", [])
    }


@pytest.fixture(autouse=True)
def atomic_conditional_writes():
    from tmkit.emulator.patches import patch_conditional_writes

    patch_conditional_writes()


# ---- what goes into the bucket -------------------------------------------------------------------
def test_a_symlink_out_of_the_build_refuses_before_any_upload_and_dotfiles_are_skipped(env, tmp_path):
    make_build(env.dir, extra_static={".env": "SECRET=1", ".git/config": "[core]", ".well-known/security.txt": "x"})
    (env.dir / "assets" / "x.txt").symlink_to("/etc/passwd")
    with pytest.raises(ToolkitError, match="assets/x.txt -> /etc/passwd"):
        pub.publish_env(env.cfg, env.dir)
    assert keys(env) == set()  # nothing uploaded, not even the lock
    (env.dir / "assets" / "x.txt").unlink()
    said = []
    pub.publish_env(env.cfg, env.dir, say=said.append)
    published = keys(env)
    assert ".env" not in published and ".git/config" not in published and ".well-known/security.txt" in published
    assert any("skipped 2 dotfiles" in m and "--include-dotfiles" in m for m in said)


def test_a_file_removed_from_the_build_leaves_its_live_path_at_the_next_publish(env):
    make_build(env.dir, extra_static={"old.txt": "from v1"})
    v1 = env.publish().plan.release
    make_build(env.dir, tasks="v2")
    env.publish()
    assert "old.txt" not in keys(env)  # not served any more, although v1 is kept...
    remote = pub.read_remote(env.s3, BUCKET)
    assert v1 in [r.id for r in pub.list_releases(remote)]
    assert pub.blob_key(remote.manifests[v1].sha("old.txt")) in keys(env)  # ...as a rollback blob
    assert pub.rollback(env.s3, env.cf, BUCKET, env.dist)[0] == v1
    assert get(env.s3, "old.txt") == b"from v1"
    assert_site_consistent(env.s3)


def test_uploads_are_streamed_from_the_file_not_read_whole(env):
    make_build(env.dir)
    bodies = []

    def hook(model, params, **_):
        if model.name == "PutObject" and params["Key"].startswith("assets/"):
            bodies.append(type(params["Body"]))

    env.s3.meta.events.register("before-parameter-build.s3.PutObject", hook)
    env.publish()
    assert bodies and not any(issubclass(b, bytes | bytearray) for b in bodies)


# ---- one publish at a time ------------------------------------------------------------------------
def test_a_second_publish_refuses_naming_the_holder_or_waits_for_it(env):
    make_build(env.dir)
    held = locking.acquire(env.s3, BUCKET, purpose="a publish of release abc")
    rec = Recorder(env.s3, env.cf)
    with pytest.raises(ToolkitError, match=r"holds the lock on .*: a publish of release abc by \S+@\S+ \(pid \d+\)"):
        env.publish()
    assert rec.writes == [] and "index.html" not in keys(env)
    rec.detach(env.s3, env.cf)
    threading.Timer(0.5, locking.release, (env.s3, held)).start()
    said, started = [], time.monotonic()
    assert env.publish(wait_lock=10, say=said.append).done
    assert time.monotonic() - started >= 0.4 and any("waiting for the lock" in m for m in said)
    assert pub.LOCK_KEY not in keys(env)  # released


def test_a_stale_lock_is_taken_over_with_a_message_and_its_old_holder_cannot_remove_the_new_one(env):
    dead = locking.acquire(env.s3, BUCKET, purpose="a publish of release dead")
    said = []
    mine = locking.acquire(env.s3, BUCKET, stale=0, say=said.append)
    assert any("took over a stale lock" in m and "release dead" in m for m in said)
    locking.release(env.s3, dead)  # the dead publish wakes up: the lock is not its own any more
    assert b'"token": "' + mine.holder.token.encode() in get(env.s3, pub.LOCK_KEY)
    locking.release(env.s3, mine)
    assert pub.LOCK_KEY not in keys(env)


def test_of_two_concurrent_lockers_exactly_one_wins(env):
    for _ in range(10):
        wins, barrier = [], threading.Barrier(2)

        def take(wins=wins, barrier=barrier):
            barrier.wait()
            try:
                wins.append(locking.acquire(env.s3, BUCKET))
            except ToolkitError:
                pass

        threads = [threading.Thread(target=take) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1
        locking.release(env.s3, wins[0])


def test_two_concurrent_publishes_both_land_and_the_site_stays_whole(env, tmp_path):
    dirs = [tmp_path / "a", tmp_path / "b"]
    make_build(env.dir)
    env.publish()
    make_build(dirs[0], tasks="A")
    make_build(dirs[1], tasks="B")
    with ThreadPoolExecutor(max_workers=2) as pool:  # each publish raises here if it failed
        results = list(pool.map(lambda d: pub.publish(env.s3, env.cf, BUCKET, env.dist, d, wait_lock=30), dirs))
    remote = pub.read_remote(env.s3, BUCKET)
    ids = [e["id"] for e in remote.history]
    assert {r.plan.release for r in results} <= set(ids)
    assert remote.live == ids[-1]
    assert_site_consistent(env.s3)


# ---- prune -----------------------------------------------------------------------------------------
def test_prune_spares_what_a_manifest_in_the_bucket_at_that_moment_references(env):
    refs = make_build(env.dir)
    release = env.publish().plan.release
    env.s3.put_object(Bucket=BUCKET, Key="stray.txt", Body=b"x")
    # a plan made without knowing that release (e.g. before its manifest was written) wants its chunk gone
    assert pub.prune(env.s3, BUCKET, [refs["chunk"], "index.html", "stray.txt"], {}, "other") == 1
    assert {refs["chunk"], "index.html"} <= keys(env) and "stray.txt" not in keys(env)
    assert release in pub.read_remote(env.s3, BUCKET).manifests


def test_what_a_killed_publish_left_behind_is_pruned_by_a_sweep_after_the_grace_period(env, monkeypatch):
    make_build(env.dir)
    env.publish()
    refs = make_build(env.dir, tasks="killed")
    rec = Recorder(env.s3, env.cf, fail_at=3)  # manifest and two uploads, then killed
    with pytest.raises(KeyboardInterrupt):
        env.publish()
    rec.detach(env.s3, env.cf)
    killed = pub.scan_build(env.dir).release
    make_build(env.dir, tasks="v3")
    assert not env.publish().plan.swept  # the records do not know the killed publish's objects: left in place
    assert pub.manifest_key(killed) in keys(env)
    make_build(env.dir, tasks="v4")
    assert env.publish(sweep=True).plan.swept  # within the grace period: kept (a lockless publisher may run)
    assert pub.manifest_key(killed) in keys(env)
    monkeypatch.setattr("tmkit.publish.plan.PENDING_GRACE_SECONDS", 0)
    make_build(env.dir, tasks="v5")
    env.publish(sweep=True)
    assert pub.manifest_key(killed) not in keys(env) and refs["chunk"] not in keys(env)


def test_a_publish_killed_after_going_live_is_the_live_release_and_rollback_goes_back_one(env):
    releases = []
    for n in range(2):
        make_build(env.dir, tasks=f"v{n}")
        releases.append(env.publish().plan.release)
    make_build(env.dir, tasks="v2")
    new = pub.scan_build(env.dir).release
    rec = Recorder(env.s3, env.cf, fail_op="CreateInvalidation")  # index.html is live, state.json not written
    with pytest.raises(KeyboardInterrupt):
        env.publish()
    rec.detach(env.s3, env.cf)
    listed = pub.list_releases(pub.read_remote(env.s3, BUCKET))
    assert [(r.id, r.live) for r in listed] == [(new, True), (releases[1], False), (releases[0], False)]
    assert pub.rollback(env.s3, env.cf, BUCKET, env.dist)[0] == releases[1]
    assert [r.id for r in pub.list_releases(pub.read_remote(env.s3, BUCKET)) if r.live] == [releases[1]]


def test_publishing_into_a_missing_bucket_says_deploy(env):
    make_build(env.dir)
    with pytest.raises(ToolkitError, match="the frontend bucket nope-bucket does not exist: deploy the stack"):
        pub.publish(env.s3, env.cf, "nope-bucket", env.dist, env.dir)


def test_a_failed_publish_releases_the_lock_and_reports_its_own_error(env):
    make_build(env.dir)
    rec = Recorder(env.s3, env.cf, fail_op="CopyObject")
    with pytest.raises(KeyboardInterrupt, match="killed before CopyObject"):
        env.publish()
    rec.detach(env.s3, env.cf)
    assert pub.LOCK_KEY not in keys(env)


def test_a_publish_whose_lock_was_taken_over_stops_before_going_live(env):
    make_build(env.dir)
    env.publish()
    before = get(env.s3, "index.html")
    make_build(env.dir, tasks="slow")

    def hook(model, params, **_):  # during the uploads, another publish takes the (now stale) lock over
        if model.name == "PutObject" and params["Key"].startswith("assets/") and not taken:
            taken.append(locking.acquire(env.s3, BUCKET, stale=0))

    taken = []
    env.s3.meta.events.register("before-parameter-build.s3.PutObject", hook)
    with pytest.raises(ToolkitError, match=r"this publish lost the lock on .*stopped before changing the live site"):
        env.publish()
    env.s3.meta.events.unregister("before-parameter-build.s3.PutObject", hook)
    assert get(env.s3, "index.html") == before and pub.LOCK_KEY in keys(env)  # the new holder's lock stays


KILLER = """
import os, signal, sys
from tmkit import publish as pub
from tmkit.aws import client
from tmkit.config import load_env

bucket, build, op, key = sys.argv[1:5]
s3 = client(load_env("local"), "s3")

def hook(model, params, **_):
    if model.name == op and params.get("Key") == key:
        os.kill(os.getpid(), signal.SIGKILL)

s3.meta.events.register("before-parameter-build.s3.*", hook)
pub.publish(s3, None, bucket, None, build)
"""


@pytest.mark.parametrize("op, key", [("CopyObject", "index.html"), ("PutObject", pub.STATE_KEY)])
def test_a_publish_killed_with_sigkill_leaves_the_site_whole_and_its_lock_is_taken_over_when_stale(env, op, key):
    import subprocess
    import sys

    from tmkit.paths import ROOT

    make_build(env.dir)
    old = env.publish().plan.release
    make_build(env.dir, tasks="v2")
    new = pub.scan_build(env.dir).release
    child = subprocess.run([sys.executable, "-c", KILLER, BUCKET, str(env.dir), op, key], cwd=ROOT, timeout=120)
    assert child.returncode == -9
    assert_site_consistent(env.s3)
    live = pub.read_remote(env.s3, BUCKET).live
    assert live == (old if op == "CopyObject" else new)  # the one index.html belongs to
    with pytest.raises(ToolkitError, match=r"holds the lock on .*a publish of release " + new):
        env.publish()
    said = []
    assert env.publish(stale_lock=0, say=said.append).done and any("took over a stale lock" in m for m in said)
    remote = pub.read_remote(env.s3, BUCKET)
    assert remote.live == remote.recorded_live == new and pub.LOCK_KEY not in remote.objects
    assert_site_consistent(env.s3)


def test_the_next_publish_keeps_a_release_that_went_live_before_its_record_was_written(env):
    make_build(env.dir, tasks="v0")
    env.publish()
    refs = make_build(env.dir, tasks="v1")
    lagging = pub.scan_build(env.dir).release
    rec = Recorder(env.s3, env.cf, fail_op="CreateInvalidation")  # live, but state.json still names v0
    with pytest.raises(KeyboardInterrupt):
        env.publish()
    rec.detach(env.s3, env.cf)
    make_build(env.dir, tasks="v2")
    plan = env.publish(keep=1).plan
    assert plan.kept == [plan.release, lagging] and refs["chunk"] in keys(env)  # open tabs still load it
    assert [e["id"] for e in pub.read_remote(env.s3, BUCKET).history][-2:] == [lagging, plan.release]


@pytest.mark.parametrize(
    "key, body, message",
    [
        (pub.STATE_KEY, b'{"live": "x", "history": [1, 2]}', "is not a release state"),
        (pub.STATE_KEY, b"[]", "is not a release state"),
        (pub.STATE_KEY, b'{"format": 2, "history": [{"id": "../../etc"}]}', "is not a release state"),
        (pub.STATE_KEY, b'{"format": 2, "history": [], "unswept": -1}', "is not a release state"),
        ("live", b'{"files": {"index.html": ["nothex", 1]}}', "is not a release manifest"),
        ("live", b"\x1f\x8b\x08\x00garbage", "is not a release manifest .its gzip data is corrupt"),
        ("live", __import__("gzip").compress(b" " * (2 << 20)), "inflates to more than 1 MiB"),
        ("live", b'{"format": 2, "base": "000000000000", "files": {}}', "its base record 000000000000 is missing"),
    ],
)
def test_release_records_edited_by_hand_are_named_not_a_traceback(env, key, body, message, monkeypatch):
    monkeypatch.setattr("tmkit.publish.manifest.MAX_RECORD_BYTES", 1 << 20)  # a gzip bomb is refused past it
    make_build(env.dir)
    live = env.publish().plan.release
    key = pub.manifest_key(live) if key == "live" else key
    env.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    make_build(env.dir, tasks="v2")
    for sweep in (False, True):  # read from the records, and from a listing
        with pytest.raises(ToolkitError, match=message + r".*delete it"):
            env.publish(sweep=sweep)
    assert pub.LOCK_KEY not in keys(env)


# ---- the bucket known from its records ------------------------------------------------------------
def _requests(rec: Recorder) -> int:
    return len(rec.calls) + len(rec.lock_calls)


def test_a_no_change_publish_makes_two_requests_and_takes_no_lock(env):
    make_build(env.dir)
    env.publish()
    make_build(env.dir)  # same content, new mtimes
    rec = Recorder(env.s3, env.cf)
    result = env.publish()
    assert result.done and not result.plan.changes_site
    assert sorted(op for op, _ in rec.calls) == ["GetObject", "HeadObject"] and rec.lock_calls == []


def test_a_rebuild_reads_the_records_not_a_listing_and_its_requests_do_not_grow_with_the_site(env):
    def rebuild_requests(extra: int) -> tuple[int, list]:
        env.s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys(env)]}) if keys(env) else None
        static = {f"assets/img/pic{i}-Ab{i:06d}.png": f"p{i}" for i in range(extra)}
        make_build(env.dir, tasks="v1", extra_static=static)
        env.publish()
        make_build(env.dir, tasks="v2", extra_static=static)
        rec = Recorder(env.s3, env.cf)
        assert not env.publish().plan.swept
        return _requests(rec), rec.ops("ListObjectsV2")

    small, small_lists = rebuild_requests(10)
    large, large_lists = rebuild_requests(1100)  # more than one listing page
    assert small == large
    assert small_lists == large_lists == []  # nothing to prune: not even the prune's look at the records


def test_a_rebuild_stores_its_record_as_a_small_delta_against_a_full_base(env):
    static = {f"page{i}.txt": f"text {i}" for i in range(200)}
    make_build(env.dir, extra_static=static)
    v1 = env.publish().plan.release
    make_build(env.dir, tasks="v2", extra_static=static)
    plan = env.publish().plan
    full, delta = get(env.s3, pub.manifest_key(v1)), get(env.s3, pub.manifest_key(plan.release))
    assert plan.base == v1 and pub.decode(delta, "x").base == v1 and pub.decode(full, "x").base is None
    assert len(delta) < 600 < 4 * 600 < len(full)  # three changed entries against 200+ (gzip-compressed)
    assert sorted(pub.decode(delta, "x").files) == sorted(
        pub.scan_build(env.dir).manifest.delta(pub.read_remote(env.s3, BUCKET).manifests[v1])[0]
    )
    # the releases read back whole, from the records and from a listing alike
    remote = pub.read_records(env.s3, BUCKET, plan.release)
    assert remote.manifests[plan.release] == pub.scan_build(env.dir).manifest
    assert pub.read_remote(env.s3, BUCKET).manifests[plan.release] == remote.manifests[plan.release]


def test_a_base_record_stays_while_a_kept_release_builds_on_it_and_goes_with_the_last_one(env):
    make_build(env.dir, tasks="v0")
    base = env.publish(keep=1).plan.release
    for n in range(1, 4):
        make_build(env.dir, tasks=f"v{n}")
        assert env.publish(keep=1).plan.base == base
    assert pub.manifest_key(base) in keys(env)  # v0 left the history two publishes ago; its record is a base
    assert len(pub.list_releases(pub.read_remote(env.s3, BUCKET))) == 2
    make_build(env.dir, extra_static={f"new{i}.txt": "x" for i in range(70)})  # too different: a new full record
    plan = env.publish(keep=0).plan
    assert plan.base is None
    assert {k for k in keys(env) if k.endswith(".json") and "/blobs/" not in k} == {
        pub.STATE_KEY,
        pub.manifest_key(plan.release),
    }


def test_a_sweep_is_made_every_few_publishes_and_on_demand(env, monkeypatch):
    monkeypatch.setattr("tmkit.publish.records.SWEEP_EVERY", 2)
    swept = []
    for n in range(5):
        make_build(env.dir, tasks=f"v{n}")
        swept.append(env.publish().plan.swept)
    assert swept == [True, False, False, True, False]  # the first (no records yet), then every 2 after a sweep
    make_build(env.dir, tasks="v5")
    assert env.publish(sweep=True).plan.swept


def test_a_sweep_restores_an_asset_deleted_by_hand_that_the_records_still_vouch_for(env):
    refs = make_build(env.dir)
    env.publish()
    env.s3.delete_object(Bucket=BUCKET, Key=refs["vendor"])  # by hand: the records still list it
    make_build(env.dir, tasks="v2")
    result = env.publish(sweep=True)
    assert refs["vendor"] in {k for k, _ in result.plan.puts}
    assert_site_consistent(env.s3)


def test_a_prune_killed_midway_is_finished_by_the_next_publish(env):
    make_build(env.dir, extra_static={"old.txt": "served by v1 only"})
    env.publish()
    make_build(env.dir, tasks="v2")
    rec = Recorder(env.s3, env.cf, fail_op="DeleteObjects")  # live and recorded, then killed in the prune
    with pytest.raises(KeyboardInterrupt):
        env.publish(keep=0)
    rec.detach(env.s3, env.cf)
    assert "old.txt" in keys(env) and pub.read_remote(env.s3, BUCKET).state["pruning"]
    make_build(env.dir, tasks="v3")
    result = env.publish(keep=0)
    assert not result.plan.swept  # the state named what the killed prune was removing
    assert "old.txt" not in keys(env) and not pub.read_remote(env.s3, BUCKET).state["pruning"]
    assert_site_consistent(env.s3)


def test_a_dry_run_plans_from_the_records_too(env):
    make_build(env.dir)
    env.publish()
    make_build(env.dir, tasks="v2")
    rec = Recorder(env.s3, env.cf)
    plan = env.publish(dry_run=True).plan
    assert not plan.swept and rec.writes == [] and rec.lock_calls == []
    assert len(plan.puts) == 4  # the chunk, the entry chunk, its map and index.html's blob


def test_publishing_after_a_rollback_reads_the_records_and_keeps_the_site_whole(env):
    releases = []
    for n in range(2):
        make_build(env.dir, tasks=f"v{n}", extra_static={"only.txt": f"in v{n}"})
        releases.append(env.publish().plan.release)
    assert pub.rollback(env.s3, env.cf, BUCKET, env.dist)[0] == releases[0]
    make_build(env.dir, tasks="v0", extra_static={"only.txt": "in v0"})  # the rolled-back build: already live
    rec = Recorder(env.s3, env.cf)
    assert not env.publish().plan.changes_site and rec.lock_calls == []
    make_build(env.dir, tasks="v2")
    plan = env.publish().plan
    assert not plan.swept and plan.kept[:1] == [plan.release] and set(releases) <= set(plan.kept)
    assert "only.txt" not in keys(env)  # v2 has no only.txt: not served any more
    assert_site_consistent(env.s3)
