"""What the stack, the toolkit and the API Lambda agree on: routes, environment variables, the secret placeholder.

One definition each. The CDK construct (infra/components/api.py) builds API Gateway's resources and the
function's environment from here; ``inv local.serve`` routes with the same table and sets the same variables;
``inv secrets.*`` and the stack's secrets use the same placeholder. The Lambda (lambda/api) cannot import
tmkit: tests/integration/test_api_handler.py asserts that its routes, settings and placeholder equal these.
Pure data and functions (docs/architecture.md, "One route table").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

# ---- routes --------------------------------------------------------------------------------------------
ANY = "ANY"


@dataclass(frozen=True)
class Route:
    """One API Gateway resource under the stage (``tasks/{id}``) and the methods it has (``ANY`` = all)."""

    path: str
    methods: tuple[str, ...] = (ANY,)
    public: bool = False  # no authorizer

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))

    def allows(self, method: str) -> bool:
        return ANY in self.methods or method.upper() in self.methods


ROUTES: tuple[Route, ...] = (
    Route("health", ("GET",), public=True),
    Route("me"),
    Route("tasks"),
    Route("tasks/{id}"),
    Route("milestones"),
    Route("milestones/{id}"),
    Route("drivers"),
    Route("drivers/{id}"),
    Route("integrations/status"),
    Route("integrations/{key}"),
)


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def find_route(path: str, routes: Iterable[Route] = ROUTES) -> Route | None:
    """The resource API Gateway matches for ``path`` ("/tasks/01H..." under the stage), or None.

    A literal segment beats a ``{param}`` one (``integrations/status`` before ``integrations/{key}``), as in
    API Gateway; a parameter matches exactly one non-empty segment.
    """
    inner = path.removeprefix("/").removesuffix("/")
    parts = tuple(inner.split("/")) if inner else ()
    best: Route | None = None
    for route in routes:
        segs = route.segments
        if len(segs) != len(parts) or not all(s == p or (_is_param(s) and p) for s, p in zip(segs, parts, strict=True)):
            continue
        if best is None or sum(map(_is_param, segs)) < sum(map(_is_param, best.segments)):
            best = route
    return best


# API Gateway's answer for a path or method it has no resource for (REST APIs): 403, this body.
MISSING_AUTH_TOKEN_STATUS = 403
MISSING_AUTH_TOKEN_BODY = {"message": "Missing Authentication Token"}


# ---- the function's environment -------------------------------------------------------------------------
TABLE_NAME = "TABLE_NAME"
DATA_ACCESS_ROLE_ARN = "DATA_ACCESS_ROLE_ARN"
SECRETS_PREFIX = "SECRETS_PREFIX"
SECRET_KEYS = "SECRET_KEYS"
SECRET_MAX_AGE_SECONDS = "SECRET_MAX_AGE_SECONDS"
ENVIRONMENT = "ENVIRONMENT"
ALLOWED_ORIGIN = "ALLOWED_ORIGIN"  # set only when the SPA is on another origin (the CloudFront URL)
SERVICE_NAME = "timemanagement-api"


def function_environment(
    *,
    table_name: str,
    data_access_role_arn: str,
    secrets_prefix: str,
    secret_keys: Iterable[str],
    secret_max_age_seconds: int,
    environment_name: str,
) -> dict[str, str]:
    """The API Lambda's environment variables (lambda/api/tm_api/settings.py reads them)."""
    return {
        TABLE_NAME: table_name,
        DATA_ACCESS_ROLE_ARN: data_access_role_arn,
        SECRETS_PREFIX: secrets_prefix,
        SECRET_KEYS: ",".join(secret_keys),
        SECRET_MAX_AGE_SECONDS: str(secret_max_age_seconds),
        ENVIRONMENT: environment_name,
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "LOG_LEVEL": "INFO",
    }


# ---- the unseeded-secret placeholder ----------------------------------------------------------------------
# A declared secret is created with a generated value {"tmkit": "unseeded", "placeholder": <random>}; a current
# value with this field and value counts as not seeded (docs/secrets.md).
PLACEHOLDER_FIELD, PLACEHOLDER_VALUE = "tmkit", "unseeded"
PLACEHOLDER_TEMPLATE = json.dumps({PLACEHOLDER_FIELD: PLACEHOLDER_VALUE}, separators=(",", ":"))
