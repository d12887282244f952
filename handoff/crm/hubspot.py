"""HubSpot: workflow webhooks (a contact object) and Webhooks-API event arrays."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from handoff.config.adapters import HubSpotAdapterConfig
from handoff.crm.mapping import CONSENT_FIELDS, assemble, moment, number, text, trigger_type, whole_number
from handoff.domain.lead import truthy
from handoff.errors import BadRequest

SOURCE = "hubspot"
MAX_EVENTS = 100

# canonical path -> HubSpot contact property (ops override any of them in config)
CONTACT_PROPERTIES = {
    "contact.email": "email",
    "contact.first_name": "firstname",
    "contact.last_name": "lastname",
    "contact.title": "jobtitle",
    "contact.phone": "phone",
    "contact.seniority": "hs_seniority",
    "contact.department": "hs_role",
    "contact.country": "country",
    "contact.region": "state",
    # HubSpot's "Unsubscribed from all email". It has no standard do-not-call property: map yours
    # with [adapters.hubspot] properties = { "contact.do_not_call" = "..." }.
    "contact.email_opt_out": "hs_email_optout",
    "company.name": "company",
    "company.domain": "hs_email_domain",
    "company.industry": "industry",
    "company.employees": "numberofemployees",
    "company.annual_revenue": "annualrevenue",
    "crm.owner_id": "hubspot_owner_id",
    "score": "hubspotscore",
}
# Read on the contact for context, never mapped over: the trigger and recent activity.
CONTEXT_PROPERTIES = (
    "recent_conversion_event_name", "recent_conversion_date", "first_conversion_event_name",
    "first_conversion_date", "hs_analytics_last_url", "hs_analytics_last_visit_timestamp",
    "lifecyclestage", "hs_lead_status", "lastmodifieddate",
)  # fmt: skip
# canonical path -> HubSpot company property, for the associated company the API returns.
COMPANY_PROPERTIES = {
    "company.name": "name",
    "company.domain": "domain",
    "company.industry": "industry",
    "company.employees": "numberofemployees",
    "company.annual_revenue": "annualrevenue",
    "company.country": "country",
    "crm.account_owner_id": "hubspot_owner_id",
}


def contact_properties(config: HubSpotAdapterConfig) -> dict[str, str]:
    return {**CONTACT_PROPERTIES, **config.properties}


def requested_properties(config: HubSpotAdapterConfig) -> list[str]:
    """Every contact property the adapter reads, for the CRM API's ``properties`` parameter."""
    return sorted({*contact_properties(config).values(), *CONTEXT_PROPERTIES, config.trigger_property})


def flatten(properties: Any) -> dict[str, Any]:
    """Legacy contact objects carry {"value": ...} per property; the v3 API carries plain values."""
    if not isinstance(properties, dict):
        raise BadRequest("contact.properties must be an object", details=[{"field": "properties"}])
    flat = {}
    for name, value in properties.items():
        flat[str(name)] = value.get("value") if isinstance(value, dict) else value
    return flat


def _industry(value: Any) -> str | None:
    # HubSpot's enumeration (COMPUTER_SOFTWARE) reads as words in the ICP config.
    raw = text(value)
    return raw.replace("_", " ").lower() if raw else None


def _coerce(path: str, value: Any) -> Any:
    if path in CONSENT_FIELDS:
        return truthy(value)
    if path in {"company.employees"}:
        return whole_number(value)
    if path in {"company.annual_revenue", "score"}:
        return number(value)
    if path == "company.industry":
        return _industry(value)
    return text(value)


def _activities(props: dict[str, Any]) -> list[dict[str, Any]]:
    activities: list[dict[str, Any]] = []
    for prefix in ("first", "recent"):
        name = text(props.get(f"{prefix}_conversion_event_name"))
        conversion = {
            "type": "form_submission",
            "title": name,
            "at": moment(props.get(f"{prefix}_conversion_date")),
        }
        # A contact with one conversion has it as both first and recent: it counts once.
        if name and conversion not in activities:
            activities.append(conversion)
    url = text(props.get("hs_analytics_last_url"), 2048)
    if url:
        activities.append(
            {"type": "page_view", "url": url, "at": moment(props.get("hs_analytics_last_visit_timestamp"))}
        )
    return activities


def lead_from_properties(
    *,
    record_id: str,
    props: dict[str, Any],
    company: dict[str, Any] | None,
    event_id: str,
    portal_id: str | None,
    config: HubSpotAdapterConfig,
    deal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Map HubSpot properties onto the canonical lead (as a dict, validated by the caller).
    ``deal`` is the contact's open deal, when the CRM API says it has one."""
    fields: dict[str, Any] = {
        path: _coerce(path, props.get(prop)) for path, prop in contact_properties(config).items()
    }
    for path, prop in COMPANY_PROPERTIES.items():
        if company and company.get(prop) not in (None, ""):
            fields[path] = _coerce(path, company.get(prop))
    trigger_name = text(props.get(config.trigger_property))
    fields.update(
        {
            "contact.id": record_id,
            "crm.system": "hubspot",
            "crm.record_id": record_id,
            "crm.record_url": config.record_url.format(portal_id=portal_id or "0", record_id=record_id),
            "trigger.type": trigger_type(trigger_name, config.trigger_map, config.default_trigger),
            "trigger.name": trigger_name,
            "trigger.at": moment(props.get("recent_conversion_date")),
            "trigger.url": text(props.get("hs_analytics_last_url"), 2048),
            "crm.lifecyclestage": text(props.get("lifecyclestage")),
            "crm.hs_lead_status": text(props.get("hs_lead_status")),
        }
    )
    lead = assemble(fields)
    # No occurred_at: a workflow sends the contact when it enrols, which can be long after its
    # last conversion, so intent is aged from the delivery (an event's occurredAt replaces it).
    lead.update(event_id=event_id, source=SOURCE, activities=_activities(props))
    lead.setdefault("contact", {})
    lead["crm"]["customer"] = str(props.get("lifecyclestage") or "").lower() == "customer"
    if deal is not None:
        lead["crm"]["open_opportunity"] = True
        lead["crm"]["opportunity_owner_id"] = text(deal.get("hubspot_owner_id"))
    return lead


def from_workflow(data: dict[str, Any], raw: bytes, config: HubSpotAdapterConfig) -> dict[str, Any]:
    """A workflow "Send a webhook" body: the contact, legacy ({"vid", "properties": {x: {"value"}}}) or v3."""
    record_id = text(data.get("vid") or data.get("canonical-vid") or data.get("objectId") or data.get("id"))
    if not record_id:
        raise BadRequest("HubSpot contact has no vid, objectId or id", details=[{"field": "vid"}])
    props = flatten(data.get("properties"))
    # A workflow webhook has no event id: the contact plus its latest conversion identifies
    # one handoff, so HubSpot's retries dedupe and a later conversion is a new handoff.
    marker = text(props.get("recent_conversion_date")) or hashlib.sha256(raw).hexdigest()[:16]
    portal = text(data.get("portal-id") or data.get("portalId"))
    return lead_from_properties(
        record_id=record_id,
        props=props,
        company=None,
        # Contact ids, like event ids, are numbered per portal.
        event_id=f"contact-{portal + ':' if portal else ''}{record_id}-{marker}",
        portal_id=portal,
        config=config,
    )


class HubSpotEvent(BaseModel):
    """One Webhooks-API event (the fields Handoff uses; the rest are allowed and ignored)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    event_id: int | str = Field(alias="eventId")
    # HubSpot sends subscriptionType; its Webhooks API guide documents the same field as eventType
    # (the "Webhook payloads" table and example): either is read.
    subscription_type: str = Field(
        validation_alias=AliasChoices("subscriptionType", "eventType", "subscription_type"), max_length=100
    )
    portal_id: int | str = Field(alias="portalId")
    # Association changes name fromObjectId and toObjectId instead; such an event is ignored.
    object_id: int | str | None = Field(default=None, alias="objectId")
    occurred_at: int | None = Field(default=None, alias="occurredAt")
    property_name: str | None = Field(default=None, alias="propertyName", max_length=200)
    property_value: str | None = Field(default=None, alias="propertyValue", max_length=2000)
    object_type_id: str | None = Field(default=None, alias="objectTypeId", max_length=20)

    @property
    def delivery_id(self) -> str:
        """What identifies this delivery: HubSpot numbers events per portal (account), so two
        portals can send the same eventId."""
        return f"{self.portal_id}:{self.event_id}"


def parse_events(data: list[Any]) -> list[HubSpotEvent]:
    if not 1 <= len(data) <= MAX_EVENTS:
        raise BadRequest(f"a HubSpot event array holds 1 to {MAX_EVENTS} events, not {len(data)}")
    events = []
    for index, item in enumerate(data):
        try:
            events.append(HubSpotEvent.model_validate(item))
        except ValidationError as exc:
            fields = ", ".join(f"[{index}].{'.'.join(map(str, e['loc']))}" for e in exc.errors())
            raise BadRequest(f"invalid HubSpot event: {fields}", details=[{"index": index}]) from exc
    return events


# The generic object.* events name the object type by id; 0-1 is the contact, 0-3 the deal.
CONTACT_OBJECT_TYPE = "0-1"
DEAL_OBJECT_TYPE = "0-3"
# Deal properties whose change Handoff reads the deal for: pipeline progress and its value.
DEAL_PROPERTIES_WATCHED = frozenset({"dealstage", "amount"})


def deal_changed(event: HubSpotEvent) -> bool:
    """Whether the event reports a deal's creation, or a change of its stage or amount (the
    deal.* form or the generic object.* one with objectTypeId 0-3)."""
    kind = event.subscription_type
    if kind.startswith("object."):
        if event.object_type_id != DEAL_OBJECT_TYPE:
            return False
        kind = "deal." + kind.removeprefix("object.")
    if event.object_id is None:
        return False
    if kind == "deal.creation":
        return True
    return kind == "deal.propertyChange" and (event.property_name or "").lower() in DEAL_PROPERTIES_WATCHED


def ignored_because(event: HubSpotEvent, config: HubSpotAdapterConfig) -> str | None:
    """None when the event hands a contact off; otherwise why it is acknowledged and ignored.
    contact.creation always hands off; a property change only when it is one that means "hand off".
    The generic object.creation / object.propertyChange events for contacts count the same."""
    kind = event.subscription_type
    if event.object_id is None:
        return f"{kind[:60]} names no objectId, so no contact to hand off"
    if kind.startswith("object."):
        if event.object_type_id != CONTACT_OBJECT_TYPE:
            return f"object type {str(event.object_type_id)[:20]} is not a contact ({CONTACT_OBJECT_TYPE})"
        kind = "contact." + kind.removeprefix("object.")
    if kind == "contact.creation":
        return None
    if kind != "contact.propertyChange":
        return f"{kind[:60]} does not hand a contact off"
    wanted = config.handoff_on_change.get(event.property_name or "", [])
    if (event.property_value or "").lower() in {w.lower() for w in wanted}:
        return None
    return f"{str(event.property_name)[:60]} = {str(event.property_value)[:60]} is not in [adapters.hubspot.handoff_on_change]"


def lead_from_event(
    event: HubSpotEvent,
    contact: dict[str, Any],
    company: dict[str, Any] | None,
    config: HubSpotAdapterConfig,
    deal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The event plus the contact (and its company and open deal) fetched from the CRM v3 API."""
    lead = lead_from_properties(
        record_id=str(event.object_id),
        props=flatten(contact.get("properties", {})),
        company=flatten(company.get("properties", {})) if company else None,
        event_id=event.delivery_id,
        portal_id=str(event.portal_id),
        config=config,
        deal=flatten(deal.get("properties", {})) if deal else None,
    )
    if event.subscription_type.endswith(".propertyChange"):
        lead["trigger"]["name"] = (
            lead["trigger"].get("name") or f"{event.property_name} -> {event.property_value}"
        )
    if event.occurred_at:
        lead["occurred_at"] = moment(event.occurred_at)
    return lead
