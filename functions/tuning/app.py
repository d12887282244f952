"""tuning: monthly on EventBridge; measures the period's KPIs and proposes config changes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.domain.lead import utcnow
from handoff.observability import logger, metrics, tracer
from handoff.service import tuning


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    output = tuning.run(utcnow())
    return {
        "leads": output.report.kpis.received,
        "handed_off": output.report.kpis.handed_off,
        "proposals": len(output.report.proposals),
        "config_changes": bool(output.config_diff),
    }
