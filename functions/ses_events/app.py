"""ses_events: bounces and complaints from the SES configuration set, via SNS."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.domain.lead import utcnow
from handoff.observability import logger, metrics, tracer
from handoff.service import delivery


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"escalated": delivery.handle(event, utcnow())}
