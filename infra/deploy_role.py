"""DeployRoleStack: the opt-in stack with the IAM roles GitHub Actions assumes through OIDC (no stored keys).

Not part of any environment's stack: a team deploys it once per AWS account, with administrator
credentials, after ``inv bootstrap`` of each environment (the roles it creates cannot bootstrap).
Every name in it (stacks, buckets, regions) comes from the listed env files, through the same
config and naming code as the environments' own stacks.

Two roles, because a reviewer must see the prod diff *before* approving the deploy:
- DeployRole: trusted only by workflow jobs that run in one of the listed GitHub environments
  (``sub`` = ``repo:<owner/repo>:environment:<env>``), where required reviewers guard qa and prod.
  It may assume the CDK bootstrap deploy/file-publishing/lookup roles (CloudFormation does the
  deploying with its execution role) and do what the toolkit's own boto3 calls need around a deploy:
  read the stacks and their events and the bootstrap version, publish to the frontend buckets,
  invalidate the CDN.
- DiffRole: read-only preview, trusted by jobs without an environment on one branch
  (``sub`` = ``repo:<owner/repo>:ref:refs/heads/<branch>``): it may assume only the CDK lookup role
  (read-only), read the bootstrap version and the stacks' deployed templates (the stateful-resource guard),
  which is all ``inv diff`` needs. So the prod diff job
  runs before, and without, the prod approval, and still cannot change anything.

No IAM action is wildcarded. Resources are exact ARNs except three kinds, acknowledged below with
their reasons (cdk-nag AwsSolutions-IAM5): each stack's id suffix, the objects of each frontend
bucket, the CloudFront distributions (ids known only after a deploy).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.stack import bucket_name  # the environments' own naming, one place
from tmkit import naming
from tmkit.config import load_env
from tmkit.errors import ToolkitError
from tmkit.lifecycle import BOOTSTRAP_PARAM

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"
STACK_ID = "TimeManagementDeployRole"
BOOTSTRAP_QUALIFIER = BOOTSTRAP_PARAM.split("/")[2]  # "hnb659fds", the CDK default
_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")  # no '*' or '?': the trust uses StringLike


class DeployRoleStack(cdk.Stack):
    """OIDC provider (or an existing one), DeployRole and DiffRole; outputs both role ARNs.

    ``environments`` are names of env files: their stack names, bucket names and regions come from
    the same config and naming code as the environments' own stacks.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str = STACK_ID,
        *,
        github_repo: str,
        environments: Sequence[str],
        diff_branch: str = "main",
        oidc_provider_arn: str | None = None,
        **kwargs,
    ) -> None:
        if not _REPO.match(github_repo or ""):
            raise ToolkitError(
                f"deploy_role {github_repo!r} is not a GitHub repository: pass it as owner/repo, "
                "e.g. `-c deploy_role=my-org/time-management`."
            )
        if not environments or not all(_NAME.match(e) for e in environments):
            raise ToolkitError(
                f"deploy role environments {list(environments)!r} are not valid: list one or more "
                "environment names (letters, digits, '.', '_', '-'; no wildcards)."
            )
        if not _NAME.match(diff_branch):
            raise ToolkitError(f"diff branch {diff_branch!r} is not a plain branch name: pass e.g. 'main'.")
        configs = [load_env(name) for name in environments]
        local = [c.name for c in configs if c.is_local]
        projects = {c.project for c in configs}
        if local or len(projects) != 1:
            raise ToolkitError(
                f"deploy role environments {list(environments)!r} must be AWS environments of one "
                "project (no emulator environment such as 'local'): list only those."
            )
        project = projects.pop()
        kwargs.setdefault(
            "description",
            f"{project}: IAM roles GitHub Actions assumes through OIDC "
            f"({github_repo}; environments {', '.join(environments)})",
        )
        kwargs.setdefault("analytics_reporting", False)
        super().__init__(scope, construct_id, **kwargs)

        if oidc_provider_arn is None:
            # L1 on purpose: iam.OpenIdConnectProvider is a custom resource (a Lambda), not allowed here.
            # No thumbprint: IAM trusts GitHub's OIDC endpoint through its own CA library.
            provider = iam.CfnOIDCProvider(
                self, "GitHubOidcProvider", url=GITHUB_OIDC_URL, client_id_list=[STS_AUDIENCE]
            )
            oidc_provider_arn = provider.attr_arn

        def github_principal(subjects: list[str]) -> iam.WebIdentityPrincipal:
            return iam.WebIdentityPrincipal(
                oidc_provider_arn,
                conditions={
                    "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE},
                    "StringLike": {f"{GITHUB_OIDC_HOST}:sub": subjects},
                },
            )

        regions = sorted({c.region for c in configs})

        def cdk_roles(*kinds: str) -> list[str]:  # the bootstrap roles, in each region the environments use
            return [
                self.format_arn(
                    service="iam",
                    region="",
                    resource="role",
                    resource_name=f"cdk-{BOOTSTRAP_QUALIFIER}-{kind}-role-{self.account}-{region}",
                )
                for kind in kinds
                for region in regions
            ]

        read_bootstrap = iam.PolicyStatement(
            sid="ReadBootstrapVersion",
            actions=["ssm:GetParameter"],
            resources=[
                self.format_arn(
                    service="ssm", region=region, resource="parameter", resource_name=BOOTSTRAP_PARAM.lstrip("/")
                )
                for region in regions
            ],
        )

        self.deploy_role = iam.Role(
            self,
            "DeployRole",
            assumed_by=github_principal([f"repo:{github_repo}:environment:{c.name}" for c in configs]),
            description=f"GitHub Actions deploys of {project} ({', '.join(environments)}) from {github_repo}",
            max_session_duration=cdk.Duration.hours(1),
        )
        stacks = [
            self.format_arn(
                service="cloudformation", region=c.region, resource="stack", resource_name=f"{c.stack_name}/*"
            )
            for c in configs
        ]
        buckets = [f"arn:{self.partition}:s3:::{bucket_name(c, self.account)}" for c in configs]
        objects = [f"{bucket}/*" for bucket in buckets]
        distributions = self.format_arn(service="cloudfront", region="", resource="distribution", resource_name="*")
        for statement in (
            iam.PolicyStatement(
                sid="UseCdkBootstrapRoles",
                actions=["sts:AssumeRole"],
                resources=cdk_roles("deploy", "file-publishing", "lookup"),
            ),
            read_bootstrap,
            iam.PolicyStatement(
                sid="ReadStacks",
                # GetTemplate: the stateful-resource guard compares the deployed template (tmkit/guard.py)
                actions=[
                    "cloudformation:DescribeStacks",
                    "cloudformation:DescribeStackEvents",
                    "cloudformation:GetTemplate",
                ],
                resources=stacks,
            ),
            iam.PolicyStatement(sid="ListFrontendBuckets", actions=["s3:ListBucket"], resources=buckets),
            iam.PolicyStatement(
                sid="PublishFrontend", actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources=objects
            ),
            iam.PolicyStatement(
                sid="InvalidateCdn",
                actions=["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation", "cloudfront:ListInvalidations"],
                resources=[distributions],
            ),
        ):
            self.deploy_role.add_to_policy(statement)
        preview_reasons = self._allow_previews([c for c in configs if c.preview is not None])

        self.diff_role = iam.Role(
            self,
            "DiffRole",
            assumed_by=github_principal([f"repo:{github_repo}:ref:refs/heads/{diff_branch}"]),
            description=f"GitHub Actions read-only `inv diff` of {project} from {github_repo} ({diff_branch})",
            max_session_duration=cdk.Duration.hours(1),
        )
        self.diff_role.add_to_policy(
            iam.PolicyStatement(sid="UseCdkLookupRole", actions=["sts:AssumeRole"], resources=cdk_roles("lookup"))
        )
        self.diff_role.add_to_policy(read_bootstrap)
        self.diff_role.add_to_policy(
            iam.PolicyStatement(sid="ReadTemplates", actions=["cloudformation:GetTemplate"], resources=stacks)
        )

        cdk.CfnOutput(
            self,
            "DeployRoleArn",
            value=self.deploy_role.role_arn,
            description="GitHub variable AWS_DEPLOY_ROLE_ARN (deploy jobs, per environment or repository)",
        )
        cdk.CfnOutput(
            self,
            "DiffRoleArn",
            value=self.diff_role.role_arn,
            description="GitHub repository variable AWS_DIFF_ROLE_ARN (the prod diff job)",
        )
        cdk.Tags.of(self).add("project-name", project)
        cdk.Tags.of(self).add("managed-by", "cdk")
        stack_reason = (
            "DescribeStacks/DescribeStackEvents/GetTemplate of this one environment's stack: the ARN ends in the "
            "stack's id, which CloudFormation assigns at creation."
        )
        self._acknowledge({s: stack_reason for s in stacks}, self.diff_role)
        self._acknowledge(
            {
                **{s: stack_reason for s in stacks},
                **{
                    o: "A publish writes, reads back and prunes the content-hashed files of the SPA: any object key of this "
                    "one environment's frontend bucket (the bucket itself is named exactly)."
                    for o in objects
                },
                distributions: "CloudFront distribution ids exist only after the stacks are deployed; the invalidation "
                "actions are the only CloudFront actions granted.",
                **preview_reasons,
            }
        )

    def _allow_previews(self, bases: list) -> dict[str, str]:
        """What `inv preview.deploy/destroy/gc` of ``bases`` need beyond the CDK roles (docs/environments.md,
        "Previews"): find the previews (DescribeStacks of every stack, read-only), read their stacks, publish to
        and empty their buckets, purge their secrets. Returns the resource wildcards with their reasons."""
        if not bases:
            return {}
        reasons: dict[str, str] = {
            "*": "Previews are found by their tags (tmkit/preview.py): DescribeStacks without a stack name, which "
            "IAM allows only on every stack; it reads, never changes."
        }
        stacks, buckets, secrets = [], [], []
        for c in bases:
            head = f"{c.project.lower()}-{c.name}-"
            longest = naming.bucket_name(c.project, f"{c.name}-{'x' * naming.SLUG_MAX}", "123456789012", c.region)
            if not longest.startswith(head):  # the bucket wildcard below must cover every preview's bucket
                raise ToolkitError(
                    f"the previews of '{c.name}' get bucket names that do not start with {head!r} ({longest}): "
                    f"shorten the project or environment name (envs/{c.name}.toml) to give the deploy role previews."
                )
            stacks.append(
                self.format_arn(
                    service="cloudformation", region=c.region, resource="stack", resource_name=f"{c.stack_name}-*/*"
                )
            )
            buckets.append(f"arn:{self.partition}:s3:::{head}*")
            secrets.append(
                self.format_arn(
                    service="secretsmanager",
                    region=c.region,
                    resource="secret",
                    resource_name=f"{c.stack_name}-*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            )
            reasons.update(
                {
                    stacks[-1]: f"The stacks of the previews of '{c.name}' (TimeManagement-{c.name}-<slug>): names "
                    "chosen per pull request, ids assigned by CloudFormation.",
                    buckets[-1]: f"The frontend buckets of the previews of '{c.name}' (named per pull request).",
                    f"{buckets[-1]}/*": f"Publishing to and emptying the buckets of the previews of '{c.name}'.",
                    secrets[-1]: f"Purging the secrets of a destroyed preview of '{c.name}' (named per pull request).",
                }
            )
        for statement in (
            iam.PolicyStatement(sid="FindPreviews", actions=["cloudformation:DescribeStacks"], resources=["*"]),
            iam.PolicyStatement(
                sid="ReadPreviewStacks",
                actions=["cloudformation:DescribeStackEvents", "cloudformation:GetTemplate"],
                resources=stacks,
            ),
            iam.PolicyStatement(
                sid="ListPreviewBuckets", actions=["s3:ListBucket", "s3:ListBucketVersions"], resources=buckets
            ),
            iam.PolicyStatement(
                sid="PublishAndEmptyPreviews",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[f"{b}/*" for b in buckets],
            ),
            iam.PolicyStatement(
                sid="PurgePreviewSecrets",
                actions=["secretsmanager:DescribeSecret", "secretsmanager:DeleteSecret"],
                resources=secrets,
            ),
        ):
            self.deploy_role.add_to_policy(statement)
        return reasons

    def _acknowledge(self, reasons: dict[str, str], role: iam.Role | None = None) -> None:
        """A role's resource wildcards (cdk-nag AwsSolutions-IAM5), each on its policy with its reason."""
        policy = (role or self.deploy_role).node.find_child("DefaultPolicy")
        for arn, reason in reasons.items():
            cdk.Validations.of(policy).acknowledge(
                cdk.Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{self._nag_text(arn)}]", reason=reason
                )
            )

    def _nag_text(self, arn: str) -> str:
        """An ARN as cdk-nag prints it: pseudo parameters as <AWS::Name>."""
        value = self.resolve(arn)
        if isinstance(value, str):
            return value
        return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in value["Fn::Join"][1])
