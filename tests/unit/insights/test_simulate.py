"""Simulation: replaying history is pure, and its diff is exactly what the config change implies."""

from __future__ import annotations

from functools import cache

from handoff.config import HandoffConfig, load_config
from handoff.domain.rep import Rep
from handoff.insights import synthetic
from handoff.insights.history import HistoryRow
from handoff.insights.proposal import Proposal, apply_to_config
from handoff.insights.simulate import UNASSIGNED, describe, simulate
from tests.conftest import ROOT


@cache
def config() -> HandoffConfig:
    return load_config(ROOT / "config" / "handoff.toml")


@cache
def history() -> list[HistoryRow]:
    return synthetic.generate(config(), leads=1500, seed=5)


def _with(**values: float) -> HandoffConfig:
    proposals = [
        Proposal(kind="threshold", summary="", evidence="", sample=0, path=key.split("__"), proposed=value)
        for key, value in values.items()
    ]
    return apply_to_config(config(), proposals)


def test_the_same_config_changes_nothing() -> None:
    result = simulate(history(), config(), config(), synthetic.synthetic_reps())
    assert result.current == result.proposed
    assert result.newly_qualified == result.no_longer_qualified == 0
    assert result.current.qualified == sum(r.ready for r in history())


def test_raising_min_fit_drops_exactly_the_leads_below_it() -> None:
    result = simulate(history(), config(), _with(qualify__min_fit=70), synthetic.synthetic_reps())
    dropped = sum(1 for r in history() if r.ready and r.fit < 70)
    assert result.no_longer_qualified == dropped and result.newly_qualified == 0
    assert result.proposed.qualified == result.current.qualified - dropped
    assert sum(result.proposed.rep_load.values()) == result.proposed.qualified
    # only leads that were handed off are dropped, so expected meetings fall by their observed meetings
    lost = sum(r.reached(["meeting_set"]) for r in history() if r.ready and r.fit < 70)
    assert result.current.expected_meetings - result.proposed.expected_meetings == lost


def test_lowering_intent_threshold_qualifies_more_with_estimated_meetings() -> None:
    result = simulate(history(), config(), _with(qualify__intent_threshold=30), synthetic.synthetic_reps())
    assert result.newly_qualified > 0 and result.no_longer_qualified == 0
    assert result.proposed.expected_meetings > result.current.expected_meetings
    lines = describe(result)
    assert lines[1].startswith("qualified") and f"(+{result.newly_qualified})" in lines[1]


def test_a_small_team_overflows_and_leaves_leads_unassigned() -> None:
    tiny = [Rep(rep_id="solo", email="solo@example.com", pools=["sales"], capacity=3)]
    result = simulate(history(), config(), config(), tiny)
    assert result.current.rep_load["solo"] < result.current.qualified
    assert result.current.unassigned == result.current.rep_load[UNASSIGNED] > 0
    assert not any(r.ready is False and r.handed_off for r in history())


def test_a_replay_scores_intent_from_the_same_moment_as_the_live_decision() -> None:
    """Intent decays from when the event occurred. The stored record keeps occurred_at, so tune
    and simulate score a lead exactly as it was scored live, even when the trigger has no time
    and the delivery came days later."""
    from datetime import timedelta

    from handoff.config import load_config
    from handoff.domain.lead import Lead
    from handoff.domain.qualify import qualify
    from handoff.domain.record import LeadRecord
    from handoff.insights.history import from_record
    from tests.conftest import ROOT, sample

    config = load_config(ROOT / "config" / "handoff.toml").qualify
    data = sample("01")
    data["trigger"].pop("at")
    lead = Lead.model_validate(data)
    assert lead.occurred_at is not None
    received = lead.occurred_at + timedelta(days=3)  # a CRM retried for days
    live = qualify(lead, config, received)
    stored = LeadRecord.model_validate(
        LeadRecord.from_lead(lead, live, received).model_dump(mode="json")  # as DynamoDB returns it
    )
    row = from_record(stored, received)
    replayed = qualify(row.lead, config, row.received_at)
    assert (replayed.intent, replayed.score, replayed.tier) == (live.intent, live.score, live.tier)
