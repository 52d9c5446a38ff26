"""What the bucket holds: the object listing, the release records and which release is live.

The live release is the one whose ``index.html`` is at ``index.html`` (the copy carries the release id in
its metadata), not the one ``_releases/state.json`` names: a publish killed after index.html went live and
before the state was written leaves the state one release behind.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tmkit.errors import ToolkitError
from tmkit.publish.manifest import Manifest
from tmkit.publish.rules import RESERVED, ROOT_INDEX, RULES, STATE_KEY, manifest_key


@dataclass
class Remote:
    objects: dict[str, dict]  # key -> {"etag", "size", "modified"}
    state: dict  # as stored: {"live": id|None, "history": [{"id", "published_at"}]}
    manifests: dict[str, Manifest]  # release id -> manifest
    index: dict | None = None  # metadata of the live index.html: {"sha256", "release"}; None when absent

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
            modified = self.objects[manifest_key(live)]["modified"]
            history.append({"id": live, "published_at": modified.isoformat(timespec="seconds")})
        return history

    def live_manifest(self) -> Manifest | None:
        return self.manifests.get(self.live) if self.live else None

    def live_sha(self, path: str) -> str | None:
        m = self.live_manifest()
        return m.sha(path) if m else None

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


def get_json(s3, bucket: str, key: str):
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        return json.loads(body)
    except ValueError:
        raise ToolkitError(
            f"s3://{bucket}/{key} is not valid JSON (edited by hand?): delete it and publish again."
        ) from None


def read_manifest(s3, bucket: str, release: str) -> Manifest:
    key = manifest_key(release)
    return Manifest.parse(get_json(s3, bucket, key), f"s3://{bucket}/{key}")


def listing(s3, bucket: str, prefix: str = "") -> dict[str, dict]:
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            objects[o["Key"]] = {"etag": o["ETag"].strip('"'), "size": o["Size"], "modified": o["LastModified"]}
    return objects


def manifest_ids(keys) -> list[str]:
    return [
        k[len(RESERVED) : -len(".json")] for k in keys if k.endswith(".json") and k.count("/") == 1 and k != STATE_KEY
    ]


def index_metadata(s3, bucket: str) -> dict | None:
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=bucket, Key=ROOT_INDEX).get("Metadata", {})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def read_remote(s3, bucket: str, *, workers: int = 8) -> Remote:
    """List the bucket and read the release records (state and manifests), the reads side by side."""

    def records() -> tuple[dict, dict]:
        keys = listing(s3, bucket, RESERVED)
        ids = manifest_ids(keys)
        with ThreadPoolExecutor(max_workers=workers) as inner:
            state = inner.submit(get_json, s3, bucket, STATE_KEY) if STATE_KEY in keys else None
            manifests = dict(zip(ids, inner.map(lambda i: read_manifest(s3, bucket, i), ids), strict=True))
            return (state.result() if state else {}), manifests

    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            everything, recs = pool.submit(listing, s3, bucket), pool.submit(records)
            index = pool.submit(index_metadata, s3, bucket)
            objects, (state, manifests), index_meta = everything.result(), recs.result(), index.result()
    except s3.exceptions.NoSuchBucket:
        raise no_bucket(bucket) from None
    history = state.get("history", []) if isinstance(state, dict) else None
    live = state.get("live") if isinstance(state, dict) else None
    if (
        not isinstance(history, list)
        or not all(isinstance(e, dict) and isinstance(e.get("id"), str) for e in history)
        or not isinstance(live, str | None)
    ):
        raise ToolkitError(f"s3://{bucket}/{STATE_KEY} is not a release state (edited by hand?): delete it.")
    manifests = {i: m for i, m in manifests.items() if manifest_key(i) in objects}  # listed by both
    return Remote(objects, {"live": live, "history": history}, manifests, index_meta)
