"""The local files an HTML entry point loads: ``<script src>``, ``<link href>`` for stylesheets, module
preloads, icons and the web manifest, and the targets of ``<script type="importmap">``.

A build whose index.html loads a file it does not contain publishes a blank app; ``missing_references``
finds those before anything is uploaded. External URLs (with a scheme or host) and ``data:`` are not checked.
"""

from __future__ import annotations

import json
import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LOADED_RELS = {"stylesheet", "modulepreload", "preload", "icon", "apple-touch-icon", "mask-icon", "manifest"}
MAX_HTML_BYTES = 8 << 20  # an entry point larger than this is not parsed (it is not one Vite writes)


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.base: str | None = None
        self._importmap: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and self.base is None and a.get("href"):
            self.base = a["href"]
        elif tag == "script":
            if a.get("type", "").strip().lower() == "importmap":
                self._importmap = []
            elif a.get("src"):
                self.urls.append(a["src"])
        elif tag == "link" and a.get("href") and LOADED_RELS & set(a.get("rel", "").lower().split()):
            self.urls.append(a["href"])

    def handle_data(self, data):
        if self._importmap is not None:
            self._importmap.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._importmap is not None:
            self.urls += _importmap_urls("".join(self._importmap))
            self._importmap = None


def _importmap_urls(text: str) -> list[str]:
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    if not isinstance(doc, dict):
        return []
    maps = [doc.get("imports")] + list(
        (doc.get("scopes") or {}).values() if isinstance(doc.get("scopes"), dict) else []
    )
    urls = []
    for m in maps:
        if isinstance(m, dict):
            urls += [v for v in m.values() if isinstance(v, str) and not v.endswith("/")]  # "pkg/": a prefix
    return urls


def local_path(url: str, page: str, base: str | None = None) -> str | None:
    """The build path ``url`` (found in ``page``) loads, or None when it is not a file of this site."""
    parts = urlsplit(url.strip())
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    if not path.startswith("/"):
        start = "/" + posixpath.dirname(page)
        if base:
            b = urlsplit(base)
            if b.scheme or b.netloc:
                return None
            start = b.path if b.path.endswith("/") else posixpath.dirname(b.path) or "/"
        path = posixpath.join(start, path)
    normal = posixpath.normpath(path)
    if path.endswith("/"):
        normal = normal.rstrip("/") + "/index.html"
    return normal.lstrip("/")


def loaded_urls(html: str) -> tuple[list[str], str | None]:
    """The URLs ``html`` loads (scripts, the ``LOADED_RELS`` links, import-map targets), as written, and its
    ``<base href>`` (None without one). `inv verify` fetches the same list from the live site."""
    parser = _Refs()
    parser.feed(html)
    parser.close()
    return parser.urls, parser.base


def references(html: str, page: str) -> list[str]:
    """The build paths ``html`` (the file at ``page``) loads."""
    urls, base = loaded_urls(html)
    return [p for url in urls if (p := local_path(url, page, base))]


def missing_references(files: dict[str, Path]) -> dict[str, list[str]]:
    """For every HTML file of the build, the local files it loads that the build lacks."""
    missing = {}
    for page, source in sorted(files.items()):
        if not page.lower().endswith((".html", ".htm")) or source.stat().st_size > MAX_HTML_BYTES:
            continue
        html = source.read_bytes().decode("utf-8", "replace")
        gone = sorted({"/" + p for p in references(html, page) if p not in files})
        if gone:
            missing[page] = gone
    return missing
