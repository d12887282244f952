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
from handoff.service import cadence, recovery, sla

require(SLA_CHECK)  # cold start: stop here, naming any setting this function lacks


@logger.inject_lambda_context
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = utcnow()
    stuck_after = timedelta(seconds=ports().config.escalation.stuck_after_seconds)
    # Leave time to flush metrics; the next run picks up whatever this one could not reach.
    budget = max(1.0, context.get_remaining_time_in_millis() / 1000 - 10)
    # Recovery first: the sweep's own writes would make a stuck lead look freshly updated.
    resumed = recovery.recover(ports(), now, stuck_after=stuck_after, budget_seconds=budget / 2)
    # The SLA and the cadence share what the recovery left of the budget.
    left = max(1.0, context.get_remaining_time_in_millis() / 1000 - 10)
    breached = sla.sweep(ports(), now, budget_seconds=left / 2)
    left = max(1.0, context.get_remaining_time_in_millis() / 1000 - 10)
    followed_up = cadence.sweep(ports(), now, budget_seconds=left)
    return {"breached": len(breached), "resumed": resumed, "follow_up": followed_up}
