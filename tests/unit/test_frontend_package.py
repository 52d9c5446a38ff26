"""The SPA's package and its contract with the toolkit, checked without Node (the Vitest suite covers the code)."""

import json
import re

from tmkit import site
from tmkit.outputs import LOCAL_SERVE_OVERRIDES, VITE_OUTPUTS
from tmkit.paths import FRONTEND_DIR

CONTRACT_VARS = set(VITE_OUTPUTS) | set(LOCAL_SERVE_OVERRIDES)


def _vars_in(text: str) -> set[str]:
    return set(re.findall(r"\bVITE_[A-Z_]+\b", text))


def test_spa_reads_exactly_the_variables_the_toolkit_writes():
    assert _vars_in((FRONTEND_DIR / "src" / "config.js").read_text()) == CONTRACT_VARS


def test_env_example_documents_every_variable():
    assert _vars_in((FRONTEND_DIR / ".env.example").read_text()) == CONTRACT_VARS


def test_lockfile_has_no_registry_addresses_and_pins_every_dependency():
    lock_text = (FRONTEND_DIR / "package-lock.json").read_text()
    assert '"resolved"' not in lock_text
    assert "registry" not in lock_text.lower()
    lock = json.loads(lock_text)
    manifest = json.loads((FRONTEND_DIR / "package.json").read_text())
    declared = {**manifest["dependencies"], **manifest["devDependencies"]}
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    assert lock["packages"][""]["devDependencies"] == manifest["devDependencies"]
    for name, version in declared.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned exactly: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    for path, entry in lock["packages"].items():
        if path:
            assert entry.get("integrity", "").startswith("sha512-"), f"{path} has no integrity hash"


def test_npmrc_keeps_registry_addresses_out_of_the_lockfile():
    settings = dict(line.split("=", 1) for line in (FRONTEND_DIR / ".npmrc").read_text().splitlines() if "=" in line)
    assert settings.get("omit-lockfile-registry-resolved") == "true"


def test_build_and_test_scripts():
    scripts = json.loads((FRONTEND_DIR / "package.json").read_text())["scripts"]
    assert scripts["build"] == "vite build"
    assert scripts["test"] == "vitest run"


def test_static_files_for_hosting():
    public = FRONTEND_DIR / "public"
    assert (public / "favicon.svg").read_text().startswith("<svg")
    not_found = (public / "404.html").read_text()
    assert "<title>Not found" in not_found
    assert "<script" not in not_found  # a static page: it must not depend on the (possibly missing) assets
    assert 'href="/favicon.svg"' in (FRONTEND_DIR / "index.html").read_text()


def test_every_error_page_the_distribution_serves_ships_with_the_build():
    for page in (site.NOT_FOUND_PAGE, site.SERVER_ERROR_PAGE):
        html = (FRONTEND_DIR / "public" / page.lstrip("/")).read_text()
        assert "<script" not in html and "<h1>" in html, page
