"""One publish, in the order that keeps the live site whole (see tmkit/publish/__init__.py), under the
environment's lock, and the prune that ends it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from tmkit.errors import ToolkitError
from tmkit.publish import lock as locking
from tmkit.publish.build import Build, scan_build
from tmkit.publish.cdn import create_invalidation, wait_invalidation
from tmkit.publish.manifest import Manifest, encode
from tmkit.publish.plan import Plan, plan_publish
from tmkit.publish.records import SWEEP_EVERY, peek, read_records, up_to_date
from tmkit.publish.remote import Remote, manifest_ids, read_manifest, read_remote, record_keys, state_body
from tmkit.publish.rules import (
    DEFAULT_KEEP,
    DEFAULT_MAX_PATHS,
    DEFAULT_WORKERS,
    MAX_WORKERS,
    RESERVED,
    STATE_KEY,
    manifest_key,
)
from tmkit.publish.transfer import Progress, delete, parallel, put_json, put_record, upload, write_live


@dataclass
class Result:
    plan: Plan
    invalidation_id: str | None = None
    seconds: float = 0.0
    done: bool = False
    pruned: int = 0  # objects deleted (the plan's deletions less what a manifest still referenced)
    notes: list[str] = field(default_factory=list)


def prune(
    s3, bucket: str, deletes: list[str], known: dict[str, Manifest], release: str, bases: dict | None = None
) -> int:
    """Delete ``deletes``, except what a record that exists at the moment of deletion still references.

    The records in the bucket are listed again (one request) and the keys any of them needs are spared: every
    key of the release going live and of any record this publish did not know about (written meanwhile), and
    the base records they build on; what the releases it knows need, the plan already left out. The records
    of the releases being dropped go last, so a prune killed midway is finished by the next publish (the
    state names them)."""
    records = {k for k in deletes if k.startswith(RESERVED) and k.endswith(".json") and k.count("/") == 1}
    dropped = set(manifest_ids(records))
    bases = bases or {}
    protected: set[str] = set()
    for rid in manifest_ids(record_keys(s3, bucket)):
        if rid in dropped or (rid in known and rid != release):
            continue  # the plan decided what a release it knows needs
        found = (known[rid], bases.get(rid)) if rid in known else read_manifest(s3, bucket, rid)
        if found is not None:
            protected |= found[0].live_keys() | ({manifest_key(found[1])} if found[1] else set())
    rest = [k for k in deletes if k not in protected]
    delete(s3, bucket, [k for k in rest if k not in records])
    delete(s3, bucket, [k for k in rest if k in records])
    return len(rest)


def check_workers(workers: int) -> None:
    if not 1 <= workers <= MAX_WORKERS:
        raise ToolkitError(f"--workers must be between 1 and {MAX_WORKERS} uploads in flight (got {workers}).")


def interleaved(puts: list) -> list:
    """The biggest, the smallest, the next biggest, ...: big files keep the link busy while small ones pay
    their round trips alongside (the link stayed 76-84% busy instead of 65-81% biggest-first)."""
    by_size = sorted(puts, key=lambda kf: -kf[1].size)
    out = []
    while by_size:
        out.append(by_size.pop(0))
        if by_size:
            out.append(by_size.pop())
    return out


def _record(remote: Remote, build: Build, base: str | None) -> bytes:
    return encode(build.manifest, (base, remote.fulls[base]) if base else None)


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
    sweep: bool = False,
    wait_lock: float = 0.0,
    stale_lock: float = locking.DEFAULT_STALE_SECONDS,
    say: Callable[[str], None] = lambda m: None,
) -> Result:
    """Publish ``build`` to ``bucket``. ``distribution_id`` None: no CDN. A dry run takes no lock. ``sweep``: list
    the whole bucket instead of trusting the records (removes what no record accounts for)."""
    started = time.monotonic()
    check_workers(workers)
    if not isinstance(build, Build):
        build = scan_build(build)
    if not sweep:
        state, head = peek(s3, bucket)
        if up_to_date(state, head, build, keep):
            plan = Plan(build.release, build.release, False, [], [], [], [], state["history"], [build.release])
            return Result(plan, seconds=time.monotonic() - started, done=True)
    if dry_run:
        remote = (not sweep and read_records(s3, bucket, build.release, workers=workers)) or read_remote(
            s3, bucket, workers=workers
        )
        return Result(plan_publish(s3, bucket, build, remote, keep=keep, max_paths=max_paths))
    purpose = f"a publish of release {build.release}"
    with locking.held(s3, bucket, purpose=purpose, wait=wait_lock, stale=stale_lock, say=say) as lock:
        remote = None
        if not (sweep or lock.took_over):  # after a publish that died holding the lock: list the bucket
            remote = read_records(s3, bucket, build.release, workers=workers)
        if remote is None:
            say("listing the bucket (a sweep: what no record accounts for is found and removed)...")
            remote = read_remote(s3, bucket, workers=workers)
        plan = plan_publish(s3, bucket, build, remote, keep=keep, max_paths=max_paths)
        result = Result(plan)
        if plan.write_manifest:
            put_record(s3, bucket, manifest_key(plan.release), _record(remote, build, plan.base))
        if plan.puts:
            progress = Progress("uploading", len(plan.puts), plan.upload_bytes)

            def put(item):
                upload(s3, bucket, *item)
                progress.advance(item[1].size)

            parallel(put, interleaved(plan.puts), workers)
        locking.renew(s3, lock, stale_lock)  # still ours after the uploads: go live
        write_live(s3, bucket, [(f.path, f.sha256) for f in plan.copies], plan.release, workers)
        if plan.invalidation and distribution_id:
            result.invalidation_id = create_invalidation(cloudfront, distribution_id, plan.invalidation)
        unswept = 0 if remote.listed else remote.state["unswept"] + 1
        if remote.live is None and remote.listed and plan.spared:
            unswept = SWEEP_EVERY  # objects that were there before the first publish: the next publish sweeps
        state = partial(state_body, plan.release, plan.history, keep=keep, unswept=unswept)
        put_json(s3, bucket, STATE_KEY, state(pruning=plan.pruning))
        if plan.deletes:
            locking.renew(s3, lock, stale_lock)
            known = {**remote.fulls, **remote.manifests, plan.release: build.manifest}
            bases = {**remote.bases, plan.release: plan.base}
            result.pruned = prune(s3, bucket, plan.deletes, known, plan.release, bases)
            put_json(s3, bucket, STATE_KEY, state())
        result.done = True
    if wait and result.invalidation_id:
        say(f"waiting for invalidation {result.invalidation_id} (up to {timeout:g}s)...")
        wait_invalidation(cloudfront, distribution_id, result.invalidation_id, timeout=timeout, poll=poll)
    result.seconds = time.monotonic() - started
    return result
