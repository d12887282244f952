"""How CRM payloads map onto the canonical lead. Defaults follow each CRM's standard fields;
ops override a field by naming the canonical path and the CRM's field."""

from __future__ import annotations

from pydantic import Field, field_validator

from handoff.config.base import Section
from handoff.domain.clock import zone

# What a conversion or form name says about intent: case-insensitive substring -> trigger type.
DEFAULT_TRIGGER_MAP = {
    "demo": "demo_request",
    "pricing": "pricing_request",
    "quote": "pricing_request",
    "contact sales": "contact_sales",
    "talk to sales": "contact_sales",
    "meeting": "meeting_booked",
    "webinar": "webinar",
    "download": "content_download",
    "ebook": "content_download",
    "whitepaper": "content_download",
    "chat": "chat",
}


class HubSpotAdapterConfig(Section):
    # canonical path (contact.title, company.employees, ...) -> HubSpot property; merged over the defaults
    properties: dict[str, str] = Field(default_factory=dict)
    trigger_property: str = "recent_conversion_event_name"
    trigger_map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TRIGGER_MAP))
    default_trigger: str = "form_submission"
    # Webhooks-API property changes that hand a contact off (property -> values); contact.creation always does.
    handoff_on_change: dict[str, list[str]] = Field(
        default_factory=lambda: {"lifecyclestage": ["marketingqualifiedlead", "salesqualifiedlead"]}
    )
    record_url: str = "https://app.hubspot.com/contacts/{portal_id}/record/0-1/{record_id}"


class SalesforceAdapterConfig(Section):
    # canonical path -> sObject field; merged over the defaults for Lead and Contact
    lead_fields: dict[str, str] = Field(default_factory=dict)
    contact_fields: dict[str, str] = Field(default_factory=dict)
    trigger_field: str = "Handoff_Trigger__c"
    trigger_map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TRIGGER_MAP))
    default_trigger: str = "form_submission"
    # Used to build the record link in the brief; empty keeps the link out.
    instance_url: str = ""


class AdaptersConfig(Section):
    # The IANA zone in which a time sent without an offset is read (occurred_at, trigger.at,
    # activities[].at): Marketo's {{system.dateTime}} tokens, for one, carry none.
    sender_timezone: str = "UTC"
    hubspot: HubSpotAdapterConfig = Field(default_factory=HubSpotAdapterConfig)
    salesforce: SalesforceAdapterConfig = Field(default_factory=SalesforceAdapterConfig)

    @field_validator("sender_timezone")
    @classmethod
    def _a_zone(cls, name: str) -> str:
        if zone(name) is None:
            raise ValueError(f"{name!r} is not an IANA time zone (e.g. UTC, America/Chicago, Europe/Berlin)")
        return name
