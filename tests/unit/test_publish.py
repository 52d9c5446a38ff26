"""tmkit.publish pure parts: file classes, headers, invalidation planning, release retention, build scanning."""

import io

import pytest

from tmkit import publish as pub
from tmkit.errors import ToolkitError


@pytest.mark.parametrize(
    "path, fingerprinted",
    [
        ("assets/index-xZbeEor_.js", True),  # what Vite 8 emits (frontend/dist)
        ("assets/rolldown-runtime-BCiCTKAo.js", True),  # dashes in the name
        ("assets/index-D8uG7_t1.css", True),
        ("assets/react-dom-Bx8_a-Zq.js", True),  # a dash inside the hash
        ("assets/index-D8uG7_t1.js.map", True),  # source maps follow their chunk
        ("assets/inter-latin-400-normal-BOOGhInR.woff2", True),
        ("assets/sub/dir/chunk-AbCdEf12.js", True),
        ("assets/my-filename.png", False),  # a word, not a hash: not immutable
        ("assets/logo.svg", False),
        ("assets/app-abc.js", False),  # too short
        ("index-xZbeEor_.js", False),  # not under assets/
        ("static/index-xZbeEor_.js", False),
        ("index.html", False),
        ("favicon.ico", False),
    ],
)
def test_fingerprint_detection(path, fingerprinted):
    assert pub.is_fingerprinted(path) is fingerprinted
    assert pub.cache_control(path) == ("public, max-age=31536000, immutable" if fingerprinted else "no-cache")


@pytest.mark.parametrize(
    "path, ctype",
    [
        ("index.html", "text/html; charset=utf-8"),
        ("assets/a-AbCdEf12.js", "text/javascript; charset=utf-8"),
        ("assets/a-AbCdEf12.mjs", "text/javascript; charset=utf-8"),
        ("assets/a-AbCdEf12.css", "text/css; charset=utf-8"),
        ("assets/a-AbCdEf12.js.map", "application/json"),
        ("data.json", "application/json"),
        ("manifest.webmanifest", "application/manifest+json"),
        ("assets/m-AbCdEf12.wasm", "application/wasm"),
        ("favicon.svg", "image/svg+xml"),
        ("assets/f-AbCdEf12.woff2", "font/woff2"),
        ("assets/f-AbCdEf12.woff", "font/woff"),
        ("assets/f-AbCdEf12.ttf", "font/ttf"),
        ("a.png", "image/png"),
        ("a.JPG", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("a.avif", "image/avif"),
        ("favicon.ico", "image/x-icon"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("sitemap.xml", "application/xml"),
        ("LICENSE", "application/octet-stream"),
        ("archive.weird", "application/octet-stream"),
    ],
)
def test_content_types_come_from_the_explicit_table(path, ctype):
    assert pub.content_type(path) == ctype


def test_invalidation_paths_cover_index_directories_and_collapse_past_the_threshold():
    assert pub.invalidation_paths(["index.html"]) == ["/", "/index.html"]
    assert pub.invalidation_paths(["docs/index.html", "robots.txt"]) == ["/docs/", "/docs/index.html", "/robots.txt"]
    assert pub.invalidation_paths(["my page.html"]) == ["/my%20page.html"]
    assert pub.invalidation_paths([f"p{i}.html" for i in range(15)]) != ["/*"]
    assert pub.invalidation_paths([f"p{i}.html" for i in range(16)]) == ["/*"]
    assert pub.invalidation_paths(["a.html", "b.html"], max_paths=1) == ["/*"]


def test_kept_releases_are_the_live_one_and_the_newest_others():
    history = [{"id": i} for i in ("r1", "r2", "r3", "r4", "r5")]
    assert pub.kept_releases(history, "r5", 3) == ["r5", "r4", "r3", "r2"]
    assert pub.kept_releases(history, "r5", 0) == ["r5"]
    assert pub.kept_releases(history, "r2", 2) == ["r2", "r5", "r4"]  # after a rollback to r2


def test_scan_build_hashes_every_file_and_the_release_id_follows_the_content(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<script src=/assets/a-AbCdEf12.js></script>")
    (tmp_path / "assets" / "a-AbCdEf12.js").write_text("1")
    build = pub.scan_build(tmp_path)
    assert sorted(build.files) == ["assets/a-AbCdEf12.js", "index.html"]
    first = build.release
    assert pub.scan_build(tmp_path).release == first  # deterministic
    (tmp_path / "assets" / "a-AbCdEf12.js").write_text("2")
    assert pub.scan_build(tmp_path).release != first


def test_scan_build_errors_say_how_to_build(tmp_path):
    hint = "inv frontend.build --env qa"
    with pytest.raises(ToolkitError, match=r"no build directory .*`inv frontend.build --env qa`"):
        pub.scan_build(tmp_path / "missing", build_hint=hint)
    with pytest.raises(ToolkitError, match=r"is empty: rebuild with `inv frontend.build --env qa`"):
        pub.scan_build(tmp_path, build_hint=hint)
    (tmp_path / "app.js").write_text("x")
    with pytest.raises(ToolkitError, match=r"has no index.html"):
        pub.scan_build(tmp_path, build_hint=hint)
    (tmp_path / "index.html").write_text("x")
    (tmp_path / "_releases").mkdir()
    (tmp_path / "_releases" / "x.json").write_text("{}")
    with pytest.raises(ToolkitError, match=r"_releases/ is reserved"):
        pub.scan_build(tmp_path)


class _Pending:
    """A CloudFront client whose invalidation never completes."""

    def __init__(self):
        self.calls = 0

    def get_invalidation(self, **kw):
        self.calls += 1
        return {"Invalidation": {"Status": "InProgress"}}


def test_wait_gives_up_after_the_timeout_with_a_useful_message():
    cf = _Pending()
    with pytest.raises(ToolkitError, match=r"still InProgress after 0.05s. The site is published"):
        pub.wait_invalidation(cf, "E123", "I456", timeout=0.05, poll=0.01)
    assert 1 <= cf.calls <= 10


def test_invalidation_paths_must_be_absolute():
    with pytest.raises(ToolkitError, match="must start with '/'"):
        pub.create_invalidation(None, "E123", ["index.html"])


def test_progress_is_silent_without_a_terminal_and_counts_on_one():
    pipe = io.StringIO()
    p = pub.Progress("uploading", 2, 3_000_000, stream=pipe)
    p.advance(1_000_000)
    p.advance(2_000_000)
    assert pipe.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    p = pub.Progress("uploading", 2, 3_000_000, stream=tty)
    p.advance(1_000_000)
    p.advance(2_000_000)
    assert tty.getvalue() == "\ruploading: 1/2 files, 1.0/3.0 MB\ruploading: 2/2 files, 3.0/3.0 MB\n"
