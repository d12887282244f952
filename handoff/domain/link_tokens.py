"""Signed one-click disposition links: bound to a lead, a rep and an outcome; they expire and work once.

A token is ``v1.<payload>.<signature>``: the payload is base64url JSON, the signature
base64url HMAC-SHA256 of ``v1.<payload>`` with the link key from Secrets Manager.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel, Field, ValidationError

from handoff.errors import HandoffError

VERSION = "v1"
MAX_TOKEN_LENGTH = 1024


class LinkRefused(HandoffError):
    """A link that cannot be used; ``why`` is shown to the person who clicked it."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


class LinkClaims(BaseModel):
    lead_id: str = Field(alias="l")
    rep_id: str = Field(alias="r")
    outcome: str = Field(alias="o")
    expires: int = Field(alias="e")
    nonce: str = Field(alias="n")

    model_config = {"populate_by_name": True}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: str, signed: str) -> str:
    return _b64(hmac.new(key.encode(), signed.encode(), hashlib.sha256).digest())


def make_token(key: str, *, lead_id: str, rep_id: str, outcome: str, now: datetime, ttl: timedelta) -> str:
    claims = LinkClaims(
        lead_id=lead_id,
        rep_id=rep_id,
        outcome=outcome,
        expires=int((now + ttl).timestamp()),
        nonce=secrets.token_hex(8),
    )
    payload = _b64(json.dumps(claims.model_dump(by_alias=True), separators=(",", ":")).encode())
    signed = f"{VERSION}.{payload}"
    return f"{signed}.{_signature(key, signed)}"


def read_token(key: str, token: str, now: datetime) -> LinkClaims:
    """The claims of a genuine, unexpired token; LinkRefused says why otherwise."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN_LENGTH or len(parts) != 3 or parts[0] != VERSION:
        raise LinkRefused("This link is incomplete or damaged. Copy the whole link from the email.")
    signed = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2].encode(), _signature(key, signed).encode()):
        raise LinkRefused("This link has been altered, so it cannot be used.")
    try:
        claims = LinkClaims.model_validate(json.loads(_unb64(parts[1])))
    except (ValueError, ValidationError) as exc:
        raise LinkRefused("This link is incomplete or damaged. Copy the whole link from the email.") from exc
    if now.timestamp() > claims.expires:
        raise LinkRefused(
            "This link has expired. Record the outcome in the CRM or ask RevOps for a fresh brief."
        )
    return claims
