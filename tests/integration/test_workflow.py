"""The real ASL on moto: route, notify, wait for the touch, escalate, fail visibly."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Aws, rep


def test_disposition_completes_the_wait_and_the_execution_succeeds(
    aws: Aws, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r1", capacity=3))
    _, body = aws.post_lead(hot_lead)
    lead_id = body["lead_id"]
    lead = aws.wait_status(lead_id, {"notified"})
    assert lead["assignment"]["rep_id"] == "r1"
    assert lead["assignment"]["rule"] == "round_robin"
    assert lead["sla"]["state"] == "pending"
    [notification] = lead["notifications"]
    assert notification["kind"] == "brief"
    assert notification["to"] == "r1@example.com"
    assert notification["message_id"]
    [sent] = aws.sent_emails()
    assert set(sent.destinations) == {"r1@example.com"}  # moto lists the To header twice
    assert "Jordan Lee" in sent.raw_data

    # The token is parked before the rep can touch it, so wait for the timeline.
    aws.wait_for_event(lead_id, "waiting")
    status, answer = aws.dispose(lead_id, outcome="connected")
    assert (status, answer["status"]) == (200, "working")
    assert aws.execution(lead_id)["status"] == "SUCCEEDED"
    lead = aws.get_lead(lead_id)
    assert lead["sla"]["state"] == "met"
    assert lead["dispositions"][0]["outcome"] == "connected"


def test_no_touch_escalates_to_the_manager(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    lead_id = body["lead_id"]
    execution = aws.execution(lead_id)
    lead = aws.get_lead(lead_id)
    assert execution["status"] == "SUCCEEDED", (lead.get("failure"), lead["timeline"])
    assert lead["status"] == "escalated"
    assert lead["sla"]["state"] == "breached"
    assert [n["kind"] for n in lead["notifications"]] == ["brief", "escalation"]
    assert lead["notifications"][1]["to"] == "boss@example.com"
    assert lead["escalations"][0]["to_rep"] == "r1"


def test_no_eligible_rep_marks_the_lead_failed_and_fails_the_execution(
    aws: Aws, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r1", active=False), rep("r2", capacity=0))
    _, body = aws.post_lead(hot_lead)
    execution = aws.execution(body["lead_id"])
    assert execution["status"] == "FAILED"
    lead = aws.get_lead(body["lead_id"])
    assert lead["status"] == "failed"
    assert lead["failure"]["error"] == "NoRepAvailable"
    assert "r1: inactive" in lead["failure"]["cause"]


def test_round_robin_spreads_leads_and_respects_capacity(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1", capacity=2), rep("r2", capacity=1))
    owners = []
    for i in range(3):
        hot_lead["event_id"] = f"evt-{i}"
        _, body = aws.post_lead(hot_lead)
        owners.append(aws.wait_status(body["lead_id"], {"notified"})["assignment"]["rep_id"])
    assert sorted(owners) == ["r1", "r1", "r2"]
    hot_lead["event_id"] = "evt-over"
    _, body = aws.post_lead(hot_lead)
    assert aws.execution(body["lead_id"])["status"] == "FAILED"
    lead = aws.get_lead(body["lead_id"])
    assert "at capacity (2/2)" in lead["failure"]["cause"]
