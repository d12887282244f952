"""Who may claim what, through the qualify handler on moto: a generic delivery can neither take a
Salesforce notification's lead, nor store a field name DynamoDB refuses, nor touch the handoff a
HubSpot activity is about."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import sample
from tests.integration.conftest import Aws, rep, use_config
from tests.integration.test_crm_webhooks import OUTBOUND, WORKFLOW

SAM_NOTIFICATION = "04l5g00000AAAA1AAA"  # the Lead notification in the Salesforce sample


def test_a_generic_delivery_cannot_take_a_salesforce_notifications_lead(aws: Aws) -> None:
    """Lead ids come from source + event_id: with source "salesforce" a generic sender could
    claim a notification's id first, and Salesforce's own message would be dropped as a repeat."""
    squatter = sample("01") | {"source": "salesforce", "event_id": SAM_NOTIFICATION}
    status, answer = aws.post_lead(squatter)
    assert (status, answer["error"]) == (400, "invalid_lead")
    assert answer["details"][0]["field"] == "source" and "reserved" in answer["message"]
    assert aws.leads_count() == 0
    status, xml = aws.post_salesforce(OUTBOUND)
    assert status == 200 and "<Ack>true</Ack>" in xml
    sam = next(
        aws.get_lead(e["name"])
        for e in aws.executions()
        if aws.get_lead(e["name"])["event_id"] == SAM_NOTIFICATION
    )
    assert (sam["source"], sam["contact"]["email"]) == ("salesforce", "sam.rivera@meridian.example")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"": "x"}, "contact.<empty>"),
        ({"x" * 70_000: 1}, "contact." + "x" * 40),
        ({"tags": {"": 1}}, "contact.tags.<empty>"),
    ],
)
def test_a_field_name_dynamodb_refuses_is_a_400_naming_it_not_a_5xx(
    aws: Aws, extra: dict[str, Any], field: str
) -> None:
    lead = sample("01")
    lead["contact"] |= extra
    status, answer = aws.post_lead(lead)
    assert status == 400, answer
    assert answer["details"][0]["field"] == field
    assert aws.leads_count() == 0


def test_an_address_that_could_add_a_recipient_is_a_400_naming_the_field(aws: Aws) -> None:
    lead = sample("01")
    lead["contact"]["email"] = "jordan.lee@northwind.example?bcc=list.example"
    status, answer = aws.post_lead(lead)
    assert (status, answer["details"][0]["field"]) == (400, "contact.email")


@pytest.fixture
def long_sla(aws: Aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    use_config(monkeypatch, tmp_path / "handoff.toml", **{"hot = 2\nwarm = 30": "hot = 3600\nwarm = 3600"})
    aws.put_reps(rep("r1", crm_owner_ids=["71"]))
    return aws


def test_a_hubspot_activity_counts_once_for_hubspots_own_lead(long_sla: Aws) -> None:
    aws = long_sla
    _, own = aws.post_hubspot(WORKFLOW)
    aws.wait_for_event(own["lead_id"], "waiting")
    # A generic sender names the same HubSpot contact afterwards: a newer open handoff.
    claimed = sample("01") | {"event_id": "claims-3201"}
    claimed["contact"] |= {"email": "someone.else@northwind.example"}
    claimed["crm"] |= {"record_id": "3201"}
    status, answer = aws.post_lead(claimed)
    assert status == 202
    aws.wait_for_event(answer["lead_id"], "waiting")
    body = json.dumps(
        {
            "vid": 3201,
            "properties": {
                "hs_last_sales_activity_type": {"value": "CALL"},
                "hubspot_owner_id": {"value": "71"},
            },
        }
    ).encode()
    status, touched = aws.post_hubspot(body, path="/webhooks/hubspot/activity")
    assert (status, touched["lead_id"], touched["outcome"]) == (200, own["lead_id"], "connected")
    assert aws.get_lead(answer["lead_id"])["dispositions"] == []
    # The same signed body again, freshly timestamped: recognised, nothing changes.
    status, again = aws.post_hubspot(body, path="/webhooks/hubspot/activity")
    assert (status, again["status"]) == (200, "ignored") and "recorded already" in again["reason"]
    assert len(aws.get_lead(own["lead_id"])["dispositions"]) == 1
    # Nor does a whole contact without a new conversion (what the activity workflow can send), sent
    # to the lead route, start a second handoff for the contact.
    contact = json.loads(WORKFLOW)
    for name in ("recent_conversion_date", "recent_conversion_event_name"):
        del contact["properties"][name]
    contact["properties"]["hs_last_sales_activity_type"] = {"value": "CALL"}
    status, lead_route = aws.post_hubspot(json.dumps(contact).encode())
    assert (status, lead_route["status"]) == (200, "ignored") and own["lead_id"] in lead_route["reason"]
    assert aws.leads_count() == 2
