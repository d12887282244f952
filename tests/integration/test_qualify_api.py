"""POST /webhooks/generic and GET /leads on moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handoff.domain.clock import utcnow
from tests.integration.conftest import SECRETS, Aws, rep


def test_signed_sales_ready_lead_is_accepted_and_starts_the_workflow(
    aws: Aws, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r1"))
    status, body = aws.post_lead(hot_lead)
    assert status == 202
    assert body["status"] == "routing"
    lead_id = body["lead_id"]
    assert [e["name"] for e in aws.executions()] == [lead_id]
    stored = aws.get_lead(lead_id)
    assert stored["qualification"]["ready"] is True
    assert stored["qualification"]["tier"] == "hot"
    assert stored["contact"]["email"] == hot_lead["contact"]["email"]


def test_not_sales_ready_is_recorded_as_nurture_with_reasons(aws: Aws, nurture_lead: dict[str, Any]) -> None:
    status, body = aws.post_lead(nurture_lead)
    assert status == 200
    assert body["status"] == "nurture"
    assert "next_step.missing" in [r["code"] for r in body["reasons"]]
    assert aws.executions() == []
    assert aws.get_lead(body["lead_id"])["status"] == "nurture"


def test_a_repeated_delivery_gets_the_same_answer_and_nothing_happens_twice(
    aws: Aws, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r1"))
    first = aws.post_lead(hot_lead)
    second = aws.post_lead(hot_lead)
    assert first[0] == second[0] == 202
    assert first[1]["lead_id"] == second[1]["lead_id"]
    assert len(aws.executions()) == 1
    assert aws.leads_count() == 1


@pytest.mark.parametrize(
    "secret_or_headers",
    [
        "wrong-secret",
        {"X-Handoff-Signature": "t=1,v1=00"},
        {"Authorization": "Bearer wrong"},
        {},
    ],
)
def test_bad_or_missing_signature_is_401_and_creates_nothing(
    aws: Aws, hot_lead: dict[str, Any], secret_or_headers: str | dict[str, str]
) -> None:
    if isinstance(secret_or_headers, str):
        status, body = aws.post_lead(hot_lead, secret=secret_or_headers)
    else:
        status, body = aws.api("POST", "/webhooks/generic", json.dumps(hot_lead).encode(), secret_or_headers)
    assert status == 401
    assert body["error"] == "unauthorized"
    assert body["message"]
    assert aws.leads_count() == 0
    assert aws.executions() == []


def test_bearer_token_is_accepted_for_senders_that_cannot_sign(
    aws: Aws, nurture_lead: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {SECRETS['HANDOFF_GENERIC_TOKEN']}"}
    status, _ = aws.api("POST", "/webhooks/generic", json.dumps(nurture_lead).encode(), headers)
    assert status == 200


@pytest.mark.parametrize(
    ("body", "field_or_message"),
    [
        (b"{not json", "not JSON of the shape"),  # the gateway's model
        (b"[1, 2]", "not JSON of the shape"),
        (b'{"event_id": "e1", "trigger": {"type": "demo_request"}}', "contact"),
        (
            b'{"event_id": "e1", "contact": {"email": "nope"}, "trigger": {"type": "demo_request"}}',
            "contact.email",
        ),
    ],
)
def test_malformed_input_is_400_naming_the_problem_and_creates_nothing(
    aws: Aws, body: bytes, field_or_message: str
) -> None:
    status, answer = aws.post_lead(body)
    assert status == 400
    assert field_or_message in answer["message"]
    assert set(answer) == {"error", "message", "details"}
    assert aws.leads_count() == 0
    assert aws.executions() == []


def test_oversize_body_is_413(aws: Aws, hot_lead: dict[str, Any]) -> None:
    hot_lead["padding"] = "x" * 1_100_000
    status, answer = aws.post_lead(hot_lead)
    assert status == 413
    assert answer["error"] == "payload_too_large"
    assert aws.leads_count() == 0


def test_lead_api_needs_the_api_key_and_hides_the_task_token(aws: Aws, nurture_lead: dict[str, Any]) -> None:
    _, body = aws.post_lead(nurture_lead)
    status, answer = aws.api("GET", f"/leads/{body['lead_id']}")
    assert (status, answer["message"]) == (401, "missing or wrong x-api-key header")
    status, answer = aws.api("GET", f"/leads/{body['lead_id']}", headers={"x-api-key": "wrong"})
    assert (status, answer["error"]) == (401, "unauthorized")
    lead = aws.get_lead(body["lead_id"])
    for field in (
        "lead_id",
        "status",
        "source",
        "received_at",
        "contact",
        "company",
        "crm",
        "trigger",
        "qualification",
        "timeline",
    ):
        assert field in lead
    assert "task_token" not in lead


def test_unknown_lead_is_404(aws: Aws) -> None:
    status, answer = aws.api("GET", "/leads/ld_missing", headers={"x-api-key": SECRETS["HANDOFF_API_KEY"]})
    assert (status, answer["error"]) == (404, "not_found")


def test_health(aws: Aws) -> None:
    assert aws.api("GET", "/health") == (200, {"status": "ok"})


def test_a_workflow_that_cannot_start_leaves_the_lead_visibly_failed(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from handoff.aws import container

    monkeypatch.setenv("HANDOFF_STATE_MACHINE_ARN", aws.state_machine_arn + "-missing")
    container.reset()
    status, body = aws.post_lead(hot_lead)
    assert status == 202  # the lead is durably recorded; the sender must not retry
    lead = aws.get_lead(body["lead_id"])
    assert lead["status"] == "failed"
    assert lead["timeline"][-1]["event"] == "failed"


def test_times_without_an_offset_are_read_in_utc_and_the_lead_is_briefed(
    aws: Aws, hot_lead: dict[str, Any]
) -> None:
    """Marketo's {{system.dateTime}} tokens carry no offset; they used to answer 5xx, or claim a
    rep and then fail in notify (trigger.at)."""
    aws.put_reps(rep("r1"))
    now = utcnow().replace(tzinfo=None, microsecond=0)
    hot_lead["occurred_at"] = now.isoformat()
    hot_lead["trigger"]["at"] = now.isoformat(sep=" ")
    hot_lead["activities"][0]["at"] = now.isoformat()
    status, body = aws.post_lead(hot_lead)
    assert status == 202, body
    lead = aws.wait_status(body["lead_id"], {"notified"})
    assert lead["occurred_at"].endswith("Z") and lead["qualification"]["tier"] == "hot"
