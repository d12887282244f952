"""The SLA ladder on the real ASL: remind, escalate, reassign, re-nurture; and dispositions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.aws import container
from tests.integration.conftest import Aws, rep, use_config

GENEROUS_GRACE = {"reminder_grace_seconds = 1": "reminder_grace_seconds = 8"}


def touch(aws: Aws, lead_id: str, **body: Any) -> tuple[int, dict[str, Any]]:
    return aws.dispose(lead_id, **({"outcome": "connected"} | body))


@pytest.mark.usefixtures("patient_sla")
def test_touched_within_the_sla(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    aws.wait_for_event(body["lead_id"], "waiting")
    assert touch(aws, body["lead_id"])[0] == 200
    assert aws.execution(body["lead_id"])["status"] == "SUCCEEDED"
    lead = aws.get_lead(body["lead_id"])
    assert (lead["status"], lead["sla"]["state"]) == ("working", "met")
    assert "reminded" not in [e["event"] for e in lead["timeline"]]


def test_timeout_then_reminder_then_touched(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_config(monkeypatch, tmp_path / "c.toml", **GENEROUS_GRACE)
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    lead = aws.wait_for_event(body["lead_id"], "reminded")
    assert [n["kind"] for n in lead["notifications"]] == ["brief", "reminder"]
    assert lead["sla"]["state"] == "breached"
    aws.wait_for_event(body["lead_id"], "waiting", count=2)  # the grace wait has its own token
    assert touch(aws, body["lead_id"])[0] == 200  # a disposition after the SLA
    assert aws.execution(body["lead_id"])["status"] == "SUCCEEDED"
    lead = aws.get_lead(body["lead_id"])
    assert (lead["status"], lead["sla"]["state"]) == ("working", "breached")
    assert lead["escalations"] == []
    assert lead["first_touch_seconds"] > 2


def test_timeout_then_reassigned_and_the_second_rep_touches(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1", capacity=3), rep("r2", capacity=3))
    _, body = aws.post_lead(hot_lead)
    lead_id = body["lead_id"]
    lead = aws.wait_for_event(lead_id, "reassigned")
    assert lead["assignment"]["rep_id"] == "r2"
    assert [a["rep_id"] for a in lead["assignment_history"]] == ["r1"]
    assert {c["rep_id"]: c["skipped_because"] for c in lead["assignment"]["considered"]}[
        "r1"
    ] == "already had this lead"
    assert lead["escalations"][0] | {"at": None} == {
        "at": None, "step": "manager", "to_rep": "r1", "because": "sla_lapsed", "next": "reassign"
    }  # fmt: skip
    assert container.ports().reps.get("r1").open_count == 0  # type: ignore[union-attr]  # released on reassignment
    # r1's SLA wait, r1's grace wait, then r2's wait: r2's token is parked.
    lead = aws.wait_for_event(lead_id, "waiting", count=3)
    assert [(n["kind"], n["to"], n["round"]) for n in lead["notifications"]][-1] == (
        "brief",
        "r2@example.com",
        1,
    )
    assert touch(aws, lead_id, rep_id="r2")[0] == 200
    assert aws.execution(lead_id)["status"] == "SUCCEEDED"
    lead = aws.get_lead(lead_id)
    assert (lead["status"], lead["assignment"]["rep_id"]) == ("working", "r2")
    # r2's own touch counts (not stale); whether it beat r2's 2 s test SLA depends on the
    # machine's load, and the lead is a breach either way: r1's first deadline passed untouched.
    assert [(d["outcome"], d["stale"]) for d in lead["dispositions"]] == [("connected", False)]


def test_every_timeout_ends_in_renurture(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1"), rep("r2"))
    _, body = aws.post_lead(hot_lead)
    assert aws.execution(body["lead_id"], timeout=40)["status"] == "SUCCEEDED"
    lead = aws.get_lead(body["lead_id"])
    assert lead["status"] == "renurtured"
    assert [e["next"] for e in lead["escalations"]] == ["reassign", "renurture"]
    kinds = [(n["kind"], n["to"]) for n in lead["notifications"]]
    assert kinds == [
        ("brief", "r1@example.com"), ("reminder", "r1@example.com"), ("escalation", "boss@example.com"),
        ("brief", "r2@example.com"), ("reminder", "r2@example.com"), ("escalation", "boss@example.com"),
        ("renurture", "marketing-ops@example.com"),
    ]  # fmt: skip
    assert [container.ports().reps.get(r).open_count for r in ("r1", "r2")] == [0, 0]  # type: ignore[union-attr]
    assert "crm_status" in [e["event"] for e in lead["timeline"]]


def test_duplicate_invalid_and_stale_dispositions(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1"), rep("r2"))
    _, body = aws.post_lead(hot_lead)
    lead_id = body["lead_id"]
    aws.wait_for_event(lead_id, "waiting")
    assert touch(aws, lead_id, rep_id="r2")[1]["stale"] == "true"  # r2 does not own it
    lead = aws.get_lead(lead_id)
    assert (lead["status"], lead["sla"]["state"]) == ("notified", "pending")  # the wait goes on
    assert touch(aws, lead_id, rep_id="r1")[0] == 200
    again = touch(aws, lead_id, rep_id="r1")
    assert again[1]["duplicate"] == "true"
    status, answer = touch(aws, lead_id, outcome="recycle", reason="someday")
    assert status == 400 and "timing, no_response, not_decision_maker" in answer["message"]
    lead = aws.get_lead(lead_id)
    assert [(d["outcome"], d["stale"]) for d in lead["dispositions"]] == [
        ("connected", True),
        ("connected", False),
    ]
    assert aws.execution(lead_id)["status"] == "SUCCEEDED"
    from datetime import timedelta

    from handoff.domain.clock import utcnow

    stored = container.ports().dispositions.between(
        utcnow() - timedelta(minutes=5), utcnow() + timedelta(minutes=1)
    )
    assert [(d["lead_id"], d["outcome"], d["stale"]) for d in stored] == [
        (lead_id, "connected", True),
        (lead_id, "connected", False),
    ]


def test_the_sla_can_count_only_the_reps_working_hours(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from handoff.service import routing

    use_config(
        monkeypatch,
        tmp_path / "c.toml",
        **{"sla_in_working_hours = false": "sla_in_working_hours = true"},
    )
    aws.put_reps(rep("r1", timezone="America/New_York", working_hours="09:00-17:00"))
    monkeypatch.setenv(
        "HANDOFF_STATE_MACHINE_ARN", aws.state_machine_arn + "-off"
    )  # route by hand, at a fixed time
    container.reset()
    _, body = aws.post_lead(hot_lead)
    container.ports().leads.update(body["lead_id"], set_fields={"status": "routing"})
    friday_evening = datetime(2026, 11, 6, 23, 0, tzinfo=UTC)  # Fri 18:00 in New York
    result = routing.route(container.ports(), body["lead_id"], friday_evening)
    lead = aws.get_lead(body["lead_id"])
    assert lead["sla"]["due_at"].startswith("2026-11-09T14:00:02")  # Mon 09:00:02 New York (a 2 s SLA)
    assert result.sla_seconds == 2 * 86400 + 15 * 3600 + 2  # what the workflow waits, on the wall clock


def test_a_repeated_reassign_never_asks_the_workflow_for_a_zero_wait(
    aws: Aws, nurture_lead: dict[str, Any]
) -> None:
    """The ASL feeds sla_seconds to a .waitForTaskToken timeout, which Step Functions refuses
    unless it is at least 1. A reassign that finds nothing to reassign (a retried step, or a
    lead with no SLA set) still answers a wait the workflow can take."""
    from handoff.deploy.functions import ROUTE
    from handoff.local import lambdas

    _, body = aws.post_lead(nurture_lead)  # stored, never assigned: no SLA on the record
    result = lambdas.invoke(ROUTE, {"lead_id": body["lead_id"], "action": "reassign"})
    assert result["sla_seconds"] >= 1


class Clock:
    """The handlers' clock, set by the test; it runs on from the moment it is set."""

    def __init__(self, moment: str) -> None:
        self.set(moment)

    def set(self, moment: str) -> None:
        import time
        from datetime import datetime

        self.base, self.started = datetime.fromisoformat(moment), time.monotonic()

    def __call__(self) -> Any:
        import time
        from datetime import timedelta

        return self.base + timedelta(seconds=time.monotonic() - self.started)


def test_a_bounce_before_the_managers_day_escalates_when_it_starts(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The real ASL's "later" loop: the escalation step finds the manager off, tells nobody, and
    the workflow waits for the manager's working hours before escalating again."""
    import importlib
    import json

    from handoff.deploy.functions import SES_EVENTS
    from handoff.local import lambdas

    use_config(
        monkeypatch,
        tmp_path / "c.toml",
        **{
            "sla_in_working_hours = false": "sla_in_working_hours = true",
            "hot = 2\n": "hot = 600\n",  # only the bounce escalates
            "reassignments = 1": "reassignments = 0",
        },
    )
    clock = Clock("2026-11-25T08:00:00+00:00")  # a Wednesday
    for module in ("route", "notify", "await_touch"):
        monkeypatch.setattr(importlib.import_module(f"functions.{module}.app"), "utcnow", clock)
    boss = rep("boss", email="boss@example.com", pools=["managers"], manager_email=None)  # 09:00-17:30 UTC
    aws.put_reps(rep("r1", working_hours="00:00-23:59"), boss)
    _, body = aws.post_lead(hot_lead)
    lead_id = body["lead_id"]
    aws.wait_for_event(lead_id, "waiting")
    message_id = (container.ports().leads.get_item(lead_id) or {})["brief_message_id"]
    clock.set("2026-11-25T08:59:52+00:00")  # the manager starts in 8 s
    bounce = {"eventType": "Bounce", "mail": {"messageId": message_id, "tags": {"lead_id": [lead_id]}}}
    lambdas.invoke(
        SES_EVENTS, {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(bounce)}}]}
    )
    assert aws.execution(lead_id, timeout=40)["status"] == "SUCCEEDED"
    lead = aws.get_lead(lead_id)
    assert lead["status"] == "renurtured"
    [escalation] = [n for n in lead["notifications"] if n["kind"] == "escalation"]
    assert escalation["to"] == "boss@example.com" and escalation["sent_at"] >= "2026-11-25T09:00:00"
    assert lead["escalations"][0]["because"] == "brief_bounced"
    [held] = [e for e in lead["timeline"] if e["event"] == "escalation_held"]
    assert held["at"] < "2026-11-25T09:00:00" and held["detail"].endswith("escalating Wed 25 Nov 09:00 UTC")
