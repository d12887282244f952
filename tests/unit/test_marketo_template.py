"""The Marketo template docs/crm-setup.md prescribes, filled in as Adobe documents Marketo fills it:
string-type tokens arrive JSON-encoded with their double quotes, whole-number tokens bare."""

from __future__ import annotations

import json
import re

import pytest

from handoff.domain.lead import Lead
from tests.conftest import EXAMPLES

TEMPLATE = (EXAMPLES / "webhooks/marketo/webhook-template.txt").read_text()
WHOLE_NUMBER_TOKENS = {"lead.Id", "campaign.id", "company.Num Employees", "lead.Lead Score"}
SAMPLE = {
    "lead.Id": "88213",
    "campaign.id": "4127",
    "system.dateTime": "2026-11-02 16:05:00",
    "lead.Email Address": "noor.haddad@quanta.example",
    "lead.First Name": 'Noor "N"',  # a quote in a value must not break the body
    "lead.Last Name": "Haddad",
    "lead.Job Title": "Director of Sales Operations",
    "lead.Phone Number": "+1 206 555 0110",
    "lead.Country": "United States",
    "lead.State": "Washington",
    "company.Company Name": "Quanta & Ledger",
    "company.Industry": "Fintech",
    "company.Num Employees": "240",
    "company.Billing Country": "US",
    "trigger.Name": "Fills Out Form: Demo Request",
    "lead.Lead Score": "58",
}


def filled(values: dict[str, str]) -> str:
    def token(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name, "")
        return value if name in WHOLE_NUMBER_TOKENS else json.dumps(value)

    return re.sub(r"\{\{([^}]+)\}\}", token, TEMPLATE)


def test_the_filled_template_is_a_valid_lead() -> None:
    lead = Lead.model_validate(json.loads(filled(SAMPLE)))
    assert lead.event_id == "marketo:88213:4127:2026-11-02 16:05:00"
    assert (lead.contact.email, lead.contact.first_name) == ("noor.haddad@quanta.example", 'Noor "N"')
    assert (lead.contact.country, lead.contact.region, lead.company.employees) == ("US", "WA", 240)
    assert lead.company.name == "Quanta & Ledger" and lead.score == 58


@pytest.mark.parametrize("empty", sorted(set(SAMPLE) - {"lead.Id", "lead.Email Address", "system.dateTime"}))
def test_an_empty_token_still_leaves_valid_json_and_means_unknown(empty: str) -> None:
    lead = Lead.model_validate(json.loads(filled({**SAMPLE, empty: ""})))
    assert lead.contact.email == "noor.haddad@quanta.example"
