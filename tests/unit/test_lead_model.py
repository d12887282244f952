from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from handoff.domain.lead import SENDER_TIMEZONE, Lead
from handoff.domain.record import iso


def test_only_event_id_email_and_trigger_type_are_required() -> None:
    lead = Lead.model_validate(
        {
            "event_id": "e1",
            "contact": {"email": "A@Example.com"},
            "trigger": {"type": "Demo_Request"},
        }
    )
    assert lead.contact.email == "a@example.com"
    assert lead.trigger.type == "demo_request"
    assert lead.source == "other"
    assert lead.activities == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contact": {"email": "a@b.co"}, "trigger": {"type": "x"}}, "event_id"),
        ({"event_id": "e", "contact": {}, "trigger": {"type": "x"}}, "contact.email"),
        (
            {"event_id": "e", "contact": {"email": "not-an-email"}, "trigger": {"type": "x"}},
            "contact.email",
        ),
        ({"event_id": "e", "contact": {"email": "a@b.co"}}, "trigger"),
        (
            {"event_id": "e", "contact": {"email": "a@b.co"}, "trigger": {"type": ""}},
            "trigger.type",
        ),
        (
            {
                "event_id": "e",
                "contact": {"email": "a@b.co"},
                "trigger": {"type": "x"},
                "company": {"employees": -1},
            },
            "company.employees",
        ),
    ],
)
def test_invalid_fields_are_named(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        Lead.model_validate(body)
    locations = {".".join(str(p) for p in e["loc"]) for e in error.value.errors()}
    assert field in locations


def test_unknown_fields_are_kept_as_extras(hot_lead: dict[str, Any]) -> None:
    hot_lead["utm_campaign"] = "q4-launch"
    hot_lead["contact"]["linkedin"] = "https://linkedin.example/in/jordan"
    lead = Lead.model_validate(hot_lead)
    dumped = lead.model_dump()
    assert dumped["utm_campaign"] == "q4-launch"
    assert dumped["contact"]["linkedin"] == "https://linkedin.example/in/jordan"


def test_lead_id_is_deterministic_per_source_and_event(hot_lead: dict[str, Any]) -> None:
    first = Lead.model_validate(hot_lead).lead_id
    assert Lead.model_validate(hot_lead).lead_id == first
    hot_lead["event_id"] = "another"
    assert Lead.model_validate(hot_lead).lead_id != first
    assert first.startswith("ld_") and len(first) <= 80  # also a valid execution name


def test_iso_timestamps_sort_as_strings() -> None:
    from datetime import UTC, datetime, timedelta

    base = datetime(2026, 11, 2, 15, 0, 0, tzinfo=UTC)
    later = base + timedelta(microseconds=1)
    assert iso(base) < iso(later)
    assert iso(base).endswith("Z")


def test_times_without_an_offset_are_read_on_the_senders_clock() -> None:
    body = {
        "event_id": "e1",
        "occurred_at": "2026-11-02T15:04:05",  # Marketo's {{system.dateTime}} style: no offset
        "contact": {"email": "a@b.co"},
        "trigger": {"type": "demo_request", "at": "2026-11-02 15:03:40"},
        "activities": [
            {"type": "page_view", "at": "2026-11-02T14:58:00"},
            {"type": "x", "at": "2026-11-02T14:00:00+01:00"},
        ],
    }
    in_utc = Lead.model_validate(body)
    assert in_utc.occurred_at == datetime(2026, 11, 2, 15, 4, 5, tzinfo=UTC)
    assert in_utc.trigger.at == datetime(2026, 11, 2, 15, 3, 40, tzinfo=UTC)
    chicago = Lead.model_validate(body, context={SENDER_TIMEZONE: "America/Chicago"})
    assert chicago.occurred_at is not None and chicago.occurred_at.utcoffset() == timedelta(hours=-6)
    assert chicago.activities[0].at == datetime(2026, 11, 2, 20, 58, tzinfo=UTC)
    assert chicago.activities[1].at == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)  # an offset is kept


def test_an_event_id_may_come_as_the_parts_a_template_sender_can_fill() -> None:
    """Marketo quotes each string token itself, so its template sends the id's parts as a list."""
    body = {"contact": {"email": "a@b.example"}, "trigger": {"type": "demo_request"}}
    lead = Lead.model_validate({**body, "event_id": ["marketo", "88213", 4127, "2026-11-02 16:05:00"]})
    assert lead.event_id == "marketo:88213:4127:2026-11-02 16:05:00"
    for bad in ([], [{"x": 1}], [True], ["a"] * 9):
        with pytest.raises(ValidationError, match="event_id"):
            Lead.model_validate({**body, "event_id": bad})
