"""DynamoDB tables, built from the same specs the Lambdas and the local stack use."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from handoff.aws.tables import (
    ACCOUNTS,
    DISPOSITIONS,
    IDEMPOTENCY,
    LEADS,
    REPS,
    SEND_SCHEDULE,
    Index,
    TableSpec,
)


def _attribute(name: str | None) -> dynamodb.Attribute | None:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING) if name else None


def _projection(index: Index) -> dict[str, Any]:
    if index.include is None:
        return {"projection_type": dynamodb.ProjectionType.ALL}
    if not index.include:
        return {"projection_type": dynamodb.ProjectionType.KEYS_ONLY}
    return {"projection_type": dynamodb.ProjectionType.INCLUDE, "non_key_attributes": list(index.include)}


def _table(scope: Construct, spec: TableSpec, key: kms.IKey | None) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        spec.logical_name,
        partition_key=dynamodb.Attribute(name=spec.partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=_attribute(spec.sort_key),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED if key else dynamodb.TableEncryption.AWS_MANAGED,
        encryption_key=key,
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
        time_to_live_attribute=spec.ttl_attribute,
    )
    for index in spec.indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=dynamodb.Attribute(name=index.partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=_attribute(index.sort_key),
            **_projection(index),
        )
    return table


class Tables(Construct):
    """customer_managed_key=True encrypts every table with a key this stack owns (rotated
    yearly, retained like the tables) for teams whose policy requires one; grants on the tables
    then carry the matching kms:Decrypt/Encrypt automatically."""

    def __init__(self, scope: Construct, construct_id: str, *, customer_managed_key: bool = False) -> None:
        super().__init__(scope, construct_id)
        self.key: kms.Key | None = (
            kms.Key(
                self,
                "TablesKey",
                description="Handoff: encrypts the leads, reps, accounts and dispositions tables",
                enable_key_rotation=True,
                removal_policy=RemovalPolicy.RETAIN,
            )
            if customer_managed_key
            else None
        )
        self.leads = _table(self, LEADS, self.key)
        self.reps = _table(self, REPS, self.key)
        self.accounts = _table(self, ACCOUNTS, self.key)
        self.dispositions = _table(self, DISPOSITIONS, self.key)
        self.idempotency = _table(self, IDEMPOTENCY, self.key)
        self.send_schedule = _table(self, SEND_SCHEDULE, self.key)
