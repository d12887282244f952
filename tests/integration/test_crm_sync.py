"""CRM write-back on moto: the owner and status reach the (fake) CRMs through the queue and
the crm_sync handler; a CRM outage never blocks the handoff, retries, and ends in the
dead-letter queue with every failure on the lead's timeline; a redelivered message writes once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from handoff.aws import container
from handoff.aws.tables import IDEMPOTENCY
from handoff.deploy.functions import CRM_SYNC, CRM_SYNC_MAX_RECEIVES
from handoff.local.fake_hubspot import FakeHubSpot
from handoff.local.fake_salesforce import FakeSalesforce
from handoff.local.provision import CRM_SYNC_QUEUE, table_name
from handoff.local.queues import drain_once
from tests.integration.conftest import SECRETS, Aws, rep, use_config
from tests.integration.test_crm_webhooks import OUTBOUND, WORKFLOW


@pytest.fixture
def crm_sync(
    aws: Aws, hubspot_api: FakeHubSpot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    # SLAs long enough that no ladder runs: each test counts its own writes.
    use_config(monkeypatch, tmp_path / "handoff.toml", **{"hot = 2\nwarm = 30": "hot = 3600\nwarm = 3600"})
    salesforce = FakeSalesforce(
        SECRETS["HANDOFF_SALESFORCE_CLIENT_ID"], SECRETS["HANDOFF_SALESFORCE_CLIENT_SECRET"]
    ).start()
    sqs = boto3.client("sqs")
    queue = sqs.get_queue_url(QueueName=CRM_SYNC_QUEUE)["QueueUrl"]
    monkeypatch.setenv("HANDOFF_CRM_SYNC_QUEUE_URL", queue)
    monkeypatch.setenv("HANDOFF_IDEMPOTENCY_TABLE", table_name(IDEMPOTENCY))
    monkeypatch.setenv("HANDOFF_SALESFORCE_LOGIN_URL", salesforce.url)
    container.reset()
    aws.put_reps(rep("r1", crm_owner_ids=["71", "0055g0000USER01AAA"]))
    yield {
        "queue": queue,
        "dlq": sqs.get_queue_url(QueueName=f"{CRM_SYNC_QUEUE}-dlq")["QueueUrl"],
        "salesforce": salesforce,
    }
    salesforce.stop()


def _drain(queue: str, rounds: int = 1) -> None:
    for _ in range(rounds):
        while drain_once(queue, CRM_SYNC):
            pass


def _count(queue: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])[
        "Attributes"
    ]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_owner_and_status_reach_hubspot_then_each_outcome_updates_the_status(
    aws: Aws, crm_sync: dict[str, Any], hubspot_api: FakeHubSpot
) -> None:
    status, body = aws.post_hubspot(WORKFLOW)
    assert status == 202
    aws.wait_for_event(body["lead_id"], "waiting")
    _drain(crm_sync["queue"])
    assert hubspot_api.writes == [
        (
            "/crm/v3/objects/contacts/3201",
            {"properties": {"hubspot_owner_id": "71", "hs_lead_status": "OPEN"}},
        )
    ]
    assert aws.dispose(body["lead_id"], outcome="connected")[0] == 200
    _drain(crm_sync["queue"])
    assert hubspot_api.writes[-1][1] == {"properties": {"hs_lead_status": "CONNECTED"}}
    timeline = [e for e in aws.get_lead(body["lead_id"])["timeline"] if e["event"] == "crm_synced"]
    assert [e["detail"].split(":")[0] for e in timeline] == ["assigned", "connected"]


def test_salesforce_lead_gets_owner_and_status_through_oauth(aws: Aws, crm_sync: dict[str, Any]) -> None:
    assert aws.post_salesforce(OUTBOUND)[0] == 200
    lead = next(e for e in aws.executions())
    aws.wait_for_event(lead["name"], "waiting")
    _drain(crm_sync["queue"])
    salesforce: FakeSalesforce = crm_sync["salesforce"]
    assert salesforce.records["00Q5g0000LEAD01AAA"] == {
        "OwnerId": "0055g0000USER01AAA",
        "Status": "Open - Not Contacted",
    }
    assert salesforce.tokens_issued == 1


def test_a_crm_outage_never_blocks_the_handoff_and_ends_in_the_dead_letter_queue(
    aws: Aws, crm_sync: dict[str, Any], hubspot_api: FakeHubSpot
) -> None:
    hubspot_api.fail_next(1000, status=503)
    status, body = aws.post_hubspot(WORKFLOW)
    assert status == 202
    lead = aws.wait_for_event(body["lead_id"], "waiting")
    assert lead["status"] == "notified"  # the brief went out whatever the CRM does
    for _ in range(CRM_SYNC_MAX_RECEIVES + 2):
        _drain(crm_sync["queue"])
        if _count(crm_sync["dlq"]):
            break
        time.sleep(1.1)  # the local visibility timeout
    assert _count(crm_sync["dlq"]) == 1 and _count(crm_sync["queue"]) == 0
    failures = [e for e in aws.get_lead(body["lead_id"])["timeline"] if e["event"] == "crm_sync_failed"]
    assert len(failures) == CRM_SYNC_MAX_RECEIVES
    assert "HubSpot unavailable" in failures[0]["detail"]
    assert hubspot_api.writes == []


def test_a_redelivered_message_writes_once(
    aws: Aws, crm_sync: dict[str, Any], hubspot_api: FakeHubSpot
) -> None:
    _, body = aws.post_hubspot(WORKFLOW)
    aws.wait_for_event(body["lead_id"], "waiting")
    message = boto3.client("sqs").receive_message(QueueUrl=crm_sync["queue"])["Messages"][0]
    boto3.client("sqs").send_message(
        QueueUrl=crm_sync["queue"], MessageBody=message["Body"]
    )  # SQS redelivers
    _drain(crm_sync["queue"], rounds=3)
    assert len(hubspot_api.writes) == 1
    assert json.loads(message["Body"]) == {"lead_id": body["lead_id"], "action": "assigned", "round": 0}


def test_the_owner_gets_one_task_in_hubspot_with_the_brief_however_often_it_is_delivered(
    aws: Aws,
    crm_sync: dict[str, Any],
    hubspot_api: FakeHubSpot,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_config(
        monkeypatch,
        tmp_path / "tasks.toml",
        **{
            "hot = 2\nwarm = 30": "hot = 3600\nwarm = 3600",
            'create_tasks = false\ntask_priority = "HIGH"': 'create_tasks = true\ntask_priority = "HIGH"',
        },
    )
    _, body = aws.post_hubspot(WORKFLOW)
    aws.wait_for_event(body["lead_id"], "waiting")
    sqs = boto3.client("sqs")
    bodies = [
        m["Body"] for m in sqs.receive_message(QueueUrl=crm_sync["queue"], MaxNumberOfMessages=10)["Messages"]
    ]
    (task,) = [b for b in bodies if json.loads(b)["action"] == "task"]
    for _ in range(2):  # SQS redelivers
        sqs.send_message(QueueUrl=crm_sync["queue"], MessageBody=task)
    _drain(crm_sync["queue"], rounds=3)
    tasks = hubspot_api.data.get("tasks", {})
    assert len(tasks) == 1
    (created,) = tasks.values()
    assert created["properties"]["hubspot_owner_id"] == "71"
    assert created["associations"]["contacts"]["results"][0]["id"] == "3201"
    lead = aws.get_lead(body["lead_id"])
    assert [t["task_id"] for t in lead["crm_tasks"]] == [created["id"]]
    assert lead["crm_tasks"][0]["due_at"] == lead["sla"]["due_at"]
