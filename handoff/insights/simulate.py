"""Replay history through qualify and route under a config, with no side effects.

`handoff simulate --config NEW.toml --history FILE.jsonl` runs the history under the
current and the new config and shows what changes: qualified count, tier mix, per-rep
load, overflow and unassigned leads, and the meetings to expect (observed where the lead
was handed off before, else the historical meeting rate of its score band).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel

from handoff.config import HandoffConfig
from handoff.domain.qualify import qualify
from handoff.domain.record import LeadRecord
from handoff.domain.rep import Rep
from handoff.domain.route import plan_route
from handoff.insights.history import HistoryRow

UNASSIGNED = "(unassigned)"
OVERFLOW_RULES = frozenset({"overflow", "manager_pool"})
SCORE_BAND = 10  # points per band when estimating a newly qualified lead's meeting odds


class RoutingSimulator:
    """Reps with capacity and fairness clocks, in memory. A lead holds its slot for ``hold``
    (history does not say when each would have closed under another config)."""

    def __init__(self, reps: Sequence[Rep], config: HandoffConfig, hold: timedelta = timedelta(days=7)):
        self.reps = [rep.model_copy(deep=True) for rep in reps]
        self.config, self.hold = config, hold
        self._releases: list[tuple[datetime, str]] = []

    def _release_until(self, now: datetime) -> None:
        by_id = {r.rep_id: r for r in self.reps}
        while self._releases and self._releases[0][0] <= now:
            _, rep_id = heapq.heappop(self._releases)
            by_id[rep_id].open_count = max(0, by_id[rep_id].open_count - 1)

    def assign(self, record: LeadRecord, now: datetime) -> tuple[str | None, str]:
        """(rep id or None, rule) for a sales-ready lead, taking the rep's slot."""
        self._release_until(now)
        plan = plan_route(record, self.reps, self.config.routing, now)
        for step in plan.steps:
            for candidate in step.candidates:
                rep = next(r for r in self.reps if r.rep_id == candidate.rep.rep_id)
                if candidate.claims:
                    rep.open_count += 1
                    heapq.heappush(self._releases, (now + self.hold, rep.rep_id))
                    today = rep.today(now)
                    rep.day_count = rep.day_count + 1 if rep.day == today else 1
                    rep.day = today
                if candidate.next_vtime is not None:
                    rep.vtime = candidate.next_vtime
                return rep.rep_id, step.rule
        return None, "unassigned"


class Outcome(BaseModel):
    qualified: int
    tiers: dict[str, int]
    rep_load: dict[str, int]
    overflow: int
    unassigned: int
    expected_meetings: float

    @property
    def meeting_rate(self) -> float:
        return self.expected_meetings / self.qualified if self.qualified else 0.0


class Simulation(BaseModel):
    leads: int
    current: Outcome
    proposed: Outcome
    newly_qualified: int
    no_longer_qualified: int


def _band(score: float) -> int:
    return int(score // SCORE_BAND)


def _band_rates(history: Sequence[HistoryRow], value: Callable[[HistoryRow], float]) -> dict[int, float]:
    totals: Counter[int] = Counter()
    hits: defaultdict[int, float] = defaultdict(float)
    for row in history:
        if row.handed_off:
            totals[_band(row.score)] += 1
            hits[_band(row.score)] += value(row)
    overall = sum(hits.values()) / max(1, sum(totals.values()))
    return {band: hits[band] / totals[band] if totals[band] else overall for band in range(11)}


def replay(
    history: Sequence[HistoryRow],
    config: HandoffConfig,
    reps: Sequence[Rep] | None = None,
    value: Callable[[HistoryRow], float] | None = None,
) -> tuple[Outcome, set[int]]:
    """Run every row (oldest first) through qualify, and route when reps are given;
    (outcome, indexes qualified). ``value`` is what a handoff is worth (default: 1 for a
    meeting); the tuning job passes its [tuning] outcome, so expected_meetings then sums that."""
    router = RoutingSimulator(reps, config) if reps is not None else None
    if value is None:
        meetings = config.tuning.meeting_outcomes
        value = lambda row: float(row.reached(meetings))  # noqa: E731
    rates = _band_rates(history, value)
    tiers: Counter[str] = Counter()
    load: Counter[str] = Counter()
    overflow = unassigned = 0
    expected = 0.0
    qualified: set[int] = set()
    for index in sorted(range(len(history)), key=lambda i: history[i].received_at):
        row = history[index]
        q = qualify(row.lead, config.qualify, row.received_at)
        if not q.ready:
            continue
        qualified.add(index)
        tiers[q.tier or "(none)"] += 1
        if router:
            rep_id, rule = router.assign(LeadRecord.from_lead(row.lead, q, row.received_at), row.received_at)
            load[rep_id or UNASSIGNED] += 1
            overflow += rule in OVERFLOW_RULES
            unassigned += rep_id is None
        # What actually happened when we know it; the band's historical rate when we don't.
        expected += value(row) if row.handed_off else rates[min(10, _band(q.score))]
    outcome = Outcome(
        qualified=len(qualified),
        tiers=dict(sorted(tiers.items())),
        rep_load=dict(sorted(load.items())),
        overflow=overflow,
        unassigned=unassigned,
        expected_meetings=round(expected, 1),
    )
    return outcome, qualified


def simulate(
    history: Sequence[HistoryRow], current: HandoffConfig, proposed: HandoffConfig, reps: Sequence[Rep]
) -> Simulation:
    before, qualified_before = replay(history, current, reps)
    after, qualified_after = replay(history, proposed, reps)
    return Simulation(
        leads=len(history),
        current=before,
        proposed=after,
        newly_qualified=len(qualified_after - qualified_before),
        no_longer_qualified=len(qualified_before - qualified_after),
    )


def describe(simulation: Simulation) -> list[str]:
    """The terminal summary: one line per figure that could change."""
    a, b = simulation.current, simulation.proposed

    def line(label: str, old: float, new: float) -> str:
        change = new - old
        return f"{label:<22} {old:>8g} -> {new:<8g} ({change:+g})"

    lines = [
        f"Replayed {simulation.leads} leads (no side effects).",
        line("qualified", a.qualified, b.qualified),
        f"{'':<22} {simulation.newly_qualified} newly qualified, {simulation.no_longer_qualified} no longer",
        line("expected meetings", a.expected_meetings, b.expected_meetings),
        line("overflow", a.overflow, b.overflow),
        line("unassigned", a.unassigned, b.unassigned),
    ]
    for tier in sorted(set(a.tiers) | set(b.tiers)):
        lines.append(line(f"tier {tier}", a.tiers.get(tier, 0), b.tiers.get(tier, 0)))
    for rep in sorted(set(a.rep_load) | set(b.rep_load)):
        lines.append(line(f"load {rep}", a.rep_load.get(rep, 0), b.rep_load.get(rep, 0)))
    return lines
