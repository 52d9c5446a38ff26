"""cdk-nag (AwsSolutions pack, 3.x ``Validations`` API) and every acknowledged finding, with its reason.

How a finding surfaces: ``app.synth()`` runs the plugins; any unacknowledged *error* makes synth
raise ``ValidationFailed`` (the CDK CLI exits non-zero) after printing the findings on stderr and
writing ``<outdir>/validation-report.json``. Warnings do not fail synth on their own, so
``unacknowledged(assembly_dir)`` lists every remaining finding of any severity from that report:
``inv synth`` calls it and fails when the list is not empty. This file is the only place a
finding may be acknowledged.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from tmkit.cdk import REPORT_FILE, unacknowledged  # noqa: F401  (read without loading the CDK)

# Reasons: each cites the decision it follows in docs/decisions.md.
WAF_DEFERRED = "No WAF in v1, deferred to security hardening (docs/decisions.md, No WAF)."
ACCESS_LOGS_LATER = (
    "No access logs for the distribution and the site bucket in v1: the bucket is private and only CloudFront "
    "(OAC) reads it (docs/decisions.md, No access logs for the distribution and the site bucket)."
)
REASONS = {
    "AwsSolutions-SMG4": "Rotation is manual in v1: the values are third-party keys set with `inv secrets.put` "
    "(docs/decisions.md, Manual secret rotation; docs/secrets.md).",
    "AwsSolutions-COG2": "MFA is optional (TOTP) in v1; making it mandatory is a product decision "
    "(docs/decisions.md, MFA optional, no Cognito Plus plan).",
    "AwsSolutions-COG8": "The Plus feature plan (threat protection) is billed per user; deferred to security "
    "hardening. v1 relies on a strong password policy, no self sign-up and optional TOTP MFA "
    "(docs/decisions.md, MFA optional, no Cognito Plus plan).",
    "AwsSolutions-APIG4": "GET /health is the public liveness probe: no authorizer by design, it returns no user data.",
    "AwsSolutions-COG4": "GET /health is the public liveness probe: no authorizer by design, it returns no user data.",
    "AwsSolutions-APIG3": WAF_DEFERRED,
    "AwsSolutions-CFR2": WAF_DEFERRED,
    "AwsSolutions-CFR1": "The app has no geographic restriction requirement; price class already limits edge locations.",
    "AwsSolutions-CFR3": ACCESS_LOGS_LATER,
    "AwsSolutions-S1": ACCESS_LOGS_LATER,
    "AwsSolutions-CFR4": "No custom domain in v1: the distribution uses the default *.cloudfront.net "
    "certificate, whose minimum TLS version cannot be raised; a custom domain with TLSv1.2_2021 comes "
    "later (docs/decisions.md, No custom domain).",
    "AwsSolutions-DDB3": "Point-in-time recovery is enabled for prod only: dev/QA data can be recreated, PITR costs "
    "(docs/decisions.md, Point-in-time recovery in prod only).",
    "AwsSolutions-IAM5[logs]": "API Gateway's logging role is account-wide per region and shared by every "
    "environment (infra/account_stack.py), so it must write to any log group "
    "API Gateway creates in this region. No action is wildcarded.",
    "@aws-cdk/aws-cloudfront-origins:listBucketSecurityRisk": "ListBucket lets S3 answer a missing asset with 404 "
    "(not 403); the risk the warning names (listing the bucket through '/') is closed by default_root_object "
    "and the SPA function, which rewrite '/' to /index.html.",
}


def _ack(scope, rule: str, reason_key: str | None = None) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=REASONS[reason_key or rule]))


def _nag(rule: str) -> str:
    return f"AwsSolutions::{rule}"


def acknowledge(stack) -> None:
    """Acknowledge the accepted findings on the narrowest construct of one TimeManagementStack."""
    for secret in stack.secrets.secrets.values():
        _ack(secret, _nag("AwsSolutions-SMG4"), "AwsSolutions-SMG4")
    for rule in ("AwsSolutions-COG2", "AwsSolutions-COG8"):
        _ack(stack.api.user_pool, _nag(rule), rule)
    health = stack.api.rest_api.root.get_resource("health").node.find_child("GET")
    for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
        _ack(health, _nag(rule), rule)
    _ack(stack.api.rest_api.deployment_stage, _nag("AwsSolutions-APIG3"), "AwsSolutions-APIG3")
    _ack(stack.hosting.bucket, _nag("AwsSolutions-S1"), "AwsSolutions-S1")
    for rule in ("AwsSolutions-CFR1", "AwsSolutions-CFR2", "AwsSolutions-CFR3", "AwsSolutions-CFR4"):
        _ack(stack.hosting.distribution, _nag(rule), rule)
    if not stack.cfg.pitr:
        _ack(stack.data.table, _nag("AwsSolutions-DDB3"), "AwsSolutions-DDB3")
    rule = "@aws-cdk/aws-cloudfront-origins:listBucketSecurityRisk"
    cdk.Annotations.of(stack.hosting.distribution).acknowledge_warning(rule, REASONS[rule])


def acknowledge_account(stack) -> None:
    """Acknowledge the accepted findings of one AccountStack (infra/account_stack.py)."""
    account = "<AWS::AccountId>" if cdk.Token.is_unresolved(stack.account) else stack.account
    logs_arn = f"arn:<AWS::Partition>:logs:{stack.region}:{account}:log-group:*"
    _ack(stack.cloudwatch_role, _nag(f"AwsSolutions-IAM5[Resource::{logs_arn}]"), "AwsSolutions-IAM5[logs]")


def check(app: cdk.App, stacks, account_stacks=()) -> None:
    """Register the AwsSolutions pack on the app and the acknowledgements on each stack."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    for stack in stacks:
        acknowledge(stack)
    for stack in account_stacks:
        acknowledge_account(stack)
