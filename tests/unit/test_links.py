from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff.domain.link_tokens import LinkRefused, make_token, read_token

KEY = "link-key"
NOW = datetime(2026, 11, 2, 15, tzinfo=UTC)


def token(**kw: object) -> str:
    values: dict = {
        "lead_id": "ld_1",
        "rep_id": "rep-ana",
        "outcome": "connected",
        "now": NOW,
        "ttl": timedelta(days=7),
    }
    values.update(kw)
    return make_token(KEY, **values)


def test_a_genuine_token_round_trips() -> None:
    claims = read_token(KEY, token(), NOW + timedelta(days=6))
    assert (claims.lead_id, claims.rep_id, claims.outcome) == ("ld_1", "rep-ana", "connected")
    assert token() != token()  # each link has its own nonce, so each is single-use on its own


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "altered"),
        (lambda t: t.replace("v1.", "v1.x", 1), "altered"),
        (lambda t: t.split(".")[0] + "." + t.split(".")[1], "incomplete"),
        (lambda t: "v2" + t[2:], "incomplete"),
        (lambda t: "x" * 2000, "incomplete"),
        (lambda t: "", "incomplete"),
    ],
)
def test_tampered_or_broken_tokens_are_refused(mangle: object, message: str) -> None:
    with pytest.raises(LinkRefused, match=message):
        read_token(KEY, mangle(token()), NOW)  # type: ignore[operator]


def test_another_key_is_refused() -> None:
    with pytest.raises(LinkRefused, match="altered"):
        read_token("other-key", token(), NOW)


def test_expired_tokens_are_refused() -> None:
    with pytest.raises(LinkRefused, match="expired"):
        read_token(KEY, token(), NOW + timedelta(days=7, seconds=1))


def test_a_signed_payload_that_is_not_ours_is_refused() -> None:
    import base64
    import hashlib
    import hmac

    payload = base64.urlsafe_b64encode(b'{"l": "x"}').rstrip(b"=").decode()
    sig = base64.urlsafe_b64encode(hmac.new(KEY.encode(), f"v1.{payload}".encode(), hashlib.sha256).digest())
    with pytest.raises(LinkRefused, match="incomplete"):
        read_token(KEY, f"v1.{payload}.{sig.rstrip(b'=').decode()}", NOW)
