"""CloudFormation adapters for the resource types moto's CloudFormation lacks or gets wrong.

Importing this package defines the adapter classes; ``tmkit.emulator.server.install()`` imports it
before serving and clears moto's cached type map so the adapters take effect.
"""

from moto.core.common_models import CloudFormationModel

from tmkit.emulator.adapters import apigateway, cloudfront, cognito, compute, cost, storage  # noqa: F401


# Every CloudFormation type an adapter provides (tests check this list against the template).
def adapter_types() -> set[str]:
    return {
        m.cloudformation_type() for m in CloudFormationModel.__subclasses__() if m.__module__.startswith(__name__ + ".")
    }
