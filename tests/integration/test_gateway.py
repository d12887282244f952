"""What API Gateway refuses before any function runs, enforced locally from the same definitions
CDK deploys (handoff.deploy.gateway, the route table): same status, same JSON body."""

from __future__ import annotations

import json

import pytest

from handoff.deploy.functions import ROUTES
from handoff.deploy.gateway import LAMBDA_EVENT_MAX_BYTES
from handoff.local.gateway import admit
from tests.conftest import EXAMPLES
from tests.integration.conftest import SECRETS, Aws, rep

HUBSPOT_EVENTS = EXAMPLES / "webhooks" / "hubspot" / "events-mql-and-creation.json"
KEY = SECRETS["HANDOFF_API_KEY"]


def route(method: str, path: str) -> object:
    return next(r for r in ROUTES if (r.method, r.path) == (method, path))


def test_hubspot_webhooks_api_arrays_pass_the_gateway(aws: Aws, hubspot_api: object) -> None:
    """HubSpot's Webhooks API posts a JSON array: a gateway model requiring an object refused
    every delivery with 400 before the function ran."""
    body = HUBSPOT_EVENTS.read_bytes()
    assert isinstance(json.loads(body), list)
    status, answer = aws.post_hubspot(body)
    assert status in {200, 202}, answer
    assert answer.get("error") is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/webhooks/generic", b"[]"),
        ("/webhooks/generic", b'"a string"'),
        ("/webhooks/generic", b"{not json"),
        ("/webhooks/hubspot", b"42"),
        ("/leads/ld_0123456789abcdef01234567/disposition", b"[]"),
    ],
)
def test_a_body_the_model_refuses_is_a_400_in_the_error_contract(aws: Aws, path: str, body: bytes) -> None:
    before = aws.leads_count()
    status, answer = aws.api("POST", path, body, {"Content-Type": "application/json", "x-api-key": KEY})
    assert status == 400
    assert answer["error"] == "invalid_request" and "not JSON of the shape" in answer["message"]
    assert aws.leads_count() == before


def test_models_apply_only_to_json_bodies() -> None:
    """A model is declared for application/json; a SOAP or form body is the function's to judge."""
    salesforce = route("POST", "/webhooks/salesforce")
    assert admit(salesforce, {"Content-Type": "text/xml"}, b"<x/>", lambda: KEY) is None  # type: ignore[arg-type]
    generic = route("POST", "/webhooks/generic")
    assert admit(generic, {"Content-Type": "text/plain"}, b"[]", lambda: KEY) is None  # type: ignore[arg-type]
    refused = admit(generic, {"Content-Type": "application/json; charset=utf-8"}, b"[]", lambda: KEY)  # type: ignore[arg-type]
    assert refused is not None and refused.status == 400


@pytest.mark.parametrize("key", [None, "", "wrong-key", KEY + "x"])
def test_routes_behind_the_api_key_refuse_a_missing_or_wrong_key_at_the_gateway(
    aws: Aws, key: str | None
) -> None:
    headers = {} if key is None else {"x-api-key": key}
    for found in [r for r in ROUTES if r.api_key]:
        refused = admit(found, headers, b"{}", lambda: KEY)
        assert refused is not None, found.path
        assert (refused.status, json.loads(refused.body)["error"]) == (401, "unauthorized")
    status, answer = aws.api("GET", "/reps", headers=headers)
    assert (status, answer["message"]) == (401, "missing or wrong x-api-key header")


def test_the_right_key_passes_and_open_routes_need_none(aws: Aws) -> None:
    aws.put_reps(rep("r1"))
    assert aws.api("GET", "/reps", headers={"x-api-key": KEY})[0] == 200
    assert aws.api("GET", "/health")[0] == 200


def test_a_body_lambda_cannot_take_is_a_413(aws: Aws) -> None:
    body = b'{"pad": "' + b"x" * LAMBDA_EVENT_MAX_BYTES + b'"}'
    status, answer = aws.api("POST", "/webhooks/generic", body, {"Content-Type": "application/json"})
    assert (status, answer["error"]) == (413, "payload_too_large")


def test_an_unknown_path_or_method_is_the_gateways_404() -> None:
    """API Gateway answers these itself (by default a 403 "Missing Authentication Token"); the
    stack's gateway response makes it the contract's 404, and the local front says the same."""
    from handoff.local.gateway import no_route

    refused = no_route()
    assert (refused.status, json.loads(refused.body)["error"]) == (404, "not_found")


def test_each_route_has_its_own_bucket_and_a_burst_past_it_gets_the_gateway_429() -> None:
    from handoff.deploy.functions import ROUTES
    from handoff.local.gateway import Throttles

    now = [0.0]
    throttles = Throttles(clock=lambda: now[0])
    webhook = next(r for r in ROUTES if r.path == "/webhooks/generic")
    reps = next(r for r in ROUTES if r.path == "/reps")
    # A list import's burst: 1,000 deliveries at once are all admitted.
    assert [throttles.take(webhook) for _ in range(1000)] == [None] * 1000
    refused = throttles.take(webhook)
    assert refused is not None and refused.status == 429
    assert json.loads(refused.body) == {
        "error": "throttled",
        "message": "too many requests; retry later",
        "details": [],
    }
    assert throttles.take(reps) is None  # another route's bucket is untouched
    # The bucket refills at the route's rate.
    now[0] += 1.0
    admitted = sum(throttles.take(webhook) is None for _ in range(webhook.throttle.rate + 10))
    assert admitted == webhook.throttle.rate
    # The ops routes stay tight.
    assert sum(throttles.take(reps) is None for _ in range(100)) == reps.throttle.burst  # refilled
