"""One row per lead with what happened to it: the input to KPIs, tuning and simulation.

Rows come from stored lead records (the tuning job) or from a JSONL file (`--history`,
the synthetic generator). Each keeps the canonical lead, so a simulation can re-run
qualify and route on exactly what arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from handoff.domain.deal import Deal, Milestone
from handoff.domain.lead import Lead
from handoff.domain.record import LeadRecord, LeadStatus, Qualification
from handoff.errors import ConfigError


class HistoryRow(BaseModel):
    lead: Lead
    received_at: datetime
    ready: bool
    tier: str | None = None
    score: float = 0
    fit: float = 0
    signals: list[str] = Field(default_factory=list)
    rule: str | None = None  # the routing rule of the first assignment
    reps: list[str] = Field(default_factory=list)  # every rep who held it, first to last
    notified_at: datetime | None = None
    first_touch_at: datetime | None = None
    sla_met: bool | None = None  # None: no SLA ran to an end (not handed off, or still open)
    renurtured: bool = False
    outcomes: list[str] = Field(default_factory=list)  # dispositions from the owner, in order
    reasons: dict[str, str] = Field(default_factory=dict)  # outcome -> reason code
    # One cause per reassignment, in order: sla_lapsed, brief_bounced, wrong_owner or manual.
    reassigned_because: list[str] = Field(default_factory=list)
    # The pipeline the handoff created, milestones already mapped (empty in older files).
    deals: list[Deal] = Field(default_factory=list)

    @property
    def handed_off(self) -> bool:
        return self.notified_at is not None

    @property
    def rep_id(self) -> str | None:
        """The rep routing chose: every per-rep figure (load, contact rate, breaches) counts a
        handoff for this rep, so one rep shows one handoff count across the report."""
        return self.reps[0] if self.reps else None

    @property
    def contact_email(self) -> str:
        return self.lead.contact.email

    def reached(self, outcomes: Iterable[str]) -> bool:
        return not set(outcomes).isdisjoint(self.outcomes)

    @property
    def wrong_owner(self) -> bool:
        """The owner said the lead was not theirs to work (a disposition reason wrong_owner)."""
        return WRONG_OWNER in self.reasons.values()

    def deal_reached(self, milestone: Milestone) -> datetime | None:
        """When the handoff's first deal reached ``milestone`` (or a later one: a deal that
        skipped stage 1 in the CRM still passed it); None if none did."""
        times = [t for d in self.deals for m in LATER_OR_EQUAL[milestone] if (t := d.milestones.get(m))]
        return min(times) if times else None

    @property
    def pipeline_amount(self) -> float:
        return sum(d.amount or 0 for d in self.deals)


WRONG_OWNER = "wrong_owner"
# A milestone counts as reached when it or a later one was: lost ends a deal at any stage, so
# it implies nothing beyond itself.
LATER_OR_EQUAL = {
    Milestone.STAGE_1: (Milestone.STAGE_1, Milestone.STAGE_2, Milestone.WON),
    Milestone.STAGE_2: (Milestone.STAGE_2, Milestone.WON),
    Milestone.WON: (Milestone.WON,),
    Milestone.LOST: (Milestone.LOST,),
}


def signals_for(qualification: Qualification, trigger_type: str) -> list[str]:
    """The scoring signals a lead earned points for, named after the config key they come from:
    fit.industry, fit.persona.<name>, intent.activity.<kind>, trigger.<type>."""
    named = []
    for reason in qualification.reasons:
        if reason.points <= 0:
            continue
        if reason.code == "fit.persona" and qualification.persona:
            named.append(f"fit.persona.{qualification.persona}")
        elif reason.code == "intent.trigger":
            named.append(f"trigger.{trigger_type}")
        else:
            named.append(reason.code)
    return sorted(set(named))


def lead_of(record: LeadRecord) -> Lead:
    return Lead(
        event_id=record.event_id,
        source=record.source,
        # Records stored before occurred_at was kept fall back to the trigger's time.
        occurred_at=record.occurred_at if "occurred_at" in record.model_fields_set else record.trigger.at,
        contact=record.contact,
        company=record.company,
        crm=record.crm,
        trigger=record.trigger,
        score=record.score,
        activities=record.activities,
    )


def reassignment_causes(record: LeadRecord) -> list[str]:
    """Why each reassignment happened: as the new assignment states it (``Assignment.because``).
    Records stored before it was kept are read as before: the owner who lost it flagged the lead
    wrong_owner before it moved; else the ladder's escalation of that owner says why
    (sla_lapsed, brief_bounced); else nothing in Handoff moved it, so a person did: manual."""
    held = [*record.assignment_history, *([record.assignment] if record.assignment else [])]
    escalated = list(record.escalations)
    causes = []
    for before, after in pairwise(held):
        ladder = next((e for e in escalated if e.get("to_rep") == before.rep_id), None)
        if ladder is not None:
            escalated.remove(ladder)
        if after.because:
            causes.append(after.because)
            continue
        flagged = any(
            d.reason == WRONG_OWNER and before.assigned_at <= d.at <= after.assigned_at
            for d in record.dispositions
        )
        causes.append(
            WRONG_OWNER if flagged else str(ladder.get("because") or "sla_lapsed") if ladder else "manual"
        )
    return causes


def from_record(record: LeadRecord, now: datetime) -> HistoryRow:
    """The lead as history, as of ``now`` (an SLA still running is neither met nor breached)."""
    q = record.qualification
    assignments = [*record.assignment_history, *([record.assignment] if record.assignment else [])]
    touches = sorted((d for d in record.dispositions if not d.stale), key=lambda d: d.at)
    briefs = [n.sent_at for n in record.notifications if n.kind == "brief"]
    return HistoryRow(
        lead=lead_of(record),
        received_at=record.received_at,
        ready=q.ready,
        tier=q.tier,
        score=q.score,
        fit=q.fit,
        signals=signals_for(q, record.trigger.type),
        rule=assignments[0].rule if assignments else None,
        reps=[a.rep_id for a in assignments],
        notified_at=min(briefs) if briefs else None,
        first_touch_at=record.first_touch_at,
        sla_met=record.sla_met(now),
        renurtured=record.status == LeadStatus.RENURTURED,
        outcomes=[d.outcome for d in touches],
        # A wrong_owner flag is no touch, but assignment accuracy counts it.
        reasons={d.outcome: d.reason for d in record.dispositions if d.reason and (not d.stale or d.reason == WRONG_OWNER)},
        reassigned_because=reassignment_causes(record),
        deals=record.deals,
    )


def read_jsonl(path: str | Path, progress: Callable[[int, int], None] | None = None) -> list[HistoryRow]:
    """Rows from a JSONL file; a bad line stops with its number, never a partial read.
    ``progress(lines read, lines)`` follows a long read (the CLI shows it on stderr)."""
    file = Path(path)
    rows = []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read history: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if progress:
            progress(number, len(lines))
        if not line.strip():
            continue
        try:
            rows.append(HistoryRow.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(line)"
            raise ConfigError(f"{file}:{number}: {where}: {first['msg']}") from exc
    return rows


def write_jsonl(rows: Iterable[HistoryRow], path: str | Path) -> None:
    Path(path).write_text("".join(row.model_dump_json(exclude_none=True) + "\n" for row in rows))


def between(rows: Iterable[HistoryRow], start: datetime | None, end: datetime | None) -> Iterator[HistoryRow]:
    return (
        r for r in rows if (start is None or r.received_at >= start) and (end is None or r.received_at < end)
    )
