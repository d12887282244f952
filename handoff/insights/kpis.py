"""The KPI engine: one set of definitions for the tuning job, the CLI report and the dashboard.

Definitions (over the rows given):
- received / qualified (sales-ready) / handed off (a brief went out);
- speed to lead: received -> brief sent; time to first touch: received -> first disposition;
- SLA attainment: met / (met + breached), over handoffs whose SLA ran to an end;
- contact and meeting rates: share of handoffs that reached a contact or meeting outcome;
- MQL -> SQL: qualified leads that reached an SQL outcome;
- recycle rate, and recycled -> SQL: recycled contacts that came back and reached SQL later;
- reassignment rate: handoffs that moved to another rep; reassignments counted by cause
  (sla_lapsed, brief_bounced, wrong_owner, manual: HistoryRow.reassigned_because);
- assignment accuracy: handoffs neither flagged wrong_owner by their owner (a disposition
  reason) nor reassigned for a routing cause (wrong_owner, manual). A lapse or a bounce is the
  rep's or the mailbox's doing, not routing's, so it does not count against routing;
- per-rep load and fairness (the largest gap between a rep's load and the pool mean);
- pipeline created: handoffs with a deal, the deals' total amount and amount per handoff;
- stage 1 -> 2: deals that reached stage 2 / deals that reached stage 1 (a deal that reached a
  later milestone passed the earlier ones, so the rate never exceeds 100%);
- pipeline quality: win rate (won / closed deals), average amount (over deals with one), and
  days from the handoff's received_at to its first deal reaching stage 2 (p50).

Denominators: speed, SLA, contact, meeting, recycle, reassignment, assignment accuracy and
pipeline rates (with a deal, amount per handoff) are over handoffs (a brief went out); MQL -> SQL
is over qualified leads; stage 1 -> 2 over deals that reached stage 1; win rate over closed
(won or lost) deals; average amount over deals with an amount. Deals count only for handoffs:
a deal on a lead never handed off is not pipeline the handoff created. An SLA is met or breached by one rule
(LeadRecord.sla_met: a first touch by the first deadline); attainment leaves out SLAs still
running. Every per-rep figure counts a handoff for the rep routing chose (HistoryRow.rep_id),
so a rep's load, contact rate and breaches share one denominator.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel

from handoff.config.tuning import TuningConfig
from handoff.domain.deal import Milestone
from handoff.insights.history import LATER_OR_EQUAL, WRONG_OWNER, HistoryRow
from handoff.insights.stats import percentile, rate

CUTS: dict[str, Callable[[HistoryRow], str | None]] = {
    "tier": lambda r: r.tier,
    "source": lambda r: r.lead.source,
    "rule": lambda r: r.rule,
    "rep": lambda r: r.rep_id,
    "week": lambda r: "{}-W{:02d}".format(*r.received_at.isocalendar()[:2]),
}


class Kpis(BaseModel):
    received: int
    qualified: int
    handed_off: int
    speed_to_lead_p50: float | None
    speed_to_lead_p90: float | None
    first_touch_p50: float | None
    first_touch_p90: float | None
    sla_met: int
    sla_breached: int
    sla_attainment: float | None
    contacted: int
    contact_rate: float | None
    meetings: int
    meeting_rate: float | None
    sql: int
    mql_to_sql: float | None
    disqualify_reasons: dict[str, int]
    recycled: int
    recycle_rate: float | None
    recycled_to_sql: float | None
    reassigned: int
    reassignment_rate: float | None
    reassignments_by_cause: dict[str, int] = {}
    wrong_owner: int = 0  # handoffs the owner flagged wrong_owner
    misrouted: int = 0  # flagged wrong_owner, or reassigned for a routing cause
    assignment_accuracy: float | None = None
    with_pipeline: int = 0  # handoffs with a deal
    pipeline_rate: float | None = None
    deals: int = 0
    pipeline_amount: float = 0
    pipeline_per_handoff: float | None = None
    stage_1: int = 0
    stage_2: int = 0
    stage_1_to_2: float | None = None
    won: int = 0
    lost: int = 0
    win_rate: float | None = None
    average_deal: float | None = None
    days_to_stage_2_p50: float | None = None
    rep_load: dict[str, int]
    # max |load - mean load| / mean load, over reps with any load; 0 is perfectly even.
    load_imbalance: float | None


# Reassignment causes that say routing chose the wrong rep; the others are the rep's lapse or a
# bounced brief, which a perfect routing would not have prevented.
ROUTING_CAUSES = frozenset({WRONG_OWNER, "manual"})


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if end else None


def _later_sql_contacts(rows: Iterable[HistoryRow], sql_outcomes: Sequence[str]) -> dict[str, list[datetime]]:
    when: dict[str, list[datetime]] = defaultdict(list)
    for row in rows:
        if row.reached(sql_outcomes):
            when[row.contact_email].append(row.received_at)
    return when


def compute(
    rows: Sequence[HistoryRow], config: TuningConfig, *, everything: Sequence[HistoryRow] | None = None
) -> Kpis:
    """KPIs over ``rows``. ``everything`` (default: rows) is where a recycled contact's later
    comeback is looked for, so a cut by week still sees next month's SQL."""
    handed = [r for r in rows if r.handed_off]
    speeds = [s for r in handed if (s := _seconds(r.received_at, r.notified_at)) is not None]
    touches = [s for r in handed if (s := _seconds(r.received_at, r.first_touch_at)) is not None]
    met = sum(1 for r in handed if r.sla_met is True)
    breached = sum(1 for r in handed if r.sla_met is False)
    contacted = sum(1 for r in handed if r.reached(config.contact_outcomes))
    meetings = sum(1 for r in handed if r.reached(config.meeting_outcomes))
    qualified = [r for r in rows if r.ready]
    sql = sum(1 for r in qualified if r.reached(config.sql_outcomes))
    recycled = [r for r in handed if "recycle" in r.outcomes]
    comebacks = _later_sql_contacts(everything if everything is not None else rows, config.sql_outcomes)
    recycled_sql = sum(
        1 for r in recycled if any(t > r.received_at for t in comebacks.get(r.contact_email, []))
    )
    reassigned = sum(1 for r in handed if len(r.reps) > 1)
    load = Counter(r.rep_id for r in handed if r.rep_id)
    mean = sum(load.values()) / len(load) if load else 0
    misrouted = [r for r in handed if r.wrong_owner or not ROUTING_CAUSES.isdisjoint(r.reassigned_because)]
    deals = [d for r in handed for d in r.deals]
    amounts = [d.amount for d in deals if d.amount is not None]
    amount = sum(amounts)
    stage_1 = [d for d in deals if any(d.reached(m) for m in LATER_OR_EQUAL[Milestone.STAGE_1])]
    stage_2 = sum(1 for d in stage_1 if any(d.reached(m) for m in LATER_OR_EQUAL[Milestone.STAGE_2]))
    won = sum(1 for d in deals if d.reached(Milestone.WON))
    lost = sum(1 for d in deals if d.reached(Milestone.LOST) and not d.reached(Milestone.WON))
    to_stage_2 = [
        (t - r.received_at).total_seconds() / 86400
        for r in handed
        if (t := r.deal_reached(Milestone.STAGE_2))
    ]
    with_pipeline = sum(1 for r in handed if r.deals)
    return Kpis(
        received=len(rows),
        qualified=len(qualified),
        handed_off=len(handed),
        speed_to_lead_p50=percentile(speeds, 0.5),
        speed_to_lead_p90=percentile(speeds, 0.9),
        first_touch_p50=percentile(touches, 0.5),
        first_touch_p90=percentile(touches, 0.9),
        sla_met=met,
        sla_breached=breached,
        sla_attainment=rate(met, met + breached),
        contacted=contacted,
        contact_rate=rate(contacted, len(handed)),
        meetings=meetings,
        meeting_rate=rate(meetings, len(handed)),
        sql=sql,
        mql_to_sql=rate(sql, len(qualified)),
        disqualify_reasons=dict(
            Counter(r.reasons.get("disqualify", "unspecified") for r in handed if "disqualify" in r.outcomes)
        ),
        recycled=len(recycled),
        recycle_rate=rate(len(recycled), len(handed)),
        recycled_to_sql=rate(recycled_sql, len(recycled)),
        reassigned=reassigned,
        reassignment_rate=rate(reassigned, len(handed)),
        reassignments_by_cause=dict(sorted(Counter(c for r in handed for c in r.reassigned_because).items())),
        wrong_owner=sum(1 for r in handed if r.wrong_owner),
        misrouted=len(misrouted),
        assignment_accuracy=rate(len(handed) - len(misrouted), len(handed)),
        with_pipeline=with_pipeline,
        pipeline_rate=rate(with_pipeline, len(handed)),
        deals=len(deals),
        pipeline_amount=amount,
        pipeline_per_handoff=amount / len(handed) if handed else None,
        stage_1=len(stage_1),
        stage_2=stage_2,
        stage_1_to_2=rate(stage_2, len(stage_1)),
        won=won,
        lost=lost,
        win_rate=rate(won, won + lost),
        average_deal=amount / len(amounts) if amounts else None,
        days_to_stage_2_p50=percentile(to_stage_2, 0.5),
        rep_load=dict(sorted(load.items())),
        load_imbalance=max(abs(n - mean) for n in load.values()) / mean if mean else None,
    )


def cut(rows: Sequence[HistoryRow], by: str, config: TuningConfig) -> dict[str, Kpis]:
    """KPIs per value of one dimension: tier, source, rule, rep or week."""
    if by not in CUTS:
        raise ValueError(f"cannot cut by {by!r}: choose one of {', '.join(CUTS)}")
    groups: dict[str, list[HistoryRow]] = defaultdict(list)
    for row in rows:
        groups[CUTS[by](row) or "(none)"].append(row)
    return {key: compute(group, config, everything=rows) for key, group in sorted(groups.items())}
