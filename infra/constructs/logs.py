"""Log groups with one retention policy for the whole stack."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

RETENTION = logs.RetentionDays.ONE_MONTH


def retained_log_group(
    scope: Construct, construct_id: str, *, log_group_name: str | None = None
) -> logs.LogGroup:
    # Logs carry no personal data and are not the system of record, so they go with the stack.
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=log_group_name,
        retention=RETENTION,
        removal_policy=RemovalPolicy.DESTROY,
    )
