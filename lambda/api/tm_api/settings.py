"""The Lambda's configuration: environment variables -> one validated, frozen ``Settings``.

The stack sets these variables (infra/components/api.py; the secret ones are described in docs/secrets.md); a
missing or malformed one fails the first request with a message naming the variable, instead of failing
somewhere deep later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ROLE_ARN_RE = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$"
SECRET_KEY_RE = re.compile(r"^[A-Za-z0-9_.+=@-]{1,64}$")


class SettingsError(RuntimeError):
    """The function is misconfigured (an operator problem, never a client one)."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=False)

    table_name: str = Field(alias="TABLE_NAME", min_length=3, max_length=255)
    data_access_role_arn: str = Field(alias="DATA_ACCESS_ROLE_ARN", pattern=ROLE_ARN_RE)
    secrets_prefix: str = Field(alias="SECRETS_PREFIX", min_length=2)
    secret_keys: tuple[str, ...] = Field(alias="SECRET_KEYS", default=())
    secret_max_age_seconds: int = Field(alias="SECRET_MAX_AGE_SECONDS", default=300, ge=0, le=86400)
    environment: str = Field(alias="ENVIRONMENT", pattern=r"^[a-z][a-z0-9]{1,15}$")
    # boto3 honours AWS_ENDPOINT_URL natively; it is read here so the clients we build say so explicitly
    # (the local server points the handler at the emulator this way).
    endpoint_url: str | None = Field(alias="AWS_ENDPOINT_URL", default=None)

    @field_validator("secret_keys", mode="before")
    @classmethod
    def _split_keys(cls, v):
        if isinstance(v, str):
            v = tuple(k.strip() for k in v.split(",") if k.strip())
        for key in v:
            if not SECRET_KEY_RE.fullmatch(key):
                raise ValueError(f"{key!r} is not a valid secret key (letters, digits and _.+=@- only)")
        return tuple(v)

    @field_validator("secrets_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not v.endswith("/"):
            raise ValueError("must end with '/' (e.g. 'TimeManagement-dev/')")
        return v

    @field_validator("endpoint_url", mode="before")
    @classmethod
    def _empty_is_none(cls, v):
        return v or None

    def secret_name(self, key: str) -> str:
        return f"{self.secrets_prefix}{key}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Validate the process environment (or ``environ``); ``SettingsError`` names every bad variable."""
    environ = os.environ if environ is None else environ
    try:
        return Settings.model_validate(dict(environ))
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_input=False, include_url=False):
            var = ".".join(str(p) for p in err["loc"])
            msg = "is not set" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            problems.append(f"{var} {msg}")
        raise SettingsError(
            "the API function is misconfigured: "
            + "; ".join(problems)
            + ". Fix the function's environment (the stack sets it) and redeploy."
        ) from None
