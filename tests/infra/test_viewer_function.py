"""The distribution's viewer-request function (tmkit/site.py SPA_ROUTING_JS), run with node, against its Python
twin ``site.viewer_request`` that `inv local.serve` applies: same URI in, same answer out."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tmkit import site

HIDDEN = None  # the function answers 404 itself
CASES = {
    "/": "/index.html",
    "/tasks/42": "/index.html",
    "/assets/app-1a2b.js": "/assets/app-1a2b.js",
    "/404.html": "/404.html",
    "/_releasesx/a.json": "/_releasesx/a.json",  # only the exact segment is hidden
    "/releases": "/index.html",
    # release records (tmkit/publish.py keeps them under _releases/ in the bucket) are never served
    "/_releases/state.json": HIDDEN,
    "/_releases/01JABCDEF.json": HIDDEN,
    "/_releases/blobs/0123abcd": HIDDEN,
    "/_releases/": HIDDEN,
    "/_releases": HIDDEN,
    "/%5Freleases/state.json": HIDDEN,  # S3 decodes the key: the same object
    "/%5freleases/state.json": HIDDEN,
    "/assets%2F..%2F_releases%2Fstate.json": HIDDEN,
    "/x/_releases/state.json": HIDDEN,
    "/%ZZ": HIDDEN,  # does not decode
    "/%FF.js": HIDDEN,  # not UTF-8
}


def run_function(uris: list[str]) -> dict:
    harness = site.SPA_ROUTING_JS + (
        "\nconst uris = JSON.parse(process.argv[1]); const out = {};"
        "\nfor (const u of uris) { const r = handler({request: {uri: u, headers: {}}});"
        "\n  out[u] = r.statusCode !== undefined ? {status: r.statusCode, text: r.statusDescription} : r.uri; }"
        "\nprocess.stdout.write(JSON.stringify(out));"
    )
    proc = subprocess.run(["node", "-e", harness, json.dumps(uris)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_function_hides_release_records_and_routes_the_spa():
    out = run_function(list(CASES))
    for uri, expected in CASES.items():
        got = out[uri]
        if expected is HIDDEN:
            assert got == {"status": 404, "text": "Not Found"}, uri
        else:
            assert got == expected, uri
        assert site.viewer_request(uri) == expected, uri  # the local server's twin agrees
