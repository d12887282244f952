"""API Gateway's own checks, applied locally before a function runs.

The rules come from handoff.deploy.gateway and handoff.deploy.functions.ROUTES, the definitions CDK
deploys: each method's throttle, the payload limit, the API key on routes that require one,
the request model of each JSON body, and the console's session authorizer on its session routes.
A request the real gateway refuses never reaches a handler here either, and gets the same status
and body.
"""

from __future__ import annotations

import fnmatch
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from handoff.deploy.functions import Route
from handoff.deploy.gateway import (
    CONSOLE_AUTH_CACHE_SECONDS,
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
        {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": response_type,
            **response.headers(),
        },
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


def integration_timeout() -> Refusal:
    """The function did not answer within API Gateway's integration timeout."""
    return _refuse("INTEGRATION_TIMEOUT", "Endpoint request timed out")


def integration_failure() -> Refusal:
    """The function could not be invoked: Lambda's concurrency is spent."""
    return _refuse("INTEGRATION_FAILURE", "Internal server error")


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


# The local API's id and stage in method ARNs (the deployed ones are the real API's).
LOCAL_API_ID = "local"
LOCAL_STAGE = "local"


def method_arn(route: Route, path: str, region: str, account: str) -> str:
    return f"arn:aws:execute-api:{region}:{account}:{LOCAL_API_ID}/{LOCAL_STAGE}/{route.method}/{path.lstrip('/')}"


def authorizer_event(route: Route, arn: str, proxy_event: Mapping[str, Any]) -> dict[str, Any]:
    """A REST API Lambda authorizer's REQUEST event: the request's parameters and context."""
    keys = (
        "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
        "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext",
    )  # fmt: skip
    return {"type": "REQUEST", "methodArn": arn, **{key: proxy_event.get(key) for key in keys}}


def policy_allows(policy: Mapping[str, Any], arn: str) -> bool:
    """IAM's evaluation of the authorizer's policy for one method: an explicit Deny wins, then
    an Allow; anything else is denied."""
    allowed = False
    for statement in (policy.get("policyDocument") or {}).get("Statement", []):
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(arn, r) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


@dataclass(frozen=True)
class Session:
    """An admitted session: what API Gateway puts in the event's requestContext.authorizer."""

    authorizer: dict[str, Any]


class SessionAuthorizer:
    """API Gateway's Lambda REQUEST authorizer for the routes marked ``session``: no Cookie
    header is a 401 without calling the function; otherwise the function's policy, cached per
    Cookie header for CONSOLE_AUTH_CACHE_SECONDS, admits the request or refuses it (Deny: 403;
    ``Exception("Unauthorized")``: 401; any other failure: AUTHORIZER_FAILURE).

    ``invoke`` runs the authorizer function on an event; ``clock`` is injectable for tests."""

    def __init__(
        self,
        invoke: Callable[[dict[str, Any]], Any],
        *,
        region: str,
        account: str,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = CONSOLE_AUTH_CACHE_SECONDS,
    ) -> None:
        self._invoke = invoke
        self._region, self._account = region, account
        self._clock, self._ttl = clock, ttl
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}  # Cookie header -> (at, policy)
        self._lock = threading.Lock()

    def check(self, route: Route, proxy_event: Mapping[str, Any]) -> Session | Refusal:
        cookie = _header(proxy_event.get("headers") or {}, "cookie")
        if not cookie:
            return _refuse("UNAUTHORIZED", "Unauthorized")
        arn = method_arn(route, str(proxy_event.get("path") or ""), self._region, self._account)
        policy = self._policy(cookie, route, arn, proxy_event)
        if isinstance(policy, Refusal):
            return policy
        if not policy_allows(policy, arn):
            return _refuse("ACCESS_DENIED", "User is not authorized to access this resource")
        context = {str(k): v for k, v in (policy.get("context") or {}).items()}
        return Session({**context, "principalId": policy.get("principalId")})

    def _policy(
        self, cookie: str, route: Route, arn: str, proxy_event: Mapping[str, Any]
    ) -> dict[str, Any] | Refusal:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(cookie)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            policy = self._invoke(authorizer_event(route, arn, proxy_event))
        except Exception as exc:
            if str(exc) == "Unauthorized":  # the authorizer's documented 401; not cached
                return _refuse("UNAUTHORIZED", "Unauthorized")
            return _refuse("AUTHORIZER_FAILURE", "Authorizer error")
        if not isinstance(policy, dict) or "policyDocument" not in policy:
            return _refuse("AUTHORIZER_FAILURE", "Authorizer error")
        with self._lock:
            self._cache[cookie] = (now, policy)
        return policy
