"""One publish (or rollback) per environment at a time: a lock object in the frontend bucket.

``_releases/lock`` is created with an S3 conditional write (``If-None-Match: *``): of two writers exactly
one succeeds, the other gets 412 Precondition Failed. It holds who took it (user, host, pid) and when.
The holder deletes it with ``If-Match: <its ETag>``, so a lock someone else took over is never removed.
A lock older than ``stale`` seconds (a publisher killed without cleaning up) is taken over, with a
message, by a conditional overwrite (``If-Match``): of two publishes taking over, one wins.
See docs/frontend.md ("One publish at a time").
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from tmkit.errors import ToolkitError
from tmkit.publish.remote import no_bucket
from tmkit.publish.rules import LOCK_KEY

DEFAULT_STALE_SECONDS = 900  # a publish takes seconds to minutes; a lock this old is a publisher that died
_CONFLICT = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


@dataclass(frozen=True)
class Holder:
    owner: str
    host: str
    pid: int
    started: str
    purpose: str
    token: str

    def describe(self, age: float | None = None) -> str:
        since = f" since {self.started}" + (f" ({age:.0f}s ago)" if age is not None else "")
        return f"{self.purpose} by {self.owner}@{self.host} (pid {self.pid}){since}"

    @classmethod
    def parse(cls, body: bytes) -> Holder:
        try:
            d = json.loads(body)
            return cls(str(d["owner"]), str(d["host"]), int(d["pid"]), str(d["started"]), str(d["purpose"]), d["token"])
        except (ValueError, KeyError, TypeError):
            return cls("?", "?", 0, "?", "an unreadable lock", "")


@dataclass
class Lock:
    bucket: str
    holder: Holder
    etag: str  # changes at each renewal
    took_over: bool = False  # taken over from a holder that died: what it left is known only to a listing


def _me(purpose: str) -> Holder:
    try:
        owner = getpass.getuser()
    except (KeyError, OSError):
        owner = str(os.getuid()) if hasattr(os, "getuid") else "?"
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return Holder(owner, socket.gethostname(), os.getpid(), now, purpose, uuid.uuid4().hex)


def _code(exc) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) or str(
        exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    )


def _put(s3, bucket: str, me: Holder, **condition) -> str:
    body = json.dumps(me.__dict__, sort_keys=True).encode()
    res = s3.put_object(
        Bucket=bucket, Key=LOCK_KEY, Body=body, ContentType="application/json", CacheControl="no-store", **condition
    )
    return res["ETag"].strip('"')


def _current(s3, bucket: str) -> tuple[Holder, str, float] | None:
    """The lock's holder, ETag and age in seconds; None when there is no lock."""
    from botocore.exceptions import ClientError

    try:
        res = s3.get_object(Bucket=bucket, Key=LOCK_KEY)
    except ClientError as exc:
        if _code(exc) in ("NoSuchKey", "404"):
            return None
        raise
    age = (datetime.now(UTC) - res["LastModified"]).total_seconds()
    return Holder.parse(res["Body"].read()), res["ETag"].strip('"'), age


def acquire(
    s3,
    bucket: str,
    *,
    purpose: str = "a publish",
    wait: float = 0.0,
    stale: float = DEFAULT_STALE_SECONDS,
    poll: float = 1.0,
    say: Callable[[str], None] = lambda m: None,
) -> Lock:
    """Take the environment's lock, waiting up to ``wait`` seconds for its holder; ToolkitError naming the
    holder when it is still held then."""
    from botocore.exceptions import ClientError

    me = _me(purpose)
    deadline = time.monotonic() + max(0.0, wait)
    told = False
    while True:
        try:
            return Lock(bucket, me, _put(s3, bucket, me, IfNoneMatch="*"))
        except ClientError as exc:
            if _code(exc) == "NoSuchBucket":
                raise no_bucket(bucket) from None
            if _code(exc) not in _CONFLICT:
                raise
        current = _current(s3, bucket)
        if current is None:
            continue  # released in between: try again at once
        holder, etag, age = current
        if age >= stale:
            try:
                lock = Lock(bucket, me, _put(s3, bucket, me, IfMatch=etag), took_over=True)
            except ClientError as exc:
                if _code(exc) not in (*_CONFLICT, "NoSuchKey", "404"):
                    raise
                continue  # someone else took it over, or it was released: look again
            say(f"took over a stale lock on {bucket}: {holder.describe(age)}, older than {stale:g}s (died?).")
            return lock
        if time.monotonic() + poll > deadline:
            raise ToolkitError(
                f"another publish or rollback holds the lock on {bucket}: {holder.describe(age)}. "
                f"Wait for it to finish (`--wait-lock SECONDS` waits), or if it died, retry after the lock "
                f"goes stale ({stale:g}s after it was taken). Nothing was changed."
            )
        if not told:
            say(f"waiting for the lock on {bucket}, held: {holder.describe(age)}...")
            told = True
        time.sleep(poll)


def renew(s3, lock: Lock, stale: float = DEFAULT_STALE_SECONDS) -> None:
    """Rewrite the lock (its age starts again), only if it is still ours; ToolkitError when it was taken over
    (this publish took longer than ``stale`` between two renewals): stop before changing the live site."""
    from botocore.exceptions import ClientError

    try:
        lock.etag = _put(s3, lock.bucket, lock.holder, IfMatch=lock.etag)
    except ClientError as exc:
        if _code(exc) not in (*_CONFLICT, "NoSuchKey", "404"):
            raise
        current = _current(s3, lock.bucket)
        who = current[0].describe(current[2]) if current else "nobody (it was deleted)"
        raise ToolkitError(
            f"this publish lost the lock on {lock.bucket}: a step took longer than {stale:g}s and the lock is now "
            f"held by {who}. It stopped before changing the live site; publish again once that one has finished."
        ) from None


def release(s3, lock: Lock) -> None:
    """Delete the lock if it is still ours (``If-Match``: a lock taken over after it went stale stays)."""
    from botocore.exceptions import ClientError

    try:
        s3.delete_object(Bucket=lock.bucket, Key=LOCK_KEY, IfMatch=lock.etag)
    except ClientError as exc:
        if _code(exc) not in (*_CONFLICT, "NoSuchKey", "404"):
            raise


@contextlib.contextmanager
def held(s3, bucket: str, **options) -> Iterator[Lock]:
    lock = acquire(s3, bucket, **options)
    try:
        yield lock
    except BaseException:
        with contextlib.suppress(Exception):  # the failure that got here is the one to report
            release(s3, lock)
        raise
    release(s3, lock)
