"""SES delivery events: a brief that bounced or drew a complaint escalates the handoff at once.

The configuration set publishes bounces and complaints to SNS. Each brief carries SES message
tags naming its lead, so an event finds the lead even when it beats the notify step's write of
the message id (events without tags fall back to the by_message index). The bounce is noted on
the lead once, and the wait on that brief ends with BriefBounced, so the workflow escalates
exactly as for a lapsed SLA.

The wait's task token may not be parked yet either. Both sides therefore write first and then
read: the bounce notes itself and reads the token; await_touch parks the token and reads the
notes (``end_wait_if_undelivered``). Whichever comes second sees both and ends the wait.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from handoff.domain.lead import is_lead_id
from handoff.domain.record import LeadStatus, TimelineEntry
from handoff.errors import StorageError
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.ladder import BRIEF_BOUNCED
from handoff.service.notify import BRIEF_KIND, KIND_TAG, LEAD_TAG
from handoff.service.ports import Ports

PROBLEMS = {"Bounce": "bounced", "Complaint": "was marked as spam"}
# Step Functions' answers for a token whose wait already ended: nothing left to end.


class Problem(NamedTuple):
    message_id: str
    kind: str  # a key of PROBLEMS
    # The lead named by the brief's tags; None for an untagged email (not a brief, or older).
    lead_id: str | None = None


def _tag(mail: dict[str, Any], name: str) -> str | None:
    # SES publishes each tag as a list of values: {"lead_id": ["ld_..."]}.
    tags = mail.get("tags")
    values = tags.get(name) if isinstance(tags, dict) else None
    return values[0] if isinstance(values, list) and values and isinstance(values[0], str) else None


def problems_in(sns_event: dict[str, Any]) -> list[Problem]:
    """Each bounce or complaint in an SNS delivery, once; the rest is ignored."""
    found: dict[Problem, None] = {}
    for record in sns_event.get("Records", []):
        try:
            message = json.loads(record.get("Sns", {}).get("Message", ""))
        except (TypeError, ValueError):
            continue
        if not isinstance(message, dict):
            continue
        kind = message.get("eventType") or message.get("notificationType")
        mail = message.get("mail")
        mail = mail if isinstance(mail, dict) else {}
        message_id = mail.get("messageId")
        if kind not in PROBLEMS or not isinstance(message_id, str):
            continue
        lead_id = _tag(mail, LEAD_TAG)
        if _tag(mail, KIND_TAG) != BRIEF_KIND or lead_id is None or not is_lead_id(lead_id):
            lead_id = None
        found[Problem(message_id, str(kind), lead_id)] = None
    return list(found)


def end_wait_if_undelivered(ports: Ports, item: dict[str, Any]) -> bool:
    """End the lead's parked wait with BriefBounced if the brief it waits on never arrived.

    True when this call ended it. A spent token is cleared, so a repeated event or a second
    caller finds nothing to end; Step Functions also takes a token's answer only once.
    """
    lead_id = str(item["lead_id"])
    token = item.get("task_token")
    waiting_on = item.get("brief_message_id")
    if (
        item.get("status") != LeadStatus.NOTIFIED.value
        or not token
        or waiting_on not in (item.get("undelivered_briefs") or [])
    ):
        return False
    if not ports.workflow.fail(str(token), BRIEF_BOUNCED, "the brief bounced or was marked as spam"):
        logger.info("task token no longer waiting", extra={"lead_id": lead_id})
        return False
    logger.warning("brief undelivered: wait ended", extra={"lead_id": lead_id})
    try:
        ports.leads.clear_task_token(lead_id, str(token))
    except StorageError:
        # The wait has ended all the same; a repeat event would only try a spent token.
        logger.warning("spent task token not cleared", extra={"lead_id": lead_id})
    return True


def _lead_for(ports: Ports, problem: Problem) -> str | None:
    if problem.lead_id is not None:
        return problem.lead_id
    item = ports.leads.by_brief_message(problem.message_id)
    # None: a reminder, an escalation or a report; nothing waits on those.
    return str(item["lead_id"]) if item else None


def handle(ports: Ports, sns_event: dict[str, Any], now: datetime) -> int:
    """Note each undelivered brief on its lead and end the wait on it; the waits ended."""
    escalated = 0
    for problem in problems_in(sns_event):
        lead_id = _lead_for(ports, problem)
        if lead_id is None:
            continue
        entry = TimelineEntry(at=now, event="brief_undelivered", detail=f"the brief {PROBLEMS[problem.kind]}")
        if ports.leads.record_undelivered_brief(lead_id, problem.message_id, entry):
            metrics.add_metric(name=f"Briefs{problem.kind}", unit=MetricUnit.Count, value=1)
            logger.warning("brief undelivered", extra={"lead_id": lead_id, "kind": problem.kind})
        # Even for a repeat: the first delivery may have stopped before ending the wait.
        item = ports.leads.get_item(lead_id)
        if item is not None and end_wait_if_undelivered(ports, item):
            escalated += 1
    return escalated
