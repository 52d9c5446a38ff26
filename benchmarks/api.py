"""API Lambda benchmark (moto in-process, no network): prints figures; no pass/fail thresholds.

  .venv/bin/python benchmarks/api.py [--invocations 1000] [--samples 2000] [--cold-samples 100]

(a) Secrets Manager GetSecretValue calls over N warm invocations of a route that reads a secret;
(b) the session-tag credential step (the per-user credentials from AssumeRole with Tags
    sub=<sub>): median latency with a warm cache, and cold (AssumeRole; one DynamoDB client is shared) for comparison;
(c) for context, the median latency of a whole GET /tasks invocation, warm.
moto answers STS in-process, so the cold figure excludes the real network round trip to STS
(typically tens of milliseconds in a region); the warm figure is what a warm container pays.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda" / "api"))
sys.path.insert(0, str(ROOT))

from tmkit.api_contract import function_environment  # noqa: E402

ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # the names the stack sets, from their one definition (tmkit/api_contract.py)
    **function_environment(
        table_name="TimeManagement-bench-data",
        data_access_role_arn="arn:aws:iam::123456789012:role/TimeManagement-bench-DataAccess",
        secrets_prefix="TimeManagement-bench/",
        secret_keys=["STRIPE_KEY"],
        secret_max_age_seconds=300,
        environment_name="bench",
    ),
    "LOG_LEVEL": "WARNING",
}


def median_us(samples_ns: list[int]) -> float:
    return statistics.median(samples_ns) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--cold-samples", type=int, default=100)
    args = parser.parse_args()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(ENV)

    import app
    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters import base as params_base
    from moto import mock_aws

    from tm_api.events import rest_event

    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName=ENV["TABLE_NAME"],
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
        )
        boto3.client("secretsmanager").create_secret(Name="TimeManagement-bench/STRIPE_KEY", SecretString="bench-value")
        app.reset()

        # (a) Secrets Manager calls over N invocations, counted at the SDK boundary.
        sm = boto3.client("secretsmanager")
        calls = []
        sm.meta.events.register(
            "before-parameter-build.secrets-manager.GetSecretValue",
            lambda params, **_: calls.append(params["SecretId"]),
        )
        params_base.DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=sm)
        claims = {"sub": "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0"}
        event = rest_event("GET", "/integrations/STRIPE_KEY", claims=claims)
        statuses = {app.handler(event, None)["statusCode"] for _ in range(args.invocations)}
        if statuses != {200}:
            raise SystemExit(f"the secret route answered {statuses}, not 200: the benchmark setup is broken")
        print(
            f"secrets: {len(calls)} GetSecretValue call(s) over {args.invocations} invocations "
            f"(1 secret, max_age {ENV['SECRET_MAX_AGE_SECONDS']} s)"
        )

        # (b) credential step, warm and cold.
        creds = app.deps().store.credentials
        sub = claims["sub"]
        creds.client(sub)
        warm = []
        for _ in range(args.samples):
            t0 = time.perf_counter_ns()
            creds.client(sub)
            warm.append(time.perf_counter_ns() - t0)
        cold = []
        for n in range(args.cold_samples):
            fresh = f"{n:08x}-1111-4000-8000-000000000000"
            t0 = time.perf_counter_ns()
            creds.client(fresh)
            cold.append(time.perf_counter_ns() - t0)
        print(
            f"credentials: warm cache median {median_us(warm):.1f} us "
            f"(p95 {statistics.quantiles(warm, n=20)[-1] / 1000:.1f} us, {args.samples} samples)"
        )
        print(
            f"credentials: cold (AssumeRole + credentials) median {median_us(cold) / 1000:.2f} ms "
            f"({args.cold_samples} samples, STS in-process; add the STS round trip in AWS)"
        )

        # (c) a whole warm request, for scale.
        app.handler(rest_event("POST", "/tasks", claims=claims, body={"title": "bench"}), None)
        list_event = rest_event("GET", "/tasks", claims=claims)
        whole = []
        for _ in range(min(args.samples, 300)):
            t0 = time.perf_counter_ns()
            app.handler(list_event, None)
            whole.append(time.perf_counter_ns() - t0)
        print(
            f"request: warm GET /tasks median {median_us(whole) / 1000:.2f} ms ({len(whole)} samples, "
            "DynamoDB in-process)"
        )
        app.reset()


if __name__ == "__main__":
    main()
