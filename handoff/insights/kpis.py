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

from collections.abc import Callable, Iterable, Sequence

from pydantic import BaseModel

from handoff.config.tuning import TuningConfig
from handoff.insights.history import WRONG_OWNER, HistoryRow

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


def compute(
    rows: Iterable[HistoryRow], config: TuningConfig, *, everything: Iterable[HistoryRow] | None = None
) -> Kpis:
    """KPIs over ``rows``, in one pass (``analysis.KpiAccumulator``). ``everything`` (default:
    rows) is where a recycled contact's later comeback is looked for, so a cut by week still
    sees next month's SQL."""
    from handoff.insights.analysis import KpiAccumulator, later_sqls

    rows = rows if isinstance(rows, Sequence) else list(rows)
    accumulator = KpiAccumulator(config)
    for row in rows:
        accumulator.add(row, _timestamp(row), bool(row.outcomes) and row.reached(config.sql_outcomes))
    return accumulator.result(later_sqls(everything if everything is not None else rows, config))


def _timestamp(row: HistoryRow) -> float:
    from handoff.insights.analysis import EPOCH

    return (row.received_at - EPOCH).total_seconds()


def cut(rows: Iterable[HistoryRow], by: str, config: TuningConfig) -> dict[str, Kpis]:
    """KPIs per value of one dimension: tier, source, rule, rep or week (one pass)."""
    from handoff.insights.analysis import KpiAccumulator, later_sqls

    if by not in CUTS:
        raise ValueError(f"cannot cut by {by!r}: choose one of {', '.join(CUTS)}")
    rows = rows if isinstance(rows, Sequence) else list(rows)
    groups: dict[str, KpiAccumulator] = {}
    for row in rows:
        key = CUTS[by](row) or "(none)"
        if key not in groups:
            groups[key] = KpiAccumulator(config)
        groups[key].add(row, _timestamp(row), bool(row.outcomes) and row.reached(config.sql_outcomes))
    comebacks = later_sqls(rows, config)
    return {key: group.result(comebacks) for key, group in sorted(groups.items())}
