"""A workflow step gave up: the lead becomes ``failed``, visibly, with an alarm metric."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff.domain.record import LeadStatus, TimelineEntry
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.ports import Ports

MAX_CAUSE_CHARS = 500


def mark_failed(ports: Ports, lead_id: str, error: dict[str, Any] | None, now: datetime) -> str:
    """The lead's new status: ``failed``, or ``missing`` when there is no lead to mark."""
    error = error or {}
    name = str(error.get("Error", "Unknown"))[:100]
    cause = str(error.get("Cause", ""))[:MAX_CAUSE_CHARS]
    current = ports.leads.get(lead_id)
    if current is None:
        # Nothing to mark, and retrying cannot create it: the execution fails (and alarms) at once.
        logger.warning("no lead to mark failed", extra={"lead_id": lead_id, "error": name})
        return "missing"
    # Where it was when it failed: `handoff redrive` resumes from there.
    failed_from = current.status.value if current.status != LeadStatus.FAILED else None
    ports.leads.update(
        lead_id,
        set_fields={
            "status": LeadStatus.FAILED.value,
            "failure": {"error": name, "cause": cause},
            **({"failed_from": failed_from} if failed_from else {}),
        },
        timeline=[TimelineEntry(at=now, event="failed", detail=name)],
    )
    metrics.add_metric(name="LeadsFailed", unit=MetricUnit.Count, value=1)
    logger.error("lead failed", extra={"lead_id": lead_id, "error": name})
    return LeadStatus.FAILED.value
