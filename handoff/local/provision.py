"""Create the stack's resources on moto: tables, secrets, the SES identity, the workflow, and
the console's user pool.

Used by ``handoff serve`` and by the integration tests, so both run what CDK deploys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from handoff.aws import tables
from handoff.aws.tables import ALL_TABLES, Index, TableSpec
from handoff.deploy import functions as needs
from handoff.deploy.credentials import ALL_SECRETS
from handoff.deploy.functions import ALL_FUNCTIONS, CRM_SYNC_MAX_RECEIVES
from handoff.deploy.settings import FUNCTION_VARIABLE, environment
from handoff.deploy.workflow import function_substitutions, render_definition
from handoff.local import lambdas
from handoff.local.console_users import provision_user_pool

SENDER = "handoff@example.com"
SECRET_PREFIX = "handoff/"
STATE_MACHINE_NAME = "handoff"
CRM_SYNC_QUEUE = "handoff-crm-sync"
CONFIGURATION_SET = "handoff"
# Short, so a failed write-back is retried within a second or two locally.
LOCAL_VISIBILITY_SECONDS = 1


def table_name(spec: TableSpec) -> str:
    return f"handoff-{spec.logical_name.lower()}"


def projection(index: Index) -> dict[str, Any]:
    """The index's projection as DynamoDB takes it (the same one CDK deploys)."""
    if index.include is None:
        return {"ProjectionType": "ALL"}
    if not index.include:
        return {"ProjectionType": "KEYS_ONLY"}
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.include)}


def create_table(dynamodb: Any, spec: TableSpec, name: str) -> None:
    """Create one table from its spec (the same spec CDK deploys)."""
    key_schema = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        key_schema.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    indexes = []
    for index in spec.indexes:
        index_keys = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        if index.sort_key:
            index_keys.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
        indexes.append(
            {
                "IndexName": index.name,
                "KeySchema": index_keys,
                "Projection": projection(index),
            }
        )
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in spec.key_attributes().items()
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        kwargs["GlobalSecondaryIndexes"] = indexes
    dynamodb.create_table(**kwargs)


def provision_crm_sync_queue() -> str:
    """The write-back queue and its dead-letter queue, as the stack builds them; the queue URL."""
    sqs = boto3.client("sqs")
    dead_letters = sqs.create_queue(QueueName=f"{CRM_SYNC_QUEUE}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": arn, "maxReceiveCount": str(CRM_SYNC_MAX_RECEIVES)}
    attributes = {"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": str(LOCAL_VISIBILITY_SECONDS)}
    return str(sqs.create_queue(QueueName=CRM_SYNC_QUEUE, Attributes=attributes)["QueueUrl"])


@dataclass(frozen=True)
class Provisioned:
    """What provisioning made that has a generated name or address."""

    state_machine_arn: str
    crm_sync_queue_url: str
    user_pool_id: str = ""
    user_pool_client_id: str = ""

    def settings(self, *, config_path: str, public_base_url: str, **optional: str) -> dict[str, str]:
        """Each function setting's local value: the stand-in for what CDK wires from the stack."""
        return {
            needs.LEADS: table_name(tables.LEADS),
            needs.REPS: table_name(tables.REPS),
            needs.ACCOUNTS: table_name(tables.ACCOUNTS),
            needs.DISPOSITIONS: table_name(tables.DISPOSITIONS),
            needs.IDEMPOTENCY: table_name(tables.IDEMPOTENCY),
            needs.SEND_SCHEDULE: table_name(tables.SEND_SCHEDULE),
            needs.CONFIG: config_path,
            needs.SECRETS: SECRET_PREFIX,
            needs.STATE_MACHINE: self.state_machine_arn,
            needs.SENDER: SENDER,
            needs.SES_CONFIGURATION_SET: CONFIGURATION_SET,
            needs.PUBLIC_BASE_URL: public_base_url,
            needs.CRM_SYNC_QUEUE: self.crm_sync_queue_url,
            needs.USER_POOL: self.user_pool_id,
            needs.USER_POOL_CLIENT: self.user_pool_client_id,
            **optional,
        }

    def environment(self, *, config_path: str, public_base_url: str, **optional: str) -> dict[str, str]:
        """Every function's variables, checked against each spec (one process runs them all)."""
        values = self.settings(config_path=config_path, public_base_url=public_base_url, **optional)
        merged: dict[str, str] = {}
        for spec in ALL_FUNCTIONS:
            merged.update(environment(spec, values))
        # Which function is running is scoped per invocation here (lambdas.invoke), not per process.
        merged.pop(FUNCTION_VARIABLE)
        return merged


def provision(secret_values: Mapping[str, str]) -> Provisioned:
    """Create everything the stack defines. ``secret_values`` is keyed by env var."""
    dynamodb = boto3.client("dynamodb")
    for spec in ALL_TABLES:
        create_table(dynamodb, spec, table_name(spec))
    secretsmanager = boto3.client("secretsmanager")
    for secret in ALL_SECRETS:
        secretsmanager.create_secret(
            Name=f"{SECRET_PREFIX}{secret.name}", SecretString=secret_values[secret.env_var]
        )
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.create_configuration_set(ConfigurationSet={"Name": CONFIGURATION_SET})
    queue_url = provision_crm_sync_queue()
    definition = render_definition(
        function_substitutions({f.key: lambdas.function_arn(f) for f in ALL_FUNCTIONS})
    )
    created = boto3.client("stepfunctions").create_state_machine(
        name=STATE_MACHINE_NAME,
        definition=definition,
        roleArn=f"arn:aws:iam::{lambdas.ACCOUNT}:role/handoff-workflow",
        type="STANDARD",
    )
    user_pool_id, user_pool_client_id = provision_user_pool()
    return Provisioned(str(created["stateMachineArn"]), queue_url, user_pool_id, user_pool_client_id)
