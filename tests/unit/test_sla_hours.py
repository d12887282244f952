from __future__ import annotations

from datetime import UTC, datetime

from handoff.domain.sla import due_at

NY = "America/New_York"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_wall_clock_by_default() -> None:
    assert due_at(at("2026-11-06T22:00:00+00:00"), 600) == at("2026-11-06T22:10:00+00:00")


def test_inside_working_hours_it_is_the_same() -> None:
    start = at("2026-11-03T15:00:00+00:00")  # Tue 10:00 New York
    assert due_at(start, 600, working_hours="09:00-17:00", timezone=NY) == at("2026-11-03T15:10:00+00:00")


def test_time_outside_hours_does_not_count() -> None:
    start = at("2026-11-03T21:55:00+00:00")  # Tue 16:55 New York: 5 minutes left today
    due = due_at(start, 600, working_hours="09:00-17:00", timezone=NY)
    assert due.astimezone(UTC) == at("2026-11-04T14:05:00+00:00")  # Wed 09:05 New York


def test_weekends_are_skipped() -> None:
    friday_evening = at("2026-11-06T23:00:00+00:00")  # Fri 18:00 New York
    due = due_at(friday_evening, 300, working_hours="09:00-17:00", timezone=NY)
    assert due.astimezone(UTC) == at("2026-11-09T14:05:00+00:00")  # Mon 09:05


def test_long_slas_span_several_days() -> None:
    start = at("2026-11-03T14:00:00+00:00")  # Tue 09:00 New York
    due = due_at(start, 3 * 8 * 3600, working_hours="09:00-17:00", timezone=NY)  # three working days
    assert due.astimezone(UTC) == at("2026-11-05T22:00:00+00:00")  # Thu 17:00


def test_unknown_zone_falls_back_to_utc() -> None:
    start = at("2026-11-03T16:59:00+00:00")
    assert due_at(start, 120, working_hours="09:00-17:00", timezone="Mars/Base") == at(
        "2026-11-04T09:01:00+00:00"
    )
