"""What to write back to the CRM after a Handoff step: pure, so every mapping is testable.

After routing (``assigned``): the owner, from the rep's CRM owner ids, and the status.
After a disposition (its outcome) or re-nurture (``renurtured``): the status only.
HubSpot owner ids are numeric; Salesforce user ids start with 005. A Salesforce Contact
has no Status, so only its owner is written.
"""

from __future__ import annotations

from pydantic import BaseModel

from handoff.config.crm_sync import CrmSyncConfig
from handoff.domain.record import LeadRecord
from handoff.domain.rep import Rep

SALESFORCE_USER_PREFIX = "005"
SALESFORCE_LEAD_PREFIX = "00Q"


class CrmWrite(BaseModel):
    system: str  # hubspot | salesforce
    sobject: str  # contacts (HubSpot) | Lead | Contact (Salesforce)
    record_id: str
    fields: dict[str, str]

    def describe(self) -> str:
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
