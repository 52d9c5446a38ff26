"""Per-user data access: the only module that talks to DynamoDB.

Every call runs with credentials of the data-access role, assumed with the session tag
``sub=<caller's sub>``; that role may only touch items whose partition key is
``USER#${aws:PrincipalTag/sub}`` (``dynamodb:LeadingKeys``). So even a bug here that built the
wrong key would be refused by IAM. Keys are built in one place (``item_key``/``partition``),
from the verified ``sub`` the route passes in; nothing here reads the request.

Credentials are cached per user in the warm container, and every call goes through one shared
DynamoDB client signed with the caller's credentials: see ``tm_api.credentials``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from tm_api.credentials import SUB_RE, UserCredentials, session_name  # noqa: F401  (session_name: re-exported)

_SER, _DESER = TypeSerializer(), TypeDeserializer()
_HIDDEN = ("PK", "SK")


def partition(sub: str) -> str:
    if not SUB_RE.fullmatch(sub or ""):
        raise ValueError("not a valid subject identifier")
    return f"USER#{sub}"


def item_key(sub: str, kind: str, item_id: str) -> dict:
    return {"PK": partition(sub), "SK": f"{kind}#{item_id}"}


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
