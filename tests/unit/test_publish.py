"""tmkit.publish pure parts: file classes, headers, invalidation planning, release retention, build scanning."""

import io
import json
import os

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


# ---- what a build may publish (symlinks, dotfiles, keys, references) --------------------------------
def _site(root, index='<script type="module" src="/assets/a-AbCdEf12.js"></script>'):
    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text(index)
    (root / "assets" / "a-AbCdEf12.js").write_text("1")
    return root


def test_a_symlink_leading_outside_the_build_refuses_the_publish_and_names_each_one(tmp_path):
    root = _site(tmp_path / "dist")
    secret = tmp_path / "secret.txt"
    secret.write_text("token")
    (root / "assets" / "x.txt").symlink_to("/etc/passwd")
    (root / "build-info.txt").symlink_to(secret)
    (tmp_path / "elsewhere").mkdir()
    (root / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(ToolkitError, match="3 symlinks .* point outside the build directory") as err:
        pub.scan_build(root)
    for path in ("assets/x.txt -> /etc/passwd", "build-info.txt -> ", "linked/ -> "):
        assert path in str(err.value)
    assert "Nothing was uploaded" in str(err.value)


def test_symlinks_inside_the_build_are_followed_once(tmp_path):
    root = _site(tmp_path / "dist")
    (root / "copy.js").symlink_to(root / "assets" / "a-AbCdEf12.js")
    (root / "assets" / "loop").symlink_to(root, target_is_directory=True)  # a loop ends
    build = pub.scan_build(root)
    assert sorted(build.files) == ["assets/a-AbCdEf12.js", "copy.js", "index.html"]
    assert build.files["copy.js"].sha256 == build.files["assets/a-AbCdEf12.js"].sha256


def test_dotfiles_are_skipped_and_counted_except_well_known_unless_asked(tmp_path):
    root = _site(tmp_path / "dist")
    (root / ".env").write_text("SECRET=1")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]")
    (root / "assets" / ".DS_Store").write_text("x")
    (root / ".well-known").mkdir()
    (root / ".well-known" / "security.txt").write_text("Contact: x")
    (root / ".well-known" / ".hidden").write_text("x")
    build = pub.scan_build(root)
    assert sorted(build.skipped) == [".env", ".git/config", ".well-known/.hidden", "assets/.DS_Store"]
    assert ".well-known/security.txt" in build.files and ".env" not in build.files
    everything = pub.scan_build(root, include_dotfiles=True)
    assert {".env", ".git/config", "assets/.DS_Store"} <= set(everything.files) and not everything.skipped


def test_paths_s3_rejects_are_refused_up_front(tmp_path):
    root = _site(tmp_path / "dist")
    deep = root.joinpath(*["é" * 120] * 4, "x" * 200)  # > 1,024 UTF-8 bytes, each segment < 255
    deep.parent.mkdir(parents=True)
    deep.write_text("x")
    (root / "line\nbreak.txt").write_text("x")
    (root / os.fsdecode(b"bad-\xff.txt")).write_text("x")
    with pytest.raises(ToolkitError, match="3 paths in .* cannot be S3 object keys") as err:
        pub.scan_build(root)
    text = str(err.value)
    assert "over S3's limit of 1024" in text and "control characters (U+000A)" in text and "not valid UTF-8" in text


@pytest.mark.parametrize(
    "tag",
    [
        '<script type="module" src="/assets/gone-AbCdEf12.js"></script>',
        '<link rel="stylesheet" href="/assets/gone-AbCdEf12.css">',
        '<link rel="modulepreload" href="/assets/gone-AbCdEf12.js">',
        '<link rel="icon" href="/gone.svg">',
        '<link rel="manifest" href="gone.webmanifest">',
        '<script type="importmap">{"imports": {"app": "/assets/gone-AbCdEf12.js"}}</script>',
        '<script type="importmap">{"scopes": {"/x/": {"app": "./assets/gone-AbCdEf12.js"}}}</script>',
    ],
)
def test_html_that_loads_a_missing_file_refuses_the_publish_unless_forced(tmp_path, tag):
    root = _site(tmp_path / "dist", index='<script type="module" src="/assets/a-AbCdEf12.js"></script>' + tag)
    with pytest.raises(ToolkitError, match=r"broken: its HTML loads files that are not in it:\n  index.html: /") as err:
        pub.scan_build(root)
    assert "gone" in str(err.value) and "--force" in str(err.value)
    build = pub.scan_build(root, force=True)
    assert list(build.unresolved) == ["index.html"] and "gone" in build.unresolved["index.html"][0]


def test_references_that_need_no_file_are_not_checked(tmp_path):
    index = (
        '<base href="/"><script src="https://cdn.example.com/x.js"></script><link rel="icon" href="data:,">'
        '<link rel="canonical" href="/tasks"><link rel="stylesheet" href="//fonts.example.com/a.css">'
        '<script src="assets/a-AbCdEf12.js?v=1#x"></script><a href="/nowhere">x</a>'
    )
    root = _site(tmp_path / "dist", index=index)
    (root / "docs").mkdir()
    (root / "docs" / "index.html").write_text('<link rel="stylesheet" href="../assets/a-AbCdEf12.js">')
    assert pub.scan_build(root).unresolved == {}


def test_manifests_are_parsed_into_named_entries_and_bad_ones_are_refused():
    sha = "a" * 64
    m = pub.Manifest.parse({"format": 1, "rules": "r", "files": {"index.html": [sha, 3, "b" * 32]}}, "s3://b/k")
    assert m.files["index.html"] == pub.Entry(sha, 3, "b" * 32) and m.sha("index.html") == sha
    assert pub.Manifest.parse(m.to_json(), "x") == m
    for bad in ({}, {"files": []}, {"files": {"a": [sha]}}, {"files": {"a": ["zz", 1]}}, {"files": {"a": [sha, -1]}}):
        with pytest.raises(ToolkitError, match=r"s3://b/k is not a release manifest"):
            pub.Manifest.parse(bad, "s3://b/k")


def test_the_live_release_is_the_one_index_html_belongs_to_not_the_recorded_one():
    from datetime import UTC, datetime

    def manifest(index_sha):
        return pub.Manifest({"index.html": pub.Entry(index_sha, 1, None)})

    objects = {"index.html": {"etag": "e", "size": 1, "modified": datetime.now(UTC)}}
    manifests = {"old": manifest("1" * 64), "new": manifest("2" * 64)}
    state = {"live": "old", "history": [{"id": "old"}]}
    assert pub.Remote(objects, state, manifests, {"sha256": "2" * 64, "release": "new"}).live == "new"
    assert pub.Remote(objects, state, manifests, {"sha256": "2" * 64}).live == "new"  # no release metadata
    assert pub.Remote(objects, state, manifests, {"sha256": "1" * 64}).live == "old"
    assert pub.Remote({}, {}, {}, None).live is None


class _FakeCloudFront:
    def __init__(self):
        self.batches = []

    def create_invalidation(self, DistributionId, InvalidationBatch):
        self.batches.append(InvalidationBatch["Paths"])
        return {"Invalidation": {"Id": "I1"}}


def test_more_than_3000_invalidation_paths_collapse_to_one_wildcard_and_say_so():
    paths = [f"/p{i}.html" for i in range(3001)]
    assert pub.collapse(paths[:3000]) == (paths[:3000], None)
    collapsed, why = pub.collapse(paths)
    assert collapsed == ["/*"] and "3001 paths exceed CloudFront's limit of 3000" in why
    assert pub.collapse(["/a", "/a"]) == (["/a"], None)
    cf = _FakeCloudFront()
    pub.create_invalidation(cf, "E1", paths)
    assert cf.batches == [{"Quantity": 1, "Items": ["/*"]}]


def test_a_file_swapped_for_a_symlink_after_the_scan_is_not_read(tmp_path):
    from tmkit.publish.transfer import upload

    root = _site(tmp_path / "dist")
    build = pub.scan_build(root)
    f = build.files["assets/a-AbCdEf12.js"]
    f.source.unlink()
    f.source.symlink_to("/etc/passwd")

    class NoS3:
        def put_object(self, **kw):  # pragma: no cover - must not be reached
            raise AssertionError("uploaded")

    with pytest.raises(ToolkitError, match="changed while publishing"):
        upload(NoS3(), "b", f.path, f)


def test_records_are_stored_full_or_as_a_delta_and_read_back_whole():
    import gzip

    def entry(n):
        return pub.Entry(f"{n:064x}", n, f"{n:032x}")

    base = pub.Manifest({f"f{i}": entry(i) for i in range(50)})
    new = pub.Manifest({**{p: e for p, e in base.files.items() if p != "f0"}, "f1": entry(99), "g": entry(7)})
    delta = pub.decode(pub.encode(new, (base.release, base)), "k")
    assert delta.base == base.release and set(delta.files) == {"f1", "g"} and delta.removed == ("f0",)
    assert delta.resolve(new.release, base, "k") == new
    assert pub.decode(pub.encode(base), "k").resolve(base.release, None, "k") == base
    # a record written before (plain JSON, format 1) reads the same
    assert pub.decode(json.dumps(base.to_json()).encode(), "k").resolve(base.release, None, "k") == base
    # a delta applied to another base does not add up to its release
    other = pub.Manifest({"f0": entry(1)})
    with pytest.raises(ToolkitError, match=r"k is not a release manifest .with its base .* does not add up"):
        delta.resolve(new.release, other, "k")
    for bad in (b"\x1f\x8bnot gzip", gzip.compress(b"[1]"), gzip.compress(b'{"files": {}, "base": "../x"}')):
        with pytest.raises(ToolkitError, match="k is not a release manifest"):
            pub.decode(bad, "k")


def test_parallel_keeps_a_bounded_queue_and_the_first_failure_stops_the_rest(monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from tmkit.publish import transfer

    state = {"submitted": 0, "finished": 0, "most": 0}
    lock = threading.Lock()

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, *args):
            with lock:
                state["submitted"] += 1
                state["most"] = max(state["most"], state["submitted"] - state["finished"])
            return super().submit(fn, *args)

    def work(i):
        with lock:
            state["finished"] += 1

    monkeypatch.setattr(transfer, "ThreadPoolExecutor", Counting)
    transfer.parallel(work, list(range(2000)), 4)
    assert state["finished"] == 2000 and state["most"] <= 8 + 1  # not 2,000 futures at once

    ran = []

    def fail_at_5(i):
        ran.append(i)
        if i == 5:
            raise ValueError("item 5")

    with pytest.raises(ValueError, match="item 5"):
        transfer.parallel(fail_at_5, list(range(2000)), 2)
    assert len(ran) < 20


def test_uploads_alternate_the_biggest_and_the_smallest_left():
    from tmkit.publish.publishing import interleaved

    files = [(f"k{n}", pub.LocalFile(f"k{n}", None, n, "", "")) for n in (5, 1, 9, 3, 7)]
    assert [f.size for _, f in interleaved(files)] == [9, 1, 7, 3, 5]
