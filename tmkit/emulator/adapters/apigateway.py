"""API Gateway: Stage, Authorizer, RequestValidator, GatewayResponse, Account; fixes to moto's RestApi, Method,
Deployment, Resource."""

from __future__ import annotations

import uuid

from moto.apigateway.models import Deployment as MotoDeployment
from moto.apigateway.models import Method as MotoMethod
from moto.apigateway.models import Resource as MotoResource
from moto.apigateway.models import RestAPI as MotoRestAPI
from moto.apigateway.models import apigateway_backends
from moto.core.common_models import CloudFormationModel

from tmkit.emulator.adapters._base import Adapter, Ctx, tags_dict


def _backend(account_id: str, region: str):
    return apigateway_backends[account_id][region]


def _api(ctx: Ctx, api_id: str):
    return _backend(ctx.account_id, ctx.region).get_rest_api(api_id)


def _forget(resource, collection: str, key) -> None:
    """Drop ``key`` from one of the owning REST API's collections (stages, authorizers, ...), if the API exists."""
    api = _backend(resource.ctx.account_id, resource.ctx.region).apis.get(resource.attrs["_ApiId"])
    if api is not None:
        getattr(api, collection).pop(key, None)


class RestApi(MotoRestAPI, CloudFormationModel):
    """moto's RestApi, which moto never deletes and cannot update."""

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        props = cloudformation_json.get("Properties") or {}
        original_resource.name = props.get("Name", original_resource.name)
        original_resource.description = props.get("Description", "")
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        _backend(account_id, region_name).apis.pop(resource_name, None)


class Method(MotoMethod, CloudFormationModel):
    """moto's Method keeps only type and integration; this keeps authorizer, validator, parameters too."""

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        backend = _backend(account_id, region_name)
        method = backend.put_method(
            function_id=props["RestApiId"],
            resource_id=props["ResourceId"],
            method_type=props["HttpMethod"],
            authorization_type=props.get("AuthorizationType", "NONE"),
            api_key_required=props.get("ApiKeyRequired"),
            request_parameters=props.get("RequestParameters"),
            request_models=props.get("RequestModels"),
            operation_name=props.get("OperationName"),
            authorizer_id=props.get("AuthorizerId"),
            authorization_scopes=props.get("AuthorizationScopes"),
            request_validator_id=props.get("RequestValidatorId"),
        )
        integration = props.get("Integration")
        if integration:
            backend.put_integration(
                function_id=props["RestApiId"],
                resource_id=props["ResourceId"],
                method_type=props["HttpMethod"],
                integration_type=integration["Type"],
                uri=integration.get("Uri"),
                integration_method=integration.get("IntegrationHttpMethod"),
                credentials=integration.get("Credentials"),
                request_templates=integration.get("RequestTemplates"),
                passthrough_behavior=integration.get("PassthroughBehavior"),
                timeout_in_millis=integration.get("TimeoutInMillis"),
                request_parameters=integration.get("RequestParameters"),
            )
        method.tm_location = (props["RestApiId"], props["ResourceId"], props["HttpMethod"])
        method.__class__ = cls  # the backend's object, with this class's delete()
        return method

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        cls._remove(original_resource, account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        """Reached through _remove only (moto passes no ids here)."""

    @property
    def physical_resource_id(self) -> str:
        return "-".join(self.tm_location)

    def delete(self, account_id: str, region_name: str) -> None:
        type(self)._remove(self, account_id, region_name)

    @staticmethod
    def _remove(method, account_id: str, region_name: str) -> None:
        api_id, resource_id, http_method = method.tm_location
        api = _backend(account_id, region_name).apis.get(api_id)
        if api is not None and resource_id in api.resources:
            api.resources[resource_id].resource_methods.pop(http_method, None)


class Deployment(MotoDeployment, CloudFormationModel):
    """moto's Deployment, with update (a new deployment, as on AWS) and delete."""

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        deployment = super().create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        deployment.tm_api_id = cloudformation_json["Properties"]["RestApiId"]
        deployment.__class__ = cls  # the backend's object, with a physical id for Ref and a delete()
        return deployment

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @property
    def physical_resource_id(self) -> str:
        return self.id

    def delete(self, account_id: str, region_name: str) -> None:
        api = _backend(account_id, region_name).apis.get(self.tm_api_id)
        if api is not None:
            api.deployments.pop(self.id, None)


class Stage(Adapter, CloudFormationModel):
    REMOVE_BEFORE_REPLACE = True
    CFN_TYPE = "AWS::ApiGateway::Stage"
    NAME_PROP = "StageName"

    @classmethod
    def create(cls, ctx, name, props):
        _api(ctx, props["RestApiId"]).create_stage(
            name=name,
            deployment_id=props.get("DeploymentId"),
            variables=props.get("Variables"),
            description=props.get("Description", ""),
            cacheClusterEnabled=props.get("CacheClusterEnabled"),
            cacheClusterSize=props.get("CacheClusterSize"),
            tags=tags_dict(props),
            tracing_enabled=props.get("TracingEnabled"),
        )
        return name, {"_ApiId": props["RestApiId"]}

    @classmethod
    def remove(cls, resource):
        _forget(resource, "stages", resource.physical_id)


class Authorizer(Adapter, CloudFormationModel):
    CFN_TYPE = "AWS::ApiGateway::Authorizer"
    ATTRS = ("AuthorizerId",)

    @classmethod
    def create(cls, ctx, name, props):
        api = _api(ctx, props["RestApiId"])
        authorizer_id = uuid.uuid4().hex[:6]
        api.create_authorizer(
            authorizer_id=authorizer_id,
            name=props.get("Name", name),
            authorizer_type=props["Type"],
            provider_arns=props.get("ProviderARNs"),
            auth_type=props.get("AuthType"),
            authorizer_uri=props.get("AuthorizerUri"),
            authorizer_credentials=props.get("AuthorizerCredentials"),
            identity_source=props.get("IdentitySource"),
            identiy_validation_expression=props.get("IdentityValidationExpression"),
            authorizer_result_ttl=props.get("AuthorizerResultTtlInSeconds", 300),
        )
        return authorizer_id, {"AuthorizerId": authorizer_id, "_ApiId": props["RestApiId"]}

    @classmethod
    def update(cls, resource, props):
        if props["RestApiId"] != resource.attrs["_ApiId"]:
            return super().update(resource, props)
        authorizer = _api(resource.ctx, resource.attrs["_ApiId"]).authorizers[resource.physical_id]
        for key, attr in (
            ("Name", "name"),
            ("Type", "type"),
            ("ProviderARNs", "provider_arns"),
            ("IdentitySource", "identity_source"),
            ("AuthorizerUri", "authorizer_uri"),
        ):
            if key in props and hasattr(authorizer, attr):
                setattr(authorizer, attr, props[key])
        return cls._updated_in_place(resource, props)

    @classmethod
    def remove(cls, resource):
        _forget(resource, "authorizers", resource.physical_id)


class RequestValidator(Adapter, CloudFormationModel):
    REMOVE_BEFORE_REPLACE = True
    CFN_TYPE = "AWS::ApiGateway::RequestValidator"
    ATTRS = ("RequestValidatorId",)

    @classmethod
    def create(cls, ctx, name, props):
        validator = _api(ctx, props["RestApiId"]).create_request_validator(
            name=props.get("Name", name),
            validateRequestBody=props.get("ValidateRequestBody", False),
            validateRequestParameters=props.get("ValidateRequestParameters", False),
        )
        return validator.id, {"RequestValidatorId": validator.id, "_ApiId": props["RestApiId"]}

    @classmethod
    def remove(cls, resource):
        _forget(resource, "request_validators", resource.physical_id)


class GatewayResponse(Adapter, CloudFormationModel):
    REMOVE_BEFORE_REPLACE = True
    CFN_TYPE = "AWS::ApiGateway::GatewayResponse"

    @classmethod
    def create(cls, ctx, name, props):
        _api(ctx, props["RestApiId"]).put_gateway_response(
            response_type=props["ResponseType"],
            status_code=props.get("StatusCode"),
            response_parameters=props.get("ResponseParameters"),
            response_templates=props.get("ResponseTemplates"),
        )
        return f"{props['RestApiId']}-{props['ResponseType']}", {
            "_ApiId": props["RestApiId"],
            "_Type": props["ResponseType"],
        }

    @classmethod
    def remove(cls, resource):
        _forget(resource, "gateway_responses", resource.attrs["_Type"])


class Account(Adapter, CloudFormationModel):
    """The per-region API Gateway settings (CloudWatch role). Deleting it leaves the setting, as on AWS."""

    CFN_TYPE = "AWS::ApiGateway::Account"

    @classmethod
    def create(cls, ctx, name, props):
        if props.get("CloudWatchRoleArn"):
            _backend(ctx.account_id, ctx.region).update_account(
                [{"op": "replace", "path": "/cloudwatchRoleArn", "value": props["CloudWatchRoleArn"]}]
            )
        return f"{name}-{uuid.uuid4().hex[:8]}", {}

    @classmethod
    def update(cls, resource, props):
        cls.create(resource.ctx, resource.name, props)
        return cls._updated_in_place(resource, props)


class Resource(MotoResource, CloudFormationModel):
    """moto's resource (path part), with update: a changed path is a new resource, as on AWS."""

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        props = cloudformation_json["Properties"]
        if props["PathPart"] == original_resource.path_part:
            return original_resource
        new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        api = _backend(account_id, region_name).apis.get(original_resource.api_id)
        if api is not None:
            api.resources.pop(original_resource.id, None)
        return new
