"""The ops console's sign-in, session cookie, signed-in viewer and CSRF tokens.

A session is the Cognito access token in an HttpOnly, Secure, SameSite=Strict cookie. The
authorizer (handoff.console.authorizer) checks it on every console route and hands the viewer to
the console function in the request context. Forms carry a CSRF token: an HMAC of the session
cookie under the console-csrf secret, so it needs no storage and dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from pydantic import BaseModel, ConfigDict, ValidationError

from handoff.aws.cognito import NEW_PASSWORD_REQUIRED, Challenge, Tokens
from handoff.deploy import credentials
from handoff.errors import Forbidden, Unauthorized
from handoff.observability import logger

COOKIE = "handoff_console"
# Every console response: never cached, never framed, no referrer off-site, nothing loaded but
# inline styles and our own images, forms posting only to us.
CONSOLE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
Role = Literal["revops", "manager"]


class Viewer(BaseModel):
    """Who is signed in, as the authorizer found them in Cognito."""

    model_config = ConfigDict(frozen=True)

    username: str
    email: str
    role: Role


@dataclass(frozen=True)
class SignIn:
    """A sign-in's outcome: a session (its Set-Cookie value), or a step Cognito asks for first."""

    cookie: str | None = None
    # NEW_PASSWORD_REQUIRED: the user must choose a password; ``session`` continues the sign-in.
    challenge: str | None = None
    session: str = ""
    username: str = ""


def _raw(event: Any) -> Mapping[str, Any]:
    """The proxy event as a dict, from a dict or from Powertools' event (app.current_event)."""
    raw = getattr(event, "raw_event", event)
    return raw if isinstance(raw, Mapping) else {}


def _header(event: Any, name: str) -> str | None:
    headers = _raw(event).get("headers") or {}
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if k.lower() == wanted), None)


def cookie_value(cookie_header: str | None) -> str | None:
    """The session cookie's value in a Cookie header (None when it has none)."""
    for part in (cookie_header or "").split(";"):
        name, found, value = part.strip().partition("=")
        if found and name == COOKIE and value:
            return value
    return None


def session_token(event: Any) -> str | None:
    return cookie_value(_header(event, "cookie"))


def viewer(event: Any) -> Viewer:
    """The signed-in viewer, from the authorizer's context in the request."""
    context = (_raw(event).get("requestContext") or {}).get("authorizer") or {}
    try:
        return Viewer.model_validate(
            {"username": context.get("username"), "email": context.get("email"), "role": context.get("role")}
        )
    except ValidationError as exc:
        # Only reachable if a route skipped the authorizer: refuse rather than guess.
        raise Unauthorized("no signed-in viewer on this request") from exc


def console_base(event: Any) -> str:
    """The path prefix links need: the stage ("/prod") on an execute-api URL, "" behind a custom
    domain or locally. requestContext.path is the path as received, event.path without it."""
    raw = _raw(event)
    received = str((raw.get("requestContext") or {}).get("path") or "")
    path = str(raw.get("path") or "")
    if path and received.endswith(path):
        return received[: -len(path)].rstrip("/")
    return ""


def session_cookie(access_token: str, max_age: int) -> str:
    cookie = Cookie(
        COOKIE,
        access_token,
        path="/",
        secure=True,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.STRICT_MODE,
    )
    return str(cookie)


def cleared_cookie() -> str:
    return str(
        Cookie(COOKIE, "", path="/", secure=True, http_only=True, max_age=0, same_site=SameSite.STRICT_MODE)
    )


def _signed_in(outcome: Tokens | Challenge, username: str) -> SignIn:
    if isinstance(outcome, Tokens):
        return SignIn(cookie=session_cookie(outcome.access_token, outcome.expires_in))
    if outcome.name == NEW_PASSWORD_REQUIRED:
        return SignIn(challenge=outcome.name, session=outcome.session, username=outcome.username or username)
    # MFA and the other challenges are not offered by the console's pool and client.
    logger.warning("console sign-in: unsupported challenge", extra={"challenge": outcome.name})
    raise Unauthorized("this account needs a sign-in step the console does not support")


def sign_in(username: str, password: str) -> SignIn:
    """USER_PASSWORD_AUTH with the app client. Unauthorized (wrong credentials) says so plainly."""
    from handoff.aws.container import ports

    return _signed_in(ports().cognito.sign_in(username, password), username)


def set_new_password(username: str, session: str, new_password: str) -> SignIn:
    """The NEW_PASSWORD_REQUIRED step of an admin-created user's first sign-in."""
    from handoff.aws.container import ports

    return _signed_in(ports().cognito.set_new_password(username, session, new_password), username)


def sign_out(event: Any) -> None:
    """Revoke the session's tokens in Cognito, best effort: the cookie is cleared regardless."""
    from handoff.aws.container import ports

    token = session_token(event)
    if not token:
        return
    try:
        ports().cognito.sign_out(token)
    except Exception as exc:  # an expired or already revoked token is signed out already
        logger.info("console sign-out: not revoked in Cognito", extra={"error": type(exc).__name__})


def _csrf_key() -> bytes:
    from handoff.aws.container import ports

    return ports().secret(credentials.CONSOLE_CSRF.name).encode()


def csrf_token(event: Any) -> str:
    """The token this session's forms carry: HMAC-SHA256 of the session cookie."""
    token = session_token(event)
    if not token:
        raise Unauthorized("not signed in")
    return hmac.new(_csrf_key(), token.encode(), hashlib.sha256).hexdigest()


def same_origin(event: Any) -> bool:
    """True unless the browser says the request came from another site: an Origin header that
    is not this request's own host. (Browsers send it on every cross-site POST.)"""
    origin = _header(event, "origin")
    if origin is None:
        return True
    host = (_header(event, "host") or "").lower()
    return bool(host) and urlsplit(origin).netloc.lower() == host


def check_csrf(event: Any, form_value: str | None) -> None:
    """Forbidden unless the form's token is this session's and the request is same-origin."""
    if not same_origin(event):
        raise Forbidden("this form was posted from another site")
    if not form_value or not hmac.compare_digest(form_value.encode(), csrf_token(event).encode()):
        raise Forbidden("the form's security token is missing or stale; reload the page and try again")
