"""How CRM payloads map onto the canonical lead. Defaults follow each CRM's standard fields;
ops override a field by naming the canonical path and the CRM's field."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from handoff.config.base import Section, TimeZoneName

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
    # A Contact carries no company: Handoff reads its Account (size, industry, owner) and the
    # Account's open Opportunity through the REST API, with the connected app of [crm_sync].
    # Off where there is no connected app: Contacts then arrive without firmographics.
    read_accounts: bool = True
    # canonical path (company.*, crm.account_owner_id) -> Account field; merged over the defaults
    account_fields: dict[str, str] = Field(default_factory=dict)
    trigger_field: str = "Handoff_Trigger__c"
    trigger_map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TRIGGER_MAP))
    default_trigger: str = "form_submission"
    # Used to build the record link in the brief; empty keeps the link out.
    instance_url: str = ""

    @field_validator("account_fields")
    @classmethod
    def _field_names(cls, fields: dict[str, str]) -> dict[str, str]:
        # They are sent in the REST API's ?fields= list: API names only.
        for name in fields.values():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,79}", name):
                raise ValueError(f"{name[:80]!r} is not a Salesforce field API name (e.g. Employees__c)")
        return fields


class AdaptersConfig(Section):
    # The IANA zone in which a time sent without an offset is read (occurred_at, trigger.at,
    # activities[].at): Marketo's {{system.dateTime}} tokens, for one, carry none.
    sender_timezone: TimeZoneName = "UTC"
    # A lead's CRM link (crm.record_url) reaches the brief only as https on the CRM's own host:
    # HubSpot's app hosts, Salesforce's (and [adapters.salesforce] instance_url). Another CRM's
    # links need their host here ("crm.example.com", or "*.example.com" for its subdomains);
    # any other link is dropped and the brief shows no CRM button.
    crm_link_hosts: list[str] = Field(default_factory=list)
    hubspot: HubSpotAdapterConfig = Field(default_factory=HubSpotAdapterConfig)
    salesforce: SalesforceAdapterConfig = Field(default_factory=SalesforceAdapterConfig)

    @field_validator("crm_link_hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        # A URL or a typo here would never match a link: refuse it rather than drop links quietly.
        for host in hosts:
            if not re.fullmatch(r"(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+", host):
                raise ValueError(
                    f"{host[:80]!r} is not a lower-case host name (crm.example.com or *.example.com)"
                )
        return hosts
