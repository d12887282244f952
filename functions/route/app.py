"""route: the workflow's first step. Picks the rep and starts the SLA clock."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.aws.container import ports
from handoff.deploy.functions import ROUTE
from handoff.deploy.settings import require
from handoff.deploy.steps import RouteInput
from handoff.domain.clock import utcnow
from handoff.observability import logger, metrics, traced
from handoff.service import routing

require(ROUTE)  # cold start: stop here, naming any setting this function lacks


@logger.inject_lambda_context
@traced
@metrics.log_metrics
@event_parser(model=RouteInput)
def handler(event: RouteInput, context: LambdaContext) -> dict[str, Any]:
    if event.action == "reassign":
        return routing.reassign(ports(), event.lead_id, utcnow()).model_dump()
    return routing.route(ports(), event.lead_id, utcnow()).model_dump()
