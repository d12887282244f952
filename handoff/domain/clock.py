"""The one clock, and the one way to read a time-zone name (reps' and config's IANA names)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utcnow() -> datetime:
    return datetime.now(UTC)


def zone(name: str) -> ZoneInfo | None:
    """The zone called ``name``, or None for a name that is not one (never an exception: a
    rep's time zone comes from a CSV, and a typo must not stop a handoff)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local(moment: datetime, name: str) -> datetime:
    """``moment`` on the clock of zone ``name``; unchanged when the name is not a zone."""
    found = zone(name)
    return moment.astimezone(found) if found else moment
