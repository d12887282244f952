"""The KPI engine: one set of definitions for the tuning job, the CLI report and the dashboard.

Definitions (over the rows given):
- received / qualified (sales-ready) / handed off (a brief went out);
- speed to lead: received -> brief sent; time to first touch: received -> first disposition;
- SLA attainment: met / (met + breached), over handoffs whose SLA ran to an end;
- contact and meeting rates: share of handoffs that reached a contact or meeting outcome;
- MQL -> SQL: qualified leads that reached an SQL outcome;
- recycle rate, and recycled -> SQL: recycled contacts that came back and reached SQL later;
- reassignment rate: handoffs that moved to another rep (a proxy for assignment accuracy);
- per-rep load and fairness (the largest gap between a rep's load and the pool mean).

Denominators: speed, SLA, contact, meeting, recycle and reassignment rates are over handoffs
(a brief went out); MQL -> SQL is over qualified leads. An SLA is met or breached by one rule
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
from handoff.insights.history import HistoryRow
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
    rep_load: dict[str, int]
    # max |load - mean load| / mean load, over reps with any load; 0 is perfectly even.
    load_imbalance: float | None


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
