"""The CRM clients against local fakes of the documented endpoints, over real HTTP: success,
429 with Retry-After, 5xx then success, 5xx to the end, and an expired OAuth token."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from handoff.config.adapters import SalesforceAdapterConfig
from handoff.crm.crm_http import CrmRecordMissing, CrmUnauthorized, CrmUnavailable
from handoff.crm.hubspot_api import TASK_DOC_URL, TASK_SCOPES, HubSpotClient
from handoff.crm.salesforce import requested_account_fields
from handoff.crm.salesforce_api import SalesforceClient
from handoff.local.fake_hubspot import FakeHubSpot
from handoff.local.fake_salesforce import FakeSalesforce
from tests.conftest import EXAMPLES, ROOT

LEAD = "00Q5g0000LEAD01AAA"


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


# --- reads: a Salesforce Contact's Account and open Opportunity, a HubSpot contact's open deal ------

ACCOUNT = "0015g0000ACCT01AAA"  # examples/salesforce/crm-objects.json: ParcelPoint


def test_salesforce_account_and_its_newest_open_opportunity(salesforce_org: FakeSalesforce) -> None:
    client = SalesforceClient(salesforce_org.url, "client-1", "secret-1")
    account, opportunity = client.account_with_open_opportunity(
        ACCOUNT, requested_account_fields(SalesforceAdapterConfig())
    )
    assert account is not None
    assert (account["Name"], account["NumberOfEmployees"], account["OwnerId"]) == (
        "ParcelPoint", 420, "0055g0000USER01AAA",
    )  # fmt: skip
    # The closed pilot is older and closed; the open one is the answer.
    assert opportunity is not None
    assert (opportunity["Id"], opportunity["OwnerId"]) == ("0065g0000OPPT02AAA", "0055g0000USER01AAA")
    assert salesforce_org.requests == [
        "POST /services/oauth2/token",
        f"GET /services/data/v60.0/sobjects/Account/{ACCOUNT}",
        "GET /services/data/v60.0/query",
    ]


def test_salesforce_account_without_an_open_opportunity(salesforce_org: FakeSalesforce) -> None:
    opportunities = salesforce_org.data["Opportunity"]
    opportunities["0065g0000OPPT02AAA"]["IsClosed"] = True
    client = SalesforceClient(salesforce_org.url, "client-1", "secret-1")
    account, opportunity = client.account_with_open_opportunity(ACCOUNT, ["Name"])
    assert account is not None and account["Name"] == "ParcelPoint" and opportunity is None


def test_salesforce_account_that_is_gone_reads_as_none_and_asks_nothing_more(
    salesforce_org: FakeSalesforce,
) -> None:
    client = SalesforceClient(salesforce_org.url, "client-1", "secret-1")
    assert client.account_with_open_opportunity("0015g0000GONE01AAA", ["Name"]) == (None, None)
    assert not any("query" in request for request in salesforce_org.requests)


@pytest.mark.parametrize(
    "account_id",
    ["0015g0000ACCT01AA", "0015g0000ACCT01AAA' OR Name != '", "001 5g0000ACCT01", "", "0015g0000ACCT01AAA/x"],
)
def test_salesforce_refuses_what_is_not_a_record_id_before_any_request(
    salesforce_org: FakeSalesforce, account_id: str
) -> None:
    """Only a 15- or 18-character id ever reaches the SOQL query."""
    with pytest.raises(ValueError, match="not a Salesforce record id"):
        SalesforceClient(salesforce_org.url, "client-1", "secret-1").account_with_open_opportunity(
            account_id, ["Name"]
        )
    assert salesforce_org.requests == []


def test_salesforce_account_read_is_retried_then_unavailable(salesforce_org: FakeSalesforce) -> None:
    client = SalesforceClient(salesforce_org.url, "client-1", "secret-1", sleep=lambda _: None)
    salesforce_org.fail_next(2, status=503)
    account, _ = client.account_with_open_opportunity(ACCOUNT, ["Name"])
    assert account is not None
    salesforce_org.fail_next(3, status=503)
    with pytest.raises(CrmUnavailable, match="after 3 attempts"):
        client.account_with_open_opportunity(ACCOUNT, ["Name"])


def test_salesforce_default_account_fields_exist_without_country_picklists(
    salesforce_org: FakeSalesforce,
) -> None:
    """BillingCountryCode exists only with state and country picklists on, and asking for a field
    an org lacks fails the read (400): the defaults ask only for fields every org has."""
    client = SalesforceClient(salesforce_org.url, "client-1", "secret-1")
    assert "BillingCountryCode" not in requested_account_fields(SalesforceAdapterConfig())
    with pytest.raises(CrmUnavailable, match="400"):
        client.account_with_open_opportunity(ACCOUNT, ["Name", "BillingCountryCode"])
    mapped = SalesforceAdapterConfig(account_fields={"company.country": "BillingCountryCode"})
    with_picklists = FakeSalesforce(
        "client-1", "secret-1", data_file=EXAMPLES / "salesforce" / "crm-objects.json", country_picklists=True
    ).start()
    try:
        account, _ = SalesforceClient(
            with_picklists.url, "client-1", "secret-1"
        ).account_with_open_opportunity(ACCOUNT, requested_account_fields(mapped))
    finally:
        with_picklists.stop()
    assert account is not None and account["BillingCountryCode"] == "CA"


def test_hubspot_contact_records_carry_the_company_and_the_newest_open_deal(hubspot: FakeHubSpot) -> None:
    contact, company, deal = HubSpotClient(hubspot.url, "pat-1").contact_records("3301", ["email"])
    assert contact["properties"] == {"email": "lee.santos@brightwave.example"}
    assert company is not None and company["properties"]["name"] == "Brightwave Payments"
    # 7702 is closed lost; 7701 is open and owned by 73.
    assert deal is not None and deal["id"] == "7701"
    assert deal["properties"]["hubspot_owner_id"] == "73"
    assert hubspot.requests[-1] == "POST /crm/v3/objects/deals/batch/read"


def test_hubspot_contact_without_deals_asks_for_none(hubspot: FakeHubSpot) -> None:
    assert HubSpotClient(hubspot.url, "pat-1").contact_records("3201", ["email"])[1:] == (None, None)
    assert hubspot.requests == ["GET /crm/v3/objects/contacts/3201"]


def test_hubspot_deals_that_are_closed_or_gone_are_no_opportunity(hubspot: FakeHubSpot) -> None:
    deals = hubspot.data["deals"]
    deals["7701"]["properties"] |= {"hs_is_closed": "", "dealstage": "closedwon"}  # no flag: the stage says
    hubspot.data["contacts"]["3301"]["associations"]["deals"]["results"].append({"id": "9999", "type": "x"})
    assert HubSpotClient(hubspot.url, "pat-1").contact_records("3301", ["email"]).open_deal is None
    del deals["7701"], deals["7702"]
    assert HubSpotClient(hubspot.url, "pat-1").contact_records("3301", ["email"]).open_deal is None


def test_hubspot_deal_read_outage_is_unavailable(hubspot: FakeHubSpot) -> None:
    client = HubSpotClient(hubspot.url, "pat-1", sleep=lambda _: None)
    client.contact_records("3301", ["email"])  # warm: contact, company, deals
    hubspot.fail_next(2, status=503)  # the contact's read retries past these
    assert client.contact_records("3301", ["email"]).open_deal is not None
    with pytest.raises(CrmUnavailable):
        hubspot.fail_next(9, status=503)
        client.contact_records("3301", ["email"])


def test_salesforce_reads_side_by_side_share_one_token(salesforce_org: FakeSalesforce) -> None:
    client = SalesforceClient(salesforce_org.url, "client-1", "secret-1")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: client.account_with_open_opportunity(ACCOUNT, ["Name"]), range(8)))
    assert all(account is not None for account, _ in answers)
    assert salesforce_org.tokens_issued == 1


# --- the owner's task ------------------------------------------------------------------------------


def test_hubspot_creates_a_task_on_the_contact_and_answers_its_id(hubspot: FakeHubSpot) -> None:
    client = HubSpotClient(hubspot.url, "pat-1")
    properties = {"hs_task_subject": "Follow up", "hs_timestamp": "2026-11-02T23:30:00.000Z"}
    task_id = client.create_task("3201", properties, 204)
    task = hubspot.data["tasks"][task_id]
    assert task["properties"] == properties
    assert task["associations"]["contacts"]["results"][0]["id"] == "3201"
    assert hubspot.writes[-1][0] == "/crm/v3/objects/tasks"


def test_salesforce_creates_a_task_with_its_reminder_on(salesforce: FakeSalesforce) -> None:
    client = SalesforceClient(salesforce.url, "client-1", "secret-1")
    fields = {"WhoId": LEAD, "OwnerId": "0055g0000USER01AAA", "Subject": "Follow up",
              "ActivityDate": "2026-11-02", "ReminderDateTime": "2026-11-02T23:30:00.000Z"}  # fmt: skip
    task_id = client.create("Task", fields)
    assert task_id.startswith("00T") and salesforce.tasks[task_id] == fields | {"IsReminderSet": True}


def test_hubspot_sends_a_create_once_and_finds_the_task_a_lost_answer_made(hubspot: FakeHubSpot) -> None:
    """A create that timed out is not sent again in the call (HubSpot may have saved it); the
    retry's lookup finds it by its marker among the contact's tasks."""
    client = HubSpotClient(hubspot.url, "pat-1", timeout=0.2, sleep=lambda _: None)
    assert client.find_task("3201", "Handoff ref ld_x/0") is None
    properties = {"hs_task_body": "Call<br>Handoff ref ld_x/0", "hs_timestamp": "2026-11-02T23:30:00.000Z"}
    hubspot.stall_next(1, 0.5)
    with pytest.raises(CrmUnavailable, match="may have acted"):
        client.create_task("3201", properties, 204)
    time.sleep(0.5)  # the fake saves the task once its stall ends
    assert [r for r in hubspot.requests if r == "POST /crm/v3/objects/tasks"] == [
        "POST /crm/v3/objects/tasks"
    ]
    (task_id,) = hubspot.data["tasks"]
    assert client.find_task("3201", "Handoff ref ld_x/0") == task_id
    assert client.find_task("3201", "Handoff ref ld_x/1") is None
    hubspot.fail_next(1, status=502)  # a 5xx may follow a save too: not sent again
    with pytest.raises(CrmUnavailable):
        client.create_task("3201", properties, 204)
    assert len(hubspot.data["tasks"]) == 1


def test_salesforce_sends_a_create_once_and_finds_the_task_by_its_marker(salesforce: FakeSalesforce) -> None:
    client = SalesforceClient(salesforce.url, "client-1", "secret-1", sleep=lambda _: None)
    fields = {"WhoId": LEAD, "OwnerId": "0055g0000USER01AAA", "Subject": "Follow up",
              "Description": "Call\nHandoff ref ld_x/0"}  # fmt: skip
    salesforce.fail_next(1, status=503)
    with pytest.raises(CrmUnavailable):
        client.create("Task", fields)
    salesforce.fail_next(1, status=429)  # refused before acting: sent again
    task_id = client.create("Task", fields)
    assert list(salesforce.tasks) == [task_id]
    assert client.find_task(LEAD, "Handoff ref ld_x/0") == task_id
    assert client.find_task(LEAD, "Handoff ref ld_x/1") is None
    with pytest.raises(ValueError):
        client.find_task("x' OR Id != '", "m")


def test_the_setup_guide_names_the_task_scopes_as_hubspot_documents_them() -> None:
    guide = (ROOT / "docs" / "crm-setup.md").read_text()
    tasks = guide[guide.index("### Tasks in the CRM") :]
    scopes = tasks[tasks.index("**Scopes.**") :].split("\n\n")[0]
    for scope in TASK_SCOPES:
        assert f"`{scope}`" in scopes, scope
    assert TASK_DOC_URL in scopes
