"""What each console page shows: views built from the ports, pure where they can be.

Every read goes through the indexes the rest of Handoff keeps (no table scans): the now-queue
reads by_sla (leads due within the hour), by_open_status (escalated and failed leads, and leads
whose step is late) and then each lead; results read by_received for the chosen period.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from handoff.api.requests import parse_json_object, parse_lead
from handoff.cli.explain import explain_lead
from handoff.console import scope
from handoff.domain.record import OPEN_STATUSES, UNASSIGNED_REP, LeadRecord, LeadStatus, SlaState
from handoff.domain.rep import Rep
from handoff.email.brief import ago, build_brief, crm_button, safe_url, until
from handoff.email.render import render_brief
from handoff.errors import BadRequest, NotFound
from handoff.insights.history import lead_of
from handoff.insights.kpis import CUTS
from handoff.service import redrive
from handoff.service.ports import Ports
from handoff.service.reassign import REASSIGNABLE
from handoff.service.routing import reps_view
from handoff.service.tuning import TuningOutput, measure

# "Will breach within the hour".
SOON = timedelta(hours=1)
# At most this many leads on the now-queue (each is one read); the oldest problems come first.
MAX_QUEUE = 200
UNASSIGNED = UNASSIGNED_REP
# Why a lead is on the now-queue, most urgent first.
FAILED, BREACHED, ESCALATED, UNASSIGNED_FLAG, DUE_SOON = (
    "failed",
    "breached",
    "escalated",
    "unassigned",
    "due soon",
)
URGENCY = (FAILED, BREACHED, ESCALATED, UNASSIGNED_FLAG, DUE_SOON)


def sla_words(record: LeadRecord, now: datetime) -> str:
    """The SLA left, in words: "breaches in 12 minutes", "breached 2 hours ago", "met"."""
    sla = record.sla
    if sla is None:
        return "no SLA yet"
    if sla.state == SlaState.MET or record.first_touch_at is not None:
        return "met"
    if sla.due_at > now and sla.state == SlaState.PENDING:
        return f"breaches {until(sla.due_at, now)}"
    return f"breached {ago(sla.due_at, now)}"


def flags(record: LeadRecord, now: datetime) -> list[str]:
    """Why the lead needs a person now (empty: it does not)."""
    found: list[str] = []
    status, sla = record.status, record.sla
    if status == LeadStatus.FAILED:
        found.append(FAILED)
    waiting = status in (LeadStatus.ASSIGNED, LeadStatus.NOTIFIED, LeadStatus.ESCALATED)
    if waiting and sla is not None and record.first_touch_at is None:
        if sla.state == SlaState.BREACHED or sla.due_at <= now:
            found.append(BREACHED)
        elif sla.due_at <= now + SOON:
            found.append(DUE_SOON)
    if status == LeadStatus.ESCALATED:
        found.append(ESCALATED)
    if status in OPEN_STATUSES and record.assignment is not None and record.assignment.rep_id == UNASSIGNED:
        found.append(UNASSIGNED_FLAG)
    return found


class QueueRow(BaseModel):
    lead_id: str
    who: str
    company: str
    owner: str
    sla: str
    status: str
    step: str
    flags: list[str]
    can_redrive: bool


def step_of(record: LeadRecord) -> str:
    """The step the lead is at: its status and what last happened to it."""
    last = record.timeline[-1] if record.timeline else None
    if last is None:
        return record.status.value
    return f"{record.status.value}: {last.event.replace('_', ' ')}" + (
        f" ({last.detail[:120]})" if last.detail else ""
    )


def queue_row(record: LeadRecord, now: datetime) -> QueueRow:
    owner = record.assignment.rep_name or record.assignment.rep_id if record.assignment else "nobody yet"
    return QueueRow(
        lead_id=record.lead_id,
        who=record.contact.full_name,
        company=record.company.name or record.company.domain or "",
        owner=owner,
        sla=sla_words(record, now),
        status=record.status.value,
        step=step_of(record),
        flags=flags(record, now),
        can_redrive=record.status == LeadStatus.FAILED,
    )


def _candidate_ids(ports: Ports, now: datetime) -> Iterator[str]:
    """Lead ids that may need a person, from the indexes only: the pending SLAs due within the
    hour (or past), the unassigned queue, escalated and failed leads, and leads whose step should
    have ended."""
    yield from ports.leads.overdue(now + SOON)
    yield from ports.leads.unassigned()
    for status in (LeadStatus.FAILED.value, LeadStatus.ESCALATED.value):
        start: Any = None
        while True:
            items, start = ports.leads.in_status(status, 100, start)
            yield from (str(item["lead_id"]) for item in items)
            if not start:
                break
    for status in (LeadStatus.ROUTING.value, LeadStatus.ASSIGNED.value, LeadStatus.NOTIFIED.value):
        yield from (str(item["lead_id"]) for item in ports.leads.late(status, now))


def now_queue(ports: Ports, now: datetime, members: frozenset[str] | None) -> list[QueueRow]:
    """The now-queue: failed, breached, escalated, unassigned and soon-to-breach leads the viewer
    may see, most urgent first."""
    seen: set[str] = set()
    rows: list[tuple[int, datetime, QueueRow]] = []
    for lead_id in _candidate_ids(ports, now):
        if lead_id in seen:
            continue
        seen.add(lead_id)
        if len(seen) > MAX_QUEUE:
            break
        record = ports.leads.get(lead_id)
        if record is None or not scope.may_see_lead(record, members):
            continue
        row = queue_row(record, now)
        if row.flags:
            due = record.sla.due_at if record.sla else record.received_at
            rows.append((min(URGENCY.index(f) for f in row.flags), due, row))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [row for _, _, row in rows]


class LeadView(BaseModel):
    record: LeadRecord
    sla: str
    flags: list[str]
    crm_name: str
    crm_url: str | None
    company_url: str | None
    brief_text: str | None
    brief_sent_at: datetime | None
    # The outcomes a rep may record (outcome -> its reasons; none: any or no reason).
    outcomes: dict[str, list[str]]
    reassignable: bool
    owner_can_record: bool
    can_redrive: bool
    # Reps the lead may be moved to (the viewer's team for a manager), by id and label.
    targets: list[tuple[str, str]]


def brief_as_sent(record: LeadRecord, ports: Ports) -> tuple[str | None, datetime | None]:
    """The current owner's brief, rendered again from the record at the time it was sent: the
    plain-text part, with no outcome links (they are the rep's, signed for them alone)."""
    assignment = record.assignment
    if assignment is None or record.sla is None:
        return None, None
    sent = [n for n in record.notifications if n.kind == "brief" and n.to == assignment.rep_email]
    if not sent:
        return None, None
    at = sent[-1].sent_at
    return render_brief(build_brief(record, ports.config, at, [])).text, at


def lead_view(
    ports: Ports, record: LeadRecord, reps: list[Rep], members: frozenset[str] | None, now: datetime
) -> LeadView:
    config = ports.config
    crm_name, crm_url = crm_button(record, config)
    brief_text, brief_at = brief_as_sent(record, ports)
    owner = record.assignment.rep_id if record.assignment else None
    targets = [
        (rep.rep_id, f"{rep.name or rep.rep_id} ({rep.open_count}/{rep.capacity} open)")
        for rep in reps
        if rep.active and rep.rep_id != owner and (members is None or rep.rep_id in members)
    ]
    return LeadView(
        record=record,
        sla=sla_words(record, now),
        flags=flags(record, now),
        crm_name=crm_name,
        crm_url=crm_url,
        company_url=safe_url(f"https://{record.company.domain}") if record.company.domain else None,
        brief_text=brief_text,
        brief_sent_at=brief_at,
        outcomes={k: list(v) for k, v in config.dispositions.reasons.items()},
        reassignable=record.status in REASSIGNABLE and record.assignment is not None,
        owner_can_record=record.status in OPEN_STATUSES and owner not in (None, UNASSIGNED),
        can_redrive=record.status == LeadStatus.FAILED,
        targets=targets,
    )


def load_lead(ports: Ports, lead_id: str, members: frozenset[str] | None) -> LeadRecord:
    """The lead, if it exists and the viewer may see it: else a 404 or a 403 naming it."""
    record = ports.leads.get(lead_id)
    if record is None:
        raise NotFound(f"lead {lead_id} not found")
    scope.require_lead(record, members)
    return record


def redrive_lead(ports: Ports, lead_id: str, members: frozenset[str] | None, now: datetime) -> str:
    load_lead(ports, lead_id, members)
    return redrive.redrive(ports.leads, ports.workflow, lead_id, now)


class RepRow(BaseModel):
    view: dict[str, Any]
    timezone: str
    working_hours: str | None
    manager_email: str | None
    email: str


def reps_rows(reps: list[Rep], viewer: scope.Who, now: datetime) -> list[RepRow]:
    """Each rep the viewer may see: load against capacity, daily cap, hours, out of office, weight."""
    mine = [rep for rep in reps if scope.may_see_rep(viewer, rep)]
    return [
        RepRow(
            view=view,
            timezone=rep.timezone,
            working_hours=rep.working_hours,
            manager_email=rep.manager_email,
            email=rep.email,
        )
        for rep, view in zip(mine, reps_view(mine, now), strict=True)
    ]


def what_if(
    ports: Ports,
    now: datetime,
    *,
    lead_id: str | None,
    lead_json: bytes | None,
    members: frozenset[str] | None,
) -> list[str]:
    """`handoff route --explain` on a stored lead (by id) or a pasted one: nothing is claimed."""
    if lead_id:
        lead = lead_of(load_lead(ports, lead_id, members))
    elif lead_json:
        lead = parse_lead(parse_json_object(lead_json), ports.config)
    else:
        raise BadRequest("give a lead id or paste a lead's JSON", [{"field": "lead_id"}])
    accounts = ports.accounts
    return explain_lead(
        lead, ports.config, ports.reps.list_all(), accounts.owner_for if accounts else None, now
    )


@dataclass(frozen=True)
class Results:
    output: TuningOutput
    start: datetime
    end: datetime
    month: str | None
    cut: str


def period_of(month: str | None, now: datetime, lookback_days: int) -> tuple[datetime, datetime]:
    """A month "YYYY-MM" (to its end, or now), else the tuning job's window ending now."""
    if not month:
        return now - timedelta(days=lookback_days), now
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise BadRequest("month: a month as YYYY-MM, such as 2026-11", [{"field": "month"}]) from exc
    if start > now:
        raise BadRequest(f"month: {month} has not started yet", [{"field": "month"}])
    end = (start + timedelta(days=32)).replace(day=1)
    return start, min(end, now)


def results(
    ports: Ports, now: datetime, month: str | None, cut: str | None, members: frozenset[str] | None
) -> Results:
    """The report's KPIs for the period, cut one way, and its tuning proposals: measured from
    the leads table now, never applied. A manager's count only their team's leads."""
    by = cut or "tier"
    if by not in CUTS:
        raise BadRequest(f"cut: one of {', '.join(CUTS)}", [{"field": "cut"}])
    start, end = period_of(month, now, ports.config.tuning.lookback_days)
    only = None if members is None else (lambda record: scope.may_see_lead(record, members))
    return Results(measure(ports, start, end, now, cut=by, only=only), start, end, month, by)
