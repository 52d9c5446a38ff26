"""Data and storage: S3 Bucket (+ the settings moto ignores), BucketPolicy, DynamoDB Table (+ PITR), Secret."""

from __future__ import annotations

import json
import secrets as _random
import string
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table as MotoTable
from moto.s3.models import FakeBucket, s3_backends
from moto.secretsmanager.models import secretsmanager_backends

from tmkit.emulator.adapters._base import Adapter, Ctx, tags_list

# ---------------------------------------------------------------------------------------------- S3


def _s3(account_id: str, region: str):
    return s3_backends[account_id][Ctx(account_id, region).partition]


def _lifecycle_rule(cfn: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "ID": cfn.get("Id") or "rule",
        "Status": cfn.get("Status", "Enabled"),
        "Filter": {"Prefix": cfn.get("Prefix", "")},
    }
    if cfn.get("ExpirationInDays"):
        rule["Expiration"] = {"Days": cfn["ExpirationInDays"]}
    if cfn.get("ExpiredObjectDeleteMarker") is not None:
        rule["Expiration"] = {"ExpiredObjectDeleteMarker": cfn["ExpiredObjectDeleteMarker"]}
    nve = cfn.get("NoncurrentVersionExpiration")
    if nve:
        rule["NoncurrentVersionExpiration"] = {
            k: v
            for k, v in (
                ("NoncurrentDays", nve.get("NoncurrentDays")),
                ("NewerNoncurrentVersions", nve.get("NewerNoncurrentVersions")),
            )
            if v
        }
    elif cfn.get("NoncurrentVersionExpirationInDays"):
        rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": cfn["NoncurrentVersionExpirationInDays"]}
    if cfn.get("AbortIncompleteMultipartUpload"):
        rule["AbortIncompleteMultipartUpload"] = cfn["AbortIncompleteMultipartUpload"]
    return rule


def apply_bucket_settings(account_id: str, region: str, bucket_name: str, props: dict[str, Any]) -> None:
    """What moto's CloudFormation ignores: versioning, lifecycle, public access block (set or cleared)."""
    backend = _s3(account_id, region)
    bucket = backend.get_bucket(bucket_name)
    status = (props.get("VersioningConfiguration") or {}).get("Status")
    if status:
        backend.put_bucket_versioning(bucket_name, status)
    elif bucket.versioning_status == "Enabled":
        backend.put_bucket_versioning(bucket_name, "Suspended")
    rules = (props.get("LifecycleConfiguration") or {}).get("Rules")
    if rules:
        backend.put_bucket_lifecycle(bucket_name, [_lifecycle_rule(r) for r in rules])
    elif bucket.rules:
        backend.delete_bucket_lifecycle(bucket_name)
    pab = props.get("PublicAccessBlockConfiguration")
    if pab:
        backend.put_public_access_block(bucket_name, pab)
    elif bucket.public_access_block is not None:
        backend.delete_public_access_block(bucket_name)


class Bucket(FakeBucket, CloudFormationModel):
    """moto's bucket, plus versioning, lifecycle and public access block from the template."""

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        bucket = super().create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        apply_bucket_settings(account_id, region_name, bucket.name, cloudformation_json.get("Properties") or {})
        return bucket

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        props = cloudformation_json.get("Properties") or {}
        props.setdefault("BucketName", original_resource.name)  # moto's update reads it for tags
        bucket = super().update_from_cloudformation_json(
            original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        apply_bucket_settings(account_id, region_name, bucket.name, props)
        return bucket


class BucketPolicy(Adapter, CloudFormationModel):
    """Stored as written (GetBucketPolicy returns it); see patches.py for how it is enforced."""

    CFN_TYPE = "AWS::S3::BucketPolicy"
    ATTRS = ("Id",)

    @classmethod
    def create(cls, ctx, name, props):
        _s3(ctx.account_id, ctx.region).put_bucket_policy(props["Bucket"], json.dumps(props["PolicyDocument"]).encode())
        return props["Bucket"], {"Id": props["Bucket"]}

    @classmethod
    def update(cls, resource, props):
        if props["Bucket"] != resource.physical_id:
            return super().update(resource, props)
        cls.create(resource.ctx, resource.name, props)
        return cls._updated_in_place(resource, props)

    @classmethod
    def remove(cls, resource):
        backend = _s3(resource.ctx.account_id, resource.ctx.region)
        if resource.physical_id in backend.buckets:
            backend.delete_bucket_policy(resource.physical_id)


# ---------------------------------------------------------------------------------------- DynamoDB


def _apply_pitr(account_id: str, region: str, table_name: str, props: dict[str, Any]) -> None:
    enabled = bool((props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"))
    dynamodb_backends[account_id][region].update_continuous_backups(table_name, {"PointInTimeRecoveryEnabled": enabled})


class Table(MotoTable, CloudFormationModel):
    """moto's table, plus point-in-time recovery, and an in-place update (moto has none)."""

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        table = super().create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        _apply_pitr(account_id, region_name, table.name, cloudformation_json.get("Properties") or {})
        return table

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        props = cloudformation_json.get("Properties") or {}
        if props.get("TableName", original_resource.name) != original_resource.name:
            raise ValueError("renaming a table replaces it; the emulator does not support that (delete the stack)")
        backend = dynamodb_backends[account_id][region_name]
        table = backend.get_table(original_resource.name)
        table.billing_mode = "PAY_PER_REQUEST" if props.get("BillingMode") == "PAY_PER_REQUEST" else "PROVISIONED"
        table.deletion_protection_enabled = props.get("DeletionProtectionEnabled", False)
        if "Tags" in props:
            table.tags = tags_list(props)
        _apply_pitr(account_id, region_name, table.name, props)
        return table


# ---------------------------------------------------------------------------------- Secrets Manager


def _secretsmanager(ctx: Ctx):
    return secretsmanager_backends[ctx.account_id][ctx.region]


def generate_secret_string(spec: dict[str, Any]) -> str:
    """GenerateSecretString: a random password, alone or inside SecretStringTemplate under GenerateStringKey."""
    chars = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        chars += "!#$%&()*+,-./:;<=>?@[]^_{|}~"
    chars = "".join(c for c in chars if c not in spec.get("ExcludeCharacters", ""))
    if spec.get("ExcludeUppercase"):
        chars = "".join(c for c in chars if not c.isupper())
    if spec.get("ExcludeLowercase"):
        chars = "".join(c for c in chars if not c.islower())
    if spec.get("ExcludeNumbers"):
        chars = "".join(c for c in chars if not c.isdigit())
    password = "".join(_random.choice(chars) for _ in range(int(spec.get("PasswordLength", 32))))
    if spec.get("SecretStringTemplate"):
        value = json.loads(spec["SecretStringTemplate"])
        value[spec["GenerateStringKey"]] = password
        return json.dumps(value)
    return password


class Secret(Adapter, CloudFormationModel):
    CFN_TYPE = "AWS::SecretsManager::Secret"
    NAME_PROP = "Name"
    ATTRS = ("Id",)

    @classmethod
    def create(cls, ctx, name, props):
        value = props.get("SecretString")
        if value is None:
            value = generate_secret_string(props.get("GenerateSecretString") or {})
        backend = _secretsmanager(ctx)
        backend.create_secret(
            name=name,
            secret_string=value,
            secret_binary=None,
            description=props.get("Description"),
            tags=tags_list(props),
            kms_key_id=props.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        arn = backend.secrets[name].arn
        return arn, {"Id": arn}

    @classmethod
    def update(cls, resource, props):
        if props.get("Name", resource.name) != resource.name:
            return super().update(resource, props)
        secret = _secretsmanager(resource.ctx).secrets[resource.name]
        secret.description = props.get("Description")
        secret.kms_key_id = props.get("KmsKeyId")
        secret.tags = tags_list(props)
        # A value written since (`inv secrets.put`) is kept: only a changed SecretString in the template
        # writes a new version, as on AWS. GenerateSecretString is not re-run.
        if "SecretString" in props and props["SecretString"] != resource.props.get("SecretString"):
            _secretsmanager(resource.ctx).put_secret_value(
                resource.name, props["SecretString"], None, None, ["AWSCURRENT"]
            )
        return cls._updated_in_place(resource, props)

    @classmethod
    def remove(cls, resource):
        store = _secretsmanager(resource.ctx).secrets
        if resource.name in store:
            store.pop(resource.name)
