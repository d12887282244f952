"""What Handoff reads from the CRM APIs on the way in: a Salesforce Contact's Account and its open
Opportunity, a HubSpot contact's open deal. On in-memory ports (tests/fakes.py FakeCrm)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from handoff.api.soap import soap_answer
from handoff.crm import salesforce
from handoff.crm.crm_http import CrmUnavailable
from handoff.domain.lead import lead_id_for
from handoff.domain.record import LeadRecord, LeadStatus
from handoff.errors import BadRequest
from handoff.service import crm_inbound
from tests.conftest import EXAMPLES, rep
from tests.fakes import FakePorts

NOW = datetime(2026, 11, 2, 15, 5, tzinfo=UTC)
ORG = "00D5g000004ABCDEAZ"
TOKEN = "test-salesforce-token"
OUTBOUND = (EXAMPLES / "webhooks/salesforce/outbound-message-lead-and-contact.xml").read_text()
SAM, KIM = "04l5g00000AAAA1AAA", "04l5g00000AAAA2AAA"  # the Lead's and the Contact's notifications
ACCOUNT = "0015g0000ACCT01AAA"
SEEDED = json.loads((EXAMPLES / "salesforce/crm-objects.json").read_text())
OPEN_OPPORTUNITY = {
    "attributes": {
        "type": "Opportunity",
        "url": "/services/data/v60.0/sobjects/Opportunity/0065g0000OPPT02AAA",
    },
    "Id": "0065g0000OPPT02AAA",
    "OwnerId": "0055g0000USER01AAA",
}
# Kim asks for a demo: with her Account's size she is sales-ready (the example's whitepaper is not).
DEMO = {"Whitepaper download": "Demo Request"}


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> FakePorts:
    monkeypatch.setenv("HANDOFF_PUBLIC_BASE_URL", "https://handoff.test")
    from handoff.deploy import settings

    settings.reset()
    fake = FakePorts()
    fake.secrets |= {"salesforce-org-ids": ORG}
    fake.reps.put(rep("r1"))
    fake.crm.accounts[ACCOUNT] = (SEEDED["Account"][ACCOUNT], OPEN_OPPORTUNITY)
    return fake


def outbound(replacements: dict[str, str] | None = None) -> bytes:
    body = OUTBOUND
    for old, new in (replacements or {}).items():
        assert old in body, old
        body = body.replace(old, new)
    return body.encode()


def stored(ports: FakePorts, notification_id: str) -> LeadRecord:
    record = ports.leads.get(lead_id_for("salesforce", notification_id))
    assert record is not None
    return record


def timeline(record: LeadRecord, event: str) -> list[str]:
    return [entry.detail for entry in record.timeline if entry.event == event]


def test_a_salesforce_contact_is_sales_ready_with_its_accounts_size_and_owners(ports: FakePorts) -> None:
    assert crm_inbound.accept_salesforce(ports, outbound(DEMO), TOKEN, NOW).startswith("<?xml")
    kim = stored(ports, KIM)
    assert kim.company.name == "ParcelPoint" and kim.company.employees == 420
    assert (kim.company.domain, kim.company.industry, kim.company.country) == (
        "parcelpoint.example",
        "Software",
        "CA",
    )
    assert kim.company.annual_revenue == 38_000_000
    assert kim.crm.account_id == ACCOUNT and kim.crm.account_owner_id == "0055g0000USER01AAA"
    assert kim.crm.open_opportunity and kim.crm.opportunity_owner_id == "0055g0000USER01AAA"
    assert kim.crm.owner_id == "0055g0000USER01AAA"  # the Contact's own owner, as sent
    assert kim.qualification.ready and kim.qualification.missing == []
    assert kim.lead_id in ports.workflow.started
    assert timeline(kim, "crm_account_read") == [
        f"company and account owner from Account {ACCOUNT}; "
        "open opportunity 0065g0000OPPT02AAA owned by 0055g0000USER01AAA"
    ]
    (read,) = ports.crm.account_reads
    assert read == (
        ACCOUNT,
        ["AnnualRevenue", "BillingCountry", "Industry", "Name", "NumberOfEmployees", "OwnerId", "Website"],
    )


def test_the_examples_whitepaper_contact_stays_in_nurture_for_want_of_a_next_step(ports: FakePorts) -> None:
    crm_inbound.accept_salesforce(ports, outbound(), TOKEN, NOW)
    kim = stored(ports, KIM)
    assert kim.status == LeadStatus.NURTURE and kim.qualification.missing == []
    assert kim.company.employees == 420
    assert "next_step.missing" in [r.code for r in kim.qualification.reasons]


def test_a_rest_api_outage_faults_the_whole_message_and_writes_nothing(ports: FakePorts) -> None:
    """Salesforce redelivers a message it gets no Ack for: nothing of it may be half-recorded, not
    even the Lead beside the Contact, which needed no read."""
    ports.crm.unavailable = True
    with pytest.raises(CrmUnavailable):
        crm_inbound.accept_salesforce(ports, outbound(DEMO), TOKEN, NOW)
    answer = soap_answer(lambda: crm_inbound.accept_salesforce(ports, outbound(DEMO), TOKEN, NOW))
    assert answer.status_code == 503 and "soapenv:Server" in str(answer.body)
    assert not ports.leads.items and not ports.workflow.started
    ports.crm.unavailable = False  # Salesforce's redelivery
    crm_inbound.accept_salesforce(ports, outbound(DEMO), TOKEN, NOW)
    assert stored(ports, KIM).qualification.ready and stored(ports, SAM).qualification.ready


def test_an_account_that_is_gone_leaves_the_contact_without_firmographics(ports: FakePorts) -> None:
    ports.crm.accounts.clear()
    crm_inbound.accept_salesforce(ports, outbound(DEMO), TOKEN, NOW)
    kim = stored(ports, KIM)
    assert kim.status == LeadStatus.NURTURE and "company.employees" in kim.qualification.missing
    assert not kim.crm.open_opportunity and kim.crm.account_owner_id is None
    assert timeline(kim, "crm_account_not_read") == [
        f"Account {ACCOUNT} no longer exists in Salesforce: no company size, industry or account owner"
    ]


def test_with_reads_off_nothing_is_read_and_the_timeline_says_so(ports: FakePorts) -> None:
    """Where there is no connected app: no 5xx, the Contact arrives as sent, and says why it has no company."""
    ports.edit_config(**{"read_accounts = true": "read_accounts = false"})
    ports.crm.unavailable = True  # never asked
    crm_inbound.accept_salesforce(ports, outbound(DEMO), TOKEN, NOW)
    kim = stored(ports, KIM)
    assert "company.employees" in kim.qualification.missing and ports.crm.account_reads == []
    assert timeline(kim, "crm_account_not_read") == [
        f"Account {ACCOUNT} not read ([adapters.salesforce] read_accounts = false): "
        "no company size, industry or account owner"
    ]


def test_account_values_a_lead_cannot_hold_leave_the_contact_without_them(ports: FakePorts) -> None:
    ports.crm.accounts[ACCOUNT] = (SEEDED["Account"][ACCOUNT] | {"NumberOfEmployees": 20_000_000_000}, None)
    crm_inbound.accept_salesforce(ports, outbound(DEMO), TOKEN, NOW)
    kim = stored(ports, KIM)
    assert kim.company.employees is None and kim.company.name is None
    (note,) = timeline(kim, "crm_account_not_read")
    assert note.startswith(f"Account {ACCOUNT} has values Handoff cannot use (")


@pytest.mark.parametrize("account_id", ["0015g0000ACCT01AAA' OR Name != '", "001", "0015g0000ACCT01AAAX"])
def test_an_account_id_that_is_not_a_salesforce_id_is_refused_before_any_read_or_write(
    ports: FakePorts, account_id: str
) -> None:
    with pytest.raises(BadRequest, match=f"notification 1 \\({KIM}\\): AccountId .* is not a Salesforce id"):
        crm_inbound.accept_salesforce(ports, outbound({ACCOUNT: account_id}), TOKEN, NOW)
    assert ports.crm.account_reads == [] and ports.leads.items == {}


def test_a_contact_without_an_email_is_acknowledged_and_ignored_beside_the_rest(ports: FakePorts) -> None:
    """A Contact with no email is a real record, not a malformed one: faulting would have
    Salesforce resend the whole message for a day. Nothing is read for it."""
    body = re.sub(r"<sf:Email>kim[^<]*</sf:Email>", "", OUTBOUND).encode()
    assert crm_inbound.accept_salesforce(ports, body, TOKEN, NOW) == salesforce.ACK
    assert ports.crm.account_reads == []
    assert ports.leads.get(lead_id_for("salesforce", KIM)) is None
    assert ports.leads.get(lead_id_for("salesforce", SAM)) is not None


def two_contacts_of_one_account() -> bytes:
    kim = re.search(
        r"   <Notification>\s*<Id>04l5g00000AAAA2AAA</Id>.*?</Notification>\n", OUTBOUND, re.DOTALL
    )
    assert kim is not None
    another = (
        kim.group(0)
        .replace(KIM, "04l5g00000AAAA3AAA")
        .replace("0035g0000CONT01AAA", "0035g0000CONT02AAA")
        .replace("kim.nguyen@", "alex.moreau@")
    )
    return OUTBOUND.replace(kim.group(0), kim.group(0) + another).encode()


def test_contacts_sharing_an_account_read_it_once_and_a_redelivery_reads_nothing(ports: FakePorts) -> None:
    body = two_contacts_of_one_account()
    crm_inbound.accept_salesforce(ports, body, TOKEN, NOW)
    assert [account for account, _ in ports.crm.account_reads] == [ACCOUNT]
    assert stored(ports, "04l5g00000AAAA3AAA").company.employees == 420
    ports.crm.unavailable = True  # a redelivery is answered from what is stored, whatever the API
    assert crm_inbound.accept_salesforce(ports, body, TOKEN, NOW).startswith("<?xml")
    assert len(ports.crm.account_reads) == 1 and len(ports.leads.items) == 3


def test_a_lead_notification_keeps_its_owner_and_reads_no_account(ports: FakePorts) -> None:
    only_the_lead = re.sub(
        r"   <Notification>\s*<Id>04l5g00000AAAA2AAA</Id>.*?</Notification>\n", "", OUTBOUND, flags=re.DOTALL
    )
    crm_inbound.accept_salesforce(ports, only_the_lead.encode(), TOKEN, NOW)
    sam = stored(ports, SAM)
    assert sam.crm.owner_id == "00G5g00000QUEUEAAA" and sam.company.employees == 650
    assert ports.crm.account_reads == [] and timeline(sam, "crm_account_not_read") == []


# --- HubSpot: the contact's open deal ------------------------------------------------------------


def hubspot_event(event_id: int) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "portalId": 62515,
        "objectId": 3301,
        "occurredAt": 1793552400000,
        "subscriptionType": "contact.propertyChange",
        "propertyName": "lifecyclestage",
        "propertyValue": "marketingqualifiedlead",
    }


def test_a_hubspot_contact_with_an_open_deal_carries_the_deals_owner(ports: FakePorts) -> None:
    crm = json.loads((EXAMPLES / "hubspot" / "crm-objects.json").read_text())
    ports.crm.contacts["3301"] = (crm["contacts"]["3301"], crm["companies"]["9101"])
    ports.crm.deals["3301"] = crm["deals"]["7701"]
    answer = crm_inbound.accept_hubspot(ports, json.dumps([hubspot_event(4101)]).encode(), NOW)
    lead = ports.leads.get(answer.body["events"][0]["lead_id"])
    assert lead is not None
    assert lead.crm.open_opportunity and lead.crm.opportunity_owner_id == "73"
    assert lead.crm.account_owner_id == "73"
    del ports.crm.deals["3301"]
    answer = crm_inbound.accept_hubspot(ports, json.dumps([hubspot_event(4102)]).encode(), NOW)
    lead = ports.leads.get(answer.body["events"][0]["lead_id"])
    assert lead is not None and not lead.crm.open_opportunity and lead.crm.opportunity_owner_id is None


def contacts_of_many_accounts(count: int) -> bytes:
    kim = re.search(
        r"   <Notification>\s*<Id>04l5g00000AAAA2AAA</Id>.*?</Notification>\n", OUTBOUND, re.DOTALL
    )
    assert kim is not None
    many = "".join(
        kim.group(0)
        .replace(KIM, f"04l5g0000N{i:08d}")
        .replace("0035g0000CONT01AAA", f"0035g0000C{i:08d}")
        .replace(ACCOUNT, f"0015g0000A{i:08d}")
        .replace("kim.nguyen@", f"contact{i}@")
        for i in range(count)
    )
    return OUTBOUND.replace(kim.group(0), many).encode()


def test_a_message_of_many_accounts_reads_each_and_gives_each_contact_its_own(ports: FakePorts) -> None:
    for i in range(20):
        ports.crm.accounts[f"0015g0000A{i:08d}"] = (
            SEEDED["Account"][ACCOUNT] | {"NumberOfEmployees": 100 + i},
            None,
        )
    crm_inbound.accept_salesforce(ports, contacts_of_many_accounts(20), TOKEN, NOW)
    assert len(ports.crm.account_reads) == 20
    assert [stored(ports, f"04l5g0000N{i:08d}").company.employees for i in range(20)] == [
        100 + i for i in range(20)
    ]


def test_one_unreadable_account_among_many_faults_the_message(
    ports: FakePorts, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = ports.crm.account_with_open_opportunity

    def flaky(account_id: str, fields: list[str]) -> Any:
        if account_id.endswith("13"):
            raise CrmUnavailable("Salesforce unavailable after 3 attempts (HTTP 503)")
        return read(account_id, fields)

    monkeypatch.setattr(ports.crm, "account_with_open_opportunity", flaky)
    with pytest.raises(CrmUnavailable):
        crm_inbound.accept_salesforce(ports, contacts_of_many_accounts(20), TOKEN, NOW)
    assert not ports.leads.items
