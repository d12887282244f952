"""Deals and opportunities from the CRM, attributed to the handoff they came from (FakePorts)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff.crm.hubspot_api import CrmUnavailable
from handoff.domain.deal import Milestone
from handoff.domain.record import LeadRecord
from handoff.service import crm_inbound
from tests.fakes import FakePorts
from tests.service.test_provenance import OUTBOUND, SAM, TOKEN, WORKFLOW

NOW = datetime(2026, 11, 2, 15, 5, tzinfo=UTC)
REAL = Path(__file__).parents[1] / "fixtures" / "real"
DANA = "3201"  # the contact in the HubSpot workflow sample (tallyhq.example)
KIM = "0035g0000CONT01AAA"  # the Contact in the Salesforce sample, of Account ACCOUNT
ACCOUNT = "0015g0000ACCT01AAA"


@pytest.fixture
def ports(crm_ports: FakePorts) -> FakePorts:
    return crm_ports


def hubspot_lead(ports: FakePorts) -> LeadRecord:
    answer = crm_inbound.accept_hubspot(ports, json.dumps(WORKFLOW).encode(), NOW)
    record = ports.leads.get(answer.body["lead_id"])
    assert record is not None
    return record


def hubspot_deal(
    deal_id: str = "4658499848", stage: str = "appointmentscheduled", *, created: datetime = NOW + timedelta(days=1),
    amount: str | None = "12000", company: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": deal_id,
        "properties": {"dealstage": stage, "amount": amount, "pipeline": "default",
                       "createdate": created.isoformat().replace("+00:00", "Z"), "hs_is_closed": "false"},
    }  # fmt: skip


def event(
    kind: str, deal_id: str = "4658499848", at: datetime = NOW + timedelta(days=1), **extra: Any
) -> bytes:
    return json.dumps(
        [{"eventId": 7, "portalId": 62515, "subscriptionType": kind, "objectId": int(deal_id),
          "occurredAt": int(at.timestamp() * 1000), **extra}]
    ).encode()  # fmt: skip


def answer_of(ports: FakePorts, body: bytes) -> dict[str, Any]:
    result = crm_inbound.accept_hubspot(ports, body, NOW + timedelta(days=2))
    assert result.status_code == 200
    [one] = result.body["events"]
    return dict(one)


def test_a_deal_on_the_handoffs_contact_moves_it_through_the_pipeline(ports: FakePorts) -> None:
    lead = hubspot_lead(ports)
    ports.crm.deal_reads["4658499848"] = (hubspot_deal(), [DANA], None)
    created = answer_of(ports, event("deal.creation"))
    assert created == {"event_id": "7", "status": "linked", "deal_id": "4658499848", "lead_id": lead.lead_id,
                       "linked_by": "contact", "milestone": "stage_1"}  # fmt: skip
    ports.crm.deal_reads["4658499848"] = (
        hubspot_deal(stage="presentationscheduled", amount="15000"),
        [DANA],
        None,
    )
    moved = answer_of(
        ports, event("deal.propertyChange", at=NOW + timedelta(days=3), propertyName="dealstage",
                     propertyValue="presentationscheduled"),
    )  # fmt: skip
    assert moved["milestone"] == "stage_2"
    [deal] = ports.leads.get(lead.lead_id).deals  # type: ignore[union-attr]
    assert (deal.stage, deal.amount, deal.linked_by) == ("presentationscheduled", 15000, "contact")
    assert [s.stage for s in deal.stages] == ["appointmentscheduled", "presentationscheduled"]
    assert deal.milestones[Milestone.STAGE_2] == NOW + timedelta(days=3)
    details = [e.detail for e in ports.leads.get(lead.lead_id).timeline if e.event == "deal"]  # type: ignore[union-attr]
    assert details[-1] == "hubspot deal 4658499848: stage presentationscheduled (stage_2), 15,000.00"
    # The same event again changes nothing and writes no second entry.
    answer_of(
        ports, event("deal.propertyChange", propertyName="dealstage", propertyValue="presentationscheduled")
    )
    assert len([e for e in ports.leads.get(lead.lead_id).timeline if e.event == "deal"]) == 2  # type: ignore[union-attr]


def test_the_generic_object_event_for_a_deal_is_read_too(ports: FakePorts) -> None:
    lead = hubspot_lead(ports)
    ports.crm.deal_reads["4658499848"] = (hubspot_deal(stage="closedwon"), [DANA], None)
    answer = answer_of(ports, event("object.creation", objectTypeId="0-3"))
    assert (answer["lead_id"], answer["milestone"]) == (lead.lead_id, "won")


def test_a_deal_on_the_company_but_another_contact_is_linked_by_account(ports: FakePorts) -> None:
    lead = hubspot_lead(ports)
    company = {"id": "88", "properties": {"domain": "TallyHQ.example", "name": "TallyHQ"}}
    ports.crm.deal_reads["4658499848"] = (hubspot_deal(), ["9999"], company)
    answer = answer_of(ports, event("deal.creation"))
    assert (answer["status"], answer["lead_id"], answer["linked_by"]) == ("linked", lead.lead_id, "account")


def test_a_deal_with_no_handoff_is_ignored_saying_why(ports: FakePorts) -> None:
    hubspot_lead(ports)
    ports.crm.deal_reads["4658499848"] = (
        hubspot_deal(),
        ["9999"],
        {"id": "5", "properties": {"domain": "other.example"}},
    )
    answer = answer_of(ports, event("deal.creation"))
    assert answer["status"] == "ignored" and "no handoff for its contacts or account" in answer["reason"]


@pytest.mark.parametrize(
    ("created", "says"),
    [(NOW - timedelta(days=1), "before the handoff"), (NOW + timedelta(days=91), "more than 90 days")],
)
def test_a_deal_created_before_the_handoff_or_after_the_window_is_not_linked(
    ports: FakePorts, created: datetime, says: str
) -> None:
    lead = hubspot_lead(ports)
    ports.crm.deal_reads["4658499848"] = (hubspot_deal(created=created), [DANA], None)
    answer = answer_of(ports, event("deal.creation"))
    assert answer["status"] == "ignored" and says in answer["reason"]
    assert ports.leads.get(lead.lead_id).deals == []  # type: ignore[union-attr]


def test_a_deal_goes_to_the_contacts_handoff_before_it_not_the_newest(ports: FakePorts) -> None:
    """Handed off at NOW and again ten days later: a deal created in between came from the first
    handoff, though the second is the contact's newest."""
    first = hubspot_lead(ports)
    again = copy.deepcopy(WORKFLOW)
    again["properties"]["recent_conversion_date"] = {
        "value": str(int((NOW + timedelta(days=10)).timestamp() * 1000))
    }
    answer = crm_inbound.accept_hubspot(ports, json.dumps(again).encode(), NOW + timedelta(days=10))
    second = answer.body["lead_id"]
    assert second != first.lead_id and ports.leads.get(second) is not None
    ports.crm.deal_reads["4658499848"] = (hubspot_deal(created=NOW + timedelta(days=5)), [DANA], None)
    linked = answer_of(ports, event("deal.creation"))
    assert (linked["status"], linked["lead_id"], linked["linked_by"]) == ("linked", first.lead_id, "contact")
    assert ports.leads.get(second).deals == []  # type: ignore[union-attr]
    # One created after both goes to the newer.
    ports.crm.deal_reads["4658499849"] = (
        hubspot_deal("4658499849", created=NOW + timedelta(days=11)),
        [DANA],
        None,
    )
    assert answer_of(ports, event("deal.creation", "4658499849"))["lead_id"] == second


def test_two_deal_events_for_one_lead_at_once_both_land(ports: FakePorts) -> None:
    """Deal B's event is written between deal A's read of the lead and A's write: A must not
    overwrite B (a lost update), so A reads again and merges."""
    lead = hubspot_lead(ports)
    ports.crm.deal_reads["4658499848"] = (hubspot_deal(), [DANA], None)
    ports.crm.deal_reads["4658499849"] = (hubspot_deal("4658499849", stage="qualifiedtobuy"), [DANA], None)
    write = ports.leads.update
    raced: list[str] = []

    def overtaken(lead_id: str, **fields: Any) -> None:
        if "deals" in (fields.get("set_fields") or {}) and not raced:
            raced.append(lead_id)
            assert answer_of(ports, event("deal.creation", "4658499849"))["status"] == "linked"
        write(lead_id, **fields)

    ports.leads.update = overtaken  # type: ignore[method-assign]
    assert answer_of(ports, event("deal.creation"))["status"] == "linked"
    assert raced == [lead.lead_id]
    record = ports.leads.get(lead.lead_id)
    assert record is not None
    assert sorted(d.deal_id for d in record.deals) == ["4658499848", "4658499849"]
    assert len([e for e in record.timeline if e.event == "deal"]) == 2
    assert ports.leads.get_item(lead.lead_id)["deals_version"] == 2  # type: ignore[index]


def test_a_lead_stored_before_deals_were_versioned_takes_its_next_deal(ports: FakePorts) -> None:
    lead = hubspot_lead(ports)
    ports.crm.deal_reads["4658499848"] = (hubspot_deal(), [DANA], None)
    answer_of(ports, event("deal.creation"))
    del ports.leads.items[lead.lead_id]["deals_version"]  # as stored before it was kept
    ports.crm.deal_reads["4658499849"] = (hubspot_deal("4658499849"), [DANA], None)
    assert answer_of(ports, event("deal.creation", "4658499849"))["status"] == "linked"
    assert len(ports.leads.get(lead.lead_id).deals) == 2  # type: ignore[union-attr]


def test_the_window_comes_from_config(ports: FakePorts) -> None:
    ports.edit_config(**{"attribution_days = 90": "attribution_days = 10"})
    hubspot_lead(ports)
    ports.crm.deal_reads["4658499848"] = (hubspot_deal(created=NOW + timedelta(days=11)), [DANA], None)
    assert "more than 10 days" in answer_of(ports, event("deal.creation"))["reason"]


def test_deal_events_that_say_nothing_of_the_pipeline_are_ignored_unread(ports: FakePorts) -> None:
    ports.crm.unavailable = True  # nothing may be read for them
    answer = answer_of(ports, event("deal.propertyChange", propertyName="dealname", propertyValue="x"))
    assert answer["status"] == "ignored"
    assert answer_of(ports, event("deal.deletion"))["status"] == "ignored"


def test_a_deal_gone_is_ignored_and_an_unavailable_crm_propagates(ports: FakePorts) -> None:
    assert answer_of(ports, event("deal.creation"))["reason"] == "deal no longer exists"
    ports.crm.unavailable = True
    with pytest.raises(CrmUnavailable):
        answer_of(ports, event("deal.creation"))


def test_the_documented_deal_events_are_read(ports: FakePorts) -> None:
    for name, deal_id in (("events-ballerina-deal.creation.json", "4658499848"),
                          ("events-ballerina-deal.propertyChange.json", "4658499851")):  # fmt: skip
        body = (REAL / "hubspot" / name).read_bytes()
        answer = answer_of(ports, body)
        assert answer["status"] == "ignored" and answer["reason"] == "deal no longer exists", deal_id


# --- Salesforce ---------------------------------------------------------------------------------


def salesforce_leads(ports: FakePorts) -> tuple[LeadRecord, LeadRecord]:
    crm_inbound.accept_salesforce(ports, OUTBOUND.encode(), TOKEN, NOW)
    found = [ports.leads.latest_for_crm_record("salesforce", r, {"salesforce"}) for r in (SAM, KIM)]
    assert found[0] is not None and found[1] is not None
    return found[0], found[1]


def opportunity(opportunity_id: str, stage: str, **fields: str) -> dict[str, Any]:
    return {"Id": opportunity_id, "StageName": stage, "Amount": 50000.0, "AccountId": ACCOUNT,
            "CreatedDate": (NOW + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%S.000+0000"), **fields}  # fmt: skip


def notification(sobject: str, **fields: str) -> bytes:
    extra = "".join(f"<sf:{name}>{value}</sf:{name}>" for name, value in fields.items())
    one = (
        f'<Notification><Id>04l5g0000N{sobject[:7]:0<7}</Id><sObject xsi:type="sf:{sobject}" '
        f'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{extra}</sObject></Notification>'
    )
    start, end = OUTBOUND.index("<Notification>"), OUTBOUND.rindex("</Notification>") + len("</Notification>")
    return (OUTBOUND[:start] + one + OUTBOUND[end:]).encode()


def test_an_opportunity_with_the_contact_in_a_role_is_linked_to_the_contacts_handoff(
    ports: FakePorts,
) -> None:
    _, kim = salesforce_leads(ports)
    ports.crm.opportunities["006Q0000009N3gfIAC"] = (
        opportunity("006Q0000009N3gfIAC", "Negotiation/Review"),
        [KIM],
    )
    body = notification("Opportunity", Id="006Q0000009N3gfIAC", AccountId=ACCOUNT)
    assert crm_inbound.accept_salesforce(ports, body, TOKEN, NOW + timedelta(days=6)).startswith("<?xml")
    [deal] = ports.leads.get(kim.lead_id).deals  # type: ignore[union-attr]
    assert (deal.system, deal.stage, deal.amount, deal.linked_by) == (
        "salesforce",
        "Negotiation/Review",
        50000,
        "contact",
    )
    assert deal.reached(Milestone.STAGE_2)


def test_an_opportunity_without_contact_roles_falls_back_to_its_account(ports: FakePorts) -> None:
    _, kim = salesforce_leads(ports)
    ports.crm.opportunities["006Q0000009N3gfIAC"] = (opportunity("006Q0000009N3gfIAC", "Prospecting"), [])
    crm_inbound.accept_salesforce(ports, notification("Opportunity", Id="006Q0000009N3gfIAC"), TOKEN, NOW)
    [deal] = ports.leads.get(kim.lead_id).deals  # type: ignore[union-attr]
    assert deal.linked_by == "account" and deal.reached(Milestone.STAGE_1)


def test_a_converted_lead_links_its_opportunity_to_the_leads_handoff(ports: FakePorts) -> None:
    sam, _ = salesforce_leads(ports)
    ports.crm.opportunities["0065g0000OPP001AAA"] = (
        opportunity("0065g0000OPP001AAA", "Closed Won", AccountId="0015g0000OTHER1AAA"), ["0035g0000NEWC01AAA"],
    )  # fmt: skip
    body = notification("Lead", Id=SAM, IsConverted="true", ConvertedOpportunityId="0065g0000OPP001AAA",
                        Email="sam.rivera@meridian.example", Status="Qualified")  # fmt: skip
    crm_inbound.accept_salesforce(ports, body, TOKEN, NOW + timedelta(days=6))
    [deal] = ports.leads.get(sam.lead_id).deals  # type: ignore[union-attr]
    assert deal.reached(Milestone.WON) and deal.linked_by == "contact"
    # The conversion notification is no new handoff.
    assert len(ports.leads.items) == 2


def test_the_documented_opportunity_message_is_read_and_acknowledged(ports: FakePorts) -> None:
    """mulesoft's Opportunity Outbound Message: an Id and AccountId only; the rest is read."""
    body = (REAL / "salesforce" / "mulesoft-opportunity.xml").read_bytes()
    ports.secrets |= {"salesforce-org-ids": "00D5g000004ABCD"}
    # Gone in Salesforce: acknowledged (a fault would have Salesforce retry for 24 hours).
    assert crm_inbound.accept_salesforce(ports, body, TOKEN, NOW).startswith("<?xml")
    ports.crm.unavailable = True
    with pytest.raises(CrmUnavailable):
        crm_inbound.accept_salesforce(ports, body, TOKEN, NOW)
