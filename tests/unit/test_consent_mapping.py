"""Consent as each CRM spells it, onto the canonical contact."""

from __future__ import annotations

import json

import pytest

from handoff.config.adapters import HubSpotAdapterConfig, SalesforceAdapterConfig
from handoff.crm import hubspot, salesforce
from handoff.domain.lead import Lead
from tests.conftest import EXAMPLES

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
