"""Salesforce Outbound Messages: SOAP with 1-100 Lead or Contact notifications.

Parsed with defusedxml, which refuses DTDs, entity expansion (billion laughs) and
external entities (XXE) before any of it is expanded.
"""

from __future__ import annotations

import hmac
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from handoff.config.adapters import SalesforceAdapterConfig
from handoff.crm.mapping import CONSENT_FIELDS, assemble, number, text, trigger_type, whole_number
from handoff.domain.lead import truthy
from handoff.errors import BadRequest, Unauthorized

SOURCE = "salesforce"
MAX_NOTIFICATIONS = 100
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

LEAD_FIELDS = {
    "contact.email": "Email",
    "contact.first_name": "FirstName",
    "contact.last_name": "LastName",
    "contact.title": "Title",
    "contact.phone": "Phone",
    "contact.country": "Country",
    "contact.region": "State",
    "contact.do_not_call": "DoNotCall",
    "contact.email_opt_out": "HasOptedOutOfEmail",
    "company.name": "Company",
    "company.domain": "Website",
    "company.industry": "Industry",
    "company.employees": "NumberOfEmployees",
    "company.annual_revenue": "AnnualRevenue",
    "company.country": "Country",
    "crm.owner_id": "OwnerId",
    "crm.lead_source": "LeadSource",
    "crm.lead_status": "Status",
}
# With state and country picklists on, Salesforce also sends ISO 3166 codes beside the names
# ("GB" beside "United Kingdom"); a code, when there, is what fit and territory rules match.
ISO_CODES = {
    "Lead": {"Country": "CountryCode", "State": "StateCode"},
    "Contact": {"MailingCountry": "MailingCountryCode", "MailingState": "MailingStateCode"},
}
CONTACT_FIELDS = {
    "contact.email": "Email",
    "contact.first_name": "FirstName",
    "contact.last_name": "LastName",
    "contact.title": "Title",
    "contact.phone": "Phone",
    "contact.department": "Department",
    "contact.country": "MailingCountry",
    "contact.region": "MailingState",
    "contact.do_not_call": "DoNotCall",
    "contact.email_opt_out": "HasOptedOutOfEmail",
    "crm.owner_id": "OwnerId",
    "crm.account_id": "AccountId",
    "crm.lead_source": "LeadSource",
}

# A Contact's Account, read through the REST API: the company a Contact does not carry.
ACCOUNT_FIELDS = {
    "company.name": "Name",
    "company.domain": "Website",
    "company.industry": "Industry",
    "company.employees": "NumberOfEmployees",
    "company.annual_revenue": "AnnualRevenue",
    # A name ("United Kingdom"), read as its ISO code. BillingCountryCode exists only where state and
    # country picklists are on, and asking for a field that does not exist fails the read: map it
    # with account_fields = { "company.country" = "BillingCountryCode" } where it does.
    "company.country": "BillingCountry",
    "crm.account_owner_id": "OwnerId",
}

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)


def fault(message: str, client: bool = True) -> str:
    code = "soapenv:Client" if client else "soapenv:Server"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


# The sObjects Handoff acts on; any other is acknowledged and ignored (a fault would have
# Salesforce retry it for 24 hours).
HANDLED = frozenset({"Lead", "Contact", "Task", "Opportunity"})


def parse_envelope(body: bytes) -> tuple[str, list[tuple[str, str, dict[str, str]]]]:
    """(organization id, [(notification id, sObject type, fields)]) or BadRequest."""
    try:
        root = SafeElementTree.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise BadRequest(
            f"XML with a DTD or entities is refused ({type(exc).__name__})", code="forbidden_xml"
        ) from exc
    except (ParseError, ValueError) as exc:
        raise BadRequest(f"body is not well-formed XML: {exc}", code="invalid_xml") from exc
    soap_body = _child(root, "Body") if _local(root.tag) == "Envelope" else None
    notifications = _child(soap_body, "notifications") if soap_body is not None else None
    if notifications is None:
        raise BadRequest("expected a SOAP Envelope with a Body holding notifications", code="invalid_xml")
    org = _child(notifications, "OrganizationId")
    org_id = (org.text or "").strip() if org is not None else ""
    if not org_id:
        raise BadRequest("OrganizationId is missing", code="invalid_xml")
    items = [n for n in notifications if _local(n.tag) == "Notification"]
    if not 1 <= len(items) <= MAX_NOTIFICATIONS:
        raise BadRequest(
            f"an Outbound Message carries 1 to {MAX_NOTIFICATIONS} notifications, not {len(items)}"
        )
    parsed = []
    for index, item in enumerate(items):
        notification_id = _child(item, "Id")
        sobject = _child(item, "sObject")
        if notification_id is None or not (notification_id.text or "").strip() or sobject is None:
            raise BadRequest(f"notification {index} needs an Id and an sObject", code="invalid_xml")
        kind = _local(sobject.get(f"{{{XSI}}}type", "")).split(":")[-1]
        if not kind:
            raise BadRequest(f"notification {index}: the sObject has no xsi:type", code="invalid_xml")
        fields = {_local(f.tag): (f.text or "").strip() for f in sobject if len(f) == 0}
        parsed.append((notification_id.text.strip(), kind, fields))  # type: ignore[union-attr]
    return org_id, parsed


def check_token(token: str | None, expected_token: str) -> None:
    """Checked before the body is parsed: unauthenticated XML is never read."""
    if not token or not hmac.compare_digest(token.encode(), expected_token.encode()):
        raise Unauthorized("missing or wrong ?token=")


def check_org(org_id: str, allowed_org_ids: str) -> None:
    """The org must be on the allowlist; 15- and 18-character ids both match."""
    allowed = {o.strip()[:15] for o in allowed_org_ids.split(",") if o.strip()}
    if org_id[:15] not in allowed:
        raise Unauthorized(f"OrganizationId {org_id[:18]} is not on the allowlist")


def _coerce(path: str, value: str) -> Any:
    if path in CONSENT_FIELDS:
        return truthy(value)
    if path == "company.employees":
        return whole_number(value)
    if path == "company.annual_revenue":
        return number(value)
    if path == "company.domain":
        domain = (
            (text(value) or "").lower().removeprefix("https://").removeprefix("http://").removeprefix("www.")
        )
        return domain.split("/")[0] or None
    return text(value)


def lead_from_notification(
    notification_id: str, kind: str, fields: dict[str, str], config: SalesforceAdapterConfig
) -> dict[str, Any]:
    mapping = (
        {**LEAD_FIELDS, **config.lead_fields}
        if kind == "Lead"
        else {**CONTACT_FIELDS, **config.contact_fields}
    )
    record_id = text(fields.get("Id"))
    trigger_name = text(fields.get(config.trigger_field))
    codes = ISO_CODES.get(kind, {})
    values: dict[str, Any] = {
        path: _coerce(path, fields.get(codes.get(field, ""), "") or fields.get(field, ""))
        for path, field in mapping.items()
    }
    values.update(
        {
            "contact.id": record_id,
            "crm.system": "salesforce",
            "crm.record_id": record_id,
            "crm.object": kind,
            "crm.record_url": f"{config.instance_url.rstrip('/')}/{record_id}"
            if config.instance_url and record_id
            else None,
            "trigger.type": trigger_type(trigger_name, config.trigger_map, config.default_trigger),
            "trigger.name": trigger_name,
        }
    )
    lead = assemble(values)
    lead.update(event_id=notification_id, source=SOURCE)
    lead.setdefault("contact", {})
    return lead


def account_fields(config: SalesforceAdapterConfig) -> dict[str, str]:
    """canonical path -> Account field, the defaults with ops' overrides."""
    return {**ACCOUNT_FIELDS, **config.account_fields}


def requested_account_fields(config: SalesforceAdapterConfig) -> list[str]:
    """Every Account field the adapter reads, for the REST API's ``fields`` parameter."""
    return sorted(set(account_fields(config).values()))


def with_account(
    lead: dict[str, Any],
    account: dict[str, Any],
    opportunity: dict[str, Any] | None,
    config: SalesforceAdapterConfig,
) -> dict[str, Any]:
    """The Contact's lead with its Account's company and owner, and its open Opportunity's owner.
    The Account wins over the Contact's own mapped values, as HubSpot's company does: it is the
    record sales keeps up to date."""
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in lead.items()}
    values = {
        path: _coerce(path, "" if account.get(field) is None else str(account.get(field)))
        for path, field in account_fields(config).items()
    }
    for head, value in assemble(values).items():
        if isinstance(value, dict):
            merged.setdefault(head, {}).update(value)
        else:
            merged[head] = value
    if opportunity is not None:
        merged["crm"]["open_opportunity"] = True
        merged["crm"]["opportunity_owner_id"] = text(opportunity.get("OwnerId"))
    return merged
