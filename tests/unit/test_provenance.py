"""Who may claim what: a generic credential never speaks for an adapter or for a CRM record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handoff.api.requests import parse_generic_lead
from handoff.config import load_config, parse_config
from handoff.crm import hubspot, salesforce
from handoff.domain.lead import Lead
from handoff.domain.provenance import ADAPTER_SOURCES, crm_link, reserved_source, write_back_refusal
from handoff.errors import BadRequest, ConfigError
from tests.conftest import EXAMPLES, sample

CONFIG = load_config(EXAMPLES.parent / "config" / "handoff.toml")


def test_the_reserved_sources_are_the_adapters_own() -> None:
    assert {hubspot.SOURCE, salesforce.SOURCE} == ADAPTER_SOURCES


@pytest.mark.parametrize("source", ["hubspot", "salesforce", "HubSpot", " SALESFORCE "])
def test_a_generic_delivery_may_not_take_an_adapters_source(source: str) -> None:
    body = sample("01") | {"source": source}
    with pytest.raises(BadRequest) as refused:
        parse_generic_lead(body, CONFIG)
    assert refused.value.code == "invalid_lead"
    [detail] = refused.value.details
    assert detail["field"] == "source" and "reserved" in detail["message"]


def test_generic_and_marketo_lead_ids_are_unchanged() -> None:
    """The refusal namespaces nothing else: every id a generic sender had before stays its id."""
    website = parse_generic_lead(sample("01"), CONFIG)
    marketo = parse_generic_lead(
        json.loads((EXAMPLES / "webhooks/marketo/sample-delivery.json").read_text()), CONFIG
    )
    assert (website.lead_id, marketo.lead_id) == (
        "ld_6e7583c26a3eea61edb83f2a",
        "ld_e376a1fc45f190303e136d46",
    )
    assert reserved_source("hubspot-forms") is None and reserved_source("website") is None


def test_a_source_can_carry_no_control_character_to_blur_the_id_separator() -> None:
    lead = Lead.model_validate(sample("01") | {"source": "hubspot\x1fx"})
    assert lead.source == "hubspot x"


@pytest.mark.parametrize(
    ("source", "system", "trusted", "allowed"),
    [
        ("hubspot", "hubspot", [], True),
        ("salesforce", "salesforce", [], True),
        ("website", "hubspot", [], False),
        ("salesforce", "hubspot", [], False),  # one CRM's webhook does not vouch for another's records
        ("website", "hubspot", ["website"], True),
        ("Website", "salesforce", ["website"], True),
        ("marketo", "hubspot", ["website"], False),
    ],
)
def test_write_back_needs_the_crms_own_webhook_or_a_trusted_source(
    source: str, system: str, trusted: list[str], allowed: bool
) -> None:
    refusal = write_back_refusal(source, system, "1001", trusted)
    assert (refusal is None) == allowed
    if refusal:
        assert "write_back_sources" in refusal and source in refusal


OWN_HOSTS: list[tuple[str, str, dict[str, Any]]] = [
    ("hubspot", "https://app.hubspot.com/contacts/62515/record/0-1/3201", {}),
    ("hubspot", "https://app-eu1.hubspot.com/contacts/1/record/0-1/3201", {}),
    ("hubspot", "HTTPS://APP.HUBSPOT.COM/contacts/1", {}),
    ("salesforce", "https://acme.my.salesforce.com/00Q5g0000LEAD01AAA", {}),
    ("salesforce", "https://acme.lightning.force.com/lightning/r/Lead/00Q/view", {}),
    ("salesforce", "https://acme--sandbox.sandbox.my.salesforce.com/00Q", {}),
    ("hubspot", "https://app.hubspot.com:443/contacts/1", {}),
    ("salesforce", "https://crm.acme.example/00Q", {"instance_url": "https://crm.acme.example"}),
    ("zoho", "https://crm.zoho.com/crm/tab/Leads/1", {"hosts": ["crm.zoho.com"]}),
    ("zoho", "https://crm.zoho.eu/crm/tab/Leads/1", {"hosts": ["*.zoho.eu"]}),
]
OTHER_LINKS: list[tuple[str, str | None, dict[str, Any]]] = [
    ("hubspot", None, {}),
    ("hubspot", "http://app.hubspot.com/contacts/1", {}),
    ("hubspot", "javascript:alert(1)", {}),
    ("hubspot", "https://app.hubspot.com.evil.example/", {}),
    ("hubspot", "https://evil.example/app.hubspot.com", {}),
    ("hubspot", "https://app.hubspot.com:8443/contacts/1", {}),
    ("hubspot", "https://user@app.hubspot.com/contacts/1", {}),
    ("hubspot", "https://app.hubspot.com/contacts/1\r\nX: y", {}),
    ("hubspot", "https://app.hubspot.com/a b", {}),
    ("hubspot", "https://[::1", {}),
    ("salesforce", "https://salesforce.com.evil.example/00Q", {}),
    ("salesforce", "https://crm.acme.example/00Q", {"instance_url": ""}),
    ("salesforce", "https://crm.acme.example.evil/00Q", {"instance_url": "https://crm.acme.example"}),
    ("hubspot", "https://crm.acme.example/00Q", {"instance_url": "https://crm.acme.example"}),
    ("zoho", "https://crm.zoho.com/crm/tab/Leads/1", {}),
    ("zoho", "https://zoho.eu/crm", {"hosts": ["*.zoho.eu"]}),
    ("other", "https://crm.example/1", {}),
]


@pytest.mark.parametrize(("system", "url", "options"), OWN_HOSTS)
def test_a_crm_link_on_the_crms_own_host_is_kept(system: str, url: str, options: dict[str, Any]) -> None:
    assert crm_link(system, url, **options) == url


@pytest.mark.parametrize(("system", "url", "options"), OTHER_LINKS)
def test_any_other_crm_link_is_dropped(system: str, url: str | None, options: dict[str, Any]) -> None:
    assert crm_link(system, url, **options) is None


def test_crm_link_hosts_in_config_are_host_names() -> None:
    text = (EXAMPLES.parent / "config" / "handoff.toml").read_text()
    with pytest.raises(ConfigError, match="crm_link_hosts"):
        parse_config(text.replace("crm_link_hosts = []", 'crm_link_hosts = ["https://crm.zoho.com/"]'), "x")
    config = parse_config(text.replace("crm_link_hosts = []", 'crm_link_hosts = ["*.zoho.eu"]'), "x")
    assert config.adapters.crm_link_hosts == ["*.zoho.eu"]
