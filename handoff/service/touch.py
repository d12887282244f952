"""First touch: the workflow parks its task token here, and a disposition releases it."""

from __future__ import annotations

from datetime import date, datetime

from handoff.domain import cadence, recycle
from handoff.domain.record import (
    OPEN_STATUSES,
    Disposition,
    LeadRecord,
    LeadStatus,
    SlaState,
    TimelineEntry,
    iso,
)
from handoff.errors import BadRequest, Conflict, NotFound
from handoff.observability import MetricUnit, lead_metric, logger
from handoff.service import crm_sync, delivery, hours, reassign, sla
from handoff.service.ports import Ports


def _complete_wait(ports: Ports, lead_id: str, token: str, outcome: str) -> None:
    if not ports.workflow.succeed(token, {"lead_id": lead_id, "outcome": outcome}):
        # The wait already ended (SLA timeout or a concurrent touch): nothing to resume.
        logger.info("task token no longer waiting", extra={"lead_id": lead_id})


def await_touch(ports: Ports, lead_id: str, task_token: str, now: datetime) -> None:
    """Store the token with the assignment. If the rep already touched the lead, resume at once;
    if the brief already bounced, end the wait at once with BriefBounced."""
    leads = ports.leads
    try:
        # A bounce or a reassignment request that came before the token was parked had no wait to
        # end: the lead as parking left it says (each of them reads after noting itself), so one
        # side or the other ends it.
        item = leads.update(
            lead_id,
            set_fields={"task_token": task_token},
            timeline=[TimelineEntry(at=now, event="waiting", detail="SLA clock running")],
            expect_status=(LeadStatus.NOTIFIED,),
            read_back=True,
        )
    except Conflict:
        record = leads.get(lead_id)
        if record is None:
            raise NotFound(f"lead {lead_id} not found") from None
        if not record.dispositions:
            raise
        _complete_wait(ports, lead_id, task_token, record.dispositions[0].outcome)
        return
    if item is None:
        return
    if item.get("reassign_request"):
        ports.workflow.fail(task_token, reassign.REASSIGN_ERROR, str(item["reassign_request"].get("because")))
        return
    delivery.end_wait_if_undelivered(ports, item)


def validate_outcome(ports: Ports, outcome: str, reason: str | None) -> None:
    allowed = ports.config.dispositions.reasons
    if outcome not in allowed:
        raise BadRequest(
            f"outcome must be one of: {', '.join(allowed)}",
            details=[{"field": "outcome", "allowed": list(allowed)}],
        )
    reasons = allowed[outcome]
    if reasons and reason not in reasons:
        raise BadRequest(
            f"reason for {outcome} must be one of: {', '.join(reasons)}",
            details=[{"field": "reason", "allowed": reasons}],
        )


def _not_a_touch(record: LeadRecord, ref: str | None, happened_at: datetime | None) -> str | None:
    """Why a CRM activity changes nothing: the same one was recorded already (a redelivery, or a
    signed body replayed after a reassignment or an outcome), or it happened before the current
    owner was assigned (it was someone else's touch)."""
    if ref and any(d.ref == ref for d in record.dispositions):
        return f"activity {ref[:80]} was recorded already"
    assigned_at = record.assignment.assigned_at if record.assignment else None
    if happened_at and assigned_at and happened_at < assigned_at:
        return (
            f"the activity at {iso(happened_at)} is older than the current assignment at {iso(assigned_at)}"
        )
    return None


def record_disposition(
    ports: Ports,
    lead_id: str,
    *,
    outcome: str,
    reason: str | None,
    note: str | None,
    by: str,
    now: datetime,
    rep_id: str | None = None,
    ref: str | None = None,
    happened_at: datetime | None = None,
    recycle_until: date | None = None,
    named_owner: str | None = None,
) -> dict[str, str]:
    """Record a rep's outcome. The current owner's first one completes the SLA wait; one from a
    rep who no longer owns the lead is kept (stale) but changes nothing; a repeat is a no-op.
    A CRM activity names itself (``ref``) and, when it can, when it happened: one recorded
    already, or older than the current assignment, is answered ignored and changes nothing.
    The owner's wrong_owner flag (naming the right rep in ``named_owner``, or not) is no touch:
    the lead is reassigned (handoff.service.reassign)."""
    validate_outcome(ports, outcome, reason)
    leads = ports.leads
    item = leads.get_item(lead_id)
    if item is None:
        raise NotFound(f"lead {lead_id} not found")
    record = LeadRecord.model_validate(item)
    recycle.check(outcome, recycle_until, now, record.assignment.rep_timezone if record.assignment else "UTC")
    if record.status not in OPEN_STATUSES:
        raise Conflict(f"lead {lead_id} is {record.status.value}; dispositions need an assigned lead")
    ignored = _not_a_touch(record, ref, happened_at)
    if ignored is not None:
        logger.info("crm activity ignored", extra={"lead_id": lead_id, "reason": ignored})
        return {"lead_id": lead_id, "status": "ignored", "reason": ignored}
    assignment = record.assignment
    stale = bool(rep_id and assignment and rep_id != assignment.rep_id)
    if reason == reassign.WRONG_OWNER and not stale:
        return _flag_wrong_owner(
            ports, record, outcome=outcome, note=note, by=by, ref=ref, named_owner=named_owner, now=now
        )
    disposition = Disposition(
        outcome=outcome,
        reason=reason,
        note=note,
        at=now,
        by=by,
        stale=stale,
        ref=ref,
        recycle_until=recycle_until,
    )
    last = record.dispositions[-1] if record.dispositions else None
    if (
        last
        and (last.outcome, last.reason, last.by, last.stale) == (outcome, reason, by, stale)
        and not cadence.another_attempt(record, outcome, last.at)
    ):
        return {"lead_id": lead_id, "status": record.status.value, "outcome": outcome, "duplicate": "true"}
    ports.dispositions.put(lead_id, disposition, tier=record.qualification.tier, source=record.source)
    if stale:
        leads.update(
            lead_id,
            append={"dispositions": [disposition.model_dump(mode="json")]},
            timeline=[
                TimelineEntry(
                    at=now, event="disposition", detail=f"{outcome} from {rep_id}, who no longer owns it"
                )
            ],
        )
        return {"lead_id": lead_id, "status": record.status.value, "outcome": outcome, "stale": "true"}

    config = ports.config
    tier = record.qualification.tier
    final = outcome in config.dispositions.final
    since = assignment.assigned_at if assignment else record.received_at
    first_touch = not any(not d.stale and d.at >= since for d in record.dispositions)
    fields: dict[str, object] = {"status": (LeadStatus.CLOSED if final else LeadStatus.WORKING).value}
    fields |= cadence.after_outcome(
        record,
        outcome,
        reason,
        final=final,
        config=config.cadence,
        working_time=hours.of_rep(ports, assignment) if assignment else None,
        now=now,
    )
    remove: tuple[str, ...] = ()
    if first_touch:
        seconds = round((now - record.received_at).total_seconds(), 3)
        fields["first_touch_seconds"] = seconds
        lead_metric("TimeToFirstTouch", seconds, tier=tier, source=record.source, unit=MetricUnit.Seconds)
    if first_touch and record.sla is not None and record.sla.state == SlaState.PENDING:
        met = now <= record.sla.due_at
        fields["sla.state"] = (SlaState.MET if met else SlaState.BREACHED).value
        remove = ("sla_state", "sla_due_at")
        # The dashboard counts leads as the report does (LeadRecord.sla_met): by the first rep's
        # deadline. A later rep's touch on a reassigned lead is no SLA met; its breach was counted.
        if met and not record.assignment_history:
            lead_metric("SLAMet", 1, tier=tier, source=record.source)
        elif not met:
            sla.count_breach(record)
    leads.update(
        lead_id,
        set_fields=fields,
        append={"dispositions": [disposition.model_dump(mode="json")]},
        remove=remove,
        timeline=[
            TimelineEntry(
                at=now,
                event="disposition",
                detail=f"{outcome}{f' ({reason})' if reason else ''}"
                + (f" until {recycle_until.isoformat()}" if recycle_until else ""),
            ),
            TimelineEntry(at=now, event="crm_status", detail=outcome),
        ],
        expect_status=OPEN_STATUSES,
    )
    # The slot first: a failure in what follows must not leave it counted (a retried request
    # finds the lead closed and stops before this line).
    if final and assignment is not None and assignment.claimed:
        ports.reps.release(assignment.rep_id, lead_id)
    crm_sync.request(ports, record, outcome)
    token = item.get("task_token")
    if first_touch and token:
        _complete_wait(ports, lead_id, token, outcome)
    lead_metric("Dispositions", 1, tier=tier, source=record.source, outcome=outcome)
    return {"lead_id": lead_id, "status": str(fields["status"]), "outcome": outcome}


def _flag_wrong_owner(
    ports: Ports,
    record: LeadRecord,
    *,
    outcome: str,
    note: str | None,
    by: str,
    ref: str | None,
    named_owner: str | None,
    now: datetime,
) -> dict[str, str]:
    """The owner says the lead is not theirs: keep the flag (no touch: stale) and move the
    lead, to the rep they named, else to the next one routing picks without them."""
    named = reassign.named_rep(ports, named_owner, "owner")
    reassign.check(record, named, "owner")
    last = record.dispositions[-1] if record.dispositions else None
    if last and last.reason == reassign.WRONG_OWNER and last.by == by and record.reassign_request:
        return {"lead_id": record.lead_id, "status": "reassigning", "outcome": outcome, "duplicate": "true"}
    disposition = Disposition(
        outcome=outcome,
        reason=reassign.WRONG_OWNER,
        note=note,
        at=now,
        by=by,
        stale=True,
        ref=ref,
        named_owner=named,
    )
    ports.dispositions.put(record.lead_id, disposition, tier=record.qualification.tier, source=record.source)
    ports.leads.update(
        record.lead_id,
        append={"dispositions": [disposition.model_dump(mode="json")]},
        timeline=[
            TimelineEntry(
                at=now, event="disposition", detail="wrong owner" + (f"; names {named}" if named else "")
            )
        ],
    )
    lead_metric("WrongOwner", 1, tier=record.qualification.tier, source=record.source)
    answer = reassign.request(
        ports, record.lead_id, because=reassign.WRONG_OWNER, to_rep_id=named, by=by, note=note, now=now
    )
    return {**answer, "outcome": outcome}
