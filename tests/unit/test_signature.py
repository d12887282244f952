from __future__ import annotations

import pytest

from handoff.crm.signature import bearer_from, sign_generic, verify_api_key, verify_generic
from handoff.errors import Unauthorized

SECRET = "s3cret"
BODY = b'{"event_id":"e1"}'
NOW = 1_790_000_000


def verify(
    signature: str | None,
    *,
    body: bytes = BODY,
    bearer: str | None = None,
    token: str | None = None,
) -> None:
    verify_generic(
        secret=SECRET,
        body=body,
        signature_header=signature,
        bearer_token=bearer,
        expected_token=token,
        window_seconds=300,
        now=NOW,
    )


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign_generic(SECRET, BODY, NOW) == f"t={NOW},v1={expected}"


def test_valid_signature_passes() -> None:
    verify(sign_generic(SECRET, BODY, NOW))
    verify(sign_generic(SECRET, BODY, NOW - 299))


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (sign_generic("wrong", BODY, NOW), "does not match"),
        (sign_generic(SECRET, BODY + b" ", NOW), "does not match"),
        (sign_generic(SECRET, BODY, NOW - 301), "replay window"),
        (sign_generic(SECRET, BODY, NOW + 301), "replay window"),
        ("v1=abc", "must look like"),
        ("t=abc,v1=abc", "must look like"),
        (f"t={NOW}", "must look like"),
        ("garbage", "must look like"),
    ],
)
def test_bad_signatures_are_rejected_with_a_reason(signature: str, message: str) -> None:
    with pytest.raises(Unauthorized, match=message):
        verify(signature)


def test_one_matching_candidate_among_several_passes() -> None:
    good = sign_generic(SECRET, BODY, NOW).split("v1=")[1]
    verify(f"t={NOW},v1=deadbeef,v1={good}")


def test_bearer_token_is_the_fallback_for_senders_that_cannot_sign() -> None:
    verify(None, bearer="tok", token="tok")
    with pytest.raises(Unauthorized, match="bearer token"):
        verify(None, bearer="nope", token="tok")
    with pytest.raises(Unauthorized, match="bearer token"):
        verify(None, bearer="", token="")


def test_missing_credentials_are_rejected() -> None:
    with pytest.raises(Unauthorized, match="missing"):
        verify(None)


def test_bearer_parsing() -> None:
    assert bearer_from("Bearer abc") == "abc"
    assert bearer_from("bearer  abc ") == "abc"
    assert bearer_from("Basic abc") is None
    assert bearer_from("Bearer ") is None
    assert bearer_from(None) is None


def test_api_key() -> None:
    verify_api_key("k", "k")
    for wrong in (None, "", "K"):
        with pytest.raises(Unauthorized):
            verify_api_key(wrong, "k")
