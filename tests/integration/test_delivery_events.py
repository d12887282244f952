"""A bounced or complained-about brief escalates the handoff at once, whenever it arrives."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from handoff.aws import container
from handoff.deploy.functions import SES_EVENTS
from handoff.local import lambdas
from handoff.service import touch
from handoff.service.delivery import Problem, problems_in
from handoff.service.ports import Ports
from tests.integration.conftest import Aws, rep, use_config

# An SLA far longer than any test: an escalation seen here came from the bounce, not the clock.
LONG_SLA = {"hot = 2": "hot = 600"}


def sns(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(m)}} for m in messages]}


def bounce(message_id: str, kind: str = "Bounce", tags: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """An SES event-publishing record, shaped as the SES developer guide's SNS examples."""
    mail: dict[str, Any] = {"messageId": message_id, "destination": ["r1@example.com"]}
    if tags is not None:
        mail["tags"] = {"ses:configuration-set": ["handoff"], **tags}
    return {"eventType": kind, "mail": mail}


@dataclass
class Sent:
    message_id: str
    tags: dict[str, list[str]]


@dataclass
class Ses:
    """What SES sees: each SendEmail's message tags; it can also bounce an email the moment
    it is sent, before SendEmail has even returned, as real SES occasionally almost does."""

    sent: list[Sent] = field(default_factory=list)
    bounce_next: bool = False
    answers: list[Any] = field(default_factory=list)

    def publish(self, sent: Sent) -> None:
        # Its own thread, as SNS calls ses_events from elsewhere; joined so the order is certain.
        worker = threading.Thread(
            target=lambda: self.answers.append(lambdas.invoke(SES_EVENTS, sns(bounce(**vars(sent)))))
        )
        worker.start()
        worker.join()


def watch_ses() -> Ses:
    """Watch the SES client the handlers use (call after use_config, which makes a new one)."""
    seen = Ses()
    events = container.client("sesv2").meta.events

    def keep_tags(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        # SES publishes each tag as a list of values.
        context["tags"] = {t["Name"]: [t["Value"]] for t in params.get("EmailTags", [])}

    def sent(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if "MessageId" not in parsed:
            return
        email = Sent(parsed["MessageId"], context.get("tags", {}))
        seen.sent.append(email)
        if seen.bounce_next:
            seen.bounce_next = False
            seen.publish(email)

    events.register("before-parameter-build.sesv2.SendEmail", keep_tags)
    events.register("after-call.sesv2.SendEmail", sent)
    return seen


def events_of(lead: dict[str, Any]) -> list[str]:
    return [entry["event"] for entry in lead["timeline"]]


def test_a_bounced_brief_ends_the_wait_and_escalates(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The long SLA keeps a loaded machine's clock from sending the reminder before the bounce.
    use_config(monkeypatch, tmp_path / "c.toml", **LONG_SLA)
    aws.put_reps(rep("r1"))
    hot_lead["event_id"] = "bounce-1"
    _, body = aws.post_lead(hot_lead)
    lead = aws.wait_for_event(body["lead_id"], "waiting")
    message_id = lead["notifications"][0]["message_id"]
    # No tags: identity feedback notifications carry none, so the message id finds the lead.
    assert lambdas.invoke(SES_EVENTS, sns(bounce(message_id))) == {"escalated": 1}
    lead = aws.wait_for_event(body["lead_id"], "reassigned")  # no reminder: straight to the manager
    assert lead["escalations"][0]["because"] == "brief_bounced"
    assert [n["kind"] for n in lead["notifications"]][:2] == ["brief", "escalation"]
    assert "the brief bounced" in next(
        e["detail"] for e in lead["timeline"] if e["event"] == "brief_undelivered"
    )


def test_briefs_name_their_lead_in_ses_tags(aws: Aws, hot_lead: dict[str, Any]) -> None:
    ses = watch_ses()
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    aws.wait_for_event(body["lead_id"], "waiting")
    assert ses.sent[0].tags == {"lead_id": [body["lead_id"]], "kind": ["brief"]}


def test_a_bounce_before_the_message_id_is_stored_still_escalates(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_config(monkeypatch, tmp_path / "c.toml", **LONG_SLA)
    ses = watch_ses()
    aws.put_reps(rep("r1"))
    ses.bounce_next = True  # bounced inside SendEmail: the notify step has not stored the id yet
    _, body = aws.post_lead(hot_lead)
    lead = aws.wait_for_event(body["lead_id"], "escalated", timeout=10)
    assert ses.answers == [{"escalated": 0}]  # nothing was waiting yet
    timeline = events_of(lead)
    assert timeline.index("brief_undelivered") < timeline.index("notified") < timeline.index("waiting")
    assert lead["escalations"][0]["because"] == "brief_bounced"
    assert "reminded" not in timeline
    assert [n["kind"] for n in lead["notifications"]][:2] == ["brief", "escalation"]


def test_a_bounce_before_the_token_is_parked_still_escalates(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_config(monkeypatch, tmp_path / "c.toml", **LONG_SLA)
    ses = watch_ses()
    aws.put_reps(rep("r1"))
    park = touch.await_touch

    def bounced_first(ports: Ports, lead_id: str, task_token: str, now: datetime) -> None:
        # The brief is recorded and the wait has begun, but its token is not parked yet.
        if not ses.answers:
            ses.publish(ses.sent[0])
        park(ports, lead_id, task_token, now)

    monkeypatch.setattr(touch, "await_touch", bounced_first)
    _, body = aws.post_lead(hot_lead)
    lead = aws.wait_for_event(body["lead_id"], "escalated", timeout=10)
    assert ses.answers == [{"escalated": 0}]  # no token to end the wait with yet
    timeline = events_of(lead)
    assert timeline.index("notified") < timeline.index("brief_undelivered") < timeline.index("waiting")
    assert lead["escalations"][0]["because"] == "brief_bounced"
    assert "reminded" not in timeline


def test_a_bounce_delivered_again_is_noted_and_acted_on_once(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_config(monkeypatch, tmp_path / "c.toml", **LONG_SLA)
    ses = watch_ses()
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    lead_id = body["lead_id"]
    aws.wait_for_event(lead_id, "waiting")
    event = sns(bounce(**vars(ses.sent[0])))
    # SNS delivers again, Lambda retries, and one SNS batch may hold the same record twice.
    answers = [lambdas.invoke(SES_EVENTS, event) for _ in range(2)]
    answers.append(lambdas.invoke(SES_EVENTS, {"Records": event["Records"] * 2}))
    lead = aws.wait_for_event_after(lead_id, "reassigned", "waiting")  # waiting on a new brief
    answers.append(lambdas.invoke(SES_EVENTS, event))
    assert answers == [{"escalated": 1}, {"escalated": 0}, {"escalated": 0}, {"escalated": 0}]
    lead = aws.get_lead(lead_id)
    assert lead["status"] == "notified"  # the new brief's wait goes on
    assert events_of(lead).count("brief_undelivered") == 1
    assert len(lead["escalations"]) == 1
    assert [n["kind"] for n in lead["notifications"]] == ["brief", "escalation", "brief"]


def test_a_late_bounce_of_an_earlier_brief_leaves_the_new_wait_alone(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_config(monkeypatch, tmp_path / "c.toml", **LONG_SLA)
    ses = watch_ses()
    aws.put_reps(rep("r1"), rep("r2"))
    _, body = aws.post_lead(hot_lead)
    lead_id = body["lead_id"]
    aws.wait_for_event(lead_id, "waiting")
    first = ses.sent[0]
    assert lambdas.invoke(SES_EVENTS, sns(bounce(**vars(first)))) == {"escalated": 1}
    aws.wait_for_event_after(lead_id, "reassigned", "waiting")
    # A complaint about the first brief, a day later: noted, but the second brief was delivered.
    assert lambdas.invoke(SES_EVENTS, sns(bounce(**vars(first), kind="Complaint"))) == {"escalated": 0}
    lead = aws.get_lead(lead_id)
    assert lead["status"] == "notified"
    assert len(lead["escalations"]) == 1


def test_unknown_messages_and_other_events_change_nothing(aws: Aws) -> None:
    event = sns(
        bounce("not-a-brief"),
        bounce("tagged-for-no-lead", tags={"lead_id": ["ld_000000000000000000000000"], "kind": ["brief"]}),
        {"eventType": "Delivery", "mail": {"messageId": "x"}},
        {"junk": True},
    )
    assert lambdas.invoke(SES_EVENTS, event) == {"escalated": 0}
    assert aws.leads_count() == 0


def test_problem_parsing() -> None:
    lead = "ld_0123456789abcdef01234567"
    event = sns(
        bounce("m1"),
        bounce("m2", "Complaint"),
        {"notificationType": "Bounce", "mail": {"messageId": "m3"}},
        bounce("m4", tags={"lead_id": [lead], "kind": ["brief"]}),
        bounce("m5", tags={"lead_id": [lead], "kind": ["reminder"]}),  # nothing waits on a reminder
        bounce("m6", tags={"lead_id": ["../not-a-lead"], "kind": ["brief"]}),
        bounce("m7", tags={"lead_id": "not a list", "kind": ["brief"]}),  # type: ignore[dict-item]
        bounce("m1"),
    )
    event["Records"].append({"Sns": {"Message": "not json"}})
    event["Records"].append({"Sns": {"Message": json.dumps({"eventType": "Bounce", "mail": "x"})}})
    assert problems_in(event) == [
        Problem("m1", "Bounce"),
        Problem("m2", "Complaint"),
        Problem("m3", "Bounce"),
        Problem("m4", "Bounce", lead),
        Problem("m5", "Bounce"),
        Problem("m6", "Bounce"),
        Problem("m7", "Bounce"),
    ]
