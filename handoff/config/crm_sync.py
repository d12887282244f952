"""Writing the owner and the lead status back to the CRM, and reading activity as a first touch."""

from __future__ import annotations

from pydantic import Field

from handoff.config.base import Section

# HubSpot's default hs_lead_status values.
HUBSPOT_STATUSES = {
    "assigned": "OPEN", "attempted": "ATTEMPTED_TO_CONTACT", "connected": "CONNECTED",
    "meeting_set": "IN_PROGRESS", "recycle": "BAD_TIMING", "disqualify": "UNQUALIFIED", "renurtured": "NEW",
}  # fmt: skip
# Salesforce's default Lead Status picklist.
SALESFORCE_STATUSES = {
    "assigned": "Open - Not Contacted", "attempted": "Working - Contacted", "connected": "Working - Contacted",
    "meeting_set": "Working - Contacted", "recycle": "Closed - Not Converted",
    "disqualify": "Closed - Not Converted", "renurtured": "Open - Not Contacted",
}  # fmt: skip


# A CRM activity on the record, by type, and the outcome it records (the first touch).
ACTIVITY_OUTCOMES = {
    "CALL": "connected",
    "EMAIL": "attempted",
    "MEETING": "meeting_set",
    "EVENT": "meeting_set",
}


class HubSpotSyncConfig(Section):
    owner_property: str = "hubspot_owner_id"
    # The contact property naming the last activity's type, in the activity webhook.
    activity_type_property: str = "hs_last_sales_activity_type"
    status_property: str = "hs_lead_status"
    # Handoff step or outcome -> the value written; a step missing here writes no status.
    statuses: dict[str, str] = Field(default_factory=lambda: dict(HUBSPOT_STATUSES))


class SalesforceSyncConfig(Section):
    api_version: str = Field(default="v60.0", pattern=r"^v\d+\.\d$")
    # The Task field naming its kind (Call, Email, ...) in an Outbound Message on Task.
    activity_type_field: str = "TaskSubtype"
    statuses: dict[str, str] = Field(default_factory=lambda: dict(SALESFORCE_STATUSES))


class CrmSyncConfig(Section):
    # Off: nothing is written to the CRM (Handoff still routes, briefs and measures).
    enabled: bool = True
    hubspot: HubSpotSyncConfig = Field(default_factory=HubSpotSyncConfig)
    salesforce: SalesforceSyncConfig = Field(default_factory=SalesforceSyncConfig)
    # Activity type (upper case) -> outcome: the rep's logged call, email or meeting is a first touch.
    activities: dict[str, str] = Field(default_factory=lambda: dict(ACTIVITY_OUTCOMES))
