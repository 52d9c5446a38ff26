"""Per-user credentials of the data-access role, and ONE DynamoDB client that signs with them.

Every DynamoDB call runs with credentials of the data-access role, assumed with the session tag
``sub=<caller's sub>`` (the role may only touch ``USER#${aws:PrincipalTag/sub}`` items). The
credentials are cached per user in the warm container, in a bounded LRU, and renewed
``refresh_margin`` seconds before they expire.

Memory (docs/architecture.md, "API function memory"): a boto3 client costs about 0.27 MB, so a
client per user grew past the function's 256 MB at about 1,000 users. Instead there is one
DynamoDB client per container, and each call is signed with the calling user's credentials:
``client(sub)`` returns a small handle that puts the user's credentials in a context variable for
the duration of one call, and a ``before-sign`` handler hands them to botocore's signer as the
request's credentials (``request.context["signing"]["request_credentials"]``). A call with no
user credentials set is refused before it is signed (never falls back to the function's role).
A cache entry is then a few hundred bytes; benchmarks/lambda_memory.py prints the figures.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.credentials import Credentials

SUB_RE = re.compile(r"^[A-Za-z0-9-]{1,128}$")  # Cognito subs are UUIDs; nothing that could reshape a key
_SESSION_UNSAFE = re.compile(r"[^A-Za-z0-9+=,.@_-]")
# The credentials of the user whose call is being made (set only for the duration of that call;
# each thread of the local server has its own value).
_CURRENT: contextvars.ContextVar[Credentials | None] = contextvars.ContextVar("tm_user_credentials", default=None)
# The shared client is built with these placeholders; the before-sign handler never lets them sign.
_PLACEHOLDER = {"aws_access_key_id": "no-user-credentials", "aws_secret_access_key": "no-user-credentials"}


class NoUserCredentials(RuntimeError):
    """A DynamoDB call was made without a user's credentials (a bug: refused, never sent)."""


def session_name(sub: str) -> str:
    """An STS RoleSessionName for ``sub``: 2-64 chars of [\\w+=,.@-], stable, shows up in CloudTrail."""
    name = "tm-" + _SESSION_UNSAFE.sub("_", sub)
    if len(name) > 64:
        name = name[:47] + "-" + hashlib.sha256(sub.encode()).hexdigest()[:16]
    return name


def require_per_request_credentials() -> None:
    """Refuse to start on a botocore whose signer ignores per-request credentials (calls would go out
    signed with the placeholders and fail): say so plainly instead."""
    import inspect

    import botocore
    from botocore.signers import RequestSigner

    if "request_credentials" not in inspect.signature(RequestSigner.get_auth_instance).parameters:
        raise RuntimeError(
            f"botocore {botocore.__version__} cannot sign a request with per-request credentials "
            "(RequestSigner.get_auth_instance has no request_credentials): the API needs a newer boto3/botocore "
            "in the Lambda runtime (see docs/architecture.md, 'API function memory')."
        )


def _sign_with_user_credentials(request, **_) -> None:
    """``before-sign.dynamodb``: the current user's credentials become the request's signing credentials."""
    creds = _CURRENT.get()
    if creds is None:
        raise NoUserCredentials("DynamoDB call without a user's credentials: use UserCredentials.client(sub)")
    request.context.setdefault("signing", {})["request_credentials"] = creds


class UserClient:
    """The shared DynamoDB client, as one user: each method call is signed with that user's credentials."""

    __slots__ = ("_client", "_credentials")

    def __init__(self, client, credentials: Credentials):
        self._client = client
        self._credentials = credentials

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr
        credentials = self._credentials

        def call(*args, **kwargs):
            token = _CURRENT.set(credentials)
            try:
                return attr(*args, **kwargs)
            finally:
                _CURRENT.reset(token)

        return call


@dataclass
class _Entry:
    client: UserClient  # the shared DynamoDB client, signing with this user's role session
    expires_at: float  # epoch seconds
    access_key_id: str  # not a secret; lets tests check which session a client uses


class UserCredentials:
    """Per-user session-tagged credentials of the data-access role (bounded LRU) and the one DynamoDB client."""

    def __init__(
        self,
        session,
        role_arn: str,
        *,
        endpoint_url: str | None = None,
        max_users: int = 1000,
        refresh_margin: float = 300,
        duration_seconds: int = 3600,
        clock: Callable[[], float] = time.time,
    ):
        self._session = session
        self.role_arn = role_arn
        self._endpoint_url = endpoint_url
        self.max_users = max_users
        self._margin = refresh_margin
        self._duration = duration_seconds
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()  # the local server may call from several threads
        self._sts = None
        self._dynamodb = None

    @property
    def sts(self):
        if self._sts is None:
            self._sts = self._session.client("sts", endpoint_url=self._endpoint_url)
        return self._sts

    @property
    def dynamodb(self) -> Any:
        """The container's one DynamoDB client (refuses to send a call that no user's credentials sign)."""
        if self._dynamodb is None:
            require_per_request_credentials()
            client = self._session.client("dynamodb", endpoint_url=self._endpoint_url, **_PLACEHOLDER)
            client.meta.events.register("before-sign.dynamodb", _sign_with_user_credentials)
            self._dynamodb = client
        return self._dynamodb

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, sub: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(sub)
            if entry is not None and self._clock() < entry.expires_at - self._margin:
                self._entries.move_to_end(sub)
                return entry
            entry = self._assume(sub)
            self._entries[sub] = entry
            self._entries.move_to_end(sub)
            while len(self._entries) > self.max_users:
                self._entries.popitem(last=False)
            return entry

    def client(self, sub: str) -> UserClient:
        return self.entry(sub).client

    def _assume(self, sub: str) -> _Entry:
        if not SUB_RE.fullmatch(sub or ""):  # refuse a malformed sub before it reaches STS
            raise ValueError("not a valid subject identifier")
        creds = self.sts.assume_role(
            RoleArn=self.role_arn,
            RoleSessionName=session_name(sub),
            DurationSeconds=self._duration,
            Tags=[{"Key": "sub", "Value": sub}],
        )["Credentials"]
        expiration = creds["Expiration"]
        if isinstance(expiration, str):
            expiration = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
        signing = Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        return _Entry(
            client=UserClient(self.dynamodb, signing),
            expires_at=expiration.timestamp(),
            access_key_id=creds["AccessKeyId"],
        )
