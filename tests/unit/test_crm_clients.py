"""The CRM clients against local fakes of the documented endpoints, over real HTTP: success,
429 with Retry-After, 5xx then success, 5xx to the end, and an expired OAuth token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoff.crm.crm_http import CrmRecordMissing, CrmUnauthorized, CrmUnavailable
from handoff.crm.hubspot_api import HubSpotClient
from handoff.crm.salesforce_api import SalesforceClient
from handoff.local.fake_hubspot import FakeHubSpot
from handoff.local.fake_salesforce import FakeSalesforce
from tests.conftest import EXAMPLES

LEAD = "00Q5g0000LEAD01AAA"


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot(EXAMPLES / "hubspot" / "crm-objects.json", token="pat-1").start()
    yield fake
    fake.stop()


@pytest.fixture
def salesforce() -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce("client-1", "secret-1").start()
    yield fake
    fake.stop()


def test_hubspot_write_lands_with_the_token(hubspot: FakeHubSpot) -> None:
    client = HubSpotClient(hubspot.url, "pat-1")
    client.update_contact("3201", {"hubspot_owner_id": "71", "hs_lead_status": "OPEN"})
    assert hubspot.writes == [
        (
            "/crm/v3/objects/contacts/3201",
            {"properties": {"hubspot_owner_id": "71", "hs_lead_status": "OPEN"}},
        )
    ]
    assert hubspot.data["contacts"]["3201"]["properties"]["hs_lead_status"] == "OPEN"


def test_hubspot_429_waits_as_long_as_retry_after_says(hubspot: FakeHubSpot) -> None:
    slept: list[float] = []
    hubspot.retry_after = "2"
    hubspot.fail_next(1, status=429)
    HubSpotClient(hubspot.url, "pat-1", sleep=slept.append).update_contact("3201", {"hs_lead_status": "OPEN"})
    assert slept == [2.0] and len(hubspot.writes) == 1


def test_hubspot_5xx_then_success_backs_off_with_jitter(hubspot: FakeHubSpot) -> None:
    slept: list[float] = []
    hubspot.fail_next(2, status=503)
    HubSpotClient(hubspot.url, "pat-1", sleep=slept.append, attempts=3).update_contact(
        "3201", {"hs_lead_status": "OPEN"}
    )
    assert len(slept) == 2 and 0.1 <= slept[0] <= 0.3 and 0.2 <= slept[1] <= 0.6  # 0.2 x 2^n x (0.5-1.5)
    assert len(hubspot.writes) == 1


def test_hubspot_5xx_to_the_end_is_unavailable_and_nothing_is_written(hubspot: FakeHubSpot) -> None:
    hubspot.fail_next(3, status=500)
    with pytest.raises(CrmUnavailable, match="after 3 attempts"):
        HubSpotClient(hubspot.url, "pat-1", sleep=lambda _: None).update_contact(
            "3201", {"hs_lead_status": "OPEN"}
        )
    assert hubspot.writes == []
    with pytest.raises(CrmRecordMissing):
        HubSpotClient(hubspot.url, "pat-1").update_contact("999", {"hs_lead_status": "OPEN"})
    with pytest.raises(CrmUnauthorized):
        HubSpotClient(hubspot.url, "wrong").update_contact("3201", {"hs_lead_status": "OPEN"})


def test_salesforce_gets_one_token_and_reuses_it(salesforce: FakeSalesforce) -> None:
    client = SalesforceClient(salesforce.url, "client-1", "secret-1")
    client.update("Lead", LEAD, {"OwnerId": "0055g0000USER01AAA", "Status": "Open - Not Contacted"})
    client.update("Lead", LEAD, {"Status": "Working - Contacted"})
    assert salesforce.tokens_issued == 1
    assert salesforce.records[LEAD] == {"OwnerId": "0055g0000USER01AAA", "Status": "Working - Contacted"}
    assert salesforce.requests[0] == "POST /services/oauth2/token"


def test_salesforce_expired_token_is_refreshed_once_and_the_write_lands(salesforce: FakeSalesforce) -> None:
    client = SalesforceClient(salesforce.url, "client-1", "secret-1")
    client.update("Lead", LEAD, {"Status": "Open - Not Contacted"})
    salesforce.expire_tokens()
    client.update("Lead", LEAD, {"Status": "Working - Contacted"})
    assert salesforce.tokens_issued == 2 and client.token_requests == 2
    assert salesforce.records[LEAD]["Status"] == "Working - Contacted"


def test_salesforce_retries_5xx_and_refuses_bad_credentials(salesforce: FakeSalesforce) -> None:
    salesforce_client = SalesforceClient(salesforce.url, "client-1", "secret-1", sleep=lambda _: None)
    salesforce_client.update("Lead", LEAD, {"Status": "Open - Not Contacted"})
    salesforce.fail_next(2, status=503)
    salesforce_client.update("Lead", LEAD, {"Status": "Working - Contacted"})
    assert [path for path, _ in salesforce.writes] == [f"/services/data/v60.0/sobjects/Lead/{LEAD}"] * 2
    with pytest.raises(CrmUnavailable, match="400"):
        SalesforceClient(salesforce.url, "client-1", "not-the-secret").update("Lead", LEAD, {"Status": "x"})
