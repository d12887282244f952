"""Working time on the ladder: the SLA, the sweep and every rung, on a clock the test controls.

The reps work in New York (US holidays), their manager in London (UK holidays). The workflow's
part is played as the ASL plays it: each wait is the seconds the previous step answered.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handoff.domain.lead import Lead
from handoff.domain.record import LeadRecord, LeadStatus
from handoff.domain.sla import WorkingTime
from handoff.service import intake, ladder, notify, routing, sla, touch
from tests.conftest import rep, sample
from tests.fakes import FakePorts

NY, LONDON = "America/New_York", "Europe/London"
REP_HOURS = WorkingTime(hours="09:00-17:00", timezone=NY, country="US")
MANAGER_HOURS = WorkingTime(hours="09:00-17:30", timezone=LONDON, country="GB")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> FakePorts:
    monkeypatch.setenv("HANDOFF_PUBLIC_BASE_URL", "https://handoff.test")
    from handoff.deploy import settings

    settings.reset()
    fake = FakePorts()
    for rep_id in ("r1", "r2"):
        fake.reps.put(rep(rep_id, timezone=NY, working_hours="09:00-17:00", country="US"))
    fake.reps.put(
        rep(
            "boss",
            email="boss@example.com",
            pools=["managers"],
            timezone=LONDON,
            country="GB",
            manager_email=None,
        )
    )
    return fake


def accepted(ports: FakePorts, at: datetime, name: str = "02", **contact: Any) -> str:
    body = sample(name)
    body["contact"] |= {"country": "US", **contact}
    answer = intake.accept(ports, Lead.model_validate(body), at)
    assert answer.status_code == 202, answer.body
    return str(answer.body["lead_id"])


def lead(ports: FakePorts, lead_id: str) -> LeadRecord:
    record = ports.leads.get(lead_id)
    assert record is not None
    return record


def climb(ports: FakePorts, lead_id: str, start: datetime) -> datetime:
    """Route, brief and let every rung run out, as the workflow would: the time it ends."""
    now = start
    result = routing.route(ports, lead_id, now)
    notify.send_brief(ports, lead_id, now)
    while True:
        now += timedelta(seconds=result.sla_seconds)  # WaitForTouch times out
        now += timedelta(seconds=ladder.remind(ports, lead_id, now))  # WaitAfterReminder
        rung = ladder.escalate(ports, lead_id, now)
        while rung.next == "later":  # UntilWorkingHours, then Escalate again
            now += timedelta(seconds=rung.wait_seconds)
            rung = ladder.escalate(ports, lead_id, now)
        now += timedelta(seconds=rung.wait_seconds)  # UntilWorkingHours
        if rung.next != "reassign":
            ladder.renurture(ports, lead_id, now)
            return now
        result = routing.reassign(ports, lead_id, now)
        notify.send_brief(ports, lead_id, now)


def hours_of(email: str) -> WorkingTime:
    return MANAGER_HOURS if email == "boss@example.com" else REP_HOURS


def test_a_warm_lead_at_three_climbs_the_ladder_only_in_working_time(ports: FakePorts) -> None:
    lead_id = accepted(ports, utc("2026-11-25T15:00:00-05:00"))  # Wed 15:00, the eve of Thanksgiving
    end = climb(ports, lead_id, utc("2026-11-25T15:00:00-05:00"))
    record = lead(ports, lead_id)
    assert record.status == LeadStatus.RENURTURED
    sent = [(n.kind, n.to, n.sent_at) for n in record.notifications]
    assert [(kind, to) for kind, to, _ in sent] == [
        ("brief", "r1@example.com"),
        ("reminder", "r1@example.com"),
        ("escalation", "boss@example.com"),
        ("brief", "r2@example.com"),
        ("reminder", "r2@example.com"),
        ("escalation", "boss@example.com"),
        ("renurture", "marketing-ops@example.com"),
    ]
    # Nobody hears from the ladder outside their hours: marketing ops by the rep's.
    assert [(kind, to, at) for kind, to, at in sent if hours_of(to).outside(at)] == []
    at = {f"{kind} {to}": when for kind, to, when in sent}
    # Four working hours: two on Wednesday, none on Thanksgiving, two on Friday.
    assert at["reminder r1@example.com"] == utc("2026-11-27T11:00:00-05:00")
    assert record.assignment_history[0].rep_id == "r1"
    # r2's SLA lapses at 15:10 New York, 20:20 in London after the grace: the manager hears on
    # Monday at 09:00 London, and the lead goes back to marketing when New York opens.
    assert at["reminder r2@example.com"] == utc("2026-11-27T15:10:00-05:00")
    assert record.escalations[-1]["at"] == "2026-11-30T09:00:00+00:00"
    assert end == utc("2026-11-30T09:00:00-05:00")


def test_on_the_wall_clock_the_same_lead_emails_the_manager_at_night(ports: FakePorts) -> None:
    ports.edit_config(**{"sla_in_working_hours = true": "sla_in_working_hours = false"})
    lead_id = accepted(ports, utc("2026-11-25T15:00:00-05:00"))
    end = climb(ports, lead_id, utc("2026-11-25T15:00:00-05:00"))
    assert end == utc("2026-11-25T23:20:00-05:00")  # re-nurtured that night, as before
    at = [n.sent_at for n in lead(ports, lead_id).notifications if n.to == "boss@example.com"]
    assert all(MANAGER_HOURS.outside(when) for when in at)


def test_a_lapse_at_closing_time_reminds_the_rep_when_they_are_back(ports: FakePorts) -> None:
    start = utc("2026-11-25T16:55:00-05:00")  # 5 minutes before closing, before Thanksgiving
    lead_id = accepted(ports, start, "01")  # hot: 5 minutes
    result = routing.route(ports, lead_id, start)
    assert lead(ports, lead_id).sla.due_at == utc("2026-11-25T17:00:00-05:00")  # type: ignore[union-attr]
    assert start + timedelta(seconds=result.sla_seconds) == utc("2026-11-27T09:00:00-05:00")
    # A retried route step, or a lead resumed by sla_check at night: the same moment.
    resumed = routing.route(ports, lead_id, utc("2026-11-25T23:00:00-05:00"))
    assert utc("2026-11-25T23:00:00-05:00") + timedelta(seconds=resumed.sla_seconds) == utc(
        "2026-11-27T09:00:00-05:00"
    )


def test_a_brief_that_bounces_at_night_reaches_the_manager_in_their_morning(ports: FakePorts) -> None:
    night = utc("2026-11-24T23:00:00-05:00")  # Tue 23:00 New York, Wed 04:00 London
    lead_id = accepted(ports, night)
    routing.route(ports, lead_id, night)
    notify.send_brief(ports, lead_id, night)
    later = ladder.escalate(ports, lead_id, night, bounced=True)
    assert later == ("later", 5 * 3600)  # until 09:00 in London; nobody was told
    assert [n.kind for n in lead(ports, lead_id).notifications] == ["brief"]
    morning = night + timedelta(seconds=later.wait_seconds)
    rung = ladder.escalate(ports, lead_id, morning, bounced=True)
    assert rung == ("reassign", 5 * 3600)  # 04:00 in New York: reassigned when it opens
    assert [n.kind for n in lead(ports, lead_id).notifications] == ["brief", "escalation"]


def test_a_touch_while_the_ladder_waits_for_the_reps_hours_stops_it(ports: FakePorts) -> None:
    ports.edit_config(**{"reassignments = 1": "reassignments = 0"})
    friday = utc("2026-11-27T16:55:00-05:00")
    lead_id = accepted(ports, friday, "01")
    result = routing.route(ports, lead_id, friday)
    notify.send_brief(ports, lead_id, friday)
    lapse = friday + timedelta(seconds=result.sla_seconds)  # Fri 17:00, said at Mon 09:00
    assert lapse == utc("2026-11-30T09:00:00-05:00")
    rung = ladder.escalate(ports, lead_id, lapse, bounced=True)
    assert rung == ("renurture", 0)
    touch.record_disposition(
        ports,
        lead_id,
        outcome="connected",
        reason=None,
        note=None,
        by="api",
        now=lapse + timedelta(minutes=1),
    )
    ladder.renurture(ports, lead_id, lapse + timedelta(minutes=2))  # ran after the wait: too late
    assert lead(ports, lead_id).status == LeadStatus.WORKING
    assert "renurture" not in [n.kind for n in lead(ports, lead_id).notifications]


def test_the_sweep_and_a_touch_judge_the_same_deadline(ports: FakePorts) -> None:
    friday = utc("2026-11-27T16:58:00-05:00")
    lead_id = accepted(ports, friday, "01")  # hot: 5 minutes, 2 on Friday and 3 on Monday
    routing.route(ports, lead_id, friday)
    assert lead(ports, lead_id).sla.due_at == utc("2026-11-30T09:03:00-05:00")  # type: ignore[union-attr]
    assert sla.sweep(ports, utc("2026-11-28T12:00:00-05:00")) == []  # the weekend is not overdue
    assert sla.sweep(ports, utc("2026-11-30T09:02:00-05:00")) == []
    assert sla.sweep(ports, utc("2026-11-30T09:04:00-05:00")) == [lead_id]
