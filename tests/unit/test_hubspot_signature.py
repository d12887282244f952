"""HubSpot's published test vectors, and the replay window."""

from __future__ import annotations

import pytest

from handoff.crm.hubspot_signature import sign_v1, sign_v2, sign_v3, verify_hubspot
from handoff.errors import Unauthorized

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://www.example.com/webhook_uri"
V1_BODY = (
    b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
    b'"changeFlag":"NEW","appId":54321}]'
)


def headers(**values: str) -> dict[str, str]:
    return {k.replace("_", "-").lower(): v for k, v in values.items()}


def verify(hdrs: dict[str, str], body: bytes, *, now_ms: float = 15_000_000, method: str = "POST") -> None:
    verify_hubspot(secret=SECRET, method=method, uri=URI, body=body, header=hdrs.get, now_ms=now_ms)


def test_published_vectors() -> None:
    assert sign_v1(SECRET, V1_BODY) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    assert (
        sign_v2(SECRET, "POST", URI, b'{"example_field":"example_value"}')
        == "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
    )
    assert (
        sign_v3(SECRET, "POST", URI, b"{'example_field':'example_value'}", "15000000")
        == "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="
    )


def test_v3_passes_inside_the_window_and_fails_outside() -> None:
    body = b"{'example_field':'example_value'}"
    good = headers(
        x_hubspot_signature_v3="HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=",
        x_hubspot_request_timestamp="15000000",
    )
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
