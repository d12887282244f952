"""Which index entries a write touches (handoff.aws.index_writes), on the leads table's indexes."""

from __future__ import annotations

from handoff.aws.index_writes import entry, index_writes
from handoff.aws.tables import LEADS, OPEN_INDEX, RECEIVED_INDEX, Index, TableSpec

LEAD = {
    "lead_id": "L1",
    "status": "routing",
    "source": "generic",
    "received_at": "2026-11-30T10:00:00Z",
    "received_month": "2026-11#3",
    "contact_email": "a@example.com",
    "open_status": "routing#3",
    "check_at": "2026-11-30T10:15:00Z",
    "updated_at": "2026-11-30T10:00:00Z",
    "timeline": [{"event": "received"}],
}


def _touched(before: dict[str, object] | None, after: dict[str, object] | None) -> list[tuple[str, str, str]]:
    return [(w.index, w.action, w.partition_key) for w in index_writes(LEADS, before, after)]


def test_a_new_item_puts_an_entry_in_each_index_whose_keys_it_has() -> None:
    assert _touched(None, LEAD) == [
        ("by_contact", "put", "a@example.com"),
        ("by_open_status", "put", "routing#3"),
        ("by_received", "put", "2026-11#3"),
    ]


def test_a_write_that_changes_nothing_an_index_holds_touches_no_entry() -> None:
    after = {
        **LEAD,
        "updated_at": "2026-11-30T10:00:05Z",
        "timeline": [{"event": "received"}, {"event": "x"}],
    }
    assert _touched(LEAD, after) == []


def test_a_projected_attribute_rewrites_the_entry_in_place() -> None:
    after = {**LEAD, "recoveries": 1}  # by_open_status projects recoveries; the others do not
    assert _touched(LEAD, after) == [("by_open_status", "update", "routing#3")]


def test_a_key_change_is_a_delete_under_the_old_key_and_a_put_under_the_new() -> None:
    after = {**LEAD, "status": "assigned", "open_status": "assigned#3", "check_at": "2026-11-30T10:20:00Z"}
    assert _touched(LEAD, after) == [
        ("by_contact", "update", "a@example.com"),  # projects status
        ("by_open_status", "delete", "routing#3"),
        ("by_open_status", "put", "assigned#3"),
    ]
    # A sort key change alone moves the entry too, under the same partition key.
    later = {**LEAD, "check_at": "2026-11-30T11:00:00Z"}
    assert _touched(LEAD, later) == [
        ("by_open_status", "delete", "routing#3"),
        ("by_open_status", "put", "routing#3"),
    ]


def test_losing_a_key_attribute_leaves_a_sparse_index() -> None:
    closed = {k: v for k, v in LEAD.items() if k not in {"open_status", "check_at"}} | {"status": "closed"}
    assert _touched(LEAD, closed) == [
        ("by_contact", "update", "a@example.com"),
        ("by_open_status", "delete", "routing#3"),
    ]


def test_entries_hold_table_keys_index_keys_and_the_projection() -> None:
    assert entry(LEADS, RECEIVED_INDEX, LEAD) == {
        "lead_id": "L1",
        "received_month": "2026-11#3",
        "received_at": "2026-11-30T10:00:00Z",
    }
    projected = entry(LEADS, OPEN_INDEX, LEAD)
    assert projected is not None
    assert set(projected) == {"lead_id", "open_status", "check_at", "status", "source", "received_at"}
    assert entry(LEADS, RECEIVED_INDEX, {"lead_id": "L2"}) is None


def test_an_index_projecting_all_is_rewritten_by_any_change() -> None:
    table = TableSpec("T", partition_key="id", indexes=(Index("all", partition_key="k", include=None),))
    before = {"id": "1", "k": "x", "n": 1}
    assert [(w.action, w.entry) for w in index_writes(table, before, {**before, "n": 2})] == [
        ("update", {"id": "1", "k": "x", "n": 2})
    ]
    assert index_writes(table, before, dict(before)) == []
