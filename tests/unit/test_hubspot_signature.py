"""HubSpot's published test vectors, and the replay window.

The vectors (secret, method, URI, body, timestamp, signature) are in
tests/fixtures/real/hubspot/signature-vectors.json, exactly as HubSpot's docs and official SDK tests
publish them; tests/fixtures/real/SOURCES.md says where each one is published."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handoff.crm.hubspot_signature import sign_v1, sign_v2, sign_v3, verify_hubspot
from handoff.errors import Unauthorized
from tests.conftest import ROOT

VECTORS: list[dict[str, Any]] = json.loads(
    (ROOT / "tests/fixtures/real/hubspot/signature-vectors.json").read_text()
)
BY_NAME = {v["name"]: v for v in VECTORS}
SECRET = BY_NAME["docs-v1-event-array"]["secret"]
URI = BY_NAME["docs-v1-event-array"]["uri"]
V1_BODY = BY_NAME["docs-v1-event-array"]["body"].encode()
V3 = BY_NAME["sdk-v3-single-quoted-body"]


def headers(**values: str) -> dict[str, str]:
    return {k.replace("_", "-").lower(): v for k, v in values.items()}


def verify(hdrs: dict[str, str], body: bytes, *, now_ms: float = 15_000_000, method: str = "POST") -> None:
    verify_hubspot(secret=SECRET, method=method, uri=URI, body=body, header=hdrs.get, now_ms=now_ms)


def published_headers(vector: dict[str, Any]) -> dict[str, str]:
    """The headers HubSpot sends with a request signed as the vector is."""
    if vector["version"] == "v3":
        return {
            "x-hubspot-signature-v3": vector["signature"],
            "x-hubspot-request-timestamp": vector["timestamp"],
        }
    return {"x-hubspot-signature": vector["signature"], "x-hubspot-signature-version": vector["version"]}


def sign(vector: dict[str, Any]) -> str:
    body = vector["body"].encode()
    if vector["version"] == "v1":
        return sign_v1(vector["secret"], body)
    if vector["version"] == "v2":
        return sign_v2(vector["secret"], vector["method"], vector["uri"], body)
    return sign_v3(vector["secret"], vector["method"], vector["uri"], body, vector["timestamp"])


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_published_vector_signs_and_verifies_exactly_as_published(vector: dict[str, Any]) -> None:
    assert sign(vector) == vector["signature"]
    # In the replay window of its own timestamp (v1 and v2 carry none).
    now_ms = int(vector.get("timestamp", "15000000")) + 299_000
    args = {"secret": vector["secret"], "method": vector["method"], "uri": vector["uri"], "now_ms": now_ms}
    verify_hubspot(body=vector["body"].encode(), header=published_headers(vector).get, **args)
    with pytest.raises(Unauthorized, match="does not match"):
        verify_hubspot(body=vector["body"].encode() + b" ", header=published_headers(vector).get, **args)
    with pytest.raises(Unauthorized, match="does not match"):
        verify_hubspot(
            body=vector["body"].encode(), header=published_headers(vector).get, **args | {"secret": "x"}
        )


@pytest.mark.parametrize("offset_ms", [-301_000, 301_000])
def test_the_published_v3_vector_is_refused_outside_the_replay_window(offset_ms: int) -> None:
    with pytest.raises(Unauthorized, match="replay window"):
        verify_hubspot(
            secret=V3["secret"],
            method=V3["method"],
            uri=V3["uri"],
            body=V3["body"].encode(),
            header=published_headers(V3).get,
            now_ms=int(V3["timestamp"]) + offset_ms,
        )


def test_v3_passes_inside_the_window_and_fails_outside() -> None:
    body = V3["body"].encode()
    good = published_headers(V3)
    verify(good, body, now_ms=15_000_000 + 299_000)
    with pytest.raises(Unauthorized, match="replay window"):
        verify(good, body, now_ms=15_000_000 + 301_000)
    with pytest.raises(Unauthorized, match="does not match"):
        verify(good, body + b" ")
    with pytest.raises(Unauthorized, match="does not match"):
        verify(good, body, method="GET")
    with pytest.raises(Unauthorized, match="milliseconds"):
        verify({"x-hubspot-signature-v3": "x", "x-hubspot-request-timestamp": "soon"}, body)


def test_v1_and_v2() -> None:
    verify(headers(x_hubspot_signature=sign_v1(SECRET, V1_BODY)), V1_BODY)
    v2 = sign_v2(SECRET, "POST", URI, V1_BODY)
    verify(headers(x_hubspot_signature=v2, x_hubspot_signature_version="v2"), V1_BODY)
    with pytest.raises(Unauthorized, match=r"\(v1\) does not match"):
        verify(headers(x_hubspot_signature=v2), V1_BODY)
    with pytest.raises(Unauthorized, match="is not v1, v2 or v3"):
        verify(headers(x_hubspot_signature=v2, x_hubspot_signature_version="v9"), V1_BODY)


def test_missing_signature() -> None:
    with pytest.raises(Unauthorized, match="missing"):
        verify({}, V1_BODY)
