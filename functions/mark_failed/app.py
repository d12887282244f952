"""mark_failed: the workflow's catch-all. The lead becomes visibly failed, with a metric."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.aws.container import ports
from handoff.deploy.functions import MARK_FAILED
from handoff.deploy.settings import require
from handoff.deploy.steps import MarkFailedInput
from handoff.domain.clock import utcnow
from handoff.observability import logger, metrics, traced
from handoff.service import failure

require(MARK_FAILED)  # cold start: stop here, naming any setting this function lacks


@logger.inject_lambda_context
@traced
@metrics.log_metrics
@event_parser(model=MarkFailedInput)
def handler(event: MarkFailedInput, context: LambdaContext) -> dict[str, Any]:
    status = failure.mark_failed(ports(), event.lead_id, event.error, utcnow())
    return {"lead_id": event.lead_id, "status": status}
