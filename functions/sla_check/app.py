"""sla_check: scheduled sweep that marks overdue, untouched leads as breached."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.domain.lead import utcnow
from handoff.observability import logger, metrics, tracer
from handoff.service import sla


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    breached = sla.sweep(utcnow())
    return {"breached": len(breached)}
