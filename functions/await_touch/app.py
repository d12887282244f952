"""await_touch: parks the workflow's task token with the assignment until the first touch."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.aws.container import ports
from handoff.deploy.functions import AWAIT_TOUCH
from handoff.deploy.settings import require
from handoff.deploy.steps import AwaitTouchInput
from handoff.domain.clock import utcnow
from handoff.observability import logger, traced
from handoff.service import touch

require(AWAIT_TOUCH)  # cold start: stop here, naming any setting this function lacks


@logger.inject_lambda_context
@traced
@event_parser(model=AwaitTouchInput)
def handler(event: AwaitTouchInput, context: LambdaContext) -> dict[str, Any]:
    touch.await_touch(ports(), event.lead_id, event.task_token, utcnow())
    return {"lead_id": event.lead_id}
