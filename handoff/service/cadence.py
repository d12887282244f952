"""The follow-up cadence after an "attempted" outcome, taken step by step by the sla_check sweep.

Each run finds the leads whose next step is due (the by_cadence index) and takes it: a reminder
to the rep, with the outcome buttons, for the next attempt; or, when the cadence has run out
without a final outcome, the recycle with reason no_response, recorded as a rep's outcome would
be (the lead closes, the rep's slot is freed, the CRM status follows). A step never goes out
while the rep is off: it waits for their next working moment. Lives in the sweep rather than the
workflow because the workflow ends at the first touch, and a cadence spans days.
"""

from __future__ import annotations

import time
from datetime import datetime

from handoff.domain import cadence as follow_up
from handoff.domain.record import CadenceState, LeadStatus, TimelineEntry, iso
from handoff.email.cadence import build_cadence
from handoff.email.render import render_cadence
from handoff.errors import Conflict, NotFound
from handoff.observability import MetricUnit, logger, metrics
from handoff.service import touch
from handoff.service.notify import disposition_links, send_since
from handoff.service.ports import Ports


def sweep(ports: Ports, now: datetime, *, budget_seconds: float = 30) -> dict[str, int]:
    """Take every due step this run has time for; the next run picks up the rest."""
    deadline = time.monotonic() + budget_seconds
    counts = {"reminded": 0, "recycled": 0, "waiting": 0}
    for lead_id in ports.leads.cadence_due(now):
        if time.monotonic() > deadline:
            break
        try:
            taken = take_step(ports, lead_id, now)
        except (Conflict, NotFound):
            continue  # an outcome landed meanwhile: the next run sees the lead as it is now
        if taken in counts:
            counts[taken] += 1
    for name, metric in (("reminded", "FollowUpReminders"), ("recycled", "FollowUpsRanOut")):
        if counts[name]:
            metrics.add_metric(name=metric, unit=MetricUnit.Count, value=counts[name])
    logger.info("cadence sweep", extra=counts)
    return counts


def take_step(ports: Ports, lead_id: str, now: datetime) -> str:
    """The due step for one lead: "reminded", "recycled", "waiting" (the rep is off), or
    "none" (its cadence no longer runs, or the index ran ahead of the record)."""
    record = ports.leads.get(lead_id)
    if record is None:
        return "none"
    current, assignment = record.cadence, record.assignment
    if (
        current is None
        or current.state != CadenceState.RUNNING
        or record.status != LeadStatus.WORKING
        or assignment is None
    ):
        # Left in the index by a write that raced an outcome (or the lead closed some other
        # way): nothing to follow up.
        if current is not None and current.state == CadenceState.RUNNING:
            ports.leads.update(lead_id, set_fields={"cadence.state": CadenceState.STOPPED.value})
        else:
            ports.leads.update(lead_id, remove=("cadence_state", "cadence_due_at"))
        return "none"
    opening = follow_up.next_working_moment(current, now)
    if opening > now:
        ports.leads.update(lead_id, set_fields={"cadence.next_at": iso(opening)})
        return "waiting"
    step = follow_up.due_step(current, now)
    if step >= current.attempts:
        outcome, reason = follow_up.RUN_OUT
        touch.record_disposition(
            ports,
            lead_id,
            outcome=outcome,
            reason=reason,
            note=f"no final outcome after {current.attempts} attempts",
            by="cadence",
            now=now,
        )
        return "recycled"
    if step <= current.reminded:
        ports.leads.update(
            lead_id, set_fields={"cadence.next_at": iso(follow_up.step_at(current, current.reminded + 1))}
        )
        return "none"
    attempt = step + 1
    notifications = send_since(
        ports,
        record,
        follow_up.REMINDER_KIND,
        assignment.rep_email,
        lambda: render_cadence(
            build_cadence(
                record, ports.config, now, attempt, disposition_links(ports, record, assignment, now)
            )
        ),
        since=follow_up.step_at(current, step),
        now=now,
    )
    ends = follow_up.ends_at(current)
    ports.leads.update(
        lead_id,
        set_fields={"cadence.reminded": step, "cadence.next_at": iso(follow_up.step_at(current, step + 1))},
        append={"notifications": [n.model_dump(mode="json") for n in notifications]},
        timeline=[
            TimelineEntry(
                at=now,
                event="follow_up",
                detail=f"attempt {attempt} of {current.attempts}: {assignment.rep_id} reminded; "
                f"recycled without a final outcome by {iso(ends)}",
            )
        ],
        expect_status=(LeadStatus.WORKING,),
    )
    return "reminded"
