"""Content-addressed publish of the SPA to its S3 bucket, CloudFront invalidation, releases and rollback.

Bucket layout (the bucket is the only state; nothing is kept on the machine that publishes):

    index.html, favicon.svg, ...        the live release's unfingerprinted files   (Cache-Control: no-cache)
    assets/<name>-<hash>.<ext>          fingerprinted build assets of kept releases (immutable)
    _releases/<id>.json                 a release's record: every path with its sha256, size and md5, gzip
                                        JSON, full or as a delta against a full base record (manifest.py)
    _releases/blobs/<sha256>            a copy of every unfingerprinted file of a kept release (for rollback)
    _releases/state.json                the history (oldest first, each with its record's base), the release
                                        last recorded live, keep, publishes since the last sweep, and the
                                        releases an unfinished prune is removing
    _releases/lock                      present while a publish or rollback runs (who, where, since when)

A release id is a hash of the manifest, so publishing the same build twice is the same release. The live
release is the one whose index.html is served (its metadata names it). What the bucket holds is known from
the records (records.py: a constant number of requests); the whole bucket is listed only by a sweep
(``--sweep``, every ``SWEEP_EVERY`` publishes, or when the records cannot vouch for it). A no-change publish
reads the state and index.html's metadata and stops: no lock, no write. Publish order, so that the live
index.html never references a missing file and a publish killed at any point leaves the old site working
(a rerun finishes the job, uploading only what is still missing):
    0. take the environment's lock (one publish or rollback at a time)
    1. the record (the intent)
    2. fingerprinted assets and the blobs of unfingerprinted files, streamed, in parallel
    3. unfingerprinted files other than index.html (server-side copies of their blobs), in parallel
    4. index.html (a copy of its blob): the release is now live
    5. the CloudFront invalidation of the unfingerprinted paths that changed
    6. state.json (live release, history, and the releases the prune will remove)
    7. prune: what no kept release needs (kept: the live release + the ``keep`` newest others), never what
       a record in the bucket at that moment references, the dropped records last; then state.json again
       (the prune is done) and release the lock

Modules: rules (keys, headers), manifest (the manifest type and its stored record), build (the build on
disk and its checks), html (what an HTML entry point loads), remote (what the bucket holds, from a listing),
records (what it holds, from the records), plan, transfer (writes), lock,
cdn (invalidations), publishing (one publish + prune), releases (list, rollback), environment (one
environment's bucket, distribution, clients and errors). docs/frontend.md describes the rules.
"""

from tmkit.publish.build import Build, LocalFile, scan_build
from tmkit.publish.cdn import MAX_INVALIDATION_PATHS, collapse, create_invalidation, wait_invalidation
from tmkit.publish.environment import Target, invalidate_env, publish_env, releases_env, rollback_env, target
from tmkit.publish.lock import DEFAULT_STALE_SECONDS
from tmkit.publish.manifest import MAX_RECORD_BYTES, Entry, Manifest, Record, decode, encode
from tmkit.publish.plan import Plan, invalidation_paths, kept_releases, plan_publish
from tmkit.publish.publishing import Result, prune, publish
from tmkit.publish.records import SWEEP_EVERY, read_records
from tmkit.publish.releases import Release, list_releases, render_releases, rollback
from tmkit.publish.remote import Remote, read_remote
from tmkit.publish.rules import (
    DEFAULT_KEEP,
    DEFAULT_MAX_PATHS,
    DEFAULT_WORKERS,
    LOCK_KEY,
    PENDING_GRACE_SECONDS,
    RESERVED,
    ROOT_INDEX,
    STATE_KEY,
    blob_key,
    cache_control,
    content_type,
    is_fingerprinted,
    manifest_key,
)
from tmkit.publish.transfer import Progress

__all__ = [
    "DEFAULT_KEEP",
    "DEFAULT_MAX_PATHS",
    "DEFAULT_STALE_SECONDS",
    "DEFAULT_WORKERS",
    "LOCK_KEY",
    "MAX_RECORD_BYTES",
    "MAX_INVALIDATION_PATHS",
    "PENDING_GRACE_SECONDS",
    "RESERVED",
    "ROOT_INDEX",
    "STATE_KEY",
    "SWEEP_EVERY",
    "Build",
    "Entry",
    "LocalFile",
    "Manifest",
    "Plan",
    "Progress",
    "Record",
    "Release",
    "Remote",
    "Result",
    "Target",
    "blob_key",
    "cache_control",
    "collapse",
    "content_type",
    "create_invalidation",
    "decode",
    "encode",
    "invalidate_env",
    "invalidation_paths",
    "is_fingerprinted",
    "kept_releases",
    "list_releases",
    "manifest_key",
    "plan_publish",
    "prune",
    "publish",
    "publish_env",
    "read_records",
    "read_remote",
    "releases_env",
    "render_releases",
    "rollback",
    "rollback_env",
    "scan_build",
    "target",
    "wait_invalidation",
]
