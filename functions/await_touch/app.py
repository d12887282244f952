"""await_touch: parks the workflow's task token with the assignment until the first touch."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.domain.lead import utcnow
from handoff.observability import logger, tracer
from handoff.service import touch
from handoff.steps import AwaitTouchInput


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=AwaitTouchInput)
def handler(event: AwaitTouchInput, context: LambdaContext) -> dict[str, Any]:
    touch.await_touch(event.lead_id, event.task_token, utcnow())
    return {"lead_id": event.lead_id}
