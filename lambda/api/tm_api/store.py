"""Per-user data access: the only module that talks to DynamoDB.

Every call runs with credentials of the data-access role, assumed with the session tag
``sub=<caller's sub>``; that role may only touch items whose partition key is
``USER#${aws:PrincipalTag/sub}`` (``dynamodb:LeadingKeys``). So even a bug here that built the
wrong key would be refused by IAM. Keys are built in one place (``item_key``/``partition``),
from the verified ``sub`` the route passes in; nothing here reads the request.

Credentials (and the DynamoDB client built on them) are cached per user in the warm container,
in a bounded LRU, and renewed ``refresh_margin`` seconds before they expire.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

SUB_RE = re.compile(r"^[A-Za-z0-9-]{1,128}$")  # Cognito subs are UUIDs; nothing that could reshape a key
_SESSION_UNSAFE = re.compile(r"[^A-Za-z0-9+=,.@_-]")
_SER, _DESER = TypeSerializer(), TypeDeserializer()
_HIDDEN = ("PK", "SK")


def partition(sub: str) -> str:
    if not SUB_RE.fullmatch(sub or ""):
        raise ValueError("not a valid subject identifier")
    return f"USER#{sub}"


def item_key(sub: str, kind: str, item_id: str) -> dict:
    return {"PK": partition(sub), "SK": f"{kind}#{item_id}"}


def session_name(sub: str) -> str:
    """An STS RoleSessionName for ``sub``: 2-64 chars of [\\w+=,.@-], stable, shows up in CloudTrail."""
    name = "tm-" + _SESSION_UNSAFE.sub("_", sub)
    if len(name) > 64:
        name = name[:47] + "-" + hashlib.sha256(sub.encode()).hexdigest()[:16]
    return name


# ---- credentials ------------------------------------------------------------------------------
@dataclass
class _Entry:
    client: Any  # DynamoDB client signed with this user's role session
    expires_at: float  # epoch seconds
    access_key_id: str  # not a secret; lets tests check which session a client uses


class UserCredentials:
    """Per-user DynamoDB clients on session-tagged credentials of the data-access role."""

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
        self._max_users = max_users
        self._margin = refresh_margin
        self._duration = duration_seconds
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()  # the local server may call from several threads
        self._sts = None

    @property
    def sts(self):
        if self._sts is None:
            self._sts = self._session.client("sts", endpoint_url=self._endpoint_url)
        return self._sts

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
            while len(self._entries) > self._max_users:
                self._entries.popitem(last=False)
            return entry

    def client(self, sub: str):
        return self.entry(sub).client

    def _assume(self, sub: str) -> _Entry:
        partition(sub)  # refuse a malformed sub before it reaches STS
        creds = self.sts.assume_role(
            RoleArn=self.role_arn,
            RoleSessionName=session_name(sub),
            DurationSeconds=self._duration,
            Tags=[{"Key": "sub", "Value": sub}],
        )["Credentials"]
        client = self._session.client(
            "dynamodb",
            endpoint_url=self._endpoint_url,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        expiration = creds["Expiration"]
        if isinstance(expiration, str):
            expiration = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
        return _Entry(client=client, expires_at=expiration.timestamp(), access_key_id=creds["AccessKeyId"])


# ---- items ------------------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_plain(v) for v in value]
    return value


def _from_item(item: dict) -> dict:
    return {k: _plain(_DESER.deserialize(v)) for k, v in item.items() if k not in _HIDDEN}


def _to_item(values: dict) -> dict:
    return {k: _SER.serialize(v) for k, v in values.items()}


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class ItemStore:
    """CRUD on one user's items of one kind. Never scans: a list is a Query on the user's partition."""

    def __init__(self, table_name: str, credentials: UserCredentials):
        self.table_name = table_name
        self.credentials = credentials

    def create(self, sub: str, kind: str, item_id: str, values: dict) -> dict:
        now = _now()
        record = {"id": item_id, **values, "createdAt": now, "updatedAt": now}
        self.credentials.client(sub).put_item(
            TableName=self.table_name,
            Item=_to_item({**item_key(sub, kind, item_id), **record}),
            ConditionExpression="attribute_not_exists(PK)",
        )
        return record

    def get(self, sub: str, kind: str, item_id: str) -> dict | None:
        out = self.credentials.client(sub).get_item(
            TableName=self.table_name, Key=_to_item(item_key(sub, kind, item_id)), ConsistentRead=True
        )
        return _from_item(out["Item"]) if "Item" in out else None

    def list(self, sub: str, kind: str, *, limit: int = 100, after: str | None = None) -> tuple[list[dict], str | None]:
        """Up to ``limit`` items in id (= creation) order, and the id to continue after (or None)."""
        params = dict(
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues=_to_item({":pk": partition(sub), ":prefix": f"{kind}#"}),
            Limit=limit,
        )
        if after:
            params["ExclusiveStartKey"] = _to_item(item_key(sub, kind, after))
        out = self.credentials.client(sub).query(**params)
        items = [_from_item(i) for i in out.get("Items", [])]
        last = out.get("LastEvaluatedKey")
        return items, (_DESER.deserialize(last["SK"]).split("#", 1)[1] if last else None)

    def replace(self, sub: str, kind: str, item_id: str, values: dict) -> dict | None:
        """Overwrite the item's fields (keeps id and createdAt); None when the user has no such item."""
        values = {**values, "updatedAt": _now()}
        names = {f"#f{i}": k for i, k in enumerate(values)}
        sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(values)))
        try:
            out = self.credentials.client(sub).update_item(
                TableName=self.table_name,
                Key=_to_item(item_key(sub, kind, item_id)),
                UpdateExpression=f"SET {sets}",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_to_item({f":v{i}": v for i, v in enumerate(values.values())}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise
        return _from_item(out["Attributes"])

    def delete(self, sub: str, kind: str, item_id: str) -> bool:
        try:
            self.credentials.client(sub).delete_item(
                TableName=self.table_name,
                Key=_to_item(item_key(sub, kind, item_id)),
                ConditionExpression="attribute_exists(PK)",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True
