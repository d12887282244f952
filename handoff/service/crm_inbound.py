"""CRM deliveries with more than one lead in them, or none until the CRM is asked."""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from handoff.api.requests import parse_json, parse_json_object, parse_lead
from handoff.crm import hubspot, salesforce
from handoff.crm.hubspot_api import CrmRecordMissing
from handoff.crm.mapping import moment, text
from handoff.crm.salesforce_api import is_record_id
from handoff.deploy import credentials
from handoff.domain.lead import Lead, lead_id_for, truthy
from handoff.domain.provenance import vouched_sources
from handoff.domain.record import OPEN_STATUSES, LeadStatus, TimelineEntry, iso
from handoff.errors import BadRequest
from handoff.observability import MetricUnit, logger, metrics
from handoff.service.crm_activity import SALES_ACCEPTED, CrmActivity, record_activity
from handoff.service.intake import IntakeResult, accept, answer_for
from handoff.service.pipeline import DealRead, deal_from_hubspot, deal_from_salesforce, record_deal
from handoff.service.ports import Ports

DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A date ends latest at 12:00 UTC the next day (UTC-12), 36 hours after it began in UTC.
LAST_INSTANT_OF_A_DATE = timedelta(hours=36)


def accept_hubspot(ports: Ports, body: bytes, now: datetime) -> IntakeResult:
    """A workflow webhook (one contact object) or a Webhooks-API event array."""
    data = parse_json(body)
    config = ports.config.adapters.hubspot
    if isinstance(data, dict):
        lead = parse_lead(hubspot.from_workflow(data, body, config), ports.config)
        ignored = _not_a_new_handoff(ports, lead)
        if ignored is not None:
            stage = text(hubspot.flatten(data.get("properties")).get("lifecyclestage"))
            portal = text(data.get("portal-id") or data.get("portalId"))
            accepted = _hubspot_sales_accepted(
                ports, lead.crm.record_id, stage, portal=portal, at=None, now=now
            )
            if accepted is not None and "lead_id" in accepted:
                return IntakeResult(200, accepted)
            logger.info("hubspot contact ignored", extra={"lead_id": lead.lead_id, "reason": ignored})
            return IntakeResult(200, {"status": "ignored", "reason": ignored})
        return accept(ports, lead, now)
    if isinstance(data, list):
        return _accept_events(ports, hubspot.parse_events(data), now)
    raise BadRequest(f"body must be a contact object or an event array, not {type(data).__name__}")


def _not_a_new_handoff(ports: Ports, lead: Lead) -> str | None:
    """Why a HubSpot contact object starts no handoff. A contact is handed off once per
    conversion: a body naming no conversion newer than the contact's latest lead (an activity
    webhook sent, or replayed, to the lead URL) starts nothing while that lead is being handed
    off, and a conversion already received is never handed off twice."""
    record_id = lead.crm.record_id
    if not record_id or ports.leads.get(lead.lead_id) is not None:
        return None  # a redelivery gets the first delivery's answer from accept
    latest = ports.leads.latest_for_crm_record(hubspot.SOURCE, record_id, {hubspot.SOURCE})
    if latest is None:
        return None
    converted, before = lead.trigger.at, latest.trigger.at
    if converted is not None and (before is None or converted > before):
        return None
    if latest.status in (LeadStatus.ROUTING, *OPEN_STATUSES):
        return (
            f"contact {record_id[:40]} already has an open handoff ({latest.lead_id}) and this delivery "
            "names no newer conversion (activity webhooks go to /webhooks/hubspot/activity)"
        )
    if converted is not None and before is not None:
        return f"contact {record_id[:40]}'s conversion at {iso(converted)} was received already ({latest.lead_id})"
    return None


def _activity_time(values: dict[str, Any], names: list[str]) -> datetime | None:
    """When the activity happened: the first of ``names`` the CRM sent. A date alone (Salesforce's
    ActivityDate) counts as the last instant that date is anywhere, so an activity logged on the
    day of the assignment is never taken for an older one."""
    for name in names:
        raw = text(values.get(name))
        if not raw:
            continue
        if DATE_ONLY.fullmatch(raw):
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC) + LAST_INSTANT_OF_A_DATE
        stamp = moment(raw)
        if stamp:
            return datetime.fromisoformat(stamp)
    return None


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
    at = _activity_time(properties, sync.activity_time_properties)
    portal = text(data.get("portal-id") or data.get("portalId"))
    # The same activity always has the same ref: the contact, the type and when it happened;
    # without a time, the exact body (HubSpot sends it again unchanged when it retries).
    what = f"{activity.upper()}:{iso(at)}" if at else "body:" + hashlib.sha256(body).hexdigest()[:32]
    crm_activity = CrmActivity(
        system=hubspot.SOURCE,
        record_id=record_id,
        type=activity,
        owner_id=text(properties.get(sync.owner_property)),
        ref=f"{hubspot.SOURCE}:{portal + ':' if portal else ''}{record_id}:{what}",
        at=at,
        call_outcome=text(properties.get(sync.call_outcome_property)),
        completed=(text(properties.get(sync.task_status_property)) or "").upper() == "COMPLETED",
    )
    return IntakeResult(200, record_activity(ports, crm_activity, now=now))


def _accept_events(ports: Ports, events: list[hubspot.HubSpotEvent], now: datetime) -> IntakeResult:
    config = ports.config.adapters.hubspot
    results: list[dict[str, Any]] = []
    for event in events:
        event_id = str(event.event_id)
        accepted = _event_sales_accepted(ports, event, now)
        if accepted is not None:
            results.append({"event_id": event_id, **accepted})
            continue
        if hubspot.deal_changed(event):
            results.append({"event_id": event_id, **_hubspot_deal(ports, event, now)})
            continue
        reason = hubspot.ignored_because(event, config)
        if reason is not None:
            results.append({"event_id": event_id, "status": "ignored", "reason": reason})
            continue
        existing = ports.leads.get(lead_id_for(hubspot.SOURCE, event.delivery_id))
        if existing is not None:  # a redelivery: answer without asking the CRM again
            results.append({"event_id": event_id, **answer_for(existing).body})
            continue
        try:
            contact, company, deal = ports.hubspot.contact_records(
                str(event.object_id), hubspot.requested_properties(config)
            )
        except CrmRecordMissing:
            logger.warning("hubspot contact gone", extra={"event_id": event_id})
            results.append({"event_id": event_id, "status": "ignored", "reason": "contact no longer exists"})
            continue
        # CrmUnavailable propagates: the caller answers 503 and HubSpot redelivers the batch;
        # events already accepted dedupe on the way back in.
        try:
            lead = parse_lead(hubspot.lead_from_event(event, contact, company, config, deal), ports.config)
        except BadRequest as exc:
            # The CRM's own record (a contact without an email, say), not the delivery, is what
            # cannot be handed off: a 400 would have HubSpot drop the batch's other events with it.
            logger.warning("hubspot contact not a lead", extra={"event_id": event_id, "reason": exc.message})
            results.append({"event_id": event_id, "status": "ignored", "reason": f"contact: {exc.message}"})
            continue
        results.append({"event_id": event_id, **accept(ports, lead, now).body})
    return IntakeResult(200, {"events": results})


def _hubspot_deal(ports: Ports, event: hubspot.HubSpotEvent, now: datetime) -> dict[str, str]:
    """A deal created or moved: read it, its contacts and its company, and keep it on the handoff
    it came from. CrmUnavailable propagates (a 503, and HubSpot redelivers the batch)."""
    try:
        deal, contact_ids, company = ports.hubspot.deal_records(str(event.object_id))
    except CrmRecordMissing:
        return {"status": "ignored", "reason": "deal no longer exists"}
    read = deal_from_hubspot(deal)
    if read is None:
        return {"status": "ignored", "reason": "deal names no stage or creation date"}
    company_props = hubspot.flatten(company.get("properties", {})) if company else {}
    domain = text(company_props.get("domain"))
    return record_deal(
        ports,
        DealRead(
            deal=read,
            people=contact_ids,
            account_ids=[str(company["id"])] if company and company.get("id") else [],
            domains=[domain] if domain else [],
            at=datetime.fromtimestamp(event.occurred_at / 1000, UTC) if event.occurred_at else None,
        ),
        now,
    )


def accept_salesforce(ports: Ports, body: bytes, token: str | None, now: datetime) -> str:
    """Every notification durably recorded, then the SOAP Ack; any refusal raises before a write.

    A Contact carries no company, so its Account (and the Account's open Opportunity) is read
    through the REST API first, for every Contact in the message and before any lead is written:
    if Salesforce cannot answer, CrmUnavailable becomes a 503 fault, Salesforce redelivers the
    message, and nothing of it is half-recorded. An Opportunity (or a converted Lead's) is read
    last, for the pipeline: a fault there redelivers leads already recorded, which dedupe."""
    salesforce.check_token(token, ports.secret(credentials.SALESFORCE_TOKEN.name))
    org_id, notifications = salesforce.parse_envelope(body)
    salesforce.check_org(org_id, ports.secret(credentials.SALESFORCE_ORG_IDS.name))
    mapped: list[dict[str, Any]] = []
    activities = []
    # (Opportunity id, the converted Lead it came from or None, the notification's AccountId)
    opportunities: list[tuple[str, str | None, str | None]] = []
    ignored = 0
    for index, (notification_id, kind, fields) in enumerate(notifications):
        # A notification that is well-formed but no lead or touch (another sObject, a Contact with
        # no email, a Task on no person) is acknowledged and ignored, its reason logged: a fault
        # would have Salesforce resend it, and every good notification with it, for 24 hours.
        # A malformed one (an invalid email, an impossible number) still faults the whole message.
        found = _notification(ports, index, notification_id, kind, fields)
        if isinstance(found, tuple):
            opportunities.append(found)
        elif isinstance(found, str):
            ignored += 1
            logger.warning(
                "salesforce notification ignored",
                extra={"notification_id": notification_id[:18], "sobject": kind[:40], "reason": found},
            )
        elif isinstance(found, CrmActivity):
            activities.append(found)
        else:
            mapped.append(found)
    accounts = _read_accounts(ports, mapped)
    leads = [_with_account(ports, lead, accounts, now) for lead in mapped]
    for lead, notes in leads:
        accept(ports, lead, now, notes=notes)
    for activity in activities:
        answer = record_activity(ports, activity, now=now)
        if answer.get("status") == "ignored":
            logger.info("salesforce task ignored", extra={"ref": activity.ref, "reason": answer["reason"]})
    for opportunity_id, converted_lead, account_id in opportunities:
        # CrmUnavailable propagates: a 503 fault, and Salesforce redelivers; what was recorded
        # above dedupes, and a deal already kept at its stage writes nothing.
        answer = _salesforce_opportunity(ports, opportunity_id, converted_lead, account_id, now)
        logger.info("salesforce opportunity", extra={"opportunity_id": opportunity_id, **answer})
    metrics.add_metric(
        name="SalesforceNotifications",
        unit=MetricUnit.Count,
        value=len(mapped) + len(activities) + len(opportunities),
    )
    if ignored:
        metrics.add_metric(name="SalesforceNotificationsIgnored", unit=MetricUnit.Count, value=ignored)
    return salesforce.ACK


def _notification(
    ports: Ports, index: int, notification_id: str, kind: str, fields: dict[str, str]
) -> dict[str, Any] | CrmActivity | tuple[str, str | None, str | None] | str:
    """What one notification is: a lead, a touch, an opportunity to read, or why it is none."""
    if kind not in salesforce.HANDLED:
        return "not Lead, Contact, Task or Opportunity"
    if (opportunity := _opportunity_notification(kind, fields)) is not None:
        return opportunity
    if kind == "Task":
        return _task_activity(ports, notification_id, fields)
    if (accepted := _lead_sales_accepted(ports, kind, notification_id, fields)) is not None:
        return accepted
    return _checked_notification(ports, index, notification_id, kind, fields)


def _opportunity_notification(
    kind: str, fields: dict[str, str]
) -> tuple[str, str | None, str | None] | str | None:
    """An Opportunity notification, or a converted Lead's, as (opportunity id, converted Lead,
    AccountId) to read; why it cannot be read; or None when it is about no opportunity."""
    if kind == "Opportunity":
        opportunity_id, converted_lead = text(fields.get("Id")), None
    elif kind == "Lead" and truthy(fields.get("IsConverted")) and fields.get("ConvertedOpportunityId"):
        opportunity_id, converted_lead = text(fields.get("ConvertedOpportunityId")), text(fields.get("Id"))
    else:
        return None
    if not opportunity_id or not is_record_id(opportunity_id):
        return f"{kind} names no Opportunity id Handoff can read"
    if converted_lead is not None and not is_record_id(converted_lead):
        return "a converted Lead without a Salesforce Id"
    account_id = text(fields.get("AccountId") or fields.get("ConvertedAccountId"))
    return opportunity_id, converted_lead, account_id if account_id and is_record_id(account_id) else None


def _salesforce_opportunity(
    ports: Ports, opportunity_id: str, converted_lead: str | None, account_id: str | None, now: datetime
) -> dict[str, str]:
    """Read the Opportunity and its contact roles, and keep it on the handoff it came from: the
    converted Lead's, a contact role's, else one of its Account's."""
    opportunity, contacts = ports.salesforce.opportunity_records(opportunity_id)
    if opportunity is None:
        return {"status": "ignored", "reason": "opportunity no longer exists"}
    deal = deal_from_salesforce(opportunity)
    if deal is None:
        return {"status": "ignored", "reason": "opportunity names no StageName or CreatedDate"}
    account = text(opportunity.get("AccountId")) or account_id
    people = [converted_lead, *contacts] if converted_lead else contacts
    read = DealRead(
        deal=deal,
        people=[p for p in people if p],
        account_ids=[account] if account else [],
        # An Outbound Message carries no time of the change: LastModifiedDate is not always sent.
        at=now,
    )
    return record_deal(ports, read, now)


# Salesforce Account reads in flight at once, for one message.
ACCOUNT_READS_AT_ONCE = 8
# An Account as read: its fields and its open Opportunity, or None when it is gone.
AccountRead = tuple[dict[str, Any], dict[str, Any] | None] | None


def _checked_notification(
    ports: Ports, index: int, notification_id: str, kind: str, fields: dict[str, str]
) -> dict[str, Any] | str:
    """The notification as a lead, why it is none (no email: nobody a rep could reach), or
    BadRequest naming it when it is malformed."""
    try:
        lead = salesforce.lead_from_notification(
            notification_id, kind, fields, ports.config.adapters.salesforce
        )
        if not lead.get("contact", {}).get("email"):
            return f"a {kind} without an email address is nobody a rep can reach"
        parse_lead(lead, ports.config)
        account_id = _account_id(lead)
        if account_id is not None and not is_record_id(account_id):
            raise BadRequest(
                f"AccountId {account_id[:40]!r} is not a Salesforce id", [{"field": "AccountId"}]
            )
    except BadRequest as exc:
        raise BadRequest(
            f"notification {index} ({notification_id[:18]}): {exc.message}", exc.details
        ) from exc
    return lead


def _account_id(lead: dict[str, Any]) -> str | None:
    """The Account of a Contact's notification (a Lead has none)."""
    if lead.get("crm", {}).get("object") != "Contact":
        return None
    return text(lead["crm"].get("account_id"))


def _read_accounts(ports: Ports, leads: list[dict[str, Any]]) -> dict[str, AccountRead]:
    """Each new Contact's Account, read once however many Contacts share it; {} when reads are off.
    A Contact already stored is a redelivery: it gets its first answer, and nothing is read for it."""
    config = ports.config.adapters.salesforce
    wanted = dict.fromkeys(
        account_id
        for lead in leads
        if (account_id := _account_id(lead))
        and ports.leads.get(lead_id_for(salesforce.SOURCE, lead["event_id"])) is None
    )
    if not wanted or not config.read_accounts:
        if wanted:
            logger.info(
                "salesforce accounts not read", extra={"reason": "[adapters.salesforce] read_accounts"}
            )
        return {}
    fields = salesforce.requested_account_fields(config)
    # A message holds up to 100 Contacts, each perhaps of its own Account, at two calls an
    # Account: read side by side, or a large message would outlast API Gateway's 29 seconds.
    with ThreadPoolExecutor(max_workers=min(ACCOUNT_READS_AT_ONCE, len(wanted))) as pool:
        reads = {a: pool.submit(ports.salesforce.account_with_open_opportunity, a, fields) for a in wanted}
        try:
            # CrmUnavailable propagates: a 503 fault, and Salesforce redelivers the whole message.
            answers = {account_id: read.result() for account_id, read in reads.items()}
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    accounts: dict[str, AccountRead] = {}
    for account_id, (account, opportunity) in answers.items():
        if account is None:
            logger.warning("salesforce account gone", extra={"account_id": account_id})
        accounts[account_id] = (account, opportunity) if account is not None else None
    return accounts


def _with_account(
    ports: Ports, lead: dict[str, Any], accounts: dict[str, AccountRead], now: datetime
) -> tuple[Lead, tuple[TimelineEntry, ...]]:
    """The lead with its Account's company and owners, and what the timeline should say of it."""
    account_id = _account_id(lead)
    if account_id is None:
        return parse_lead(lead, ports.config), ()
    config = ports.config.adapters.salesforce
    if not config.read_accounts:
        why = "not read ([adapters.salesforce] read_accounts = false)"
    elif account_id not in accounts:  # a redelivery, answered from what is stored
        return parse_lead(lead, ports.config), ()
    elif (found := accounts[account_id]) is None:
        why = "no longer exists in Salesforce"
    else:
        account, opportunity = found
        try:
            merged = parse_lead(salesforce.with_account(lead, account, opportunity, config), ports.config)
        except BadRequest as exc:  # the Account's own data, not the sender's: keep the Contact
            why = f"has values Handoff cannot use ({exc.message[:120]})"
        else:
            detail = f"company and account owner from Account {account_id}" + (
                f"; open opportunity {text(opportunity.get('Id'), 18)} owned by {merged.crm.opportunity_owner_id}"
                if opportunity is not None
                else "; no open opportunity"
            )
            return merged, (TimelineEntry(at=now, event="crm_account_read", detail=detail),)
    detail = f"Account {account_id} {why}: no company size, industry or account owner"
    return parse_lead(lead, ports.config), (
        TimelineEntry(at=now, event="crm_account_not_read", detail=detail),
    )


def _task_activity(ports: Ports, notification_id: str, fields: dict[str, str]) -> CrmActivity | str:
    """The activity a Task notification reports (the Lead or Contact it is about, its type, its
    owner, and when it happened), or why it reports none."""
    sync = ports.config.crm_sync.salesforce
    record_id, activity = (
        text(fields.get("WhoId")),
        text(fields.get(sync.activity_type_field) or fields.get("Type")),
    )
    if not record_id:
        return "a Task on no Lead or Contact (no WhoId) is nobody's first touch"
    if not activity:
        return f"a Task without {sync.activity_type_field} or Type says nothing of what was done"
    return CrmActivity(
        system=salesforce.SOURCE,
        record_id=record_id,
        type=activity,
        owner_id=text(fields.get("OwnerId")),
        # The Task itself, so a new notification about the same Task (an edit) is no second touch.
        ref=f"{salesforce.SOURCE}:{text(fields.get('Id')) or notification_id}",
        at=_activity_time(fields, sync.activity_time_fields),
        call_outcome=text(fields.get(sync.call_outcome_field)),
        completed=(text(fields.get("Status")) or "").lower() == "completed"
        or (text(fields.get("IsClosed")) or "").lower() == "true",
    )


# --- sales accepted (MQL -> SQL) as the CRM says it ----------------------------------------------


def _open_handoff(ports: Ports, system: str, record_id: str | None) -> bool:
    sources = vouched_sources(system, ports.config.crm_sync.write_back_sources)
    return bool(record_id) and ports.leads.open_for_crm_record(system, str(record_id), sources) is not None


def _sales_accepted_activity(
    system: str, record_id: str, *, what: str, value: str, ref: str, at: datetime | None
) -> CrmActivity:
    return CrmActivity(
        system=system,
        record_id=record_id,
        type=what,
        owner_id=None,  # the record's change, not someone's activity: it is the owner's handoff
        ref=ref,
        at=at,
        outcome=SALES_ACCEPTED,
        note=f"{what} {value[:60]} in {system}",
    )


def _hubspot_sales_accepted(
    ports: Ports,
    record_id: str | None,
    stage: str | None,
    *,
    portal: str | None,
    at: datetime | None,
    now: datetime,
) -> dict[str, str] | None:
    """A contact reaching a sales-accepted lifecycle stage while its handoff is open: sales_accepted
    on that handoff, once (its ref is the contact and the stage). None when the stage says nothing."""
    stages = {s.lower() for s in ports.config.crm_sync.hubspot.sales_accepted_stages}
    if not record_id or not stage or stage.lower() not in stages:
        return None
    ref = f"{hubspot.SOURCE}:{portal + ':' if portal else ''}{record_id}:lifecyclestage:{stage.lower()}"
    activity = _sales_accepted_activity(
        hubspot.SOURCE, record_id, what="lifecycle stage", value=stage, ref=ref, at=at
    )
    return record_activity(ports, activity, now=now)


def _event_sales_accepted(ports: Ports, event: hubspot.HubSpotEvent, now: datetime) -> dict[str, str] | None:
    """A Webhooks-API lifecyclestage change to a sales-accepted stage, on a contact whose handoff
    is open; None for any other event (it is handled as a possible new handoff)."""
    kind = event.subscription_type
    if kind.startswith("object.") and event.object_type_id == hubspot.CONTACT_OBJECT_TYPE:
        kind = "contact." + kind.removeprefix("object.")
    if kind != "contact.propertyChange" or (event.property_name or "").lower() != "lifecyclestage":
        return None
    stages = {s.lower() for s in ports.config.crm_sync.hubspot.sales_accepted_stages}
    record_id = str(event.object_id) if event.object_id is not None else None
    if (event.property_value or "").lower() not in stages or not _open_handoff(
        ports, hubspot.SOURCE, record_id
    ):
        return None
    at = datetime.fromtimestamp(event.occurred_at / 1000, UTC) if event.occurred_at else None
    return _hubspot_sales_accepted(
        ports, record_id, event.property_value, portal=str(event.portal_id), at=at, now=now
    )


def _lead_sales_accepted(
    ports: Ports, kind: str, notification_id: str, fields: dict[str, str]
) -> CrmActivity | None:
    """A Lead notification whose Status says sales accepted it, for a Lead whose handoff is open:
    sales_accepted on that handoff (once per Lead and status). None otherwise: it is read as a lead."""
    statuses = {s.strip().lower() for s in ports.config.crm_sync.salesforce.sales_accepted_statuses}
    status, record_id = text(fields.get("Status")), text(fields.get("Id"))
    if kind != "Lead" or not status or status.lower() not in statuses or not record_id:
        return None
    if not _open_handoff(ports, salesforce.SOURCE, record_id):
        return None
    ref = f"{salesforce.SOURCE}:{record_id}:Status:{status.lower()}"
    # When the Status changed: the Lead's last edit (its CreatedDate is long before the handoff).
    at = _activity_time(fields, ["LastModifiedDate"])
    return _sales_accepted_activity(
        salesforce.SOURCE, record_id, what="lead status", value=status, ref=ref, at=at
    )
