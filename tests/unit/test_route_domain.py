from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.domain.route import Rep, round_robin_order

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def rep(rep_id: str, **kw: object) -> Rep:
    return Rep.model_validate({"rep_id": rep_id, "email": f"{rep_id}@x.co", "pools": ["sales"], **kw})


def test_longest_waiting_rep_goes_first_and_never_assigned_before_all() -> None:
    reps = [
        rep("a", last_assigned_at=NOW),
        rep("b", last_assigned_at=NOW - timedelta(minutes=5)),
        rep("c"),
    ]
    eligible, skipped = round_robin_order(reps, "sales")
    assert [r.rep_id for r in eligible] == ["c", "b", "a"]
    assert skipped == []


def test_inactive_and_full_reps_are_skipped_with_reasons() -> None:
    reps = [rep("a", active=False), rep("b", capacity=2, open_count=2), rep("c")]
    eligible, skipped = round_robin_order(reps, "sales")
    assert [r.rep_id for r in eligible] == ["c"]
    assert {s.rep_id: s.skipped_because for s in skipped} == {
        "a": "inactive",
        "b": "at capacity (2/2)",
    }


def test_reps_outside_the_pool_are_not_considered() -> None:
    eligible, skipped = round_robin_order([rep("a", pools=["csm"]), rep("b")], "sales")
    assert [r.rep_id for r in eligible] == ["b"]
    assert skipped == []


def test_order_is_deterministic_on_ties() -> None:
    eligible, _ = round_robin_order([rep("z"), rep("m"), rep("a")], "sales")
    assert [r.rep_id for r in eligible] == ["a", "m", "z"]
