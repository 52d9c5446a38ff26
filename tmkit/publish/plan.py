"""The plan of a publish: what to upload, copy into place, invalidate and prune, computed from the build and
the bucket without changing anything (``--dry-run`` prints it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from tmkit.errors import ToolkitError
from tmkit.publish.build import Build, LocalFile
from tmkit.publish.manifest import Manifest
from tmkit.publish.remote import Remote
from tmkit.publish.rules import (
    DEFAULT_KEEP,
    DEFAULT_MAX_PATHS,
    LOCK_KEY,
    PENDING_GRACE_SECONDS,
    ROOT_INDEX,
    STATE_KEY,
    blob_key,
    manifest_key,
)


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
    base: str | None = None  # the full record the new release's record is a delta against (None: store it full)
    pruning: list[str] = field(default_factory=list)  # releases whose keys the prune removes (recorded first)
    swept: bool = False  # planned from a listing of the whole bucket
    spared: int = 0  # objects no release accounts for, left in place by a bucket's first publish

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


def needed_keys(
    remote: Remote, release: str, kept: list[str], base: str | None, *, now: datetime | None = None
) -> set[str]:
    """Keys a prune keeps: the state and the lock, every key of ``release`` (going live), the assets and blobs
    of the other kept releases (not their unfingerprinted files at live paths: only the live release's are
    served), the records of the kept releases and of their bases, and, in a sweep, everything of a manifest no
    publish finished that is younger than the grace period."""
    now = now or datetime.now(UTC)
    needed = {STATE_KEY, LOCK_KEY, manifest_key(release)} | ({manifest_key(base)} if base else set())
    recorded = {e["id"] for e in remote.history} | {remote.live, remote.recorded_live}
    for rid, manifest in remote.manifests.items():
        pending = remote.listed and rid not in recorded
        modified = remote.objects.get(manifest_key(rid), {}).get("modified") or now
        if rid == release or (pending and (now - modified).total_seconds() < PENDING_GRACE_SECONDS):
            needed |= manifest.live_keys() | {manifest_key(rid)}
        elif rid in kept:
            needed |= manifest.asset_keys() | {manifest_key(rid)}
        else:
            continue
        if remote.bases.get(rid):
            needed.add(manifest_key(remote.bases[rid]))
    return needed


def record_base(remote: Remote, manifest: Manifest) -> str | None:
    """The full record the new release's record can be a delta against: the live release's (or its base), when
    the delta stays small (a quarter of the entries, at least 64); None: store it full."""
    live = remote.live
    if live is None or live not in remote.manifests:
        return None
    base = remote.bases.get(live) or live
    full = remote.fulls.get(base)
    if full is None:
        return None
    changed, removed = manifest.delta(full)
    return base if len(changed) + len(removed) <= max(64, len(manifest.files) // 4) else None


def plan_publish(
    s3, bucket: str, build: Build, remote: Remote, *, keep: int = DEFAULT_KEEP, max_paths: int = DEFAULT_MAX_PATHS
) -> Plan:
    if keep < 0:
        raise ToolkitError(f"--keep must be 0 or more (got {keep}).")
    release = build.release
    recorded = remote.manifests.get(remote.recorded_live) if remote.recorded_live else None
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
        if path == ROOT_INDEX and remote.live != release:
            copies.append(f)  # index.html names the live release in its metadata: always rewritten
            if not recorded or recorded.sha(path) != f.sha256:
                changed.append(path)
        elif not _in_place(s3, bucket, remote, path, f, headers=True, heads=heads):
            copies.append(f)
            changed.append(path)
        elif not recorded or recorded.sha(path) != f.sha256:
            # in place (a publish killed before it recorded the release wrote it), but it was maybe not
            # invalidated: compare with the release the state records, which is written after the invalidation
            changed.append(path)
    copies.sort(key=lambda f: f.path == ROOT_INDEX)  # index.html last

    write_manifest = manifest_key(release) not in remote.objects
    base = record_base(remote, build.manifest) if write_manifest else remote.bases.get(release)
    history = remote.history_with_live()
    if remote.live != release or release not in {e["id"] for e in history}:
        history = [e for e in history if e["id"] != release]
        history.append({"id": release, "published_at": datetime.now(UTC).isoformat(timespec="seconds")})
    history = [{**e, "base": base} if e["id"] == release else e for e in history]
    kept = kept_releases(history, release, keep)
    dropped = [e["id"] for e in history if e["id"] not in kept]
    history = [e for e in history if e["id"] in kept]

    needed = needed_keys(remote, release, kept, base) | build.manifest.live_keys()
    deletes = sorted(k for k in remote.objects.keys() | remote.leftovers if k not in needed)
    spared = 0
    if remote.live is None:  # first publish into a bucket: leave whatever was there for one release
        deletes, spared = [], len(deletes)
    pruning = [
        *dropped,
        *([remote.live] if remote.live not in (None, release) else []),
        *remote.state.get("pruning", []),
    ]

    return Plan(
        release=release,
        live=remote.live,
        write_manifest=write_manifest,
        puts=puts,
        copies=copies,
        invalidation=invalidation_paths(changed, max_paths=max_paths) if changed else [],
        deletes=deletes,
        history=history,
        kept=kept,
        checked=len(heads),
        base=base,
        pruning=sorted(set(pruning)) if deletes else [],
        swept=remote.listed,
        spared=spared,
    )
