"""What goes back to the CRM after each step: the mapping, case by case."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from handoff.config.crm_sync import CrmSyncConfig
from handoff.config.qualify import QualifyConfig
from handoff.domain.crm_write import plan_task, plan_write
from handoff.domain.lead import Lead
from handoff.domain.qualify import qualify
from handoff.domain.record import Assignment, LeadRecord, Sla
from handoff.domain.rep import Rep

NOW = datetime(2026, 11, 2, 15, tzinfo=UTC)
REP = Rep(rep_id="rep-ana", email="ana@example.com", crm_owner_ids=["71", "0055g0000USER01AAA"])
CONFIG = CrmSyncConfig()


def record(system: str, record_id: str | None, owner_id: str | None = None) -> LeadRecord:
    data: dict[str, Any] = {
        "event_id": "e1",
        "contact": {"email": "a@b.example"},
        "trigger": {"type": "demo_request"},
    }
    data["crm"] = {"system": system, "record_id": record_id, "owner_id": owner_id}
    lead = Lead.model_validate(data)
    return LeadRecord.from_lead(lead, qualify(lead, QualifyConfig(), NOW), NOW)


def test_hubspot_gets_the_owner_and_status_after_routing_then_status_only() -> None:
    assigned = plan_write(record("hubspot", "3201"), REP, "assigned", CONFIG)
    assert assigned is not None and (assigned.sobject, assigned.record_id) == ("contacts", "3201")
    assert assigned.fields == {"hubspot_owner_id": "71", "hs_lead_status": "OPEN"}
    touched = plan_write(record("hubspot", "3201"), REP, "connected", CONFIG)
    assert touched is not None and touched.fields == {"hs_lead_status": "CONNECTED"}
    assert plan_write(record("hubspot", "3201"), REP, "renurtured", CONFIG).fields == {
        "hs_lead_status": "NEW"
    }  # type: ignore[union-attr]


def test_salesforce_lead_gets_owner_and_status_a_contact_only_its_owner() -> None:
    lead = plan_write(record("salesforce", "00Q5g0000LEAD01AAA"), REP, "assigned", CONFIG)
    assert lead is not None and lead.sobject == "Lead"
    assert lead.fields == {"OwnerId": "0055g0000USER01AAA", "Status": "Open - Not Contacted"}
    contact = plan_write(record("salesforce", "0035g0000CONT01AAA"), REP, "assigned", CONFIG)
    assert (
        contact is not None
        and contact.sobject == "Contact"
        and contact.fields == {"OwnerId": "0055g0000USER01AAA"}
    )
    assert plan_write(record("salesforce", "0035g0000CONT01AAA"), REP, "connected", CONFIG) is None


def test_nothing_is_written_without_a_crm_record_a_known_system_or_the_feature() -> None:
    assert plan_write(record("hubspot", None), REP, "assigned", CONFIG) is None
    assert plan_write(record("other", "x1"), REP, "assigned", CONFIG) is None
    assert plan_write(record("hubspot", "3201"), REP, "assigned", CrmSyncConfig(enabled=False)) is None
    # a rep without a HubSpot owner id: the status still goes, the owner does not
    no_owner = Rep(rep_id="rep-x", email="x@example.com")
    assert plan_write(record("hubspot", "3201"), no_owner, "assigned", CONFIG).fields == {
        "hs_lead_status": "OPEN"
    }  # type: ignore[union-attr]
    assert plan_write(record("hubspot", "3201"), REP, "unmapped_outcome", CONFIG) is None


def test_an_owner_already_in_the_crm_is_kept_unless_config_says_to_replace_them() -> None:
    owned = record("hubspot", "3201", owner_id="99")
    kept = plan_write(owned, REP, "assigned", CONFIG)
    assert kept is not None and kept.fields == {"hs_lead_status": "OPEN"}
    replaced = plan_write(owned, REP, "assigned", CONFIG.model_copy(update={"overwrite_owner": True}))
    assert replaced is not None and replaced.fields["hubspot_owner_id"] == "71"
    # A Salesforce queue is not an owner to keep: routing exists to take leads off it.
    queued = plan_write(
        record("salesforce", "00Q5g0000LEAD01AAA", "00G5g000000QUEUE1"), REP, "assigned", CONFIG
    )
    assert queued is not None and queued.fields["OwnerId"] == "0055g0000USER01AAA"


# --- the owner's task ------------------------------------------------------------------------------

TASKS = CrmSyncConfig.model_validate(
    {"hubspot": {"create_tasks": True}, "salesforce": {"create_tasks": True}}
)


def assigned(system: str, record_id: str, zone: str = "UTC") -> LeadRecord:
    lead = record(system, record_id)
    return lead.model_copy(
        update={
            "assignment": Assignment(
                rep_id="rep-ana",
                rep_email="ana@example.com",
                reason="r",
                rule="r",
                assigned_at=NOW,
                rep_timezone=zone,
            ),
            "sla": Sla(due_at=datetime(2026, 11, 2, 23, 30, tzinfo=UTC), seconds=3600),
        }
    )


def test_a_hubspot_task_is_the_owners_due_at_the_deadline_with_the_body_escaped() -> None:
    task = plan_task(assigned("hubspot", "3201"), REP, TASKS, subject="Follow up", body="a <b>\nline two")
    assert task is not None and (task.kind, task.sobject, task.record_id) == ("create", "tasks", "3201")
    assert task.fields == {
        "hs_task_subject": "Follow up", "hs_task_body": "a &lt;b&gt;<br>line two",
        "hs_timestamp": "2026-11-02T23:30:00.000Z", "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "HIGH", "hs_task_type": "TODO", "hubspot_owner_id": "71",
    }  # fmt: skip
    assert "due 2026-11-02T23:30:00.000Z" in task.describe()


def test_a_salesforce_task_is_due_on_the_reps_own_date_with_a_reminder_at_the_deadline() -> None:
    # 23:30 UTC is already the next day in Sydney.
    task = plan_task(
        assigned("salesforce", "0035g0000CONT01AAA", "Australia/Sydney"), REP, TASKS, subject="S", body="B"
    )
    assert task is not None and (task.sobject, task.record_id) == ("Task", "0035g0000CONT01AAA")
    assert task.fields["WhoId"] == "0035g0000CONT01AAA" and task.fields["OwnerId"] == "0055g0000USER01AAA"
    assert task.fields["ActivityDate"] == "2026-11-03"
    assert task.fields["ReminderDateTime"] == "2026-11-02T23:30:00.000Z"
    assert (task.fields["Status"], task.fields["Priority"]) == ("Not Started", "High")


def test_no_task_when_off_without_an_owner_id_or_an_sla() -> None:
    lead = assigned("hubspot", "3201")
    assert plan_task(lead, REP, CONFIG, subject="s", body="b") is None  # off, as shipped
    assert plan_task(lead, Rep(rep_id="x", email="x@example.com"), TASKS, subject="s", body="b") is None
    assert plan_task(record("hubspot", "3201"), REP, TASKS, subject="s", body="b") is None
    assert plan_task(assigned("other", "3201"), REP, TASKS, subject="s", body="b") is None
