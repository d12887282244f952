"""The deal and opportunity reads, by the real clients over HTTP against the local CRM fakes."""

from __future__ import annotations

import pytest

from handoff.crm.crm_http import CrmRecordMissing
from handoff.crm.hubspot_api import HubSpotClient
from handoff.crm.salesforce_api import SalesforceClient
from handoff.local.fake_hubspot import FakeHubSpot
from handoff.local.fake_salesforce import FakeSalesforce


def test_hubspot_reads_a_deal_with_its_contacts_and_company(hubspot: FakeHubSpot) -> None:
    hubspot.put_deal(
        "7703", stage="contractsent", amount="36000", created="2026-11-03T10:00:00Z",
        contacts=["3301"], companies=["9101"],
    )  # fmt: skip
    deal, contacts, company = HubSpotClient(hubspot.url, "pat-1").deal_records("7703")
    assert deal["properties"]["dealstage"] == "contractsent" and deal["properties"]["amount"] == "36000"
    assert "associations" not in deal or set(deal["associations"]) <= {"contacts", "companies"}
    assert contacts == ["3301"]
    assert company is not None and company["id"] == "9101" and company["properties"]["domain"]
    with pytest.raises(CrmRecordMissing):
        HubSpotClient(hubspot.url, "pat-1").deal_records("404")


def test_salesforce_reads_an_opportunity_and_its_contact_roles(salesforce_org: FakeSalesforce) -> None:
    salesforce = salesforce_org
    salesforce.data["Opportunity"]["0065g0000OPPT09AAA"] = {
        "AccountId": "0015g0000ACCT01AAA", "StageName": "Closed Won", "Amount": 1000.0, "IsClosed": True,
        "CreatedDate": "2026-11-03T10:00:00.000+0000", "ContactRoles": ["0035g0000CONT01AAA"],
    }  # fmt: skip
    client = SalesforceClient(salesforce.url, "client-1", "secret-1")
    opportunity, contacts = client.opportunity_records("0065g0000OPPT09AAA")
    assert opportunity is not None and opportunity["StageName"] == "Closed Won"
    assert opportunity["AccountId"] == "0015g0000ACCT01AAA" and "ContactRoles" not in opportunity
    assert contacts == ["0035g0000CONT01AAA"]
    assert client.opportunity_records("0065g0000GONE01AAA") == (None, [])
    with pytest.raises(ValueError, match="not a Salesforce record id"):
        client.opportunity_records("x' OR Id != '")
