"""CloudFront: Distribution, OriginAccessControl, Function, and the policies moto has no API for."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from moto.cloudfront.models import cloudfront_backends
from moto.core.common_models import CloudFormationModel

from tmkit.emulator.adapters._base import Adapter, Ctx, tags_list


def _backend(ctx: Ctx):
    return cloudfront_backends[ctx.account_id][ctx.partition]


def _items(values: list | None) -> dict[str, Any]:
    values = list(values or [])
    return {"Quantity": len(values), "Items": values} if values else {"Quantity": 0}


def _behavior(cfn: dict[str, Any]) -> dict[str, Any]:
    out = dict(cfn)
    allowed = out.pop("AllowedMethods", None) or ["GET", "HEAD"]
    cached = out.pop("CachedMethods", None) or ["GET", "HEAD"]
    out["AllowedMethods"] = {**_items(allowed), "CachedMethods": _items(cached)}
    out["FunctionAssociations"] = _items(out.get("FunctionAssociations"))
    out["LambdaFunctionAssociations"] = _items(out.get("LambdaFunctionAssociations"))
    return out


def _origin(cfn: dict[str, Any]) -> dict[str, Any]:
    out = dict(cfn)
    custom = out.get("CustomOriginConfig")
    if custom:
        custom = dict(custom)
        custom["OriginSslProtocols"] = _items(custom.pop("OriginSSLProtocols", None))
        out["CustomOriginConfig"] = custom
    if "OriginCustomHeaders" in out:
        out["CustomHeaders"] = _items(out.pop("OriginCustomHeaders"))
    return out


def distribution_config_to_api(cfn: dict[str, Any], caller_reference: str) -> dict[str, Any]:
    """CloudFormation's DistributionConfig (plain lists) -> the API's (Quantity/Items) shape moto stores."""
    cfg = {
        k: v
        for k, v in cfn.items()
        if k
        not in (
            "Origins",
            "DefaultCacheBehavior",
            "CacheBehaviors",
            "CustomErrorResponses",
            "Aliases",
            "IPV6Enabled",
            "Restrictions",
        )
    }
    cfg["CallerReference"] = caller_reference
    cfg.setdefault("Comment", "")
    cfg["Origins"] = {"Quantity": len(cfn.get("Origins", [])), "Items": [_origin(o) for o in cfn.get("Origins", [])]}
    cfg["DefaultCacheBehavior"] = _behavior(cfn.get("DefaultCacheBehavior", {}))
    if cfn.get("CacheBehaviors"):
        cfg["CacheBehaviors"] = _items([_behavior(b) for b in cfn["CacheBehaviors"]])
    if cfn.get("CustomErrorResponses"):
        cfg["CustomErrorResponses"] = _items(cfn["CustomErrorResponses"])
    if cfn.get("Aliases"):
        cfg["Aliases"] = _items(cfn["Aliases"])
    if "IPV6Enabled" in cfn:
        cfg["IsIPV6Enabled"] = cfn["IPV6Enabled"]
    geo = (cfn.get("Restrictions") or {}).get("GeoRestriction")
    if geo:
        cfg["Restrictions"] = {
            "GeoRestriction": {"RestrictionType": geo.get("RestrictionType", "none"), "Items": geo.get("Locations", [])}
        }
    return cfg


def _keep_associations(dist, api_cfg: dict[str, Any]) -> None:
    """moto resets function associations to none; keep what the template says."""
    dcb = dist.distribution_config.DefaultCacheBehavior
    dcb.function_associations = api_cfg["DefaultCacheBehavior"]["FunctionAssociations"]
    dcb.lambda_function_associations = api_cfg["DefaultCacheBehavior"]["LambdaFunctionAssociations"]


class Distribution(Adapter, CloudFormationModel):
    CFN_TYPE = "AWS::CloudFront::Distribution"
    ATTRS = ("Id", "DomainName")

    @classmethod
    def create(cls, ctx, name, props):
        api_cfg = distribution_config_to_api(props["DistributionConfig"], caller_reference=str(uuid.uuid4()))
        dist, _, _ = _backend(ctx).create_distribution_with_tags(copy.deepcopy(api_cfg), tags_list(props))
        _keep_associations(dist, api_cfg)
        return dist.distribution_id, {
            "Id": dist.distribution_id,
            "DomainName": dist.domain_name,
            "_CallerReference": api_cfg["CallerReference"],
        }

    @classmethod
    def update(cls, resource, props):
        api_cfg = distribution_config_to_api(props["DistributionConfig"], resource.attrs["_CallerReference"])
        dist, _, _ = _backend(resource.ctx).update_distribution(
            copy.deepcopy(api_cfg), resource.physical_id, if_match=True
        )
        _keep_associations(dist, api_cfg)
        return cls._updated_in_place(resource, props)

    @classmethod
    def remove(cls, resource):
        _backend(resource.ctx).distributions.pop(resource.physical_id, None)


class OriginAccessControl(Adapter, CloudFormationModel):
    CFN_TYPE = "AWS::CloudFront::OriginAccessControl"
    ATTRS = ("Id",)

    @classmethod
    def create(cls, ctx, name, props):
        oac = _backend(ctx).create_origin_access_control(dict(props["OriginAccessControlConfig"]))
        return oac.id, {"Id": oac.id}

    @classmethod
    def update(cls, resource, props):
        _backend(resource.ctx).update_origin_access_control(
            resource.physical_id, dict(props["OriginAccessControlConfig"])
        )
        return cls._updated_in_place(resource, props)

    @classmethod
    def remove(cls, resource):
        _backend(resource.ctx).origin_access_controls.pop(resource.physical_id, None)


class Function(Adapter, CloudFormationModel):
    CFN_TYPE = "AWS::CloudFront::Function"
    NAME_PROP = "Name"
    ATTRS = ("FunctionARN", "FunctionMetadata.FunctionARN", "Stage")

    @classmethod
    def create(cls, ctx, name, props):
        fn = _backend(ctx).create_function(
            name, dict(props.get("FunctionConfig") or {}), props.get("FunctionCode", "").encode(), []
        )
        if props.get("AutoPublish"):
            fn.stage, fn.status = "LIVE", "DEPLOYED"
        return fn.arn, {"FunctionARN": fn.arn, "FunctionMetadata.FunctionARN": fn.arn, "Stage": fn.stage}

    @classmethod
    def update(cls, resource, props):
        if props.get("Name", resource.name) != resource.name:
            return super().update(resource, props)
        fn = _backend(resource.ctx).describe_function(resource.name)
        fn.config = dict(props.get("FunctionConfig") or {})
        fn.code = props.get("FunctionCode", "").encode()
        return cls._updated_in_place(resource, props)

    @classmethod
    def remove(cls, resource):
        _backend(resource.ctx).functions.pop(resource.name, None)


class _IdOnly(Adapter):
    """A type with no API in moto: it gets a real-looking id that stays stable across updates."""

    @classmethod
    def create(cls, ctx, name, props):
        rid = str(uuid.uuid4())
        return rid, {"Id": rid, "LastModifiedTime": "2024-01-01T00:00:00Z"}

    @classmethod
    def update(cls, resource, props):
        return cls._updated_in_place(resource, props)


class CachePolicy(_IdOnly, CloudFormationModel):
    CFN_TYPE = "AWS::CloudFront::CachePolicy"
    ATTRS = ("Id", "LastModifiedTime")


class ResponseHeadersPolicy(_IdOnly, CloudFormationModel):
    CFN_TYPE = "AWS::CloudFront::ResponseHeadersPolicy"
    ATTRS = ("Id", "LastModifiedTime")


class OriginRequestPolicy(_IdOnly, CloudFormationModel):
    CFN_TYPE = "AWS::CloudFront::OriginRequestPolicy"
    ATTRS = ("Id", "LastModifiedTime")
