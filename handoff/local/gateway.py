"""API Gateway's own checks, applied locally before a function runs.

The rules come from handoff.deploy.gateway and handoff.deploy.functions.ROUTES, the definitions CDK
deploys: each method's throttle, the payload limit, the API key on routes that require one,
and the request model of each JSON body. A request the real gateway refuses never reaches a handler here
either, and gets the same status and body.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from handoff.deploy.functions import Route
from handoff.deploy.gateway import (
    GATEWAY_MAX_BYTES,
    GATEWAY_RESPONSES,
    LAMBDA_EVENT_MAX_BYTES,
    MODEL_CONTENT_TYPE,
)


@dataclass(frozen=True)
class Refusal:
    status: int
    body: bytes
    headers: Mapping[str, str]


def _refuse(response_type: str, message_string: str) -> Refusal:
    response = GATEWAY_RESPONSES[response_type]
    assert response.status is not None, f"{response_type} has no status of its own"  # noqa: S101
    return Refusal(
        response.status,
        response.render(message_string),
        {"Content-Type": "application/json", "x-amzn-ErrorType": response_type},
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def admit(
    route: Route, headers: Mapping[str, str], body: bytes, api_key: Callable[[], str]
) -> Refusal | None:
    """None when API Gateway would pass the request to the function; else its answer.
    ``api_key`` gives the usage plan's key (read only for routes that need it)."""
    too_large = size_refusal(len(body))
    if too_large is not None:
        return too_large
    if route.api_key:
        sent = _header(headers, "x-api-key") or ""
        if not sent or not hmac.compare_digest(sent.encode(), api_key().encode()):
            return _refuse("INVALID_API_KEY", "Forbidden")
    json_body = _is_json(_header(headers, "content-type"))
    if route.body_model is not None and json_body and not _matches(route.body_model, body):
        return _refuse("BAD_REQUEST_BODY", "Invalid request body")
    return None


class Throttles:
    """API Gateway's per-method token buckets, from the routes' own Throttle: a burst past the
    bucket gets the gateway's 429 before any function runs. ``clock`` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # method key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, route: Route) -> Refusal | None:
        limit, now = route.throttle, self._clock()
        with self._lock:
            tokens, at = self._buckets.get(route.method_key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - at) * limit.rate)
            if tokens < 1:
                self._buckets[route.method_key] = (tokens, now)
                return _refuse("THROTTLED", "Too Many Requests")
            self._buckets[route.method_key] = (tokens - 1, now)
        return None


def no_route() -> Refusal:
    """A path, or a method on it, that no route serves: API Gateway answers before any function
    (it has no 405; the method list is in the OpenAPI document)."""
    return _refuse("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")


def size_refusal(length: int) -> Refusal | None:
    """The payload limit, checkable from Content-Length before reading the body. The gateway's
    limit is 10 MB, but a synchronous Lambda event is at most 6 MB, so a body in between cannot
    reach the function either. (In AWS that range fails the invocation; the handlers' own limit
    is far lower, so no real sender comes near it.)"""
    if length > min(GATEWAY_MAX_BYTES, LAMBDA_EVENT_MAX_BYTES):
        return _refuse("REQUEST_TOO_LARGE", "Request Too Long")
    return None


def _is_json(content_type: str | None) -> bool:
    """API Gateway picks a model by media type; with no Content-Type it assumes JSON."""
    media_type = (content_type or MODEL_CONTENT_TYPE).split(";", maxsplit=1)[0].strip().lower()
    return media_type == MODEL_CONTENT_TYPE


def _matches(schema: Mapping[str, object], body: bytes) -> bool:
    from jsonschema import Draft4Validator  # the draft API Gateway models are written in

    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return bool(Draft4Validator(schema).is_valid(document))
