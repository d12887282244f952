"""mark_failed: the workflow's catch-all. The lead becomes visibly failed, with a metric."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.domain.lead import utcnow
from handoff.observability import logger, metrics, tracer
from handoff.service import failure
from handoff.steps import MarkFailedInput


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=MarkFailedInput)
def handler(event: MarkFailedInput, context: LambdaContext) -> dict[str, Any]:
    status = failure.mark_failed(event.lead_id, event.error, utcnow())
    return {"lead_id": event.lead_id, "status": status}
