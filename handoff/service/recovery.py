"""What the workflow cannot catch itself: executions that failed, were stopped or never started.

sla_check pages through leads that should have a running workflow and have not been
written for a while; each one whose execution is not running is resumed with a new
execution (named lead_id-r<n>, so a recovery is itself deduplicated). Every step of the
workflow is idempotent, so a resumed lead repeats no email and takes no second slot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from handoff.domain.record import IN_FLIGHT, TimelineEntry
from handoff.observability import MetricUnit, logger, metrics
from handoff.service import ladder
from handoff.service.ports import Ports, Workflow

BATCH = 25


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


def _resume(ports: Ports, item: dict[str, Any], now: datetime) -> None:
    lead_id = str(item["lead_id"])
    recoveries = int(item.get("recoveries", 0)) + 1
    start_resumed(ports.workflow, lead_id, str(item.get("status")), recoveries)
    ports.leads.update(
        lead_id,
        set_fields={"recoveries": recoveries},
        timeline=[
            TimelineEntry(
                at=now, event="recovered", detail=f"workflow was not running; resumed ({recoveries})"
            )
        ],
    )
    metrics.add_metric(name="Recovered", unit=MetricUnit.Count, value=1)
    logger.warning("lead recovered", extra={"lead_id": lead_id, "status": item.get("status")})


def _pages(ports: Ports, status: str, older_than: datetime, deadline: float) -> Iterator[dict[str, Any]]:
    start = None
    while time.monotonic() < deadline:
        items, start = ports.leads.in_flight(status, older_than, BATCH, start)
        yield from items
        if not start:
            return


def recover(ports: Ports, now: datetime, *, stuck_after: timedelta, budget_seconds: float) -> int:
    """Resume every stuck lead this run has time for; the next run picks up the rest.
    Failed leads are not retried blindly: sales ops get one email each, with the error."""
    deadline = time.monotonic() + budget_seconds
    resumed = 0
    for status in sorted(IN_FLIGHT):
        for item in _pages(ports, status, now - stuck_after, deadline):
            name = execution_name(str(item["lead_id"]), int(item.get("recoveries", 0)))
            if not ports.workflow.running(name):
                _resume(ports, item, now)
                resumed += 1
    for item in _pages(ports, "failed", now, deadline):
        if not item.get("failure_escalated"):
            ladder.escalate_failure(ports, str(item["lead_id"]), now)
    return resumed
