"""HubSpot, Salesforce and Marketo deliveries through the qualify handler on moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff.domain.lead import lead_id_for
from handoff.local.fake_hubspot import FakeHubSpot
from handoff.local.samples import converted_minutes_ago
from tests.conftest import ROOT
from tests.integration.conftest import SALESFORCE_ORG, SECRETS, Aws, rep, use_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# HubSpot's documented contact, its form sent minutes ago: the sample's own dates age out of
# the next step's 30 days ([qualify] next_step_max_age_days), as a real form would.
WORKFLOW = converted_minutes_ago(
    (EXAMPLES / "webhooks/hubspot/workflow-contact-demo-request.json").read_bytes(), datetime.now(UTC)
)
EVENTS = (EXAMPLES / "webhooks/hubspot/events-mql-and-creation.json").read_bytes()
OUTBOUND = (EXAMPLES / "webhooks/salesforce/outbound-message-lead-and-contact.xml").read_bytes()
MARKETO = json.loads((EXAMPLES / "webhooks/marketo/sample-delivery.json").read_text())


def test_hubspot_workflow_contact_is_mapped_and_qualified(aws: Aws) -> None:
    aws.put_reps(rep("r1"))
    status, body = aws.post_hubspot(WORKFLOW)
    assert status == 202
    lead = aws.get_lead(body["lead_id"])
    assert lead["contact"]["email"] == "dana.kim@tallyhq.example"
    assert lead["contact"]["title"] == "Head of Sales"
    assert lead["company"] == {
        "name": "TallyHQ",
        "domain": "tallyhq.example",
        "industry": "computer software",
        "employees": 320,
        "annual_revenue": 18000000,
    }
    assert lead["crm"]["record_url"] == "https://app.hubspot.com/contacts/62515/record/0-1/3201"
    assert lead["trigger"]["type"] == "demo_request"
    assert lead["qualification"]["tier"] == "hot"
    assert "fit.persona" in [r["code"] for r in lead["qualification"]["reasons"]]
    again = aws.post_hubspot(WORKFLOW)  # HubSpot retried: same answer, nothing new
    assert again == (202, {"lead_id": body["lead_id"], "status": again[1]["status"]})
    assert aws.leads_count() == 1


def test_hubspot_events_fetch_the_contact_and_company(aws: Aws, hubspot_api: FakeHubSpot) -> None:
    status, body = aws.post_hubspot(EVENTS)
    assert status == 200
    by_event = {e["event_id"]: e for e in body["events"]}
    assert by_event["4101"]["status"] in {"routing", "assigned", "notified"}
    assert by_event["4102"] == {
        "event_id": "4102",
        "status": "ignored",
        "reason": "phone = +1 555 0100 is not in [adapters.hubspot.handoff_on_change]",
    }
    assert by_event["4103"]["status"] == "nurture"
    assert by_event["4103"]["excluded"] == "excluded.student"
    mql = aws.get_lead(by_event["4101"]["lead_id"])
    assert mql["company"]["name"] == "Brightwave Payments"
    assert mql["company"]["industry"] == "financial services"
    assert mql["crm"]["account_owner_id"] == "73"
    # Her open deal (the newer of two; the other is closed lost) and whose it is.
    assert (mql["crm"]["open_opportunity"], mql["crm"]["opportunity_owner_id"]) == (True, "73")
    assert "POST /crm/v3/objects/deals/batch/read" in hubspot_api.requests
    assert mql["trigger"]["type"] == "pricing_request"
    assert mql["qualification"]["ready"] is True
    fetched = list(hubspot_api.requests)
    assert aws.post_hubspot(EVENTS)[0] == 200  # a redelivery does not ask the CRM again
    assert hubspot_api.requests == fetched


def test_hubspot_fetch_is_retried_and_an_outage_asks_hubspot_to_redeliver(
    aws: Aws, hubspot_api: FakeHubSpot
) -> None:
    hubspot_api.fail_next(2, status=503)
    status, _ = aws.post_hubspot(EVENTS)
    assert status == 200  # two failures, third attempt succeeded
    hubspot_api.fail_next(10, status=503)
    events = json.loads(EVENTS)
    for event in events:
        event["eventId"] += 1000
    status, body = aws.post_hubspot(json.dumps(events).encode())
    assert status == 503
    assert body["error"] == "unavailable"
    hubspot_api.clear_faults()
    status, body = aws.post_hubspot(json.dumps(events).encode())  # HubSpot's redelivery
    assert status == 200
    assert {e["event_id"] for e in body["events"]} == {"5101", "5102", "5103"}


def test_salesforce_outbound_message_records_every_notification_then_acks(aws: Aws) -> None:
    aws.put_reps(rep("r1"))
    status, xml = aws.post_salesforce(OUTBOUND)
    assert status == 200
    assert "<Ack>true</Ack>" in xml
    assert aws.leads_count() == 2
    leads = {lead["contact"]["email"]: lead for lead in (aws.get_lead(e["name"]) for e in aws.executions())}
    sam = leads["sam.rivera@meridian.example"]
    assert sam["trigger"]["type"] == "contact_sales"
    assert sam["company"]["domain"] == "meridian.example"
    assert sam["crm"]["record_url"].endswith("/00Q5g0000LEAD01AAA")
    assert len(aws.executions()) == 1  # the Contact downloaded a whitepaper: recorded, not routed
    assert aws.post_salesforce(OUTBOUND)[0] == 200  # Salesforce retried: still two leads
    assert aws.leads_count() == 2


def test_salesforce_contact_is_sales_ready_with_its_accounts_size(aws: Aws) -> None:
    """A Contact carries no company: its Account, read through the REST API, gives the size the
    shipped required_fields ask for, and the owners routing looks for."""
    aws.put_reps(rep("r1"))
    status, xml = aws.post_salesforce(OUTBOUND.replace(b"Whitepaper download", b"Demo Request"))
    assert (status, "<Ack>true</Ack>" in xml) == (200, True), xml
    kim = aws.get_lead(lead_id_for("salesforce", "04l5g00000AAAA2AAA"))
    assert kim["qualification"]["ready"] is True and kim["qualification"]["missing"] == []
    assert kim["company"]["name"] == "ParcelPoint" and kim["company"]["employees"] == 420
    assert kim["company"]["country"] == "CA"
    assert kim["crm"]["account_owner_id"] == "0055g0000USER01AAA"
    assert (kim["crm"]["open_opportunity"], kim["crm"]["opportunity_owner_id"]) == (
        True,
        "0055g0000USER01AAA",
    )
    assert "crm_account_read" in [entry["event"] for entry in kim["timeline"]]
    assert len(aws.executions()) == 2  # Sam and Kim
    assert aws.salesforce.requests.count("GET /services/data/v60.0/query") == 1


def test_salesforce_rest_outage_answers_a_503_fault_and_writes_nothing(aws: Aws) -> None:
    aws.salesforce.fail_next(10, status=503)
    status, xml = aws.post_salesforce(OUTBOUND)
    assert status == 503 and "<faultcode>soapenv:Server</faultcode>" in xml
    assert aws.leads_count() == 0 and aws.executions() == []  # not even the Lead beside the Contact
    aws.salesforce.clear_faults()
    status, xml = aws.post_salesforce(OUTBOUND)  # Salesforce's redelivery
    assert (status, "<Ack>true</Ack>" in xml) == (200, True)
    assert aws.leads_count() == 2


def test_salesforce_contact_without_account_reads_is_explicit(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No connected app: reads off, no 5xx, and the Contact says what it lacks and why."""
    use_config(
        monkeypatch,
        tmp_path / "handoff.toml",
        **{"read_accounts = true": "read_accounts = false"},
    )
    aws.salesforce.fail_next(10, status=503)  # never asked
    assert aws.post_salesforce(OUTBOUND)[0] == 200
    kim = aws.get_lead(lead_id_for("salesforce", "04l5g00000AAAA2AAA"))
    assert kim["status"] == "nurture"
    assert "company.employees" in kim["qualification"]["missing"]
    (note,) = [entry["detail"] for entry in kim["timeline"] if entry["event"] == "crm_account_not_read"]
    assert "read_accounts = false" in note
    aws.salesforce.clear_faults()


def test_marketo_template_delivery_with_a_bearer_token(aws: Aws) -> None:
    aws.put_reps(rep("r1"))
    body = json.dumps(MARKETO | {"score": "", "company": MARKETO["company"] | {"employees": "240"}}).encode()
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {SECRETS['HANDOFF_GENERIC_TOKEN']}",
    }
    status, answer = aws.api("POST", "/webhooks/generic", body, headers)
    assert status == 202
    lead = aws.get_lead(answer["lead_id"])
    assert lead["company"]["employees"] == 240
    assert lead.get("score") is None  # an empty Marketo token means unknown


def test_salesforce_accepts_a_15_character_org_id_on_the_allowlist(aws: Aws) -> None:
    assert SECRETS["HANDOFF_SALESFORCE_ORG_IDS"] == SALESFORCE_ORG
    outbound = (ROOT / "examples/webhooks/salesforce/outbound-message-lead-and-contact.xml").read_text()
    status, _ = aws.post_salesforce(outbound.replace(SALESFORCE_ORG, SALESFORCE_ORG[:15]).encode())
    assert status == 200


def test_an_sobject_handoff_does_not_handle_is_acknowledged_not_retried_for_a_day(aws: Aws) -> None:
    """A fault would have Salesforce redeliver the message for 24 hours; the Lead and Contact
    beside it are recorded, the Opportunity is acknowledged and ignored."""
    outbound = (ROOT / "examples/webhooks/salesforce/outbound-message-lead-and-contact.xml").read_text()
    status, xml = aws.post_salesforce(
        outbound.replace('xsi:type="sf:Lead"', 'xsi:type="sf:Opportunity"', 1).encode()
    )
    assert status == 200 and "<Ack>true</Ack>" in xml
    assert aws.leads_count() == 1  # the Contact; nothing for the Opportunity
