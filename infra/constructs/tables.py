"""DynamoDB tables, built from the same specs the Lambdas and the local stack use."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from handoff.store.tables import ACCOUNTS, DISPOSITIONS, LEADS, REPS, TableSpec


def _attribute(name: str | None) -> dynamodb.Attribute | None:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING) if name else None


def _table(scope: Construct, spec: TableSpec) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        spec.logical_name,
        partition_key=dynamodb.Attribute(name=spec.partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=_attribute(spec.sort_key),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
        time_to_live_attribute=spec.ttl_attribute,
    )
    for index in spec.indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=dynamodb.Attribute(name=index.partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=_attribute(index.sort_key),
        )
    return table


class Tables(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.leads = _table(self, LEADS)
        self.reps = _table(self, REPS)
        self.accounts = _table(self, ACCOUNTS)
        self.dispositions = _table(self, DISPOSITIONS)
