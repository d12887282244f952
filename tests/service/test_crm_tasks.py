"""The owner's task in the CRM: queued with the brief, created once per assignment round, and
completing it is an attempt (never a connection)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from handoff.crm.crm_http import CrmUnavailable
from handoff.domain.lead import Lead
from handoff.service import crm_inbound, crm_sync, intake, notify, routing
from handoff.service.crm_activity import CrmActivity, record_activity
from tests.conftest import sample
from tests.fakes import FakePorts

NOW = datetime(2026, 11, 2, 15, 5, tzinfo=UTC)


def tasks_on(ports: FakePorts, *, trust: bool = True) -> None:
    """create_tasks on in both CRMs; ``trust``: the samples' generic source may name CRM records."""
    ports.edit_config(
        **{
            'create_tasks = false\ntask_priority = "HIGH"': 'create_tasks = true\ntask_priority = "HIGH"',
            'create_tasks = false\ntask_priority = "High"': 'create_tasks = true\ntask_priority = "High"',
        }
    )
    if trust:
        ports.edit_config(**{"write_back_sources = []": 'write_back_sources = ["website"]'})


def briefed(ports: FakePorts, crm: dict[str, Any] | None = None) -> str:
    body = sample("01")
    if crm:
        body["crm"] = crm
    answer = intake.accept(ports, Lead.model_validate(body), NOW)
    lead_id = str(answer.body["lead_id"])
    routing.route(ports, lead_id, NOW)
    notify.send_brief(ports, lead_id, NOW)
    return lead_id


def task_messages(ports: FakePorts) -> list[dict[str, Any]]:
    assert ports.write_back is not None
    return [m for m in map(json.loads, ports.write_back.messages) if m["action"] == "task"]


def test_the_brief_queues_one_task_created_once_with_the_deadline_and_the_connected_link(
    crm_ports: FakePorts,
) -> None:
    tasks_on(crm_ports)
    lead_id = briefed(crm_ports)
    (message,) = task_messages(crm_ports)
    assert message["round"] == 0
    assert crm_sync.apply(crm_ports, message, NOW) == "task created"
    # Redelivered: the idempotency record answers; past it, the task on the lead does.
    assert crm_sync.apply(crm_ports, message, NOW) == "task created"
    crm_ports._done.clear()
    assert crm_sync.apply(crm_ports, message, NOW) == "task exists"
    ((kind, task_id, fields),) = crm_ports.crm.created
    record = crm_ports.leads.get(lead_id)
    assert record is not None and record.sla is not None
    assert kind == "tasks" and fields["contact"] == record.crm.record_id and fields["type"] == "204"
    assert fields["hubspot_owner_id"] == "71" and fields["hs_task_status"] == "NOT_STARTED"
    assert fields["hs_timestamp"].startswith(record.sla.due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    assert "https://handoff.test/d/" in fields["hs_task_body"] and "Respond by" in fields["hs_task_body"]
    assert [t.task_id for t in record.crm_tasks] == [task_id] and record.crm_tasks[0].round == 0
    assert any(e.event == "crm_task_created" for e in record.timeline)


@pytest.mark.parametrize("crm", [None, {"system": "salesforce", "record_id": "00Q5g0000LEAD01AAA"}])
def test_a_retry_after_a_create_whose_answer_was_lost_keeps_the_task_it_made(
    crm_ports: FakePorts, crm: dict[str, Any] | None
) -> None:
    """The CRM saved the task but the answer timed out: the queue's retry finds the task by its
    marker line and keeps it, instead of creating a second."""
    tasks_on(crm_ports)
    lead_id = briefed(crm_ports, crm)
    (message,) = task_messages(crm_ports)
    crm_ports.crm.lost_answers = 1
    with pytest.raises(CrmUnavailable):
        crm_sync.apply(crm_ports, message, NOW)
    assert crm_sync.apply(crm_ports, message, NOW) == "task found"
    ((_, task_id, fields),) = crm_ports.crm.created
    assert f"Handoff ref {lead_id}/0" in (fields.get("hs_task_body") or fields.get("Description") or "")
    record = crm_ports.leads.get(lead_id)
    assert record is not None and [t.task_id for t in record.crm_tasks] == [task_id]
    assert any("an earlier try's answer was lost" in e.detail for e in record.timeline)
    crm_ports._done.clear()
    assert crm_sync.apply(crm_ports, message, NOW) == "task exists"
    assert len(crm_ports.crm.created) == 1


def test_a_first_try_creates_without_looking_and_a_retry_finding_nothing_creates(
    crm_ports: FakePorts,
) -> None:
    tasks_on(crm_ports)
    briefed(crm_ports)
    (message,) = task_messages(crm_ports)
    crm_ports.crm.unavailable = True  # the create never reached HubSpot
    with pytest.raises(CrmUnavailable):
        crm_sync.apply(crm_ports, message, NOW)
    assert crm_ports.crm.task_lookups == []  # a first try sends its create without a lookup
    crm_ports.crm.unavailable = False
    assert crm_sync.apply(crm_ports, message, NOW) == "task created"
    assert len(crm_ports.crm.task_lookups) == 1 and len(crm_ports.crm.created) == 1


def test_a_salesforce_lead_gets_a_task_on_the_lead_for_its_owner(crm_ports: FakePorts) -> None:
    tasks_on(crm_ports)
    briefed(crm_ports, {"system": "salesforce", "record_id": "00Q5g0000LEAD01AAA"})
    (message,) = task_messages(crm_ports)
    assert crm_sync.apply(crm_ports, message, NOW) == "task created"
    ((kind, _, fields),) = crm_ports.crm.created
    assert kind == "Task" and fields["WhoId"] == "00Q5g0000LEAD01AAA"
    assert fields["OwnerId"] == "0055g0000USER01AAA" and fields["Status"] == "Not Started"
    assert fields["ActivityDate"] and fields["ReminderDateTime"].endswith("Z")


def test_no_task_when_off_for_a_generic_source_or_an_owner_without_a_crm_id(crm_ports: FakePorts) -> None:
    briefed(crm_ports)  # create_tasks off, as shipped
    assert task_messages(crm_ports) == []
    tasks_on(crm_ports, trust=False)
    lead_id = briefed(crm_ports, {"system": "hubspot", "record_id": "1002"})
    assert task_messages(crm_ports) == []  # a generic sender's record is not written
    record = crm_ports.leads.get(lead_id)
    assert record is not None and any(e.event == "crm_sync_skipped" for e in record.timeline)


def test_an_owner_without_a_hubspot_id_gets_no_task(crm_ports: FakePorts) -> None:
    tasks_on(crm_ports)
    crm_ports.reps.update("r1", crm_owner_ids=[])
    briefed(crm_ports)
    (message,) = task_messages(crm_ports)
    assert crm_sync.apply(crm_ports, message, NOW) == "nothing to write"
    assert crm_ports.crm.created == []


def test_a_request_from_an_earlier_round_creates_nothing(crm_ports: FakePorts) -> None:
    tasks_on(crm_ports)
    briefed(crm_ports)
    (message,) = task_messages(crm_ports)
    assert crm_sync.apply(crm_ports, message | {"round": 3}, NOW) == "reassigned since"


@pytest.mark.parametrize(("completed", "recorded"), [(False, None), (True, "attempted")])
def test_completing_the_task_in_the_crm_is_an_attempt_and_an_open_task_is_nothing(
    crm_ports: FakePorts, completed: bool, recorded: str | None
) -> None:
    tasks_on(crm_ports)
    lead_id = briefed(crm_ports)
    activity = CrmActivity(
        system="hubspot", record_id="1001", type="TASK", owner_id="71", ref="hubspot:1001:TASK", at=NOW,
        completed=completed,
    )  # fmt: skip
    answer = record_activity(crm_ports, activity, now=NOW)
    record = crm_ports.leads.get(lead_id)
    assert record is not None
    assert [d.outcome for d in record.dispositions] == ([recorded] if recorded else []), answer


def test_each_crm_says_when_a_task_is_completed(crm_ports: FakePorts) -> None:
    tasks_on(crm_ports)
    lead_id = briefed(crm_ports)
    open_task = {"vid": 1001, "properties": {"hs_last_sales_activity_type": {"value": "TASK"},
                 "hs_task_status": {"value": "NOT_STARTED"}, "hubspot_owner_id": {"value": "71"}}}  # fmt: skip
    answer = crm_inbound.accept_hubspot_activity(crm_ports, json.dumps(open_task).encode(), NOW)
    assert answer.body == {"status": "ignored", "reason": "a task not yet completed is no touch"}
    open_task["properties"]["hs_task_status"] = {"value": "COMPLETED"}
    answer = crm_inbound.accept_hubspot_activity(crm_ports, json.dumps(open_task).encode(), NOW)
    assert answer.body["outcome"] == "attempted" and answer.body["lead_id"] == lead_id
    task = {"WhoId": "00Q5g0000LEAD01AAA", "TaskSubtype": "Task", "Id": "00T5g00000TASK0001"}
    done = crm_inbound._task_activity(crm_ports, "n1", task | {"Status": "Completed"})
    assert isinstance(done, CrmActivity) and done.completed
    not_yet = crm_inbound._task_activity(crm_ports, "n1", task | {"Status": "Not Started"})
    assert isinstance(not_yet, CrmActivity) and not not_yet.completed
