"""The one definition of an SLA breach: no first touch by the first deadline, whoever holds the
lead now. The report, the tuning job, the dashboard and the demo all count it from here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from handoff.domain.lead import Lead
from handoff.domain.record import Assignment, Disposition, LeadRecord, Qualification, Sla
from handoff.insights.history import from_record

T0 = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
DUE = T0 + timedelta(minutes=5)


def record(*, touched: timedelta | None = None, reassigned: bool = False, **fields: Any) -> LeadRecord:
    lead = Lead.model_validate(
        {"event_id": "e1", "contact": {"email": "a@b.example"}, "trigger": {"type": "demo_request"}}
    )
    rec = LeadRecord.from_lead(lead, Qualification(ready=True, tier="hot", score=80, fit=80, intent=80), T0)
    first = Assignment(rep_id="r1", rep_email="r1@example.com", rule="round_robin", reason="", assigned_at=T0)
    rec.assignment = first
    rec.sla = Sla(due_at=DUE, seconds=300)
    rec.first_due_at = DUE
    if reassigned:
        # The second rep's fresh deadline does not wipe out the first one's lapse.
        rec.assignment_history = [first]
        rec.sla = Sla(due_at=DUE + timedelta(hours=1), seconds=300)
    if touched is not None:
        rec.dispositions = [Disposition(outcome="connected", at=T0 + touched, by="r1")]
    return rec.model_copy(update=fields)


def test_a_touch_by_the_deadline_is_met_after_it_is_breached() -> None:
    assert record(touched=timedelta(minutes=4)).sla_met(T0 + timedelta(days=1)) is True
    assert record(touched=timedelta(minutes=6)).sla_met(T0 + timedelta(days=1)) is False


def test_no_touch_is_open_until_the_deadline_then_breached() -> None:
    assert record().sla_met(DUE - timedelta(seconds=1)) is None
    assert record().sla_met(DUE) is False


def test_a_reassigned_lead_touched_by_the_second_rep_in_time_is_still_a_breach() -> None:
    """The demo once counted it "met" (the current SLA's state) and the report "breached"."""
    lead = record(touched=timedelta(minutes=30), reassigned=True)
    assert lead.sla is not None and lead.dispositions[0].at < lead.sla.due_at
    assert lead.sla_met(T0 + timedelta(days=1)) is False


def test_records_stored_before_the_first_deadline_was_kept() -> None:
    assert record(first_due_at=None, touched=timedelta(minutes=4)).sla_met(T0 + timedelta(days=1)) is True
    assert record(first_due_at=None, reassigned=True).sla_met(T0 + timedelta(days=1)) is False


def test_history_takes_the_same_verdict() -> None:
    later = T0 + timedelta(days=1)
    assert from_record(record(touched=timedelta(minutes=30), reassigned=True), later).sla_met is False
    assert from_record(record(), DUE - timedelta(seconds=1)).sla_met is None
