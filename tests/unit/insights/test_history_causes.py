"""Why each reassignment happened, read from what the stored record carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.domain.deal import Deal
from handoff.domain.lead import Lead
from handoff.domain.record import Assignment, Disposition, LeadRecord, Qualification
from handoff.insights.history import from_record, reassignment_causes

T0 = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)


def held(rep: str, hours: float) -> Assignment:
    return Assignment(rep_id=rep, rep_email=f"{rep}@example.com", rule="round_robin", reason="",
                      assigned_at=T0 + timedelta(hours=hours))  # fmt: skip


def record(
    *reps: str, escalations: tuple[dict[str, str], ...] = (), flagged_by: str | None = None
) -> LeadRecord:
    lead = Lead.model_validate(
        {"event_id": "e1", "contact": {"email": "a@b.example"}, "trigger": {"type": "demo_request"}}
    )
    rec = LeadRecord.from_lead(lead, Qualification(ready=True, tier="hot", score=80, fit=80, intent=80), T0)
    assignments = [held(rep, hours) for hours, rep in enumerate(reps)]
    rec.assignment_history, rec.assignment = assignments[:-1], assignments[-1]
    rec.escalations = list(escalations)
    if flagged_by:
        hours = reps.index(flagged_by) + 0.5
        rec.dispositions = [Disposition(outcome="recycle", reason="wrong_owner", at=T0 + timedelta(hours=hours),
                                        by=flagged_by, stale=True)]  # fmt: skip
    return rec


def test_each_reassignment_is_put_down_to_its_cause() -> None:
    lapsed = {"step": "manager", "to_rep": "r1", "because": "sla_lapsed"}
    bounced = {"step": "manager", "to_rep": "r2", "because": "brief_bounced"}
    assert reassignment_causes(record("r1")) == []
    assert reassignment_causes(record("r1", "r2", escalations=(lapsed,))) == ["sla_lapsed"]
    assert reassignment_causes(record("r1", "r2", "r3", escalations=(lapsed, bounced))) == [
        "sla_lapsed", "brief_bounced",
    ]  # fmt: skip
    # nothing in Handoff moved it from r2: a person did
    assert reassignment_causes(record("r1", "r2", "r3", escalations=(lapsed,))) == ["sla_lapsed", "manual"]
    # the owner said it was not theirs before it moved: routing's miss, whatever followed
    assert reassignment_causes(record("r1", "r2", escalations=(lapsed,), flagged_by="r1")) == ["wrong_owner"]


def test_history_keeps_the_deals_and_the_causes() -> None:
    rec = record("r1", "r2")
    rec.deals = [Deal(system="hubspot", deal_id="d1", stage="x", amount=5000, created_at=T0)]
    row = from_record(rec, T0 + timedelta(days=1))
    assert row.reassigned_because == ["manual"] and row.pipeline_amount == 5000
