"""The fakes keep the adapters' promises: each check runs on the DynamoDB adapter (on moto) and
on its in-memory fake, so the service tier cannot pass on behaviour DynamoDB would refuse."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handoff.aws.dispositions import DispositionRepository
from handoff.aws.leads import LeadRepository
from handoff.aws.reps import RepRepository
from handoff.aws.tables import DISPOSITIONS, LEADS, REPS
from handoff.domain.lead import Lead
from handoff.domain.qualify import qualify
from handoff.domain.record import Disposition, LeadRecord, LeadStatus, TimelineEntry
from handoff.errors import AlreadyExists, BadRequest, ClaimConflict, Conflict, NotFound, StorageThrottled
from handoff.local.provision import create_table
from handoff.service.ports import Dispositions, Leads, Reps
from tests.conftest import rep, sample
from tests.fakes import FakeDispositions, FakeLeads, FakePorts, FakeReps

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def moto_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's fake credentials, and no endpoint override: calls stay in-process."""
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(params=["dynamodb", "fake"])
def stores(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Leads, Reps, Dispositions]]:
    if request.param == "fake":
        yield FakeLeads(), FakeReps(), FakeDispositions()
        return
    moto_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb")
        for spec in (LEADS, REPS, DISPOSITIONS):
            create_table(client, spec, spec.logical_name)
        tables = boto3.resource("dynamodb")
        yield (
            LeadRepository(tables.Table(LEADS.logical_name)),
            RepRepository(tables.Table(REPS.logical_name)),
            DispositionRepository(tables.Table(DISPOSITIONS.logical_name)),
        )


def record(n: int, *, ready: bool = True, received: datetime = NOW, **lead: Any) -> LeadRecord:
    body = sample("01" if ready else "03") | {"event_id": f"contract-{n}"} | lead
    parsed = Lead.model_validate(body)
    return LeadRecord.from_lead(parsed, qualify(parsed, FakePorts().config.qualify, received), received)


def test_a_lead_is_created_once_and_read_back_as_stored(stores: tuple[Leads, Reps, Dispositions]) -> None:
    leads, _, _ = stores
    lead = record(1)
    leads.create(lead)
    with pytest.raises(AlreadyExists):
        leads.create(lead)
    assert leads.get(lead.lead_id) == lead
    item = leads.get_item(lead.lead_id)
    assert item and item["open_status"].startswith("routing#") and item["contact_email"] == lead.contact.email
    assert leads.get("ld_000000000000000000000000") is None
    assert leads.get("not a lead id") is None


def test_updates_set_append_remove_and_guard_the_status(stores: tuple[Leads, Reps, Dispositions]) -> None:
    leads, _, _ = stores
    lead = record(2)
    leads.create(lead)
    entry = TimelineEntry(at=NOW, event="assigned", detail="r1")
    leads.update(
        lead.lead_id,
        set_fields={"status": LeadStatus.NOTIFIED, "sla": {"due_at": NOW, "seconds": 60}, "task_token": "t1"},
        timeline=[entry],
        expect_status=(LeadStatus.ROUTING,),
    )
    leads.update(lead.lead_id, set_fields={"sla.state": "breached"}, remove=("task_token",))
    stored = leads.get_item(lead.lead_id)
    assert stored is not None
    assert stored["status"] == "notified" and stored["open_status"].startswith("notified#")
    assert stored["sla"]["state"] == "breached" and "task_token" not in stored
    assert stored["timeline"][-1] == entry.model_dump(mode="json")
    with pytest.raises(Conflict):
        leads.update(
            lead.lead_id, set_fields={"status": LeadStatus.ROUTING}, expect_status=(LeadStatus.ROUTING,)
        )
    with pytest.raises(Conflict):
        leads.update("ld_000000000000000000000000", set_fields={"status": LeadStatus.CLOSED})
    leads.update(lead.lead_id, set_fields={"status": LeadStatus.CLOSED})
    closed = leads.get_item(lead.lead_id)
    assert closed is not None and "open_status" not in closed  # left the sparse index


def test_an_update_can_answer_with_the_lead_as_it_left_it(stores: tuple[Leads, Reps, Dispositions]) -> None:
    """The workflow parks its token and reads back in one write: what a bounce noted before it
    is in the answer, with no read of its own."""
    leads, _, _ = stores
    lead = record(3)
    leads.create(lead)
    leads.update(lead.lead_id, set_fields={"reassign_request": {"because": "rep on leave"}})
    assert leads.update(lead.lead_id, set_fields={"task_token": "t0"}) is None
    after = leads.update(lead.lead_id, set_fields={"task_token": "t1"}, read_back=True)
    assert after == leads.get_item(lead.lead_id)
    assert after is not None and after["task_token"] == "t1"
    assert after["reassign_request"] == {"because": "rep on leave"}


def test_links_bounces_and_tokens_are_each_noted_once(stores: tuple[Leads, Reps, Dispositions]) -> None:
    leads, _, _ = stores
    lead = record(3)
    leads.create(lead)
    assert leads.use_link(lead.lead_id, "n1") and not leads.use_link(lead.lead_id, "n1")
    assert leads.use_link(lead.lead_id, "n2")
    assert not leads.use_link("ld_000000000000000000000000", "n1")
    entry = TimelineEntry(at=NOW, event="brief_undelivered")
    assert leads.record_undelivered_brief(lead.lead_id, "m1", entry)
    assert not leads.record_undelivered_brief(lead.lead_id, "m1", entry)
    assert not leads.record_undelivered_brief("ld_000000000000000000000000", "m1", entry)
    leads.update(lead.lead_id, set_fields={"task_token": "new", "brief_message_id": "m2"})
    leads.clear_task_token(lead.lead_id, "old")  # a newer wait parked its own: kept
    assert (leads.get_item(lead.lead_id) or {})["task_token"] == "new"
    leads.clear_task_token(lead.lead_id, "new")
    assert "task_token" not in (leads.get_item(lead.lead_id) or {})
    found = leads.by_brief_message("m2")
    assert found and found["lead_id"] == lead.lead_id
    assert leads.by_brief_message("m3") is None


def test_open_handoffs_are_found_by_contact_and_crm_record(stores: tuple[Leads, Reps, Dispositions]) -> None:
    leads, _, _ = stores
    older, newer = record(4), record(5, received=NOW + timedelta(minutes=1))
    for lead in (older, newer):
        leads.create(lead)
    assignment = {
        "rep_id": "r1",
        "rep_email": "r1@example.com",
        "rule": "pool",
        "reason": "x",
        "assigned_at": NOW,
    }
    leads.update(older.lead_id, set_fields={"status": LeadStatus.NOTIFIED, "assignment": assignment})
    assert leads.open_handoff_rep(older.contact.email, newer.lead_id) == "r1"
    assert leads.open_handoff_rep(older.contact.email, older.lead_id) is None  # itself does not count
    assert older.crm.record_id and older.source == "website"
    found = leads.open_for_crm_record(older.crm.system, older.crm.record_id, {"website"})
    assert found is not None and found.lead_id == older.lead_id  # the routing one is not open yet
    assert leads.open_for_crm_record(older.crm.system, "nobody", {"website"}) is None
    latest = leads.latest_for_crm_record(older.crm.system, older.crm.record_id, {"website"})
    assert latest is not None and latest.lead_id == newer.lead_id  # whatever its status


def test_a_crm_record_finds_only_leads_from_the_sources_asked_for(
    stores: tuple[Leads, Reps, Dispositions],
) -> None:
    """A lead any generic sender makes, naming a HubSpot record, never stands in for (or hides)
    the lead HubSpot's own webhook sent for it."""
    leads, _, _ = stores
    own = record(6, source="hubspot")
    claimed = record(7, source="website", received=NOW + timedelta(minutes=1))
    for lead in (own, claimed):
        leads.create(lead)
    assert own.crm.record_id == claimed.crm.record_id and own.crm.record_id
    found = leads.latest_for_crm_record("hubspot", own.crm.record_id, {"hubspot"})
    assert found is not None and found.lead_id == own.lead_id  # the newer generic one is not HubSpot's
    both = leads.latest_for_crm_record("hubspot", own.crm.record_id, {"hubspot", "website"})
    assert both is not None and both.lead_id == claimed.lead_id
    assert leads.latest_for_crm_record("hubspot", own.crm.record_id, {"marketo"}) is None


def test_a_crm_records_handoff_is_found_within_a_window_behind_a_newer_one(
    stores: tuple[Leads, Reps, Dispositions],
) -> None:
    """The window is a key range on the index: an older handoff is found though a newer one
    exists, both ends count, and a sub-second received_at sorts by time, not by its text."""
    leads, _, _ = stores
    older = record(8, source="hubspot", received=NOW + timedelta(microseconds=250_000))
    newer = record(9, source="hubspot", received=NOW + timedelta(days=10))
    for lead in (older, newer):
        leads.create(lead)
    assert older.crm.record_id

    def found(start: datetime, end: datetime) -> str | None:
        lead = leads.latest_for_crm_record(
            "hubspot", older.crm.record_id or "", {"hubspot"}, received_within=(start, end)
        )
        return lead.lead_id if lead else None

    assert found(NOW - timedelta(days=90), NOW + timedelta(days=5)) == older.lead_id
    assert found(older.received_at, older.received_at) == older.lead_id  # both ends included
    assert found(NOW, NOW + timedelta(microseconds=249_999)) is None  # just before it
    assert found(NOW + timedelta(seconds=1), NOW + timedelta(days=9)) is None
    assert found(NOW, NOW + timedelta(days=11)) == newer.lead_id


def test_an_update_expecting_a_value_fails_when_another_write_came_first(
    stores: tuple[Leads, Reps, Dispositions],
) -> None:
    leads, _, _ = stores
    lead = record(10)
    leads.create(lead)
    leads.update(lead.lead_id, set_fields={"deals_version": 1}, expect={"deals_version": None})
    with pytest.raises(Conflict):
        leads.update(lead.lead_id, set_fields={"deals_version": 1}, expect={"deals_version": None})
    with pytest.raises(Conflict):
        leads.update(lead.lead_id, set_fields={"deals_version": 9}, expect={"deals_version": 2})
    leads.update(lead.lead_id, set_fields={"deals_version": 2}, expect={"deals_version": 1})
    item = leads.get_item(lead.lead_id)
    assert item is not None and item["deals_version"] == 2


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"": "x"}, "contact.<empty>"),
        ({"a" * 65_536: "x"}, "contact." + "a" * 40),
        ({"custom": {"nested": {"": 1}}}, "contact.custom.nested.<empty>"),
    ],
)
def test_a_field_name_dynamodb_would_refuse_is_the_senders_error(
    stores: tuple[Leads, Reps, Dispositions], extra: dict[str, Any], field: str
) -> None:
    """DynamoDB refuses an empty attribute name, or one of 64 KB, at any depth: a 400 naming it,
    never a storage fault the sender would retry."""
    leads, _, _ = stores
    lead = record(20, contact=sample("01")["contact"] | extra)
    with pytest.raises(BadRequest) as refused:
        leads.create(lead)
    assert refused.value.details[0]["field"] == field
    assert leads.get(lead.lead_id) is None
    leads.create(record(21, contact=sample("01")["contact"] | {"a" * 65_535: "x", "custom": {"ok": 1}}))


def test_a_status_pages_through_every_shard_once_with_what_the_listing_shows(
    stores: tuple[Leads, Reps, Dispositions],
) -> None:
    leads, _, _ = stores
    made = [record(100 + n, received=NOW + timedelta(seconds=n)) for n in range(40)]
    for lead in made:
        leads.create(lead)
    leads.create(record(20, ready=False))  # nurture: never in flight
    seen: list[str] = []
    page, cursor = leads.in_status("routing", 7)
    while True:
        assert len(page) <= 7
        seen += [i["lead_id"] for i in page]
        # The index projects what the listing shows, and nothing of the person.
        assert all(i["status"] == "routing" and "contact" not in i and "check_at" in i for i in page)
        if cursor is None:
            break
        page, cursor = leads.in_status(
            "routing", 7, json.loads(json.dumps(cursor))
        )  # as the API round-trips it
    assert sorted(seen) == sorted(m.lead_id for m in made)
    assert leads.in_status("notified", 5) == ([], None)


def test_only_late_leads_are_read_and_pushing_check_at_takes_one_out(
    stores: tuple[Leads, Reps, Dispositions],
) -> None:
    leads, _, _ = stores
    made = [record(60 + n, received=NOW) for n in range(3)]
    for lead in made:
        leads.create(lead)
    # A new lead's step (routing) is expected to end within 15 minutes of its arrival.
    assert list(leads.late("routing", NOW + timedelta(minutes=14))) == []
    late = list(leads.late("routing", NOW + timedelta(minutes=16)))
    assert sorted(i["lead_id"] for i in late) == sorted(m.lead_id for m in made)
    leads.update(made[0].lead_id, set_fields={"check_at": NOW + timedelta(hours=1)})
    assert made[0].lead_id not in [i["lead_id"] for i in leads.late("routing", NOW + timedelta(minutes=16))]
    # A status change sets a new expected end; leaving the in-flight statuses leaves the index.
    leads.update(made[1].lead_id, set_fields={"status": "working"})
    assert made[1].lead_id not in [i["lead_id"] for i in leads.late("routing", NOW + timedelta(days=1))]
    item = leads.get_item(made[1].lead_id)
    assert item is not None and "open_status" not in item and "check_at" not in item


def test_the_state_indexes_spread_their_writes_over_many_keys(
    stores: tuple[Leads, Reps, Dispositions],
) -> None:
    leads, _, _ = stores
    made = [record(200 + n) for n in range(32)]
    for lead in made:
        leads.create(lead)
        leads.update(lead.lead_id, set_fields={"sla_state": "pending", "sla_due_at": "2026-03-02T15:05:00Z"})
    items = [leads.get_item(m.lead_id) or {} for m in made]
    assert len({i["open_status"] for i in items}) > 8 and len({i["sla_state"] for i in items}) > 8
    assert all(
        i["open_status"].startswith("routing#") and i["sla_state"].startswith("pending#") for i in items
    )
    assert sorted(leads.overdue(NOW + timedelta(days=30))) == sorted(m.lead_id for m in made)


def test_overdue_and_received_between(stores: tuple[Leads, Reps, Dispositions]) -> None:
    leads, _, _ = stores
    late, on_time = record(30), record(31, received=NOW + timedelta(days=1))
    for lead in (late, on_time):
        leads.create(lead)
    leads.update(
        late.lead_id, set_fields={"sla_state": "pending", "sla_due_at": "2026-03-02T15:05:00.000000Z"}
    )
    leads.update(
        on_time.lead_id, set_fields={"sla_state": "pending", "sla_due_at": "2026-03-04T15:05:00.000000Z"}
    )
    assert list(leads.overdue(NOW + timedelta(hours=1))) == [late.lead_id]
    between = leads.received_between(NOW, NOW + timedelta(hours=1))
    assert [r.lead_id for r in between] == [late.lead_id]


def test_leads_of_an_account_or_company_domain_are_found_in_a_window(
    stores: tuple[Leads, Reps, Dispositions],
) -> None:
    leads, _, _ = stores
    crm = {"system": "salesforce", "record_id": "0035g0000CONT01AAA", "account_id": "0015g0000ACCT01AAA"}
    older = record(40, received=NOW, crm=crm)
    newer = record(41, received=NOW + timedelta(days=2), crm=crm)
    other = record(42, received=NOW + timedelta(days=1), crm=crm | {"account_id": "0015g0000ACCT02AAA"})
    for lead in (older, newer, other):
        leads.create(lead)
    found = leads.for_crm_account("salesforce", ["0015g0000ACCT01AAA"], [], NOW, NOW + timedelta(days=3))
    assert [r.lead_id for r in found] == [newer.lead_id, older.lead_id]  # newest first
    assert leads.for_crm_account("salesforce", ["0015g0000ACCT01AAA"], [], NOW, NOW + timedelta(days=1)) == [
        older
    ]
    assert leads.for_crm_account("hubspot", ["0015g0000ACCT01AAA"], [], NOW, NOW + timedelta(days=3)) == []
    assert leads.for_crm_account("salesforce", [], [], NOW, NOW + timedelta(days=3)) == []
    domain = older.company.domain
    assert domain and older.lead_id in [
        r.lead_id for r in leads.for_crm_account("salesforce", [], [domain], NOW, NOW + timedelta(days=3))
    ]


def test_the_cadence_index_follows_the_record(stores: tuple[Leads, Reps, Dispositions]) -> None:
    """A running cadence is in by_cadence at its next step; moving that step moves it; ending the
    cadence (or writing a whole stopped one) takes it out: the sweep never reads a stale step."""
    leads, _, _ = stores
    due, later, stopped = record(40), record(41), record(42)
    for lead in (due, later, stopped):
        leads.create(lead)

    def cadence(next_at: datetime, state: str = "running") -> dict[str, Any]:
        return {
            "started_at": NOW.isoformat(),
            "attempts": 4,
            "step_seconds": 60,
            "next_at": next_at.isoformat(),
            "state": state,
        }

    leads.update(due.lead_id, set_fields={"cadence": cadence(NOW + timedelta(minutes=1))})
    leads.update(later.lead_id, set_fields={"cadence": cadence(NOW + timedelta(days=2))})
    leads.update(stopped.lead_id, set_fields={"cadence": cadence(NOW, state="stopped")})
    assert list(leads.cadence_due(NOW + timedelta(minutes=1))) == [due.lead_id]
    leads.update(due.lead_id, set_fields={"cadence.next_at": (NOW + timedelta(days=3)).isoformat()})
    assert list(leads.cadence_due(NOW + timedelta(days=2))) == [later.lead_id]
    leads.update(later.lead_id, set_fields={"cadence.state": "ran_out"})
    assert list(leads.cadence_due(NOW + timedelta(days=30))) == [due.lead_id]
    item = leads.get_item(later.lead_id)
    assert item is not None and "cadence_state" not in item and item["cadence"]["state"] == "ran_out"


def test_the_unassigned_queue_index_follows_the_owner_and_the_status(
    stores: tuple[Leads, Reps, Dispositions],
) -> None:
    """A lead nobody could take is listed however far off its SLA; given a rep, or closed, it
    leaves the list, so the console's now-queue never reads a stale one."""
    leads, _, _ = stores
    queued, taken, closed = record(50), record(51), record(52)
    for lead in (queued, taken, closed):
        leads.create(lead)

    def owner(rep_id: str) -> dict[str, Any]:
        return {
            "rep_id": rep_id,
            "rep_email": "x@example.com",
            "rule": "r",
            "reason": "r",
            "assigned_at": NOW.isoformat(),
        }

    for lead in (queued, taken, closed):
        leads.update(lead.lead_id, set_fields={"status": "assigned", "assignment": owner("unassigned")})
    assert sorted(leads.unassigned()) == sorted([queued.lead_id, taken.lead_id, closed.lead_id])
    leads.update(taken.lead_id, set_fields={"assignment": owner("r1")})
    leads.update(closed.lead_id, set_fields={"status": "closed"})
    assert list(leads.unassigned()) == [queued.lead_id]


def test_a_claim_takes_one_slot_within_capacity_and_the_daily_cap(
    stores: tuple[Leads, Reps, Dispositions],
) -> None:
    _, reps, _ = stores
    reps.put(rep("r1", capacity=2, daily_cap=5))
    reps.put(rep("r0", active=False))
    assert [r.rep_id for r in reps.list_all()] == ["r0", "r1"]
    first = reps.claim(reps.get("r1") or rep("x"), "L1", NOW)
    assert (first.open_count, first.day_count, first.assigned_total) == (1, 1, 1)
    again = reps.claim(reps.get("r1") or rep("x"), "L1", NOW)  # L1's step, tried again
    assert (again.open_count, again.assigned_total) == (1, 1)
    second = reps.claim(first, "L2", NOW)
    assert second.open_count == 2
    with pytest.raises(ClaimConflict) as full:  # at capacity
        reps.claim(second, "L3", NOW)
    assert full.value.reported and full.value.as_found.open_count == 2
    with pytest.raises(ClaimConflict):  # inactive
        reps.claim(reps.get("r0") or rep("x"), "L3", NOW)
    reps.release("r1", "L1")
    reps.release("r1", "L1")  # released already: nothing changes
    assert (reps.get("r1") or rep("x")).open_count == 1
    reps.release("r1", "L3")  # never held a slot
    reps.release("r1", "L2")
    assert (reps.get("r1") or rep("x")).open_count == 0
    reps.put(rep("r2", daily_cap=1))
    claimed = reps.claim(reps.get("r2") or rep("x"), "L4", NOW)
    with pytest.raises(ClaimConflict):  # the day's cap
        reps.claim(claimed, "L5", NOW)
    assert reps.claim(claimed, "L5", NOW + timedelta(days=1)).day_count == 1  # a new day


def test_an_owner_over_capacity_still_takes_a_counted_slot_but_never_when_inactive(
    stores: tuple[Leads, Reps, Dispositions],
) -> None:
    _, reps, _ = stores
    reps.put(rep("r1", capacity=1, daily_cap=1))
    full = reps.claim(reps.get("r1") or rep("x"), "M1", NOW)
    with pytest.raises(ClaimConflict):
        reps.claim(full, "M2", NOW)
    over = reps.claim(full, "M3", NOW, over_capacity=True)
    assert (over.open_count, over.day_count) == (2, 2)
    reps.put(rep("r0", active=False))
    with pytest.raises(ClaimConflict):
        reps.claim(reps.get("r0") or rep("x"), "M4", NOW, over_capacity=True)


def test_a_claim_from_a_stale_fairness_clock_loses(stores: tuple[Leads, Reps, Dispositions]) -> None:
    _, reps, _ = stores
    reps.put(rep("r1"))
    seen = reps.get("r1") or rep("x")
    assert reps.claim(seen, "M5", NOW, next_vtime=1.0).vtime == 1.0
    with pytest.raises(ClaimConflict) as lost:  # another router moved the clock since
        reps.claim(seen, "M6", NOW, next_vtime=1.0)
    # The refusal reports the rep as it stood, so the router re-plans without reading it again.
    assert lost.value.reported and lost.value.as_found is not None
    assert (lost.value.as_found.vtime, lost.value.as_found.open_count) == (1.0, 1)
    fresh = reps.get("r1") or rep("x")
    # Off its turn, one turn on from the clock as it stands, never back; two routers with one
    # view both count.
    assert reps.claim(fresh, "M7", NOW, next_vtime=0.5, exact_turn=False).vtime == 2.0
    assert reps.claim(fresh, "M8", NOW, next_vtime=2.0, exact_turn=False).vtime == 3.0
    # Behind the pool's clock (at 4), it starts there.
    assert reps.claim(reps.get("r1") or rep("x"), "M9", NOW, next_vtime=5.0, exact_turn=False).vtime == 5.0
    assert (reps.get("r1") or rep("x")).open_count == 4


def test_rep_updates_set_and_remove_fields(stores: tuple[Leads, Reps, Dispositions]) -> None:
    _, reps, _ = stores
    reps.put(rep("r1", daily_cap=3))
    updated = reps.update("r1", capacity=4, daily_cap=None)
    assert updated.capacity == 4 and updated.daily_cap is None
    with pytest.raises(NotFound):
        reps.update("nobody", capacity=1)


def test_dispositions_are_read_back_by_period(stores: tuple[Leads, Reps, Dispositions]) -> None:
    _, _, dispositions = stores
    for n, day in enumerate((1, 20)):
        at = datetime(2026, 2, day, 9, tzinfo=UTC)
        dispositions.put(
            f"ld_{n}", Disposition(outcome="connected", at=at, by="r1"), tier="hot", source="web"
        )
    dispositions.put("ld_9", Disposition(outcome="meeting_set", at=NOW, by="r1"), tier=None, source="web")
    found = dispositions.between(datetime(2026, 2, 10, tzinfo=UTC), NOW + timedelta(seconds=1))
    assert [(d["lead_id"], d["outcome"], d["tier"]) for d in found] == [
        ("ld_1", "connected", "hot"),
        ("ld_9", "meeting_set", ""),
    ]


def test_a_function_reads_the_roster_once_and_keeps_it_in_step_with_its_own_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Routing plans several times a lead, and a warm function serves many leads: one scan a
    ROSTER_SECONDS serves them, and this function's own claims and fresh reads keep it right."""
    from handoff.aws import reps as reps_module

    moto_credentials(monkeypatch)
    with mock_aws():
        create_table(boto3.client("dynamodb"), REPS, REPS.logical_name)
        table = boto3.resource("dynamodb").Table(REPS.logical_name)
        now = [0.0]
        reps = RepRepository(table, clock=lambda: now[0])
        other = RepRepository(table)  # another function: ops, or a second router
        reps.put(rep("r1", capacity=2))
        scans: list[int] = []
        real_scan = table.scan
        monkeypatch.setattr(table, "scan", lambda **kw: scans.append(1) or real_scan(**kw))
        assert [r.rep_id for r in reps.list_all()] == ["r1"]
        other.put(rep("r2"))
        claimed = reps.claim(reps.list_all()[0], "L1", NOW)
        assert [r.rep_id for r in reps.list_all()] == ["r1"] and len(scans) == 1  # one read served all
        assert reps.list_all()[0].open_count == claimed.open_count == 1  # its own claim is in step
        other.update("r1", capacity=5)
        assert reps.get("r1") is not None and reps.list_all()[0].capacity == 5  # a fresh read too
        # A claim off its exact turn moves the clock in its own write; the roster follows it,
        # and a refusal too (a router that lost the turn re-plans without a scan or a read).
        reps.claim(reps.list_all()[0], "L2", NOW, next_vtime=2.0, exact_turn=False)
        assert (reps.list_all()[0].vtime, reps.list_all()[0].open_count) == (2.0, 2)
        other.update("r1", capacity=2)  # ops, meanwhile: now full
        with pytest.raises(ClaimConflict):
            reps.claim(reps.list_all()[0], "L3", NOW, next_vtime=3.0)
        assert reps.list_all()[0].capacity == 2 and len(scans) == 1
        now[0] += reps_module.ROSTER_SECONDS
        assert [r.rep_id for r in reps.list_all()] == ["r1", "r2"] and len(scans) == 2  # then afresh


def throttle(client: Any, operation: str, only: Callable[[Any], bool] = lambda _: True) -> list[int]:
    """DynamoDB's ThrottlingException for the next ``refusals[0]`` ``operation`` calls (those that
    ``only`` picks), at the wire (the SDK's own retries see it); set refusals[0] to start."""
    from botocore.awsrequest import AWSResponse

    from handoff.local.in_process import StreamedBody

    refusals = [0]

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if refusals[0] == 0 or not only(request):
            return None
        refusals[0] -= 1
        request.url = "https://throttled.invalid/"
        headers = {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/x-amz-json-1.0"}
        body = json.dumps({"__type": "ThrottlingException", "message": "throttled"})
        return AWSResponse(request.url, 400, headers, StreamedBody(body))

    client.meta.events.register_first(f"before-send.dynamodb.{operation}", answer)
    return refusals


@pytest.fixture
def throttled_leads(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LeadRepository, Any]]:
    """The DynamoDB lead adapter on moto, with its table's client for ``throttle``; the adapter's
    own pauses take no time."""
    from handoff.aws import leads as leads_module

    moto_credentials(monkeypatch)
    monkeypatch.setattr(leads_module.time, "sleep", lambda _: None)
    with mock_aws():
        create_table(boto3.client("dynamodb"), LEADS, LEADS.logical_name)
        table = boto3.resource("dynamodb").Table(LEADS.logical_name)
        yield LeadRepository(table), table.meta.client


def test_a_throttled_lead_write_is_tried_again_in_the_step_and_lands_once(
    throttled_leads: tuple[LeadRepository, Any],
) -> None:
    """The write that records an email already sent must land, or the retried step sends it again:
    past the SDK's own tries, the adapter tries again for a few seconds; refused writes are never
    applied, so it lands once. Throttled for longer, the step fails and nothing is half-written."""
    leads, client = throttled_leads
    lead = record(300)
    leads.create(lead)
    refusals = throttle(client, "UpdateItem")
    entry = TimelineEntry(at=NOW, event="notified", detail="brief emailed")
    refusals[0] = 12  # past the SDK's tries, within the adapter's
    leads.update(lead.lead_id, timeline=[entry])
    assert refusals[0] == 0
    stored = leads.get(lead.lead_id)
    assert stored is not None and [e.event for e in stored.timeline].count("notified") == 1
    refusals[0] = 1000  # throttled throughout
    with pytest.raises(StorageThrottled):
        leads.update(lead.lead_id, timeline=[entry])
    refusals[0] = 0
    stored = leads.get(lead.lead_id)
    assert stored is not None and [e.event for e in stored.timeline].count("notified") == 1


def test_a_throttled_new_lead_is_tried_again_in_the_webhook_and_stored_once(
    throttled_leads: tuple[LeadRepository, Any],
) -> None:
    """A delivery whose write meets a throttling burst is not answered 503 at once (a sender such
    as Marketo does not retry): past the SDK's own tries the adapter tries again for a few
    seconds. The refused puts were never applied, so the lead is stored once; throttled for
    longer, the sender is told to retry and nothing was stored."""
    leads, client = throttled_leads
    refusals = throttle(client, "PutItem")
    refusals[0] = 12  # past the SDK's tries, within the adapter's
    leads.create(record(301))
    assert refusals[0] == 0
    assert leads.get(record(301).lead_id) is not None
    with pytest.raises(AlreadyExists):
        leads.create(record(301))  # stored once: the same delivery again is a duplicate
    refusals[0] = 1000  # throttled throughout
    with pytest.raises(StorageThrottled):
        leads.create(record(302))
    refusals[0] = 0
    assert leads.get(record(302).lead_id) is None


@pytest.fixture
def throttled_reps(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RepRepository, Any]]:
    """The DynamoDB rep adapter on moto with rep r1 (capacity 2), and its table's client for
    ``throttle``; the adapter's own pauses take no time."""
    from handoff.aws import reps as reps_module

    moto_credentials(monkeypatch)
    monkeypatch.setattr(reps_module.time, "sleep", lambda _: None)
    with mock_aws():
        create_table(boto3.client("dynamodb"), REPS, REPS.logical_name)
        table = boto3.resource("dynamodb").Table(REPS.logical_name)
        reps = RepRepository(table)
        reps.put(rep("r1", capacity=2))
        yield reps, table.meta.client


def test_a_throttled_release_is_tried_again_so_the_slot_is_given_back(
    throttled_reps: tuple[RepRepository, Any],
) -> None:
    reps, client = throttled_reps
    reps.claim(reps.get("r1") or rep("x"), "L1", NOW)
    refusals = throttle(client, "UpdateItem")
    refusals[0] = 12  # past the SDK's tries, within the adapter's
    reps.release("r1", "L1")
    assert refusals[0] == 0
    assert (reps.get("r1") or rep("x")).open_count == 0


def test_a_throttled_claim_is_tried_again_in_the_step_and_counted_once(
    throttled_reps: tuple[RepRepository, Any],
) -> None:
    """A refused claim took nothing: past the SDK's tries the adapter tries it again for a few
    seconds, so the Route step is not started again to read and plan all over; throttled for
    longer, the step fails and no slot is taken."""
    reps, client = throttled_reps
    claims = throttle(client, "UpdateItem")
    claims[0] = 12  # past the SDK's tries, within the adapter's
    claimed = reps.claim(reps.get("r1") or rep("x"), "L1", NOW, next_vtime=1.0)
    assert claims[0] == 0 and claimed.open_count == 1
    claims[0] = 1000  # throttled throughout
    with pytest.raises(StorageThrottled):
        reps.claim(reps.get("r1") or rep("x"), "L2", NOW, next_vtime=2.0)
    claims[0] = 0
    assert (reps.get("r1") or rep("x")).open_count == 1


def test_an_accounts_owner_is_read_once_per_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Routing asks for the company's domain, then the contact's email domain: usually the same
    one, which is then read once (each read is a billed read and a round trip in the route step)."""
    from handoff.aws.accounts import AccountRepository
    from handoff.aws.tables import ACCOUNTS
    from handoff.domain.account import Account

    moto_credentials(monkeypatch)
    with mock_aws():
        create_table(boto3.client("dynamodb"), ACCOUNTS, ACCOUNTS.logical_name)
        table = boto3.resource("dynamodb").Table(ACCOUNTS.logical_name)
        accounts = AccountRepository(table)
        accounts.put(Account(domain="northwind.example", owner="rep-a"))
        read: list[str] = []
        table.meta.client.meta.events.register(
            "provide-client-params.dynamodb.GetItem", lambda params, **_: read.append(params["Key"]["domain"])
        )
        assert accounts.owner_for("acme.example", "www.Acme.example") is None
        assert read == ["acme.example"]
        read.clear()
        assert accounts.owner_for("acme.example", "northwind.example") == "rep-a"
        assert read == ["acme.example", "northwind.example"]
