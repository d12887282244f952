"""The console's page data on in-memory ports: the now-queue, a lead, reps, what-if, results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff.console import pages
from handoff.domain.lead import Lead
from handoff.domain.record import (
    Assignment,
    LeadRecord,
    LeadStatus,
    Qualification,
    Sla,
    SlaState,
    TimelineEntry,
)
from handoff.errors import BadRequest, Forbidden, NotFound
from handoff.service import intake, notify, routing
from tests.conftest import rep, sample
from tests.fakes import FakePorts

NOW = datetime(2026, 11, 2, 15, 5, tzinfo=UTC)


def stored_record(
    lead_id: str,
    *,
    owner: str | None = "r1",
    status: LeadStatus = LeadStatus.NOTIFIED,
    due_in: timedelta = timedelta(hours=3),
    state: SlaState = SlaState.PENDING,
) -> LeadRecord:
    lead = Lead.model_validate({**sample("01"), "event_id": lead_id})
    return LeadRecord(
        lead_id=lead_id,
        status=status,
        source=lead.source,
        event_id=lead_id,
        received_at=NOW - timedelta(hours=1),
        contact=lead.contact,
        company=lead.company,
        crm=lead.crm,
        trigger=lead.trigger,
        qualification=Qualification(ready=True, tier="hot", score=80, fit=70, intent=60),
        assignment=None
        if owner is None
        else Assignment(
            rep_id=owner, rep_email=f"{owner}@example.com", rule="round_robin", reason="turn", assigned_at=NOW
        ),
        sla=Sla(due_at=NOW + due_in, seconds=3600, state=state),
        timeline=[TimelineEntry(at=NOW, event="notified", detail="brief emailed")],
    )


@pytest.fixture
def ports(crm_ports: FakePorts) -> FakePorts:
    """r1 on boss@example.com's team (tests.conftest.rep), r2 on another manager's."""
    crm_ports.reps.put(rep("r2", manager_email="other@example.com"))
    return crm_ports


def test_words_for_the_sla_left() -> None:
    assert (
        pages.sla_words(stored_record("a", due_in=timedelta(minutes=12, seconds=30)), NOW)
        == "breaches in 12 minutes"
    )
    assert pages.sla_words(stored_record("a", due_in=-timedelta(hours=2)), NOW) == "breached 2 hours ago"
    assert pages.sla_words(stored_record("a", state=SlaState.MET), NOW) == "met"


def test_the_now_queue_holds_what_needs_a_person_most_urgent_first(ports: FakePorts) -> None:
    ports.leads.create(stored_record("soon", due_in=timedelta(minutes=20)))
    ports.leads.create(stored_record("later", due_in=timedelta(hours=5)))
    ports.leads.create(stored_record("late", due_in=-timedelta(minutes=5)))
    ports.leads.create(stored_record("broke", status=LeadStatus.FAILED))
    ports.leads.create(stored_record("esc", status=LeadStatus.ESCALATED, owner="r2"))
    ports.leads.create(stored_record("nobody", owner="unassigned", due_in=timedelta(minutes=30)))
    ports.leads.create(stored_record("queued", owner="unassigned", due_in=timedelta(hours=6)))
    rows = pages.now_queue(ports, NOW, None)
    assert [(r.lead_id, r.flags) for r in rows] == [
        ("broke", ["failed"]),
        ("late", ["breached"]),
        ("esc", ["escalated"]),
        ("nobody", ["due soon", "unassigned"]),
        ("queued", ["unassigned"]),  # its SLA hours away, listed all the same
        ("soon", ["due soon"]),
    ]
    assert rows[0].lead_id == "broke" and rows[0].can_redrive
    soon = next(r for r in rows if r.lead_id == "soon")
    assert soon.sla == "breaches in 20 minutes" and soon.owner == "r1" and soon.step.startswith("notified")
    # A manager's queue holds only their team's leads.
    assert {r.lead_id for r in pages.now_queue(ports, NOW, frozenset({"r2"}))} == {"esc"}


def test_a_lead_page_shows_its_brief_and_what_can_be_done(ports: FakePorts) -> None:
    lead = Lead.model_validate(sample("01"))
    lead_id = str(intake.accept(ports, lead, NOW).body["lead_id"])
    routing.route(ports, lead_id, NOW)
    notify.send_brief(ports, lead_id, NOW)
    record = pages.load_lead(ports, lead_id, None)
    view = pages.lead_view(ports, record, ports.reps.list_all(), None, NOW)
    assert view.brief_text is not None and lead.contact.email in view.brief_text
    assert "/d/" not in view.brief_text  # the rep's signed outcome links stay theirs
    assert view.reassignable and view.owner_can_record and not view.can_redrive
    owner = record.assignment.rep_id if record.assignment else ""
    assert owner not in {rep_id for rep_id, _ in view.targets}
    with pytest.raises(Forbidden):
        pages.load_lead(ports, lead_id, frozenset({"nobody"}))
    with pytest.raises(NotFound):
        pages.load_lead(ports, "no-such-lead", None)


def test_the_reps_page_shows_a_manager_their_team_only(ports: FakePorts) -> None:
    from tests.unit.test_console_scope import BOSS, REVOPS

    assert [r.view["rep_id"] for r in pages.reps_rows(ports.reps.list_all(), BOSS, NOW)] == ["r1"]
    rows = pages.reps_rows(ports.reps.list_all(), REVOPS, NOW)
    assert {r.view["rep_id"] for r in rows} == {"r1", "r2"}
    assert {"open_leads", "capacity", "daily_cap", "ooo_until", "weight"} <= set(rows[0].view)


def test_what_if_explains_a_pasted_or_stored_lead_and_claims_nothing(ports: FakePorts) -> None:
    import json

    lines = pages.what_if(ports, NOW, lead_id=None, lead_json=json.dumps(sample("01")).encode(), members=None)
    assert lines[-1] == "(explain only reads: nothing was claimed, stored or sent)"
    assert any(line.startswith("decision: ") for line in lines)
    assert all(r.open_count == 0 for r in ports.reps.list_all())
    with pytest.raises(BadRequest, match="invalid lead"):
        pages.what_if(ports, NOW, lead_id=None, lead_json=b'{"event_id": "x"}', members=None)
    with pytest.raises(BadRequest, match="not valid JSON"):
        pages.what_if(ports, NOW, lead_id=None, lead_json=b"{", members=None)
    with pytest.raises(BadRequest, match="give a lead id"):
        pages.what_if(ports, NOW, lead_id=None, lead_json=None, members=None)


def test_results_for_a_month_cut_by_rep(ports: FakePorts) -> None:
    lead = Lead.model_validate(sample("01"))
    lead_id = str(intake.accept(ports, lead, NOW).body["lead_id"])
    routing.route(ports, lead_id, NOW)
    found = pages.results(ports, NOW + timedelta(days=1), "2026-11", "rep", None)
    assert found.output.report.kpis.received == 1 and list(found.output.by_cut) == ["r1"]
    assert (found.start, found.end) == (datetime(2026, 11, 1, tzinfo=UTC), NOW + timedelta(days=1))
    # A manager's results count only their team's leads.
    assert (
        pages.results(
            ports, NOW + timedelta(days=1), "2026-11", None, frozenset()
        ).output.report.kpis.received
        == 0
    )
    for month, cut in (("2026-13", None), ("11/2026", None), ("2099-01", None), (None, "colour")):
        with pytest.raises(BadRequest):
            pages.results(ports, NOW, month, cut, None)
