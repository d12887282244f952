"""Dispositions, the SLA sweep and the capacity claim on moto."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from handoff import runtime
from handoff.domain.lead import utcnow
from handoff.errors import CapacityExhausted
from handoff.functions import SLA_CHECK
from handoff.local import lambdas
from handoff.service import routing
from tests.integration.conftest import Aws, rep


def test_unknown_outcome_is_400_listing_the_allowed_values(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    aws.wait_status(body["lead_id"], {"notified"})
    status, answer = aws.dispose(body["lead_id"], outcome="won")
    assert status == 400
    assert "attempted, connected, meeting_set, recycle, disqualify" in answer["message"]
    assert answer["details"][0]["field"] == "outcome"
    status, answer = aws.dispose(body["lead_id"], outcome="disqualify", reason="bored")
    assert status == 400
    assert "no_budget" in answer["message"]
    assert aws.get_lead(body["lead_id"])["dispositions"] == []


def test_disposition_body_is_validated(aws: Aws) -> None:
    headers = {"Content-Type": "application/json", "x-api-key": "test-api-key"}
    status, answer = aws.api("POST", "/leads/ld_x/disposition", b'{"outcome": 5, "extra": 1}', headers)
    assert status == 400
    assert {d["field"] for d in answer["details"]} >= {"outcome", "extra"}
    status, answer = aws.api("POST", "/leads/ld_x/disposition", b"not json", headers)
    assert status == 400


def test_disposition_needs_the_api_key_and_an_existing_lead(aws: Aws) -> None:
    status, _ = aws.api(
        "POST",
        "/leads/ld_x/disposition",
        b'{"outcome": "connected"}',
        {"Content-Type": "application/json"},
    )
    assert status == 401
    status, answer = aws.dispose("ld_missing", outcome="connected")
    assert (status, answer["error"]) == (404, "not_found")


def test_disposition_on_a_nurture_lead_is_a_conflict(aws: Aws, nurture_lead: dict[str, Any]) -> None:
    _, body = aws.post_lead(nurture_lead)
    status, answer = aws.dispose(body["lead_id"], outcome="connected")
    assert (status, answer["error"]) == (409, "conflict")


def test_final_disposition_closes_the_lead_and_releases_capacity(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1", capacity=1))
    _, body = aws.post_lead(hot_lead)
    aws.wait_for_event(body["lead_id"], "waiting")
    assert runtime.reps().get("r1").open_count == 1  # type: ignore[union-attr]
    status, answer = aws.dispose(body["lead_id"], outcome="disqualify", reason="not_icp", note="agency")
    assert (status, answer["status"]) == (200, "closed")
    assert runtime.reps().get("r1").open_count == 0  # type: ignore[union-attr]
    assert aws.execution(body["lead_id"])["status"] == "SUCCEEDED"


def test_sla_check_marks_overdue_untouched_leads_breached(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.put_reps(rep("r1"))
    monkeypatch.setenv("HANDOFF_STATE_MACHINE_ARN", aws.state_machine_arn + "-not-started")
    runtime.reset()
    _, body = aws.post_lead(hot_lead)  # recorded, workflow deliberately not running
    lead_id = body["lead_id"]
    runtime.leads().update(lead_id, set_fields={"status": "routing"})
    routing.route(lead_id, utcnow() - timedelta(hours=1))
    assert lambdas.invoke(SLA_CHECK, {}) == {"breached": 1}
    lead = aws.get_lead(lead_id)
    assert lead["sla"]["state"] == "breached"
    assert lead["timeline"][-1]["event"] == "sla_breached"
    assert lambdas.invoke(SLA_CHECK, {}) == {"breached": 0}  # swept once, never twice


def test_capacity_claims_stop_exactly_at_capacity(aws: Aws) -> None:
    aws.put_reps(rep("r1", capacity=2), rep("off", active=False))
    reps = runtime.reps()
    reps.claim("r1", utcnow())
    reps.claim("r1", utcnow())
    with pytest.raises(CapacityExhausted):
        reps.claim("r1", utcnow())
    with pytest.raises(CapacityExhausted):
        reps.claim("off", utcnow())
    with pytest.raises(CapacityExhausted):
        reps.claim("nobody", utcnow())
    assert reps.get("r1").open_count == 2  # type: ignore[union-attr]
    reps.release("r1")
    reps.release("r1")
    reps.release("r1")  # never below zero
    assert reps.get("r1").open_count == 0  # type: ignore[union-attr]
