"""The SLA ladder after a lapse: remind the rep, escalate to the manager, and finally hand the
lead back to marketing; plus the one email about a lead the workflow gave up on. The
reassignment rung is routing's (handoff.service.routing.reassign)."""

from __future__ import annotations

from datetime import datetime

from handoff.domain.record import LeadRecord, LeadStatus, SlaState, TimelineEntry
from handoff.email.render import render_escalation, render_failure, render_reminder, render_renurture
from handoff.errors import Conflict
from handoff.observability import MetricUnit, lead_metric, metrics
from handoff.service import crm_sync
from handoff.service.notify import assignment_round, load_assigned, send_once
from handoff.service.ports import Ports

BRIEF_BOUNCED = "BriefBounced"


def remind(ports: Ports, lead_id: str, now: datetime) -> int:
    """The SLA lapsed: nudge the rep and give the configured grace period (seconds, 0 for none)."""
    record, assignment = load_assigned(ports, lead_id)
    grace = ports.config.escalation.reminder_grace_seconds
    if record.status != LeadStatus.NOTIFIED or grace == 0:
        return 0  # touched meanwhile, or no reminder configured: nothing more to wait for
    notifications = send_once(
        ports, record, "reminder", assignment.rep_email, lambda: render_reminder(record, grace), now=now
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
    lead_metric("SLABreached", 1, tier=record.qualification.tier, source=record.source)
    metrics.add_metric(name="Reminders", unit=MetricUnit.Count, value=1)
    return grace


def escalate(ports: Ports, lead_id: str, now: datetime, *, bounced: bool = False) -> str:
    """No touch after the reminder, or the brief never arrived: tell the manager, mark the lead
    escalated, and say what comes next: "reassign" while reassignments remain, else "renurture"."""
    record, assignment = load_assigned(ports, lead_id)
    following = (
        "reassign" if assignment_round(record) < ports.config.escalation.reassignments else "renurture"
    )
    if record.status == LeadStatus.ESCALATED:
        return following  # a retried step: already done
    if record.status not in (LeadStatus.NOTIFIED, LeadStatus.ASSIGNED):
        return "touched"  # the rep got there just as the wait ran out: nothing to escalate
    to = assignment.manager_email or assignment.rep_email
    notifications = send_once(ports, record, "escalation", to, lambda: render_escalation(record), now=now)
    ports.leads.update(
        lead_id,
        set_fields={"status": LeadStatus.ESCALATED.value, "sla.state": SlaState.BREACHED.value},
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
                + f"; manager emailed; next: {following}",
            )
        ],
        expect_status=(LeadStatus.NOTIFIED, LeadStatus.ASSIGNED),
    )
    lead_metric("Escalations", 1, tier=record.qualification.tier, source=record.source)
    return following


def renurture(ports: Ports, lead_id: str, now: datetime) -> None:
    """Every rung tried: the lead goes back to marketing, the rep's slot is freed, ops hear about it."""
    record, assignment = load_assigned(ports, lead_id)
    if record.status == LeadStatus.RENURTURED:
        return
    to = ports.config.escalation.marketing_ops_email
    notifications = send_once(ports, record, "renurture", to, lambda: render_renurture(record), now=now)
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
    crm_sync.request(ports, record, "renurtured")
    if assignment.claimed:
        ports.reps.release(assignment.rep_id)
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
        set_fields={"failure_escalated": True},
        append={"notifications": [n.model_dump(mode="json") for n in notifications]},
        timeline=[TimelineEntry(at=now, event="failure_escalated", detail=f"sales ops emailed ({to})")],
    )
    metrics.add_metric(name="FailuresEscalated", unit=MetricUnit.Count, value=1)
