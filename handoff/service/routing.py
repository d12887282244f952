"""The route step: pick a rep by round robin, claim capacity, start the SLA clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from handoff import runtime
from handoff.domain.lead import Assignment, ConsideredRep, LeadStatus, Sla, TimelineEntry, iso
from handoff.domain.route import round_robin_order
from handoff.errors import CapacityExhausted, Conflict, NoRepAvailable, NotFound
from handoff.observability import MetricUnit, logger, metrics


class RouteResult(BaseModel):
    lead_id: str
    sla_seconds: int


def route(lead_id: str, now: datetime) -> RouteResult:
    leads = runtime.leads()
    record = leads.get(lead_id)
    if record is None:
        raise NotFound(f"lead {lead_id} not found")
    if record.assignment is not None and record.sla is not None:
        # A retried step: the claim already happened, never take a second slot.
        return RouteResult(lead_id=lead_id, sla_seconds=record.sla.seconds)

    config = runtime.config()
    pool = config.routing.default_pool
    eligible, considered = round_robin_order(runtime.reps().list_all(), pool)
    for candidate in eligible:
        try:
            rep = runtime.reps().claim(candidate.rep_id, now)
        except CapacityExhausted:
            considered.append(ConsideredRep(rep_id=candidate.rep_id, skipped_because="filled up meanwhile"))
            continue
        break
    else:
        why = "; ".join(f"{c.rep_id}: {c.skipped_because}" for c in considered) or "no reps in pool"
        raise NoRepAvailable(f"no eligible rep in pool {pool} ({why})")

    considered.append(ConsideredRep(rep_id=rep.rep_id))
    tier = record.qualification.tier or "warm"
    sla_seconds = config.sla_seconds(tier)
    due = now + timedelta(seconds=sla_seconds)
    assignment = Assignment(
        rep_id=rep.rep_id,
        rep_email=rep.email,
        rep_name=rep.name,
        manager_email=rep.manager_email,
        pool=pool,
        rule="round_robin",
        reason=f"Next in round robin for pool {pool} ({rep.open_count}/{rep.capacity} open after this lead)",
        assigned_at=now,
        considered=considered,
    )
    sla = Sla(due_at=due, seconds=sla_seconds)
    try:
        leads.update(
            lead_id,
            set_fields={
                "status": LeadStatus.ASSIGNED.value,
                "assignment": assignment.model_dump(mode="json"),
                "sla": sla.model_dump(mode="json"),
                "sla_state": sla.state.value,
                "sla_due_at": iso(due),
            },
            timeline=[TimelineEntry(at=now, event="assigned", detail=f"{rep.rep_id} via round robin")],
            expect_status=(LeadStatus.ROUTING,),
        )
    except Conflict:
        runtime.reps().release(rep.rep_id)
        raise
    metrics.add_metric(name="LeadsAssigned", unit=MetricUnit.Count, value=1)
    logger.info("lead assigned", extra={"lead_id": lead_id, "rep_id": rep.rep_id, "tier": tier})
    return RouteResult(lead_id=lead_id, sla_seconds=sla_seconds)
