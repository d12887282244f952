"""What Handoff stores about a lead, and what ``GET /leads/{id}`` returns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from handoff.domain.clock import utcnow
from handoff.domain.deal import Deal
from handoff.domain.lead import Activity, Company, Contact, CrmRef, Lead, Trigger
from handoff.domain.sla import WorkingTime


class LeadStatus(StrEnum):
    NURTURE = "nurture"
    ROUTING = "routing"
    ASSIGNED = "assigned"
    NOTIFIED = "notified"
    WORKING = "working"
    ESCALATED = "escalated"
    RENURTURED = "renurtured"
    CLOSED = "closed"
    FAILED = "failed"


# Statuses in which a lead has an owner who can still record an outcome.
OPEN_STATUSES = (LeadStatus.ASSIGNED, LeadStatus.NOTIFIED, LeadStatus.WORKING, LeadStatus.ESCALATED)
# Statuses in which a workflow should be running for the lead.
IN_FLIGHT = frozenset({"routing", "assigned", "notified", "escalated"})
# Statuses kept in the by_open_status index: in flight, plus failed (which sla_check escalates).
INDEXED = IN_FLIGHT | {"failed"}


class Reason(BaseModel):
    """A machine code plus a sentence a rep would understand."""

    code: str
    text: str
    points: float = 0


class Qualification(BaseModel):
    ready: bool
    tier: str | None = None
    score: float
    fit: float
    intent: float
    next_step: str | None = None
    persona: str | None = None
    reasons: list[Reason] = Field(default_factory=list)
    # Why the lead can never be ready as it stands: an exclusion code, or missing segmentation fields.
    excluded: str | None = None
    missing: list[str] = Field(default_factory=list)


class ConsideredRep(BaseModel):
    rep_id: str
    skipped_because: str | None = None


# The rep id of the unassigned queue: nobody could take the lead, so sales ops own it for now.
UNASSIGNED_REP = "unassigned"


class Assignment(BaseModel):
    rep_id: str
    rep_email: str
    rep_name: str | None = None
    manager_email: str | None = None
    pool: str | None = None
    rule: str
    reason: str
    assigned_at: datetime
    # False when no capacity slot was taken (the rep already held this contact, or nobody did).
    claimed: bool = True
    # Why an owner took it past their capacity or daily cap; their manager gets a copy of the brief.
    over_capacity: str | None = None
    # For the brief: whose account and whose contact it is, when that is someone else.
    ownership_notes: list[str] = Field(default_factory=list)
    # Why this assignment replaced the one before (None for the first): sla_lapsed or
    # brief_bounced (the ladder), wrong_owner (the rep before flagged it), manual (a person moved it).
    because: str | None = None
    # Who asked for a wrong_owner or manual reassignment (the rep, or the API caller's name).
    requested_by: str | None = None
    rep_timezone: str = "UTC"
    rep_working_hours: str | None = None
    # Whose public holidays stop the rep's SLA clock (the rep's country and region).
    rep_country: str | None = None
    rep_region: str | None = None
    slack_secret: str | None = None
    considered: list[ConsideredRep] = Field(default_factory=list)


class Notification(BaseModel):
    channel: str = "email"
    to: str
    kind: str
    sent_at: datetime
    message_id: str | None = None
    # Which assignment it belongs to: 0 for the first rep, 1 after the first reassignment, ...
    round: int = 0


class SlaState(StrEnum):
    PENDING = "pending"
    MET = "met"
    BREACHED = "breached"


class Sla(BaseModel):
    due_at: datetime
    seconds: int
    state: SlaState = SlaState.PENDING


class Disposition(BaseModel):
    outcome: str
    reason: str | None = None
    note: str | None = None
    at: datetime
    by: str
    # Kept, but it neither touches nor closes the lead: recorded from a rep who no longer owns
    # it, or a wrong_owner flag (the lead is reassigned, nobody worked it).
    stale: bool = False
    # wrong_owner: the rep the flagging owner named as the right one (a rep id), if any.
    named_owner: str | None = None
    # The CRM activity it came from ("hubspot:...", "salesforce:00T..."), or the one-click link
    # ("link:<nonce>"): the same activity delivered again, or replayed, is recognised and changes nothing.
    ref: str | None = None
    # A recycled lead may come back to sales from this day (the rep's choice; optional).
    recycle_until: date | None = None


class ReassignRequest(BaseModel):
    """A reassignment asked for outside the ladder, waiting for the workflow's Reassign step."""

    because: str  # wrong_owner or manual
    to_rep_id: str | None = None  # the rep named; None lets routing choose
    by: str
    note: str | None = None
    at: datetime


class CadenceState(StrEnum):
    RUNNING = "running"
    # Another outcome ended it: connected or sales accepted (the rep reached them), or a final one.
    STOPPED = "stopped"
    # It ran out without a final outcome: the lead was recycled (no_response).
    RAN_OUT = "ran_out"


class Cadence(BaseModel):
    """The follow-up after an "attempted" outcome (handoff.domain.cadence): attempt k + 1 is due
    ``k * step_seconds`` after ``started_at``, counted in the rep's ``working_time`` (None: the
    wall clock), and the cadence runs out after ``attempts`` steps."""

    started_at: datetime
    attempts: int
    step_seconds: int
    working_time: WorkingTime | None = None
    # Reminders sent so far (the first is for attempt 2).
    reminded: int = 0
    # When the next step is due: a reminder, or the end.
    next_at: datetime
    state: CadenceState = CadenceState.RUNNING


class TimelineEntry(BaseModel):
    at: datetime
    event: str
    detail: str = ""


def iso(moment: datetime) -> str:
    """One fixed-width UTC format, so stored timestamps sort as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class CrmTask(BaseModel):
    """A task Handoff created for the owner in the CRM: one per assignment round."""

    system: str
    task_id: str
    round: int
    due_at: datetime
    created_at: datetime


class LeadRecord(BaseModel):
    """What Handoff stores about a lead, and what ``GET /leads/{id}`` returns."""

    model_config = ConfigDict(extra="ignore")

    lead_id: str
    status: LeadStatus
    source: str
    event_id: str
    received_at: datetime
    # When the sender says the event happened: intent decays from here, so a replay (tune,
    # simulate) scores the lead exactly as the live decision did.
    occurred_at: datetime | None = None
    contact: Contact
    company: Company
    crm: CrmRef
    trigger: Trigger
    score: float | None = None
    activities: list[Activity] = Field(default_factory=list)
    qualification: Qualification
    assignment: Assignment | None = None
    # Earlier assignments, oldest first, when the ladder reassigned the lead.
    assignment_history: list[Assignment] = Field(default_factory=list)
    notifications: list[Notification] = Field(default_factory=list)
    sla: Sla | None = None
    # The first rep's deadline: a breach is judged against it, whoever holds the lead now.
    first_due_at: datetime | None = None
    escalations: list[dict[str, Any]] = Field(default_factory=list)
    dispositions: list[Disposition] = Field(default_factory=list)
    # The follow-up after an "attempted" outcome, while one runs (and how the last one ended).
    cadence: Cadence | None = None
    # Deals and opportunities attributed to this handoff (handoff.domain.deal), newest last.
    deals: list[Deal] = Field(default_factory=list)
    # Tasks created for the owner in the CRM (crm_sync), so a redelivered request makes no second.
    crm_tasks: list[CrmTask] = Field(default_factory=list)
    # A wrong_owner or manual reassignment on its way (handoff.service.reassign).
    reassign_request: ReassignRequest | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)

    @property
    def first_touch_at(self) -> datetime | None:
        """When a rep first touched the lead (any outcome the lead's owner recorded)."""
        touches = [d.at for d in self.dispositions if not d.stale]
        return min(touches) if touches else None

    def sla_met(self, now: datetime) -> bool | None:
        """The one definition of an SLA breach, for the report, the tuning job, the dashboard and
        the demo: no first touch by the first deadline. True met, False breached, None while the
        deadline is still ahead (or the lead never reached a rep)."""
        due = self.first_due_at
        if due is None and self.sla is not None and not self.assignment_history:
            due = self.sla.due_at  # stored before first_due_at was kept
        if due is None:
            # Stored before first_due_at was kept: a reassignment only ever follows a lapse.
            return False if self.assignment_history else None
        touched = self.first_touch_at
        if touched is not None:
            return touched <= due
        return False if now >= due else None

    def recent_activities(self, limit: int = 5) -> list[Activity]:
        """Newest first, whatever order the CRM sent them in; undated ones last."""
        dated = sorted((a for a in self.activities if a.at), key=lambda a: a.at or utcnow(), reverse=True)
        undated = [a for a in self.activities if not a.at]
        return (dated + undated)[:limit]

    @classmethod
    def from_lead(cls, lead: Lead, qualification: Qualification, now: datetime) -> LeadRecord:
        status = LeadStatus.ROUTING if qualification.ready else LeadStatus.NURTURE
        detail = "sales-ready" if qualification.ready else "not sales-ready: kept in nurture"
        return cls(
            lead_id=lead.lead_id,
            status=status,
            source=lead.source,
            event_id=lead.event_id,
            received_at=now,
            # The moment the lead was scored against: a replay scores it the same way.
            occurred_at=lead.occurred_at or now,
            contact=lead.contact,
            company=lead.company,
            crm=lead.crm,
            trigger=lead.trigger,
            score=lead.score,
            activities=lead.activities,
            qualification=qualification,
            timeline=[
                TimelineEntry(at=now, event="received", detail=f"trigger {lead.trigger.type}"),
                TimelineEntry(at=now, event="qualified", detail=detail),
            ],
        )
