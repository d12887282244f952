"""Each credential speaks only for its own source: write-back and CRM activity on in-memory ports.

A generic sender names CRM records with a secret every generic sender shares, so its leads are
neither written back to those records nor touched by their activity; and a CRM activity counts
once, for the assignment it happened in, however often its signed body arrives.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handoff.api.requests import parse_generic_lead
from handoff.service import crm_inbound, crm_sync, intake, ladder, notify, routing, touch
from tests.conftest import EXAMPLES, rep, sample
from tests.fakes import FakePorts

# Minutes after the HubSpot sample's demo request (2026-11-01 16:00 UTC).
NOW = datetime(2026, 11, 1, 16, 5, tzinfo=UTC)
WORKFLOW: dict[str, Any] = json.loads(
    (EXAMPLES / "webhooks/hubspot/workflow-contact-demo-request.json").read_text()
)
OUTBOUND = (EXAMPLES / "webhooks/salesforce/outbound-message-lead-and-contact.xml").read_text()
SAM = "00Q5g0000LEAD01AAA"  # the sales-ready Lead in the Salesforce sample
TOKEN = "test-salesforce-token"


@pytest.fixture
def ports(crm_ports: FakePorts) -> FakePorts:
    return crm_ports


def briefed(ports: FakePorts, lead_id: str, now: datetime = NOW) -> str:
    routing.route(ports, lead_id, now)
    notify.send_brief(ports, lead_id, now)
    token = ports.workflow.park(f"token-{lead_id}-{now.isoformat()}")
    touch.await_touch(ports, lead_id, token, now)
    return token


def from_hubspot(ports: FakePorts, body: dict[str, Any] = WORKFLOW) -> str:
    answer = crm_inbound.accept_hubspot(ports, json.dumps(body).encode(), NOW)
    assert answer.status_code == 202, answer.body
    return str(answer.body["lead_id"])


def from_generic(ports: FakePorts, event_id: str, **crm: str) -> str:
    body = sample("01")
    body["event_id"] = event_id
    body["contact"]["email"] = f"{event_id}@northwind.example"
    body["crm"] |= crm
    answer = intake.accept(ports, parse_generic_lead(body, ports.config), NOW)
    assert answer.status_code == 202, answer.body
    return str(answer.body["lead_id"])


def timeline(ports: FakePorts, lead_id: str, event: str) -> list[str]:
    record = ports.leads.get(lead_id)
    assert record is not None
    return [entry.detail for entry in record.timeline if entry.event == event]


def queued(ports: FakePorts) -> list[dict[str, Any]]:
    assert ports.write_back is not None
    return [json.loads(m) for m in ports.write_back.messages]


# --- write-back ----------------------------------------------------------------------------------


def test_a_generic_lead_naming_a_crm_record_is_not_written_back_and_the_timeline_says_why(
    ports: FakePorts,
) -> None:
    lead_id = from_generic(ports, "gen-1", system="hubspot", record_id="3201")
    routing.route(ports, lead_id, NOW)
    assert queued(ports) == [] and ports.crm.writes == []
    [why] = timeline(ports, lead_id, "crm_sync_skipped")
    assert why.startswith("assigned not written back: hubspot record 3201") and "write_back_sources" in why
    # A message queued before the check (or before config stopped trusting the source) writes nothing.
    assert crm_sync.apply(ports, {"lead_id": lead_id, "action": "assigned"}, NOW) == "not allowed"
    assert ports.crm.writes == []


def test_the_refusal_rides_in_the_assignments_own_write(
    ports: FakePorts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routing and the ladder's reassignment each write the lead once: their timeline notes
    (reassigned, crm_sync_skipped) go with the assignment, in order, not as writes of their own
    (each a billed write of the whole item, and of every index entry it holds)."""
    lead_id = from_generic(ports, "gen-2", system="hubspot", record_id="3202")
    writes: list[str] = []
    update = ports.leads.update

    def counted(lead: str, **changes: Any) -> None:
        writes.append(lead)
        update(lead, **changes)

    monkeypatch.setattr(ports.leads, "update", counted)
    routing.route(ports, lead_id, NOW)
    assert writes == [lead_id]
    record = ports.leads.get(lead_id)
    assert record is not None
    assert [e.event for e in record.timeline][-2:] == ["assigned", "crm_sync_skipped"]

    ports.leads.update(lead_id, set_fields={"status": "escalated"})  # the ladder's rung before
    writes.clear()
    routing.reassign(ports, lead_id, NOW + timedelta(hours=1))
    assert writes == [lead_id]
    record = ports.leads.get(lead_id)
    assert record is not None
    assert [e.event for e in record.timeline][-3:] == ["assigned", "reassigned", "crm_sync_skipped"]
    assert queued(ports) == []


def test_the_crms_own_lead_and_a_trusted_generic_source_are_written_back(ports: FakePorts) -> None:
    own = from_hubspot(ports)
    routing.route(ports, own, NOW)
    ports.edit_config(**{"write_back_sources = []": 'write_back_sources = ["website"]'})
    trusted = from_generic(ports, "gen-2", system="hubspot", record_id="1001")
    routing.route(ports, trusted, NOW)
    assert [m["lead_id"] for m in queued(ports)] == [own, trusted]
    for message in queued(ports):
        assert crm_sync.apply(ports, message, NOW) == "written"
    assert [record_id for _, record_id, _ in ports.crm.writes] == ["3201", "1001"]


# --- CRM activity --------------------------------------------------------------------------------


def hubspot_activity(kind: str = "CALL", owner: str = "71", **properties: str) -> bytes:
    props = {"hs_last_sales_activity_type": kind, "hubspot_owner_id": owner, **properties}
    return json.dumps(
        {"vid": 3201, "portal-id": 62515, "properties": {k: {"value": v} for k, v in props.items()}}
    ).encode()


def at_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def dispositions(ports: FakePorts, lead_id: str) -> list[tuple[str, str, bool]]:
    record = ports.leads.get(lead_id)
    assert record is not None
    return [(d.outcome, d.by, d.stale) for d in record.dispositions]


def test_activity_on_a_record_touches_the_crms_own_lead_never_a_generic_one(ports: FakePorts) -> None:
    own = from_hubspot(ports)
    briefed(ports, own)
    # Later, a generic sender names the same HubSpot contact: its lead must not take the touch.
    claimed = from_generic(ports, "gen-3", system="hubspot", record_id="3201")
    briefed(ports, claimed, NOW + timedelta(minutes=1))
    answer = crm_inbound.accept_hubspot_activity(ports, hubspot_activity(), NOW + timedelta(minutes=2))
    assert answer.body["lead_id"] == own and answer.body["outcome"] == "connected"
    assert dispositions(ports, own) == [("connected", "crm:hubspot", False)]
    assert dispositions(ports, claimed) == []


def test_activity_for_a_record_only_a_generic_sender_named_is_ignored(ports: FakePorts) -> None:
    claimed = from_generic(ports, "gen-4", system="hubspot", record_id="3201")
    briefed(ports, claimed)
    answer = crm_inbound.accept_hubspot_activity(ports, hubspot_activity(), NOW + timedelta(minutes=1))
    assert answer.body["status"] == "ignored" and "no open handoff" in answer.body["reason"]
    assert dispositions(ports, claimed) == []


def test_a_replayed_activity_changes_nothing_after_an_outcome(ports: FakePorts) -> None:
    lead_id = from_hubspot(ports)
    briefed(ports, lead_id)
    call = hubspot_activity(notes_last_updated=at_ms(NOW + timedelta(minutes=1)))
    first = crm_inbound.accept_hubspot_activity(ports, call, NOW + timedelta(minutes=2))
    assert first.body["outcome"] == "connected"
    touch.record_disposition(
        ports, lead_id, outcome="attempted", reason=None, note=None, by="api", now=NOW + timedelta(minutes=3)
    )
    again = crm_inbound.accept_hubspot_activity(ports, call, NOW + timedelta(minutes=4))
    assert again.body["status"] == "ignored" and "recorded already" in again.body["reason"]
    assert dispositions(ports, lead_id) == [("connected", "crm:hubspot", False), ("attempted", "api", False)]


def test_a_replayed_activity_is_never_the_next_owners_touch(ports: FakePorts) -> None:
    # NOW is a Sunday: this ladder climbs on the wall clock, at the times the test gives it.
    ports.edit_config(**{"sla_in_working_hours = true": "sla_in_working_hours = false"})
    lead_id = from_hubspot(ports)
    briefed(ports, lead_id)
    ports.reps.put(rep("r2", crm_owner_ids=["72"]))
    # r2 calls while r1 owns the lead: kept as stale. The lead then lapses to r2.
    call = hubspot_activity(owner="72")
    assert (
        crm_inbound.accept_hubspot_activity(ports, call, NOW + timedelta(minutes=1)).body["stale"] == "true"
    )
    assert ladder.remind(ports, lead_id, NOW + timedelta(minutes=5)) > 0
    assert ladder.escalate(ports, lead_id, NOW + timedelta(minutes=15)).next == "reassign"
    routing.reassign(ports, lead_id, NOW + timedelta(minutes=15))
    briefed(ports, lead_id, NOW + timedelta(minutes=15))
    # The same signed body again: r2 owns the lead now, but that call was before it was theirs.
    replay = crm_inbound.accept_hubspot_activity(ports, call, NOW + timedelta(minutes=16))
    assert replay.body["status"] == "ignored"
    record = ports.leads.get(lead_id)
    assert record is not None and record.sla is not None and record.sla.state == "pending"
    assert dispositions(ports, lead_id) == [("connected", "crm:hubspot", True)]


def test_an_activity_older_than_the_current_assignment_changes_nothing(ports: FakePorts) -> None:
    lead_id = from_hubspot(ports)
    briefed(ports, lead_id)
    before = hubspot_activity(hs_timestamp=at_ms(NOW - timedelta(hours=1)))
    answer = crm_inbound.accept_hubspot_activity(ports, before, NOW + timedelta(minutes=1))
    assert answer.body["status"] == "ignored" and "older than the current assignment" in answer.body["reason"]
    assert dispositions(ports, lead_id) == [] and ports.workflow.ended == []
    after = hubspot_activity(hs_timestamp=at_ms(NOW + timedelta(seconds=30)))
    assert (
        crm_inbound.accept_hubspot_activity(ports, after, NOW + timedelta(minutes=1)).body["outcome"]
        == "connected"
    )


def task_message(task_id: str, **fields: str) -> bytes:
    extra = "".join(f"<sf:{name}>{value}</sf:{name}>" for name, value in fields.items())
    task = (
        f"<Notification><Id>04l5g0000N{task_id[-7:]}</Id>"
        '<sObject xsi:type="sf:Task" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"<sf:Id>{task_id}</sf:Id><sf:WhoId>{SAM}</sf:WhoId><sf:OwnerId>0055g0000USER01AAA</sf:OwnerId>"
        f"<sf:TaskSubtype>Call</sf:TaskSubtype>{extra}</sObject></Notification>"
    )
    start, end = OUTBOUND.index("<Notification>"), OUTBOUND.rindex("</Notification>") + len("</Notification>")
    return (OUTBOUND[:start] + task + OUTBOUND[end:]).encode()


def sam(ports: FakePorts) -> str:
    assert crm_inbound.accept_salesforce(ports, OUTBOUND.encode(), TOKEN, NOW).startswith("<")
    [lead_id] = [i["lead_id"] for i in ports.leads.items.values() if i["crm"].get("record_id") == SAM]
    briefed(ports, lead_id)
    return str(lead_id)


def test_a_salesforce_task_counts_once_and_only_when_it_postdates_the_assignment(ports: FakePorts) -> None:
    lead_id = sam(ports)
    old = task_message("00T5g0000TASK000AAA", CreatedDate="2026-11-01T09:00:00.000Z")
    assert crm_inbound.accept_salesforce(ports, old, TOKEN, NOW + timedelta(minutes=1)).startswith("<")
    assert dispositions(ports, lead_id) == []
    # A date alone is the assignment's own day: not provably older, so it counts.
    call = task_message("00T5g0000TASK001AAA", ActivityDate="2026-11-01")
    for minutes in (2, 3):  # redelivered: Salesforce retries, and the same Task counts once
        crm_inbound.accept_salesforce(ports, call, TOKEN, NOW + timedelta(minutes=minutes))
    assert dispositions(ports, lead_id) == [("connected", "crm:salesforce", False)]
    touch.record_disposition(
        ports, lead_id, outcome="attempted", reason=None, note=None, by="api", now=NOW + timedelta(minutes=4)
    )
    crm_inbound.accept_salesforce(ports, call, TOKEN, NOW + timedelta(minutes=5))  # replayed later
    assert len(dispositions(ports, lead_id)) == 2


# --- the lead route ------------------------------------------------------------------------------


def without_conversion(body: dict[str, Any]) -> dict[str, Any]:
    """What an activity workflow webhook sends: the contact, with its last activity, but no
    conversion that names a new handoff."""
    changed = copy.deepcopy(body)
    for name in ("recent_conversion_date", "recent_conversion_event_name"):
        changed["properties"].pop(name)
    changed["properties"] |= {
        "hs_last_sales_activity_type": {"value": "CALL"},
        "notes_last_updated": {"value": at_ms(NOW)},
    }
    return changed


def test_an_activity_body_sent_to_the_lead_route_starts_no_second_handoff(ports: FakePorts) -> None:
    lead_id = from_hubspot(ports)
    briefed(ports, lead_id)
    answer = crm_inbound.accept_hubspot(ports, json.dumps(without_conversion(WORKFLOW)).encode(), NOW)
    assert (answer.status_code, answer.body["status"]) == (200, "ignored")
    assert lead_id in answer.body["reason"] and "/webhooks/hubspot/activity" in answer.body["reason"]
    assert list(ports.leads.items) == [lead_id] and list(ports.workflow.started) == [lead_id]
    # HubSpot's own retry still gets the first answer, and a newer conversion is a new handoff.
    assert from_hubspot(ports) == lead_id
    newer = copy.deepcopy(WORKFLOW)
    newer["properties"]["recent_conversion_date"] = {"value": at_ms(NOW)}
    assert from_hubspot(ports, newer) != lead_id


def test_a_conversion_already_received_is_not_handed_off_again_after_the_handoff_closed(
    ports: FakePorts,
) -> None:
    lead_id = from_hubspot(ports)
    briefed(ports, lead_id)
    touch.record_disposition(ports, lead_id, outcome="meeting_set", reason=None, note=None, by="api", now=NOW)
    replay = copy.deepcopy(WORKFLOW)
    replay["properties"]["hs_last_sales_activity_type"] = {"value": "MEETING"}
    replay["properties"]["lastmodifieddate"] = {"value": at_ms(NOW + timedelta(hours=1))}
    del replay["portal-id"]  # another event id for the same conversion
    answer = crm_inbound.accept_hubspot(ports, json.dumps(replay).encode(), NOW + timedelta(hours=1))
    assert answer.body["status"] == "ignored" and "received already" in answer.body["reason"]
    assert list(ports.leads.items) == [lead_id]
