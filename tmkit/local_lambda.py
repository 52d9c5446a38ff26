"""The API Lambda (lambda/api/app.py) in-process, for the local server: its environment, events, replies.

The handler reads its configuration from the process environment, like in Lambda: one local server per
process.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from urllib.parse import parse_qs

from tmkit import paths
from tmkit.api_contract import function_environment
from tmkit.config import EnvConfig
from tmkit.local_http import Reply


def handler_environment(cfg: EnvConfig, outputs: dict[str, str]) -> dict[str, str]:
    """The Lambda's environment variables for this stack, pointed at the emulator.

    An empty value means: unset it (no profile, no session token: the fake emulator credentials only).
    """
    from tmkit.aws import credentials_env

    return {
        **credentials_env(cfg),
        **function_environment(
            table_name=outputs["TableName"],
            data_access_role_arn=outputs["DataAccessRoleArn"],
            secrets_prefix=cfg.secret_name(""),
            secret_keys=cfg.secrets,
            secret_max_age_seconds=cfg.secret_cache_seconds,
            environment_name=cfg.name,
        ),
    }


@contextlib.contextmanager
def process_environment(env: dict[str, str]) -> Iterator[None]:
    """Set (or, for empty values, unset) variables of this process; restore them afterwards."""
    saved = {k: os.environ.get(k) for k in env}
    try:
        for k, v in env.items():
            if v:
                os.environ[k] = v
            else:
                os.environ.pop(k, None)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load_handler():
    """Import the API Lambda (lambda/api/app.py) and forget any container state; its logs go to stderr."""
    if str(paths.LAMBDA_DIR) not in sys.path:
        sys.path.insert(0, str(paths.LAMBDA_DIR))
    import app  # noqa: PLC0415  (lambda/api/app.py)

    app.reset()
    handler = app.logger.registered_handler
    if hasattr(handler, "setStream"):
        handler.setStream(sys.stderr)  # stdout carries only requested data
    return app


def rest_event(method: str, path: str, query: str, headers: dict, body: str | None, claims: dict | None) -> dict:
    """The REST (v1) Lambda-proxy event API Gateway would send for this request."""
    from tm_api.events import rest_event as build

    q = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    # API Gateway hands the authorizer's claims to the function as strings.
    claims = (
        {
            k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, (list, dict)) else str(v)
            for k, v in claims.items()
        }
        if claims is not None
        else None
    )
    return build(method, path, body=body, claims=claims, query=q or None, headers=headers)


def to_reply(out: dict) -> Reply:
    """The function's proxy response as API Gateway turns it into an HTTP response."""
    headers = {k: str(v) for k, v in (out.get("headers") or {}).items()}
    for k, values in (out.get("multiValueHeaders") or {}).items():
        headers[k] = ", ".join(str(v) for v in values)
    body = out.get("body") or ""
    data = base64.b64decode(body) if out.get("isBase64Encoded") else body.encode()
    return Reply(int(out.get("statusCode", 502)), headers, data)
