"""The build on disk: which files a publish may read, their hashes, and the checks made before anything
changes in the bucket (docs/frontend.md, "What is published, skipped and refused").

- A symlink whose target resolves outside the build directory refuses the publish (a link to
  /etc/passwd or /proc/self/environ would publish that file).
- Paths with a segment starting with ``.`` (``.env``, ``.git/``) are skipped, except ``.well-known/``;
  ``include_dotfiles`` publishes them.
- Paths S3 rejects or mangles (over 1,024 UTF-8 bytes, control characters, not UTF-8) refuse the publish.
- Every local URL the HTML entry points load (script src, stylesheet/modulepreload/icon/manifest links,
  import maps) must be in the build, else the publish refuses (``force`` publishes anyway).
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tmkit.errors import ToolkitError
from tmkit.publish.html import missing_references
from tmkit.publish.manifest import Entry, Manifest
from tmkit.publish.rules import (
    RESERVED,
    ROOT_INDEX,
    cache_control,
    content_type,
    is_dotfile,
    is_fingerprinted,
    key_problem,
)

_LISTED = 20  # offending paths named in one message
HASH_THREADS = 4


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
    skipped: list[str] = field(default_factory=list)  # dotfiles left out
    unresolved: dict[str, list[str]] = field(default_factory=dict)  # published anyway (force)

    @cached_property
    def manifest(self) -> Manifest:
        return Manifest({p: Entry(f.sha256, f.size, f.md5) for p, f in sorted(self.files.items())})

    @property
    def release(self) -> str:
        return self.manifest.release

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files.values())


def open_file(path: Path):
    """Open a build file for reading without following a symlink put in its place after the scan (the
    scan records the real path of a link that stays inside the build)."""
    return os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")


def hash_file(path: Path) -> tuple[int, str, str]:
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open_file(path) as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest(), md5.hexdigest()


def _listing(items: list[str]) -> str:
    shown = "\n  ".join(items[:_LISTED])
    more = f"\n  ... and {len(items) - _LISTED} more" if len(items) > _LISTED else ""
    return f"\n  {shown}{more}\n"


def _walk(root: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """Every file under ``root`` as (relative path, source), and the symlinks that lead outside it.

    Symlinks inside the build are followed (each real directory once, so a loop ends)."""
    real_root = root.resolve()
    found, outside, seen = [], [], {real_root}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        for name in sorted(dirnames):
            full = here / name
            real = full.resolve()
            if full.is_symlink() and not real.is_relative_to(real_root):
                outside.append(f"{full.relative_to(root).as_posix()}/ -> {os.readlink(full)}")
                dirnames.remove(name)
            elif real in seen:
                dirnames.remove(name)
            else:
                seen.add(real)
        for name in sorted(filenames):
            full = here / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                real = full.resolve()
                if not real.is_relative_to(real_root):
                    outside.append(f"{rel} -> {os.readlink(full)}")
                    continue
                if not real.is_file():
                    continue  # a dangling link or one to a directory walked already
                full = real
            elif not full.is_file():
                continue  # sockets, fifos, devices
            found.append((rel, full))
    return sorted(found), outside


def scan_build(
    build_dir: Path | str,
    *,
    build_hint: str = "inv frontend.build --env NAME",
    include_dotfiles: bool = False,
    force: bool = False,
) -> Build:
    """Check and hash the build. ToolkitError when there is no usable build or it must not be published."""
    root = Path(build_dir)
    if not root.is_dir():
        raise ToolkitError(
            f"no build directory {root}: build the frontend first with `{build_hint}` "
            "(or pass --dir PATH to publish another build)."
        )
    found, outside = _walk(root)
    if outside:
        raise ToolkitError(
            f"{len(outside)} symlinks in {root} point outside the build directory; publishing them would "
            f"upload files from elsewhere on this machine:{_listing(outside)}"
            "Nothing was uploaded. Remove the links (or copy the files into the build) and publish again."
        )
    skipped = [] if include_dotfiles else [rel for rel, _ in found if is_dotfile(rel)]
    found = [(rel, src) for rel, src in found if include_dotfiles or not is_dotfile(rel)]
    bad_keys = [f"{rel!r}: {why}" for rel, _ in found if (why := key_problem(rel))]
    if bad_keys:
        raise ToolkitError(
            f"{len(bad_keys)} paths in {root} cannot be S3 object keys:{_listing(bad_keys)}"
            "Nothing was uploaded. Rename those files in the frontend and rebuild."
        )
    reserved = [rel for rel, _ in found if rel.startswith(RESERVED)]
    if reserved:
        raise ToolkitError(
            f"{root} contains {reserved[0]}: the prefix {RESERVED} is reserved for release records. "
            "Rename that directory in the frontend and rebuild."
        )
    if not found:
        raise ToolkitError(f"the build directory {root} is empty: rebuild with `{build_hint}`.")
    if ROOT_INDEX not in dict(found):
        raise ToolkitError(
            f"the build directory {root} has no index.html, so it is not an SPA build: "
            f"rebuild with `{build_hint}` (or point --dir at the build output)."
        )
    files = {}
    # hashlib and file reads release the GIL: hash on a few threads (about 2x on two cores)
    with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
        for (rel, source), (size, sha, md5) in zip(found, pool.map(hash_file, [s for _, s in found]), strict=True):
            files[rel] = LocalFile(rel, source, size, sha, md5)
    unresolved = missing_references({rel: f.source for rel, f in files.items()})
    if unresolved and not force:
        lines = [f"{page}: {', '.join(refs)}" for page, refs in sorted(unresolved.items())]
        raise ToolkitError(
            f"the build in {root} is broken: its HTML loads files that are not in it:{_listing(lines)}"
            f"Nothing was uploaded. Rebuild with `{build_hint}`, or publish anyway with --force."
        )
    return Build(root, files, skipped, unresolved)
