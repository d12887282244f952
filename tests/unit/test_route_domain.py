"""The routing decision, step by step, and weighted fairness over 1,000 assignments."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handoff.config import parse_config
from handoff.config.routing import RoutingConfig
from handoff.domain.lead import Lead
from handoff.domain.record import LeadRecord, Qualification
from handoff.domain.rep import Rep
from handoff.domain.route import Candidate, among_next_turns, availability, fair_order, plan_route
from handoff.errors import ConfigError

NOW = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York
CONFIG = parse_config(
    """
[routing]
default_pool = "sales"
[[routing.rules]]
name = "EMEA enterprise"
pool = "emea"
countries = ["GB", "DE"]
min_employees = 1000
[[routing.rules]]
name = "EMEA"
pool = "emea-smb"
countries = ["GB", "DE"]
[routing.pools.emea]
overflow = "emea-smb"
""",
    "routing.toml",
).routing


def rep(rep_id: str, **kw: Any) -> Rep:
    return Rep.model_validate({"rep_id": rep_id, "email": f"{rep_id}@x.co", "pools": ["sales"], **kw})


def record(tier: str = "hot", **overrides: Any) -> LeadRecord:
    body: dict[str, Any] = {
        "event_id": "e1",
        "contact": {"email": "jo@acme.example", "country": "US"},
        "company": {"employees": 300},
        "trigger": {"type": "demo_request"},
    }
    for key, value in overrides.items():
        body[key] = {**body.get(key, {}), **value} if isinstance(value, dict) else value
    qualification = Qualification(ready=True, tier=tier, score=80, fit=80, intent=80)
    return LeadRecord.from_lead(Lead.model_validate(body), qualification, NOW)


def rules(plan: Any) -> list[str]:
    return [step.rule for step in plan.steps]


def first(plan: Any) -> str:
    return next(c.rep.rep_id for step in plan.steps for c in step.candidates)


# 1. Conflicts and ownership


def test_an_open_handoff_for_the_same_contact_keeps_its_rep_without_a_second_slot() -> None:
    plan = plan_route(
        record(), [rep("a"), rep("b", open_count=10, capacity=10)], CONFIG, NOW, open_handoff_rep="b"
    )
    assert rules(plan)[0] == "existing_handoff"
    assert plan.steps[0].candidates[0].rep.rep_id == "b"
    assert plan.steps[0].candidates[0].claims is False  # at capacity, yet it is the same person


def test_an_existing_customer_goes_to_the_account_owner_or_the_csm_pool() -> None:
    reps = [rep("owner", crm_owner_ids=["71"]), rep("csm1", pools=["csm"]), rep("a")]
    with_owner = plan_route(record(crm={"customer": True, "account_owner_id": "71"}), reps, CONFIG, NOW)
    assert (rules(with_owner)[0], first(with_owner)) == ("customer_owner", "owner")
    no_owner = plan_route(record(crm={"customer": True}), reps, CONFIG, NOW)
    assert (rules(no_owner)[0], first(no_owner)) == ("csm_pool", "csm1")


def test_an_open_opportunity_goes_to_its_owner() -> None:
    plan = plan_route(
        record(crm={"open_opportunity": True, "owner_id": "b"}), [rep("a"), rep("b")], CONFIG, NOW
    )
    assert (rules(plan)[0], first(plan)) == ("opportunity_owner", "b")


def test_a_known_account_goes_to_its_owner_from_the_crm_or_the_accounts_table() -> None:
    reps = [rep("a"), rep("b", crm_owner_ids=["0055g0000USER01AAA"])]
    from_crm = plan_route(record(crm={"account_owner_id": "0055g0000USER01AAA"}), reps, CONFIG, NOW)
    assert (rules(from_crm)[0], first(from_crm)) == ("account_owner", "b")
    from_table = plan_route(record(), reps, CONFIG, NOW, account_owner="b")
    assert first(from_table) == "b"
    assert "Known account, account owner: b is available -> assign" in from_table.trace


def test_an_unavailable_owner_falls_through_to_the_pool_with_the_reason_kept() -> None:
    ooo = rep("b", ooo_until=NOW + timedelta(days=3))
    plan = plan_route(record(), [rep("a"), ooo], CONFIG, NOW, account_owner="b")
    assert rules(plan)[0] == "round_robin"
    assert first(plan) == "a"
    assert {c.rep_id: c.skipped_because for c in plan.considered}["b"] == "out of office until 2026-11-06"


def test_the_contact_s_owner_in_the_crm_is_honoured_before_the_account_owner() -> None:
    reps = [rep("a"), rep("owner", crm_owner_ids=["71"]), rep("acct")]
    plan = plan_route(
        record(crm={"system": "hubspot", "owner_id": "71"}), reps, CONFIG, NOW, account_owner="acct"
    )
    assert (rules(plan)[0], first(plan)) == ("crm_owner", "owner")
    assert plan.contact_owner is not None and plan.account_owner is not None
    assert plan.ownership_notes(reps[1], "HubSpot", owner_written=False) == ["The account belongs to acct."]
    off = CONFIG.model_copy(update={"honour_crm_owner": False})
    assert rules(plan_route(record(crm={"owner_id": "71"}), reps, off, NOW))[0] == "round_robin"


def test_a_salesforce_queue_owns_nobody_s_follow_up() -> None:
    reps = [rep("a"), rep("queue-rep", crm_owner_ids=["00G5g000000QUEUE1"])]
    lead = record(crm={"system": "salesforce", "owner_id": "00G5g000000QUEUE1"})
    plan = plan_route(lead, reps, CONFIG, NOW)
    assert rules(plan)[0] == "round_robin"
    assert "Owner in the CRM: 00G5g000000QUEUE1 is a queue, not a person" in plan.trace
    assert plan.contact_owner is None


def test_an_open_opportunity_s_own_owner_comes_before_the_contact_s() -> None:
    reps = [
        rep("deal", crm_owner_ids=["0055g0000DEAL0001"]),
        rep("contact", crm_owner_ids=["0055g0000CONT0001"]),
    ]
    crm = {"system": "salesforce", "open_opportunity": True, "opportunity_owner_id": "0055g0000DEAL0001"}
    plan = plan_route(record(crm={**crm, "owner_id": "0055g0000CONT0001"}), reps, CONFIG, NOW)
    assert (rules(plan)[0], first(plan)) == ("opportunity_owner", "deal")


def test_an_owner_at_capacity_keeps_the_lead_unless_config_routes_it_on() -> None:
    full = rep("owner", crm_owner_ids=["71"], open_count=5, capacity=5)
    reps = [rep("a"), full]
    lead = record(crm={"system": "hubspot", "owner_id": "71"})
    plan = plan_route(lead, reps, CONFIG, NOW)
    owner_step = plan.steps[0]
    assert (owner_step.rule, first(plan)) == ("crm_owner", "owner")
    assert owner_step.candidates[0].over_capacity == "at capacity (5/5)"
    assert "over capacity" in owner_step.reason
    route_on = plan_route(lead, reps, CONFIG.model_copy(update={"owner_at_capacity": "route"}), NOW)
    assert (rules(route_on)[0], first(route_on)) == ("round_robin", "a")
    # Out of office is never overridden: nobody would answer.
    away = rep("owner", crm_owner_ids=["71"], open_count=5, capacity=5, ooo_until=NOW + timedelta(days=1))
    assert first(plan_route(lead, [rep("a"), away], CONFIG, NOW)) == "a"


def test_an_owner_who_is_not_a_rep_is_explained() -> None:
    plan = plan_route(record(), [rep("a")], CONFIG, NOW, account_owner="999")
    assert "Known account, account owner: 999 is not a rep in Handoff" in plan.trace


# 2. Territory and segment rules


def test_the_first_matching_territory_rule_names_the_pool() -> None:
    reps = [rep("e1", pools=["emea"]), rep("s1", pools=["emea-smb"]), rep("a")]
    big = plan_route(record(contact={"country": "GB"}, company={"employees": 5000}), reps, CONFIG, NOW)
    assert (big.steps[0].pool, first(big)) == ("emea", "e1")
    assert big.steps[0].reason == (
        "Territory rule 'EMEA enterprise' (countries GB, DE; min_employees 1000); next in weighted round robin for emea"
    )
    small = plan_route(record(contact={"country": "DE"}, company={"employees": 50}), reps, CONFIG, NOW)
    assert small.steps[0].pool == "emea-smb"
    us = plan_route(record(), reps, CONFIG, NOW)
    assert us.steps[0].pool == "sales"
    assert us.steps[0].reason.startswith("No territory rule matched: default pool")


def test_rules_match_on_industry_source_tier_and_revenue() -> None:
    config = parse_config(
        """
[[routing.rules]]
name = "Fintech hot"
pool = "fin"
industries = ["fintech"]
tiers = ["hot"]
sources = ["website"]
min_revenue = 1000000
""",
        "x",
    ).routing
    lead = {"company": {"industry": "Fintech", "annual_revenue": 2e6}, "source": "website"}
    assert plan_route(record(**lead), [], config, NOW).steps[0].pool == "fin"
    assert plan_route(record(tier="warm", **lead), [], config, NOW).steps[0].pool == "sales"


# 3 and 4. The pool, its overflow, the managers, then the unassigned queue


def test_fallback_order_is_pool_overflow_managers() -> None:
    plan = plan_route(record(contact={"country": "GB"}, company={"employees": 5000}), [], CONFIG, NOW)
    assert [(s.rule, s.pool) for s in plan.steps] == [
        ("round_robin", "emea"),
        ("overflow", "emea-smb"),
        ("manager_pool", "managers"),
    ]
    assert plan.trace[-1].startswith("fallback: unassigned queue")


def test_skips_are_explained() -> None:
    reps = [
        rep("inactive", active=False),
        rep("full", open_count=3, capacity=3),
        rep("capped", daily_cap=2, day="2026-11-03", day_count=2, timezone="UTC"),
        rep("back", ooo_until=NOW - timedelta(hours=1)),
    ]
    plan = plan_route(record(), reps, CONFIG, NOW)
    assert {c.rep_id: c.skipped_because for c in plan.considered} == {
        "inactive": "inactive",
        "full": "at capacity (3/3)",
        "capped": "daily cap reached (2/2)",
    }
    assert first(plan) == "back"  # the out-of-office date has passed


def test_daily_cap_resets_on_the_reps_own_next_day() -> None:
    capped = rep("c", daily_cap=1, day="2026-11-02", day_count=1)
    assert availability(capped, NOW) is None


def test_hot_leads_can_require_working_hours() -> None:
    config = CONFIG.model_copy(update={"hot_needs_working_hours": True})
    ny = rep("ny", timezone="America/New_York", working_hours="09:00-17:00")
    tokyo = rep("tokyo", timezone="Asia/Tokyo", working_hours="09:00-17:00")
    plan = plan_route(record(), [ny, tokyo], config, NOW)
    assert first(plan) == "ny"
    assert {c.rep_id: c.skipped_because for c in plan.considered} == {
        "tokyo": "outside working hours (Wed 00:00 Asia/Tokyo)"
    }
    warm = plan_route(record(tier="warm"), [ny, tokyo], config, NOW)
    assert warm.considered == []


# Hot leads out of hours: the same working time as the SLA, and the after-hours pool

NIGHT = datetime(2026, 11, 5, 3, 0, tzinfo=UTC)  # Wed 22:00 in New York, Thu 12:00 in Tokyo
THANKSGIVING = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # Thu 10:00 in New York, 15:00 in London
ON_CALL = CONFIG.model_copy(update={"after_hours_pool": "oncall"})


def ny(rep_id: str = "ny", **kw: Any) -> Rep:
    return rep(rep_id, timezone="America/New_York", working_hours="09:00-17:00", **kw)


def test_hot_leads_skip_reps_on_a_public_holiday_and_reps_without_hours_keep_the_default() -> None:
    config = CONFIG.model_copy(update={"hot_needs_working_hours": True})
    plan = plan_route(record(), [ny(country="US"), ny("ny2")], config, THANKSGIVING)
    assert first(plan) == "ny2"  # no country: only weekends are off
    assert {c.rep_id: c.skipped_because for c in plan.considered} == {
        "ny": "outside working hours (Thanksgiving Day, Thu 10:00 America/New_York)"
    }
    saturday = datetime(2026, 11, 7, 15, 0, tzinfo=UTC)
    nobody = plan_route(record(), [rep("utc")], config, saturday)  # default hours, 09:00-17:30
    assert [c.skipped_because for c in nobody.considered] == ["outside working hours (Sat 15:00 UTC)"]


def test_a_hot_lead_out_of_hours_goes_to_an_on_call_rep_at_work() -> None:
    reps = [ny(), rep("tokyo", pools=["oncall"], timezone="Asia/Tokyo", working_hours="09:00-17:00")]
    plan = plan_route(record(), reps, ON_CALL, NIGHT)
    assert rules(plan)[:2] == ["after_hours", "round_robin"] and first(plan) == "tokyo"
    assert (
        plan.steps[0].reason == "Hot lead out of hours: nobody in sales is at work; after-hours pool oncall"
    )
    assert "after hours: nobody in sales is at work -> pool oncall: 1 of 1 reps at work" in plan.trace[-3]
    # Warm leads wait for their rep; in hours, hot ones go where routing sends them.
    assert first(plan_route(record(tier="warm"), reps, ON_CALL, NIGHT)) == "ny"
    assert rules(plan_route(record(), reps, ON_CALL, NOW))[0] == "round_robin"
    # Off by default.
    assert first(plan_route(record(), reps, CONFIG, NIGHT)) == "ny"


def test_on_call_follows_public_holidays() -> None:
    reps = [ny(country="US"), rep("london", pools=["oncall"], timezone="Europe/London", country="GB")]
    assert first(plan_route(record(), reps, ON_CALL, THANKSGIVING)) == "london"
    assert first(plan_route(record(), [ny(), reps[1]], ON_CALL, THANKSGIVING)) == "ny"  # no country


def test_nobody_on_call_at_work_leaves_the_lead_where_it_was_routed() -> None:
    asleep = rep("paris", pools=["oncall"], timezone="Europe/Paris", working_hours="09:00-17:00")
    plan = plan_route(record(), [ny(), asleep], ON_CALL, NIGHT)
    assert first(plan) == "ny"  # seen when their day starts; the SLA counts from then
    assert plan.steps[0].rule == "after_hours" and plan.steps[0].candidates == []
    assert plan.considered[0].rep_id == "paris"
    assert plan.considered[0].skipped_because == "outside working hours (Thu 04:00 Europe/Paris)"


def test_an_owner_out_of_hours_hands_a_hot_lead_to_on_call_but_an_open_handoff_keeps_its_rep() -> None:
    owner = ny(name="Ana", crm_owner_ids=["71"])
    tokyo = rep("tokyo", pools=["oncall"], timezone="Asia/Tokyo", working_hours="09:00-17:00")
    plan = plan_route(record(crm={"owner_id": "71"}), [owner, tokyo], ON_CALL, NIGHT)
    assert rules(plan)[:2] == ["after_hours", "crm_owner"] and first(plan) == "tokyo"
    assert "Ana is outside working hours (Wed 22:00 America/New_York)" in plan.steps[0].reason
    kept = plan_route(record(), [owner, tokyo], ON_CALL, NIGHT, open_handoff_rep="ny")
    assert rules(kept)[0] == "existing_handoff" and first(kept) == "ny"


def test_in_a_pool_across_time_zones_the_reps_at_work_come_first() -> None:
    reps = [ny(), rep("tokyo", timezone="Asia/Tokyo", working_hours="09:00-17:00", vtime=5.0)]
    plan = plan_route(record(), reps, ON_CALL, NIGHT)
    assert [[c.rep.rep_id for c in s.candidates] for s in plan.steps[:2]] == [["tokyo"], ["ny"]]
    assert plan.steps[0].reason.endswith("; at work now") and "after_hours" not in rules(plan)


def test_with_hot_needs_working_hours_the_on_call_pool_comes_before_the_overflow() -> None:
    config = ON_CALL.model_copy(update={"hot_needs_working_hours": True})
    reps = [ny(), rep("tokyo", pools=["oncall"], timezone="Asia/Tokyo", working_hours="09:00-17:00")]
    plan = plan_route(record(), reps, config, NIGHT)
    assert rules(plan)[0] == "after_hours" and first(plan) == "tokyo"


# Weighted fairness


def simulate(reps: list[Rep], count: int, *, available: Any = lambda rep, i: True) -> dict[str, int]:
    got = {r.rep_id: 0 for r in reps}
    for i in range(count):
        eligible = [r for r in reps if available(r, i)]
        chosen, vtime = fair_order(eligible, reps)[0]
        chosen.vtime = vtime
        got[chosen.rep_id] += 1
        yield_check(reps, got, eligible, i)
    return got


def yield_check(reps: list[Rep], got: dict[str, int], eligible: list[Rep], i: int) -> None:
    if len(eligible) == len(reps):
        total = sum(got.values())
        weights = sum(r.weight for r in reps)
        for r in reps:
            assert abs(got[r.rep_id] - total * r.weight / weights) <= 1, (i, got)


def test_1000_assignments_keep_every_share_within_one_lead_of_its_weight() -> None:
    reps = [rep("a", weight=3), rep("b", weight=2), rep("c", weight=1)]
    got = simulate(reps, 1000)  # simulate() also checks the bound after every single assignment
    assert sum(got.values()) == 1000
    assert all(abs(got[k] - v) <= 1 for k, v in {"a": 500, "b": 333.3, "c": 166.7}.items())


def test_routers_off_their_turn_spread_over_the_next_turns_in_proportion_to_weight() -> None:
    reps = [rep("a", weight=3, vtime=1.0), rep("b", weight=2, vtime=1.0), rep("c", weight=1, vtime=1.0)]
    ordered = [Candidate(rep=r, next_vtime=v) for r, v in fair_order(reps, reps)]
    firsts = [next(among_next_turns(ordered, lambda n, j=j: j)).rep.rep_id for j in range(6)]
    assert sorted(firsts) == ["a", "a", "a", "b", "b", "c"]  # one round of the pool's turns
    # Every candidate is still tried, once; owners are not turns of the queue.
    tried = [c.rep.rep_id for c in among_next_turns(ordered, lambda n: 5)]
    assert sorted(tried) == ["a", "b", "c"] and len(tried) == 3
    owner = Candidate(rep=rep("o"), next_vtime=None)
    assert [c.rep.rep_id for c in among_next_turns([owner, *ordered], lambda n: 5)] == ["o", "a", "b", "c"]


def test_routers_off_their_turn_at_random_keep_every_share() -> None:
    """Every lead taken off the exact turn, at random among the next turns, each counted on its
    rep's clock: no rep gets more than a round of the pool (3 leads for a 3:2:1 pool) from its
    share. A rep that far ahead has no turn among the next ones until the others catch up."""
    reps = [rep("a", weight=3, vstart=0.0), rep("b", weight=2), rep("c", weight=1)]
    pick = random.Random(7).randrange
    got = {r.rep_id: 0 for r in reps}
    worst = 0.0
    for _ in range(999):
        ordered = [Candidate(rep=r, next_vtime=v) for r, v in fair_order(reps, reps)]
        chosen = next(among_next_turns(ordered, pick))
        turn = 1 / chosen.rep.weight
        chosen.rep.vtime = max(chosen.rep.vtime or 0.0, chosen.next_vtime - turn) + turn  # type: ignore[operator]
        got[chosen.rep.rep_id] += 1
        total = sum(got.values())
        worst = max(worst, *(abs(got[r.rep_id] - total * r.weight / 6) for r in reps))
    assert worst <= 3, worst


def test_leads_taken_off_the_exact_turn_in_a_burst_do_not_cost_the_other_reps_their_share() -> None:
    """Several routers that lost the turn take the same rep at once, each moving its clock one turn
    on. The pool's clock stays where the exact turns left it, so the other reps keep their place
    and the shares come back within one lead as soon as the pile-up is over."""
    reps = [rep("a", weight=3), rep("b", weight=2), rep("c", weight=1)]
    got = {r.rep_id: 0 for r in reps}

    def take(chosen: Rep, next_vtime: float, *, exact: bool) -> None:
        turn = 1 / chosen.weight
        if exact:
            chosen.vtime, chosen.vstart = next_vtime, next_vtime - turn
        else:  # as the claim's write does: one turn on from where the clock stands
            chosen.vtime = max(chosen.vtime or 0.0, next_vtime - turn) + turn
        got[chosen.rep_id] += 1

    for _ in range(6):  # a pool that has served: a burst's first claims take their exact turns
        take(*fair_order(reps, reps)[0], exact=True)
    for burst in range(60):
        chosen, next_vtime = fair_order(reps, reps)[burst % 3]  # the pile lands on any rep
        for _ in range(4):  # four routers from one view, off their turn
            take(chosen, next_vtime, exact=False)
        for _ in range(24):  # enough turns for the others to catch up with a pile on c
            take(*fair_order(reps, reps)[0], exact=True)
        total = sum(got.values())
        assert all(abs(got[r.rep_id] - total * r.weight / 6) <= 1 for r in reps), (burst, got)


def test_a_rep_back_from_leave_is_not_flooded() -> None:
    reps = [rep("a"), rep("b"), rep("c")]

    def c_on_leave(r: Rep, i: int) -> bool:
        return r.rep_id != "c" or not 100 <= i < 400

    got_during = simulate(reps, 400, available=c_on_leave)
    assert got_during["c"] <= 35
    # Back from leave: the next 30 leads split evenly, give or take one, not 30 to c.
    before = dict(got_during)
    after = simulate(reps, 30)
    assert all(abs(after[k] - 10) <= 1 for k in after), (before, after)


def test_adding_or_removing_a_rep_resets_nothing() -> None:
    reps = [rep("a"), rep("b")]
    simulate(reps, 101)
    reps.append(rep("new"))
    got = simulate(reps, 30)
    assert all(abs(n - 10) <= 1 for n in got.values())
    reps.pop(0)
    got = simulate(reps, 20)
    assert all(abs(n - 10) <= 1 for n in got.values())


# Config checks


def test_unreachable_rules_and_uncovered_countries_are_warned_about() -> None:
    config = parse_config(
        """
[qualify.fit.countries]
values = ["US", "GB", "BR"]
weight = 10
[[routing.rules]]
name = "US"
pool = "sales"
countries = ["US"]
[[routing.rules]]
name = "US again"
pool = "other"
countries = ["US"]
""",
        "x",
    )
    assert config.warnings() == [
        "routing.rules: 'US again' is unreachable behind 'US'",
        "routing.rules: no rule covers country GB; it goes to sales",
        "routing.rules: no rule covers country BR; it goes to sales",
    ]


def test_overflow_loops_are_rejected() -> None:
    with pytest.raises(ConfigError, match="overflow loops a -> b -> a"):
        parse_config('[routing.pools.a]\noverflow = "b"\n[routing.pools.b]\noverflow = "a"\n', "x")


def test_overflow_chain_ends_with_the_managers() -> None:
    config = RoutingConfig.model_validate({"pools": {"emea": {"overflow": "sales"}}})
    assert config.overflow_chain("emea") == ["emea", "sales", "managers"]
    assert config.overflow_chain("managers") == ["managers"]
