"""The documented CRM shapes in examples/, end to end on the local stack."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from handoff.domain.lead import lead_id_for
from handoff.local.samples import converted_minutes_ago
from tests.e2e.conftest import Served

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "webhooks"


def test_hubspot_workflow_webhook_is_handed_off(served: Served) -> None:
    sample = (EXAMPLES / "hubspot/workflow-contact-demo-request.json").read_bytes()
    response = served.client.post_hubspot(converted_minutes_ago(sample, datetime.now(UTC)))
    assert response.status == 202
    lead = served.client.wait_for(response.body["lead_id"], {"notified"})
    assert lead["qualification"]["tier"] == "hot"
    assert lead["contact"]["email"] == "dana.kim@tallyhq.example"


def test_hubspot_events_are_fetched_from_the_crm_api(served: Served) -> None:
    response = served.client.post_hubspot((EXAMPLES / "hubspot/events-mql-and-creation.json").read_bytes())
    assert response.status == 200
    events = {e["event_id"]: e for e in response.body["events"]}
    assert events["4102"]["status"] == "ignored" and "handoff_on_change" in events["4102"]["reason"]
    assert events["4103"]["status"] == "nurture"
    # HubSpot numbers events per portal, so the lead is the portal's event 4101.
    assert events["4101"]["lead_id"] == lead_id_for("hubspot", "62515:4101")
    mql = served.client.wait_for(events["4101"]["lead_id"], {"notified"})
    assert mql["company"]["name"] == "Brightwave Payments"
    assert (mql["crm"]["open_opportunity"], mql["crm"]["opportunity_owner_id"]) == (True, "73")
    assert mql["qualification"]["ready"] is True


def test_salesforce_outbound_message_is_acked_after_recording(served: Served) -> None:
    status, xml = served.client.post_salesforce(
        (EXAMPLES / "salesforce/outbound-message-lead-and-contact.xml").read_bytes()
    )
    assert status == 200
    assert "<Ack>true</Ack>" in xml
    sam = served.client.wait_for(lead_id_for("salesforce", "04l5g00000AAAA1AAA"), {"notified"})
    assert sam["trigger"]["type"] == "contact_sales"
    kim = served.client.get_lead(lead_id_for("salesforce", "04l5g00000AAAA2AAA")).body
    # Her Account (examples/salesforce/crm-objects.json) gives the company a Contact does not carry;
    # a whitepaper download is no next step, so she stays with marketing, for that reason alone.
    assert kim["company"]["employees"] == 420 and kim["qualification"]["missing"] == []
    assert kim["crm"]["opportunity_owner_id"] == "0055g0000USER01AAA"
    assert kim["status"] == "nurture"
    assert "next_step.missing" in [r["code"] for r in kim["qualification"]["reasons"]]


def test_marketo_delivery_with_a_bearer_token(served: Served) -> None:
    lead = json.loads((EXAMPLES / "marketo/sample-delivery.json").read_text())
    response = served.client.post_bearer(lead)
    assert response.status == 202
    stored = served.client.wait_for(response.body["lead_id"], {"notified"})
    assert stored["qualification"]["tier"] == "hot"
    assert "Director of Sales Operations" in stored["contact"]["title"]
