"""HubSpot request signatures: v3 (HMAC, with a replay window), and the older v1 and v2."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

from handoff.errors import Unauthorized

REPLAY_WINDOW_MS = 5 * 60 * 1000


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: str) -> str:
    message = method.encode() + uri.encode() + body + timestamp_ms.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def sign_v1(secret: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + body).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + method.encode() + uri.encode() + body).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def verify_hubspot(
    *,
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    header: Callable[[str], str | None],
    now_ms: float | None = None,
) -> None:
    """Raise Unauthorized unless the request carries a valid HubSpot signature."""
    v3 = header("x-hubspot-signature-v3")
    if v3:
        timestamp = header("x-hubspot-request-timestamp") or ""
        if not timestamp.isdigit() or len(timestamp) > 16:
            raise Unauthorized("X-HubSpot-Request-Timestamp must be milliseconds since the epoch")
        current = time.time() * 1000 if now_ms is None else now_ms
        if abs(current - int(timestamp)) > REPLAY_WINDOW_MS:
            raise Unauthorized("X-HubSpot-Request-Timestamp is outside the 5 minute replay window")
        if not _same(v3, sign_v3(secret, method, uri, body, timestamp)):
            raise Unauthorized("X-HubSpot-Signature-v3 does not match the request")
        return
    signature = header("x-hubspot-signature")
    if not signature:
        raise Unauthorized("missing X-HubSpot-Signature-v3 or X-HubSpot-Signature header")
    version = (header("x-hubspot-signature-version") or "v1").strip().lower()
    if version == "v1":
        expected = sign_v1(secret, body)
    elif version == "v2":
        expected = sign_v2(secret, method, uri, body)
    else:
        raise Unauthorized(f"X-HubSpot-Signature-Version {version[:10]!r} is not v1, v2 or v3")
    if not _same(signature, expected):
        raise Unauthorized(f"X-HubSpot-Signature ({version}) does not match the request")
