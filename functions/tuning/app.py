"""tuning: monthly on EventBridge; measures the period's KPIs and proposes config changes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.aws.container import ports
from handoff.deploy.functions import TUNING
from handoff.deploy.settings import require
from handoff.domain.clock import utcnow
from handoff.observability import logger, metrics, traced
from handoff.service import tuning

require(TUNING)  # cold start: stop here, naming any setting this function lacks


@logger.inject_lambda_context
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    output = tuning.run(ports(), utcnow())
    return {
        "leads": output.report.kpis.received,
        "handed_off": output.report.kpis.handed_off,
        "sla_met": output.report.kpis.sla_met,
        "sla_breached": output.report.kpis.sla_breached,
        "proposals": len(output.report.proposals),
        "config_changes": bool(output.config_diff),
    }
