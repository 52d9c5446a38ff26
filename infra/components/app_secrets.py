"""One Secrets Manager secret per declared key. The template never holds a value.

CloudFormation needs either ``SecretString`` or ``GenerateSecretString``; we generate a
*placeholder* (``{"tmkit": "unseeded", "placeholder": <random>}``) that is not a usable value.
``inv secrets.check`` and the Lambda treat a current value containing ``"tmkit": "unseeded"`` as
not seeded; ``inv secrets.put`` writes the real value as a new version. Encryption: the
AWS-managed key ``aws/secretsmanager`` (no ``KmsKeyId``).
"""

from __future__ import annotations

import re

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from tmkit.api_contract import PLACEHOLDER_TEMPLATE

UNSEEDED_TEMPLATE = PLACEHOLDER_TEMPLATE  # defined once, in tmkit/api_contract.py


def logical_id(key: str) -> str:
    """Stable, readable logical id for a key: ``Secret`` + its letters and digits."""
    return "Secret" + re.sub(r"[^A-Za-z0-9]", "", key)


class AppSecrets(Construct):
    def __init__(self, scope: Construct, id: str, *, names: dict[str, str], removal_policy: RemovalPolicy) -> None:
        """``names``: declared key -> full secret name (``TimeManagement-<env>/<key>``)."""
        super().__init__(scope, id)
        ids = [logical_id(k) for k in names]
        if len(set(ids)) != len(ids):
            raise ValueError(f"secret keys {sorted(names)} collide once punctuation is dropped; rename one")
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for key, name in names.items():
            secret = secretsmanager.Secret(
                self,
                logical_id(key),
                secret_name=name,
                description=f"{key}: set with `inv secrets.put`; a placeholder until then",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    secret_string_template=UNSEEDED_TEMPLATE,
                    generate_string_key="placeholder",
                    exclude_punctuation=True,
                ),
                removal_policy=removal_policy,
            )
            secret.node.default_child.override_logical_id(logical_id(key))
            self.secrets[key] = secret

    @property
    def arns(self) -> list[str]:
        return [s.secret_arn for s in self.secrets.values()]
