"""The tuning job finds what was planted in a synthetic history, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest

from handoff.config import HandoffConfig, load_config, parse_config
from handoff.insights import synthetic
from handoff.insights.history import HistoryRow
from handoff.insights.proposal import apply, diff
from handoff.insights.tuning import TuningReport, tune
from tests.conftest import ROOT

NOW = datetime(2026, 11, 24, tzinfo=UTC)
CONFIG_TEXT = (ROOT / "config" / "handoff.toml").read_text()


@cache
def config() -> HandoffConfig:
    return load_config(ROOT / "config" / "handoff.toml")


@cache
def history(seed: int) -> list[HistoryRow]:
    return synthetic.generate(config(), leads=4000, seed=seed)


@cache
def report(seed: int) -> TuningReport:
    return tune(history(seed), config(), NOW)


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_planted_effects_are_recovered_and_noise_is_not(seed: int) -> None:
    effects = {e.signal: e for e in report(seed).signals}
    assert {s for s, e in effects.items() if e.significant} == set(synthetic.PLANTED)
    for signal in synthetic.PLANTED:
        assert effects[signal].interval[0] > 1, signal  # the whole interval says "lifts meetings"
    weights = {tuple(p.path) for p in report(seed).proposals if p.kind == "weight"}
    assert weights == {
        ("qualify", "fit", "personas", "Sales Leader", "weight"),
        ("qualify", "intent", "activity_weights", "pricing_page"),
        ("qualify", "intent", "trigger_weights", "contact_sales"),
    }
    tested_noise = [s for s in synthetic.NOISE if s in effects]
    assert len(tested_noise) >= 8  # the noise was tested, and found to be noise
    assert not any(effects[s].significant for s in tested_noise)


def test_the_fit_cliff_becomes_a_threshold_proposal_with_its_effect() -> None:
    [threshold] = [p for p in report(7).proposals if p.kind == "threshold"]
    assert threshold.path == ["qualify", "min_fit"]
    assert (threshold.current, threshold.proposed) == (50, synthetic.FIT_CLIFF)
    assert "fewer handoffs" in threshold.summary and "meeting rate" in threshold.summary
    assert "95% CI" in threshold.evidence and not threshold.held_back


def test_the_slow_rep_is_flagged_for_contact_rate_and_sla_breaches() -> None:
    routing = [p for p in report(7).proposals if p.kind == "routing"]
    assert len(routing) == 2
    assert all(synthetic.SLOW_REP in p.summary for p in routing)
    assert any("breaches the SLA" in p.summary for p in routing)
    assert all(not p.path for p in routing)  # insights for people, never silent config edits


def test_a_change_that_would_cost_meetings_is_held_back_after_replay() -> None:
    # Doubling one persona's weight rescales every lead's fit: the replay shows it.
    [persona] = [p for p in report(7).proposals if "personas" in p.path]
    assert persona.held_back
    assert "Replayed history" in persona.simulated
    proposed = apply(CONFIG_TEXT, report(7).proposals)
    changed = diff(CONFIG_TEXT, proposed)
    assert "+min_fit = 60" in changed and "+pricing_page = 40" in changed
    assert "weight = 70" not in changed
    # comments survive, and the proposal is a valid config
    assert "# Sales-ready = ICP fit >= min_fit" in proposed
    assert parse_config(proposed, "proposal").qualify.min_fit == 60


def test_too_little_history_proposes_nothing() -> None:
    few = [r for r in history(7) if r.handed_off][:40]
    result = tune(few, config(), NOW)
    assert result.proposals == [] and result.signals == []
    assert "at least 60 are needed" in result.notes[0]


def test_auto_apply_is_off_unless_turned_on() -> None:
    assert config().tuning.auto_apply is False
    assert parse_config("[tuning]\nauto_apply = true\n", "t").tuning.auto_apply is True


def test_a_change_the_replay_shows_moves_nothing_never_reaches_the_diff() -> None:
    """contact_sales already takes the fast lane to hot: doubling its weight moves no lead."""
    [contact_sales] = [p for p in report(7).proposals if p.path and p.path[-1] == "contact_sales"]
    assert contact_sales.held_back
    assert "changes no lead's qualification or tier" in contact_sales.simulated
    assert "contact_sales = 120" not in diff(CONFIG_TEXT, apply(CONFIG_TEXT, report(7).proposals))
    for kept in (p for p in report(7).proposals if p.changes_config):
        assert "changes no lead" not in kept.simulated


def test_a_fit_weight_change_says_it_rescales_every_lead() -> None:
    [persona] = [p for p in report(7).proposals if "personas" in p.path]
    assert "rescales fit for every lead" in persona.simulated
    [pricing] = [p for p in report(7).proposals if p.path and p.path[-1] == "pricing_page"]
    assert "rescales" not in pricing.simulated  # intent is not normalised


def test_sla_figures_read_in_hours_and_minutes() -> None:
    sla = [p for p in report(7).proposals if p.kind == "sla"]
    assert sla
    for proposal in sla:
        assert " s)" not in proposal.summary and ",0" not in proposal.summary
        assert "min" in proposal.summary or " h" in proposal.summary


@cache
def report_on(seed: int, outcome: str) -> TuningReport:
    tuning = config().tuning.model_copy(update={"outcome": outcome})
    return tune(history(seed), config().model_copy(update={"tuning": tuning}), NOW)


@pytest.mark.parametrize("outcome", ["stage_2", "pipeline_amount"])
@pytest.mark.parametrize("seed", [7, 11, 23])
def test_the_planted_pipeline_effect_is_recovered_when_tuning_on_pipeline(seed: int, outcome: str) -> None:
    effects = {e.signal: e for e in report_on(seed, outcome).signals}
    planted = effects[synthetic.PIPELINE_PLANTED]
    assert planted.significant and planted.interval[0] > 1 and planted.outcome == outcome
    # on meetings the same signal is noise: the pipeline effect comes from the deals alone
    assert not {e.signal: e for e in report(seed).signals}[synthetic.PIPELINE_PLANTED].significant


def test_every_proposal_names_the_outcome_it_optimised() -> None:
    pipeline = report_on(7, "pipeline_amount")
    assert pipeline.outcome == "pipeline_amount"
    [industry] = [p for p in pipeline.proposals if p.path and p.path[2:3] == ["industries"]]
    assert industry.outcome == "pipeline_amount" and "ratio of expected amount" in industry.evidence
    [threshold] = [p for p in pipeline.proposals if p.kind == "threshold"]
    assert "pipeline" in threshold.summary and "expected pipeline amount" in threshold.simulated
    assert {p.outcome for p in report(7).proposals if p.kind in {"threshold", "weight"}} == {"meetings"}
    assert {p.outcome for p in report(7).proposals if p.kind == "sla"} == {"SLA attainment"}
    assert parse_config('[tuning]\noutcome = "stage_2"\n', "t").tuning.outcome == "stage_2"
    assert config().tuning.outcome == "meetings"  # until deal history is deep enough
