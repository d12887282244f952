"""console_auth: API Gateway's Lambda REQUEST authorizer for the ops console's session routes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.aws.container import ports
from handoff.console.authorizer import authorize
from handoff.deploy.functions import CONSOLE_AUTH
from handoff.deploy.settings import require
from handoff.observability import logger, traced

require(CONSOLE_AUTH)  # cold start: stop here, naming any setting this function lacks


@logger.inject_lambda_context
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return authorize(event, ports().cognito)
