"""Cognito user pool + app client, the REST API with a Cognito authorizer, and the API Lambda.

IAM: inline, least-privilege policies only. The Lambda's own role may write to its log group,
read exactly the declared secrets, and assume (with a ``sub`` session tag) the data-access role,
whose DynamoDB permissions are limited to the caller's partition via ``dynamodb:LeadingKeys``.
The Lambda's permissions live in a separate ``AWS::IAM::Policy`` so the data-access role can
trust the Lambda role without a circular dependency.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from tmkit.api_contract import ALLOWED_ORIGIN, ROUTES, function_environment

RUNTIME = lambda_.Runtime.PYTHON_3_14
STAGE = "api"
# The API function's memory (MB). benchmarks/lambda_memory.py reads it: 1,000 users must stay under half.
MEMORY_SIZE_MB = 256
ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
# The session tag the Lambda sets when assuming the data-access role (the caller's Cognito sub).
LEADING_KEYS_CONDITION = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["USER#${aws:PrincipalTag/sub}"]}}
CODE_EXCLUDES = ["**/__pycache__", "**/*.pyc", ".pytest_cache", "tests", ".env"]


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name_prefix: str,
        names: dict[str, str],
        environment_name: str,
        code_dir: Path,
        layer_dir: Path,
        table_arn: str,
        table_name: str,
        secret_arns: list[str],
        secrets_prefix: str,
        secret_keys: list[str],
        secret_max_age_seconds: int,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        region = Stack.of(self).region

        # ---- Cognito ---------------------------------------------------------------------
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=names["user_pool"],
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            deletion_protection=removal_policy != RemovalPolicy.DESTROY,
            removal_policy=removal_policy,
        )
        self.user_pool.node.default_child.override_logical_id("UserPool")
        self.client = self.user_pool.add_client(
            "WebClient",
            user_pool_client_name=names["user_pool_client"],
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True, admin_user_password=True),
            prevent_user_existence_errors=True,
            disable_o_auth=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        self.client.node.default_child.override_logical_id("UserPoolClient")

        # ---- Lambda: logs, roles, function -------------------------------------------------
        self.function_name = names["function"]
        self.log_group = _log_group(
            self, "FunctionLogs", log_retention_days, log_group_name=names["function_log_group"]
        )
        self.role = iam.Role(
            self,
            "FunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{name_prefix} API Lambda (logs, secrets, assume the data-access role)",
        )
        self.data_role = iam.Role(
            self,
            "DataAccessRole",
            assumed_by=iam.ArnPrincipal(self.role.role_arn).with_session_tags(),
            description=f"{name_prefix} per-user DynamoDB access (session tag sub)",
            max_session_duration=Duration.hours(1),
            inline_policies={
                "PerUserItems": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=list(ITEM_ACTIONS), resources=[table_arn], conditions=LEADING_KEYS_CONDITION
                        )
                    ]
                )
            },
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="AssumeDataAccessRole",
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[self.data_role.role_arn],
            )
        )
        if secret_arns:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadDeclaredSecrets", actions=["secretsmanager:GetSecretValue"], resources=list(secret_arns)
                )
            )

        layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description=f"{name_prefix} API dependencies (lambda/api/requirements.txt)",
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=self.function_name,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler="app.handler",
            code=lambda_.Code.from_asset(str(code_dir), exclude=CODE_EXCLUDES),
            layers=[layer],
            role=self.role,
            log_group=self.log_group,
            memory_size=MEMORY_SIZE_MB,
            timeout=Duration.seconds(10),
            # The names are defined once, in tmkit/api_contract.py (``inv local.serve`` sets the same ones).
            environment=function_environment(
                table_name=table_name,
                data_access_role_arn=self.data_role.role_arn,
                secrets_prefix=secrets_prefix,
                secret_keys=secret_keys,
                secret_max_age_seconds=secret_max_age_seconds,
                environment_name=environment_name,
            ),
        )

        # CDK makes the function depend on its role although `Role: GetAtt` already orders them.
        self.function.node.default_child.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})

        # ---- REST API --------------------------------------------------------------------
        # API Gateway logs through one account-wide (per region) role: set by the account stack that
        # `inv bootstrap` deploys (infra/account_stack.py), never by an environment's stack.
        self.access_logs = _log_group(self, "AccessLogs", log_retention_days)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=names["rest_api"],
            description=f"{name_prefix} API",
            cloud_watch_role=False,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # never log request/response bodies
                throttling_rate_limit=50,
                throttling_burst_limit=100,
            ),
        )
        # Execution logs: API Gateway would create this group itself, with no retention.
        execution_logs = _log_group(
            self,
            "ExecutionLogs",
            log_retention_days,
            log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{STAGE}",
        )
        self.rest_api.deployment_stage.node.add_dependency(execution_logs)

        validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[self.user_pool])
        integration = apigw.LambdaIntegration(self.function, allow_test_invoke=False)
        self.resources: list[apigw.Resource] = []
        # One resource per route of tmkit/api_contract.py (``inv local.serve`` routes with the same table).
        for route in ROUTES:
            resource = self.rest_api.root.resource_for_path(route.path)
            params = {f"method.request.path.{p.strip('{}')}": True for p in route.segments if p.startswith("{")}
            for method in route.methods:
                if route.public:
                    resource.add_method(method, integration, request_validator=validator)
                else:
                    resource.add_method(
                        method,
                        integration,
                        request_validator=validator,
                        request_parameters=params or None,
                        authorizer=authorizer,
                        authorization_type=apigw.AuthorizationType.COGNITO,
                    )
            self.resources.append(resource)
        self.api_origin = f"https://{self.rest_api.rest_api_id}.execute-api.{region}.amazonaws.com"
        self.cognito_origin = f"https://cognito-idp.{region}.amazonaws.com"

    def allow_browser_origin(self, origin: str) -> None:
        """Let the SPA at ``origin`` call the API: CORS preflight, CORS on gateway errors, ``ALLOWED_ORIGIN``."""
        for resource in self.resources:
            resource.add_cors_preflight(
                allow_origins=[origin],
                allow_headers=["Authorization", "Content-Type"],
                allow_methods=apigw.Cors.ALL_METHODS,
                max_age=Duration.hours(1),
            )
        for kind, rtype in (
            ("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
            ("Default5xx", apigw.ResponseType.DEFAULT_5_XX),
        ):
            self.rest_api.add_gateway_response(
                kind, type=rtype, response_headers={"Access-Control-Allow-Origin": f"'{origin}'", "Vary": "'Origin'"}
            )
        self.function.add_environment(ALLOWED_ORIGIN, origin)


def _log_group(scope: Construct, id: str, retention_days: int, **kwargs) -> logs.LogGroup:
    """A log group with retention in days (any CloudWatch value; the config validated it). Logs are not data:
    they go with the stack."""
    group = logs.LogGroup(
        scope, id, retention=logs.RetentionDays.INFINITE, removal_policy=RemovalPolicy.DESTROY, **kwargs
    )
    group.node.default_child.retention_in_days = retention_days
    return group
