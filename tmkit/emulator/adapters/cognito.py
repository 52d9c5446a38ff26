"""Cognito: UserPool and UserPoolClient, created in moto's cognito-idp backend (real ids, JWKS, tokens)."""

from __future__ import annotations

from moto.cognitoidp.models import cognitoidp_backends
from moto.core.common_models import CloudFormationModel

from tmkit.emulator.adapters._base import Adapter, Ctx


def _backend(ctx: Ctx):
    return cognitoidp_backends[ctx.account_id][ctx.region]


def _pool_config(props: dict) -> dict:
    return {k: v for k, v in props.items() if k != "UserPoolName"}


class UserPool(Adapter, CloudFormationModel):
    CFN_TYPE = "AWS::Cognito::UserPool"
    NAME_PROP = "UserPoolName"
    ATTRS = ("Arn", "ProviderName", "ProviderURL", "UserPoolId")

    @classmethod
    def create(cls, ctx, name, props):
        pool = _backend(ctx).create_user_pool(name, _pool_config(props))
        provider = f"cognito-idp.{ctx.region}.amazonaws.com/{pool.id}"
        return pool.id, {
            "Arn": pool.arn,
            "ProviderName": provider,
            "ProviderURL": f"https://{provider}",
            "UserPoolId": pool.id,
        }

    @classmethod
    def update(cls, resource, props):
        pool = _backend(resource.ctx).describe_user_pool(resource.physical_id)
        pool.name = props.get("UserPoolName", pool.name)
        _backend(resource.ctx).update_user_pool(resource.physical_id, _pool_config(props))
        return cls._updated_in_place(resource, props)

    @classmethod
    def remove(cls, resource):
        _backend(resource.ctx).user_pools.pop(resource.physical_id, None)


class UserPoolClient(Adapter, CloudFormationModel):
    CFN_TYPE = "AWS::Cognito::UserPoolClient"
    NAME_PROP = "ClientName"
    ATTRS = ("ClientId", "ClientSecret", "Name")

    @staticmethod
    def _config(name: str, props: dict) -> dict:
        cfg = {k: v for k, v in props.items() if k not in ("UserPoolId", "GenerateSecret")}
        cfg["ClientName"] = props.get("ClientName", name)
        return cfg

    @classmethod
    def create(cls, ctx, name, props):
        client = _backend(ctx).create_user_pool_client(
            props["UserPoolId"], bool(props.get("GenerateSecret")), cls._config(name, props)
        )
        return client.id, {
            "ClientId": client.id,
            "ClientSecret": client.secret if client.generate_secret else "",
            "Name": client.extended_config.get("ClientName", name),
            "_PoolId": props["UserPoolId"],
        }

    @classmethod
    def update(cls, resource, props):
        if props["UserPoolId"] != resource.attrs["_PoolId"] or bool(props.get("GenerateSecret")) != bool(
            resource.props.get("GenerateSecret")
        ):
            return super().update(resource, props)  # CloudFormation replaces the client
        _backend(resource.ctx).update_user_pool_client(
            resource.attrs["_PoolId"], resource.physical_id, cls._config(resource.name, props)
        )
        return cls._updated_in_place(resource, props)

    @classmethod
    def remove(cls, resource):
        pool = _backend(resource.ctx).user_pools.get(resource.attrs["_PoolId"])
        if pool is not None:
            pool.clients.pop(resource.physical_id, None)
