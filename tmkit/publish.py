"""Content-addressed publish of the SPA to its S3 bucket, CloudFront invalidation, releases and rollback.

Bucket layout (the bucket is the only state; nothing is kept on the machine that publishes):

    index.html, favicon.svg, ...        live unfingerprinted files   (Cache-Control: no-cache)
    assets/<name>-<hash>.<ext>          fingerprinted build assets   (public, max-age=31536000, immutable)
    _releases/<id>.json                 a release's manifest: every path with its sha256 and size
    _releases/blobs/<sha256>            a copy of every unfingerprinted file of a kept release (for rollback)
    _releases/state.json                which release is live, and the publish history (oldest first)

A release id is a hash of the manifest, so publishing the same build twice is the same release.

Publish order, so that the live index.html never references a missing file and a publish killed at any
point leaves the old site working (a rerun finishes the job, uploading only what is still missing):
    1. the manifest (the intent: a concurrent prune keeps its files)
    2. fingerprinted assets and the blobs of unfingerprinted files, in parallel
    3. unfingerprinted files other than index.html (server-side copies of their blobs), in parallel
    4. index.html (a copy of its blob): the release is now live
    5. the CloudFront invalidation of the unfingerprinted paths that changed
    6. state.json (live release + history)
    7. prune: objects no kept release references (kept: the live release + the ``keep`` newest others)
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from tmkit.errors import ToolkitError

# ---- the rules: content types and caching ----------------------------------------------------------
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "htm": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "mjs": "text/javascript; charset=utf-8",
    "cjs": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "json": "application/json",
    "map": "application/json",
    "webmanifest": "application/manifest+json",
    "wasm": "application/wasm",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "ico": "image/x-icon",
    "bmp": "image/bmp",
    "woff2": "font/woff2",
    "woff": "font/woff",
    "ttf": "font/ttf",
    "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xml": "application/xml",
    "pdf": "application/pdf",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "zip": "application/zip",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Vite/Rollup names emitted files `assets/<name>-<hash>.<ext>`: the hash is 8+ base64url characters.
_FINGERPRINTED = re.compile(r"^(?P<stem>.+)-(?P<hash>[A-Za-z0-9_-]{8,22})(?P<ext>(?:\.[A-Za-z0-9]+)+)$")
# Hash of the rules above: a manifest written under other rules does not vouch for an object's headers.
RULES = hashlib.sha256(json.dumps([CONTENT_TYPES, IMMUTABLE, NO_CACHE, _FINGERPRINTED.pattern]).encode()).hexdigest()[
    :12
]

RESERVED = "_releases/"
STATE_KEY = RESERVED + "state.json"
ROOT_INDEX = "index.html"
DEFAULT_KEEP = 3  # earlier releases whose files stay in the bucket (open tabs, rollback)
DEFAULT_MAX_PATHS = 15  # more changed paths than this: one "/*" invalidation
DEFAULT_WORKERS = 16
PENDING_GRACE_SECONDS = 3600  # a manifest no publish finished is kept this long (a publish may be running)


def content_type(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return CONTENT_TYPES.get(ext, DEFAULT_CONTENT_TYPE)


def is_fingerprinted(path: str) -> bool:
    """``assets/<name>-<hash>.<ext>`` with a hash that is not a plain lowercase word."""
    if not path.startswith("assets/"):
        return False
    m = _FINGERPRINTED.match(path.rsplit("/", 1)[-1])
    return bool(m) and bool(re.search(r"[0-9A-Z_-]", m["hash"]))


def cache_control(path: str) -> str:
    return IMMUTABLE if is_fingerprinted(path) else NO_CACHE


def blob_key(sha256: str) -> str:
    return f"{RESERVED}blobs/{sha256}"


def manifest_key(release: str) -> str:
    return f"{RESERVED}{release}.json"


# ---- the build on disk ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LocalFile:
    path: str  # relative, with "/" separators: the S3 key
    source: Path
    size: int
    sha256: str
    md5: str

    @property
    def fingerprinted(self) -> bool:
        return is_fingerprinted(self.path)

    @property
    def content_type(self) -> str:
        return content_type(self.path)

    @property
    def cache_control(self) -> str:
        return cache_control(self.path)


@dataclass(frozen=True)
class Build:
    root: Path
    files: dict[str, LocalFile]

    @property
    def manifest(self) -> dict:
        files = {p: [f.sha256, f.size, f.md5] for p, f in sorted(self.files.items())}
        return {"format": 1, "rules": RULES, "files": files}

    @property
    def release(self) -> str:
        return hashlib.sha256(json.dumps(self.manifest, sort_keys=True).encode()).hexdigest()[:12]


def _hash_file(path: Path) -> tuple[int, str, str]:
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest(), md5.hexdigest()


def scan_build(build_dir: Path | str, *, build_hint: str = "inv frontend.build --env NAME") -> Build:
    """Hash every file of the build. ToolkitError when there is no usable build."""
    root = Path(build_dir)
    if not root.is_dir():
        raise ToolkitError(
            f"no build directory {root}: build the frontend first with `{build_hint}` "
            "(or pass --dir PATH to publish another build)."
        )
    files = {}
    for source in sorted(p for p in root.rglob("*") if p.is_file()):
        path = source.relative_to(root).as_posix()
        if path.startswith(RESERVED):
            raise ToolkitError(
                f"{root} contains {path}: the prefix {RESERVED} is reserved for release records. "
                "Rename that directory in the frontend and rebuild."
            )
        size, sha, md5 = _hash_file(source)
        files[path] = LocalFile(path, source, size, sha, md5)
    if not files:
        raise ToolkitError(f"the build directory {root} is empty: rebuild with `{build_hint}`.")
    if ROOT_INDEX not in files:
        raise ToolkitError(
            f"the build directory {root} has no index.html, so it is not an SPA build: "
            f"rebuild with `{build_hint}` (or point --dir at the build output)."
        )
    return Build(root, files)


# ---- what the bucket holds -----------------------------------------------------------------------
@dataclass
class Remote:
    objects: dict[str, dict]  # key -> {"etag", "size", "modified"}
    state: dict  # {"live": id|None, "history": [{"id", "published_at"}]}
    manifests: dict[str, dict]  # release id -> manifest

    @property
    def live(self) -> str | None:
        return self.state.get("live")

    @property
    def history(self) -> list[dict]:
        return list(self.state.get("history", []))

    def live_files(self) -> dict[str, list]:
        return self.manifests.get(self.live, {}).get("files", {}) if self.live else {}

    def vouched(self, path: str, sha256: str) -> bool:
        """A manifest written under the current rules lists this path with this content."""
        return any(
            m.get("rules") == RULES and (m.get("files", {}).get(path) or [None])[0] == sha256
            for m in self.manifests.values()
        )

    def known_other(self, path: str, etag: str, sha256: str) -> bool:
        """The object's ETag is the MD5 a manifest recorded for other content at this path: it differs."""
        for m in self.manifests.values():
            entry = m.get("files", {}).get(path) or []
            if len(entry) > 2 and entry[2] == etag and entry[0] != sha256:
                return True
        return False


def _get_json(s3, bucket: str, key: str):
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        return json.loads(body)
    except ValueError:
        raise ToolkitError(
            f"s3://{bucket}/{key} is not valid JSON (edited by hand?): delete it and publish again."
        ) from None


def read_remote(s3, bucket: str, *, workers: int = 8) -> Remote:
    """List the bucket and read the release records (state and manifests), the reads side by side."""

    def listing(prefix: str = "") -> dict[str, dict]:
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                objects[o["Key"]] = {"etag": o["ETag"].strip('"'), "size": o["Size"], "modified": o["LastModified"]}
        return objects

    def records() -> tuple[dict, dict]:
        keys = listing(RESERVED)
        ids = [
            k[len(RESERVED) : -len(".json")]
            for k in keys
            if k.endswith(".json") and k.count("/") == 1 and k != STATE_KEY
        ]
        with ThreadPoolExecutor(max_workers=workers) as inner:
            state = inner.submit(_get_json, s3, bucket, STATE_KEY) if STATE_KEY in keys else None
            manifests = dict(zip(ids, inner.map(lambda i: _get_json(s3, bucket, manifest_key(i)), ids), strict=False))
            return (state.result() if state else {}), manifests

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            everything, recs = pool.submit(listing), pool.submit(records)
            objects, (state, manifests) = everything.result(), recs.result()
    except s3.exceptions.NoSuchBucket:
        raise ToolkitError(
            f"the frontend bucket {bucket} does not exist: deploy the stack (`inv deploy --env NAME`) and retry."
        ) from None
    manifests = {i: m for i, m in manifests.items() if manifest_key(i) in objects}  # listed by both
    return Remote(objects, {"live": state.get("live"), "history": state.get("history", [])}, manifests)


# ---- the plan ------------------------------------------------------------------------------------
@dataclass
class Plan:
    release: str
    live: str | None
    write_manifest: bool
    puts: list[tuple[str, LocalFile]]  # (key, file): assets at their path, blobs of the others
    copies: list[LocalFile]  # unfingerprinted files: blob -> live key; index.html last
    invalidation: list[str]
    deletes: list[str]
    history: list[dict]  # the state's history once this release is live
    kept: list[str]  # release ids kept after the prune
    checked: int = 0  # objects whose headers needed a HEAD request

    @property
    def upload_bytes(self) -> int:
        return sum(f.size for _, f in self.puts)

    @property
    def changes_site(self) -> bool:
        return bool(self.puts or self.copies or self.live != self.release)

    def render(self) -> str:
        """The plan as text (the data `--dry-run` prints)."""
        lines = [f"release {self.release} (live now: {self.live or 'none'})"]
        lines += [f"upload  {key}  {f.size} B  {f.content_type}  {f.cache_control}" for key, f in self.puts]
        lines += [f"copy    {blob_key(f.sha256)} -> {f.path}  {f.content_type}  {f.cache_control}" for f in self.copies]
        lines += [f"delete  {key}" for key in self.deletes]
        lines += [f"invalidate  {p}" for p in self.invalidation]
        lines.append(
            f"total: {len(self.puts)} uploads ({self.upload_bytes} bytes), {len(self.copies)} copies, "
            f"{len(self.deletes)} deletions, {len(self.invalidation)} invalidation paths"
            + ("" if self.changes_site else "; nothing changed")
        )
        return "\n".join(lines) + "\n"


def invalidation_paths(paths: Iterable[str], *, max_paths: int = DEFAULT_MAX_PATHS) -> list[str]:
    """CloudFront paths for changed files. ``index.html`` also stands for its directory (``/``).

    SPA routes need no entry of their own: the distribution's viewer-request function rewrites
    ``/tasks`` to ``/index.html`` before the cache lookup, so they are cached under ``/index.html``.
    """
    out = set()
    for p in paths:
        out.add("/" + quote(p))
        if p == ROOT_INDEX or p.endswith("/" + ROOT_INDEX):
            out.add("/" + quote(p[: -len(ROOT_INDEX)]))
    if len(out) > max_paths:
        return ["/*"]
    return sorted(out)


def kept_releases(history: list[dict], live: str, keep: int) -> list[str]:
    """The live release and the ``keep`` most recently published others, newest first."""
    ids = []
    for entry in reversed(history):
        if entry["id"] != live and entry["id"] not in ids:
            ids.append(entry["id"])
    return [live] + ids[:keep]


def _needed_keys(manifest: dict) -> set[str]:
    keys = set()
    for path, (sha, *_rest) in manifest.get("files", {}).items():
        keys.add(path)
        if not is_fingerprinted(path):
            keys.add(blob_key(sha))
    return keys


def _in_place(s3, bucket: str, remote: Remote, key: str, f: LocalFile, *, headers: bool, heads: list) -> bool:
    """Does ``key`` already hold exactly this file (bytes, and headers when ``headers``)?"""
    obj = remote.objects.get(key)
    if not obj or obj["size"] != f.size:
        return False
    if obj["etag"] == f.md5 and (not headers or remote.vouched(f.path, f.sha256)):
        return True
    if remote.known_other(f.path, obj["etag"], f.sha256):
        return False
    heads.append(key)  # written by someone else, by an interrupted publish, or an SSE-KMS ETag: ask S3
    head = s3.head_object(Bucket=bucket, Key=key)
    if head.get("Metadata", {}).get("sha256") != f.sha256:
        return False
    return not headers or (head.get("ContentType") == f.content_type and head.get("CacheControl") == f.cache_control)


def plan_publish(
    s3, bucket: str, build: Build, remote: Remote, *, keep: int = DEFAULT_KEEP, max_paths: int = DEFAULT_MAX_PATHS
) -> Plan:
    if keep < 0:
        raise ToolkitError(f"--keep must be 0 or more (got {keep}).")
    release, live_files = build.release, remote.live_files()
    puts, copies, changed, heads = [], [], [], []
    for path, f in sorted(build.files.items()):
        if f.fingerprinted:
            if not _in_place(s3, bucket, remote, path, f, headers=True, heads=heads):
                puts.append((path, f))
                if path in remote.objects:
                    changed.append(path)  # same fingerprinted name, other bytes: not content-addressed
            continue
        if not _in_place(s3, bucket, remote, blob_key(f.sha256), f, headers=False, heads=heads):
            puts.append((blob_key(f.sha256), f))
        if not _in_place(s3, bucket, remote, path, f, headers=True, heads=heads):
            copies.append(f)
            changed.append(path)
        elif (live_files.get(path) or [None])[0] != f.sha256:
            changed.append(path)  # in place (an interrupted publish wrote it), but CloudFront may cache the old one
    copies.sort(key=lambda f: f.path == ROOT_INDEX)  # index.html last

    history = remote.history
    if remote.live != release:
        history = [e for e in history if e["id"] != release]
        history.append({"id": release, "published_at": datetime.now(UTC).isoformat(timespec="seconds")})
    kept = kept_releases(history, release, keep)
    history = [e for e in history if e["id"] in kept]

    deletes: list[str] = []
    if remote.live is not None:  # first publish into a bucket: leave whatever was there for one release
        needed = _needed_keys(build.manifest) | {STATE_KEY}
        now = datetime.now(UTC)
        for rid, manifest in remote.manifests.items():
            pending = rid not in {e["id"] for e in remote.history} and rid != remote.live
            young = (now - remote.objects[manifest_key(rid)]["modified"]).total_seconds() < PENDING_GRACE_SECONDS
            if rid in kept or (pending and young):
                needed |= _needed_keys(manifest) | {manifest_key(rid)}
        needed.add(manifest_key(release))
        deletes = sorted(k for k in remote.objects if k not in needed)

    return Plan(
        release=release,
        live=remote.live,
        write_manifest=manifest_key(release) not in remote.objects,
        puts=puts,
        copies=copies,
        invalidation=invalidation_paths(changed, max_paths=max_paths) if changed else [],
        deletes=deletes,
        history=history,
        kept=kept,
        checked=len(heads),
    )


# ---- doing it ------------------------------------------------------------------------------------
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


def _parallel(fn: Callable, items: list, workers: int) -> None:
    """Run ``fn(item)`` for every item on a bounded pool; the first failure stops the rest and is raised."""
    if not items:
        return
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(items))))
    try:
        futures = [pool.submit(fn, item) for item in items]
        wait_futures(futures, return_when=FIRST_EXCEPTION)
        for fut in futures:
            if fut.done() and fut.exception():
                raise fut.exception()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _upload(s3, bucket: str, key: str, f: LocalFile) -> None:
    body = f.source.read_bytes()
    digest = hashlib.md5(body, usedforsecurity=False)
    if digest.hexdigest() != f.md5:
        raise ToolkitError(
            f"{f.source} changed while publishing (is a build running?): "
            "wait for the build to finish and publish again."
        )
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType=f.content_type,
        CacheControl=f.cache_control,
        ContentMD5=base64.b64encode(digest.digest()).decode(),
        Metadata={"sha256": f.sha256},
    )


def _copy_live(s3, bucket: str, path: str, sha256: str) -> None:
    s3.copy_object(
        Bucket=bucket,
        Key=path,
        CopySource={"Bucket": bucket, "Key": blob_key(sha256)},
        MetadataDirective="REPLACE",
        ContentType=content_type(path),
        CacheControl=cache_control(path),
        Metadata={"sha256": sha256},
    )


def _put_json(s3, bucket: str, key: str, value: dict) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(value, separators=(",", ":"), sort_keys=True).encode(),
        ContentType="application/json",
        CacheControl="no-store",
    )


def _delete(s3, bucket: str, keys: list[str]) -> None:
    for i in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]], "Quiet": True})


def _write_live(s3, bucket: str, files: list[tuple[str, str]], workers: int) -> None:
    """Copy unfingerprinted files into place from their blobs: others in parallel, then index.html alone."""
    others = [(p, sha) for p, sha in files if p != ROOT_INDEX]
    _parallel(lambda item: _copy_live(s3, bucket, *item), others, workers)
    for p, sha in files:
        if p == ROOT_INDEX:
            _copy_live(s3, bucket, p, sha)


def create_invalidation(cloudfront, distribution_id: str, paths: list[str]) -> str:
    """Start an invalidation; returns its id."""
    bad = [p for p in paths if not p.startswith("/")]
    if bad or not paths:
        raise ToolkitError(
            f"invalidation paths must start with '/' (got {', '.join(bad) or 'none'}): "
            "e.g. --paths /index.html --paths '/*'."
        )
    res = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": f"tmkit-{uuid.uuid4()}",
        },
    )
    return res["Invalidation"]["Id"]


def wait_invalidation(
    cloudfront, distribution_id: str, invalidation_id: str, *, timeout: float = 600, poll: float = 5.0
) -> None:
    """Wait until the invalidation is complete (CloudFront says "Completed"; the emulator "COMPLETED")."""
    deadline = time.monotonic() + timeout
    while True:
        status = cloudfront.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)["Invalidation"][
            "Status"
        ]
        if status.lower() == "completed":
            return
        if time.monotonic() + poll > deadline:
            raise ToolkitError(
                f"invalidation {invalidation_id} is still {status} after {timeout:g}s. The site is "
                "published; the edge caches will follow when it completes. Check it with "
                f"`aws cloudfront get-invalidation --distribution-id {distribution_id} --id {invalidation_id}`."
            )
        time.sleep(poll)


@dataclass
class Result:
    plan: Plan
    invalidation_id: str | None = None
    seconds: float = 0.0
    done: bool = False
    notes: list[str] = field(default_factory=list)


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
    say: Callable[[str], None] = lambda m: None,
) -> Result:
    """Publish ``build`` to ``bucket`` (see the module docstring for the order). ``distribution_id`` None: no CDN."""
    started = time.monotonic()
    if not isinstance(build, Build):
        build = scan_build(build)
    remote = read_remote(s3, bucket, workers=workers)
    plan = plan_publish(s3, bucket, build, remote, keep=keep, max_paths=max_paths)
    result = Result(plan)
    if dry_run:
        return result
    if plan.write_manifest:
        _put_json(s3, bucket, manifest_key(plan.release), build.manifest)
    if plan.puts:
        progress = Progress("uploading", len(plan.puts), plan.upload_bytes)

        def put(item):
            _upload(s3, bucket, *item)
            progress.advance(item[1].size)

        # fingerprinted assets first (the biggest first: better packing), then the blobs
        _parallel(put, sorted(plan.puts, key=lambda kf: (not kf[1].fingerprinted, -kf[1].size)), workers)
    _write_live(s3, bucket, [(f.path, f.sha256) for f in plan.copies], workers)
    if plan.invalidation and distribution_id:
        result.invalidation_id = create_invalidation(cloudfront, distribution_id, plan.invalidation)
    if remote.live != plan.release or remote.state.get("history") != plan.history:
        _put_json(s3, bucket, STATE_KEY, {"live": plan.release, "history": plan.history})
    _delete(s3, bucket, plan.deletes)
    result.done = True
    if wait and result.invalidation_id:
        say(f"waiting for invalidation {result.invalidation_id} (up to {timeout:g}s)...")
        wait_invalidation(cloudfront, distribution_id, result.invalidation_id, timeout=timeout, poll=poll)
    result.seconds = time.monotonic() - started
    return result


# ---- releases and rollback -----------------------------------------------------------------------
@dataclass(frozen=True)
class Release:
    id: str
    published_at: str
    files: int
    size: int
    live: bool


def list_releases(remote: Remote) -> list[Release]:
    """Published releases still in the bucket, newest first."""
    out = []
    for entry in reversed(remote.history):
        manifest = remote.manifests.get(entry["id"])
        if manifest is not None:
            files = manifest.get("files", {})
            out.append(
                Release(
                    entry["id"],
                    entry.get("published_at", "?"),
                    len(files),
                    sum(entry[1] for entry in files.values()),
                    entry["id"] == remote.live,
                )
            )
    return out


def render_releases(releases: list[Release]) -> str:
    return "".join(
        f"{r.id}  {r.published_at}  {r.files} files  {r.size} bytes{'  live' if r.live else ''}\n" for r in releases
    )


def rollback(
    s3,
    cloudfront,
    bucket: str,
    distribution_id: str | None,
    *,
    to: str | None = None,
    max_paths: int = DEFAULT_MAX_PATHS,
    workers: int = DEFAULT_WORKERS,
) -> tuple[str, list[str]]:
    """Make release ``to`` (default: the one published before the live one) live again.

    Its assets are still in the bucket (kept releases are never pruned), so this only copies its
    unfingerprinted files back from their blobs (index.html last), invalidates them and records it.
    Returns (release id, invalidation paths).
    """
    remote = read_remote(s3, bucket, workers=workers)
    releases = list_releases(remote)
    ids = [r.id for r in releases]
    if not releases:
        raise ToolkitError(f"no release has been published to {bucket}: publish one with `inv frontend.publish`.")
    if to is None:
        if remote.live not in ids or ids.index(remote.live) + 1 >= len(ids):
            raise ToolkitError(
                f"there is no release before the live one ({remote.live}) to roll back to. "
                f"Releases kept: {', '.join(ids)} (`inv frontend.releases`); use --to RELEASE."
            )
        to = ids[ids.index(remote.live) + 1]
    matches = [i for i in ids if i.startswith(to)] if to else []
    if len(matches) != 1:
        raise ToolkitError(
            f"unknown release {to!r}: releases kept in {bucket} are {', '.join(ids)} (`inv frontend.releases`)."
        )
    to = matches[0]
    manifest = remote.manifests[to]
    missing = sorted(k for k in _needed_keys(manifest) if k not in remote.objects)
    if missing:
        raise ToolkitError(
            f"release {to} is incomplete in the bucket ({len(missing)} objects missing, e.g. "
            f"{missing[0]}): it cannot be restored. Publish that build again instead."
        )
    live_files = remote.live_files()
    restore = [(p, entry[0]) for p, entry in sorted(manifest["files"].items()) if not is_fingerprinted(p)]
    changed = [p for p, sha in restore if (live_files.get(p) or [None])[0] != sha]
    _write_live(s3, bucket, restore, workers)
    paths = invalidation_paths(changed, max_paths=max_paths) if changed else []
    if paths and distribution_id:
        create_invalidation(cloudfront, distribution_id, paths)
    _put_json(s3, bucket, STATE_KEY, {"live": to, "history": remote.history})
    return to, paths


# ---- one environment: bucket and distribution from the stack outputs --------------------------------
@dataclass(frozen=True)
class Target:
    cfg: object
    bucket: str
    distribution_id: str

    def clients(self, workers: int = DEFAULT_WORKERS):
        """(s3 client, cloudfront client created on first use)."""
        from tmkit.aws import client

        return client(self.cfg, "s3", max_pool=workers + 2), _Lazy(lambda: client(self.cfg, "cloudfront"))


class _Lazy:
    """A client made on first attribute access (a publish with nothing to invalidate never needs CloudFront)."""

    def __init__(self, make: Callable):
        self._make, self._client = make, None

    def __getattr__(self, name):
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


def target(cfg) -> Target:
    """The environment's frontend bucket and distribution, read from its stack outputs."""
    from tmkit.outputs import stack_outputs

    outputs = stack_outputs(cfg)
    missing = [k for k in ("FrontendBucketName", "DistributionId") if not outputs.get(k)]
    if missing:
        raise ToolkitError(
            f"stack {cfg.stack_name} has no {' or '.join(missing)} output: "
            f"redeploy it with `inv deploy --env {cfg.name}`."
        )
    return Target(cfg, outputs["FrontendBucketName"], outputs["DistributionId"])


def _aws(cfg, action: str):
    """``aws_errors`` plus: any other S3/CloudFront refusal becomes a ToolkitError naming it."""
    import contextlib

    from botocore.exceptions import ClientError

    from tmkit.aws import aws_errors

    @contextlib.contextmanager
    def ctx():
        try:
            with aws_errors(cfg, action):
                yield
        except ClientError as exc:
            err = exc.response.get("Error", {})
            if err.get("Code") == "BadDigest":
                raise ToolkitError(
                    f"{action}: a file changed while it was uploaded (is a build running?). "
                    "Wait for the build to finish and publish again."
                ) from None
            raise ToolkitError(
                f"{action}: AWS refused {exc.operation_name} ({err.get('Code')}: {err.get('Message')}). "
                "Check that your credentials may write the frontend bucket and the distribution, "
                "and that the stack is deployed."
            ) from None

    return ctx()


def publish_env(cfg, build_dir: Path | str, *, say: Callable[[str], None] = lambda m: None, **options) -> Result:
    build = scan_build(build_dir, build_hint=f"inv frontend.build --env {cfg.name}")
    say(
        f"{len(build.files)} files, {sum(f.size for f in build.files.values())} bytes in {build_dir}; "
        f"release {build.release}"
    )
    with _aws(cfg, f"publishing the frontend of {cfg.stack_name}"):
        t = target(cfg)
        s3, cloudfront = t.clients(options.get("workers", DEFAULT_WORKERS))
        return publish(s3, cloudfront, t.bucket, t.distribution_id, build, say=say, **options)


def invalidate_env(cfg, paths: list[str], *, wait: bool = False, timeout: float = 600, poll: float = 5.0) -> str:
    with _aws(cfg, f"invalidating the CDN of {cfg.stack_name}"):
        t = target(cfg)
        _s3, cloudfront = t.clients()
        inv_id = create_invalidation(cloudfront, t.distribution_id, paths)
        if wait:
            wait_invalidation(cloudfront, t.distribution_id, inv_id, timeout=timeout, poll=poll)
        return inv_id


def releases_env(cfg) -> list[Release]:
    with _aws(cfg, f"reading the releases of {cfg.stack_name}"):
        t = target(cfg)
        s3, _cf = t.clients()
        return list_releases(read_remote(s3, t.bucket))


def rollback_env(cfg, to: str | None = None) -> tuple[str, list[str]]:
    with _aws(cfg, f"rolling back the frontend of {cfg.stack_name}"):
        t = target(cfg)
        s3, cloudfront = t.clients()
        return rollback(s3, cloudfront, t.bucket, t.distribution_id, to=to)
