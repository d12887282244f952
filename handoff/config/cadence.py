"""The follow-up cadence after an "attempted" outcome (no answer, a voicemail)."""

from __future__ import annotations

from pydantic import Field

from handoff.config.base import Section


class CadenceConfig(Section):
    """After a rep records "attempted", the rep is reminded, with the outcome buttons, for each
    further attempt; when the cadence runs out without a final outcome the lead is recycled
    (reason no_response) and the rep's slot freed."""

    # Attempts in all, the recorded one first; each later one gets a reminder. 0: no cadence.
    attempts: int = Field(default=4, ge=0, le=10)
    # The attempts are spread evenly over this many of the rep's working days; the cadence runs
    # out at the end of the last one. Working time is the SLA's ([escalation]
    # sla_in_working_hours): no step reaches the rep outside it. On the wall clock a business day
    # is 24 hours.
    over_business_days: float = Field(default=6, gt=0, le=20)
    # Seconds of the same clock between steps instead of over_business_days (0: unused); for
    # trying Handoff out in seconds, as the demo does.
    step_seconds: int = Field(default=0, ge=0, le=7 * 24 * 3600)
