"""route: the workflow's first step. Picks the rep and starts the SLA clock."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.domain.lead import utcnow
from handoff.observability import logger, metrics, tracer
from handoff.service import routing
from handoff.steps import RouteInput


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=RouteInput)
def handler(event: RouteInput, context: LambdaContext) -> dict[str, Any]:
    if event.action == "reassign":
        return routing.reassign(event.lead_id, utcnow()).model_dump()
    return routing.route(event.lead_id, utcnow()).model_dump()
