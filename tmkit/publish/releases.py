"""The releases kept in the bucket, and rollback to one of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tmkit.errors import ToolkitError
from tmkit.publish import lock as locking
from tmkit.publish.cdn import create_invalidation
from tmkit.publish.plan import invalidation_paths
from tmkit.publish.remote import Remote, read_remote, state_body
from tmkit.publish.rules import DEFAULT_MAX_PATHS, DEFAULT_WORKERS, STATE_KEY
from tmkit.publish.transfer import delete, put_json, write_live


@dataclass(frozen=True)
class Release:
    id: str
    published_at: str
    files: int
    size: int
    live: bool


def list_releases(remote: Remote) -> list[Release]:
    """Published releases still in the bucket, newest first; the live one is the one index.html belongs to."""
    out = []
    for entry in reversed(remote.history_with_live()):
        manifest = remote.manifests.get(entry["id"])
        if manifest is not None and entry["id"] not in {r.id for r in out}:
            out.append(
                Release(
                    entry["id"],
                    entry.get("published_at", "?"),
                    len(manifest.files),
                    manifest.size,
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
    wait_lock: float = 0.0,
    stale_lock: float = locking.DEFAULT_STALE_SECONDS,
    say: Callable[[str], None] = lambda m: None,
) -> tuple[str, list[str]]:
    """Make release ``to`` (default: the one published before the live one) live again.

    Its assets and blobs are still in the bucket (kept releases keep them), so this copies its
    unfingerprinted files back from their blobs (index.html last), removes the live release's
    unfingerprinted files it lacks, invalidates what changed and records it. Returns (release id, paths).
    """
    with locking.held(s3, bucket, purpose="a rollback", wait=wait_lock, stale=stale_lock, say=say):
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
        missing = sorted(k for k in manifest.asset_keys() if k not in remote.objects)
        if missing:
            raise ToolkitError(
                f"release {to} is incomplete in the bucket ({len(missing)} objects missing, e.g. "
                f"{missing[0]}): it cannot be restored. Publish that build again instead."
            )
        live = remote.live_manifest()
        restore = [(p, e.sha256) for p, e in sorted(manifest.unfingerprinted().items())]
        changed = [p for p, sha in restore if not live or live.sha(p) != sha]
        gone = sorted(set(live.unfingerprinted()) - set(manifest.files)) if live else []
        write_live(s3, bucket, restore, to, workers)
        delete(s3, bucket, gone)
        paths = invalidation_paths(changed + gone, max_paths=max_paths) if changed or gone else []
        if paths and distribution_id:
            create_invalidation(cloudfront, distribution_id, paths)
        state = remote.state
        body = state_body(
            to, remote.history_with_live(), keep=state["keep"], unswept=state["unswept"], pruning=state["pruning"]
        )
        put_json(s3, bucket, STATE_KEY, body)
        return to, paths
