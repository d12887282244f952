"""What the workflow cannot catch itself: executions that failed, were stopped or never started.

sla_check pages through leads whose step should have ended by now (check_at, set with each
status: handoff.service.executions); each one whose execution is not running is resumed with a
new execution (named lead_id-r<n>, so a recovery is itself deduplicated). Every step of the
workflow is idempotent, so a resumed lead repeats no email and takes no second slot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from handoff.domain.record import LeadStatus, TimelineEntry
from handoff.errors import Conflict, StorageError
from handoff.observability import MetricUnit, logger, metrics
from handoff.service import failure, ladder, redrive
from handoff.service.executions import check_at, execution_name, start_resumed
from handoff.service.ports import Ports

# Stuck routing first (a lead nobody owns yet), then failures (each needs a redrive or a person).
LATE_ORDER = ("routing", "failed", "assigned", "escalated", "notified")


def _resume(ports: Ports, item: dict[str, Any], now: datetime) -> None:
    lead_id = str(item["lead_id"])
    recoveries = int(item.get("recoveries", 0)) + 1
    start_resumed(ports.workflow, lead_id, str(item.get("status")), recoveries)
    ports.leads.update(
        lead_id,
        set_fields={"recoveries": recoveries, "check_at": check_at(ports, now)},
        timeline=[
            TimelineEntry(
                at=now, event="recovered", detail=f"workflow was not running; resumed ({recoveries})"
            )
        ],
    )
    metrics.add_metric(name="Recovered", unit=MetricUnit.Count, value=1)
    logger.warning("lead recovered", extra={"lead_id": lead_id, "status": item.get("status")})


def _pages(ports: Ports, status: str, now: datetime, deadline: float) -> Iterator[dict[str, Any]]:
    for item in ports.leads.late(status, now):
        if time.monotonic() >= deadline:
            return
        yield item


def recover(ports: Ports, now: datetime, *, stuck_after: timedelta, budget_seconds: float) -> int:
    """Look only where something is late: leads whose step should have ended (check_at passed),
    stuck routing first, then failed leads, then the rest; the next run picks up whatever this
    one has no time for. A late lead whose execution still runs is only waiting longer than
    expected (the rep's hours): it is looked at again after ``stuck_after``. A failed lead is
    redriven by itself when the failure was only a quota (handoff.service.failure), else sales
    ops get one email, with the error."""
    deadline = time.monotonic() + budget_seconds
    resumed = 0
    for status in LATE_ORDER:
        for item in _pages(ports, status, now, deadline):
            try:
                resumed += _look_at(ports, status, item, now, stuck_after)
            except StorageError as exc:
                # One lead the store or Step Functions refused (a quota, an outage) stays late:
                # the next run tries it again, and the rest are not held up by it.
                logger.warning(
                    "recovery deferred", extra={"lead_id": item.get("lead_id"), "error": exc.cause_name}
                )
    return resumed


def _look_at(ports: Ports, status: str, item: dict[str, Any], now: datetime, stuck_after: timedelta) -> int:
    """One late lead: 1 if it was resumed or redriven, else 0."""
    lead_id = str(item["lead_id"])
    if status == LeadStatus.FAILED.value:
        return _failed(ports, lead_id, now)
    if ports.workflow.running(execution_name(lead_id, int(item.get("recoveries", 0)))):
        ports.leads.update(lead_id, set_fields={"check_at": now + stuck_after})
        return 0
    _resume(ports, item, now)
    return 1


def _failed(ports: Ports, lead_id: str, now: datetime) -> int:
    """Redrive a lead that failed on a quota (1), or tell sales ops of any other failure (0)."""
    item = ports.leads.get_item(lead_id)
    if item is None or item.get("status") != LeadStatus.FAILED.value:
        return 0
    if failure.heals_itself(item):
        try:
            redrive.redrive(ports.leads, ports.workflow, lead_id, now, automatic=True)
        except Conflict:
            return 0  # a person redrove it meanwhile
        metrics.add_metric(name="AutoRedriven", unit=MetricUnit.Count, value=1)
        return 1
    if not item.get("failure_escalated"):
        ladder.escalate_failure(ports, lead_id, now)
    return 0
