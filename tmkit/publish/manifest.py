"""A release manifest: every path of a build with its SHA-256, size and MD5.

Stored as ``_releases/<id>.json`` = ``{"format": 1, "rules": ..., "files": {path: [sha256, size, md5]}}``.
Parsed here, at the boundary, into ``Manifest``/``Entry``; the rest of the package never sees the lists.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from tmkit.errors import ToolkitError
from tmkit.publish.rules import RULES, blob_key, is_fingerprinted

FORMAT = 1
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class Entry:
    sha256: str
    size: int
    md5: str | None = None  # absent in manifests written before it was recorded


@dataclass(frozen=True)
class Manifest:
    files: dict[str, Entry]
    rules: str | None = RULES

    @classmethod
    def parse(cls, raw: object, where: str) -> Manifest:
        """``raw`` (decoded JSON) as a Manifest; ToolkitError naming ``where`` when it is not one."""

        def bad(why: str) -> ToolkitError:
            return ToolkitError(
                f"{where} is not a release manifest ({why}; edited by hand?): delete it and publish again."
            )

        if not isinstance(raw, dict) or not isinstance(raw.get("files"), dict):
            raise bad("no 'files' object")
        files = {}
        for path, value in raw["files"].items():
            if not isinstance(value, list) or len(value) < 2:
                raise bad(f"the entry of {path!r} is not [sha256, size, md5]")
            sha, size, *rest = value
            md5 = rest[0] if rest else None
            if not (isinstance(sha, str) and len(sha) == 64 and _HEX.match(sha)):
                raise bad(f"the sha256 of {path!r} is not 64 hex digits")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise bad(f"the size of {path!r} is not a whole number")
            if md5 is not None and not (isinstance(md5, str) and _HEX.match(md5)):
                raise bad(f"the md5 of {path!r} is not hex")
            files[path] = Entry(sha, size, md5)
        rules = raw.get("rules")
        return cls(files, rules if isinstance(rules, str) else None)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "rules": self.rules,
            "files": {p: [e.sha256, e.size, e.md5] for p, e in sorted(self.files.items())},
        }

    @property
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

    def asset_keys(self) -> set[str]:
        """Keys this release needs while it is kept but not live: its fingerprinted assets and the blobs of
        its other files (rollback copies them back to their paths)."""
        return {p if is_fingerprinted(p) else blob_key(e.sha256) for p, e in self.files.items()}

    def live_keys(self) -> set[str]:
        """Keys this release needs while it is live: every path, and the blobs."""
        return self.asset_keys() | set(self.files)
