"""Webhook authentication: HMAC signatures in constant time, with a replay window."""

from __future__ import annotations

import hashlib
import hmac
import time

from handoff.errors import Unauthorized

GENERIC_SIGNATURE_HEADER = "x-handoff-signature"


def sign_generic(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Handoff-Signature`` value a sender computes: t=<ts>,v1=<hex hmac of "t.body">."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _parse_signature_header(value: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isdigit() and len(item) <= 12:
            timestamp = int(item)
        elif key == "v1" and item:
            candidates.append(item.strip())
    if timestamp is None or not candidates:
        raise Unauthorized("X-Handoff-Signature must look like t=<unix seconds>,v1=<hex>")
    return timestamp, candidates


def verify_generic(
    *,
    secret: str,
    body: bytes,
    signature_header: str | None,
    bearer_token: str | None,
    expected_token: str | None,
    window_seconds: int,
    now: float | None = None,
) -> None:
    """Accept a valid, fresh signature, or else the static bearer token; raise Unauthorized."""
    if signature_header:
        timestamp, candidates = _parse_signature_header(signature_header)
        current = time.time() if now is None else now
        if abs(current - timestamp) > window_seconds:
            raise Unauthorized(
                f"X-Handoff-Signature timestamp is outside the {window_seconds} s replay window"
            )
        expected = sign_generic(secret, body, timestamp).split("v1=", 1)[1]
        # Compare every candidate so timing does not reveal which one matched.
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(candidate.encode(), expected.encode())
        if not matched:
            raise Unauthorized("X-Handoff-Signature does not match the body")
        return
    if bearer_token is not None:
        if expected_token and hmac.compare_digest(bearer_token.encode(), expected_token.encode()):
            return
        raise Unauthorized("bearer token is not valid")
    raise Unauthorized("missing X-Handoff-Signature or Authorization: Bearer header")


def bearer_from(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def verify_api_key(provided: str | None, expected: str) -> None:
    if not provided or not hmac.compare_digest(provided.encode(), expected.encode()):
        raise Unauthorized("missing or wrong x-api-key header")
