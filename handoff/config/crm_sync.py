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
    # When the activity happened, the first of these the webhook carries: an activity from before
    # the current assignment (a replay, or a call to the previous owner's lead) changes nothing.
    activity_time_properties: list[str] = Field(
        default_factory=lambda: [
            "hs_timestamp", "hs_last_sales_activity_timestamp", "notes_last_updated", "lastmodifieddate",
        ]
    )  # fmt: skip
    status_property: str = "hs_lead_status"
    # Handoff step or outcome -> the value written; a step missing here writes no status.
    statuses: dict[str, str] = Field(default_factory=lambda: dict(HUBSPOT_STATUSES))


class SalesforceSyncConfig(Section):
    api_version: str = Field(default="v60.0", pattern=r"^v\d+\.\d$")
    # The Task field naming its kind (Call, Email, ...) in an Outbound Message on Task.
    activity_type_field: str = "TaskSubtype"
    # When the Task happened, the first of these the notification carries (as for HubSpot).
    activity_time_fields: list[str] = Field(
        default_factory=lambda: ["CreatedDate", "LastModifiedDate", "ActivityDate"]
    )
    statuses: dict[str, str] = Field(default_factory=lambda: dict(SALESFORCE_STATUSES))


class CrmSyncConfig(Section):
    # Off: nothing is written to the CRM (Handoff still routes, briefs and measures).
    enabled: bool = True
    # Handoff writes back only to records that came from that CRM's own webhook. A generic sender
    # (POST /webhooks/generic) names crm.record_id itself, with a secret every generic sender
    # shares, so its leads are written back only when their source is listed here.
    write_back_sources: list[str] = Field(default_factory=list)
    # A contact or lead that already has an owner in the CRM (a person, not a Salesforce queue)
    # keeps them: Handoff writes only the status. On: the assigned rep becomes the owner there too.
    overwrite_owner: bool = False
    hubspot: HubSpotSyncConfig = Field(default_factory=HubSpotSyncConfig)
    salesforce: SalesforceSyncConfig = Field(default_factory=SalesforceSyncConfig)
    # Activity type (upper case) -> outcome: the rep's logged call, email or meeting is a first touch.
    activities: dict[str, str] = Field(default_factory=lambda: dict(ACTIVITY_OUTCOMES))
