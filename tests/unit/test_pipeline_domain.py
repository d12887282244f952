"""Pipeline outcomes: stage mapping, milestones and the attribution window, as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff.config import parse_config
from handoff.config.pipeline import PipelineConfig, StageMap
from handoff.domain.deal import Deal, Milestone, StageChange
from handoff.domain.pipeline import merged, milestones, not_attributable
from tests.fakes import SHIPPED_CONFIG

T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)
HUBSPOT = PipelineConfig().stages_for("hubspot", "default")
SALESFORCE = PipelineConfig().stages_for("salesforce", None)


def history(*stages: str) -> list[StageChange]:
    return [StageChange(stage=s, at=T0 + timedelta(days=i)) for i, s in enumerate(stages)]


def test_each_milestone_is_dated_when_first_reached() -> None:
    reached = milestones(history("appointmentscheduled", "qualifiedtobuy", "presentationscheduled"), HUBSPOT)
    assert reached == {Milestone.STAGE_1: T0, Milestone.STAGE_2: T0 + timedelta(days=2)}


def test_a_later_milestone_implies_the_earlier_ones() -> None:
    assert milestones(history("closedwon"), HUBSPOT) == {
        Milestone.STAGE_1: T0, Milestone.STAGE_2: T0, Milestone.WON: T0,
    }  # fmt: skip
    # Lost early is not stage 2.
    assert milestones(history("appointmentscheduled", "closedlost"), HUBSPOT) == {
        Milestone.STAGE_1: T0, Milestone.LOST: T0 + timedelta(days=1),
    }  # fmt: skip


def test_moving_back_keeps_the_first_time_and_unknown_stages_mark_nothing() -> None:
    reached = milestones(history("custom", "contractsent", "qualifiedtobuy", "contractsent"), HUBSPOT)
    assert reached == {Milestone.STAGE_1: T0 + timedelta(days=1), Milestone.STAGE_2: T0 + timedelta(days=1)}


def test_salesforce_default_stage_names_map_case_insensitively() -> None:
    reached = milestones(history("Prospecting", "proposal/price quote", "Closed Won"), SALESFORCE)
    assert set(reached) == {Milestone.STAGE_1, Milestone.STAGE_2, Milestone.WON}
    assert reached[Milestone.STAGE_2] == T0 + timedelta(days=1)


def test_an_unlisted_pipeline_reads_with_the_default_map() -> None:
    assert PipelineConfig().stages_for("hubspot", "renewals") == HUBSPOT


def test_the_shipped_config_maps_both_crms_default_pipelines() -> None:
    pipeline = parse_config(SHIPPED_CONFIG, "config").pipeline
    assert pipeline.attribution_days == 90
    assert pipeline.stages_for("hubspot", "default").milestone_of("contractsent") == "stage_2"
    assert pipeline.stages_for("salesforce", None).milestone_of("Closed Lost") == "lost"


def test_a_stage_in_two_milestones_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="both stage_1 and won"):
        StageMap(stage_1=["closedwon"], won=["ClosedWon"])


@pytest.mark.parametrize(
    ("created", "why"),
    [
        (T0 + timedelta(days=3), None),
        (T0, None),
        (T0 + timedelta(days=90), None),
        (T0 - timedelta(minutes=1), "before the handoff"),
        (T0 + timedelta(days=90, seconds=1), "more than 90 days"),
    ],
)
def test_a_deal_counts_when_created_after_the_handoff_within_the_window(
    created: datetime, why: str | None
) -> None:
    answer = not_attributable(created, T0, 90)
    assert answer is None if why is None else why in str(answer)


def test_merging_keeps_history_once_per_stage_change() -> None:
    read = Deal(system="hubspot", deal_id="9", stage="qualifiedtobuy", amount=10, created_at=T0)
    first = merged(None, read, at=T0, mapping=HUBSPOT)
    again = merged(first, read, at=T0 + timedelta(hours=1), mapping=HUBSPOT)  # a redelivery
    assert again.stages == first.stages
    moved = merged(
        again, read.model_copy(update={"stage": "contractsent"}), at=T0 + timedelta(days=1), mapping=HUBSPOT
    )
    assert [s.stage for s in moved.stages] == ["qualifiedtobuy", "contractsent"]
    assert moved.milestones[Milestone.STAGE_2] == T0 + timedelta(days=1)


def test_a_stage_change_is_never_dated_before_the_deal_existed() -> None:
    # HubSpot's documented example event carries an occurredAt years older than any deal.
    read = Deal(system="hubspot", deal_id="9", stage="contractsent", amount=10, created_at=T0)
    deal = merged(None, read, at=T0 - timedelta(days=3000), mapping=HUBSPOT)
    assert deal.stages[0].at == T0 and deal.milestones[Milestone.STAGE_2] == T0
