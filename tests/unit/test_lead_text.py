"""What a sender's text may be: one plain email address, and one line wherever a rep reads it."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.api.requests import parse_lead
from handoff.config import load_config
from handoff.domain.lead import Lead
from handoff.errors import BadRequest
from tests.conftest import ROOT, sample

CONFIG = load_config(ROOT / "config" / "handoff.toml")


def with_email(address: Any) -> dict[str, Any]:
    body = sample("01")
    body["contact"]["email"] = address
    return body


@pytest.mark.parametrize(
    "address",
    [
        "someone@example.com?bcc=x@y.com",
        "someone@example.com?bcc=evil.example",  # one "@": a query in the domain
        "someone@example.com%0ABcc:evil.example",
        "someone@example.com&cc=x@y.com",
        "someone@example.com\r\nBcc: x@y.com",
        "someone@example.com\n",
        "\rsomeone@example.com",
        "some\tone@example.com",
        '"someone"@example.com',
        '"some one"@example.com',
        "<someone@example.com>",
        "Someone <someone@example.com>",
        "someone@example.com>",
        "some,one@example.com",
        "someone@[127.0.0.1]",
        "someone@localhost",
        "someone@example.test",
        "someone@@example.com",
        "not-an-email",
    ],
)
def test_an_address_that_is_not_one_plain_mailbox_is_a_400_naming_the_field(address: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_lead(with_email(address), CONFIG)
    assert refused.value.details[0]["field"] == "contact.email"
    assert "contact.email" in refused.value.message


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("Jordan.Lee@Northwind.example", "jordan.lee@northwind.example"),
        ("  jordan+sales@northwind.example ", "jordan+sales@northwind.example"),
        ("o'brien@example.co.uk", "o'brien@example.co.uk"),
        ("jörg@bücher.example", "jörg@bücher.example"),
    ],
)
def test_a_plain_address_is_kept_lower_case(sent: str, kept: str) -> None:
    assert parse_lead(with_email(sent), CONFIG).contact.email == kept


def test_control_characters_become_one_space_in_every_text_a_rep_reads() -> None:
    body = sample("01")
    body["contact"] |= {
        "first_name": "Jordan\r\nBcc: x@y.com",
        "title": "VP\x0bof\x00Sales",
        "department": "\u2028",
    }
    body["company"]["name"] = "Northwind\x85Analytics"
    body["trigger"]["name"] = "Book\r\n\r\na demo"
    body["activities"][0]["title"] = "Pricing\tpage"
    body["contact"]["notes"] = "kept as an extra\r\nbut one line too"
    lead = Lead.model_validate(body)
    assert lead.contact.first_name == "Jordan Bcc: x@y.com"
    assert lead.contact.title == "VP of Sales"
    assert lead.contact.department is None  # a separator alone is blank: unknown
    assert lead.company.name == "Northwind Analytics"
    assert lead.trigger.name == "Book a demo"
    assert lead.activities[0].title == "Pricing page"
    assert (lead.contact.model_extra or {})["notes"] == "kept as an extra but one line too"
