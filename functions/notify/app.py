"""notify: emails the brief to the rep, or climbs the SLA ladder (reminder, manager, re-nurture)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.aws.container import ports
from handoff.deploy.functions import NOTIFY
from handoff.deploy.settings import require
from handoff.deploy.steps import NotifyInput
from handoff.domain.clock import utcnow
from handoff.observability import logger, metrics, traced
from handoff.service import ladder, notify

require(NOTIFY)  # cold start: stop here, naming any setting this function lacks


@logger.inject_lambda_context
@traced
@metrics.log_metrics
@event_parser(model=NotifyInput)
def handler(event: NotifyInput, context: LambdaContext) -> dict[str, Any]:
    now = utcnow()
    if event.kind == "reminder":
        return {"lead_id": event.lead_id, "grace_seconds": ladder.remind(ports(), event.lead_id, now)}
    if event.kind == "escalation":
        rung = ladder.escalate(ports(), event.lead_id, now, bounced=event.cause == ladder.BRIEF_BOUNCED)
        return {"lead_id": event.lead_id, "next": rung.next, "wait_seconds": rung.wait_seconds}
    if event.kind == "renurture":
        ladder.renurture(ports(), event.lead_id, now)
        return {"lead_id": event.lead_id, "kind": event.kind}
    # A brief further off than a step waits is handed back: the workflow waits, then calls again.
    pace = notify.send_brief(ports(), event.lead_id, now, event.moments, event.turn)
    return {
        "lead_id": event.lead_id,
        "kind": event.kind,
        "moments": pace.moments,
        "wait_seconds": pace.wait_seconds,
        "turn": pace.turn,
    }
