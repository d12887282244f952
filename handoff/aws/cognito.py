"""The ops console's sign-in on Cognito: the one place its ClientErrors become domain errors.

Sign-in uses the app client's USER_PASSWORD_AUTH flow (a public client, no secret); a session is
the access token, which GetUser checks (signature, expiry, revocation) on every authorizer call.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.errors import THROTTLING_CODES, BadRequest, StorageError, StorageThrottled, Unauthorized

# What Cognito answers a wrong password, an unknown user or a disabled one: one message for all
# of them, so the page never tells a stranger which usernames exist.
WRONG_CREDENTIALS = "wrong username or password"
REFUSED_CREDENTIALS = frozenset({"NotAuthorizedException", "UserNotFoundException"})
# A password the pool's policy refuses, on the set-new-password step: its message says why.
REFUSED_PASSWORD = frozenset({"InvalidPasswordException", "InvalidParameterException"})
NEW_PASSWORD_REQUIRED = "NEW_PASSWORD_REQUIRED"  # noqa: S105 - a challenge name


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int  # seconds


@dataclass(frozen=True)
class Challenge:
    """Cognito wants a step before it issues tokens (an admin-created user's first sign-in)."""

    name: str
    session: str
    # The user the challenge is for, as Cognito names them (a pool signing in by email names
    # them by their internal username): the answer must use this name.
    username: str = ""


@dataclass(frozen=True)
class CognitoUser:
    username: str
    email: str


class CognitoSessions:
    """Sign-in, session checks and sign-out against one user pool and its app client."""

    def __init__(self, client: Any, user_pool_id: str, client_id: str):
        self._client = client
        self._pool = user_pool_id
        self._client_id = client_id

    def sign_in(self, username: str, password: str) -> Tokens | Challenge:
        with _translated():
            answer = self._client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        return _outcome(answer)

    def set_new_password(self, username: str, session: str, new_password: str) -> Tokens | Challenge:
        with _translated():
            answer = self._client.respond_to_auth_challenge(
                ClientId=self._client_id,
                ChallengeName=NEW_PASSWORD_REQUIRED,
                Session=session,
                ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
            )
        return _outcome(answer)

    def user(self, access_token: str) -> CognitoUser:
        """The token's user; Unauthorized when Cognito refuses it or it was issued elsewhere."""
        # GetUser validates the token against the pool that issued it; the claims say which pool
        # and client that was, so a token from another pool in the account is refused here.
        claims = _claims(access_token)
        issuer = str(claims.get("iss", ""))
        if claims.get("client_id") != self._client_id or issuer.rsplit("/", 1)[-1] != self._pool:
            raise Unauthorized("session not issued by this console")
        with _translated():
            answer = self._client.get_user(AccessToken=access_token)
        attributes = {a["Name"]: a["Value"] for a in answer.get("UserAttributes", [])}
        return CognitoUser(username=str(answer["Username"]), email=attributes.get("email", ""))

    def groups(self, username: str) -> list[str]:
        with _translated():
            pages = self._client.get_paginator("admin_list_groups_for_user").paginate(
                UserPoolId=self._pool, Username=username
            )
            return [group["GroupName"] for page in pages for group in page.get("Groups", [])]

    def sign_out(self, access_token: str) -> None:
        """Revoke the session's tokens (best effort: the cookie is cleared either way)."""
        with _translated():
            self._client.global_sign_out(AccessToken=access_token)


def _outcome(answer: dict[str, Any]) -> Tokens | Challenge:
    result = answer.get("AuthenticationResult")
    if result:
        return Tokens(access_token=str(result["AccessToken"]), expires_in=int(result.get("ExpiresIn", 3600)))
    parameters = answer.get("ChallengeParameters") or {}
    return Challenge(
        name=str(answer.get("ChallengeName", "")),
        session=str(answer.get("Session", "")),
        username=str(parameters.get("USER_ID_FOR_SRP") or ""),
    )


def _claims(token: str) -> dict[str, Any]:
    """The JWT's payload, unverified (GetUser verifies it): only to see who issued it."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized("not a session token")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized("not a session token") from exc
    if not isinstance(claims, dict):
        raise Unauthorized("not a session token")
    return claims


@contextmanager
def _translated() -> Iterator[None]:
    """ClientError to domain errors, in this one place."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code in REFUSED_CREDENTIALS:
            raise Unauthorized(WRONG_CREDENTIALS) from exc
        if code == "PasswordResetRequiredException":
            raise Unauthorized("this account's password must be reset by an administrator") from exc
        if code in REFUSED_PASSWORD:
            raise BadRequest(error.get("Message") or "password refused", code="invalid_password") from exc
        if code in THROTTLING_CODES:
            raise StorageThrottled(f"cognito-idp: {code}") from exc
        raise StorageError(f"cognito-idp: {code}") from exc
    except BotoCoreError as exc:
        raise StorageError("cognito-idp unreachable") from exc
