"""Reassignments a person asks for, on the real ASL: the owner's wrong_owner flag (naming the
right rep or not) and ops' manual move, each carried out by the workflow's Reassign step."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handoff.aws import container
from handoff.domain.clock import utcnow
from handoff.insights.history import from_record
from tests.integration.conftest import SECRETS, Aws, rep

pytestmark = pytest.mark.usefixtures("patient_sla")


def reassign(aws: Aws, lead_id: str, **body: Any) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "x-api-key": SECRETS["HANDOFF_API_KEY"]}
    return aws.api("POST", f"/leads/{lead_id}/reassign", json.dumps(body).encode(), headers)


def parked(aws: Aws, hot_lead: dict[str, Any], *reps: str) -> str:
    """A lead briefed to the first of ``reps``, its SLA wait parked."""
    aws.put_reps(*(rep(r, capacity=3) for r in reps))
    _, body = aws.post_lead(hot_lead)
    aws.wait_for_event(body["lead_id"], "waiting")
    assert aws.get_lead(body["lead_id"])["assignment"]["rep_id"] == reps[0]
    return str(body["lead_id"])


def open_count(rep_id: str) -> int:
    found = container.ports().reps.get(rep_id)
    assert found is not None
    return found.open_count


def test_wrong_owner_naming_the_right_rep_moves_the_lead_to_them(aws: Aws, hot_lead: dict[str, Any]) -> None:
    lead_id = parked(aws, hot_lead, "r1", "r2", "r3")
    status, body = aws.dispose(
        lead_id, outcome="recycle", reason="wrong_owner", rep_id="r1", by="r1", owner="r3@example.com"
    )
    assert (status, body["status"], body["to"]) == (200, "reassigning", "r3"), body
    lead = aws.wait_for_event_after(lead_id, "reassigned", "waiting")  # r3's wait is parked
    assignment = lead["assignment"]
    assert (assignment["rep_id"], assignment["rule"], assignment["because"], assignment["requested_by"]) == (
        "r3", "named_owner", "wrong_owner", "r1"
    )  # fmt: skip
    assert assignment["reason"].startswith("Named by r1 (wrong owner)")
    assert [a["rep_id"] for a in lead["assignment_history"]] == ["r1"]
    assert "reassign_request" not in lead
    # The flag is kept, but it is no touch and closes nothing.
    [flag] = lead["dispositions"]
    assert (flag["reason"], flag["stale"], flag["named_owner"]) == ("wrong_owner", True, "r3")
    assert lead["status"] == "notified" and lead["sla"]["state"] == "pending"
    assert [(n["kind"], n["to"], n["round"]) for n in lead["notifications"]][-1] == (
        "brief",
        "r3@example.com",
        1,
    )
    assert (open_count("r1"), open_count("r3")) == (0, 1)
    events = [e["event"] for e in lead["timeline"]]
    assert events.index("reassign_requested") < events.index("reassigned")
    # r3 works it; the report counts one reassignment, for wrong_owner, and the flag.
    assert aws.dispose(lead_id, outcome="connected", rep_id="r3")[0] == 200
    assert aws.execution(lead_id)["status"] == "SUCCEEDED"
    record = container.ports().leads.get(lead_id)
    assert record is not None
    row = from_record(record, utcnow())
    assert (row.reassigned_because, row.wrong_owner, row.outcomes) == (["wrong_owner"], True, ["connected"])


def test_wrong_owner_naming_nobody_routes_without_the_flagging_rep(
    aws: Aws, hot_lead: dict[str, Any]
) -> None:
    lead_id = parked(aws, hot_lead, "r1", "r2")
    status, body = aws.dispose(lead_id, outcome="recycle", reason="wrong_owner", rep_id="r1")
    assert (status, body["to"]) == (200, "the next rep routing picks"), body
    lead = aws.wait_for_event_after(lead_id, "reassigned", "waiting")
    assert (lead["assignment"]["rep_id"], lead["assignment"]["because"]) == ("r2", "wrong_owner")
    skipped = {c["rep_id"]: c["skipped_because"] for c in lead["assignment"]["considered"]}
    assert skipped["r1"] == "already had this lead"


def test_ops_move_a_worked_lead_and_the_new_owner_gets_a_brief(aws: Aws, hot_lead: dict[str, Any]) -> None:
    lead_id = parked(aws, hot_lead, "r1", "r2")
    assert aws.dispose(lead_id, outcome="attempted", rep_id="r1")[0] == 200
    assert aws.execution(lead_id)["status"] == "SUCCEEDED"  # the first touch closed the workflow
    status, body = reassign(aws, lead_id, to_rep_id="r2", by="ops@example.com", note="territory change")
    assert (status, body["status"]) == (202, "reassigning"), body
    lead = aws.wait_for_event_after(lead_id, "reassigned", "waiting")
    assert (lead["assignment"]["rep_id"], lead["assignment"]["because"]) == ("r2", "manual")
    assert lead["assignment"]["requested_by"] == "ops@example.com"
    assert lead["status"] == "notified"
    # The first rep's follow-up cadence was theirs: it stops with the move.
    assert lead["cadence"]["state"] == "stopped"
    assert lead["notifications"][-1]["to"] == "r2@example.com"
    assert (open_count("r1"), open_count("r2")) == (0, 1)
    record = container.ports().leads.get(lead_id)
    assert record is not None and from_record(record, utcnow()).reassigned_because == ["manual"]


def test_a_person_may_hand_a_lead_back_to_a_rep_who_had_it(aws: Aws, hot_lead: dict[str, Any]) -> None:
    lead_id = parked(aws, hot_lead, "r1", "r2")
    assert reassign(aws, lead_id, to_rep_id="r2")[0] == 202
    aws.wait_for_event_after(lead_id, "reassigned", "waiting")
    assert reassign(aws, lead_id, to_rep_id="r1")[0] == 202
    lead = aws.wait_for_event(lead_id, "waiting", count=3)
    assert [a["rep_id"] for a in lead["assignment_history"]] == ["r1", "r2"]
    assert lead["assignment"]["rep_id"] == "r1"


def test_reassignments_that_cannot_happen_are_refused_and_change_nothing(
    aws: Aws, hot_lead: dict[str, Any]
) -> None:
    lead_id = parked(aws, hot_lead, "r1", "r2")
    aws.put_reps(rep("gone", active=False))
    before = aws.get_lead(lead_id)
    refusals = [
        (reassign(aws, lead_id, to_rep_id="nobody"), 400, "to_rep_id 'nobody' is not a rep in Handoff"),
        (reassign(aws, lead_id, to_rep_id="gone"), 400, "to_rep_id gone is not active"),
        (reassign(aws, lead_id, to_rep_id="r1"), 400, "r1 already owns lead"),
        (reassign(aws, lead_id, to_rep_id="r2", surprise=1), 400, "surprise"),
        (reassign(aws, "no-such-lead"), 404, "not found"),
        (
            aws.dispose(lead_id, outcome="recycle", reason="wrong_owner", rep_id="r1", owner="nobody"),
            400,
            "owner 'nobody' is not a rep in Handoff",
        ),
    ]
    for (status, body), want_status, want_text in refusals:
        assert status == want_status, body
        assert want_text in json.dumps(body), body
    status, _ = aws.api("POST", f"/leads/{lead_id}/reassign", b"{}", {"Content-Type": "application/json"})
    assert status == 401
    after = aws.get_lead(lead_id)
    assert (after["assignment"], after["dispositions"], after["timeline"]) == (
        before["assignment"], before["dispositions"], before["timeline"]
    )  # fmt: skip
    # A closed lead is nobody's to move.
    assert aws.dispose(lead_id, outcome="meeting_set", rep_id="r1")[0] == 200
    status, body = reassign(aws, lead_id, to_rep_id="r2")
    assert status == 409 and "closed" in body["message"], body
