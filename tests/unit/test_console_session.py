"""The console's session rules without AWS: the cookie, the viewer, same-origin, the authorizer's
policy as the local gateway evaluates it, and which tokens the Cognito adapter will even send."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from handoff.aws.cognito import CognitoSessions
from handoff.console.authorizer import role_of
from handoff.console.session import (
    COOKIE,
    cleared_cookie,
    console_base,
    cookie_value,
    same_origin,
    session_cookie,
    viewer,
)
from handoff.deploy.functions import ROUTES
from handoff.errors import Unauthorized
from handoff.local.gateway import Refusal, Session, SessionAuthorizer, policy_allows

ARN = "arn:aws:execute-api:us-east-1:123456789012:api123/prod/GET/console/leads/ld_1"
CONSOLE_ROUTE = next(r for r in ROUTES if r.session and r.method == "GET" and r.path == "/console")


def _policy(
    effect: str, resource: str = "arn:aws:execute-api:us-east-1:123456789012:api123/prod/*/console*"
) -> dict[str, Any]:
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": [resource]}
    return {"principalId": "u1", "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        (f"{COOKIE}=abc", "abc"),
        (f"theme=dark; {COOKIE}=a.b-c_d; other=1", "a.b-c_d"),
        (f"x{COOKIE}=nope", None),
        (f"{COOKIE}=", None),
    ],
)
def test_the_session_cookie_is_read_from_the_cookie_header(header: str | None, expected: str | None) -> None:
    assert cookie_value(header) == expected


def test_the_cookie_is_httponly_secure_strict_and_expires_with_the_token() -> None:
    parts = session_cookie("tok", 3600).split("; ")
    assert parts[0] == f"{COOKIE}=tok"
    assert {"HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=3600"} <= set(parts)
    assert "Max-Age=0" in cleared_cookie().split("; ")


def test_the_viewer_comes_from_the_authorizer_context_only() -> None:
    event = {
        "requestContext": {"authorizer": {"username": "u1", "email": "m@example.com", "role": "manager"}}
    }
    assert viewer(event).role == "manager"
    for context in ({}, {"username": "u1", "email": "m@example.com", "role": "admin"}):
        with pytest.raises(Unauthorized):
            viewer({"requestContext": {"authorizer": context}})


@pytest.mark.parametrize(
    ("origin", "host", "expected"),
    [
        (None, "api.example.com", True),
        ("https://api.example.com", "api.example.com", True),
        ("https://API.example.com", "api.example.com", True),
        ("https://evil.example.com", "api.example.com", False),
        ("null", "api.example.com", False),
        ("https://api.example.com", None, False),
    ],
)
def test_same_origin(origin: str | None, host: str | None, expected: bool) -> None:
    headers = {k: v for k, v in (("Origin", origin), ("Host", host)) if v is not None}
    assert same_origin({"headers": headers}) is expected


def test_links_keep_the_stage_prefix() -> None:
    assert console_base({"path": "/console", "requestContext": {"path": "/prod/console"}}) == "/prod"
    assert console_base({"path": "/console", "requestContext": {"path": "/console"}}) == ""


def test_revops_wins_over_manager() -> None:
    assert role_of(["manager", "revops"]) == "revops"
    assert role_of(["manager", "sales"]) == "manager"
    assert role_of(["sales"]) is None


def test_policy_evaluation_deny_wins_and_nothing_matching_is_a_deny() -> None:
    assert policy_allows(_policy("Allow"), ARN)
    assert not policy_allows(_policy("Deny"), ARN)
    assert not policy_allows(
        _policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:other-api/prod/*/console*"), ARN
    )
    both = _policy("Allow")
    both["policyDocument"]["Statement"] += _policy("Deny")["policyDocument"]["Statement"]
    assert not policy_allows(both, ARN)


def _event(cookie: str | None = None) -> dict[str, Any]:
    headers = {"Cookie": cookie} if cookie else {}
    return {"path": "/console", "httpMethod": "GET", "headers": headers, "requestContext": {}}


def test_the_local_gateway_answers_as_api_gateway_does() -> None:
    local = "arn:aws:execute-api:us-east-1:123456789012:local/local/*/console*"
    answers: dict[str, Any] = {"allow": _policy("Allow", local), "deny": _policy("Deny", local)}

    def invoke(event: dict[str, Any]) -> Any:
        token = cookie_value(event["headers"]["Cookie"])
        if token == "broken":
            raise RuntimeError("cognito down")
        if token not in answers:
            raise Exception("Unauthorized")
        return {**answers[token], "context": {"role": "revops"}}

    gate = SessionAuthorizer(invoke, region="us-east-1", account="123456789012")
    expected = {None: 303, "bad": 303, "deny": 403, "broken": 503}  # 303: to the sign-in page
    for token, status in expected.items():
        refused = gate.check(CONSOLE_ROUTE, _event(f"{COOKIE}={token}" if token else None))
        assert isinstance(refused, Refusal) and refused.status == status, token
        assert json.loads(refused.body)["error"] in {"unauthorized", "forbidden", "unavailable"}
    admitted = gate.check(CONSOLE_ROUTE, _event(f"{COOKIE}=allow"))
    assert isinstance(admitted, Session)
    assert admitted.authorizer == {"role": "revops", "principalId": "u1"}


def _token(claims: dict[str, Any]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{payload}.signature"


class _NoCalls:
    def get_user(self, **kwargs: Any) -> Any:
        raise AssertionError("a token from elsewhere must not reach Cognito")


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        _token(
            {"client_id": "other-client", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"}
        ),
        _token({"client_id": "client", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}),
        _token({"client_id": "client"}),
    ],
)
def test_tokens_from_another_pool_or_client_are_refused_before_cognito(token: str) -> None:
    with pytest.raises(Unauthorized):
        CognitoSessions(_NoCalls(), "us-east-1_pool", "client").user(token)
