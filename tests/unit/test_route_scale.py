"""Routing a large team (issue 20): the plan weighs every rep, the assignment stays small."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from handoff.config.routing import RoutingConfig
from handoff.domain.lead import Lead
from handoff.domain.record import ConsideredRep, LeadRecord, Qualification
from handoff.domain.rep import Rep
from handoff.domain.route import CONSIDERED_KEPT, availability, fair_order, plan_route, recorded

NOW = datetime(2026, 11, 7, 15, tzinfo=UTC)  # a Saturday


def lead(tier: str = "hot") -> LeadRecord:
    body = {"event_id": "e1", "contact": {"email": "jo@acme.example"}, "trigger": {"type": "demo_request"}}
    q = Qualification(ready=True, tier=tier, score=90, fit=90, intent=90)
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


def random_team(rng: random.Random, size: int) -> list[Rep]:
    """Reps with every reason to be skipped, equal and missing fair-queue clocks, repeated ids,
    in rep id order (as the repository lists them) or not."""
    reps = []
    for i in range(size):
        fields: dict[str, Any] = {
            "rep_id": rng.choice([f"rep-{i:03d}", f"r{rng.randrange(50)}"]),
            "email": f"r{i}@x.co",
            "pools": rng.sample(["sales", "emea", "managers"], rng.randint(0, 2)),
            "weight": rng.choice([0.5, 1, 2, 3]),
            "capacity": rng.randint(0, 4),
            "open_count": rng.randint(0, 4),
            "active": rng.random() > 0.1,
            "timezone": rng.choice(["UTC", "America/Los_Angeles", "Asia/Tokyo"]),
            "vtime": rng.choice([None, 0.0, 0.5, 1.0, 1.5, round(rng.random() * 3, 2)]),
        }
        if rng.random() < 0.15:
            fields["ooo_until"] = NOW + timedelta(days=rng.randint(-2, 2))
        if rng.random() < 0.3:
            fields |= {"daily_cap": rng.randint(0, 2), "day_count": rng.randint(0, 2)}
            fields["day"] = rng.choice(["2026-11-07", "2026-11-06", None])
        if rng.random() < 0.3:
            fields["working_hours"] = rng.choice(["00:00-23:59", "06:00-08:00"])
        reps.append(Rep.model_validate(fields))
    return sorted(reps, key=lambda r: r.rep_id) if rng.random() < 0.5 else reps


def test_the_fast_paths_decide_as_the_definitions_do_on_random_teams() -> None:
    """The pool step weighs each rep with ``availability`` written out and ranks only as far as
    asked (issue 20); on random teams it still skips whom ``availability`` skips, with its
    reasons in roster order, and tries the rest in ``fair_order``. The lazy plan, walked, is
    the whole plan, and an assignment records what ``recorded`` keeps of it."""
    rng = random.Random(20)
    for case in range(300):
        reps = random_team(rng, rng.choice([1, 5, 20, 80]))
        hot = rng.random() < 0.5
        config = RoutingConfig(hot_needs_working_hours=rng.random() < 0.5)
        exclude = frozenset(
            rng.sample([r.rep_id for r in reps], min(2, len(reps))) if rng.random() < 0.3 else []
        )
        record = lead("hot" if hot else "warm")
        plan = plan_route(record, reps, config, NOW, exclude=exclude)

        # The definitions, for the first pool (no owner before it): sales, the default pool.
        sales = [r for r in reps if "sales" in r.pools]
        needs_hours = config.hot_needs_working_hours and hot
        skipped: dict[str, str] = {}  # in roster order; a repeated id keeps its first reason
        eligible = []
        for r in sales:
            why = (
                "already had this lead"
                if r.rep_id in exclude
                else availability(r, NOW, needs_hours=needs_hours)
            )
            if why:
                skipped.setdefault(r.rep_id, why)
            else:
                eligible.append(r)
        first = plan.steps[0]
        assert first.pool == "sales", case
        assert [(c.rep.rep_id, id(c.rep), c.next_vtime) for c in first.candidates] == [
            (r.rep_id, id(r), vtime) for r, vtime in fair_order(eligible, sales)
        ], case
        considered = [(c.rep_id, c.skipped_because) for c in plan.considered[: first.considered_upto]]
        assert considered == list(skipped.items()), case

        lazy = plan_route(record, reps, config, NOW, exclude=exclude, lazy=True)
        walked = [
            (s.rule, s.pool, s.considered_upto, [(c.rep.rep_id, c.next_vtime) for c in s.each()])
            for s in lazy.walk()
        ]
        whole = [
            (s.rule, s.pool, s.considered_upto, [(c.rep.rep_id, c.next_vtime) for c in s.candidates])
            for s in plan.steps
        ]
        assert walked == whole and lazy.considered == plan.considered, case
        late = [ConsideredRep(rep_id="x", skipped_because="at capacity (2/2) (meanwhile)")] * rng.randint(
            0, 3
        )
        for step in plan.steps:
            took = [*step.candidates, None][0]
            expected = recorded(
                [
                    *plan.considered[: step.considered_upto],
                    *late,
                    *([ConsideredRep(rep_id=took.rep.rep_id)] if took else []),
                ],
                keep=5,
            )
            kept = lazy.kept(step.considered_upto, late, took=took.rep.rep_id if took else None, keep=5)
            assert kept == expected, case
