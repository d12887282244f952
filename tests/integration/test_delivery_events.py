"""A bounced or complained-about brief escalates the handoff at once."""

from __future__ import annotations

import json
from typing import Any

from handoff.functions import SES_EVENTS
from handoff.local import lambdas
from handoff.service.delivery import problems_in
from tests.integration.conftest import Aws, rep


def sns(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(m)}} for m in messages]}


def bounce(message_id: str, kind: str = "Bounce") -> dict[str, Any]:
    return {"eventType": kind, "mail": {"messageId": message_id, "destination": ["r1@example.com"]}}


def test_a_bounced_brief_ends_the_wait_and_escalates(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: Any
) -> None:
    aws.put_reps(rep("r1"))
    hot_lead["event_id"] = "bounce-1"
    _, body = aws.post_lead(hot_lead)
    lead = aws.wait_for_event(body["lead_id"], "waiting")
    message_id = lead["notifications"][0]["message_id"]
    assert lambdas.invoke(SES_EVENTS, sns(bounce(message_id))) == {"escalated": 1}
    lead = aws.wait_for_event(body["lead_id"], "reassigned")  # no reminder: straight to the manager
    assert lead["escalations"][0]["because"] == "brief_bounced"
    assert [n["kind"] for n in lead["notifications"]][:2] == ["brief", "escalation"]
    assert "the brief bounced" in next(
        e["detail"] for e in lead["timeline"] if e["event"] == "brief_undelivered"
    )


def test_unknown_messages_and_other_events_change_nothing(aws: Aws) -> None:
    event = sns(bounce("not-a-brief"), {"eventType": "Delivery", "mail": {"messageId": "x"}}, {"junk": True})
    assert lambdas.invoke(SES_EVENTS, event) == {"escalated": 0}
    assert aws.leads_count() == 0


def test_problem_parsing() -> None:
    event = sns(
        bounce("m1"), bounce("m2", "Complaint"), {"notificationType": "Bounce", "mail": {"messageId": "m3"}}
    )
    event["Records"].append({"Sns": {"Message": "not json"}})
    assert problems_in(event) == [("m1", "Bounce"), ("m2", "Complaint"), ("m3", "Bounce")]
