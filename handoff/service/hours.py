"""Whose working time each step of the handoff lands in.

The SLA and the reminder: the rep's. The escalation: the manager's (managers are reps too, found
by email; one who is not, or sales ops, counts the rep's hours). The reassignment and the re-nurture: the rep's.
With [escalation] sla_in_working_hours = false every step runs on the wall clock (None here).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from handoff.domain.record import Assignment
from handoff.domain.rep import Rep
from handoff.domain.sla import WorkingTime, assigned_time, rep_time
from handoff.service.ports import Ports


def rep_by_email(ports: Ports, email: str | None) -> Rep | None:
    wanted = (email or "").strip().lower()
    if not wanted:
        return None
    return next((r for r in ports.reps.list_all() if r.email.strip().lower() == wanted), None)


def of_rep(ports: Ports, assignment: Assignment) -> WorkingTime | None:
    """The assigned rep's working time, or None when the SLA runs on the wall clock."""
    config = ports.config
    if not config.escalation.sla_in_working_hours:
        return None
    return assigned_time(assignment, config.routing.default_working_hours)


def of_reader(ports: Ports, reader: Rep | None, assignment: Assignment) -> WorkingTime | None:
    """The working time of whoever an email goes to (the manager, looked up with rep_by_email):
    theirs when they are on the reps table, else the assigned rep's (the team they look after)."""
    config = ports.config
    if not config.escalation.sla_in_working_hours:
        return None
    if reader is None:
        return assigned_time(assignment, config.routing.default_working_hours)
    return rep_time(reader, config.routing.default_working_hours)


def after(hours: WorkingTime | None, start: datetime, seconds: int) -> datetime:
    """``seconds`` of working time after ``start``; on the wall clock when ``hours`` is None."""
    return hours.add(start, seconds) if hours else start + timedelta(seconds=seconds)


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds from ``now`` to ``moment`` (0 when it has passed): what a Wait state takes."""
    return max(0, math.ceil((moment - now).total_seconds()))


def until_open(hours: WorkingTime | None, now: datetime) -> int:
    """How long to wait so that the next step lands inside ``hours`` (0 on the wall clock)."""
    return hours.seconds_to_open(now) if hours else 0


def lapse_wait(ports: Ports, assignment: Assignment, due: datetime, now: datetime) -> int:
    """The first-touch wait: until the SLA lapses at ``due``, and on until the rep is at work, so
    the reminder never reaches them off hours. At least 1 s (Step Functions' minimum timeout)."""
    hours = of_rep(ports, assignment)
    lapse = hours.next_open(max(due, now)) if hours else due
    return max(1, seconds_until(lapse, now))
