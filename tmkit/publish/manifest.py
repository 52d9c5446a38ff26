"""A release manifest: every path of a build with its SHA-256, size and MD5, and how it is stored.

The release id hashes the canonical form ``{"format": 1, "rules": ..., "files": {path: [sha256, size, md5]}}``
(``Manifest.to_json``), so a build has the same id whichever way its record is stored.

Stored as ``_releases/<id>.json`` (``encode``/``decode``), gzip-compressed JSON, in one of two forms:

- full:  ``{"format": 2, "rules": ..., "files": {path: entry}}``
- delta: ``{"format": 2, "rules": ..., "base": <id of a full record>, "files": {changed or added paths},
  "removed": [paths of the base that are gone]}``: a one-module rebuild records a few entries, not the
  whole site. A delta's base is always a full record (one level), so any release is read in at most two
  requests, made side by side for all kept releases.

Records written before this format (uncompressed format 1, always full) are read as they are. Parsed here, at
the boundary, into ``Manifest``/``Entry``/``Record``; the rest of the package never sees the lists.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from functools import cached_property

from tmkit.errors import ToolkitError
from tmkit.publish.rules import RULES, blob_key, is_fingerprinted

FORMAT = 1  # the canonical form the release id hashes
RECORD_FORMAT = 2  # the stored form
MAX_RECORD_BYTES = 64 << 20  # a decompressed record larger than this is refused (a gzip bomb, not a build)
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class Entry:
    sha256: str
    size: int
    md5: str | None = None  # absent in manifests written before it was recorded

    def to_json(self) -> list:
        return [self.sha256, self.size, self.md5]


def not_a_manifest(where: str, why: str) -> ToolkitError:
    return ToolkitError(f"{where} is not a release manifest ({why}; edited by hand?): delete it and publish again.")


def _entries(raw: object, where: str) -> dict[str, Entry]:
    if not isinstance(raw, dict):
        raise not_a_manifest(where, "no 'files' object")
    files = {}
    for path, value in raw.items():
        if not isinstance(value, list) or len(value) < 2:
            raise not_a_manifest(where, f"the entry of {path!r} is not [sha256, size, md5]")
        sha, size, *rest = value
        md5 = rest[0] if rest else None
        if not (isinstance(sha, str) and len(sha) == 64 and _HEX.match(sha)):
            raise not_a_manifest(where, f"the sha256 of {path!r} is not 64 hex digits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise not_a_manifest(where, f"the size of {path!r} is not a whole number")
        if md5 is not None and not (isinstance(md5, str) and _HEX.match(md5)):
            raise not_a_manifest(where, f"the md5 of {path!r} is not hex")
        files[path] = Entry(sha, size, md5)
    return files


@dataclass(frozen=True)
class Manifest:
    files: dict[str, Entry]
    rules: str | None = RULES

    @classmethod
    def parse(cls, raw: object, where: str) -> Manifest:
        """``raw`` (decoded JSON, a full record) as a Manifest; ToolkitError naming ``where`` when it is not one."""
        if not isinstance(raw, dict):
            raise not_a_manifest(where, "no 'files' object")
        rules = raw.get("rules")
        return cls(_entries(raw.get("files"), where), rules if isinstance(rules, str) else None)

    def to_json(self) -> dict:
        return {"format": FORMAT, "rules": self.rules, "files": {p: e.to_json() for p, e in sorted(self.files.items())}}

    @cached_property
    def release(self) -> str:
        """The release id: the first 12 hex digits of the manifest's hash."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:12]

    @property
    def size(self) -> int:
        return sum(e.size for e in self.files.values())

    def sha(self, path: str) -> str | None:
        entry = self.files.get(path)
        return entry.sha256 if entry else None

    def unfingerprinted(self) -> dict[str, Entry]:
        return {p: e for p, e in self.files.items() if not is_fingerprinted(p)}

    def stored(self) -> dict[str, Entry]:
        """Key -> entry of what this release keeps in the bucket while it is kept: its fingerprinted assets and
        the blobs of its other files (rollback copies them back to their paths)."""
        return {p if is_fingerprinted(p) else blob_key(e.sha256): e for p, e in self.files.items()}

    def asset_keys(self) -> set[str]:
        """Keys this release needs while it is kept but not live (``stored``)."""
        return set(self.stored())

    def live_keys(self) -> set[str]:
        """Keys this release needs while it is live: every path, and the blobs."""
        return self.asset_keys() | set(self.files)

    def delta(self, base: Manifest) -> tuple[dict[str, Entry], list[str]]:
        """The entries that differ from ``base`` (changed or added) and the paths of ``base`` that are gone."""
        changed = {p: e for p, e in self.files.items() if base.files.get(p) != e}
        return changed, sorted(set(base.files) - set(self.files))


@dataclass(frozen=True)
class Record:
    """A stored record as read: a full manifest (``base`` None) or a delta against the full record ``base``."""

    rules: str | None
    files: dict[str, Entry]
    base: str | None = None
    removed: tuple[str, ...] = ()

    def resolve(self, release: str, base: Manifest | None, where: str) -> Manifest:
        """The release's manifest; ToolkitError when the result does not hash to ``release`` (a record or its
        base edited or replaced by hand)."""
        if self.base is None:
            return Manifest(self.files, self.rules)
        if base is None:
            raise not_a_manifest(where, f"its base record {self.base} is missing")
        files = {p: e for p, e in base.files.items() if p not in self.removed} | self.files
        manifest = Manifest(dict(sorted(files.items())), self.rules)
        if manifest.release != release:
            raise not_a_manifest(where, f"with its base {self.base} it does not add up to release {release}")
        return manifest


def encode(manifest: Manifest, base: tuple[str, Manifest] | None = None) -> bytes:
    """The stored record of ``manifest``: full, or a delta against ``base`` = (id, full manifest)."""
    body: dict = {"format": RECORD_FORMAT, "rules": manifest.rules}
    if base is None:
        body["files"] = {p: e.to_json() for p, e in sorted(manifest.files.items())}
    else:
        changed, removed = manifest.delta(base[1])
        body |= {"base": base[0], "files": {p: e.to_json() for p, e in sorted(changed.items())}, "removed": removed}
    return gzip.compress(json.dumps(body, separators=(",", ":"), sort_keys=True).encode(), mtime=0)


def _inflate(body: bytes, where: str) -> bytes:
    if body[:2] != b"\x1f\x8b":
        return body  # format 1: plain JSON
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(body, MAX_RECORD_BYTES + 1)
    except zlib.error:
        raise not_a_manifest(where, "its gzip data is corrupt") from None
    if len(out) > MAX_RECORD_BYTES or inflater.unconsumed_tail:
        raise not_a_manifest(where, f"it inflates to more than {MAX_RECORD_BYTES >> 20} MiB")
    if not inflater.eof:
        raise not_a_manifest(where, "its gzip data is corrupt (truncated)")
    return out


def decode(body: bytes, where: str) -> Record:
    """A stored record (either format) as a Record; ToolkitError naming ``where`` when it is not one."""
    try:
        raw = json.loads(_inflate(body, where))
    except ValueError:
        raise ToolkitError(f"{where} is not valid JSON (edited by hand?): delete it and publish again.") from None
    if not isinstance(raw, dict):
        raise not_a_manifest(where, "no 'files' object")
    rules = raw.get("rules") if isinstance(raw.get("rules"), str) else None
    base, removed = raw.get("base"), raw.get("removed", [])
    if base is not None and not (isinstance(base, str) and _HEX.match(base) and len(base) == 12):
        raise not_a_manifest(where, "its base is not a release id")
    if not isinstance(removed, list) or not all(isinstance(p, str) for p in removed):
        raise not_a_manifest(where, "'removed' is not a list of paths")
    return Record(rules, _entries(raw.get("files"), where), base, tuple(removed))
