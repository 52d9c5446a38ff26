"""Private S3 bucket served only through CloudFront (OAC), with SPA routing and security headers."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tmkit import site  # the distribution's rules, shared with `inv local.serve`: routing, error pages, headers


class FrontendHosting(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str,
        name_prefix: str,
        names: dict[str, str],
        price_class: str,
        removal_policy: RemovalPolicy,
        connect_sources: list[str],
    ) -> None:
        """``connect_sources``: origins the SPA may call (API, Cognito), added to the CSP's connect-src."""
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=removal_policy,
        )
        self.bucket.node.default_child.override_logical_id("FrontendBucket")

        self.spa_function = cloudfront.Function(
            self,
            "SpaRouting",
            function_name=names["spa_function"],
            comment="SPA routing: extension-less paths -> /index.html; _releases/ paths -> 404",
            code=cloudfront.FunctionCode.from_inline(site.SPA_ROUTING_JS),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        csp = site.content_security_policy(connect_sources)
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=names["headers_policy"],
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption[site.FRAME_OPTION], override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy[site.REFERRER_POLICY.upper().replace("-", "_")],
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(site.HSTS_MAX_AGE_SECONDS),
                    include_subdomains=True,
                    override=True,
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{name_prefix} frontend",
            default_root_object="index.html",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass[price_class.replace("PriceClass_", "PRICE_CLASS_").upper()],
            default_behavior=cloudfront.BehaviorOptions(
                # READ + LIST: with ListBucket S3 answers a missing key with 404 instead of 403.
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket, origin_access_levels=[cloudfront.AccessLevel.READ, cloudfront.AccessLevel.LIST]
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                compress=True,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.spa_function, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=e.status,
                    response_http_status=e.response_status,
                    response_page_path=e.page,
                    ttl=Duration.seconds(e.ttl_seconds),
                )
                for e in site.ERROR_RESPONSES.values()
            ],
        )

    @property
    def site_url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"
