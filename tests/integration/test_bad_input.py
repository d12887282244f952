"""Every refusal: a clear 4xx naming the problem, and nothing written."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.integration.conftest import Aws

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OUTBOUND = (EXAMPLES / "webhooks/salesforce/outbound-message-lead-and-contact.xml").read_text()

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&lol9;</soapenv:Body></soapenv:Envelope>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&xxe;</soapenv:Body></soapenv:Envelope>"""


@pytest.fixture
def aws(shared_aws: Aws) -> Aws:
    """Every request here is refused, and each test proves it wrote nothing, so one stack serves
    the whole module."""
    return shared_aws


def _notifications(count: int) -> bytes:
    start = OUTBOUND.index("<Notification>")
    end = OUTBOUND.index("</Notification>") + len("</Notification>")
    one = OUTBOUND[start:end]
    many = "".join(one.replace("04l5g00000AAAA1AAA", f"04l5g0000{i:09d}") for i in range(count))
    return (OUTBOUND[:start] + many + OUTBOUND[OUTBOUND.rindex("</notifications>") :]).encode()


def assert_nothing_written(aws: Aws) -> None:
    assert aws.leads_count() == 0
    assert aws.executions() == []


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (BILLION_LAUGHS, 400, "DTD or entities is refused"),
        (XXE, 400, "DTD or entities is refused"),
        (b"<notifications><unclosed>", 400, "not well-formed XML"),
        (b"<a/>", 400, "expected a SOAP Envelope"),
        (_notifications(101), 400, "1 to 100 notifications, not 101"),
        (OUTBOUND.replace("00D5g000004ABCDEAZ", "00D000000000000AAA").encode(), 401, "not on the allowlist"),
        (
            OUTBOUND.replace("sam.rivera@meridian.example", "sam.rivera at meridian").encode(),
            400,
            "notification 0",
        ),
        (OUTBOUND.replace(' xsi:type="sf:Lead"', "").encode(), 400, "no xsi:type"),
        (b"\xff\xfe<bad/>", 400, "XML"),
        (b"<x>" + b"a" * 1_100_000 + b"</x>", 413, "limit"),
    ],
)
def test_salesforce_refusals_are_soap_faults(aws: Aws, body: bytes, status: int, fragment: str) -> None:
    started = time.monotonic()
    answer_status, xml = aws.post_salesforce(body)
    assert time.monotonic() - started < 10  # a hang guard: hostile XML is refused before it expands
    assert answer_status == status
    assert "<soapenv:Fault>" in xml and fragment in xml
    assert_nothing_written(aws)


def test_salesforce_needs_the_token(aws: Aws) -> None:
    for token in (None, "wrong"):
        status, xml = aws.post_salesforce(OUTBOUND.encode(), token=token)
        assert status == 401 and "token" in xml
    assert_nothing_written(aws)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        # Refused by the gateway's model before the function runs (tests/integration/test_gateway.py).
        (b"{nope", "not JSON of the shape"),
        (b"\xff\xfe\x00", "not JSON of the shape"),
        (b'"a string"', "not JSON of the shape"),
        (b"[]", "1 to 100 events, not 0"),
        (json.dumps([{"eventId": 1}]).encode(), "invalid HubSpot event"),
        (
            json.dumps([{"eventId": [1], "subscriptionType": "x", "portalId": 1, "objectId": 2}]).encode(),
            "eventId",
        ),
        (b'{"vid": 1, "properties": {"firstname": {"value": "No email"}}}', "contact.email"),
        (b'{"properties": {"email": {"value": "a@b.co"}}}', "no vid"),
        (b'{"vid": 1, "properties": "oops"}', "properties must be an object"),
        (b"[" * 50 + b"]" * 50, "nested deeper"),
    ],
)
def test_hubspot_malformed_bodies_are_400(aws: Aws, body: bytes, fragment: str) -> None:
    status, answer = aws.post_hubspot(body)
    assert status == 400, answer
    assert fragment in answer["message"]
    assert answer["error"]
    assert_nothing_written(aws)


def test_hubspot_bad_stale_or_missing_signature_is_401(aws: Aws) -> None:
    body = (EXAMPLES / "webhooks/hubspot/workflow-contact-demo-request.json").read_bytes()
    assert aws.post_hubspot(body, secret="wrong")[0] == 401
    stale = str(int(time.time() * 1000) - 10 * 60 * 1000)
    headers = {"Host": "handoff.test", "X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": stale}
    status, answer = aws.api("POST", "/webhooks/hubspot", body, headers)
    assert (status, answer["error"]) == (401, "unauthorized")
    assert "replay window" in answer["message"]
    assert aws.api("POST", "/webhooks/hubspot", body, {"Host": "handoff.test"})[0] == 401
    assert_nothing_written(aws)


def test_generic_refusals(aws: Aws, hot_lead: dict[str, object]) -> None:
    cases = [
        (b"\xc3\x28{}", 400, "not JSON of the shape"),  # the gateway's model
        (json.dumps({**hot_lead, "score": "high"}).encode(), 400, "score"),
        (json.dumps({**hot_lead, "activities": "none"}).encode(), 400, "activities"),
        (json.dumps({**hot_lead, "padding": "x" * 1_100_000}).encode(), 413, "limit"),
    ]
    for body, status, fragment in cases:
        answer_status, answer = aws.post_lead(body)
        assert answer_status == status, (fragment, answer)
        assert fragment in answer["message"]
    assert_nothing_written(aws)
