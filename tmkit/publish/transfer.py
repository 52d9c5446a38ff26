"""Writes to the bucket: streamed uploads, server-side copies into live paths, JSON records, deletions."""

from __future__ import annotations

import base64
import json
import sys
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from tmkit.errors import ToolkitError
from tmkit.publish.build import LocalFile, hash_file, open_file
from tmkit.publish.rules import ROOT_INDEX, blob_key, cache_control, content_type

DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys


class Progress:
    """``n/N files, x/y MB`` on one stderr line when stderr is a terminal; silent otherwise."""

    def __init__(self, label: str, files: int, size: int, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = files > 0 and self.stream.isatty()
        self.label, self.files, self.size, self.done, self.bytes = label, files, size, 0, 0
        self.lock = threading.Lock()

    def advance(self, size: int) -> None:
        with self.lock:
            self.done += 1
            self.bytes += size
            if self.enabled:
                self.stream.write(
                    f"\r{self.label}: {self.done}/{self.files} files, {self.bytes / 1e6:.1f}/{self.size / 1e6:.1f} MB"
                )
                if self.done == self.files:
                    self.stream.write("\n")
                self.stream.flush()


def parallel(fn: Callable, items: list, workers: int) -> None:
    """Run ``fn(item)`` for every item on a bounded pool; the first failure stops the rest and is raised.

    At most ``2 * workers`` items are queued at a time, so memory does not grow with the number of items."""
    if not items:
        return
    workers = max(1, min(workers, len(items)))
    pool = ThreadPoolExecutor(max_workers=workers)
    pending: set = set()
    try:
        for item in items:
            if len(pending) >= 2 * workers:
                done, pending = wait_futures(pending, return_when=FIRST_COMPLETED)
                _raise_first(done)
            pending.add(pool.submit(fn, item))
        done, _ = wait_futures(pending, return_when=FIRST_EXCEPTION)
        _raise_first(done)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _raise_first(done) -> None:
    for fut in done:
        if fut.exception():
            raise fut.exception()


def _changed(f: LocalFile) -> ToolkitError:
    return ToolkitError(
        f"{f.source} changed while publishing (is a build running?): wait for the build to finish and publish again."
    )


def upload(s3, bucket: str, key: str, f: LocalFile) -> None:
    """Stream ``f`` to ``key`` (memory stays flat in the file's size). S3 checks the bytes against the MD5
    taken when the build was scanned (Content-MD5) and answers BadDigest when the file changed since."""
    from botocore.exceptions import ClientError

    try:
        body = open_file(f.source)
    except OSError:  # replaced by a symlink (or removed) since the scan
        raise _changed(f) from None
    try:
        with body:
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=f.content_type,
                CacheControl=f.cache_control,
                ContentMD5=base64.b64encode(bytes.fromhex(f.md5)).decode(),
                Metadata={"sha256": f.sha256},
            )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "BadDigest":
            raise _changed(f) from None
        raise
    try:
        unchanged = hash_file(f.source)[2] == f.md5  # also caught where the endpoint ignores Content-MD5
    except OSError:
        unchanged = False
    if not unchanged:
        raise _changed(f)


def copy_live(s3, bucket: str, path: str, sha256: str, release: str) -> None:
    """Copy a blob to its live path with its headers; the metadata names the release (index.html says
    which release is live)."""
    s3.copy_object(
        Bucket=bucket,
        Key=path,
        CopySource={"Bucket": bucket, "Key": blob_key(sha256)},
        MetadataDirective="REPLACE",
        ContentType=content_type(path),
        CacheControl=cache_control(path),
        Metadata={"sha256": sha256, "release": release},
    )


def put_json(s3, bucket: str, key: str, value: dict) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(value, separators=(",", ":"), sort_keys=True).encode(),
        ContentType="application/json",
        CacheControl="no-store",
    )


def put_record(s3, bucket: str, key: str, body: bytes) -> None:
    """A release record (gzip-compressed JSON; no Content-Encoding, so no client inflates it unasked)."""
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/gzip", CacheControl="no-store")


def delete(s3, bucket: str, keys: list[str]) -> None:
    for i in range(0, len(keys), DELETE_BATCH):
        batch = keys[i : i + DELETE_BATCH]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})


def write_live(s3, bucket: str, files: list[tuple[str, str]], release: str, workers: int) -> None:
    """Copy unfingerprinted files into place from their blobs: others in parallel, then index.html alone."""
    others = [(p, sha) for p, sha in files if p != ROOT_INDEX]
    parallel(lambda item: copy_live(s3, bucket, *item, release), others, workers)
    for p, sha in files:
        if p == ROOT_INDEX:
            copy_live(s3, bucket, p, sha, release)
