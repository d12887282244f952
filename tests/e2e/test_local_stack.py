"""End to end over real HTTP: webhook → assigned → brief in the outbox → disposition → done."""

from __future__ import annotations

import email
import json
import time
from typing import Any

from handoff.deploy.functions import ALL_FUNCTIONS
from handoff.deploy.workflow import function_substitutions, render_definition
from handoff.local import lambdas
from handoff.local.provision import CRM_SYNC_QUEUE
from tests.e2e.conftest import Served, unique_event


def _emails_to(
    served: Served, address: str, lead_id: str, timeout: float = 10
) -> list[email.message.Message]:
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for path in sorted(served.outbox.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes())
            if message["To"] == address and lead_id in path.read_text():
                found.append(message)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_signed_webhook_to_brief_to_disposition(served: Served, hot_lead: dict[str, Any]) -> None:
    response = served.client.post_generic(unique_event(hot_lead))
    assert response.status == 202
    lead_id = response.body["lead_id"]
    lead = served.client.wait_for(lead_id, {"notified"})
    assert lead["status"] == "notified"
    rep_email = lead["assignment"]["rep_email"]
    assert lead["assignment"]["considered"]

    [brief] = _emails_to(served, rep_email, lead_id)
    assert "Jordan Lee" in brief["Subject"]
    html_files = list(served.outbox.glob("*.html"))
    assert any("Jordan Lee" in p.read_text() for p in html_files)

    # Wait until the workflow has parked its token, then touch the lead.
    deadline = time.monotonic() + 10
    while not any(e["event"] == "waiting" for e in served.client.get_lead(lead_id).body["timeline"]):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    answer = served.client.dispose(lead_id, "meeting_set", note="Tuesday 10am")
    assert answer.status == 200
    assert served.execution_status(lead_id) == "SUCCEEDED"
    lead = served.client.get_lead(lead_id).body
    assert lead["status"] == "closed"
    assert lead["sla"]["state"] == "met"


def test_no_touch_climbs_the_ladder_to_renurture(served: Served, hot_lead: dict[str, Any]) -> None:
    hot_lead["contact"]["email"] = "nobody.answers@northwind.example"
    response = served.client.post_generic(unique_event(hot_lead))
    lead_id = response.body["lead_id"]
    lead = served.client.wait_for(lead_id, {"renurtured"}, timeout=60)
    assert lead["status"] == "renurtured"
    events = [e["event"] for e in lead["timeline"]]
    for step in ("reminded", "escalated", "reassigned", "renurtured"):
        assert step in events, step
    assert served.execution_status(lead_id) == "SUCCEEDED"
    manager = lead["assignment_history"][0]["manager_email"]
    assert _emails_to(served, manager, lead_id)


def test_bad_signature_is_401_and_creates_nothing(served: Served, hot_lead: dict[str, Any]) -> None:
    lead = unique_event(hot_lead)
    response = served.client.post_generic(lead, secret="not-the-secret")
    assert response.status == 401
    assert response.body["error"] == "unauthorized"
    from handoff.domain.lead import Lead

    assert served.client.get_lead(Lead.model_validate(lead).lead_id).status == 404


def test_malformed_json_is_400_and_unknown_routes_404(served: Served) -> None:
    response = served.client.post_generic(b'{"event_id": "x", ')
    assert response.status == 400
    assert "not JSON of the shape" in response.body["message"]  # the gateway's model, as API Gateway answers
    assert served.client.request("GET", "/nope").status == 404


def test_nurture_lead_answers_200_with_reasons(served: Served, nurture_lead: dict[str, Any]) -> None:
    response = served.client.post_generic(unique_event(nurture_lead))
    assert response.status == 200
    assert response.body["status"] == "nurture"
    assert response.body["reasons"]


def test_the_local_stack_executes_the_same_asl_file(served: Served) -> None:
    sfn = served.aws("stepfunctions")
    [machine] = sfn.list_state_machines()["stateMachines"]
    described = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])
    expected = render_definition(
        function_substitutions({f.key: lambdas.function_arn(f) for f in ALL_FUNCTIONS})
    )
    assert json.loads(described["definition"]) == json.loads(expected)
    assert described["type"] == "STANDARD"


def test_one_click_link_from_the_outbox(served: Served, hot_lead: dict[str, Any]) -> None:
    import email.policy
    import re
    import urllib.parse
    import urllib.request

    response = served.client.post_generic(unique_event(hot_lead))
    lead_id = response.body["lead_id"]
    lead = served.client.wait_for(lead_id, {"notified"})
    deadline = time.monotonic() + 10
    while not any(e["event"] == "waiting" for e in served.client.get_lead(lead_id).body["timeline"]):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    [brief] = _emails_to(served, lead["assignment"]["rep_email"], lead_id)
    text = email.message_from_bytes(brief.as_bytes(), policy=email.policy.default)
    plain = next(p for p in text.walk() if p.get_content_type() == "text/plain").get_content()
    url = re.search(r"^Connected: (\S+)$", plain, re.MULTILINE).group(1)  # type: ignore[union-attr]
    with urllib.request.urlopen(url, timeout=10) as page:  # noqa: S310 - the local stack
        assert "Record connected" in page.read().decode()
    form = urllib.parse.urlencode({"note": "left a voicemail too"}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=form, method="POST"), timeout=10) as page:  # noqa: S310
        assert "Connected recorded" in page.read().decode()
    assert served.execution_status(lead_id) == "SUCCEEDED"
    assert served.client.get_lead(lead_id).body["dispositions"][0]["by"].startswith("link:")


def test_the_stacks_queue_poller_feeds_crm_sync_as_messages_arrive(served: Served) -> None:
    """The event source mapping's local stand-in: a write-back message sent while the poller
    waits on its long poll is handed to crm_sync and deleted (a lead that is gone: nothing to
    write), leaving the queue and its dead-letter queue empty."""
    sqs = served.aws("sqs")
    queue = sqs.get_queue_url(QueueName=CRM_SYNC_QUEUE)["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=f"{CRM_SYNC_QUEUE}-dlq")["QueueUrl"]

    def left(url: str) -> int:
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return int(counts["ApproximateNumberOfMessages"]) + int(
            counts["ApproximateNumberOfMessagesNotVisible"]
        )

    for n in range(2):
        sqs.send_message(
            QueueUrl=queue, MessageBody=json.dumps({"lead_id": f"ld_{n:024x}", "action": "assigned"})
        )
        deadline = time.monotonic() + 10
        while left(queue):
            assert time.monotonic() < deadline, "the poller did not take the message"
            time.sleep(0.1)
        time.sleep(1.5)  # the next message arrives while the poller waits in its long poll
    assert left(dlq) == 0
