"""Deals and opportunities through the qualify handler on moto, read from fake CRM APIs over HTTP."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from handoff.domain.lead import lead_id_for
from handoff.domain.record import iso
from handoff.local.fake_hubspot import FakeHubSpot
from tests.conftest import EXAMPLES
from tests.integration.conftest import Aws

OUTBOUND = (EXAMPLES / "webhooks/salesforce/outbound-message-lead-and-contact.xml").read_text()
KIM = "0035g0000CONT01AAA"  # the Contact in the sample message
KIM_NOTIFICATION = "04l5g00000AAAA2AAA"


def opportunity_message(opportunity_id: str) -> bytes:
    one = (
        "<Notification><Id>04l5g0000NOPP01AAA</Id>"
        '<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"<sf:Id>{opportunity_id}</sf:Id></sObject></Notification>"
    )
    start, end = OUTBOUND.index("<Notification>"), OUTBOUND.rindex("</Notification>") + len("</Notification>")
    return (OUTBOUND[:start] + one + OUTBOUND[end:]).encode()


def test_a_salesforce_opportunity_reaches_the_contacts_handoff_through_its_contact_role(aws: Aws) -> None:
    status, _ = aws.post_salesforce(OUTBOUND.encode())
    assert status == 200
    aws.salesforce.data["Opportunity"]["0065g0000OPPT09AAA"] = {
        "AccountId": "0015g0000ACCT01AAA", "StageName": "Proposal/Price Quote", "Amount": 64000.0,
        "IsClosed": False, "CreatedDate": (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "ContactRoles": [KIM],
    }  # fmt: skip
    status, body = aws.post_salesforce(opportunity_message("0065g0000OPPT09AAA"))
    assert status == 200, body
    lead_id = lead_id_for("salesforce", KIM_NOTIFICATION)
    lead = aws.get_lead(lead_id)
    [deal] = lead["deals"]
    assert (deal["system"], deal["deal_id"], deal["stage"], deal["amount"]) == (
        "salesforce", "0065g0000OPPT09AAA", "Proposal/Price Quote", 64000,
    )  # fmt: skip
    assert set(deal["milestones"]) == {"stage_1", "stage_2"}
    assert any(e["event"] == "deal" for e in lead["timeline"])


def test_a_hubspot_deal_moving_to_stage_2_is_kept_on_the_contacts_handoff(
    aws: Aws, hubspot_api: FakeHubSpot
) -> None:
    now_ms = int(time.time() * 1000)
    contact = [{"eventId": 901, "portalId": 62515, "subscriptionType": "contact.creation", "objectId": 3301,
                "occurredAt": now_ms}]  # fmt: skip
    status, body = aws.post_hubspot(json.dumps(contact).encode())
    assert status == 200, body
    lead_id = body["events"][0]["lead_id"]
    hubspot_api.data["deals"]["7703"] = {
        "id": "7703",
        "properties": {"dealstage": "presentationscheduled", "amount": "36000", "pipeline": "default",
                       "createdate": iso(datetime.now(UTC) + timedelta(seconds=1))},
        "associations": {"contacts": {"results": [{"id": "3301", "type": "deal_to_contact"}]},
                         "companies": {"results": [{"id": "9101", "type": "deal_to_company"}]}},
    }  # fmt: skip
    change = [{"eventId": 902, "portalId": 62515, "subscriptionType": "deal.propertyChange", "objectId": 7703,
               "propertyName": "dealstage", "propertyValue": "presentationscheduled", "occurredAt": now_ms + 2000}]  # fmt: skip
    status, body = aws.post_hubspot(json.dumps(change).encode())
    assert status == 200, body
    assert body["events"][0] | {"event_id": "902"} == {
        "event_id": "902", "status": "linked", "deal_id": "7703", "lead_id": lead_id, "linked_by": "contact",
        "milestone": "stage_2",
    }  # fmt: skip
    assert aws.get_lead(lead_id)["deals"][0]["amount"] == 36000
