"""Reassignments a person asks for: the owner flags the lead wrong_owner (naming the right rep
or not), or ops move it (manual). The request is kept on the lead and the workflow's own
Reassign step carries it out, so the new owner gets a brief, a fresh SLA and the ladder like
any other, and the report counts the reassignment by its cause.

How the request reaches the workflow depends on where the lead is:
- waiting for the first touch (a parked task token): the wait ends with the error Reassign;
- worked already (the execution closed): a new execution starts straight at Reassign;
- the brief is on its way: the wait, once parked, ends at once (handoff.service.touch);
- the wait ran out meanwhile: the ladder's escalation finds the request and reassigns.
"""

from __future__ import annotations

from datetime import datetime

from handoff.domain.record import LeadRecord, LeadStatus, ReassignRequest, TimelineEntry
from handoff.errors import BadRequest, Conflict, NotFound
from handoff.observability import logger
from handoff.service import hours
from handoff.service.executions import execution_name
from handoff.service.ports import Ports

WRONG_OWNER = "wrong_owner"
MANUAL = "manual"
# The workflow's error for a wait a person ended (the ASL catches it into Reassign).
REASSIGN_ERROR = "Reassign"
# A lead can be moved once a rep holds it, until it closes. Escalated leads are the ladder's
# to move; routing ones have no owner yet.
REASSIGNABLE = (LeadStatus.ASSIGNED, LeadStatus.NOTIFIED, LeadStatus.WORKING)


def named_rep(ports: Ports, name: str | None, field: str) -> str | None:
    """The rep id a person named (a rep id or an email); a clear 400 when it is nobody's."""
    if not name or not name.strip():
        return None
    wanted = name.strip()
    rep = ports.reps.get(wanted) or hours.rep_by_email(ports, wanted)
    if rep is None:
        raise BadRequest(
            f"{field} {wanted!r} is not a rep in Handoff: name a rep by id or email, or leave it out",
            details=[{"field": field}],
        )
    if not rep.active:
        raise BadRequest(f"{field} {rep.rep_id} is not active", details=[{"field": field}])
    return rep.rep_id


def check(record: LeadRecord, to_rep_id: str | None, field: str = "to_rep_id") -> None:
    """Refuse, before anything is written, a reassignment that cannot happen now."""
    if record.status not in REASSIGNABLE or record.assignment is None:
        raise Conflict(_not_now(record))
    if to_rep_id is not None and to_rep_id == record.assignment.rep_id:
        raise BadRequest(
            f"{field}: {to_rep_id} already owns lead {record.lead_id}", details=[{"field": field}]
        )


def request(
    ports: Ports,
    lead_id: str,
    *,
    because: str,
    to_rep_id: str | None,
    by: str,
    note: str | None,
    now: datetime,
) -> dict[str, str]:
    """Ask for the lead to move (to ``to_rep_id``, a known rep id, or wherever routing sends it)
    and set the workflow on its way. Answers what happens next."""
    item = ports.leads.get_item(lead_id)
    if item is None:
        raise NotFound(f"lead {lead_id} not found")
    record = LeadRecord.model_validate(item)
    check(record, to_rep_id)
    pending = ReassignRequest(because=because, to_rep_id=to_rep_id, by=by, note=note, at=now)
    target = to_rep_id or "the next rep routing picks"
    ports.leads.update(
        lead_id,
        set_fields={"reassign_request": pending.model_dump(mode="json")},
        timeline=[
            TimelineEntry(at=now, event="reassign_requested", detail=f"{because} by {by}: to {target}")
        ],
        expect_status=(record.status,),
    )
    token = item.get("task_token")
    if record.status == LeadStatus.WORKING:
        _start(ports, lead_id, item)
    elif token and not ports.workflow.fail(str(token), REASSIGN_ERROR, because):
        # The wait ended meanwhile: a touch (the execution closed) or its timeout (the ladder
        # will find the request). Only the first leaves the lead to nobody.
        fresh = ports.leads.get_item(lead_id)
        if fresh is not None and fresh.get("status") == LeadStatus.WORKING.value:
            _start(ports, lead_id, fresh)
    logger.info("reassignment requested", extra={"lead_id": lead_id, "because": because})
    return {"lead_id": lead_id, "status": "reassigning", "because": because, "to": target}


def _start(ports: Ports, lead_id: str, item: dict[str, object]) -> None:
    """A new execution for a lead whose workflow closed at the first touch: straight to Reassign."""
    recoveries = int(str(item.get("recoveries") or 0)) + 1
    ports.leads.update(lead_id, set_fields={"recoveries": recoveries})
    ports.workflow.start(execution_name(lead_id, recoveries), {"lead_id": lead_id, "reassign": True})


def _not_now(record: LeadRecord) -> str:
    if record.status == LeadStatus.ESCALATED:
        return (
            f"lead {record.lead_id} is escalated: the SLA ladder is moving it now; "
            "reassign it once it has its next owner"
        )
    if record.status == LeadStatus.ROUTING:
        return f"lead {record.lead_id} is still routing; reassign it once it has an owner"
    return f"lead {record.lead_id} is {record.status.value}; only an open, assigned lead can be reassigned"
