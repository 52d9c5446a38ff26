"""Request models (one per entity), the entity registry, ids, and the client-facing validation error.

JSON field names are camelCase (``dueDate``); unknown fields are rejected, so a body can never
carry ``PK``, ``sub`` or ``id`` into the item.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

# ---- ids: ULID-shaped (48-bit millisecond time + 80 random bits, Crockford base32), so a
# Query on SK lists a user's items in creation order.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
ID_RE = re.compile(ID_PATTERN)


def new_id() -> str:
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def is_id(value: str) -> bool:
    return bool(ID_RE.fullmatch(value or ""))


# ---- request bodies
def _title():
    return Field(min_length=1, max_length=200)


def _text():
    return Field(default="", max_length=5000)


class _Body(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, alias_generator=to_camel, populate_by_name=False, frozen=True
    )


class TaskIn(_Body):
    title: str = _title()
    notes: str = _text()
    status: Literal["todo", "in_progress", "done"] = "todo"
    due_date: date | None = None
    milestone_id: str | None = Field(default=None, pattern=ID_PATTERN)


class MilestoneIn(_Body):
    title: str = _title()
    description: str = _text()
    status: Literal["planned", "in_progress", "done"] = "planned"
    target_date: date | None = None


class DriverIn(_Body):
    name: str = _title()
    description: str = _text()
    importance: int = Field(default=3, ge=1, le=5)


@dataclass(frozen=True)
class Entity:
    collection: str  # URL segment: /tasks
    kind: str  # sort-key prefix: TASK -> SK = TASK#<id>
    model: type[_Body]
    # field (JSON name) -> kind of the caller's own item it must name, e.g. a task's milestone
    references: tuple[tuple[str, str], ...] = ()


ENTITIES = (
    Entity("tasks", "TASK", TaskIn, references=(("milestoneId", "MILESTONE"),)),
    Entity("milestones", "MILESTONE", MilestoneIn),
    Entity("drivers", "DRIVER", DriverIn),
)


# ---- validation errors a client can fix -> 400 with the field names
class InvalidInput(Exception):
    def __init__(self, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []

    def body(self) -> dict:
        return {"statusCode": 400, "message": self.message, "errors": self.errors}


def parse_body(model: type[_Body], raw: str | None) -> _Body:
    """JSON text -> validated model. Error messages name fields, never echo the submitted values."""
    if not raw:
        raise InvalidInput("the request needs a JSON object body")
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        raise InvalidInput("the request body is not valid JSON") from None
    except RecursionError:  # nested deeper than the parser's stack; no body of this API is
        raise InvalidInput("the request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_input=False, include_url=False, include_context=False):
            field = ".".join(str(p) for p in err["loc"]) or "(body)"
            message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            errors.append({"field": field, "message": message})
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(f"invalid request body: {summary}", errors) from None


def attributes(body: _Body) -> dict:
    """The stored (and returned) attributes of a validated body: camelCase, JSON types."""
    return body.model_dump(mode="json", by_alias=True)
