"""KPI maths on small histories computed by hand."""

from __future__ import annotations

import pytest

from handoff.config.tuning import TuningConfig
from handoff.insights.history import HistoryRow
from handoff.insights.kpis import compute, cut
from tests.unit.insights.conftest import deal, row

CONFIG = TuningConfig()


def history() -> list:  # type: ignore[type-arg]
    return [
        # 4 handed off, 1 qualified but not (yet) handed off, 1 not qualified
        row(1, touch=60, outcomes=("connected", "meeting_set", "sales_accepted"), sla_met=True, tier="hot", reps=["ana"],
            rule="round_robin"),
        row(2, notified=4, touch=600, outcomes=("connected", "recycle"), sla_met=False, tier="hot",
            reps=["ben", "ana"], rule="round_robin", reasons={"recycle": "timing"}, email="back@acme.example"),
        row(3, notified=6, touch=120, outcomes=("attempted", "disqualify"), sla_met=True, tier="warm",
            reps=["ana"], rule="account_owner", reasons={"disqualify": "no_budget"}),
        row(4, notified=8, sla_met=False, tier="warm", reps=["ben"], rule="round_robin", renurtured=True),
        row(5, notified=None, tier="hot"),
        row(6, ready=False),
        # the recycled contact comes back a month later and books a meeting
        row(7, touch=30, outcomes=("connected", "meeting_set", "sales_accepted"), sla_met=True, tier="hot", reps=["ben"],
            rule="round_robin", email="back@acme.example", days=30),
    ]  # fmt: skip


def test_every_kpi_on_a_hand_computed_history() -> None:
    k = compute(history(), CONFIG)
    assert (k.received, k.qualified, k.handed_off) == (7, 6, 5)
    # speeds 2, 4, 6, 8, 2 s -> sorted 2 2 4 6 8: p50 4, p90 = 6 + 0.6 * 2 = 7.2
    assert k.speed_to_lead_p50 == 4 and k.speed_to_lead_p90 == pytest.approx(7.2)
    # first touches 60, 600, 120, 30 -> sorted 30 60 120 600: p50 90, p90 = 120 + 0.7 * 480 = 456
    assert k.first_touch_p50 == 90 and k.first_touch_p90 == pytest.approx(456)
    assert (k.sla_met, k.sla_breached, k.sla_attainment) == (3, 2, 0.6)
    assert (k.contacted, k.contact_rate) == (3, 0.6)  # row 3 was only attempted: no contact
    assert (k.meetings, k.meeting_rate) == (2, 0.4)
    assert (k.sql, k.mql_to_sql) == (2, pytest.approx(2 / 6))  # sales accepted, over qualified
    assert k.disqualify_reasons == {"no_budget": 1}
    assert (k.recycled, k.recycle_rate, k.recycled_to_sql) == (1, 0.2, 1.0)
    assert (k.reassigned, k.reassignment_rate) == (1, 0.2)
    # a handoff counts for the rep routing chose: ben's reassigned lead is not also ana's
    assert k.rep_load == {"ana": 2, "ben": 3}
    assert k.load_imbalance == pytest.approx(0.2)


def test_cuts_by_tier_rule_rep_and_week() -> None:
    rows = history()
    by_tier = cut(rows, "tier", CONFIG)
    assert {t: k.handed_off for t, k in by_tier.items()} == {"(none)": 0, "hot": 3, "warm": 2}
    assert by_tier["hot"].meeting_rate == pytest.approx(2 / 3)
    assert {r: k.handed_off for r, k in cut(rows, "rule", CONFIG).items()} == {
        "(none)": 0, "account_owner": 1, "round_robin": 4,
    }  # fmt: skip
    # reps are counted by who routing chose, the same count as their load
    by_rep = cut(rows, "rep", CONFIG)
    assert {r: k.handed_off for r, k in by_rep.items()} == {"(none)": 0, "ana": 2, "ben": 3}
    assert {r: k.handed_off for r, k in by_rep.items() if k.handed_off} == compute(rows, CONFIG).rep_load
    weeks = cut(rows, "week", CONFIG)
    assert list(weeks) == ["2026-W45", "2026-W49"]
    # the comeback is found from a cut that does not contain it
    assert weeks["2026-W45"].recycled_to_sql == 1.0
    with pytest.raises(ValueError, match="tier, source, rule, rep, week"):
        cut(rows, "colour", CONFIG)


def test_an_empty_period_has_no_rates_rather_than_zero() -> None:
    k = compute([], CONFIG)
    assert k.received == 0 and k.meeting_rate is None and k.speed_to_lead_p50 is None
    assert k.load_imbalance is None


def test_a_meeting_sales_has_not_accepted_is_not_an_sql() -> None:
    """MQL -> SQL once equalled the meeting rate: nobody could record sales_accepted."""
    rows = history()
    rows[0] = rows[0].model_copy(update={"outcomes": ["connected", "meeting_set"]})
    k = compute(rows, CONFIG)
    assert (k.meetings, k.sql) == (2, 1)


def pipeline_history() -> list:  # type: ignore[type-arg]
    return [
        # 4 handoffs: 2 with deals (one with two), 1 misrouted by its owner's flag, 1 moved by hand
        row(1, reps=["ana"], deals=[deal(1, 10_000, stage_1=1, stage_2=5, won=20),
                                     deal(2, 5_000, stage_1=2, lost=9)]),
        row(2, reps=["ben"], deals=[deal(3, None, stage_2=3)]),  # skipped stage 1 in the CRM
        row(3, reps=["ben", "ana"], reassigned_because=["sla_lapsed"], outcomes=("connected", "recycle"),
            reasons={"recycle": "wrong_owner"}),
        row(4, reps=["ana", "cara", "ben"], reassigned_because=["sla_lapsed", "manual"]),
        row(5, ready=False, deals=[deal(4, 99_000, stage_1=1)]),  # never handed off: not its pipeline
    ]  # fmt: skip


def test_pipeline_and_assignment_accuracy_on_a_hand_computed_history() -> None:
    k = compute(pipeline_history(), CONFIG)
    assert k.handed_off == 4
    assert (k.with_pipeline, k.pipeline_rate, k.deals) == (2, 0.5, 3)
    assert (k.pipeline_amount, k.pipeline_per_handoff, k.average_deal) == (15_000, 3_750, 7_500)
    # deal 3 reached stage 2 without a recorded stage 1: it passed it
    assert (k.stage_1, k.stage_2, k.stage_1_to_2) == (3, 2, pytest.approx(2 / 3))
    assert (k.won, k.lost, k.win_rate) == (1, 1, 0.5)
    # handoff 1: stage 2 on day 5; handoff 2: day 3 -> median 4 days
    assert k.days_to_stage_2_p50 == 4
    assert k.reassignments_by_cause == {"manual": 1, "sla_lapsed": 2}
    # 3 flagged wrong_owner, 4 moved by hand; 3's lapse alone would not count against routing
    assert (k.wrong_owner, k.misrouted, k.assignment_accuracy) == (1, 2, 0.5)


def test_pipeline_cuts_and_an_empty_period() -> None:
    by_rep = cut(pipeline_history(), "rep", CONFIG)
    assert by_rep["ana"].pipeline_amount == 15_000 and by_rep["ben"].stage_1_to_2 == 1.0
    k = compute([], CONFIG)
    assert k.stage_1_to_2 is None and k.pipeline_per_handoff is None and k.assignment_accuracy is None
    assert k.pipeline_amount == 0 and k.win_rate is None


def test_rows_written_before_deals_were_kept_still_read() -> None:
    line = row(1).model_dump_json(exclude_none=True, exclude={"deals", "reassigned_because"})
    assert "deals" not in line
    old = HistoryRow.model_validate_json(line)
    assert old.deals == [] and old.reassigned_because == [] and old.pipeline_amount == 0
