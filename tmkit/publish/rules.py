"""What a published file looks like in the bucket: its key, Content-Type and Cache-Control, and the
release-record keys. Pure data and functions (docs/frontend.md, "Publishing")."""

from __future__ import annotations

import hashlib
import json
import re

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
LOCK_KEY = RESERVED + "lock"
ROOT_INDEX = "index.html"
WELL_KNOWN = ".well-known"
MAX_KEY_BYTES = 1024  # S3's limit on an object key, in UTF-8 bytes
DEFAULT_KEEP = 3  # earlier releases whose fingerprinted assets stay in the bucket (open tabs, rollback)
DEFAULT_MAX_PATHS = 15  # more changed paths than this: one "/*" invalidation
# Uploads in flight. To keep a link of R bytes/s busy when each request also waits T s, about 1 + R*T/(mean file
# size) are needed: 5-21 on a 20 ms, 50 Mbit/s link for Vite builds, 11-48 at 60 ms (benchmarks/README.md).
DEFAULT_WORKERS = 32
MAX_WORKERS = 128
# A manifest that is neither live nor in the history (a publish killed, or one that lost a race) is pruned
# once it is older than this. Publishes hold the environment's lock, so none is running meanwhile; the grace
# only covers a publisher that does not take the lock.
PENDING_GRACE_SECONDS = 120


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


def is_dotfile(path: str) -> bool:
    """A segment starts with ``.`` (``.env``, ``.git/config``), other than a leading ``.well-known/``."""
    segments = path.split("/")
    if segments[0] == WELL_KNOWN and len(segments) > 1:
        segments = segments[1:]
    return any(s.startswith(".") for s in segments)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def key_problem(path: str) -> str | None:
    """Why S3 would reject (or mangle) ``path`` as an object key; None when it is fine."""
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        return "its name is not valid UTF-8"
    if size > MAX_KEY_BYTES:
        return f"its key is {size} bytes of UTF-8, over S3's limit of {MAX_KEY_BYTES}"
    if not _CONTROL.search(path):
        return None
    bad = sorted(set(_CONTROL.findall(path)))
    if bad:
        return "its name contains control characters (" + ", ".join(f"U+{ord(c):04X}" for c in bad) + ")"
    return None
