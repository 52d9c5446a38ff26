"""The local server's ``/cognito`` endpoint: the SPA's Cognito calls, forwarded to the emulator.

Same origin as the SPA, so the browser needs no CORS. The emulator routes a call to this region's pool only
when it is SigV4-signed; it is signed here with the fake emulator credentials.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from tmkit.config import EnvConfig
from tmkit.local_authorizer import OPENER, UPSTREAM_TIMEOUT
from tmkit.local_http import Reply, json_reply


class CognitoProxy:
    def __init__(self, cfg: EnvConfig, region: str):
        self.cfg, self.region = cfg, region

    def forward(self, method: str, body: bytes, request_headers) -> Reply:
        if method != "POST":
            return json_reply(405, {"__type": "MethodNotAllowed", "message": "POST Cognito API calls here"})
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
