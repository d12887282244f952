"""A call, email or meeting logged in the CRM is the first touch, exactly like a brief's link:
it records the mapped outcome and completes the SLA wait."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Aws, rep, use_config
from tests.integration.test_crm_webhooks import OUTBOUND, WORKFLOW

ACTIVITY = "/webhooks/hubspot/activity"


@pytest.fixture(autouse=True)
def long_sla(aws: Aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_config(monkeypatch, tmp_path / "handoff.toml", **{"hot = 2\nwarm = 30": "hot = 3600\nwarm = 3600"})
    aws.put_reps(rep("r1", crm_owner_ids=["71", "0055g0000USER01AAA"]), rep("r2", capacity=0))


def hubspot_activity(kind: str, owner: str | None = "71", vid: int = 3201) -> bytes:
    properties: dict[str, Any] = {"hs_last_sales_activity_type": {"value": kind}}
    if owner:
        properties["hubspot_owner_id"] = {"value": owner}
    return json.dumps({"vid": vid, "properties": properties}).encode()


def task_message(subtype: str, who: str = "00Q5g0000LEAD01AAA", owner: str = "0055g0000USER01AAA") -> bytes:
    start, end = (
        OUTBOUND.index(b"<Notification>"),
        OUTBOUND.rindex(b"</Notification>") + len(b"</Notification>"),
    )
    task = (
        "<Notification><Id>04l5g0000TASK001AAA</Id>"
        '<sObject xsi:type="sf:Task" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"<sf:Id>00T5g0000TASK001AAA</sf:Id><sf:WhoId>{who}</sf:WhoId><sf:OwnerId>{owner}</sf:OwnerId>"
        f"<sf:TaskSubtype>{subtype}</sf:TaskSubtype><sf:Subject>Call</sf:Subject></sObject></Notification>"
    ).encode()
    return OUTBOUND[:start] + task + OUTBOUND[end:]


@pytest.mark.usefixtures("patient_sla")
def test_a_call_logged_in_hubspot_by_the_owner_completes_the_wait(aws: Aws) -> None:
    _, body = aws.post_hubspot(WORKFLOW)
    aws.wait_for_event(body["lead_id"], "waiting")
    status, answer = aws.post_hubspot(hubspot_activity("CALL"), path=ACTIVITY)
    assert status == 200 and answer["outcome"] == "connected" and answer["lead_id"] == body["lead_id"]
    assert aws.execution(body["lead_id"])["status"] == "SUCCEEDED"
    lead = aws.get_lead(body["lead_id"])
    assert [(d["outcome"], d["by"], d["stale"]) for d in lead["dispositions"]] == [
        ("connected", "crm:hubspot", False)
    ]
    assert lead["sla"]["state"] == "met"


def test_someone_elses_activity_is_kept_but_is_not_the_touch(aws: Aws) -> None:
    _, body = aws.post_hubspot(WORKFLOW)
    aws.wait_for_event(body["lead_id"], "waiting")
    status, answer = aws.post_hubspot(hubspot_activity("EMAIL", owner="99"), path=ACTIVITY)
    assert status == 200 and answer.get("stale") == "true"
    assert aws.execution(body["lead_id"], timeout=1)["status"] == "RUNNING"
    assert aws.get_lead(body["lead_id"])["sla"]["state"] == "pending"


def test_activities_handoff_cannot_place_are_acknowledged_and_ignored(aws: Aws) -> None:
    _, body = aws.post_hubspot(WORKFLOW)
    aws.wait_for_event(body["lead_id"], "waiting")
    status, answer = aws.post_hubspot(hubspot_activity("NOTE"), path=ACTIVITY)
    assert (status, answer["status"]) == (200, "ignored") and "NOTE" in answer["reason"]
    status, answer = aws.post_hubspot(hubspot_activity("CALL", vid=999), path=ACTIVITY)
    assert (status, answer["status"]) == (200, "ignored") and "999" in answer["reason"]
    status, answer = aws.post_hubspot(json.dumps({"vid": 3201, "properties": {}}).encode(), path=ACTIVITY)
    assert status == 400 and "hs_last_sales_activity_type" in answer["message"]
    assert aws.get_lead(body["lead_id"])["dispositions"] == []


def test_a_salesforce_task_on_the_lead_is_the_first_touch(aws: Aws) -> None:
    assert aws.post_salesforce(OUTBOUND)[0] == 200
    [execution] = aws.executions()
    aws.wait_for_event(execution["name"], "waiting")
    status, xml = aws.post_salesforce(task_message("Call"))
    assert status == 200 and "<Ack>true</Ack>" in xml
    assert aws.execution(execution["name"])["status"] == "SUCCEEDED"
    lead = aws.get_lead(execution["name"])
    assert [(d["outcome"], d["by"]) for d in lead["dispositions"]] == [("connected", "crm:salesforce")]


def test_a_meeting_logged_in_the_crm_is_final_and_frees_the_owners_slot(aws: Aws) -> None:
    """A final outcome gives the rep's slot back: the API function writes the reps table here
    (the grant test checks its role allows it)."""
    _, body = aws.post_hubspot(WORKFLOW)
    aws.wait_for_event(body["lead_id"], "waiting")
    assert aws.get_reps()["r1"]["open_leads"] == 1
    status, answer = aws.post_hubspot(hubspot_activity("MEETING"), path=ACTIVITY)
    assert status == 200 and answer["outcome"] == "meeting_set"
    assert aws.execution(body["lead_id"])["status"] == "SUCCEEDED"
    assert aws.get_reps()["r1"]["open_leads"] == 0
