"""Payloads written by others (CRM docs, official SDK tests, public projects' fixtures) through the
real handlers on moto. Where each file came from, and every edit made to it, is in
tests/fixtures/real/SOURCES.md.

One stack serves the whole module: every payload has its own delivery id, so each case checks only
what it wrote. Most cases check the stored lead; the workflow runs to the rep on two of them."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff.aws import container
from handoff.domain.lead import lead_id_for
from handoff.domain.record import iso
from handoff.local.fake_hubspot import FakeHubSpot
from tests.conftest import EXAMPLES, ROOT, rep
from tests.integration.conftest import SECRETS, Aws

REAL = ROOT / "tests" / "fixtures" / "real"
HUBSPOT = REAL / "hubspot"
SALESFORCE = REAL / "salesforce"
MARKETO = REAL / "marketo"


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def hubspot_crm() -> Iterator[FakeHubSpot]:
    """The fake HubSpot CRM API the module's stack reads, serving the records the events point at."""
    fake = FakeHubSpot(
        EXAMPLES / "hubspot" / "crm-objects.json",
        token=SECRETS["HANDOFF_HUBSPOT_TOKEN"],
        dated_as_of=datetime.now(UTC),
    )
    contacts, companies = fake.data["contacts"], fake.data["companies"]
    # HubSpot's own SDK test contact and company (Bryan Cooper at Biglytics), for objectId 123.
    sdk = _json(HUBSPOT / "api" / "sdk-contact-with-company.json")
    contacts["123"] = sdk["contact"]
    companies["9900"] = sdk["company"]
    # Pipedream's HubSpot contact test event: a real contact shape with no email address.
    contacts["65059681032"] = _json(HUBSPOT / "api" / "pipedream-contact-no-email.json") | {
        "id": "65059681032"
    }
    # No published contact carries firmographics; for one event, serve this project's own sample
    # contact (examples/hubspot/crm-objects.json, Lee Santos at Brightwave Payments).
    contacts["3896"] = copy.deepcopy(contacts["3301"]) | {"id": "3896"}
    # The deal of HubSpot's documented deal.creation event, on Bryan Cooper, created a day from
    # now (so after his handoff); the propertyChange event's deal 4658499851 is in no CRM.
    fake.data["deals"]["4658499848"] = {
        "id": "4658499848",
        "properties": {"dealstage": "qualifiedtobuy", "amount": "9000", "pipeline": "default",
                       "createdate": iso(datetime.now(UTC) + timedelta(days=1))},
        "associations": {"contacts": {"results": [{"id": "123", "type": "deal_to_contact"}]}},
    }  # fmt: skip
    # HubSpot's Webhooks API guide's example payload: contact 1246978 was created (served as the
    # SDK's Bryan Cooper), and the deals built to that example, 1246965 and 1246978, are his,
    # created a day from now (after his handoff).
    contacts["1246978"] = sdk["contact"] | {"id": "1246978"}
    for deal_id, stage, amount in (
        ("1246965", "presentationscheduled", "36000"),
        ("1246978", "qualifiedtobuy", "9000"),
    ):
        fake.data["deals"][deal_id] = {
            "id": deal_id,
            "properties": {"dealstage": stage, "amount": amount, "pipeline": "default",
                           "createdate": iso(datetime.now(UTC) + timedelta(days=1))},
            "associations": {"contacts": {"results": [{"id": "1246978", "type": "deal_to_contact"}]}},
        }  # fmt: skip
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(shared_aws: Aws, hubspot_crm: FakeHubSpot) -> Iterator[Aws]:
    """The module's stack, reading the fake HubSpot CRM API and the stack's fake Salesforce."""
    # The Opportunities the documented-schema Salesforce notifications name, created a day from
    # now (after the handoffs of examples/webhooks/salesforce/outbound-message-lead-and-contact.xml):
    # one with Kim Nguyen's Contact in a contact role, one converted from Sam Rivera's Lead.
    created = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    shared_aws.salesforce.data["Opportunity"]["0065g0000OPPT20AAA"] = {
        "AccountId": "0015g0000ACCT01AAA", "StageName": "Proposal/Price Quote", "Amount": 64000.0,
        "IsClosed": False, "CreatedDate": created, "ContactRoles": ["0035g0000CONT01AAA"],
    }  # fmt: skip
    shared_aws.salesforce.data["Opportunity"]["0065g0000OPPT21AAA"] = {
        "AccountId": "0015g0000ACCT01AAA", "StageName": "Qualification", "Amount": 18000.0,
        "IsClosed": False, "CreatedDate": created, "ContactRoles": [],
    }  # fmt: skip
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("HANDOFF_HUBSPOT_API_BASE", hubspot_crm.url)
        container.reset()
        shared_aws.put_reps(rep("r1"))
        yield shared_aws
    container.reset()


def hubspot_events(aws: Aws, name: str) -> tuple[int, dict[str, Any]]:
    return aws.post_hubspot((HUBSPOT / name).read_bytes())


def bearer(aws: Aws, body: bytes, content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {SECRETS['HANDOFF_GENERIC_TOKEN']}"}
    return aws.api("POST", "/webhooks/generic", body, headers)


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# recent_conversion_date 1325633423000 in HubSpot's docs example.
WHEN_TESTFORM = datetime(2012, 1, 3, 23, 30, 23, tzinfo=UTC)


def reason_codes(lead: dict[str, Any]) -> list[str]:
    return [r["code"] for r in lead["qualification"]["reasons"]]


# --- HubSpot Webhooks-API events that must be acknowledged and ignored, with the reason -----------


@dataclass(frozen=True)
class Ignored:
    event_id: str
    says: tuple[str, ...]  # what the reason must name


IGNORED = {
    "events-ballerina-contact.propertyChange.json": Ignored("112", ("firstname", "sample-value")),
    "events-ballerina-contact.deletion.json": Ignored("109", ("contact.deletion",)),
    "events-ballerina-contact.privacyDeletion.json": Ignored("111", ("contact.privacyDeletion",)),
    "events-ballerina-contact.merge.json": Ignored("110", ("contact.merge",)),
    "events-ballerina-contact.restore.json": Ignored("113", ("contact.restore",)),
    "events-ballerina-contact.associationChange.json": Ignored("107", ("contact.associationChange",)),
    "events-ballerina-company.creation.json": Ignored("102", ("company.creation",)),
    "events-ballerina-company.deletion.json": Ignored("103", ("company.deletion",)),
    "events-ballerina-company.associationChange.json": Ignored("101", ("company.associationChange",)),
    "events-ballerina-ticket.creation.json": Ignored("137", ("ticket.creation",)),
    "events-ballerina-conversation.newMessage.json": Ignored("116", ("conversation.newMessage",)),
    "events-ballerina-company.propertyChange.json": Ignored("105", ("company.propertyChange",)),
}


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_hubspot_event_that_hands_nobody_off_is_acknowledged_with_a_reason(stack: Aws, name: str) -> None:
    expected = IGNORED[name]
    before = stack.leads_count()
    status, body = hubspot_events(stack, name)
    assert status == 200, body
    [event] = body["events"]
    assert event["event_id"] == expected.event_id
    assert event["status"] == "ignored"
    assert all(word in event["reason"] for word in expected.says), event["reason"]
    assert stack.leads_count() == before


# --- HubSpot deal events: read from the CRM API for the pipeline ------------------------------------


def test_hubspot_documented_deal_events_are_read_and_linked_to_the_contacts_handoff(stack: Aws) -> None:
    status, body = hubspot_events(stack, "events-docs-v1-contact-creation.json")
    assert status == 200, body
    lead_id = body["events"][0]["lead_id"]
    status, body = hubspot_events(stack, "events-ballerina-deal.creation.json")
    assert status == 200, body
    assert body["events"] == [
        {"event_id": "120", "status": "linked", "deal_id": "4658499848", "lead_id": lead_id,
         "linked_by": "contact", "milestone": "stage_1"}
    ]  # fmt: skip
    [deal] = stack.get_lead(lead_id)["deals"]
    assert (deal["stage"], deal["amount"], deal["linked_by"]) == ("qualifiedtobuy", 9000, "contact")
    status, body = hubspot_events(stack, "events-ballerina-deal.propertyChange.json")
    assert status == 200, body
    assert body["events"] == [{"event_id": "123", "status": "ignored", "reason": "deal no longer exists"}]


def test_hubspot_docs_webhook_payload_example_is_read_with_its_eventtype_key(stack: Aws) -> None:
    """The example array of HubSpot's Webhooks API guide ("Webhook payloads"), which names the
    subscription type eventType: the lifecyclestage change is not a handoff, the created contact is."""
    status, body = hubspot_events(stack, "events-docs-webhooks-payload-example.json")
    assert status == 200, body
    change, creation = body["events"]
    assert (change["event_id"], change["status"]) == ("3816279340", "ignored")
    assert "lifecyclestage" in change["reason"] and "subscriber" in change["reason"]
    assert creation["event_id"] == "3816279480"
    assert creation["lead_id"] == lead_id_for("hubspot", "33:3816279480")
    lead = stack.get_lead(creation["lead_id"])
    assert lead["contact"]["email"] == "bcooper@biglytics.net"
    assert lead["crm"]["record_url"] == "https://app.hubspot.com/contacts/33/record/0-1/1246978"


def test_hubspot_docs_example_deal_events_are_kept_on_the_contacts_handoff(
    stack: Aws, hubspot_crm: FakeHubSpot
) -> None:
    """HubSpot's documented example payload as deal events (deal.propertyChange on dealstage,
    deal.creation), then the generic object.propertyChange on amount for objectTypeId 0-3: each
    deal is read from the CRM API, with its contact, and kept on that contact's handoff."""
    status, body = hubspot_events(stack, "events-docs-webhooks-payload-example.json")
    assert status == 200, body
    lead_id = lead_id_for("hubspot", "33:3816279480")
    status, body = hubspot_events(stack, "events-docs-deal-stage-change-and-creation.json")
    assert status == 200, body
    assert body["events"] == [
        {"event_id": "3816279340", "status": "linked", "deal_id": "1246965", "lead_id": lead_id,
         "linked_by": "contact", "milestone": "stage_2"},
        {"event_id": "3816279480", "status": "linked", "deal_id": "1246978", "lead_id": lead_id,
         "linked_by": "contact", "milestone": "stage_1"},
    ]  # fmt: skip
    deals = {d["deal_id"]: d for d in stack.get_lead(lead_id)["deals"]}
    assert (deals["1246965"]["stage"], deals["1246965"]["amount"]) == ("presentationscheduled", 36000)
    assert (deals["1246978"]["stage"], deals["1246978"]["amount"]) == ("qualifiedtobuy", 9000)
    assert all(d["system"] == "hubspot" and d["linked_by"] == "contact" for d in deals.values())
    # The generic form: the deal's amount changed; Handoff reads the deal again, not the event.
    hubspot_crm.data["deals"]["1246965"]["properties"]["amount"] = "42000"
    status, body = hubspot_events(stack, "events-docs-generic-deal-amount-change.json")
    assert status == 200, body
    assert body["events"] == [
        {"event_id": "3816279341", "status": "linked", "deal_id": "1246965", "lead_id": lead_id,
         "linked_by": "contact", "milestone": "stage_2"}
    ]  # fmt: skip
    lead = stack.get_lead(lead_id)
    [deal] = [d for d in lead["deals"] if d["deal_id"] == "1246965"]
    assert (deal["stage"], deal["amount"]) == ("presentationscheduled", 42000)
    assert [s["stage"] for s in deal["stages"]] == ["presentationscheduled"]  # the amount is no stage
    assert any(e["event"] == "deal" and "1246965" in e["detail"] for e in lead["timeline"])


# --- HubSpot events that name a contact -------------------------------------------------------------


def test_hubspot_docs_v1_example_event_fetches_the_contact_and_its_company(stack: Aws) -> None:
    """The body HubSpot's docs sign in their v1 example: portal 62515's contact 123 was created."""
    status, body = hubspot_events(stack, "events-docs-v1-contact-creation.json")
    assert status == 200, body
    [event] = body["events"]
    assert event["event_id"] == "1"
    assert event["lead_id"] == lead_id_for("hubspot", "62515:1")
    lead = stack.get_lead(event["lead_id"])
    assert lead["contact"]["email"] == "bcooper@biglytics.net"
    assert (lead["contact"]["first_name"], lead["contact"]["last_name"]) == ("Bryan", "Cooper")
    assert lead["company"]["name"] == "Biglytics"
    assert lead["company"]["domain"] == "biglytics.net"
    assert lead["crm"]["record_url"] == "https://app.hubspot.com/contacts/62515/record/0-1/123"
    assert lead["trigger"]["type"] == "form_submission"
    assert instant(lead["occurred_at"]) == datetime(2019, 7, 26, 4, 0, tzinfo=UTC)
    # Nothing says how big Biglytics is or where it is: recorded, held back, and why.
    assert lead["status"] == "nurture"
    assert {"company.employees", "contact.country|company.country"} <= set(lead["qualification"]["missing"])


def test_hubspot_generic_object_events_hand_off_contacts_and_say_why_not_the_rest(stack: Aws) -> None:
    """The generic format (object.creation with objectTypeId) HubSpot's changelog documents: the
    contact (0-1) is read from the CRM API like contact.creation; the deal (0-3) is read for the
    pipeline, and this one is in no CRM."""
    status, body = hubspot_events(stack, "events-docs-v1-object-creation.json")
    assert status == 200, body
    contact, deal = body["events"]
    assert contact["lead_id"] == lead_id_for("hubspot", "62515:2")
    assert stack.get_lead(contact["lead_id"])["contact"]["email"] == "bcooper@biglytics.net"
    assert deal["status"] == "ignored" and deal["reason"] == "deal no longer exists"


def test_hubspot_events_from_two_portals_with_the_same_event_id_are_two_leads(stack: Aws) -> None:
    """Snowplow's fixture and HubSpot's docs both send eventId 1 for contact 123, from portals
    4737818 and 62515: HubSpot numbers events per portal, so neither may swallow the other."""
    hubspot_events(stack, "events-docs-v1-contact-creation.json")
    status, body = hubspot_events(stack, "events-snowplow-contact-creation.json")
    assert status == 200, body
    [event] = body["events"]
    assert event["lead_id"] == lead_id_for("hubspot", "4737818:1")
    assert event["lead_id"] != lead_id_for("hubspot", "62515:1")
    lead = stack.get_lead(event["lead_id"])
    assert lead["contact"]["email"] == "bcooper@biglytics.net"
    assert lead["crm"]["record_url"] == "https://app.hubspot.com/contacts/4737818/record/0-1/123"
    assert instant(lead["occurred_at"]) == datetime(2018, 10, 10, 4, 23, 19, 845000, tzinfo=UTC)
    assert stack.get_lead(lead_id_for("hubspot", "62515:1"))["status"] == "nurture"


def test_hubspot_event_for_a_contact_without_an_email_is_acknowledged_with_a_reason(stack: Aws) -> None:
    """HubSpot contacts need no email. One without cannot be handed to a rep, and a 4xx would have
    HubSpot drop every other event in the same delivery with it."""
    before = stack.leads_count()
    status, body = hubspot_events(stack, "events-prismatic-contact-creation.json")
    assert status == 200, body
    [event] = body["events"]
    assert event["event_id"] == "567890123"
    assert event["status"] == "ignored"
    assert "email" in event["reason"]
    assert stack.leads_count() == before


def test_hubspot_contact_creation_for_a_sales_ready_contact_reaches_a_rep(stack: Aws) -> None:
    status, body = hubspot_events(stack, "events-ballerina-contact.creation.json")
    assert status == 200, body
    [event] = body["events"]
    assert event["lead_id"] == lead_id_for("hubspot", "123456:108")
    assert event["status"] in {"routing", "assigned", "notified"}
    lead = stack.wait_status(event["lead_id"], {"notified"})
    assert lead["contact"]["email"] == "lee.santos@brightwave.example"
    assert lead["contact"]["title"] == "VP Sales"
    assert lead["contact"]["country"] == "GB"
    assert lead["company"]["name"] == "Brightwave Payments"
    assert lead["company"]["employees"] == 1400
    assert lead["crm"]["account_owner_id"] == "73"
    assert lead["trigger"]["type"] == "pricing_request"
    assert lead["qualification"]["ready"] is True
    assert lead["assignment"]["rep_id"] == "r1"
    assert instant(lead["occurred_at"]) == datetime(2025, 8, 20, 0, 1, 48, tzinfo=UTC)


# --- HubSpot workflow "Send a webhook": the legacy contact object ---------------------------------


def test_hubspot_docs_workflow_webhook_contact(stack: Aws) -> None:
    """HubSpot's documented workflow webhook body (vid 71, portal 62515): properties with
    versions, form-submissions, identity-profiles."""
    status, body = stack.post_hubspot((HUBSPOT / "workflow-docs-contact-v1.json").read_bytes())
    assert status == 200, body
    assert body["status"] == "nurture"
    lead = stack.get_lead(body["lead_id"])
    assert lead["contact"]["email"] == "perf_user_970@test.com"
    assert (lead["contact"]["first_name"], lead["contact"]["last_name"]) == ("perf_user_970", "perf_user_970")
    assert lead["crm"]["record_url"] == "https://app.hubspot.com/contacts/62515/record/0-1/71"
    assert (lead["trigger"]["type"], lead["trigger"]["name"]) == ("form_submission", "testform: testform")
    assert instant(lead["trigger"]["at"]) == WHEN_TESTFORM  # when they filled the form in
    # One form, its first and most recent conversion: one activity.
    assert [(a["type"], a.get("title")) for a in lead.get("activities", [])] == [
        ("form_submission", "testform: testform")
    ]
    assert {"company.employees", "contact.country|company.country"} <= set(lead["qualification"]["missing"])
    assert "missing.company.employees" in reason_codes(lead)
    again = stack.post_hubspot((HUBSPOT / "workflow-docs-contact-v1.json").read_bytes())
    assert again == (status, body)  # HubSpot retried: the first answer, nothing new


# --- Salesforce Outbound Messages ---------------------------------------------------------------

SALESFORCE_IGNORED = {
    # An Opportunity (006Q0000009N3gf) that is in no CRM: read, gone, and so not attributed.
    "mulesoft-opportunity.xml",
    # Contacts sent with only an Id, or a name and no email: no lead a rep could work. A SOAP fault
    # would have Salesforce redeliver them, unchanged, for 24 hours.
    "guardian-contact-id-only.xml",
    "freedom-nozzle-contact.xml",
    "freedom-nozzle-two-contacts.xml",
}


def test_salesforce_documented_opportunity_notification_reaches_the_contacts_handoff(stack: Aws) -> None:
    """An OpportunityNotification built to the WSDL Salesforce documents: the Opportunity is read
    through the REST API, with its contact roles, and kept on Kim Nguyen's Contact handoff."""
    status, xml = stack.post_salesforce(
        (EXAMPLES / "webhooks/salesforce/outbound-message-lead-and-contact.xml").read_bytes()
    )
    assert (status, "<Ack>true</Ack>" in xml) == (200, True), xml
    status, xml = stack.post_salesforce(
        (SALESFORCE / "docs-schema-opportunity-notification.xml").read_bytes()
    )
    assert (status, "<Ack>true</Ack>" in xml) == (200, True), xml
    lead = stack.get_lead(lead_id_for("salesforce", "04l5g00000AAAA2AAA"))
    [deal] = [d for d in lead["deals"] if d["deal_id"] == "0065g0000OPPT20AAA"]
    assert (deal["system"], deal["stage"], deal["amount"], deal["linked_by"]) == (
        "salesforce", "Proposal/Price Quote", 64000, "contact",
    )  # fmt: skip
    assert set(deal["milestones"]) == {"stage_1", "stage_2"}


def test_salesforce_documented_lead_conversion_keeps_the_opportunity_on_the_leads_handoff(stack: Aws) -> None:
    """A converted Lead's notification (IsConverted, ConvertedOpportunityId): the Opportunity it
    became is read and kept on the Lead's own handoff, though it has no contact role."""
    status, xml = stack.post_salesforce(
        (EXAMPLES / "webhooks/salesforce/outbound-message-lead-and-contact.xml").read_bytes()
    )
    assert (status, "<Ack>true</Ack>" in xml) == (200, True), xml
    status, xml = stack.post_salesforce(
        (SALESFORCE / "docs-schema-lead-converted-notification.xml").read_bytes()
    )
    assert (status, "<Ack>true</Ack>" in xml) == (200, True), xml
    lead = stack.get_lead(lead_id_for("salesforce", "04l5g00000AAAA1AAA"))
    [deal] = [d for d in lead["deals"] if d["deal_id"] == "0065g0000OPPT21AAA"]
    assert (deal["stage"], deal["amount"], deal["linked_by"]) == ("Qualification", 18000, "contact")
    assert deal["milestones"] and set(deal["milestones"]) == {"stage_1"}


@pytest.mark.parametrize("name", sorted(SALESFORCE_IGNORED))
def test_salesforce_notification_that_hands_nobody_off_is_acked(stack: Aws, name: str) -> None:
    before = stack.leads_count()
    status, xml = stack.post_salesforce((SALESFORCE / name).read_bytes())
    assert (status, "<Ack>true</Ack>" in xml) == (200, True), xml
    assert stack.leads_count() == before


# --- Marketo "Call Webhook" deliveries -------------------------------------------------------------


@pytest.mark.parametrize("name", ["snowplow-common-event.json", "snowplow-beam-event.json"])
def test_marketo_json_template_in_another_shape_is_refused_naming_the_fields(stack: Aws, name: str) -> None:
    """Snowplow's Marketo template (JSON token encoding) is a valid delivery in the wrong shape:
    a 400 that names what the canonical lead needs, and nothing stored."""
    before = stack.leads_count()
    status, body = bearer(stack, (MARKETO / name).read_bytes())
    assert status == 400, body
    fields = {d["field"] for d in body["details"]}
    assert {"event_id", "contact", "trigger"} <= fields, fields
    assert stack.leads_count() == before


def test_marketo_form_url_body_is_refused_as_not_json(stack: Aws) -> None:
    """Clay's documented template, Request Token Encoding "None": a form body, token values raw."""
    before = stack.leads_count()
    body_bytes = (MARKETO / "clay-form-url-none.txt").read_bytes()
    status, body = bearer(stack, body_bytes, "application/x-www-form-urlencoded")
    assert status == 400, body
    assert "JSON" in body["message"]
    assert stack.leads_count() == before


def test_marketo_delivery_of_the_documented_template_is_handed_off(stack: Aws) -> None:
    """docs/crm-setup.md's Marketo setup (examples/webhooks/marketo/webhook-template.txt, Request
    Token Encoding JSON) as Marketo renders it: Adobe documents that string tokens are enclosed
    in double quotes for you. The rep needs this lead."""
    status, body = bearer(stack, (MARKETO / "handoff-template-adobe-json-encoding.json").read_bytes())
    assert status == 202, body
    lead = stack.wait_status(body["lead_id"], {"notified"})
    assert lead["contact"]["email"] == "noor.haddad@quanta.example"
    assert lead["contact"]["title"] == "Director of Sales Operations"
    assert lead["company"]["name"] == "Quanta Ledger"
    assert lead["company"]["employees"] == 240
    assert lead["contact"]["country"] == "US"
    assert lead["trigger"]["type"] == "demo_request"
