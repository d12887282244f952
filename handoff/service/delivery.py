"""SES delivery events: a brief that bounced or drew a complaint escalates the handoff at once.

The configuration set publishes bounces and complaints to SNS; each names the SES
message id, which leads to the lead, whose parked task token ends the wait with
BriefBounced, and the workflow escalates exactly as for a lapsed SLA.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from handoff import runtime
from handoff.domain.lead import LeadStatus, TimelineEntry
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.notify import BRIEF_BOUNCED

PROBLEMS = {"Bounce": "bounced", "Complaint": "was marked as spam"}


def problems_in(sns_event: dict[str, Any]) -> list[tuple[str, str]]:
    """(message id, problem) for each bounce or complaint in an SNS delivery; the rest is ignored."""
    found = []
    for record in sns_event.get("Records", []):
        try:
            message = json.loads(record.get("Sns", {}).get("Message", ""))
        except (TypeError, ValueError):
            continue
        if not isinstance(message, dict):
            continue
        kind = message.get("eventType") or message.get("notificationType")
        message_id = (message.get("mail") or {}).get("messageId")
        if kind in PROBLEMS and isinstance(message_id, str):
            found.append((message_id, str(kind)))
    return found


def handle(sns_event: dict[str, Any], now: datetime) -> int:
    escalated = 0
    for message_id, kind in problems_in(sns_event):
        item = runtime.leads().by_brief_message(message_id)
        if item is None:
            continue  # a reminder, an escalation or a report: nothing waits on those
        lead_id = str(item["lead_id"])
        metrics.add_metric(name=f"Briefs{kind}", unit=MetricUnit.Count, value=1)
        runtime.leads().update(
            lead_id,
            timeline=[TimelineEntry(at=now, event="brief_undelivered", detail=f"the brief {PROBLEMS[kind]}")],
        )
        token = item.get("task_token")
        if item.get("status") != LeadStatus.NOTIFIED.value or not token:
            continue
        try:
            runtime.client("stepfunctions").send_task_failure(
                taskToken=token, error=BRIEF_BOUNCED, cause=f"the brief {PROBLEMS[kind]}"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {
                "TaskTimedOut",
                "TaskDoesNotExist",
                "InvalidToken",
            }:
                raise
            continue
        escalated += 1
        logger.warning("brief undelivered", extra={"lead_id": lead_id, "kind": kind})
    return escalated
