"""The route step: walk the routing plan, claim capacity, start the SLA clock."""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import NamedTuple

from pydantic import BaseModel, Field

from handoff.domain.crm_write import writes_owner
from handoff.domain.record import (
    UNASSIGNED_REP,
    Assignment,
    CadenceState,
    ConsideredRep,
    LeadRecord,
    LeadStatus,
    Sla,
    TimelineEntry,
    iso,
)
from handoff.domain.rep import Rep
from handoff.domain.route import Candidate, RoutePlan, Step, among_next_turns, availability, plan_route
from handoff.errors import ClaimConflict, Conflict, NotFound, StorageError
from handoff.observability import MetricUnit, lead_metric, logger, metrics
from handoff.service import crm_sync, hours
from handoff.service.executions import check_at
from handoff.service.ports import Ports

# Re-plans allowed when other routers keep taking the same turn; then the workflow's
# Retry on ClaimConflict takes over, with its own backoff.
MAX_PLANS = 8
EXACT_TURN_PLANS = 1
REPLAN_BACKOFF_SECONDS = 0.02


class RouteResult(BaseModel):
    lead_id: str
    # The workflow's .waitForTaskToken timeout; Step Functions refuses anything under 1 second.
    sla_seconds: int = Field(ge=1)


def _wait_left(ports: Ports, record: LeadRecord, now: datetime) -> int:
    """A retried step's wait: what is left of the SLA already set (at least a second, so an
    overdue lead lapses as soon as its rep is at work and climbs the ladder), or a fresh clock if
    none was set."""
    if record.sla is None or record.assignment is None:
        return max(1, ports.config.sla_seconds(record.qualification.tier or "warm"))
    return hours.lapse_wait(ports, record.assignment, record.sla.due_at, now)


class _Replan(Exception):
    """Another router moved the queue between our read and our write."""


def reps_view(reps: list[Rep], now: datetime) -> list[dict[str, object]]:
    """What ops see in GET /reps: load, weight and whether each rep can take a lead now."""
    return [
        {
            "rep_id": rep.rep_id,
            "name": rep.name,
            "pools": rep.pools,
            "weight": rep.weight,
            "capacity": rep.capacity,
            "open_leads": rep.open_count,
            "daily_cap": rep.daily_cap,
            "today": rep.day_count if rep.day == rep.today(now) else 0,
            "active": rep.active,
            "ooo_until": rep.ooo_until.isoformat() if rep.ooo_until else None,
            "available": availability(rep, now) is None,
            "unavailable_because": availability(rep, now),
        }
        for rep in reps
    ]


class LeadFacts(NamedTuple):
    """What routing reads about the lead's contact and account, once per step."""

    open_handoff_rep: str | None
    account_owner: str | None


def lead_facts(ports: Ports, record: LeadRecord) -> LeadFacts:
    email_domain = record.contact.email.rsplit("@", 1)[-1]
    accounts = ports.accounts
    return LeadFacts(
        open_handoff_rep=ports.leads.open_handoff_rep(record.contact.email, record.lead_id),
        account_owner=accounts.owner_for(record.company.domain, email_domain) if accounts else None,
    )


def plan_for(
    ports: Ports,
    record: LeadRecord,
    now: datetime,
    named: tuple[str, str] | None,
    facts: LeadFacts,
) -> RoutePlan:
    """Plan from the reps as this function holds them and the lead's facts."""
    had_it = {a.rep_id for a in record.assignment_history} | (
        {record.assignment.rep_id} if record.assignment else set()
    )
    return plan_route(
        record,
        ports.reps.list_all(),
        ports.config.routing,
        now,
        open_handoff_rep=facts.open_handoff_rep,
        account_owner=facts.account_owner,
        # A person may name a rep who had the lead before; routing never picks one by itself.
        exclude=frozenset(had_it - {named[0]} if named else had_it),
        named=named,
        lazy=True,  # the overflow's steps are planned only if the claims walk that far
    )


def _claim_first(
    ports: Ports,
    lead_id: str,
    plan: RoutePlan,
    now: datetime,
    late_skips: list[ConsideredRep],
    *,
    exact_turn: bool = True,
) -> tuple[Step, Candidate, Rep, bool] | None:
    """The first candidate that takes the lead: (step, candidate, the rep as claimed, capacity claimed).

    Reps that filled up or went away between the plan and the claim land in ``late_skips``.
    Off the exact turn, the first rep tried is one of the pool's next few turns, at random.
    """
    for step in plan.walk():
        # Ranked only as far as the claims get.
        candidates = step.each() if exact_turn else among_next_turns(step.each(), random.randrange)
        for candidate in candidates:
            if not candidate.claims:
                return step, candidate, candidate.rep, False
            try:
                claimed = ports.reps.claim(
                    candidate.rep,
                    lead_id,
                    now,
                    next_vtime=candidate.next_vtime,
                    exact_turn=exact_turn,
                    over_capacity=candidate.over_capacity is not None,
                )
                return step, candidate, claimed, True
            except StorageError:
                # The claim may have landed with its answer lost (no answer within the SDK's
                # tries): give back whatever slot this lead holds with the rep before the step
                # fails, or its retry, routed to another rep, would leave this one counting it.
                ports.reps.release(candidate.rep.rep_id, lead_id)
                raise
            except ClaimConflict as conflict:
                fresh = conflict.as_found if conflict.reported else ports.reps.get(candidate.rep.rep_id)
                why = availability(fresh, now) if fresh else "removed"
                if why is None:
                    raise _Replan from None
                late_skips.append(
                    ConsideredRep(rep_id=candidate.rep.rep_id, skipped_because=f"{why} (meanwhile)")
                )
    return None


def _choose(
    ports: Ports, record: LeadRecord, now: datetime, named: tuple[str, str] | None = None
) -> Assignment:
    """Walk the plan and claim: the new assignment (the unassigned queue if nobody can take it)."""
    config = ports.config
    # A re-plan follows a race for a rep's turn, milliseconds later: the contact's open handoff
    # and the account's owner are read once, and only the reps are planned afresh.
    facts = lead_facts(ports, record)
    for attempt in range(MAX_PLANS):
        if attempt:
            # Jitter spreads routers that collided, so the next round mostly does not.
            time.sleep(random.uniform(0, REPLAN_BACKOFF_SECONDS * attempt))  # noqa: S311
        plan = plan_for(ports, record, now, named, facts)
        late_skips: list[ConsideredRep] = []
        try:
            # The first plan insists on the exact fair turn. A router that lost it to another takes
            # one of the next few turns instead, moving that rep's clock a turn on from where it
            # stands: contention costs the order of a few turns, never a lead or a rep's share.
            chosen = _claim_first(
                ports,
                record.lead_id,
                plan,
                now,
                late_skips,
                exact_turn=attempt < EXACT_TURN_PLANS,
            )
        except _Replan:
            continue
        break
    else:
        raise ClaimConflict(f"lead {record.lead_id}: the queue kept moving; the workflow retries")

    if chosen is None:
        metrics.add_metric(name="LeadsUnassigned", unit=MetricUnit.Count, value=1)
        logger.warning("lead unassigned", extra={"lead_id": record.lead_id})
        return Assignment(
            rep_id=UNASSIGNED_REP,
            rep_email=config.routing.unassigned_email,
            rep_name="Unassigned queue",
            rule="unassigned",
            reason="Nobody in the pool, its overflow or the manager queue could take it",
            assigned_at=now,
            considered=plan.kept(late=late_skips),
            claimed=False,
        )
    step, candidate, rep, claimed = chosen
    return Assignment(
        rep_id=rep.rep_id,
        rep_email=rep.email,
        rep_name=rep.name,
        manager_email=rep.manager_email,
        rep_timezone=rep.timezone,
        rep_working_hours=rep.working_hours,
        rep_country=rep.country,
        rep_region=rep.region,
        slack_secret=rep.slack_secret,
        pool=step.pool,
        rule=step.rule,
        reason=step.reason + (f" ({rep.open_count}/{rep.capacity} open)" if claimed else ""),
        assigned_at=now,
        # Only who was weighed up to the deciding step, then the rep who took it.
        considered=plan.kept(step.considered_upto, late_skips, took=rep.rep_id),
        claimed=claimed,
        over_capacity=candidate.over_capacity,
        ownership_notes=plan.ownership_notes(
            rep,
            record.crm.name(config.email.crm_name),
            owner_written=writes_owner(record, rep, config.crm_sync),
        ),
    )


def _store(
    ports: Ports,
    record: LeadRecord,
    assignment: Assignment,
    now: datetime,
    *,
    expect: LeadStatus,
    extra_fields: dict[str, object] | None = None,
    remove: tuple[str, ...] = (),
    notes: tuple[TimelineEntry, ...] = (),
) -> RouteResult:
    """Write the assignment and a fresh SLA clock, and ``notes`` after it on the timeline (one
    write, not one each); give the slot back if the write loses."""
    config = ports.config
    sla_clock = config.sla_seconds(record.qualification.tier or "warm")
    working = hours.of_rep(ports, assignment)
    due = hours.after(working, now, sla_clock)
    sla = Sla(due_at=due, seconds=max(1, hours.seconds_until(due, now)))
    # The workflow waits in wall-clock seconds, whatever the SLA counts, until the rep can be
    # reminded: the lapse, or the rep's next working moment after it.
    sla_seconds = hours.lapse_wait(ports, assignment, due, now)
    try:
        ports.leads.update(
            record.lead_id,
            set_fields={
                "status": LeadStatus.ASSIGNED.value,
                "check_at": check_at(ports, now),
                "assignment": assignment.model_dump(mode="json"),
                "sla": sla.model_dump(mode="json"),
                "sla_state": sla.state.value,
                "sla_due_at": iso(due),
                # The first deadline stays the one a breach is judged by (LeadRecord.sla_met).
                **({"first_due_at": iso(due)} if record.first_due_at is None else {}),
                **(extra_fields or {}),
            },
            remove=remove,
            timeline=[
                TimelineEntry(at=now, event="assigned", detail=f"{assignment.rep_id} via {assignment.rule}"),
                *notes,
            ],
            expect_status=(expect,),
        )
    except (Conflict, StorageError):
        if _landed(ports, record.lead_id, assignment):
            # The write landed and only its answer was lost (no answer came, or the SDK's retry
            # met the write's own condition): the lead names the rep, so the slot stays.
            return RouteResult(lead_id=record.lead_id, sla_seconds=sla_seconds)
        # The write was refused or never arrived, so the lead names nobody: give the slot back
        # before the step fails, or its retry would hold a second one (a slot counted against
        # the rep for a lead that is not theirs, which nothing would give back).
        if assignment.claimed:
            ports.reps.release(assignment.rep_id, record.lead_id)
        raise
    metrics.add_metric(name="LeadsAssigned", unit=MetricUnit.Count, value=1)
    logger.info(
        "lead assigned",
        extra={"lead_id": record.lead_id, "rep_id": assignment.rep_id, "rule": assignment.rule},
    )
    return RouteResult(lead_id=record.lead_id, sla_seconds=sla_seconds)


def _landed(ports: Ports, lead_id: str, assignment: Assignment) -> bool:
    """Whether the lead, read afresh, already names this very assignment."""
    try:
        current = ports.leads.get(lead_id)
    except StorageError:
        return False
    stored = current.assignment if current else None
    return (
        stored is not None
        and stored.rep_id == assignment.rep_id
        and stored.assigned_at == assignment.assigned_at
    )


def _load(ports: Ports, lead_id: str) -> LeadRecord:
    record = ports.leads.get(lead_id)
    if record is None:
        raise NotFound(f"lead {lead_id} not found")
    return record


def route(ports: Ports, lead_id: str, now: datetime) -> RouteResult:
    record = _load(ports, lead_id)
    if record.assignment is not None and record.sla is not None:
        # A retried step: the claim already happened, never take a second slot.
        return RouteResult(lead_id=lead_id, sla_seconds=_wait_left(ports, record, now))
    refused = crm_sync.refusal_note(ports, record, "assigned", now)
    result = _store(
        ports, record, _choose(ports, record, now), now, expect=LeadStatus.ROUTING, notes=_kept(refused)
    )
    if refused is None:
        crm_sync.request(ports, record, "assigned")
    return result


def reassign(ports: Ports, lead_id: str, now: datetime) -> RouteResult:
    """The workflow's Reassign step, with a new SLA: the ladder's next rung (the next eligible
    rep, never one who had it), or a reassignment a person asked for (handoff.service.reassign):
    to the rep they named when that rep can take it, else routed as the ladder would."""
    record = _load(ports, lead_id)
    previous = record.assignment
    request = record.reassign_request
    if previous is None or (request is None and record.status != LeadStatus.ESCALATED):
        # A retried step: the reassignment already happened. The last owner's slot may not have
        # been given back if the step stopped in between; a release is safe to repeat.
        last = record.assignment_history[-1] if record.assignment_history else None
        if previous is not None and last is not None and last.claimed and last.rep_id != previous.rep_id:
            ports.reps.release(last.rep_id, lead_id)
        return RouteResult(lead_id=lead_id, sla_seconds=_wait_left(ports, record, now))
    if request is not None:
        because, by = request.because, request.by
        named = (
            (request.to_rep_id, f"Named by {by} ({because.replace('_', ' ')})") if request.to_rep_id else None
        )
    else:
        because, by, named = _ladder_cause(record, previous.rep_id), None, None
    assignment = _choose(ports, record, now, named).model_copy(
        update={"because": because, "requested_by": by}
    )
    history = [*record.assignment_history, previous]
    fields: dict[str, object] = {"assignment_history": [a.model_dump(mode="json") for a in history]}
    if record.cadence is not None and record.cadence.state == CadenceState.RUNNING:
        fields["cadence.state"] = CadenceState.STOPPED.value  # the follow-up was the last owner's
    refused = crm_sync.refusal_note(ports, record, "assigned", now)
    reassigned = TimelineEntry(
        at=now,
        event="reassigned",
        detail=f"{previous.rep_id} -> {assignment.rep_id} ({because}{f', by {by}' if by else ''})",
    )
    result = _store(
        ports,
        record,
        assignment,
        now,
        expect=record.status,
        extra_fields=fields,
        remove=("reassign_request",) if request is not None else (),
        notes=(reassigned, *_kept(refused)),
    )
    if previous.claimed:
        ports.reps.release(previous.rep_id, lead_id)
    lead_metric("Reassignments", 1, tier=record.qualification.tier, source=record.source, because=because)
    if refused is None:
        crm_sync.request(ports, record, "assigned", round=len(history))
    return result


def _kept(note: TimelineEntry | None) -> tuple[TimelineEntry, ...]:
    return () if note is None else (note,)


def _ladder_cause(record: LeadRecord, rep_id: str) -> str:
    """Why the ladder moves the lead: its escalation of this owner says (sla_lapsed, brief_bounced)."""
    escalation = next((e for e in reversed(record.escalations) if e.get("to_rep") == rep_id), None)
    return str((escalation or {}).get("because") or "sla_lapsed")
