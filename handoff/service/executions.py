"""Executions of the handoff workflow by name, and when sla_check should look at a lead.

An execution is named lead_id, then lead_id-r<n> for each resumption (a recovery, a redrive, a
reassignment after the first touch), so starting the same one twice is refused by Step Functions,
not run twice. Each in-flight status carries ``check_at``, the time its step should have ended
by; sla_check reads only leads past it (handoff.service.recovery).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from handoff.domain.record import iso
from handoff.service.ports import Ports, Workflow

# A lead that waits for a person (a failure sales ops were told of) is not late again by itself.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


def execution_name(lead_id: str, recoveries: int) -> str:
    return lead_id if recoveries == 0 else f"{lead_id}-r{recoveries}"


def start_resumed(workflow: Workflow, lead_id: str, status: str, recoveries: int) -> str:
    """Start execution lead_id-r<n> for a lead in ``status``; a repeat is a no-op. Every step is
    idempotent, so the new execution skips what already happened: no second claim, no second brief."""
    payload: dict[str, Any] = {"lead_id": lead_id}
    if status == "escalated":
        payload["resume"] = "escalated"  # the ladder continues from the manager step
    name = execution_name(lead_id, recoveries)
    workflow.start(name, payload)
    return name


def check_at(ports: Ports, now: datetime, wait_seconds: float = 0) -> str:
    """When sla_check should look at a lead whose current step waits ``wait_seconds`` from now:
    the wait, plus [escalation] stuck_after_seconds for the step itself."""
    stuck = ports.config.escalation.stuck_after_seconds
    return iso(now + timedelta(seconds=wait_seconds + stuck))
