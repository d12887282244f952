"""Working time: when someone is at work, and when a first touch is due.

One definition serves the SLA, every rung of the ladder, the sla_check sweep and hot-lead routing:
a person works their ``working_hours`` ("09:00-17:30") Monday to Friday in their own time zone,
except on the public holidays of their country (and region, when the country has regional ones),
as the maintained ``holidays`` library knows them. Without a country: weekends only.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from handoff.domain.clock import zone

if TYPE_CHECKING:
    from handoff.domain.record import Assignment
    from handoff.domain.rep import Rep

MAX_DAYS = 30  # a guard: no SLA spans more than a month of calendar time
# Reps without their own working_hours work these; the config's default ([routing]) is this.
DEFAULT_WORKING_HOURS = "09:00-17:30"
HOURS_PATTERN = r"^\d{2}:\d{2}-\d{2}:\d{2}$"


def _zone(name: str) -> ZoneInfo:
    return zone(name) or ZoneInfo("UTC")


def parse_hours(text: str) -> tuple[time, time] | None:
    """("09:00", "17:30") as times, or None when they are not a working day's hours."""
    try:
        opens_text, closes_text = text.split("-")
        opens, closes = time.fromisoformat(opens_text), time.fromisoformat(closes_text)
    except ValueError:
        return None
    return (opens, closes) if opens < closes else None


@cache
def _holidays(country: str, region: str | None, year: int) -> dict[date, str]:
    """The public holidays of ``country`` (and ``region``) in ``year``: date -> English name. An
    unknown region counts the country's holidays only; an unknown country, none (a typo in the
    roster must never stop a handoff)."""
    # Imported here, not at the top: 80-170 ms and 17 MB once per container, paid only by a
    # function that meets a rep with a country (docs/sla.md).
    import holidays

    for subdiv in (region, None) if region else (None,):
        try:
            found = holidays.country_holidays(country, subdiv=subdiv, years=year, language="en_US")
        except NotImplementedError:
            continue
        return dict(found.items())
    return {}


def holiday_problem(country: str | None, region: str | None) -> str | None:
    """Why this country or region has no holiday calendar (for the roster's checks), or None."""
    if not country:
        return None
    import holidays

    try:
        holidays.country_holidays(country, subdiv=region)
    except NotImplementedError as exc:
        return str(exc)
    return None


class WorkingTime(BaseModel):
    """One person's working time: hours, Monday to Friday, in a time zone, less public holidays."""

    model_config = ConfigDict(frozen=True)

    hours: str = DEFAULT_WORKING_HOURS
    timezone: str = "UTC"
    country: str | None = None
    region: str | None = None

    def day_off(self, day: date) -> str | None:
        """Why ``day`` (a local date) is not a working day ("Saturday", "Thanksgiving Day"), or None."""
        if day.weekday() >= 5:
            return f"{day:%A}"
        if self.country:
            return _holidays(self.country, self.region, day.year).get(day)
        return None

    def outside(self, moment: datetime) -> str | None:
        """Why ``moment`` is outside working time ("Thanksgiving Day, Thu 10:00 America/New_York"),
        or None while the person is at work. Hours that are not hours: always at work."""
        span = parse_hours(self.hours)
        if span is None:
            return None
        local = moment.astimezone(_zone(self.timezone))
        where = f"{local:%a %H:%M} {self.timezone}"
        off = self.day_off(local.date())
        if off and off != f"{local:%A}":
            return f"{off}, {where}"
        if off or not span[0] <= local.time() < span[1]:
            return where
        return None

    def next_open(self, moment: datetime) -> datetime:
        """The first moment at or after ``moment`` inside working time."""
        return self.add(moment, 0)

    def seconds_to_open(self, now: datetime) -> int:
        """Whole seconds to wait from ``now`` so that the wait ends inside working time (0 now)."""
        return math.ceil((self.next_open(now) - now).total_seconds())

    def add(self, start: datetime, seconds: int) -> datetime:
        """``seconds`` of working time after ``start``: a lead at 17:25 with a 10-minute SLA is
        due at 09:05 the next working day. With 0 seconds: the next moment at work."""
        span = parse_hours(self.hours)
        if span is None:
            return start + timedelta(seconds=seconds)
        opens, closes = span
        cursor = start.astimezone(_zone(self.timezone))
        left = timedelta(seconds=seconds)
        for _ in range(MAX_DAYS * 2):
            day_open = cursor.replace(hour=opens.hour, minute=opens.minute, second=0, microsecond=0)
            day_close = cursor.replace(hour=closes.hour, minute=closes.minute, second=0, microsecond=0)
            if cursor < day_close and self.day_off(cursor.date()) is None:
                cursor = max(cursor, day_open)
                # Nothing left lands inside the day ([open, close)); a span of work may end at close.
                if cursor + left < day_close or (left and cursor + left == day_close):
                    return (cursor + left).astimezone(start.tzinfo)
                left -= day_close - cursor
            cursor = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return start + timedelta(seconds=seconds)  # hours that never open: fall back to the clock


def rep_time(rep: Rep, default_hours: str) -> WorkingTime:
    """A rep's working time: their own hours, else the default."""
    return WorkingTime(
        hours=rep.working_hours or default_hours,
        timezone=rep.timezone,
        country=rep.country,
        region=rep.region,
    )


def assigned_time(assignment: Assignment, default_hours: str) -> WorkingTime:
    """The assigned rep's working time, as it was when they got the lead."""
    return WorkingTime(
        hours=assignment.rep_working_hours or default_hours,
        timezone=assignment.rep_timezone,
        country=assignment.rep_country,
        region=assignment.rep_region,
    )


def due_at(
    start: datetime,
    seconds: int,
    *,
    working_hours: str | None = None,
    timezone: str = "UTC",
    country: str | None = None,
    region: str | None = None,
) -> datetime:
    """``seconds`` after ``start`` on the wall clock; with ``working_hours``, of working time
    (WorkingTime.add)."""
    if not working_hours:
        return start + timedelta(seconds=seconds)
    calendar = WorkingTime(hours=working_hours, timezone=timezone, country=country, region=region)
    return calendar.add(start, seconds)
