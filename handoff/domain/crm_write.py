"""What to write back to the CRM after a Handoff step: pure, so every mapping is testable.

After routing (``assigned``): the owner, from the rep's CRM owner ids, and the status.
After a disposition (its outcome) or re-nurture (``renurtured``): the status only.
With the brief (``task``): a task for the owner, due at the SLA deadline, where
[crm_sync.<crm>] create_tasks is on (``plan_task``).
HubSpot owner ids are numeric; Salesforce user ids start with 005. A Salesforce Contact
has no Status, so only its owner is written.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from handoff.config.crm_sync import CrmSyncConfig
from handoff.domain.record import LeadRecord
from handoff.domain.rep import Rep

SALESFORCE_USER_PREFIX = "005"
SALESFORCE_LEAD_PREFIX = "00Q"
TASK = "task"
# HubSpot's documented default association type for a task to a contact.
HUBSPOT_TASK_TO_CONTACT = 204
# Salesforce's Subject is 255 characters; HubSpot's subject shows about as much.
SUBJECT_LIMIT = 255


class CrmWrite(BaseModel):
    system: str  # hubspot | salesforce
    sobject: str  # contacts (HubSpot) | Lead | Contact (Salesforce)
    record_id: str
    fields: dict[str, str]
    # update: PATCH record_id's fields. create: a new ``sobject`` (a task) on record_id.
    kind: Literal["update", "create"] = "update"

    def describe(self) -> str:
        if self.kind == "create":
            due = self.fields.get("hs_timestamp") or self.fields.get("ReminderDateTime")
            return f"{self.system} {self.sobject} on {self.record_id} due {due}"
        return f"{self.system} {self.sobject} {self.record_id}: " + ", ".join(
            f"{k}={v}" for k, v in self.fields.items()
        )


def owner_id(rep: Rep | None, system: str) -> str | None:
    """The rep's owner id in ``system``: numeric in HubSpot, a 005... user id in Salesforce."""
    ids = rep.crm_owner_ids if rep else []
    if system == "salesforce":
        return next((i for i in ids if i.startswith(SALESFORCE_USER_PREFIX)), None)
    return next((i for i in ids if i.isdigit()), None)


def writes_owner(record: LeadRecord, rep: Rep | None, config: CrmSyncConfig) -> bool:
    """Whether assigning ``rep`` makes them the record's owner in the CRM: only where nobody owns
    it yet (or a queue does), unless [crm_sync] overwrite_owner says to replace the owner."""
    mine = owner_id(rep, record.crm.system)
    current = record.crm.user_owner_id
    return mine is not None and (current is None or current == mine or config.overwrite_owner)


def plan_write(record: LeadRecord, rep: Rep | None, action: str, config: CrmSyncConfig) -> CrmWrite | None:
    """The write for ``action`` (assigned, an outcome, renurtured), or None when there is nothing to write."""
    system, record_id = record.crm.system, record.crm.record_id
    if not config.enabled or not record_id or system not in ("hubspot", "salesforce"):
        return None
    owner = owner_id(rep, system) if action == "assigned" and writes_owner(record, rep, config) else None
    if system == "hubspot":
        fields = {config.hubspot.owner_property: owner} if owner else {}
        if status := config.hubspot.statuses.get(action):
            fields[config.hubspot.status_property] = status
        return (
            CrmWrite(system=system, sobject="contacts", record_id=record_id, fields=fields)
            if fields
            else None
        )
    sobject = "Lead" if record_id.startswith(SALESFORCE_LEAD_PREFIX) else "Contact"
    fields = {"OwnerId": owner} if owner else {}
    if sobject == "Lead" and (status := config.salesforce.statuses.get(action)):
        fields["Status"] = status
    return CrmWrite(system=system, sobject=sobject, record_id=record_id, fields=fields) if fields else None


def plan_task(
    record: LeadRecord, rep: Rep | None, config: CrmSyncConfig, *, subject: str, body: str
) -> CrmWrite | None:
    """The owner's task for this handoff, due at its SLA deadline, or None: the CRM's create_tasks
    off, no SLA, or an owner without an id in that CRM (a task nobody owns is nobody's to do)."""
    system, record_id = record.crm.system, record.crm.record_id
    if not config.enabled or not record_id or record.sla is None:
        return None
    owner = owner_id(rep, system)
    due = record.sla.due_at.astimezone(UTC)
    subject = subject[:SUBJECT_LIMIT]
    if system == "hubspot" and config.hubspot.create_tasks and owner:
        # hs_task_body is rich text: the plain lines, escaped, each on its own line.
        lines = "<br>".join(html.escape(line) for line in body.splitlines())
        fields = {
            "hs_task_subject": subject, "hs_task_body": lines, "hs_timestamp": _iso(due),
            "hs_task_status": "NOT_STARTED", "hs_task_priority": config.hubspot.task_priority,
            "hs_task_type": "TODO", "hubspot_owner_id": owner,
        }  # fmt: skip
        return CrmWrite(system=system, sobject="tasks", record_id=record_id, fields=fields, kind="create")
    if system == "salesforce" and config.salesforce.create_tasks and owner:
        # ActivityDate is a date with no zone: the deadline's date where the rep works. The
        # reminder fires at the deadline itself.
        zone = record.assignment.rep_timezone if record.assignment else "UTC"
        fields = {
            "WhoId": record_id, "OwnerId": owner, "Subject": subject, "Description": body,
            "ActivityDate": due.astimezone(ZoneInfo(zone)).date().isoformat(),
            "ReminderDateTime": _iso(due), "Status": "Not Started",
            "Priority": config.salesforce.task_priority,
        }  # fmt: skip
        return CrmWrite(system=system, sobject="Task", record_id=record_id, fields=fields, kind="create")
    return None


def task_marker(lead_id: str, round: int) -> str:
    """The line a task for this lead and assignment round carries, so a retry whose earlier try
    lost the CRM's answer can find the task it made instead of making a second."""
    return f"Handoff ref {lead_id}/{round}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
