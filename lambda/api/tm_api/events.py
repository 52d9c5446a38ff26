"""Build API Gateway REST (v1) Lambda-proxy events: for tests, benchmarks and the local server.

The handler only ever sees what API Gateway would send: the verified token's claims sit in
``requestContext.authorizer.claims`` (the Cognito authorizer puts them there).
"""

from __future__ import annotations

import json
import uuid
from typing import Any


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    claims: dict | None = None,
    query: dict | None = None,
    headers: dict | None = None,
    stage: str = "api",
) -> dict:
    """``body`` may be a str (sent as is) or any JSON value (serialized). ``claims=None``: unauthenticated."""
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    headers = {"Content-Type": "application/json", **(headers or {})}
    request_context: dict = {
        "resourcePath": path,
        "httpMethod": method,
        "path": f"/{stage}{path}",
        "stage": stage,
        "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": "127.0.0.1"},
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": dict(claims)}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": False,
    }
