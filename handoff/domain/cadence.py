"""The follow-up cadence after an "attempted" outcome: when each step falls, and what an outcome
does to it. Pure: the service (handoff.service.cadence) sends and stores.

Attempt 1 is the one the rep recorded. Attempts 2..N each get a reminder, the steps evenly spaced
over the configured business days of the rep's working time (handoff.domain.sla); the last step
is the end: without a final outcome by then, the lead is recycled with reason no_response.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from handoff.config.cadence import CadenceConfig
from handoff.domain.record import Cadence, CadenceState, LeadRecord
from handoff.domain.sla import WorkingTime, parse_hours

ATTEMPTED = "attempted"
# What a cadence that runs out records.
RUN_OUT = ("recycle", "no_response")
# The notification kind of a step's reminder.
REMINDER_KIND = "cadence"
DAY_SECONDS = 24 * 3600


def business_day_seconds(working_time: WorkingTime | None) -> int:
    """How long one business day is: the rep's working day, or 24 hours on the wall clock."""
    span = parse_hours(working_time.hours) if working_time else None
    if span is None:
        return DAY_SECONDS
    opens, closes = span
    return (closes.hour - opens.hour) * 3600 + (closes.minute - opens.minute) * 60


def start(config: CadenceConfig, working_time: WorkingTime | None, now: datetime) -> Cadence:
    """A cadence beginning with the attempt recorded ``now``, in the owner's ``working_time``
    (None: the wall clock)."""
    step = config.step_seconds or max(
        1, round(config.over_business_days * business_day_seconds(working_time) / config.attempts)
    )
    cadence = Cadence(
        started_at=now, attempts=config.attempts, step_seconds=step, working_time=working_time, next_at=now
    )
    return cadence.model_copy(update={"next_at": step_at(cadence, 1)})


def step_at(cadence: Cadence, step: int) -> datetime:
    """When step ``step`` falls: 1 is the reminder for attempt 2, ``attempts`` the end. Counted
    from the start, so a late sweep never pushes the later steps back."""
    seconds = step * cadence.step_seconds
    if cadence.working_time is None:
        return cadence.started_at + timedelta(seconds=seconds)
    return cadence.working_time.add(cadence.started_at, seconds)


def ends_at(cadence: Cadence) -> datetime:
    return step_at(cadence, cadence.attempts)


def due_step(cadence: Cadence, now: datetime) -> int:
    """The last step whose time has come (``reminded`` when none has since the last reminder)."""
    step = cadence.reminded
    while step < cadence.attempts and step_at(cadence, step + 1) <= now:
        step += 1
    return step


def next_working_moment(cadence: Cadence, now: datetime) -> datetime:
    """``now`` while the rep is at work (or the cadence runs on the wall clock), else when they
    next are: no step is ever sent while the rep is off."""
    return cadence.working_time.next_open(now) if cadence.working_time else now


def is_running(record: LeadRecord) -> bool:
    return record.cadence is not None and record.cadence.state == CadenceState.RUNNING


def after_outcome(
    record: LeadRecord,
    outcome: str,
    reason: str | None,
    *,
    final: bool,
    config: CadenceConfig,
    working_time: WorkingTime | None,
    now: datetime,
) -> dict[str, Any]:
    """The fields the owner's ``outcome`` sets on the cadence: an attempt starts one when none
    runs (a repeat leaves the schedule alone), in the owner's ``working_time``; any other outcome
    stops a running one, and the no_response recycle at its end marks it run out."""
    if outcome == ATTEMPTED and not final and config.attempts:
        if is_running(record):
            return {}
        return {"cadence": start(config, working_time, now).model_dump(mode="json")}
    if record.cadence is not None and is_running(record):
        ran_out = (outcome, reason) == RUN_OUT and now >= ends_at(record.cadence)
        return {"cadence.state": (CadenceState.RAN_OUT if ran_out else CadenceState.STOPPED).value}
    return {}


def another_attempt(record: LeadRecord, outcome: str, since: datetime) -> bool:
    """An attempt recorded again after a cadence reminder is a new try, not a repeated click."""
    return (
        outcome == ATTEMPTED
        and is_running(record)
        and any(n.kind == REMINDER_KIND and n.sent_at > since for n in record.notifications)
    )
