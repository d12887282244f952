from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from handoff.api.requests import MAX_JSON_DEPTH, parse_json_object, parse_model, raw_body
from handoff.domain.lead import Lead
from handoff.errors import BadRequest, PayloadTooLarge


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from handoff.deploy.settings import reset

    monkeypatch.setenv("HANDOFF_MAX_BODY_BYTES", "2048")
    reset()
    yield
    reset()


def event(body: str | None, encoded: bool = False) -> APIGatewayProxyEvent:
    return APIGatewayProxyEvent({"body": body, "isBase64Encoded": encoded, "headers": {}})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "must be a JSON object, not list"),
        (b'"text"', "must be a JSON object, not str"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        (json.dumps(json.loads("{" + '"a":{' * 40 + "}" * 41)).encode(), "nested deeper"),
    ],
)
def test_malformed_bodies_are_bad_requests(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_json_object(body)


def test_nesting_at_the_limit_is_fine() -> None:
    body = "{" + '"a":{' * (MAX_JSON_DEPTH - 1) + "}" * MAX_JSON_DEPTH
    assert isinstance(parse_json_object(body.encode()), dict)


def test_oversize_and_empty_bodies() -> None:
    with pytest.raises(PayloadTooLarge):
        raw_body(event("x" * 2049))
    with pytest.raises(BadRequest, match="empty"):
        raw_body(event(None))
    assert raw_body(event(base64.b64encode(b"{}").decode(), encoded=True)) == b"{}"
    with pytest.raises(BadRequest, match="base64"):
        raw_body(event("!!!", encoded=True))


def test_model_errors_name_every_field() -> None:
    with pytest.raises(BadRequest) as error:
        parse_model(Lead, {"contact": {"email": "nope"}}, "lead")
    fields = [d["field"] for d in error.value.details]
    assert fields == ["event_id", "contact.email", "trigger"]
    assert error.value.message == "invalid lead: event_id, contact.email, trigger"
    assert error.value.code == "invalid_lead"


def test_details_never_echo_input() -> None:
    data: dict[str, Any] = {
        "event_id": "e",
        "contact": {"email": "<script>x</script>"},
        "trigger": {"type": "x"},
    }
    with pytest.raises(BadRequest) as error:
        parse_model(Lead, data, "lead")
    assert "<script>" not in json.dumps(error.value.details)
