"""The local Cognito authorizer: a JWKS it cannot use is the emulator's fault (502), never a crash (500)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from tmkit.local_authorizer import CognitoAuthorizer, UpstreamDown


def serving(body: bytes):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(
    "jwks",
    [{"keys": []}, {"keys": [{"kty": "nope", "kid": "k"}]}, {"keys": "x"}, {"nokeys": 1}, ["not", "an", "object"]],
)
def test_an_unusable_jwks_is_upstream_down(jwks):
    server = serving(json.dumps(jwks).encode())
    try:
        auth = CognitoAuthorizer(f"http://127.0.0.1:{server.server_address[1]}", "us-east-1", "pool", "client")
        b64 = jwt.utils.base64url_encode
        token = ".".join(b64(part).decode() for part in (b'{"alg":"RS256","kid":"k"}', b'{"sub":"x"}', b"sig"))
        with pytest.raises(UpstreamDown, match="JWKS"):
            auth.claims(f"Bearer {token}")
    finally:
        server.shutdown()
        server.server_close()
