"""Secrets for the routes: Powertools ``get_secret`` with the configured ``max_age``.

A warm container calls Secrets Manager at most once per secret per cache window: values are
cached by Powertools; a missing secret is remembered here for the same window. A secret still
holding the placeholder CloudFormation generated (JSON with ``"tmkit": "unseeded"``) or an empty
value counts as not configured. Either way the route answers 503 and one log line names the key
-- never the value.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities import parameters

from tm_api.settings import Settings

logger = Logger(child=True)
UNSEEDED_MARKER = ("tmkit", "unseeded")


class SecretUnavailable(Exception):
    """A declared secret has no real value yet (or does not exist). Carries the key, never a value."""

    def __init__(self, key: str, reason: str, environment: str):
        self.key, self.reason = key, reason
        super().__init__(
            f"secret {key} is not configured for environment '{environment}' ({reason}); "
            f"an operator must run `inv secrets.put --env {environment} {key}`"
        )

    def body(self) -> dict:
        return {"statusCode": 503, "message": str(self), "secret": self.key}


def is_unseeded(value) -> bool:
    if value is None or (isinstance(value, (str, bytes)) and not value.strip()):
        return True
    if isinstance(value, bytes):
        return False
    try:
        data = json.loads(value)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get(UNSEEDED_MARKER[0]) == UNSEEDED_MARKER[1]


class Secrets:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic):
        self._settings = settings
        self._clock = clock
        self._missing_until: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def keys(self) -> tuple[str, ...]:
        return self._settings.secret_keys

    def get(self, key: str) -> str:
        """The value of declared secret ``key``; ``SecretUnavailable`` when missing or unseeded."""
        if key not in self.keys:
            raise KeyError(f"{key} is not a declared secret of this environment")
        max_age = self._settings.secret_max_age_seconds
        with self._lock:
            remembered = self._missing_until.get(key)
        if remembered is not None and self._clock() < remembered:
            raise self._unavailable(key, "missing or not readable")
        try:
            value = parameters.get_secret(self._settings.secret_name(key), max_age=max_age)
        except parameters.exceptions.GetParameterError as exc:
            with self._lock:
                self._missing_until[key] = self._clock() + max_age
            # The SDK's message names the error (not found, access denied), never a value.
            raise self._unavailable(key, "missing or not readable", detail=str(exc)) from None
        with self._lock:
            self._missing_until.pop(key, None)
        if is_unseeded(value):
            raise self._unavailable(key, "unseeded")
        return value

    def configured(self, key: str) -> bool:
        try:
            self.get(key)
        except SecretUnavailable:
            return False
        return True

    def _unavailable(self, key: str, reason: str, detail: str = "") -> SecretUnavailable:
        extra = {"secret_key": key, "reason": reason, **({"detail": detail} if detail else {})}
        logger.error("secret not configured", extra=extra)
        return SecretUnavailable(key, reason, self._settings.environment)
