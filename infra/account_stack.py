"""AccountStack: the settings that exist once per AWS account and region, not per environment.

``AWS::ApiGateway::Account`` (the CloudWatch role API Gateway logs through) is one setting per account and
region: an environment's stack that owned it would overwrite the others' and leave a role behind when
destroyed. ``inv bootstrap`` deploys this stack (``<project>-account``) after the CDK bootstrap, so every
environment's API can log and destroying an environment leaves nothing behind (docs/deploying.md,
"The account stack"). It is account-agnostic: it lands in the account of the credentials that deploy it.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import ArnFormat
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct

from tmkit.config import EnvConfig


class AccountStack(cdk.Stack):
    def __init__(self, scope: Construct, cfg: EnvConfig) -> None:
        super().__init__(
            scope,
            cfg.account_stack_id,
            stack_name=cfg.account_stack_name,
            env=cdk.Environment(region=cfg.region),
            description=f"{cfg.project}: per account and region settings (API Gateway CloudWatch logging role)",
            analytics_reporting=False,
        )
        self.cloudwatch_role = iam.Role(
            self,
            "ApiGatewayCloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway account logging role (every API in this account and region logs through it)",
            inline_policies={
                "PushLogs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=[
                                "logs:CreateLogGroup",
                                "logs:CreateLogStream",
                                "logs:DescribeLogGroups",
                                "logs:DescribeLogStreams",
                                "logs:PutLogEvents",
                                "logs:GetLogEvents",
                                "logs:FilterLogEvents",
                            ],
                            resources=[
                                self.format_arn(
                                    service="logs",
                                    resource="log-group",
                                    resource_name="*",
                                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                                )
                            ],
                        )
                    ]
                )
            },
        )
        self.api_gateway_account = apigw.CfnAccount(
            self, "ApiGatewayAccount", cloud_watch_role_arn=self.cloudwatch_role.role_arn
        )
        cdk.Tags.of(self).add("project-name", cfg.project)
        cdk.Tags.of(self).add("managed-by", "cdk")
        cdk.CfnOutput(self, "ApiGatewayCloudWatchRoleArn", value=self.cloudwatch_role.role_arn)
