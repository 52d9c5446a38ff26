"""One publish, in the order that keeps the live site whole (see tmkit/publish/__init__.py), under the
environment's lock, and the prune that ends it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tmkit.publish import lock as locking
from tmkit.publish.build import Build, scan_build
from tmkit.publish.cdn import create_invalidation, wait_invalidation
from tmkit.publish.manifest import Manifest
from tmkit.publish.plan import Plan, plan_publish
from tmkit.publish.remote import listing, manifest_ids, read_manifest, read_remote
from tmkit.publish.rules import (
    DEFAULT_KEEP,
    DEFAULT_MAX_PATHS,
    DEFAULT_WORKERS,
    RESERVED,
    STATE_KEY,
    manifest_key,
)
from tmkit.publish.transfer import Progress, delete, parallel, put_json, upload, write_live


@dataclass
class Result:
    plan: Plan
    invalidation_id: str | None = None
    seconds: float = 0.0
    done: bool = False
    pruned: int = 0  # objects deleted (the plan's deletions less what a manifest still referenced)
    notes: list[str] = field(default_factory=list)


def prune(s3, bucket: str, deletes: list[str], known: dict[str, Manifest], release: str) -> int:
    """Delete ``deletes``, except what a manifest that exists at the moment of deletion still references.

    The dropped releases' manifests go first; then the manifests in the bucket are listed again and the
    keys any of them needs are spared: the assets and blobs of every release, and every key of the
    release going live and of any manifest this publish did not know about (written meanwhile)."""
    records = [k for k in deletes if k.startswith(RESERVED) and k.endswith(".json") and k.count("/") == 1]
    delete(s3, bucket, records)
    protected: set[str] = set()
    for rid in manifest_ids(listing(s3, bucket, RESERVED)):
        if rid in known and rid != release:
            protected |= known[rid].asset_keys()
        else:
            try:
                manifest = known.get(rid) or read_manifest(s3, bucket, rid)
            except s3.exceptions.NoSuchKey:
                continue
            protected |= manifest.live_keys()
    rest = [k for k in deletes if k not in records and k not in protected]
    delete(s3, bucket, rest)
    return len(records) + len(rest)


def publish(
    s3,
    cloudfront,
    bucket: str,
    distribution_id: str | None,
    build: Build | Path | str,
    *,
    keep: int = DEFAULT_KEEP,
    dry_run: bool = False,
    wait: bool = False,
    timeout: float = 600,
    max_paths: int = DEFAULT_MAX_PATHS,
    workers: int = DEFAULT_WORKERS,
    poll: float = 5.0,
    wait_lock: float = 0.0,
    stale_lock: float = locking.DEFAULT_STALE_SECONDS,
    say: Callable[[str], None] = lambda m: None,
) -> Result:
    """Publish ``build`` to ``bucket``. ``distribution_id`` None: no CDN. A dry run takes no lock."""
    started = time.monotonic()
    if not isinstance(build, Build):
        build = scan_build(build)
    if dry_run:
        remote = read_remote(s3, bucket, workers=workers)
        return Result(plan_publish(s3, bucket, build, remote, keep=keep, max_paths=max_paths))
    purpose = f"a publish of release {build.release}"
    with locking.held(s3, bucket, purpose=purpose, wait=wait_lock, stale=stale_lock, say=say) as lock:
        remote = read_remote(s3, bucket, workers=workers)
        plan = plan_publish(s3, bucket, build, remote, keep=keep, max_paths=max_paths)
        result = Result(plan)
        if plan.write_manifest:
            put_json(s3, bucket, manifest_key(plan.release), build.manifest.to_json())
        if plan.puts:
            progress = Progress("uploading", len(plan.puts), plan.upload_bytes)

            def put(item):
                upload(s3, bucket, *item)
                progress.advance(item[1].size)

            # fingerprinted assets first (the biggest first: better packing), then the blobs
            parallel(put, sorted(plan.puts, key=lambda kf: (not kf[1].fingerprinted, -kf[1].size)), workers)
        locking.renew(s3, lock, stale_lock)  # still ours after the uploads: go live
        write_live(s3, bucket, [(f.path, f.sha256) for f in plan.copies], plan.release, workers)
        if plan.invalidation and distribution_id:
            result.invalidation_id = create_invalidation(cloudfront, distribution_id, plan.invalidation)
        if remote.recorded_live != plan.release or remote.history != plan.history:
            put_json(s3, bucket, STATE_KEY, {"live": plan.release, "history": plan.history})
        locking.renew(s3, lock, stale_lock)
        known = {**remote.manifests, plan.release: build.manifest}
        result.pruned = prune(s3, bucket, plan.deletes, known, plan.release)
        result.done = True
    if wait and result.invalidation_id:
        say(f"waiting for invalidation {result.invalidation_id} (up to {timeout:g}s)...")
        wait_invalidation(cloudfront, distribution_id, result.invalidation_id, timeout=timeout, poll=poll)
    result.seconds = time.monotonic() - started
    return result
