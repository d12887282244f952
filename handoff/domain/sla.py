"""When a first touch is due: wall-clock seconds, or seconds of the rep's working hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from handoff.domain.clock import zone

MAX_DAYS = 30  # a guard: no SLA spans more than a month of calendar time


def _zone(name: str) -> ZoneInfo:
    return zone(name) or ZoneInfo("UTC")


def due_at(
    start: datetime, seconds: int, *, working_hours: str | None = None, timezone: str = "UTC"
) -> datetime:
    """``seconds`` after ``start``; with ``working_hours`` ("09:00-17:30", Monday to Friday, in
    ``timezone``), only time inside those hours counts, so a lead at 17:25 with a 10-minute SLA
    is due at 09:05 the next working day."""
    if not working_hours:
        return start + timedelta(seconds=seconds)
    zone = _zone(timezone)
    opens_text, closes_text = working_hours.split("-")
    opens, closes = time.fromisoformat(opens_text), time.fromisoformat(closes_text)
    cursor = start.astimezone(zone)
    left = timedelta(seconds=seconds)
    for _ in range(MAX_DAYS * 2):
        day_open = cursor.replace(hour=opens.hour, minute=opens.minute, second=0, microsecond=0)
        day_close = cursor.replace(hour=closes.hour, minute=closes.minute, second=0, microsecond=0)
        if cursor.weekday() < 5 and cursor < day_close:
            cursor = max(cursor, day_open)
            if cursor + left <= day_close:
                return (cursor + left).astimezone(start.tzinfo)
            left -= day_close - cursor
        cursor = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start + timedelta(seconds=seconds)  # hours that never open: fall back to the clock
