"""Dispositions, the SLA sweep and the capacity claim on moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handoff.aws import container
from handoff.deploy.functions import SLA_CHECK
from handoff.domain.clock import utcnow
from handoff.errors import ClaimConflict
from handoff.local import lambdas
from handoff.service import routing
from tests.integration.conftest import Aws, rep


def test_unknown_outcome_is_400_listing_the_allowed_values(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    aws.wait_status(body["lead_id"], {"notified"})
    status, answer = aws.dispose(body["lead_id"], outcome="won")
    assert status == 400
    assert "attempted, connected, sales_accepted, meeting_set, recycle, disqualify" in answer["message"]
    assert answer["details"][0]["field"] == "outcome"
    status, answer = aws.dispose(body["lead_id"], outcome="disqualify", reason="bored")
    assert status == 400
    assert "no_budget" in answer["message"]
    assert aws.get_lead(body["lead_id"])["dispositions"] == []


def test_disposition_body_is_validated(aws: Aws) -> None:
    headers = {"Content-Type": "application/json", "x-api-key": "test-api-key"}
    status, answer = aws.api("POST", "/leads/ld_x/disposition", b'{"outcome": 5, "extra": 1}', headers)
    assert status == 400
    assert {d["field"] for d in answer["details"]} >= {"outcome", "extra"}
    status, answer = aws.api("POST", "/leads/ld_x/disposition", b"not json", headers)
    assert status == 400


def test_disposition_needs_the_api_key_and_an_existing_lead(aws: Aws) -> None:
    status, _ = aws.api(
        "POST",
        "/leads/ld_x/disposition",
        b'{"outcome": "connected"}',
        {"Content-Type": "application/json"},
    )
    assert status == 401
    status, answer = aws.dispose("ld_missing", outcome="connected")
    assert (status, answer["error"]) == (404, "not_found")


def test_disposition_on_a_nurture_lead_is_a_conflict(aws: Aws, nurture_lead: dict[str, Any]) -> None:
    _, body = aws.post_lead(nurture_lead)
    status, answer = aws.dispose(body["lead_id"], outcome="connected")
    assert (status, answer["error"]) == (409, "conflict")


def test_final_disposition_closes_the_lead_and_releases_capacity(aws: Aws, hot_lead: dict[str, Any]) -> None:
    aws.put_reps(rep("r1", capacity=1))
    _, body = aws.post_lead(hot_lead)
    aws.wait_for_event(body["lead_id"], "waiting")
    assert container.ports().reps.get("r1").open_count == 1  # type: ignore[union-attr]
    status, answer = aws.dispose(body["lead_id"], outcome="disqualify", reason="not_icp", note="agency")
    assert (status, answer["status"]) == (200, "closed")
    assert container.ports().reps.get("r1").open_count == 0  # type: ignore[union-attr]
    assert aws.execution(body["lead_id"])["status"] == "SUCCEEDED"


def test_sla_check_marks_overdue_untouched_leads_breached(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.put_reps(rep("r1"))
    monkeypatch.setenv("HANDOFF_STATE_MACHINE_ARN", aws.state_machine_arn + "-not-started")
    container.reset()
    _, body = aws.post_lead(hot_lead)  # recorded, workflow deliberately not running
    lead_id = body["lead_id"]
    container.ports().leads.update(lead_id, set_fields={"status": "routing"})
    routing.route(container.ports(), lead_id, utcnow() - timedelta(hours=1))
    assert lambdas.invoke(SLA_CHECK, {})["breached"] == 1
    lead = aws.get_lead(lead_id)
    assert lead["sla"]["state"] == "breached"
    assert lead["timeline"][-1]["event"] == "sla_breached"
    assert lambdas.invoke(SLA_CHECK, {})["breached"] == 0  # swept once, never twice


def test_capacity_claims_stop_exactly_at_capacity(aws: Aws) -> None:
    aws.put_reps(rep("r1", capacity=2), rep("off", active=False))
    reps = container.ports().reps
    now = utcnow()
    reps.claim(reps.get("r1"), "lead-1", now)  # type: ignore[arg-type]
    reps.claim(reps.get("r1"), "lead-2", now)  # type: ignore[arg-type]
    with pytest.raises(ClaimConflict):
        reps.claim(reps.get("r1"), "lead-3", now)  # type: ignore[arg-type]
    with pytest.raises(ClaimConflict):
        reps.claim(reps.get("off"), "lead-4", now)  # type: ignore[arg-type]
    with pytest.raises(ClaimConflict):
        reps.claim(rep("nobody"), "lead-5", now)
    assert reps.get("r1").open_count == 2  # type: ignore[union-attr]
    reps.release("r1", "lead-1")
    reps.release("r1", "lead-1")  # released already: nothing changes
    assert reps.get("r1").open_count == 1  # type: ignore[union-attr]
    reps.release("r1", "lead-2")
    reps.release("r1", "lead-3")  # a lead that never held a slot
    assert reps.get("r1").open_count == 0  # type: ignore[union-attr]


def test_two_routers_with_the_same_snapshot_cannot_both_take_the_turn(aws: Aws) -> None:
    """The race, made deterministic: both read the rep, then both write."""
    aws.put_reps(rep("r1", capacity=5))
    reps = container.ports().reps
    seen_by_both = reps.get("r1")
    assert seen_by_both is not None
    reps.claim(seen_by_both, "lead-6", utcnow(), next_vtime=1.0)
    with pytest.raises(ClaimConflict):
        reps.claim(seen_by_both, "lead-7", utcnow(), next_vtime=1.0)  # the fairness clock moved
    assert reps.get("r1").open_count == 1  # type: ignore[union-attr]


def test_the_last_slot_goes_to_exactly_one_of_two_routers(aws: Aws) -> None:
    aws.put_reps(rep("r1", capacity=1))
    reps = container.ports().reps
    snapshot = reps.get("r1")
    assert snapshot is not None
    reps.claim(snapshot, "lead-8", utcnow())
    with pytest.raises(ClaimConflict):
        reps.claim(snapshot, "lead-9", utcnow())  # no fairness clock involved: capacity alone stops it
    assert reps.get("r1").open_count == 1  # type: ignore[union-attr]


def test_daily_cap_counts_per_local_day(aws: Aws) -> None:
    aws.put_reps(rep("r1", capacity=10, daily_cap=2, timezone="UTC"))
    reps = container.ports().reps
    monday = datetime(2026, 11, 2, 10, tzinfo=UTC)
    reps.claim(reps.get("r1"), "lead-10", monday)  # type: ignore[arg-type]
    reps.claim(reps.get("r1"), "lead-11", monday)  # type: ignore[arg-type]
    with pytest.raises(ClaimConflict):
        reps.claim(reps.get("r1"), "lead-12", monday)  # type: ignore[arg-type]
    tuesday = reps.claim(reps.get("r1"), "lead-13", monday + timedelta(days=1))  # type: ignore[arg-type]
    assert (tuesday.day, tuesday.day_count, tuesday.open_count) == ("2026-11-03", 1, 3)


def test_under_contention_a_claim_can_skip_the_exact_turn_but_never_capacity(aws: Aws) -> None:
    aws.put_reps(rep("r1", capacity=2))
    reps = container.ports().reps
    stale = reps.get("r1")
    assert stale is not None
    reps.claim(stale, "lead-14", utcnow(), next_vtime=2.0)
    behind = reps.get("r1").model_copy(update={"vtime": stale.vtime})  # type: ignore[union-attr]
    relaxed = reps.claim(
        behind, "lead-15", utcnow(), next_vtime=1.0, exact_turn=False
    )  # its fairness view is stale
    assert relaxed.open_count == 2
    # Counted on from the clock as it stood (2.0), one turn: never back, and never lost.
    assert reps.get("r1").vtime == 3.0  # type: ignore[union-attr]
    with pytest.raises(ClaimConflict):
        reps.claim(reps.get("r1"), "lead-16", utcnow(), next_vtime=4.0, exact_turn=False)  # type: ignore[arg-type]  # full


def test_a_claim_off_its_turn_is_one_write_that_counts_its_turn(aws: Aws) -> None:
    """Off its turn a claim moves the clock one turn on from where it stands, in the claim's own
    write: two routers taking the rep from the same view move it two turns, so the rep's share
    counts both leads. A rep behind the pool's clock starts from the pool's clock."""
    aws.put_reps(rep("r1", capacity=5, weight=2))
    reps = container.ports().reps
    writes: list[str] = []
    events, event = reps._table.meta.client.meta.events, "before-parameter-build.dynamodb.UpdateItem"
    events.register(event, lambda params, **_: writes.append(params["UpdateExpression"]), unique_id="counted")
    try:
        seen = reps.get("r1")
        assert seen is not None
        reps.claim(seen, "lead-17", utcnow(), next_vtime=3.0)
        view = reps.get("r1")
        assert view is not None and view.vtime == 3.0
        for lead in ("lead-18", "lead-19"):  # two routers, one view
            reps.claim(view, lead, utcnow(), next_vtime=3.5, exact_turn=False)
        assert len(writes) == 3 and reps.get("r1").vtime == 4.0  # type: ignore[union-attr]
        # The pool's clock (7.5) is ahead of this rep's: it starts there, as on its turn.
        reps.claim(reps.get("r1"), "lead-20", utcnow(), next_vtime=8.0, exact_turn=False)  # type: ignore[arg-type]
        assert len(writes) == 4 and reps.get("r1").vtime == 8.0  # type: ignore[union-attr]
        # Behind the pool's clock when planned, but another router moved it past meanwhile: a
        # second write counts on from where it stands.
        behind = reps.get("r1").model_copy(update={"vtime": 5.0})  # type: ignore[union-attr]
        reps.claim(behind, "lead-21", utcnow(), next_vtime=6.5, exact_turn=False)
        assert len(writes) == 6 and reps.get("r1").vtime == 8.5  # type: ignore[union-attr]
        assert reps.get("r1").open_count == 5  # type: ignore[union-attr]
    finally:
        events.unregister(event, unique_id="counted")


def test_a_clock_summed_by_dynamodb_still_matches_the_turn_read_from_it(aws: Aws) -> None:
    """DynamoDB sums a third of a turn in decimal, to 38 digits; read back it is a float that
    differs in the last bits. A claim on its exact turn from that reading still lands, and one
    off its turn still counts."""
    aws.put_reps(rep("r1", capacity=10, weight=3))
    reps = container.ports().reps
    for lead in ("lead-22", "lead-23", "lead-24", "lead-25"):
        reps.claim(reps.get("r1"), lead, utcnow(), next_vtime=1 / 3, exact_turn=False)  # type: ignore[arg-type]
    read = reps.get("r1")
    assert read is not None and read.vtime == pytest.approx(4 / 3)
    on_turn = reps.claim(read, "lead-26", utcnow(), next_vtime=read.vtime + 1 / 3)  # type: ignore[operator]
    assert on_turn.vtime == pytest.approx(5 / 3) and on_turn.open_count == 5
