"""Email at the account's pace. SES takes at most its sending rate (emails a second) from an
account; past it, SES refuses with a throttle. Rather than send and be refused, every sender
takes its moments from one shared schedule: the next free moment, one gap (1 / rate) per email.
A burst's briefs then go out back to back at exactly the rate, each waiting its turn without
running (the workflow's Wait state), instead of retrying into the limit."""

from __future__ import annotations

from dataclasses import dataclass

# A send due within this long waits in the step (the adapter sleeps); a later one is handed back
# to the workflow, which waits without running a function. A step's time is billed, but a few
# seconds of it per email cost far less than a send that misses its moment.
WAIT_IN_STEP_SECONDS = 5.0
# A handed-back brief is woken this much before its moment. In that time the step starts (a cold
# start on AWS, a busy host locally), loads and renders the brief and takes its turn on the sends'
# clock, a DynamoDB write that a throttling burst (seconds) may hold up: the turn must be taken
# before the moment, because a send that comes late pushes every send behind it later too, and
# the quota's lost second is never won back. 4 s was too little in a 1,000-lead burst at 1/s:
# steps woken while the burst was still being routed came late, and SES sat idle (BENCHMARKS.md).
WAKE_EARLY_SECONDS = 8.0
# The longest a step sleeps before its send: woken up to a second earlier than asked (the
# workflow waits whole seconds), and its turn at most WAIT_IN_STEP_SECONDS after its moment.
LONGEST_SLEEP_SECONDS = WAKE_EARLY_SECONDS + 1.0 + WAIT_IN_STEP_SECONDS


def workflow_wait(wait: float) -> int:
    """Whole seconds the workflow waits (its Wait state takes no fractions) for a moment ``wait``
    seconds off, waking the step early enough to send at the moment."""
    return max(1, int(wait - WAKE_EARLY_SECONDS))


@dataclass(frozen=True)
class Slots:
    """The moments (epoch seconds) given to one sender's emails, how far off the first is from
    the schedule's now, and the schedule's new free moment."""

    moments: tuple[float, ...]
    free_at: float
    starts_in: float = 0.0


@dataclass(frozen=True)
class Turn:
    """A send's turn on the sends' own clock: ``at`` is the turn taken, or, when ``taken`` is
    False, the clock's next free moment, more than a step's wait off (nothing was held)."""

    at: float
    taken: bool = True


# SES refused a send at its turn: its bucket was short by a moment (the send before came late,
# or this call came early by its own jitter), so the send is tried again after these pauses
# (jittered down to half), inside its gap at the sandbox's 1 email a second, before it gives up
# its turn: a refusal then costs a tenth of a second, not a whole turn at the back of the clock.
SHORT_REFUSAL_PAUSES = (0.05, 0.1)

# Moments are this much further apart than the rate: SES holds about a second of its rate, and a
# send that lands a millisecond early behind the one before it (a sleep's or a thread's jitter)
# is refused; its retry then crowds the next. 2% of a second at 1 email a second covers that.
MARGIN = 0.02


def gap(rate: float, share: float) -> float:
    """Seconds between two emails at ``share`` of the account's ``rate`` emails a second."""
    return (1.0 + MARGIN) / (rate * share)


def unpaced(now: float, emails: int) -> Slots:
    """Every email at once: the moments when the account's rate is unknown."""
    return Slots(moments=(now,) * emails, free_at=now)


def take(
    free_at: float | None, now: float, spacing: float, emails: int, within: float | None
) -> Slots | None:
    """The next ``emails`` moments from a schedule free at ``free_at`` (None: never used), no
    earlier than ``now``; None when the first would be more than ``within`` seconds away."""
    start = max(now, free_at or now)
    if within is not None and start - now > within:
        return None
    moments = tuple(start + i * spacing for i in range(emails))
    return Slots(moments=moments, free_at=moments[-1] + spacing, starts_in=start - now)
