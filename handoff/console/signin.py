"""The console's sign-in page, its form and sign-out: each takes the Powertools event
(``app.current_event``) and returns a ``Response``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from handoff.console.render import html_page
from handoff.console.session import (
    CONSOLE_HEADERS,
    SignIn,
    check_csrf,
    cleared_cookie,
    console_base,
    same_origin,
    set_new_password,
    sign_in,
    sign_out,
)
from handoff.console.views import form as read_form
from handoff.errors import BadRequest, StorageError, Unauthorized
from handoff.observability import logger

# Cognito's own limits on a username and a password.
MAX_USERNAME = 128
MAX_PASSWORD = 256


def _login(event: Any, status: int, **context: Any) -> Response[str]:
    page = {"challenge": "", "error": "", "notice": "", "username": "", **context}
    return html_page(status, "login.html", base=console_base(event), **page)


def _redirect(location: str, cookie: str) -> Response[str]:
    # 303: the browser follows with a GET, so a reload never re-posts the password.
    return Response(status_code=303, headers={**CONSOLE_HEADERS, "Location": location, "Set-Cookie": cookie})


def login_page(event: Any) -> Response[str]:
    """GET /console/login: the sign-in form."""
    return _login(event, 200)


def login_submit(event: Any) -> Response[str]:
    """POST /console/login: a password (or a first sign-in's new one) to a session cookie."""
    if not same_origin(event):
        return _login(event, 403, error="This form was posted from another site.")
    form = read_form(event, strip=False)
    username = form.get("username", "").strip()[:MAX_USERNAME]
    try:
        outcome = _attempt(form, username)
    except Unauthorized as exc:
        # The same words for a wrong password and an unknown user.
        logger.info("console sign-in refused")
        return _login(event, 401, error=f"Sign-in failed: {exc.message}.", username=username)
    except BadRequest as exc:
        return _login(event, 400, error=exc.message, challenge=form.get("session", ""), username=username)
    except StorageError:
        logger.exception("console sign-in: Cognito unavailable")
        return _login(event, 503, error="Sign-in is unavailable right now; try again in a minute.")
    if outcome.challenge:
        return _login(event, 200, challenge=outcome.session, username=outcome.username)
    assert outcome.cookie is not None  # noqa: S101 - a SignIn without a challenge has a session
    logger.info("console sign-in")
    return _redirect(f"{console_base(event)}/console", outcome.cookie)


def _attempt(form: dict[str, str], username: str) -> SignIn:
    if form.get("session"):
        return _new_password(form, username)
    password = form.get("password", "")
    if not username or not password:
        raise BadRequest("Enter your email and password.")
    return sign_in(username, password[:MAX_PASSWORD])


def _new_password(form: dict[str, str], username: str) -> SignIn:
    new_password = form.get("new_password", "")
    if not new_password or new_password != form.get("confirm_password", ""):
        raise BadRequest("The two new passwords differ; type the same one twice.")
    return set_new_password(username, form["session"], new_password[:MAX_PASSWORD])


def logout(event: Any) -> Response[str]:
    """POST /console/logout: revoke the session (best effort) and clear the cookie."""
    check_csrf(event, read_form(event, strip=False).get("csrf"))
    sign_out(event)
    return _redirect(f"{console_base(event)}/console/login", cleared_cookie())
