"""Decode and authenticate inbound requests before anything is parsed or stored."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel, ValidationError

from handoff.config import HandoffConfig
from handoff.crm.hubspot_signature import verify_hubspot
from handoff.crm.signature import (
    GENERIC_SIGNATURE_HEADER,
    bearer_from,
    verify_api_key,
    verify_generic,
)
from handoff.deploy import credentials
from handoff.deploy.settings import settings
from handoff.domain.lead import SENDER_TIMEZONE, Lead
from handoff.domain.provenance import reserved_source
from handoff.errors import BadRequest, PayloadTooLarge
from handoff.service.ports import Ports

MAX_JSON_DEPTH = 32

M = TypeVar("M", bound=BaseModel)


def raw_body(event: APIGatewayProxyEvent) -> bytes:
    """The exact bytes the sender signed, size-checked before anything else; never empty."""
    data = sized_body(event)
    if not data:
        raise BadRequest("body is empty")
    return data


def sized_body(event: APIGatewayProxyEvent) -> bytes:
    """The body's bytes (possibly none), refused with a 413 over the size limit."""
    body = event.body or ""
    limit = settings().max_body_bytes
    if len(body) > limit * 2:  # cheap early exit before decoding anything huge
        raise PayloadTooLarge(f"body exceeds {limit} bytes")
    if event.is_base64_encoded:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("body is not valid base64") from exc
    else:
        data = body.encode("utf-8", errors="surrogateescape")
    if len(data) > limit:
        raise PayloadTooLarge(f"body is {len(data)} bytes; the limit is {limit}")
    return data


def header(event: APIGatewayProxyEvent, name: str) -> str | None:
    value = event.headers.get(name)  # Powertools headers are case-insensitive
    return value if isinstance(value, str) else None


def authenticate_generic(ports: Ports, event: APIGatewayProxyEvent, body: bytes) -> None:
    signature = header(event, GENERIC_SIGNATURE_HEADER)
    bearer = bearer_from(header(event, "authorization"))
    verify_generic(
        secret=ports.secret(credentials.GENERIC_SECRET.name),
        body=body,
        signature_header=signature,
        bearer_token=bearer,
        expected_token=ports.secret(credentials.GENERIC_TOKEN.name) if bearer is not None else None,
        window_seconds=settings().replay_window_seconds,
    )


def require_api_key(ports: Ports, event: APIGatewayProxyEvent) -> None:
    verify_api_key(header(event, "x-api-key"), ports.secret(credentials.API_KEY.name))


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _no_constant(name: str) -> Any:
    raise BadRequest(f"body is not valid JSON: {name} is not a JSON number")


def parse_json(body: bytes) -> Any:
    """Strict JSON: UTF-8, well-formed, at most MAX_JSON_DEPTH deep."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"body is not valid UTF-8 (byte {exc.start})") from exc
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise BadRequest(f"body is nested deeper than {MAX_JSON_DEPTH} levels") from exc
    if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BadRequest(f"body is nested deeper than {MAX_JSON_DEPTH} levels")
    return data


def parse_json_object(body: bytes) -> dict[str, Any]:
    data = parse_json(body)
    if not isinstance(data, dict):
        raise BadRequest(f"body must be a JSON object, not {type(data).__name__}")
    return data


def signed_uri(event: APIGatewayProxyEvent) -> str:
    """The URI the sender signed: the public base URL when set, else scheme://Host + path + query."""
    path = event.request_context.path or event.path
    query = event.multi_value_query_string_parameters or {}
    query_string = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
    suffix = path + (f"?{query_string}" if query_string else "")
    base = settings().public_base_url.rstrip("/")
    if base:
        # The public URL already carries any stage or base path; keep only the route.
        return base + event.path + (f"?{query_string}" if query_string else "")
    scheme = header(event, "x-forwarded-proto") or "https"
    return f"{scheme}://{header(event, 'host') or ''}{suffix}"


def authenticate_hubspot(ports: Ports, event: APIGatewayProxyEvent, body: bytes) -> None:
    verify_hubspot(
        secret=ports.secret(credentials.HUBSPOT_APP_SECRET.name),
        method=event.http_method,
        uri=signed_uri(event),
        body=body,
        header=lambda name: header(event, name),
    )


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]


def parse_model(model: type[M], data: dict[str, Any], what: str, context: dict[str, Any] | None = None) -> M:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        details = validation_details(exc)
        fields = ", ".join(d["field"] for d in details[:5])
        raise BadRequest(f"invalid {what}: {fields}", details=details, code="invalid_" + what) from exc


def parse_lead(data: dict[str, Any], config: HandoffConfig) -> Lead:
    """A canonical lead from any sender: its offset-less times read in [adapters] sender_timezone."""
    return parse_model(Lead, data, "lead", context={SENDER_TIMEZONE: config.adapters.sender_timezone})


def parse_generic_lead(data: dict[str, Any], config: HandoffConfig) -> Lead:
    """A lead from POST /webhooks/generic. Its credential is shared by every generic sender, so it
    may not speak for an adapter: a source an adapter stamps would take that adapter's lead ids
    (lead_id_for), and so its deliveries."""
    lead = parse_lead(data, config)
    refusal = reserved_source(lead.source)
    if refusal is not None:
        raise BadRequest(
            f"invalid lead: source {refusal}",
            details=[{"field": "source", "message": refusal}],
            code="invalid_lead",
        )
    return lead


def checked_json_body(event: APIGatewayProxyEvent) -> None:
    """For routes whose body the Event Handler has already validated against a model: the size
    limit, and a JSON object (it would otherwise take the first element of an array)."""
    parse_json_object(raw_body(event))
