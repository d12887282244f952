"""The SLA sweep: mark overdue, untouched leads as breached."""

from __future__ import annotations

from datetime import datetime

from handoff.domain.record import SlaState, TimelineEntry
from handoff.errors import Conflict
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.ports import Ports


def sweep(ports: Ports, now: datetime) -> list[str]:
    breached: list[str] = []
    for lead_id in ports.leads.overdue(now):
        try:
            ports.leads.update(
                lead_id,
                set_fields={"sla.state": SlaState.BREACHED.value},
                remove=("sla_state", "sla_due_at"),
                timeline=[
                    TimelineEntry(at=now, event="sla_breached", detail="no first touch by the deadline")
                ],
            )
        except Conflict:
            continue
        breached.append(lead_id)
    if breached:
        metrics.add_metric(name="SLABreached", unit=MetricUnit.Count, value=len(breached))
    logger.info("sla sweep", extra={"breached": len(breached)})
    return breached
