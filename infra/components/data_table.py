"""The single DynamoDB table holding every user's data (PK ``USER#<sub>``, SK ``TASK#..``/``MILESTONE#..``/..)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct


class DataTable(Construct):
    def __init__(
        self, scope: Construct, id: str, *, table_name: str, pitr: bool, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, id)
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=pitr
            ),
            removal_policy=removal_policy,
        )
        # Stateful: the logical id must never change (a new id = a new, empty table).
        self.table.node.default_child.override_logical_id("DataTable")
