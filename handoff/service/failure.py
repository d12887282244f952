"""A workflow step gave up: the lead becomes ``failed``, visibly, with an alarm metric."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from handoff.domain.record import LeadStatus, TimelineEntry, iso
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.ports import Ports

MAX_CAUSE_CHARS = 500
# Failures that were only a quota or contention: SES's sending rate, DynamoDB or Step Functions
# throttling, a rep's slot claimed by others every try. sla_check redrives such a lead by itself,
# with back-off; ``failed`` waits for a person only for anything else, or after AUTO_REDRIVES.
TRANSIENT_ERRORS = frozenset(
    {
        "EmailThrottled",
        "StorageThrottled",
        "ClaimConflict",
        "Lambda.TooManyRequestsException",
        # The invoke itself failed (Lambda's service, or the connection to it), past the step's retries.
        "Lambda.ServiceException",
        "Lambda.SdkClientException",
    }
)
AUTO_REDRIVES = 6


def retry_in(attempts: int) -> timedelta:
    """The wait before automatic redrive number ``attempts + 1``: 1, 2, 4 ... minutes, at most 30."""
    return timedelta(minutes=min(2**attempts, 30))


def heals_itself(item: dict[str, Any]) -> bool:
    """A failed lead that sla_check redrives without a person: a transient failure, retried
    fewer than AUTO_REDRIVES times."""
    error = str((item.get("failure") or {}).get("error", ""))
    return error in TRANSIENT_ERRORS and int(item.get("auto_redrives", 0)) < AUTO_REDRIVES


def mark_failed(ports: Ports, lead_id: str, error: dict[str, Any] | None, now: datetime) -> str:
    """The lead's new status: ``failed``, or ``missing`` when there is no lead to mark."""
    error = error or {}
    name = str(error.get("Error", "Unknown"))[:100]
    cause = str(error.get("Cause", ""))[:MAX_CAUSE_CHARS]
    item = ports.leads.get_item(lead_id)
    if item is None:
        # Nothing to mark, and retrying cannot create it: the execution fails (and alarms) at once.
        logger.warning("no lead to mark failed", extra={"lead_id": lead_id, "error": name})
        return "missing"
    # Where it was when it failed: `handoff redrive` resumes from there.
    status = LeadStatus(item["status"])
    failed_from = status.value if status != LeadStatus.FAILED else None
    failure = {"error": name, "cause": cause}
    # sla_check looks again once the back-off has passed (a transient failure), else at once.
    transient = heals_itself({**item, "failure": failure})
    look = now + retry_in(int(item.get("auto_redrives", 0))) if transient else now
    ports.leads.update(
        lead_id,
        set_fields={
            "status": LeadStatus.FAILED.value,
            "failure": failure,
            "check_at": look,
            **({"failed_from": failed_from} if failed_from else {}),
        },
        timeline=[
            TimelineEntry(
                at=now,
                event="failed",
                detail=name + (f"; sla_check retries it at {iso(look)}" if transient else ""),
            )
        ],
    )
    metrics.add_metric(name="LeadsFailed", unit=MetricUnit.Count, value=1)
    logger.error("lead failed", extra={"lead_id": lead_id, "error": name})
    return LeadStatus.FAILED.value
