"""Recycle until: the day a recycled lead may come back to sales, as the rep chose it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from handoff.domain.clock import local
from handoff.errors import BadRequest

# Further out than a year is "not now", which is what Disqualify or plain Recycle says.
MAX_DAYS = 365


def window(now: datetime, zone: str) -> tuple[date, date]:
    """The first and last day a rep may pick: tomorrow to a year from today, on the rep's calendar."""
    today = local(now, zone).date()
    return today + timedelta(days=1), today + timedelta(days=MAX_DAYS)


def check(outcome: str, until: date | None, now: datetime, zone: str) -> None:
    """BadRequest unless ``until`` is absent, or a day in the window on a recycle."""
    if until is None:
        return
    if outcome != "recycle":
        raise BadRequest(
            "recycle_until goes only with the recycle outcome", details=[{"field": "recycle_until"}]
        )
    first, last = window(now, zone)
    if not first <= until <= last:
        raise BadRequest(
            f"recycle_until must be a day from {first.isoformat()} to {last.isoformat()}",
            details=[{"field": "recycle_until", "min": first.isoformat(), "max": last.isoformat()}],
        )
