"""The follow-up cadence's reminder: which attempt this is, when the lead is recycled without a
final outcome, and the outcome buttons. A pure view model, like the brief's."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from handoff.config import HandoffConfig
from handoff.domain.cadence import ends_at
from handoff.domain.record import LeadRecord
from handoff.email.brief import Link, Who, one_line, short_time, who


class CadenceView(BaseModel):
    lead_id: str
    who: Who
    attempt: int  # the attempt this reminder asks for
    attempts: int
    first_attempt: str  # when the rep logged the first one
    ends: str  # when the lead is recycled without a final outcome
    links: list[Link]

    @property
    def last(self) -> bool:
        return self.attempt >= self.attempts

    @property
    def subject(self) -> str:
        head = (
            f"Last try · record an outcome by {self.ends}"
            if self.last
            else f"Try again · attempt {self.attempt} of {self.attempts}"
        )
        return one_line(f"{head} · {self.who.tier.upper()} · {self.who.line}")


def build_cadence(
    record: LeadRecord, config: HandoffConfig, now: datetime, attempt: int, links: list[Link]
) -> CadenceView:
    if record.assignment is None or record.cadence is None:
        raise ValueError(f"lead {record.lead_id} has no follow-up cadence")
    zone = record.assignment.rep_timezone
    return CadenceView(
        lead_id=record.lead_id,
        who=who(record, config, now),
        attempt=attempt,
        attempts=record.cadence.attempts,
        first_attempt=short_time(record.cadence.started_at, zone, now),
        ends=short_time(ends_at(record.cadence), zone, now),
        links=links,
    )
