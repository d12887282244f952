"""Arbitrary JSON and bytes into every adapter: a Lead or a BadRequest, never anything else."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.api.requests import parse_json, parse_model
from handoff.config import parse_config
from handoff.crm import hubspot, salesforce
from handoff.domain.lead import Lead
from handoff.errors import BadRequest, ConfigError

CONFIG = parse_config("", "defaults")
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
# Shapes close to the real ones, so the fuzzing reaches past the first check.
HUBSPOT_KEYS = [
    "vid",
    "objectId",
    "portal-id",
    "properties",
    "eventId",
    "subscriptionType",
    "portalId",
    "propertyName",
]
PROPERTY_NAMES = [
    "email",
    "firstname",
    "jobtitle",
    "numberofemployees",
    "annualrevenue",
    "recent_conversion_date",
    "industry",
]
HUBSPOT_LIKE = st.fixed_dictionaries(
    {"vid": st.integers() | st.text(max_size=5) | st.none()},
    optional={
        "properties": st.dictionaries(
            st.sampled_from(PROPERTY_NAMES), JSON | st.fixed_dictionaries({"value": JSON}), max_size=7
        ),
        **{k: JSON for k in HUBSPOT_KEYS[1:3]},
    },
)


def lead_or_bad_request(build: Any) -> None:
    with contextlib.suppress(BadRequest):
        parse_model(Lead, build(), "lead")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(JSON | HUBSPOT_LIKE)
def test_hubspot_workflow_adapter_never_crashes(data: Any) -> None:
    if isinstance(data, dict):
        raw = json.dumps(data).encode()
        lead_or_bad_request(lambda: hubspot.from_workflow(data, raw, CONFIG.adapters.hubspot))


@settings(max_examples=300)
@given(
    st.lists(JSON | st.dictionaries(st.sampled_from([*HUBSPOT_KEYS, "objectId"]), JSON), max_size=5),
    JSON,
    JSON,
)
def test_hubspot_event_adapter_never_crashes(events: list[Any], contact: Any, company: Any) -> None:
    try:
        parsed = hubspot.parse_events(events)
    except BadRequest:
        return
    for event in parsed:
        hubspot.ignored_because(event, CONFIG.adapters.hubspot)
        if isinstance(contact, dict):
            lead_or_bad_request(
                lambda e=event: hubspot.lead_from_event(
                    e, contact, company if isinstance(company, dict) else None, CONFIG.adapters.hubspot
                )
            )


@settings(max_examples=300)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_salesforce_adapter_never_crashes_on_bytes(body: bytes) -> None:
    try:
        _, notifications = salesforce.parse_envelope(body)
    except BadRequest:
        return
    for notification_id, kind, fields in notifications:
        lead_or_bad_request(
            lambda n=notification_id, k=kind, f=fields: salesforce.lead_from_notification(
                n, k, f, CONFIG.adapters.salesforce
            )
        )


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.sampled_from(
            ["Email", "FirstName", "NumberOfEmployees", "AnnualRevenue", "Website", "Id", "Title"]
        ),
        st.text(max_size=30),
    ),
    st.sampled_from(["Lead", "Contact"]),
)
def test_salesforce_field_values_never_crash_the_mapping(fields: dict[str, str], kind: str) -> None:
    lead_or_bad_request(
        lambda: salesforce.lead_from_notification("04l1", kind, fields, CONFIG.adapters.salesforce)
    )


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_json_parsing_never_crashes_on_bytes(body: bytes) -> None:
    try:
        data = parse_json(body)
    except BadRequest:
        return
    if isinstance(data, dict):
        lead_or_bad_request(lambda: data)


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_config_loader_only_raises_config_errors(text: str) -> None:
    try:
        parse_config(text, "fuzz.toml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.toml: ")


def test_non_finite_numbers_are_unknown_not_a_crash() -> None:
    from handoff.crm.mapping import number, whole_number

    for text in ("INFINITY", "-inf", "NaN", "1e999"):
        assert number(text) is None and whole_number(text) is None
    assert whole_number("1,200") == 1200
