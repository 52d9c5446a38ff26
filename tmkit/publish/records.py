"""The bucket's contents known from its release records, without listing it.

The state (``_releases/state.json``) names the releases in the history (with the base of each one's record),
and ``index.html``'s metadata names the live one. Their records say which objects exist: every kept release's
fingerprinted assets and blobs, and the live release's files at their paths. Reading them costs a constant
number of requests whatever the size of the site: a HEAD and a GET (``peek``), then the records side by side,
then any base not yet known. A no-change publish stops after the peek (``up_to_date``).

The records can vouch only for what a publish finished. ``read_records`` returns None, and the publish lists
the whole bucket instead (the sweep, ``tmkit.publish.remote.read_remote``), when the state predates this format,
a record the history needs is missing or does not add up, or this build's own record is there without being
published (a publish of it was interrupted: the listing says what it already uploaded). Objects nobody
recorded (a publish of another build killed midway, files put by hand) are found by a sweep: ``--sweep``, and
automatically every ``SWEEP_EVERY`` publishes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tmkit.errors import ToolkitError
from tmkit.publish.build import Build
from tmkit.publish.manifest import RECORD_FORMAT, Entry
from tmkit.publish.remote import (
    Remote,
    full_records,
    index_head,
    is_release_id,
    no_bucket,
    read_record,
    read_state,
    resolve,
)
from tmkit.publish.rules import LOCK_KEY, ROOT_INDEX, STATE_KEY, manifest_key

SWEEP_EVERY = 10  # publishes between two full listings


def peek(s3, bucket: str) -> tuple[dict, tuple[dict, object] | None]:
    """The state and the live index.html's (metadata, LastModified): two requests, side by side."""
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            state, head = pool.submit(read_state, s3, bucket), pool.submit(index_head, s3, bucket)
            return state.result(), head.result()
    except s3.exceptions.NoSuchBucket:
        raise no_bucket(bucket) from None


def sweep_due(state: dict) -> bool:
    return state["format"] != RECORD_FORMAT or state["unswept"] >= SWEEP_EVERY


def up_to_date(state: dict, head, build: Build, keep: int) -> bool:
    """This build is live, its publish finished (recorded, pruned) under the same ``keep``, and no sweep is due:
    a publish would change nothing."""
    meta = head[0] if head else {}
    return (
        not sweep_due(state)
        and state["live"] == build.release
        and meta.get("release") == build.release
        and meta.get("sha256") == build.files[ROOT_INDEX].sha256
        and state["keep"] == keep
        and not state["pruning"]
    )


def _fetch(s3, bucket: str, ids, workers: int) -> dict:
    ids = list(dict.fromkeys(i for i in ids if i))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(ids) or 1))) as pool:
        return dict(zip(ids, pool.map(lambda i: read_record(s3, bucket, i), ids), strict=True))


def _object(entry: Entry | None = None, modified=None) -> dict:
    """A key the records vouch for, as a listing shows it (for a record or the state: no size or ETag)."""
    return {"etag": (entry.md5 or "") if entry else "", "size": entry.size if entry else -1, "modified": modified}


def read_records(s3, bucket: str, release: str | None, *, workers: int = 8) -> Remote | None:
    """What the bucket holds, from its records; None when they cannot vouch for it (list the bucket instead).
    ``release``: the build about to be published (None: none)."""
    state, head = peek(s3, bucket)
    if sweep_due(state):
        return None
    meta, modified = head if head else ({}, None)
    history = [e["id"] for e in state["history"]]
    named = meta.get("release") if is_release_id(meta.get("release")) else None
    records = _fetch(
        s3, bucket, [*history, named, *state["pruning"], release, *(e.get("base") for e in state["history"])], workers
    )
    records |= _fetch(s3, bucket, [r.base for r in records.values() if r and r.base and r.base not in records], workers)
    served = [*history, *([named] if named else [])]
    if any(records.get(i) is None for i in served):
        return None  # a record the history needs is gone: only a listing says what is there
    if records.get(release) is not None and release not in served:
        return None  # this build's publish was interrupted: the listing says what it already uploaded
    try:
        manifests, bases = resolve(bucket, records, [*served, *state["pruning"]])
    except ToolkitError:
        if any(records[i].base and records.get(records[i].base) is None for i in served):
            return None  # a base is gone
        raise
    served_manifests = {i: manifests[i] for i in served}
    remote = Remote(
        {}, state, served_manifests, meta if head else None, bases, listed=False, fulls=full_records(records)
    )
    objects = {key: _object(e) for rid in served for key, e in manifests[rid].stored().items()}
    live = remote.live_manifest()
    if live is not None:
        objects |= {path: _object(e, modified) for path, e in live.unfingerprinted().items()}
    for rid in {*served, *(bases[i] for i in served if bases[i])}:
        objects[manifest_key(rid)] = _object(modified=modified if rid == named else None)
    objects[STATE_KEY] = objects[LOCK_KEY] = _object()
    remote.objects = objects
    # an unfinished prune: the keys of the releases it was removing (deleting one that is gone is harmless)
    for rid in state["pruning"]:
        if rid in manifests:
            remote.leftovers |= manifests[rid].live_keys() | {manifest_key(rid)}
            if bases.get(rid):
                remote.leftovers.add(manifest_key(bases[rid]))
    return remote
