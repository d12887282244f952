"""ses_events: bounces and complaints from the SES configuration set, via SNS."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.aws.container import ports
from handoff.deploy.functions import SES_EVENTS
from handoff.deploy.settings import require
from handoff.domain.clock import utcnow
from handoff.observability import logger, metrics, traced
from handoff.service import delivery

require(SES_EVENTS)  # cold start: stop here, naming any setting this function lacks


@logger.inject_lambda_context
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"escalated": delivery.handle(ports(), event, utcnow())}
