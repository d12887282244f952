"""CRM deliveries with more than one lead in them, or none until the CRM is asked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff.api.requests import parse_json, parse_json_object, parse_lead
from handoff.crm import hubspot, salesforce
from handoff.crm.hubspot_api import CrmRecordMissing
from handoff.crm.mapping import text
from handoff.deploy import credentials
from handoff.domain.lead import lead_id_for
from handoff.errors import BadRequest
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.crm_activity import record_activity
from handoff.service.intake import IntakeResult, accept, answer_for
from handoff.service.ports import Ports


def accept_hubspot(ports: Ports, body: bytes, now: datetime) -> IntakeResult:
    """A workflow webhook (one contact object) or a Webhooks-API event array."""
    data = parse_json(body)
    config = ports.config.adapters.hubspot
    if isinstance(data, dict):
        lead = parse_lead(hubspot.from_workflow(data, body, config), ports.config)
        return accept(ports, lead, now)
    if isinstance(data, list):
        return _accept_events(ports, hubspot.parse_events(data), now)
    raise BadRequest(f"body must be a contact object or an event array, not {type(data).__name__}")


def accept_hubspot_activity(ports: Ports, body: bytes, now: datetime) -> IntakeResult:
    """A workflow webhook sent when a call, email or meeting is logged on the contact."""
    data = parse_json_object(body)
    record_id = text(data.get("vid") or data.get("canonical-vid") or data.get("objectId") or data.get("id"))
    properties = hubspot.flatten(data.get("properties"))
    sync = ports.config.crm_sync.hubspot
    activity = text(properties.get(sync.activity_type_property))
    if not record_id or not activity:
        missing = "vid" if not record_id else f"properties.{sync.activity_type_property}"
        raise BadRequest(f"HubSpot activity webhook needs {missing}", details=[{"field": missing}])
    owner = text(properties.get(sync.owner_property))
    return IntakeResult(200, record_activity(ports, hubspot.SOURCE, record_id, activity, owner, now=now))


def _accept_events(ports: Ports, events: list[hubspot.HubSpotEvent], now: datetime) -> IntakeResult:
    config = ports.config.adapters.hubspot
    results: list[dict[str, Any]] = []
    for event in events:
        event_id = str(event.event_id)
        reason = hubspot.ignored_because(event, config)
        if reason is not None:
            results.append({"event_id": event_id, "status": "ignored", "reason": reason})
            continue
        existing = ports.leads.get(lead_id_for(hubspot.SOURCE, event.delivery_id))
        if existing is not None:  # a redelivery: answer without asking the CRM again
            results.append({"event_id": event_id, **answer_for(existing).body})
            continue
        try:
            contact, company = ports.hubspot.contact_with_company(
                str(event.object_id), hubspot.requested_properties(config)
            )
        except CrmRecordMissing:
            logger.warning("hubspot contact gone", extra={"event_id": event_id})
            results.append({"event_id": event_id, "status": "ignored", "reason": "contact no longer exists"})
            continue
        # CrmUnavailable propagates: the caller answers 503 and HubSpot redelivers the batch;
        # events already accepted dedupe on the way back in.
        lead = parse_lead(hubspot.lead_from_event(event, contact, company, config), ports.config)
        results.append({"event_id": event_id, **accept(ports, lead, now).body})
    return IntakeResult(200, {"events": results})


def accept_salesforce(ports: Ports, body: bytes, token: str | None, now: datetime) -> str:
    """Every notification durably recorded, then the SOAP Ack; any refusal raises before a write."""
    salesforce.check_token(token, ports.secret(credentials.SALESFORCE_TOKEN.name))
    org_id, notifications = salesforce.parse_envelope(body)
    salesforce.check_org(org_id, ports.secret(credentials.SALESFORCE_ORG_IDS.name))
    config = ports.config.adapters.salesforce
    leads = []
    activities = []
    ignored = 0
    for index, (notification_id, kind, fields) in enumerate(notifications):
        if kind not in salesforce.HANDLED:
            ignored += 1
            logger.info(
                "salesforce notification ignored",
                extra={
                    "notification_id": notification_id[:18],
                    "sobject": kind[:40],
                    "reason": "not Lead, Contact or Task",
                },
            )
            continue
        if kind == "Task":
            activities.append(_task_activity(ports, index, notification_id, fields))
            continue
        try:
            leads.append(
                parse_lead(
                    salesforce.lead_from_notification(notification_id, kind, fields, config), ports.config
                )
            )
        except BadRequest as exc:
            raise BadRequest(
                f"notification {index} ({notification_id[:18]}): {exc.message}", exc.details
            ) from exc
    for lead in leads:
        accept(ports, lead, now)
    for record_id, activity, owner in activities:
        record_activity(ports, salesforce.SOURCE, record_id, activity, owner, now=now)
    metrics.add_metric(
        name="SalesforceNotifications", unit=MetricUnit.Count, value=len(leads) + len(activities)
    )
    if ignored:
        metrics.add_metric(name="SalesforceNotificationsIgnored", unit=MetricUnit.Count, value=ignored)
    return salesforce.ACK


def _task_activity(
    ports: Ports, index: int, notification_id: str, fields: dict[str, str]
) -> tuple[str, str, str | None]:
    """(the Lead or Contact it is about, its type, its owner) from a Task notification."""
    type_field = ports.config.crm_sync.salesforce.activity_type_field
    record_id, activity = text(fields.get("WhoId")), text(fields.get(type_field) or fields.get("Type"))
    if not record_id or not activity:
        missing = "WhoId" if not record_id else type_field
        raise BadRequest(f"notification {index} ({notification_id[:18]}): a Task needs {missing}")
    return record_id, activity, text(fields.get("OwnerId"))
