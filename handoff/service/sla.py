"""The SLA sweep: mark overdue, untouched leads as breached."""

from __future__ import annotations

import time
from datetime import datetime

from handoff.domain.record import LeadRecord, SlaState, TimelineEntry
from handoff.errors import Conflict
from handoff.observability import lead_metric, logger
from handoff.service.ports import Ports


def count_breach(record: LeadRecord) -> None:
    """The SLABreached metric counts leads by the one definition of a breach (LeadRecord.sla_met):
    the first rep's deadline passed untouched. A later rep's lapse is the same lead again."""
    if not record.assignment_history:
        lead_metric("SLABreached", 1, tier=record.qualification.tier, source=record.source)


def sweep(ports: Ports, now: datetime, *, budget_seconds: float = 30) -> list[str]:
    """Mark every overdue lead this run has time for (all of them, page by page); the next run
    picks up the rest."""
    deadline = time.monotonic() + budget_seconds
    breached: list[str] = []
    for lead_id in ports.leads.overdue(now):
        if time.monotonic() > deadline:
            break
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
        record = ports.leads.get(lead_id)
        if record is not None:
            count_breach(record)
    logger.info("sla sweep", extra={"breached": len(breached)})
    return breached
