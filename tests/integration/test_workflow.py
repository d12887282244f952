"""The real ASL on moto: route, notify, wait for the touch, escalate, fail visibly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Aws, rep


@pytest.mark.usefixtures("patient_sla")
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


def test_nobody_available_goes_to_the_unassigned_queue_and_is_never_lost(
    aws: Aws, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r1", active=False), rep("r2", capacity=0))
    _, body = aws.post_lead(hot_lead)
    lead = aws.wait_status(body["lead_id"], {"notified"})
    assignment = lead["assignment"]
    assert (assignment["rep_id"], assignment["rule"], assignment["claimed"]) == (
        "unassigned",
        "unassigned",
        False,
    )
    assert {c["rep_id"]: c["skipped_because"] for c in assignment["considered"]} == {
        "r1": "inactive",
        "r2": "at capacity (0/0)",
    }
    assert lead["notifications"][0]["to"] == "sales-ops@example.com"


def test_a_step_that_keeps_failing_marks_the_lead_failed_after_retries(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from handoff.errors import StorageError
    from handoff.service import routing

    calls = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise StorageError("DynamoDB ProvisionedThroughputExceededException")

    monkeypatch.setattr(routing, "plan_for", broken)
    _, body = aws.post_lead(hot_lead)
    assert aws.execution(body["lead_id"], timeout=30)["status"] == "FAILED"
    lead = aws.get_lead(body["lead_id"])
    assert lead["status"] == "failed"
    assert lead["failure"]["error"] == "StorageError"
    assert len(calls) == 4  # the first try and three retries with backoff


def test_round_robin_spreads_leads_and_overflows_to_the_managers(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1", capacity=2), rep("r2", capacity=1), rep("boss", pools=["managers"]))
    owners = []
    for i in range(4):
        hot_lead["event_id"] = f"evt-{i}"
        hot_lead["contact"]["email"] = f"buyer{i}@northwind.example"  # four people, not one
        _, body = aws.post_lead(hot_lead)
        owners.append(aws.wait_status(body["lead_id"], {"notified"})["assignment"])
    assert sorted(a["rep_id"] for a in owners[:3]) == ["r1", "r1", "r2"]
    assert (owners[3]["rep_id"], owners[3]["rule"]) == ("boss", "manager_pool")
    assert {c["rep_id"]: c["skipped_because"] for c in owners[3]["considered"] if c["skipped_because"]} == {
        "r1": "at capacity (2/2)",
        "r2": "at capacity (1/1)",
    }


def test_the_same_contact_keeps_its_rep_and_takes_no_second_slot(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1", capacity=5), rep("r2", capacity=5))
    first_rep = None
    for i in range(3):
        hot_lead["event_id"] = f"again-{i}"
        _, body = aws.post_lead(hot_lead)
        assignment = aws.wait_status(body["lead_id"], {"notified"})["assignment"]
        first_rep = first_rep or assignment["rep_id"]
        assert assignment["rep_id"] == first_rep
    from handoff.aws import container

    assert container.ports().reps.get(first_rep).open_count == 1  # type: ignore[union-attr,arg-type]
