"""TimeManagementStack: maps one EnvConfig onto the constructs, tags everything, exports the outputs."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from infra.components.api import Api
from infra.components.app_secrets import AppSecrets
from infra.components.cost_guardrails import CostGuardrails
from infra.components.data_table import DataTable
from infra.components.frontend_hosting import FrontendHosting
from tmkit import naming
from tmkit.config import EnvConfig
from tmkit.paths import LAMBDA_DIR

# "retain": DeletionPolicy RetainExceptOnCreate + UpdateReplacePolicy Retain. Kept on every later update or
# delete, but a failed *first* create rolls back cleanly, so the retry does not stop at "already exists"
# (docs/deploying.md, "Retained resources").
REMOVAL = {"retain": cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, "destroy": cdk.RemovalPolicy.DESTROY}


def bucket_name(cfg: EnvConfig, account: str) -> str:
    """``timemanagement-<env>-frontend-<account>-<region>``, fitted to 63 characters (tmkit/naming.py)."""
    return naming.bucket_name(cfg.project, cfg.name, account, cfg.region)


class TimeManagementStack(cdk.Stack):
    def __init__(self, scope: Construct, cfg: EnvConfig, *, layer_dir: Path, code_dir: Path = LAMBDA_DIR) -> None:
        account = cfg.expected_account
        super().__init__(
            scope,
            cfg.stack_name,
            stack_name=cfg.stack_name,
            env=cdk.Environment(account=account, region=cfg.region),
            description=f"{cfg.project} {cfg.name}: data table, frontend hosting, API, secrets, cost guardrails",
            analytics_reporting=False,
        )
        self.cfg = cfg
        removal = REMOVAL[cfg.removal_policy]
        prefix = cfg.stack_name
        names = naming.resource_names(prefix)

        self.data = DataTable(self, "Data", table_name=cfg.table_name, pitr=cfg.pitr, removal_policy=removal)
        self.secrets = AppSecrets(
            self, "Secrets", names={k: cfg.secret_name(k) for k in cfg.secrets}, removal_policy=removal
        )
        self.api = Api(
            self,
            "Api",
            name_prefix=prefix,
            names=names,
            environment_name=cfg.name,
            code_dir=code_dir,
            layer_dir=layer_dir,
            table_arn=self.data.table.table_arn,
            table_name=self.data.table.table_name,
            secret_arns=self.secrets.arns,
            secrets_prefix=cfg.secret_name(""),
            secret_keys=list(cfg.secrets),
            secret_max_age_seconds=cfg.secret_cache_seconds,
            log_retention_days=cfg.log_retention_days,
            removal_policy=removal,
        )
        self.hosting = FrontendHosting(
            self,
            "Frontend",
            bucket_name=bucket_name(cfg, account or cdk.Aws.ACCOUNT_ID),
            name_prefix=prefix,
            names=names,
            price_class=cfg.price_class,
            removal_policy=removal,
            connect_sources=[self.api.api_origin, self.api.cognito_origin],
        )
        self.api.allow_browser_origin(self.hosting.site_url)
        self.cost = CostGuardrails(
            self,
            "Cost",
            names=names,
            environment_name=cfg.name,
            monthly_limit_usd=cfg.budget.monthly_limit_usd,
            emails=list(cfg.budget.emails),
            anomaly_monitor=cfg.budget.anomaly_monitor,
        )

        for key, value in (("project-name", cfg.project), ("environment", cfg.name), ("managed-by", "cdk")):
            cdk.Tags.of(self).add(key, value)
        for key, value in cfg.extra_tags:  # a preview's: preview, preview-of, expires-at, git-* (tmkit/preview.py)
            cdk.Tags.of(self).add(key, value)

        outputs = {
            "ApiUrl": (self.api.rest_api.url, "API base URL (stage api)"),
            "UserPoolId": (self.api.user_pool.user_pool_id, "Cognito user pool id"),
            "UserPoolClientId": (self.api.client.user_pool_client_id, "Cognito app client id (no secret)"),
            "Region": (self.region, "AWS region of this environment"),
            "DistributionId": (self.hosting.distribution.distribution_id, "CloudFront distribution id"),
            "DistributionDomainName": (self.hosting.distribution.distribution_domain_name, "CloudFront domain"),
            "SiteUrl": (self.hosting.site_url, "URL of the SPA"),
            "FrontendBucketName": (self.hosting.bucket.bucket_name, "S3 bucket holding the SPA build"),
            "TableName": (self.data.table.table_name, "DynamoDB table"),
            "SecretNames": (
                ",".join(cfg.secret_name(k) for k in cfg.secrets),
                "Secrets Manager names, comma-separated",
            ),
            "DataAccessRoleArn": (self.api.data_role.role_arn, "Role the API assumes per user (LeadingKeys)"),
            "ApiFunctionName": (self.api.function.function_name, "API Lambda function name"),
            "ApiLogGroupName": (self.api.log_group.log_group_name, "API Lambda log group (inv logs)"),
            "ApiAccessLogGroupName": (self.api.access_logs.log_group_name, "API Gateway access log group (inv logs)"),
            "EnvironmentName": (cfg.name, "Environment name (envs/<name>.toml)"),
        }
        for logical_id, (value, description) in outputs.items():
            cdk.CfnOutput(self, logical_id, value=value, description=description)
