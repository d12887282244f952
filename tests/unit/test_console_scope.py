"""The console's scope rules and the rep form's validation: pure, no AWS."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from handoff.console import scope
from handoff.domain.rep import rep_changes
from handoff.errors import BadRequest, Forbidden
from tests.conftest import rep


@dataclass(frozen=True)
class Who:
    email: str
    role: str


REVOPS = Who("ops@example.com", "revops")
BOSS = Who("Boss@Example.com", "manager")  # emails compare without case
OTHER = Who("other@example.com", "manager")


def test_revops_sees_every_rep_and_lead() -> None:
    reps = [rep("r1"), rep("r2", manager_email="other@example.com")]
    assert scope.team(REVOPS, reps) is None
    assert all(scope.may_see_rep(REVOPS, r) for r in reps)


def test_a_manager_sees_only_their_own_team() -> None:
    reps = [rep("r1"), rep("r2", manager_email="other@example.com"), rep("r3", manager_email=None)]
    assert scope.team(BOSS, reps) == frozenset({"r1"})
    assert scope.team(OTHER, reps) == frozenset({"r2"})
    scope.require_rep(BOSS, reps[0])
    with pytest.raises(Forbidden, match="rep r2 is not on your team"):
        scope.require_rep(BOSS, reps[1])
    with pytest.raises(Forbidden):
        scope.require_rep(BOSS, reps[2])


def test_a_lead_is_a_managers_when_its_current_owner_is_on_their_team() -> None:
    from handoff.domain.record import Assignment, LeadRecord
    from tests.service.test_console_pages import stored_record

    record: LeadRecord = stored_record("x1", owner="r1")
    scope.require_lead(record, frozenset({"r1"}))
    scope.require_lead(record, None)
    with pytest.raises(Forbidden, match=r"lead .* is not owned by your team"):
        scope.require_lead(record, frozenset({"r2"}))
    unrouted = record.model_copy(update={"assignment": None})
    assert not scope.may_see_lead(unrouted, frozenset({"r1"}))
    assert scope.may_see_lead(unrouted, None)
    assert isinstance(record.assignment, Assignment)


def test_rep_changes_validate_as_the_cli_does() -> None:
    assert rep_changes(status="ooo", until="2099-02-01", capacity="9") == {
        "active": True,
        "ooo_until": "2099-02-01T00:00:00+00:00",
        "capacity": 9,
    }
    assert rep_changes(status="active") == {"active": True, "ooo_until": None}
    assert rep_changes(capacity=0, status="") == {"capacity": 0}
    for bad, field in (
        ({"status": "ooo"}, "until"),
        ({"status": "ooo", "until": "next week"}, "until"),
        ({"capacity": "-1"}, "capacity"),
        ({"capacity": "lots"}, "capacity"),
        ({"weight": 0}, "weight"),
        ({"status": "gone"}, "status"),
        ({}, "form"),
    ):
        with pytest.raises(BadRequest) as caught:
            rep_changes(**bad)
        assert caught.value.details == [{"field": field}], bad
        assert field in caught.value.message or field == "form"
