"""The local server's ``/cognito`` endpoint: the SPA's Cognito calls, forwarded to the emulator.

Same origin as the SPA, so the browser needs no CORS. The emulator routes a call to this region's pool only
when it is SigV4-signed; it is signed here with the fake emulator credentials, which would make the proxy an
administrator of every pool in the emulator. So only the operations real Cognito answers without AWS
credentials, and that the SPA (amazon-cognito-identity-js) uses, are forwarded: sign-in, its challenges and
refresh, and the operations authorized by the user's own access token. Every other call is refused as real
Cognito refuses an unsigned one: 400 ``{"__type": "MissingAuthenticationTokenException", ...}``
(docs/frontend.md, "Offline").
"""

from __future__ import annotations

import functools
import urllib.error
import urllib.request

from tmkit.config import EnvConfig
from tmkit.local_authorizer import OPENER, UPSTREAM_TIMEOUT
from tmkit.local_http import Reply, json_reply

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
FORWARDED_OPERATIONS = frozenset(
    {
        "InitiateAuth",  # USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH: client id + credentials or refresh token
        "RespondToAuthChallenge",  # NEW_PASSWORD_REQUIRED and other challenges: the session from InitiateAuth
        "GetUser",  # the rest: authorized by the caller's own access token
        "ChangePassword",
        "GlobalSignOut",
        "RevokeToken",  # the refresh token itself
    }
)


def refusal(target: str) -> Reply | None:
    """What real Cognito answers an unsigned call of ``target`` that is not forwarded; None: forward it."""
    operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
    if operation in FORWARDED_OPERATIONS:
        return None
    if operation and operation in _operations():
        kind, message = "MissingAuthenticationTokenException", "Missing Authentication Token"
    else:
        kind, message = "UnknownOperationException", None
    body = {"__type": kind, **({"message": message} if message else {})}
    return json_reply(400, body, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": kind})


@functools.cache
def _operations() -> frozenset[str]:
    """Every Cognito user-pool operation (botocore's service model)."""
    import botocore.session

    return frozenset(botocore.session.get_session().get_service_model("cognito-idp").operation_names)


class CognitoProxy:
    def __init__(self, cfg: EnvConfig, region: str):
        self.cfg, self.region = cfg, region

    def forward(self, method: str, body: bytes, request_headers) -> Reply:
        if method != "POST":
            return json_reply(405, {"__type": "MethodNotAllowed", "message": "POST Cognito API calls here"})
        refused = refusal(str(request_headers.get("X-Amz-Target") or ""))
        if refused is not None:
            return refused
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        from tmkit.aws import FAKE_CREDENTIALS, emulator_hint

        headers = {k: request_headers[k] for k in ("Content-Type", "X-Amz-Target") if request_headers.get(k)}
        # Signed with the fake emulator credentials only so the emulator routes it to this region's pool.
        request = AWSRequest("POST", self.cfg.endpoint_url.rstrip("/") + "/", data=body, headers=headers)
        SigV4Auth(
            Credentials(FAKE_CREDENTIALS["aws_access_key_id"], FAKE_CREDENTIALS["aws_secret_access_key"]),
            "cognito-idp",
            self.region,
        ).add_auth(request)
        forward = urllib.request.Request(request.url, data=body, headers=dict(request.headers.items()), method="POST")
        try:
            with OPENER.open(forward, timeout=UPSTREAM_TIMEOUT) as resp:
                status, resp_headers, data = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            status, resp_headers, data = exc.code, exc.headers, exc.read()
        except (urllib.error.URLError, OSError):
            return json_reply(502, {"__type": "ServiceUnavailable", "message": emulator_hint(self.cfg)})
        keep = {
            k: v
            for k, v in resp_headers.items()
            if k.lower() in ("content-type", "x-amzn-errortype", "x-amzn-requestid")
        }
        return Reply(status, keep, data)
