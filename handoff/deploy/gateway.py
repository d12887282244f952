"""What API Gateway itself enforces before a function runs, defined once.

CDK deploys these (request models, gateway responses, the payload limit) and the local
front applies the same definitions, so a request the real gateway refuses is refused
locally with the same status and body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Request models are JSON Schema draft 4, applied only to the content type they are declared
# for. They check the body's shape; the functions validate every field and name it.
JSON_OBJECT: dict[str, Any] = {"type": "object"}
# HubSpot's Webhooks API posts a JSON array of events; its workflow webhooks post an object.
JSON_OBJECT_OR_ARRAY: dict[str, Any] = {"type": ["object", "array"]}
MODEL_CONTENT_TYPE = "application/json"

# API Gateway refuses a request over 10 MB itself (413). A Lambda proxy event is limited to
# 6 MB, and the handlers refuse far less (Settings.max_body_bytes), so no body between the
# limits reaches a function either: the front answers 413 for it too.
GATEWAY_MAX_BYTES = 10 * 1024 * 1024
LAMBDA_EVENT_MAX_BYTES = 6 * 1024 * 1024

# The template variable API Gateway substitutes with the error's message as a JSON string
# literal, quotes included. Gateway-response templates do simple substitution only (no VTL, no
# escaping), so a variable that is not already a JSON literal cannot be embedded safely:
# $context.error.validationErrorString, for one, carries unescaped quotes.
MESSAGE_STRING = "$context.error.messageString"


@dataclass(frozen=True)
class Throttle:
    """API Gateway's token bucket for one method: ``burst`` requests at once, refilled at
    ``rate`` per second. Past it the gateway answers 429 before any function runs."""

    rate: int
    burst: int


# Webhooks take a burst: a list import or a webinar follow-up turns 1,000 contacts into MQLs
# within seconds, and a sender's webhook step (Marketo's) may not retry a 429. The account's
# regional limit (10,000/s, burst 5,000) sits above this; Lambda concurrency and the Step
# Functions StartExecution bucket sit below it (docs/deploy.md says which quotas to raise).
WEBHOOK_THROTTLE = Throttle(rate=500, burst=1000)
# The brief's one-click links: one person at a time.
LINK_THROTTLE = Throttle(rate=50, burst=100)
# The ops API (x-api-key) and the rest: tight, as the usage plan is.
OPS_THROTTLE = Throttle(rate=20, burst=40)
# The ops console: a person at a time clicking through pages.
CONSOLE_THROTTLE = Throttle(rate=20, burst=40)

# How long API Gateway keeps the console authorizer's answer for one Cookie header (its
# identity source). CDK sets it on the authorizer and the local front caches for as long, so a
# revoked session or a removed group takes effect within this time in both.
CONSOLE_AUTH_CACHE_SECONDS = 300


# What a 503 from the gateway asks a sender to wait before its next try.
RETRY_AFTER_SECONDS = 5
# API Gateway's integration timeout for a REST API: past it the sender gets INTEGRATION_TIMEOUT.
INTEGRATION_TIMEOUT_SECONDS = 29


@dataclass(frozen=True)
class GatewayResponse:
    """One gateway response type: its status, Handoff's error code and its message."""

    response_type: str  # apigateway ResponseType name
    # The status sent; None keeps API Gateway's own per type (DEFAULT_4XX covers several).
    status: int | None
    code: str
    # A JSON string literal, or MESSAGE_STRING to pass on API Gateway's own message.
    message: str
    # Where a browser is sent instead (the Location header, a path under the API's base URL).
    location: str | None = None
    # Seconds a sender should wait before trying again (the Retry-After header).
    retry_after: int | None = None

    def headers(self, base: str = "") -> dict[str, str]:
        """The headers it adds; ``base`` prefixes a Location (the stage, on an execute-api URL)."""
        added = {"Location": f"{base}{self.location}"} if self.location else {}
        return {**added, **({"Retry-After": str(self.retry_after)} if self.retry_after else {})}

    @property
    def template(self) -> str:
        """The application/json body template, in Handoff's error contract."""
        return f'{{"error": {json.dumps(self.code)}, "message": {self.message}, "details": []}}'

    def render(self, message_string: str) -> bytes:
        """The body API Gateway sends: the template with its one variable substituted."""
        return self.template.replace(MESSAGE_STRING, json.dumps(message_string)).encode()


GATEWAY_RESPONSES = {
    r.response_type: r
    for r in (
        # One response for the whole API, so it names every shape a route's model admits.
        GatewayResponse(
            "BAD_REQUEST_BODY",
            400,
            "invalid_request",
            json.dumps(
                "the body is not JSON of the shape this route takes: a JSON object "
                "(on /webhooks/hubspot, an object or an array of events)"
            ),
        ),
        GatewayResponse("REQUEST_TOO_LARGE", 413, "payload_too_large", MESSAGE_STRING),
        GatewayResponse("THROTTLED", 429, "throttled", json.dumps("too many requests; retry later")),
        # A missing or wrong x-api-key on a route that requires one: 401, as the function itself
        # answers it (API Gateway's own default would be 403).
        GatewayResponse(
            "INVALID_API_KEY", 401, "unauthorized", json.dumps("missing or wrong x-api-key header")
        ),
        # No resource, or no method on it: API Gateway's default is a 403 "Missing Authentication
        # Token", which misleads; the contract's 404 says what happened.
        GatewayResponse(
            "MISSING_AUTHENTICATION_TOKEN",
            404,
            "not_found",
            json.dumps("no such route for this method and path"),
        ),
        # The console's session routes: no Cookie header (the authorizer's identity source) or a
        # session the authorizer refuses (expired, signed out) sends the browser to the sign-in
        # page, with the error in the body for anything else; a valid session without a console
        # group is a 403. Only the console's authorizer answers UNAUTHORIZED (a wrong x-api-key
        # is INVALID_API_KEY), so no other route redirects.
        GatewayResponse(
            "UNAUTHORIZED",
            303,
            "unauthorized",
            json.dumps("sign in at /console/login to use the console"),
            location="/console/login",
        ),
        GatewayResponse(
            "ACCESS_DENIED",
            403,
            "forbidden",
            json.dumps("this account is in neither the revops nor the manager group"),
        ),
        # The authorizer itself failed (Cognito unreachable): API Gateway's 500, made a retryable 503.
        GatewayResponse(
            "AUTHORIZER_FAILURE", 503, "unavailable", json.dumps("the session check failed; retry")
        ),
        # The function could not be reached or answered too late: Lambda's concurrency is spent
        # (a burst past the account's limit, which API Gateway would answer with a bare 500 or
        # 504), or the 29 s integration timeout passed. Nothing was stored, or the delivery's
        # event id makes a retry harmless, so both say "retry" as CRMs understand it: a 503.
        GatewayResponse(
            "INTEGRATION_FAILURE",
            503,
            "unavailable",
            json.dumps("Handoff is at capacity; retry this delivery"),
            retry_after=RETRY_AFTER_SECONDS,
        ),
        GatewayResponse(
            "INTEGRATION_TIMEOUT",
            503,
            "unavailable",
            json.dumps("Handoff did not answer in time; retry this delivery"),
            retry_after=RETRY_AFTER_SECONDS,
        ),
        GatewayResponse("DEFAULT_4XX", None, "bad_request", MESSAGE_STRING),
    )
}
