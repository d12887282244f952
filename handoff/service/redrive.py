"""`handoff redrive`: resume a failed lead from where it failed, once the cause is fixed.

The lead goes back to the status it failed in and a new execution (lead_id-r<n>) starts.
Every workflow step is idempotent, so nothing that already happened happens again: a lead
that was routed keeps its rep and slot, and a brief already sent is not sent twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff.domain.record import LeadRecord, LeadStatus, TimelineEntry
from handoff.errors import Conflict, NotFound
from handoff.service.executions import start_resumed
from handoff.service.ports import Leads, Workflow

FAILED_PAGE = 100


def resume_status(item: dict[str, Any], record: LeadRecord) -> LeadStatus:
    """The status the lead failed in (recorded since failures kept it), else inferred."""
    if item.get("failed_from"):
        return LeadStatus(item["failed_from"])
    if record.notifications and record.assignment:
        return LeadStatus.NOTIFIED
    return LeadStatus.ASSIGNED if record.assignment else LeadStatus.ROUTING


def redrive(leads: Leads, workflow: Workflow, lead_id: str, now: datetime, *, automatic: bool = False) -> str:
    """Resume one failed lead; returns the new execution's name. ``automatic``: sla_check
    resuming a lead that failed only on a quota (counted in ``auto_redrives``)."""
    item = leads.get_item(lead_id)
    if item is None:
        raise NotFound(f"lead {lead_id} not found")
    record = LeadRecord.model_validate(item)
    if record.status != LeadStatus.FAILED:
        raise Conflict(f"lead {lead_id} is {record.status.value}, not failed: nothing to redrive")
    status = resume_status(item, record)
    recoveries = int(item.get("recoveries", 0)) + 1
    fields: dict[str, object] = {"status": status.value, "recoveries": recoveries}
    how = ""
    if automatic:
        fields["auto_redrives"] = int(item.get("auto_redrives", 0)) + 1
        how = f"; automatically, after {(item.get('failure') or {}).get('error', 'a quota')}"
    # Status first: the resumed steps expect the status they would have found.
    leads.update(
        lead_id,
        set_fields=fields,
        remove=("failed_from", "failure_escalated"),
        timeline=[
            TimelineEntry(at=now, event="redriven", detail=f"resumed as {status.value} ({recoveries}){how}")
        ],
        expect_status=(LeadStatus.FAILED,),
    )
    return start_resumed(workflow, lead_id, status.value, recoveries)


def failed_lead_ids(leads: Leads) -> list[str]:
    ids: list[str] = []
    start = None
    while True:
        items, start = leads.in_status(LeadStatus.FAILED.value, FAILED_PAGE, start)
        ids += [str(item["lead_id"]) for item in items]
        if not start:
            return ids
