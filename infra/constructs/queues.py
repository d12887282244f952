"""Dead-letter queues: one shape for every place something must not be lost."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    queue = sqs.Queue(
        scope,
        construct_id,
        retention_period=Duration.days(14),
        enforce_ssl=True,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
    )
    NagSuppressions.add_resource_suppressions(
        queue,
        [NagPackSuppression(id="AwsSolutions-SQS3", reason="This queue is itself the dead-letter queue.")],
    )
    return queue
