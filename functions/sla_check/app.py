"""sla_check: the scheduled sweep of overdue, stuck and failed handoffs, and due follow-ups."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.aws.container import ports
from handoff.deploy.functions import SLA_CHECK
from handoff.deploy.settings import require
from handoff.domain.clock import utcnow
from handoff.observability import logger, metrics, traced
from handoff.service import sweeps

require(SLA_CHECK)  # cold start: stop here, naming any setting this function lacks


@logger.inject_lambda_context
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    stuck_after = timedelta(seconds=ports().config.escalation.stuck_after_seconds)
    return sweeps.run(
        ports(),
        utcnow(),
        stuck_after=stuck_after,
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
