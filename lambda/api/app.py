"""TimeManagement API Lambda (handler ``app.handler``): Powertools REST resolver, thin routes.

Routes (all but /health need the Cognito authorizer's verified claims):
  GET  /health                       liveness, no auth
  GET  /me                           who the token says you are
  POST /tasks | /milestones | /drivers            create (server-generated id)
  GET  /tasks | /milestones | /drivers            list your items (?limit=1..100, ?nextToken=)
  GET|PUT|DELETE /<collection>/{id}               read / replace / delete one of your items
  GET  /integrations/status          for each declared secret key: configured or not (never values)
  GET  /integrations/{key}           200 when that secret is configured, else 503 naming the key

The caller's partition always comes from the ``sub`` claim in
``requestContext.authorizer.claims``; never from the path, query or body. Another user's item
is simply not found (404). The handler is a pure Lambda-proxy function: ``inv local.serve``
builds REST v1 events (see ``tm_api.events``) and calls it in-process.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError, UnauthorizedError
from aws_lambda_powertools.logging import correlation_paths

from tm_api.models import ENTITIES, Entity, InvalidInput, attributes, is_id, new_id, parse_body
from tm_api.secrets import Secrets, SecretUnavailable
from tm_api.settings import Settings, load_settings
from tm_api.store import SUB_RE, ItemStore, UserCredentials

logger = Logger()  # service name and level from POWERTOOLS_SERVICE_NAME / LOG_LEVEL
# Bearer tokens, no cookies: the token is what authorizes. CORS names the SPA's origin (ALLOWED_ORIGIN, set by the
# stack to the CloudFront URL, as in the API's preflight responses); without it (local server, tests) any origin.
# debug=False / log_event=False explicitly: the Powertools env switches that would print whole events
# (with the caller's token and the request body) cannot be turned on by configuration.
app = APIGatewayRestResolver(
    debug=False,
    cors=CORSConfig(
        allow_origin=os.environ.get("ALLOWED_ORIGIN", "*"), max_age=600, allow_headers=["Authorization", "Content-Type"]
    ),
)
MAX_PAGE = 100


# ---- dependencies: built once per container, on first use --------------------------------------
@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: ItemStore
    secrets: Secrets


_deps: Deps | None = None
_deps_lock = threading.Lock()


def build_deps(settings: Settings, *, session=None, clock: Callable[[], float] = time.time) -> Deps:
    """The container's long-lived objects. ``session`` and ``clock`` are seams for tests and benchmarks."""
    session = session or boto3.session.Session()
    credentials = UserCredentials(
        session, settings.data_access_role_arn, endpoint_url=settings.endpoint_url, clock=clock
    )
    return Deps(
        settings=settings, store=ItemStore(settings.table_name, credentials), secrets=Secrets(settings, clock=clock)
    )


def deps() -> Deps:
    global _deps
    if _deps is None:
        with _deps_lock:
            if _deps is None:
                _deps = build_deps(load_settings())
    return _deps


def reset(new: Deps | None = None) -> None:
    """Forget the container state (settings, cached credentials and secrets), or install ``new``.

    For tests, benchmarks and the local server (after it changes the environment variables)."""
    global _deps
    from aws_lambda_powertools.utilities import parameters

    with _deps_lock:
        parameters.clear_caches()
        _deps = new


# ---- request helpers ------------------------------------------------------------------------
def claims() -> dict:
    found = app.current_event.request_context.authorizer.claims
    if not found or not SUB_RE.fullmatch(str(found.get("sub") or "")):
        raise UnauthorizedError("Unauthorized: sign in and send your ID token in the Authorization header")
    return found


def caller() -> str:
    """The verified ``sub`` of the caller: the only source of a partition key."""
    return claims()["sub"]


def json_response(status: int, body) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def page_params() -> tuple[int, str | None]:
    limit_raw = app.current_event.get_query_string_value("limit", "") or str(MAX_PAGE)
    after = app.current_event.get_query_string_value("nextToken", "") or None
    if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= MAX_PAGE:
        raise InvalidInput(
            f"limit must be a whole number from 1 to {MAX_PAGE}",
            [{"field": "limit", "message": f"must be 1..{MAX_PAGE}"}],
        )
    if after is not None and not is_id(after):
        raise InvalidInput(
            "nextToken is not a token this API returned", [{"field": "nextToken", "message": "invalid token"}]
        )
    return int(limit_raw), after


def not_found(entity: Entity) -> NotFoundError:
    return NotFoundError(f"no such {entity.kind.lower()}")


def check_references(sub: str, entity: Entity, values: dict) -> None:
    """Every id an item points at (a task's ``milestoneId``) names one of the caller's own items: looked up in
    the caller's partition only, so another user's id is refused exactly like one that never existed."""
    for field, kind in entity.references:
        ref = values.get(field)
        if ref is not None and deps().store.get(sub, kind, ref) is None:
            raise InvalidInput(
                f"{field} names no {kind.lower()} of yours", [{"field": field, "message": f"no such {kind.lower()}"}]
            )


# ---- routes ---------------------------------------------------------------------------------
@app.get("/health")
def health():
    return {"status": "ok", "environment": deps().settings.environment}


@app.get("/me")
def me():
    found = claims()
    return {
        "sub": found["sub"],
        "email": found.get("email"),
        "username": found.get("cognito:username"),
        "environment": deps().settings.environment,
    }


def register(entity: Entity) -> None:
    """The five CRUD routes of one entity; each is: caller's sub -> validated input -> store."""
    base, item = f"/{entity.collection}", f"/{entity.collection}/<item_id>"

    def create():
        sub = caller()
        values = attributes(parse_body(entity.model, app.current_event.body))
        check_references(sub, entity, values)
        return json_response(201, deps().store.create(sub, entity.kind, new_id(), values))

    def list_items():
        sub = caller()
        limit, after = page_params()
        items, next_token = deps().store.list(sub, entity.kind, limit=limit, after=after)
        return {"items": items, "nextToken": next_token}

    def get_item(item_id: str):
        sub = caller()
        found = deps().store.get(sub, entity.kind, item_id) if is_id(item_id) else None
        if found is None:
            raise not_found(entity)
        return found

    def replace_item(item_id: str):
        sub = caller()
        if not is_id(item_id):
            raise not_found(entity)
        values = attributes(parse_body(entity.model, app.current_event.body))
        check_references(sub, entity, values)
        updated = deps().store.replace(sub, entity.kind, item_id, values)
        if updated is None:
            raise not_found(entity)
        return updated

    def delete_item(item_id: str):
        sub = caller()
        if not (is_id(item_id) and deps().store.delete(sub, entity.kind, item_id)):
            raise not_found(entity)
        return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")

    app.post(base)(create)
    app.get(base)(list_items)
    app.get(item)(get_item)
    app.put(item)(replace_item)
    app.delete(item)(delete_item)


for _entity in ENTITIES:
    register(_entity)


@app.get("/integrations/status")
def integrations_status():
    caller()
    secrets = deps().secrets
    return {"integrations": [{"key": key, "configured": secrets.configured(key)} for key in secrets.keys]}


@app.get("/integrations/<key>")
def integration(key: str):
    caller()
    secrets = deps().secrets
    if key not in secrets.keys:
        raise NotFoundError("no such integration")
    secrets.get(key)  # raises SecretUnavailable -> 503; the value itself is never returned
    return {"key": key, "configured": True}


# ---- errors ---------------------------------------------------------------------------------
@app.exception_handler(InvalidInput)
def _invalid(exc: InvalidInput):
    return json_response(400, exc.body())


@app.exception_handler(SecretUnavailable)
def _secret_unavailable(exc: SecretUnavailable):
    return json_response(503, exc.body())


@app.exception_handler(ServiceError)
def _service_error(exc: ServiceError):
    return json_response(exc.status_code, {"statusCode": exc.status_code, "message": exc.msg})


@app.exception_handler(Exception)
def _unexpected(exc: Exception):
    logger.exception("unhandled error")
    return json_response(
        500,
        {
            "statusCode": 500,
            "message": "internal error; see the function's logs "
            f"(request {app.current_event.request_context.request_id})",
        },
    )


# ---- entry point ----------------------------------------------------------------------------
class LocalContext:
    """Stand-in for the Lambda context when the handler runs in-process (``inv local.serve``)."""

    function_name = "timemanagement-api-local"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:timemanagement-api-local"

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True, log_event=False)
def _handle(event, context):
    return app.resolve(event, context)


_resolve_lock = threading.Lock()  # the resolver and logger keep per-request state on module objects


def handler(event, context=None):
    """Lambda entry point. Thread-safe (one request at a time) so a threaded local server can call it."""
    with _resolve_lock:
        return _handle(event, context if context is not None else LocalContext())
