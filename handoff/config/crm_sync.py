"""Writing the owner and the lead status back to the CRM, and reading activity as a first touch."""

from __future__ import annotations

from pydantic import Field

from handoff.config.base import Section

# HubSpot's default hs_lead_status values.
HUBSPOT_STATUSES = {
    "assigned": "OPEN", "attempted": "ATTEMPTED_TO_CONTACT", "connected": "CONNECTED",
    "sales_accepted": "IN_PROGRESS", "meeting_set": "IN_PROGRESS", "recycle": "BAD_TIMING",
    "disqualify": "UNQUALIFIED", "renurtured": "NEW",
}  # fmt: skip
# Salesforce's default Lead Status picklist.
SALESFORCE_STATUSES = {
    "assigned": "Open - Not Contacted", "attempted": "Working - Contacted", "connected": "Working - Contacted",
    "sales_accepted": "Working - Contacted", "meeting_set": "Working - Contacted",
    "recycle": "Closed - Not Converted", "disqualify": "Closed - Not Converted",
    "renurtured": "Open - Not Contacted",
}  # fmt: skip

# HubSpot's default call outcomes: hs_call_disposition holds the GUID, a person sees the label.
HUBSPOT_CALL_OUTCOME_LABELS = {
    "9d9162e7-6cf3-4944-bf63-4dff82258764": "Busy",
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": "Connected",
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "Left live message",
    "b2cf5968-551e-4856-9783-52b3da59a7d0": "Left voicemail",
    "73a0d17f-1163-4015-bdd5-ec830791da20": "No answer",
    "17b47fee-58de-441e-a44c-c6300d46f273": "Wrong number",
}
# A logged call's outcome -> the outcome recorded: only a call that reached the person connects.
HUBSPOT_CALL_OUTCOMES = {
    "Connected": "connected", "Busy": "attempted", "Left live message": "attempted",
    "Left voicemail": "attempted", "No answer": "attempted", "Wrong number": "attempted",
}  # fmt: skip
# Salesforce's Task CallDisposition is free text: these are common values.
SALESFORCE_CALL_OUTCOMES = {
    "Connected": "connected", "No Answer": "attempted", "Left Voicemail": "attempted", "Busy": "attempted",
}  # fmt: skip


# A CRM activity on the record, by type, and the outcome it records (the first touch).
ACTIVITY_OUTCOMES = {
    "CALL": "connected",
    "EMAIL": "attempted",
    "MEETING": "meeting_set",
    "EVENT": "meeting_set",
    # A to-do marked done (Handoff's own follow-up task, say) says the rep followed up, not that
    # they reached anyone: an attempt, so it stops the SLA clock without inflating the contact
    # rate. Only a completed task counts (handoff.service.crm_activity).
    "TASK": "attempted",
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
    # A CALL's outcome in the activity webhook, and what each records instead of [crm_sync.activities]'
    # CALL: a default outcome by its label (HubSpot sends the GUID), a custom one by its GUID.
    call_outcome_property: str = "hs_call_disposition"
    call_outcomes: dict[str, str] = Field(default_factory=lambda: dict(HUBSPOT_CALL_OUTCOMES))
    # Lifecycle stages meaning sales accepted the lead: a contact with an open handoff reaching
    # one (a lifecyclestage change event, or the contact sent to the lead webhook) records
    # sales_accepted on it.
    sales_accepted_stages: list[str] = Field(default_factory=lambda: ["salesqualifiedlead"])
    # On: with the brief, a task for the owner on the contact, due at the SLA deadline.
    create_tasks: bool = False
    task_priority: str = Field(default="HIGH", pattern="^(LOW|MEDIUM|HIGH)$")
    # The task property the activity webhook may carry: a task not in this state is no touch yet.
    task_status_property: str = "hs_task_status"


class SalesforceSyncConfig(Section):
    api_version: str = Field(default="v60.0", pattern=r"^v\d+\.\d$")
    # The Task field naming its kind (Call, Email, ...) in an Outbound Message on Task.
    activity_type_field: str = "TaskSubtype"
    # When the Task happened, the first of these the notification carries (as for HubSpot).
    activity_time_fields: list[str] = Field(
        default_factory=lambda: ["CreatedDate", "LastModifiedDate", "ActivityDate"]
    )
    statuses: dict[str, str] = Field(default_factory=lambda: dict(SALESFORCE_STATUSES))
    # A Call Task's outcome field, and what each value (any case) records instead of
    # [crm_sync.activities]' CALL.
    call_outcome_field: str = "CallDisposition"
    call_outcomes: dict[str, str] = Field(default_factory=lambda: dict(SALESFORCE_CALL_OUTCOMES))
    # Lead Status values meaning sales accepted the lead: a Lead notification with one, for a
    # Lead with an open handoff, records sales_accepted on it (none by default: the default
    # picklist has no such status).
    sales_accepted_statuses: list[str] = Field(default_factory=list)
    # On: with the brief, a Task for the owner on the Lead or Contact, due at the SLA deadline.
    create_tasks: bool = False
    task_priority: str = Field(default="High", min_length=1, max_length=40)


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
