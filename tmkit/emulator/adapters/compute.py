"""Lambda layer versions, permissions and log groups: moto has them, but without Ref ids or updates."""

from __future__ import annotations

import json

from moto.awslambda.models import LayerVersion as MotoLayerVersion
from moto.awslambda.models import lambda_backends
from moto.core.common_models import CloudFormationModel
from moto.logs.models import LogGroup as MotoLogGroup
from moto.logs.models import logs_backends

from tmkit.emulator.adapters._base import Adapter


class LayerVersion(MotoLayerVersion, CloudFormationModel):
    """moto's layer version, named by LayerName, with its ARN as Ref; an update publishes a new version."""

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        name = props.get("LayerName") or resource_name
        layer_version = super().create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
        layer_version.__class__ = cls
        return layer_version

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        new = cls.create_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
        original_resource.delete(account_id, region_name)
        return new

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            lambda_backends[account_id][region_name].delete_layer_version(self.name, str(self.version))
        except Exception:  # noqa: BLE001 - already gone
            pass


class LogGroup(MotoLogGroup, CloudFormationModel):
    """moto's log group, with an in-place update of the retention."""

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        days = (cloudformation_json.get("Properties") or {}).get("RetentionInDays")
        logs_backends[account_id][region_name].put_retention_policy(original_resource.name, days)
        return original_resource


class Permission(Adapter, CloudFormationModel):
    """A Lambda resource-policy statement, with a Ref id, update and delete (moto's has none)."""

    REMOVE_BEFORE_REPLACE = True
    CFN_TYPE = "AWS::Lambda::Permission"

    @classmethod
    def create(cls, ctx, name, props):
        sid = name[-64:]
        fn = lambda_backends[ctx.account_id][ctx.region].get_function(props["FunctionName"])
        fn.policy.add_statement(raw=json.dumps({**props, "StatementId": sid}))
        return sid, {"_Function": props["FunctionName"]}

    @classmethod
    def remove(cls, resource):
        try:
            fn = lambda_backends[resource.ctx.account_id][resource.ctx.region].get_function(resource.attrs["_Function"])
            fn.policy.del_statement(resource.physical_id)
        except Exception:  # noqa: BLE001 - function or statement already gone
            pass
