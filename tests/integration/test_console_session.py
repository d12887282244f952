"""The console's sign-in, session cookie, authorizer and CSRF on moto's Cognito, through the same
handlers and local gateway the stack runs (the console and console_auth functions, in-process)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from handoff.console.session import CONSOLE_HEADERS, COOKIE, csrf_token, viewer
from handoff.deploy.functions import CONSOLE, CONSOLE_AUTH, ROUTES
from handoff.deploy.gateway import CONSOLE_AUTH_CACHE_SECONDS
from handoff.local import lambdas
from handoff.local.console_users import REVOPS_USER, ConsoleUser, create_users
from handoff.local.gateway import Refusal, Session, SessionAuthorizer
from handoff.local.http_front import build_event, match
from tests.integration.conftest import Aws, rep

HOST = "handoff.test"


@pytest.fixture(scope="module")
def users(shared_aws: Aws) -> Iterator[dict[str, ConsoleUser]]:
    made = create_users(os.environ["HANDOFF_USER_POOL_ID"], [rep("r1", manager_email="boss@example.com")])
    yield {u.role: u for u in made}


def _event(method: str, path: str, *, form: dict[str, str] | None = None, **headers: str) -> dict[str, Any]:
    found = match(method, path)
    assert found, (method, path)
    route, params = found
    body = urlencode(form).encode() if form is not None else b""
    sent = {"Host": HOST, "Content-Type": "application/x-www-form-urlencoded", **headers}
    return build_event(route, params=params, method=method, raw_path=path, headers=sent, body=body)


def _console(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = lambdas.invoke(CONSOLE, event)
    return result


def _headers(result: dict[str, Any]) -> dict[str, str]:
    """The response's headers (Powertools answers a REST API in multiValueHeaders)."""
    multi = {k: ", ".join(v) for k, v in (result.get("multiValueHeaders") or {}).items()}
    return {**(result.get("headers") or {}), **multi}


def _set_cookie(result: dict[str, Any]) -> str:
    return _headers(result).get("Set-Cookie", "")


def _sign_in(user: ConsoleUser) -> str:
    result = _console(
        _event("POST", "/console/login", form={"username": user.username, "password": user.password})
    )
    assert result["statusCode"] == 303, result["body"]
    cookie = _set_cookie(result)
    return cookie.split(";", 1)[0]  # "handoff_console=<token>"


def _authorize(cookie: str, path: str = "/console") -> dict[str, Any]:
    event = _event("GET", path, Cookie=cookie)
    arn = f"arn:aws:execute-api:us-east-1:123456789012:api123/prod/GET{path}"
    result: dict[str, Any] = lambdas.invoke(
        CONSOLE_AUTH, {"type": "REQUEST", "methodArn": arn, **{k: event[k] for k in ("headers", "path")}}
    )
    return result


def test_sign_in_sets_a_strict_session_cookie_and_lands_on_the_console(users: dict[str, ConsoleUser]) -> None:
    result = _console(
        _event(
            "POST",
            "/console/login",
            form={"username": users["revops"].username, "password": users["revops"].password},
        )
    )
    assert result["statusCode"] == 303
    headers = _headers(result)
    assert headers["Location"] == "/console"
    cookie = _set_cookie(result)
    assert cookie.startswith(f"{COOKIE}=ey")
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=3600"):
        assert attribute in cookie.split("; "), cookie
    for name, value in CONSOLE_HEADERS.items():
        assert headers[name] == value


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_wrong_credentials_get_the_form_again_with_a_clear_message(
    users: dict[str, ConsoleUser], password: str
) -> None:
    for username in (users["revops"].username, "nobody@example.com"):
        result = _console(_event("POST", "/console/login", form={"username": username, "password": password}))
        assert result["statusCode"] in (400, 401)
        assert not _set_cookie(result)
        assert (
            "Sign-in failed: wrong username or password." in result["body"]
            or "Enter your email" in result["body"]
        )
        assert 'name="password"' in result["body"]


def test_a_first_sign_in_sets_a_new_password(shared_aws: Aws) -> None:
    """Users an administrator creates start with a temporary password: the page asks for a new one."""
    cognito = boto3.client("cognito-idp")
    pool = os.environ["HANDOFF_USER_POOL_ID"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username="new.manager@example.com",
        TemporaryPassword="Temporary-pass-1",
        MessageAction="SUPPRESS",
    )
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="new.manager@example.com", GroupName="manager")
    form = {"username": "new.manager@example.com", "password": "Temporary-pass-1"}
    challenge = _console(_event("POST", "/console/login", form=form))
    assert challenge["statusCode"] == 200 and 'name="new_password"' in challenge["body"]
    assert not _set_cookie(challenge)
    session = challenge["body"].split('name="session" value="', 1)[1].split('"', 1)[0]
    step = {"username": "new.manager@example.com", "session": session, "new_password": "Chosen-pass-123!"}
    mismatch = _console(_event("POST", "/console/login", form={**step, "confirm_password": "other"}))
    assert mismatch["statusCode"] == 400 and "differ" in mismatch["body"]
    done = _console(_event("POST", "/console/login", form={**step, "confirm_password": "Chosen-pass-123!"}))
    assert done["statusCode"] == 303 and _set_cookie(done).startswith(f"{COOKIE}=")


def test_the_authorizer_allows_console_methods_with_the_viewer_in_context(
    users: dict[str, ConsoleUser],
) -> None:
    for role, user in users.items():
        answer = _authorize(_sign_in(user))
        assert answer["principalId"] == answer["context"]["username"]
        assert answer["context"]["email"] == user.username
        assert answer["context"]["role"] == role
        assert all(isinstance(v, str) for v in answer["context"].values())
        [statement] = answer["policyDocument"]["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:api123/prod/*/console*"]


def test_revops_wins_over_manager_and_no_group_is_a_deny(users: dict[str, ConsoleUser]) -> None:
    cognito = boto3.client("cognito-idp")
    pool = os.environ["HANDOFF_USER_POOL_ID"]
    both = ConsoleUser("both@example.com", "Both-password-1", "revops")
    nobody = ConsoleUser("nogroup@example.com", "Nogroup-password-1", "")
    for user in (both, nobody):
        cognito.admin_create_user(UserPoolId=pool, Username=user.username, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=pool, Username=user.username, Password=user.password, Permanent=True
        )
    for group in ("manager", "revops"):
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=both.username, GroupName=group)
    assert _authorize(_sign_in(both))["context"]["role"] == "revops"
    denied = _authorize(_sign_in(nobody))
    assert "context" not in denied
    assert [s["Effect"] for s in denied["policyDocument"]["Statement"]] == ["Deny"]


@pytest.mark.parametrize(
    "cookie",
    [
        "",
        "other=1",
        f"{COOKIE}=",
        f"{COOKIE}=garbage",
        f"{COOKIE}=a.b.c",
        f"{COOKIE}=eyJhbGciOiJIUzI1NiJ9.e30.x",
    ],
)
def test_no_or_a_forged_session_is_unauthorized(users: dict[str, ConsoleUser], cookie: str) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        _authorize(cookie)


def test_a_tampered_token_is_unauthorized(users: dict[str, ConsoleUser]) -> None:
    cookie = _sign_in(users["revops"])
    head, payload, signature = cookie.split(".")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        _authorize(f"{head}.{payload}.{signature[::-1]}")


def test_the_local_gateway_applies_the_authorizer_and_caches_its_answer(
    users: dict[str, ConsoleUser],
) -> None:
    calls: list[dict[str, Any]] = []
    now = [0.0]

    def invoke(event: dict[str, Any]) -> Any:
        calls.append(event)
        return lambdas.invoke(CONSOLE_AUTH, event)

    gate = SessionAuthorizer(invoke, region="us-east-1", account="123456789012", clock=lambda: now[0])
    route = next(r for r in ROUTES if (r.method, r.path) == ("GET", "/console/leads/{lead_id}"))
    refused = gate.check(route, _event("GET", "/console/leads/ld_1"))
    # No cookie: off to the sign-in page, and the authorizer is not called.
    assert isinstance(refused, Refusal) and refused.status == 303 and not calls
    assert refused.headers["Location"] == "/console/login"
    cookie = _sign_in(users["manager"])
    admitted = gate.check(route, _event("GET", "/console/leads/ld_1", Cookie=cookie))
    assert isinstance(admitted, Session)
    assert admitted.authorizer["role"] == "manager" and admitted.authorizer["principalId"]
    assert calls[0]["type"] == "REQUEST" and calls[0]["methodArn"].endswith("/GET/console/leads/ld_1")
    # Cached per Cookie header, for every console method, until the TTL runs out.
    assert isinstance(gate.check(route, _event("GET", "/console/leads/ld_2", Cookie=cookie)), Session)
    assert len(calls) == 1
    now[0] += CONSOLE_AUTH_CACHE_SECONDS + 1
    assert isinstance(gate.check(route, _event("GET", "/console/leads/ld_2", Cookie=cookie)), Session)
    assert len(calls) == 2
    forged = gate.check(route, _event("GET", "/console/leads/ld_1", Cookie=f"{COOKIE}=forged"))
    assert isinstance(forged, Refusal) and forged.status == 303


def test_viewer_and_csrf_token_on_an_admitted_request(users: dict[str, ConsoleUser]) -> None:
    cookie = _sign_in(users["revops"])
    event = _event("GET", "/console", Cookie=cookie)
    event["requestContext"]["authorizer"] = _authorize(cookie)["context"]
    assert viewer(event).role == "revops" and viewer(event).email == REVOPS_USER
    with lambdas_scope():
        token = csrf_token(event)
        other = csrf_token(_event("GET", "/console", Cookie=_sign_in(users["manager"])))
    assert len(token) == 64 and token != other


def test_logout_needs_the_csrf_token_then_revokes_the_session(users: dict[str, ConsoleUser]) -> None:
    cookie = _sign_in(users["manager"])
    context = _authorize(cookie)["context"]

    def logout(**form: str) -> dict[str, Any]:
        event = _event("POST", "/console/logout", form=form, Cookie=cookie, Origin=f"https://{HOST}")
        event["requestContext"]["authorizer"] = context
        return _console(event)

    assert logout()["statusCode"] == 403
    assert logout(csrf="0" * 64)["statusCode"] == 403
    with lambdas_scope():
        token = csrf_token(_event("GET", "/console", Cookie=cookie))
    cross_site = _event(
        "POST", "/console/logout", form={"csrf": token}, Cookie=cookie, Origin="https://evil.test"
    )
    cross_site["requestContext"]["authorizer"] = context
    assert _console(cross_site)["statusCode"] == 403
    done = logout(csrf=token)
    assert done["statusCode"] == 303 and _headers(done)["Location"] == "/console/login"
    cleared = _set_cookie(done)
    assert cleared.startswith(f"{COOKIE}=;") and "Max-Age=0" in cleared
    with pytest.raises(Exception, match=r"^Unauthorized$"):  # GlobalSignOut revoked the token
        _authorize(cookie)


def lambdas_scope() -> Any:
    """Run as the console function (csrf_token reads the console's secret)."""
    from handoff.deploy.settings import function_scope

    return function_scope(CONSOLE)
