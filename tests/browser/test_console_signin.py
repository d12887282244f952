"""Signing in to the console, and no access without a session, in a real browser."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from handoff.console.session import COOKIE
from handoff.deploy.functions import ROUTES
from tests.browser.conftest import Console, sign_in

SESSION_ROUTES = [r for r in ROUTES if r.session]
SAMPLE_PARAMS = {"lead_id": "ld_0123456789abcdef01234567", "rep_id": "rep-ana"}


def _path(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMS[m.group(1)], template)


def _session_cookie(page: Any) -> dict[str, Any] | None:
    return next((c for c in page.context.cookies() if c["name"] == COOKIE), None)


def _csrf(page: Any) -> str:
    value: str = page.locator("form[action$='/console/logout'] input[name=csrf]").input_value()
    return value


@pytest.mark.parametrize("role", ["revops", "manager"])
def test_sign_in_lands_on_the_console_with_a_strict_session_cookie(
    console: Console, signed_in: Callable[..., Any], role: str
) -> None:
    page = signed_in(role)
    assert page.url == f"{console.url}/console"
    nav = page.get_by_role("navigation", name="Console")
    for link in ("Now", "Reps", "Route what-if", "Results"):
        assert nav.get_by_role("link", name=link).is_visible()
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert page.get_by_text(f"{console.user(role).username} ({role})").is_visible()
    cookie = _session_cookie(page)
    assert cookie is not None
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (
        True,
        True,
        "Strict",
        "/",
    )
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read the session


def test_a_wrong_password_shows_a_clear_message(console: Console, new_page: Callable[[], Any]) -> None:
    page = new_page()
    page.goto("/console/login")
    user = console.user("revops")
    for username in (user.username, "nobody@example.com"):
        page.get_by_label("Email").fill(username)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
        alert = page.get_by_role("alert")
        assert alert.inner_text() == "Sign-in failed: wrong username or password."
        assert page.url.endswith("/console/login")
        assert page.get_by_label("Email").input_value() == username  # kept, the password not
        assert page.get_by_label("Password").input_value() == ""
    assert _session_cookie(page) is None


def test_the_login_page_is_labelled_and_sent_with_the_security_headers(new_page: Callable[[], Any]) -> None:
    page = new_page()
    response = page.goto("/console/login")
    assert response is not None and response.status == 200
    headers = response.headers
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    for field in page.locator("input:not([type=hidden])").all():
        assert page.locator(f"label[for='{field.get_attribute('id')}']").count() == 1


@pytest.mark.parametrize(
    "cookie",
    [None, f"{COOKIE}=garbage", f"{COOKIE}=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.forged", "other=1"],
    ids=["no-cookie", "garbage", "forged-jwt", "unrelated-cookie"],
)
def test_signed_out_every_session_route_is_refused_with_no_data(
    console: Console, new_page: Callable[[], Any], cookie: str | None
) -> None:
    request = new_page().request
    headers = {"Cookie": cookie} if cookie else {}
    for route in SESSION_ROUTES:
        response = request.fetch(
            f"{console.url}{_path(route.path)}",
            method=route.method,
            headers=headers,
            form={"csrf": "x"} if route.method == "POST" else None,
            max_redirects=0,
        )
        # The gateway's answer, sent to the sign-in page: nothing of the console's.
        assert response.status == 303, (route.method, route.path, response.status)
        assert response.headers["location"] == "/console/login", route.path
        body = json.loads(response.body())
        assert body["error"] == "unauthorized", route.path
        assert set(body) == {"error", "message", "details"}  # the gateway's answer, nothing else


def test_a_browser_signed_out_cannot_open_a_console_page(new_page: Callable[[], Any]) -> None:
    page = new_page()
    response = page.goto("/console/reps")
    assert response is not None and response.status == 200
    assert re.search(r"/console/login$", page.url)  # sent to sign in
    assert page.get_by_label("Password").count() == 1
    assert "rep-ana" not in page.content()


def test_sign_out_ends_the_session(console: Console, signed_in: Callable[..., Any]) -> None:
    page = signed_in("manager")
    token = _session_cookie(page)["value"]  # type: ignore[index]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/console/login$"))
    assert _session_cookie(page) is None
    page.goto("/console")
    assert re.search(r"/console/login$", page.url)  # the browser holds no session
    # Revoked in Cognito too: the old token no longer opens a session anywhere.
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=console.aws_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=token)
    # And signing in again works.
    sign_in(page, console.user("manager"))


def test_a_post_without_the_sessions_csrf_token_is_refused(
    console: Console, signed_in: Callable[..., Any]
) -> None:
    page = signed_in("revops")
    token = _csrf(page)
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    for path in ("/console/logout", f"/console/reps/{SAMPLE_PARAMS['rep_id']}", "/console/route"):
        for form in ({}, {"csrf": ""}, {"csrf": "0" * 64}, {"csrf": token[:-1] + "x"}):
            response = page.request.post(f"{console.url}{path}", form=form, max_redirects=0)
            assert response.status == 403, (path, form, response.status)
    # The right token from another site is refused too.
    forged = page.request.post(
        f"{console.url}/console/logout",
        form={"csrf": token},
        headers={"Origin": "https://evil.example"},
        max_redirects=0,
    )
    assert forged.status == 403
    # Nothing above ended the session.
    assert page.goto("/console").status == 200  # type: ignore[union-attr]
