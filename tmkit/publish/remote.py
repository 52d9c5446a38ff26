"""What the bucket holds: the objects, the release records and which release is live.

Two ways to know it: ``read_remote`` lists the whole bucket (one LIST per 1,000 objects) and reads every
record, the sweep; ``tmkit.publish.records.read_records`` derives it from the records the state names, in a
constant number of requests. The live release is the one whose ``index.html`` is at ``index.html`` (the copy
carries the release id in its metadata), not the one ``_releases/state.json`` names: a publish killed after
index.html went live and before the state was written leaves the state one release behind.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tmkit.errors import ToolkitError
from tmkit.publish.manifest import RECORD_FORMAT, Manifest, Record, decode, not_a_manifest
from tmkit.publish.rules import RESERVED, ROOT_INDEX, RULES, STATE_KEY, manifest_key

RELEASE_ID = re.compile(r"^[0-9a-f]{12}$")  # the first 12 hex digits of the manifest's hash


@dataclass
class Remote:
    objects: dict[str, dict]  # key -> {"etag", "size", "modified"}: listed, or derived from the records
    state: dict  # as parsed by parse_state: live, history, keep, unswept, pruning, format
    manifests: dict[str, Manifest]  # release id -> manifest
    index: dict | None = None  # metadata of the live index.html: {"sha256", "release"}; None when absent
    bases: dict[str, str | None] = field(default_factory=dict)  # release id -> the base of its record (None: full)
    listed: bool = True  # objects is a listing of the bucket (a sweep); False: derived from the records
    leftovers: set[str] = field(default_factory=set)  # keys an unfinished prune may have left (records mode)
    fulls: dict[str, Manifest] = field(default_factory=dict)  # full records read: the bases a delta can use

    @property
    def recorded_live(self) -> str | None:
        return self.state.get("live")

    @property
    def live(self) -> str | None:
        """The release that is live: the one whose index.html is served."""
        recorded = self.recorded_live
        if self.index is None:  # no index.html: nothing is served; the record is all there is
            return recorded
        named = self.index.get("release")
        if named in self.manifests:
            return named
        sha = self.index.get("sha256")
        if recorded in self.manifests and self.manifests[recorded].sha(ROOT_INDEX) in (sha, None):
            return recorded
        order = [e["id"] for e in reversed(self.history)] + sorted(self.manifests)
        for rid in order:
            if rid in self.manifests and self.manifests[rid].sha(ROOT_INDEX) == sha:
                return rid
        return recorded

    @property
    def history(self) -> list[dict]:
        return list(self.state.get("history", []))

    def history_with_live(self) -> list[dict]:
        """The recorded history, plus the live release at its end when the record lags (a publish killed after
        its index.html went live, before it wrote the state)."""
        history, live = self.history, self.live
        if live and live in self.manifests and live not in {e["id"] for e in history}:
            modified = self.objects.get(manifest_key(live), {}).get("modified") or datetime.now(UTC)
            history.append({"id": live, "published_at": modified.isoformat(timespec="seconds")})
        return [{**e, "base": self.bases.get(e["id"], e.get("base"))} for e in history]

    def live_manifest(self) -> Manifest | None:
        return self.manifests.get(self.live) if self.live else None

    def vouched(self, path: str, sha256: str) -> bool:
        """A manifest written under the current rules lists this path with this content."""
        return any(m.rules == RULES and m.sha(path) == sha256 for m in self.manifests.values())

    def known_other(self, path: str, etag: str, sha256: str) -> bool:
        """The object's ETag is the MD5 a manifest recorded for other content at this path: it differs."""
        for m in self.manifests.values():
            entry = m.files.get(path)
            if entry and entry.md5 == etag and entry.sha256 != sha256:
                return True
        return False


def no_bucket(bucket: str) -> ToolkitError:
    return ToolkitError(
        f"the frontend bucket {bucket} does not exist: deploy the stack (`inv deploy --env NAME`) and retry."
    )


def _missing(exc) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def get_body(s3, bucket: str, key: str) -> bytes | None:
    """The object's bytes; None when there is no such key."""
    from botocore.exceptions import ClientError

    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if _missing(exc):
            return None
        raise


def read_record(s3, bucket: str, release: str) -> Record | None:
    """The stored record of ``release`` (full or delta); None when it is not in the bucket."""
    body = get_body(s3, bucket, manifest_key(release))
    return None if body is None else decode(body, f"s3://{bucket}/{manifest_key(release)}")


def resolve(bucket: str, records: dict[str, Record | None], ids) -> tuple[dict[str, Manifest], dict[str, str | None]]:
    """The manifests of ``ids`` (those whose record is there) from ``records``, deltas applied to their bases;
    and each one's base (None: a full record)."""
    manifests, bases = {}, {}
    for rid in ids:
        record = records.get(rid)
        if record is None:
            continue
        where = f"s3://{bucket}/{manifest_key(rid)}"
        base = records.get(record.base) if record.base else None
        if base is not None and base.base is not None:
            raise not_a_manifest(where, f"its base {record.base} is itself a delta")
        manifests[rid] = record.resolve(rid, Manifest(base.files, base.rules) if base else None, where)
        bases[rid] = record.base
    return manifests, bases


def full_records(records: dict[str, Record | None]) -> dict[str, Manifest]:
    return {i: Manifest(r.files, r.rules) for i, r in records.items() if r is not None and r.base is None}


def read_manifest(s3, bucket: str, release: str) -> tuple[Manifest, str | None] | None:
    """A release's manifest and the base of its record; None when its record (or the base) is gone."""
    record = read_record(s3, bucket, release)
    base = read_record(s3, bucket, record.base) if record and record.base else None
    if record is None or (record.base and base is None):
        return None
    manifests, bases = resolve(bucket, {release: record, record.base: base}, [release])
    return manifests[release], bases[release]


def listing(s3, bucket: str, prefix: str = "", delimiter: str | None = None) -> dict[str, dict]:
    objects = {}
    extra = {"Delimiter": delimiter} if delimiter else {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, **extra):
        for o in page.get("Contents", []):
            objects[o["Key"]] = {"etag": o["ETag"].strip('"'), "size": o["Size"], "modified": o["LastModified"]}
    return objects


def record_keys(s3, bucket: str) -> dict[str, dict]:
    """The objects directly under ``_releases/`` (records, state, lock), not the blobs: one request."""
    return listing(s3, bucket, RESERVED, delimiter="/")


def manifest_ids(keys) -> list[str]:
    return [
        k[len(RESERVED) : -len(".json")] for k in keys if k.endswith(".json") and k.count("/") == 1 and k != STATE_KEY
    ]


def index_head(s3, bucket: str) -> tuple[dict, datetime] | None:
    """The live index.html's metadata and LastModified; None when there is none."""
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=ROOT_INDEX)
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    return head.get("Metadata", {}), head["LastModified"]


def is_release_id(value) -> bool:
    return isinstance(value, str) and bool(RELEASE_ID.match(value))


def parse_state(raw, bucket: str) -> dict:
    """``_releases/state.json`` (decoded JSON, or None when absent) as a dict with every field; ToolkitError
    when it is not a release state."""
    raw = {} if raw is None else raw
    history = raw.get("history", []) if isinstance(raw, dict) else None
    live = raw.get("live") if isinstance(raw, dict) else None
    pruning = raw.get("pruning", []) if isinstance(raw, dict) else None
    numbers = [raw.get(k) for k in ("format", "keep", "unswept")] if isinstance(raw, dict) else [None]
    if (
        not isinstance(history, list)
        or not all(isinstance(e, dict) and is_release_id(e.get("id")) for e in history)
        or not all(e.get("base") is None or is_release_id(e["base"]) for e in history)
        or not (live is None or is_release_id(live))
        or not isinstance(pruning, list)
        or not all(is_release_id(i) for i in pruning)
        or not all(n is None or (isinstance(n, int) and not isinstance(n, bool) and n >= 0) for n in numbers)
    ):
        raise ToolkitError(f"s3://{bucket}/{STATE_KEY} is not a release state (edited by hand?): delete it.")
    return {
        "format": raw.get("format") or 1,
        "live": live,
        "history": history,
        "keep": raw.get("keep"),
        "unswept": raw.get("unswept") or 0,
        "pruning": pruning,
    }


def state_body(live: str, history: list[dict], *, keep: int | None, unswept: int, pruning=()) -> dict:
    """The state as stored (format 2)."""
    return {
        "format": RECORD_FORMAT,
        "live": live,
        "history": history,
        "keep": keep,
        "unswept": unswept,
        "pruning": sorted(set(pruning)),
    }


def read_state(s3, bucket: str) -> dict:
    body = get_body(s3, bucket, STATE_KEY)
    if body is None:
        return parse_state(None, bucket)
    try:
        raw = json.loads(body)
    except ValueError:
        raise ToolkitError(
            f"s3://{bucket}/{STATE_KEY} is not valid JSON (edited by hand?): delete it and publish again."
        ) from None
    return parse_state(raw, bucket)


def read_remote(s3, bucket: str, *, workers: int = 8) -> Remote:
    """The sweep: list the whole bucket and read every release record (state and manifests), side by side."""

    def records() -> tuple[dict, dict]:
        keys = record_keys(s3, bucket)
        ids = manifest_ids(keys)
        with ThreadPoolExecutor(max_workers=workers) as inner:
            state = inner.submit(read_state, s3, bucket)
            found = dict(zip(ids, inner.map(lambda i: read_record(s3, bucket, i), ids), strict=True))
            return state.result(), found

    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            everything, recs = pool.submit(listing, s3, bucket), pool.submit(records)
            index = pool.submit(index_head, s3, bucket)
            objects, (state, found), head = everything.result(), recs.result(), index.result()
    except s3.exceptions.NoSuchBucket:
        raise no_bucket(bucket) from None
    found = {i: r for i, r in found.items() if manifest_key(i) in objects}  # listed by both
    needed = {e["id"] for e in state["history"]} | {state["live"]} | ({head[0].get("release")} if head else set())
    # a delta whose base is gone: an error for a release the history needs, garbage otherwise
    usable = [i for i, r in found.items() if i in needed or r.base is None or r.base in found]
    manifests, bases = resolve(bucket, found, usable)
    return Remote(objects, state, manifests, head[0] if head else None, bases, fulls=full_records(found))
