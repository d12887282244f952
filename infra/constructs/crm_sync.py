"""CRM write-back as its own retried step: a queue the handoff steps post to, the crm_sync
function fed by it (partial batch failures), and a dead-letter queue that alarms."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from handoff.deploy.functions import CRM_SYNC, CRM_SYNC_MAX_RECEIVES
from infra.constructs.queues import dead_letter_queue


class CrmSync(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(self, "DeadLetters")
        self.queue = sqs.Queue(
            self,
            "Queue",
            # Six times the function's timeout, as Lambda's SQS guidance asks, so a slow batch
            # is never handed to a second invocation while the first still runs.
            visibility_timeout=Duration.seconds(6 * CRM_SYNC.timeout_seconds),
            retention_period=Duration.days(4),
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=CRM_SYNC_MAX_RECEIVES
            ),
        )
        function.add_event_source(
            sources.SqsEventSource(self.queue, batch_size=10, report_batch_item_failures=True)
        )
