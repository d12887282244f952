"""crm_sync: write-back messages off the queue, owner and status into the CRM.

A message that fails stays on the queue (partial batch response) and is retried; after its
last receive it moves to the dead-letter queue, which alarms.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.aws.container import ports
from handoff.deploy.functions import CRM_SYNC
from handoff.deploy.settings import require
from handoff.domain.clock import utcnow
from handoff.observability import logger, metrics, traced
from handoff.service import crm_sync

require(CRM_SYNC)  # cold start: stop here, naming any setting this function lacks

processor = BatchProcessor(event_type=EventType.SQS)


def write_back(record: SQSRecord) -> str:
    return crm_sync.apply(ports(), json.loads(record.body), utcnow())


@logger.inject_lambda_context
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    crm_sync.IDEMPOTENCY.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=write_back, processor=processor, context=context
    )
