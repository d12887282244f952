"""Consent and conversions as each CRM spells them, onto the canonical lead."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from handoff.config import load_config
from handoff.config.adapters import HubSpotAdapterConfig, SalesforceAdapterConfig
from handoff.crm import hubspot, salesforce
from handoff.domain.lead import Lead
from handoff.domain.qualify import qualify
from tests.conftest import EXAMPLES, ROOT

WORKFLOW = json.loads((EXAMPLES / "webhooks/hubspot/workflow-contact-demo-request.json").read_text())


@pytest.mark.parametrize(("value", "opted_out"), [("true", True), ("false", False), ("", False)])
def test_hubspots_email_opt_out_reaches_the_contact(value: str, opted_out: bool) -> None:
    contact = json.loads(json.dumps(WORKFLOW))
    contact["properties"]["hs_email_optout"] = {"value": value}
    lead = Lead.model_validate(
        hubspot.from_workflow(contact, json.dumps(contact).encode(), HubSpotAdapterConfig())
    )
    assert lead.contact.email_opt_out is opted_out
    assert lead.contact.do_not_call is False  # HubSpot has no standard property: mapped by config


def test_a_mapped_hubspot_do_not_call_property_is_read() -> None:
    contact = json.loads(json.dumps(WORKFLOW))
    contact["properties"]["do_not_call__c"] = {"value": "Yes"}
    config = HubSpotAdapterConfig(properties={"contact.do_not_call": "do_not_call__c"})
    assert Lead.model_validate(hubspot.from_workflow(contact, b"{}", config)).contact.do_not_call


@pytest.mark.parametrize("kind", ["Lead", "Contact"])
def test_salesforce_consent_checkboxes_reach_the_contact(kind: str) -> None:
    fields = {"Id": "00Q1", "Email": "a@b.co", "DoNotCall": "true", "HasOptedOutOfEmail": "false"}
    lead = Lead.model_validate(
        salesforce.lead_from_notification("n1", kind, fields, SalesforceAdapterConfig())
    )
    assert (lead.contact.do_not_call, lead.contact.email_opt_out) == (True, False)


def test_a_single_conversion_counts_once_even_as_first_and_recent() -> None:
    """HubSpot fills first_* and recent_* with the same form when there was only one."""
    contact = json.loads(json.dumps(WORKFLOW))
    props = contact["properties"]
    props["first_conversion_event_name"] = props["recent_conversion_event_name"]
    props["first_conversion_date"] = props["recent_conversion_date"]
    lead = Lead.model_validate(hubspot.from_workflow(contact, b"{}", HubSpotAdapterConfig()))
    assert [a.type for a in lead.activities].count("form_submission") == 1
    earlier = json.loads(json.dumps(WORKFLOW))  # the sample's two different conversions both count
    lead = Lead.model_validate(hubspot.from_workflow(earlier, b"{}", HubSpotAdapterConfig()))
    assert [a.type for a in lead.activities].count("form_submission") == 2


@pytest.mark.parametrize(("converted", "tier"), [(timedelta(minutes=5), "hot"), (timedelta(days=730), None)])
def test_a_workflow_contact_s_intent_is_aged_from_now_not_from_its_old_conversion(
    converted: timedelta, tier: str | None
) -> None:
    """A workflow may enrol a contact years after its form: that is not today's demo request."""
    now = datetime(2026, 11, 30, 15, tzinfo=UTC)
    contact = json.loads(json.dumps(WORKFLOW))
    props = contact["properties"]
    props["recent_conversion_date"] = {"value": str(int((now - converted).timestamp() * 1000))}
    props["first_conversion_date"] = {
        "value": str(int((now - converted - timedelta(days=20)).timestamp() * 1000))
    }
    props["hs_analytics_last_visit_timestamp"] = props["recent_conversion_date"]
    lead = Lead.model_validate(hubspot.from_workflow(contact, b"{}", HubSpotAdapterConfig()))
    assert lead.occurred_at is None  # the delivery is now; the conversion is only its trigger
    result = qualify(lead, load_config(ROOT / "config" / "handoff.toml").qualify, now)
    assert result.tier == tier
    trigger = next(r for r in result.reasons if r.code == "intent.trigger")
    assert ("730 days ago" in trigger.text) is (tier is None)


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("Lead", {"Country": "United Kingdom", "CountryCode": "GB", "State": "England", "StateCode": "ENG"}),
        (
            "Contact",
            {
                "MailingCountry": "United Kingdom",
                "MailingCountryCode": "GB",
                "MailingState": "England",
                "MailingStateCode": "ENG",
            },
        ),
    ],
)
def test_salesforce_iso_codes_win_over_country_and_state_names(kind: str, fields: dict[str, str]) -> None:
    """With picklists on, "United Kingdom" arrives beside "GB": the code is what the EMEA rule matches."""
    notification = {"Id": "00Q1", "Email": "a@b.co", **fields}
    lead = Lead.model_validate(
        salesforce.lead_from_notification("n1", kind, notification, SalesforceAdapterConfig())
    )
    assert (lead.contact.country, lead.contact.region) == ("GB", "ENG")
    if kind == "Lead":
        assert lead.company.country == "GB"
    names_only = {k: v for k, v in notification.items() if not k.endswith("Code")}
    plain = Lead.model_validate(
        salesforce.lead_from_notification("n1", kind, names_only, SalesforceAdapterConfig())
    )
    # Names alone reach the same codes (pycountry): the code fields only save the lookup.
    assert (plain.contact.country, plain.contact.region) == ("GB", "ENG")


def test_a_hubspot_association_change_without_an_object_id_is_ignored_not_refused() -> None:
    """contact.associationChange events carry fromObjectId and toObjectId, no objectId (Ballerina's
    HubSpot trigger fixture, tests/fixtures/real/hubspot): refusing one refused its whole batch."""
    [event] = hubspot.parse_events(
        json.loads(
            (ROOT / "tests/fixtures/real/hubspot/events-ballerina-contact.associationChange.json").read_text()
        )
    )
    assert event.object_id is None
    reason = hubspot.ignored_because(event, HubSpotAdapterConfig())
    assert reason is not None and "contact.associationChange" in reason
