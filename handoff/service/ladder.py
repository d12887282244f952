"""The SLA ladder after a lapse: remind the rep, escalate to the manager, and finally hand the
lead back to marketing; plus the one email about a lead the workflow gave up on. The
reassignment rung is routing's (handoff.service.routing.reassign)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from handoff.deploy.settings import settings
from handoff.domain.clock import local
from handoff.domain.record import Assignment, LeadRecord, LeadStatus, SlaState, TimelineEntry
from handoff.email.brief import build_escalation, build_reminder, build_renurture, ladder_next
from handoff.email.render import render_escalation, render_failure, render_reminder, render_renurture
from handoff.errors import Conflict
from handoff.observability import MetricUnit, lead_metric, metrics
from handoff.service import crm_sync, hours, sla
from handoff.service.executions import NEVER, check_at
from handoff.service.notify import disposition_links, load_assigned, send_once
from handoff.service.ports import Ports

BRIEF_BOUNCED = "BriefBounced"


class Rung(NamedTuple):
    """What the escalation step tells the workflow: the next rung ("reassign", "renurture",
    "touched", or "later": the manager is off, escalate again after the wait), and how long to
    wait first so that it lands inside working time."""

    next: str
    wait_seconds: int


def reader_zone(ports: Ports, email: str, otherwise: str) -> str:
    """The time zone of whoever reads an email: theirs when they are on the reps table (a
    manager usually is), else ``otherwise`` (the rep's, the team they look after)."""
    found = hours.rep_by_email(ports, email)
    return found.timezone if found else otherwise


def _escalation_wait(ports: Ports, assignment: Assignment, grace: int, now: datetime) -> int:
    """The grace period counts the rep's working time; then the escalation waits for the manager's."""
    rep = hours.of_rep(ports, assignment)
    manager = hours.of_reader(ports, hours.rep_by_email(ports, assignment.manager_email), assignment)
    end = hours.after(rep, now, grace)
    return hours.seconds_until(manager.next_open(end) if manager else end, now)


def remind(ports: Ports, lead_id: str, now: datetime) -> int:
    """The SLA lapsed: nudge the rep and give the configured grace period. The answer is how long
    the workflow waits before the escalation (seconds; 0: at once)."""
    record, assignment = load_assigned(ports, lead_id)
    grace = ports.config.escalation.reminder_grace_seconds
    if record.status != LeadStatus.NOTIFIED:
        return 0  # touched meanwhile: nothing more to wait for
    if grace == 0:
        return _escalation_wait(ports, assignment, 0, now)  # no reminder; the manager's hours still hold
    # Worked out before the reminder goes, so it names the moment the manager really hears.
    wait = max(1, _escalation_wait(ports, assignment, grace, now))
    notifications = send_once(
        ports,
        record,
        "reminder",
        assignment.rep_email,
        # The brief's buttons again (fresh links: each works once), so the rep can act from here.
        lambda: render_reminder(
            build_reminder(
                record,
                ports.config,
                now,
                now + timedelta(seconds=wait),
                disposition_links(ports, record, assignment, now),
            )
        ),
        now=now,
    )
    try:
        ports.leads.update(
            lead_id,
            set_fields={"sla.state": SlaState.BREACHED.value},
            append={"notifications": [n.model_dump(mode="json") for n in notifications]},
            remove=("sla_state", "sla_due_at"),
            timeline=[
                TimelineEntry(
                    at=now, event="reminded", detail=f"SLA lapsed; {grace} s grace before escalation"
                )
            ],
            expect_status=(LeadStatus.NOTIFIED,),
        )
    except Conflict:
        return 0  # touched meanwhile: nothing to wait for
    sla.count_breach(record)
    metrics.add_metric(name="Reminders", unit=MetricUnit.Count, value=1)
    return wait


def escalate(ports: Ports, lead_id: str, now: datetime, *, bounced: bool = False) -> Rung:
    """No touch after the reminder, or the brief never arrived: tell the manager, mark the lead
    escalated, and say what comes next: "reassign" while reassignments remain, else "renurture",
    each once the rep is at work. A manager who is off (a bounce or a resumed lead can arrive at
    night) is told nothing yet: "later", with the wait until they are at work."""
    record, assignment = load_assigned(ports, lead_id)
    following = ladder_next(record, ports.config)  # the rule the reminder's wording states
    after = hours.until_open(hours.of_rep(ports, assignment), now)
    if record.status == LeadStatus.ESCALATED:
        return Rung(following, after)  # a retried step, or a resumed lead: already done
    if record.reassign_request is not None and record.status in (LeadStatus.NOTIFIED, LeadStatus.ASSIGNED):
        # Someone asked for a reassignment as the wait ran out: do that, not the ladder's rungs.
        return Rung("reassign", 0)
    if record.status not in (LeadStatus.NOTIFIED, LeadStatus.ASSIGNED):
        return Rung("touched", 0)  # the rep got there just as the wait ran out: nothing to escalate
    # The manager is looked up once: for their hours, and for the time zone the email uses.
    reader = hours.rep_by_email(ports, assignment.manager_email)
    manager = hours.of_reader(ports, reader, assignment)
    off = manager.outside(now) if manager else None
    if manager and off:
        opens = manager.next_open(now)
        when = f"{local(opens, manager.timezone):%a %d %b %H:%M} {manager.timezone}"
        ports.leads.update(
            lead_id,
            timeline=[
                TimelineEntry(
                    at=now, event="escalation_held", detail=f"the manager is off ({off}); escalating {when}"
                )
            ],
        )
        return Rung("later", max(1, hours.seconds_until(opens, now)))
    # One email per rung, to one person: the manager, or sales ops for a rep without one (the
    # rep already had the reminder; an escalation to themselves escalates nothing).
    to = assignment.manager_email or ports.config.routing.unassigned_email
    notifications = send_once(
        ports,
        record,
        "escalation",
        to,
        lambda: render_escalation(
            build_escalation(
                record,
                ports.config,
                now,
                zone=reader.timezone
                if reader is not None
                else reader_zone(ports, to, assignment.rep_timezone),
                following=following,
                bounced=bounced,
                base_url=settings().public_base_url,
            )
        ),
        now=now,
    )
    ports.leads.update(
        lead_id,
        set_fields={
            "status": LeadStatus.ESCALATED.value,
            "sla.state": SlaState.BREACHED.value,
            # The next rung runs once the rep is at work.
            "check_at": check_at(ports, now, after),
        },
        append={
            "notifications": [n.model_dump(mode="json") for n in notifications],
            "escalations": [
                {
                    "at": now.isoformat(),
                    "step": "manager",
                    "to_rep": assignment.rep_id,
                    "because": "brief_bounced" if bounced else "sla_lapsed",
                    "next": following,
                }
            ],
        },
        remove=("sla_state", "sla_due_at"),
        timeline=[
            TimelineEntry(
                at=now,
                event="escalated",
                detail=(
                    "the brief bounced or was marked as spam" if bounced else "no touch after the reminder"
                )
                + f"; {'manager' if assignment.manager_email else 'sales ops'} emailed; next: {following}",
            )
        ],
        expect_status=(LeadStatus.NOTIFIED, LeadStatus.ASSIGNED),
    )
    if not bounced and record.sla is not None and record.sla.state != SlaState.BREACHED:
        sla.count_breach(record)  # no reminder rung ([escalation] reminder_grace_seconds = 0)
    lead_metric("Escalations", 1, tier=record.qualification.tier, source=record.source)
    return Rung(following, after)


def renurture(ports: Ports, lead_id: str, now: datetime) -> None:
    """Every rung tried: the lead goes back to marketing, the rep's slot is freed, ops hear about it."""
    record, assignment = load_assigned(ports, lead_id)
    if record.status != LeadStatus.ESCALATED:
        return  # already handed back, or touched while the step waited for the rep's hours
    to = ports.config.escalation.marketing_ops_email
    notifications = send_once(
        ports,
        record,
        "renurture",
        to,
        lambda: render_renurture(
            build_renurture(record, ports.config, now, zone=reader_zone(ports, to, assignment.rep_timezone))
        ),
        now=now,
    )
    ports.leads.update(
        lead_id,
        set_fields={"status": LeadStatus.RENURTURED.value},
        append={"notifications": [n.model_dump(mode="json") for n in notifications]},
        remove=("sla_state", "sla_due_at"),
        timeline=[
            TimelineEntry(
                at=now, event="renurtured", detail="handed back to marketing; marketing ops emailed"
            ),
            # The CRM status write-back hook: the CRM sync step picks this up.
            TimelineEntry(at=now, event="crm_status", detail="renurtured"),
        ],
        expect_status=(LeadStatus.ESCALATED,),
    )
    if assignment.claimed:  # before the CRM request, whose failure must not keep the slot
        ports.reps.release(assignment.rep_id, lead_id)
    crm_sync.request(ports, record, "renurtured")
    lead_metric("Renurtured", 1, tier=record.qualification.tier, source=record.source)


def escalate_failure(ports: Ports, lead_id: str, now: datetime) -> None:
    """A lead the workflow gave up on: sales ops hear about it once, with the error, so a person acts."""
    item = ports.leads.get_item(lead_id)
    if item is None or item.get("failure_escalated"):
        return
    record = LeadRecord.model_validate(item)
    to = ports.config.routing.unassigned_email
    failure = item.get("failure") or {}
    notifications = send_once(
        ports,
        record,
        "failure",
        to,
        lambda: render_failure(record, str(failure.get("error", "unknown"))),
        now=now,
    )
    ports.leads.update(
        lead_id,
        # A person acts now; sla_check has nothing more to do for it until it is redriven.
        set_fields={"failure_escalated": True, "check_at": NEVER},
        append={"notifications": [n.model_dump(mode="json") for n in notifications]},
        timeline=[TimelineEntry(at=now, event="failure_escalated", detail=f"sales ops emailed ({to})")],
    )
    metrics.add_metric(name="FailuresEscalated", unit=MetricUnit.Count, value=1)
