"""API Gateway's Cognito user-pool authorizer, for the local server, against the emulator's user pool.

It verifies the ID token as API Gateway does: RS256 signature against the pool's JWKS (fetched from the
emulator, cached), issuer, audience (the app client), expiry, token_use "id". The signing key is moto's
published test key, so these tokens prove nothing outside this machine: trusting them is acceptable ONLY
because the local server listens on loopback (tmkit/local_http.py).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

JWKS_REFRESH_SECONDS = 30.0  # an unknown kid refetches the JWKS at most this often
UPSTREAM_TIMEOUT = 10.0
# Loopback calls never go through an HTTP proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Unauthorized(Exception):
    """The request carries no valid ID token of the pool's app client (the reason is for the log only)."""


class UpstreamDown(Exception):
    """The emulator did not answer."""


class CognitoAuthorizer:
    """API Gateway's Cognito user-pool authorizer (no OAuth scopes: ID tokens only) against the emulator."""

    def __init__(
        self, endpoint: str, region: str, pool_id: str, client_id: str, clock: Callable[[], float] = time.monotonic
    ):
        self.region = region
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        self.jwks_url = f"{endpoint.rstrip('/')}/{pool_id}/.well-known/jwks.json"
        self.client_id = client_id
        self._clock = clock
        self._keys: dict[str, object] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.jwks_fetches = 0

    def _key(self, kid: str):
        with self._lock:
            stale = self._fetched_at is None or self._clock() - self._fetched_at >= JWKS_REFRESH_SECONDS
            if kid not in self._keys and stale:
                self._keys = self._fetch()
                self._fetched_at = self._clock()
            return self._keys.get(kid)

    def _fetch(self) -> dict:
        import jwt

        try:
            with OPENER.open(self.jwks_url, timeout=UPSTREAM_TIMEOUT) as resp:
                jwks = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise UpstreamDown(f"cannot read the user pool's JWKS at {self.jwks_url}: {exc}") from None
        self.jwks_fetches += 1
        try:
            return {k.key_id: k.key for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id}
        except (jwt.PyJWKSetError, jwt.PyJWKError, TypeError, AttributeError, KeyError) as exc:
            raise UpstreamDown(f"the user pool's JWKS at {self.jwks_url} holds no usable key: {exc}") from None

    def claims(self, authorization: str | None) -> dict:
        """The verified claims of the ID token in an Authorization header value ("<jwt>" or "Bearer <jwt>")."""
        import jwt

        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise Unauthorized("no token")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256":
                raise Unauthorized(f"algorithm {header.get('alg')!r} is not RS256")
            key = self._key(str(header.get("kid") or ""))
            if key is None:
                raise Unauthorized("unknown signing key")
            found = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                audience=self.client_id,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(type(exc).__name__) from None
        if found.get("token_use") != "id":
            raise Unauthorized("not an ID token")
        return found
