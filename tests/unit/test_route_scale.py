"""Routing a large team (issue 20): the plan weighs every rep, the assignment stays small."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from handoff.config.routing import RoutingConfig
from handoff.domain.lead import Lead
from handoff.domain.record import ConsideredRep, LeadRecord, Qualification
from handoff.domain.rep import Rep
from handoff.domain.route import CONSIDERED_KEPT, plan_route, recorded

NOW = datetime(2026, 11, 7, 15, tzinfo=UTC)  # a Saturday


def lead() -> LeadRecord:
    body = {"event_id": "e1", "contact": {"email": "jo@acme.example"}, "trigger": {"type": "demo_request"}}
    q = Qualification(ready=True, tier="hot", score=90, fit=90, intent=90)
    return LeadRecord.from_lead(Lead.model_validate(body), q, NOW)


def test_a_hot_lead_on_a_weekend_weighs_all_2000_reps_and_records_a_bounded_list() -> None:
    reps = [
        Rep(rep_id=f"rep.{i:04d}@sales.example.com", email=f"r{i}@x.co", pools=["sales"], timezone="America/Los_Angeles")
        for i in range(2000)
    ]  # fmt: skip
    plan = plan_route(lead(), reps, RoutingConfig(hot_needs_working_hours=True), NOW)
    assert len(plan.considered) == 2000  # the plan (and `route --explain`) still names every rep
    assert plan.considered[0].skipped_because == "outside working hours (Sat 07:00 America/Los_Angeles)"
    full = json.dumps([c.model_dump(mode="json") for c in plan.considered])
    assert len(full) > 150_000  # two assignments like it overflow DynamoDB's 400 KB item

    kept = recorded(plan.considered)
    assert kept[:CONSIDERED_KEPT] == plan.considered[:CONSIDERED_KEPT]
    assert kept[CONSIDERED_KEPT:] == [
        ConsideredRep(rep_id=f"{2000 - CONSIDERED_KEPT} more reps", skipped_because="outside working hours")
    ]
    assert len(json.dumps([c.model_dump(mode="json") for c in kept])) < 10_000


def test_recorded_counts_the_rest_by_kind_of_reason_and_keeps_who_took_it_last() -> None:
    skipped = [
        ConsideredRep(rep_id="a", skipped_because="inactive"),
        ConsideredRep(rep_id="b", skipped_because="at capacity (20/20)"),
        ConsideredRep(rep_id="c", skipped_because="out of office until 2026-11-06"),
        ConsideredRep(rep_id="d", skipped_because="at capacity (3/3)"),
        ConsideredRep(rep_id="e", skipped_because="at capacity (9/9) (meanwhile)"),
    ]
    took = ConsideredRep(rep_id="f")
    assert recorded([*skipped, took]) == [*skipped, took]  # short lists stay as they are
    assert recorded([*skipped, took], keep=2) == [
        *skipped[:2],
        ConsideredRep(rep_id="1 more rep", skipped_because="out of office"),
        ConsideredRep(rep_id="2 more reps", skipped_because="at capacity"),
        took,
    ]
