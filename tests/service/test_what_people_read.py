"""What reps, managers and marketing read, on in-memory ports: every time in the reader's own
time zone, the reminder's buttons, one escalation per rung to one person, the re-nurture's
reasons, and the link pages (a used link says what it recorded; recycle until)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from handoff.domain.link_tokens import read_token
from handoff.domain.record import LeadStatus
from handoff.errors import BadRequest
from handoff.service import ladder, links, notify, routing, touch
from tests.conftest import rep
from tests.fakes import FakePorts
from tests.service.test_services import NOW, accepted, briefed

CRM_URL = "https://app.hubspot.com/contacts/1/contact/1001"


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> FakePorts:
    monkeypatch.setenv("HANDOFF_PUBLIC_BASE_URL", "https://handoff.test")
    from handoff.deploy import settings

    settings.reset()
    fake = FakePorts()
    # One rep in New York whose manager works from London; r2 is there for the reassignment.
    fake.reps.put(rep("r1", name="Ana Ortiz", timezone="America/New_York"))
    fake.reps.put(rep("r2", name="Ben Walker", timezone="America/Chicago", active=False))
    fake.reps.put(
        rep("boss", email="boss@example.com", name="Maria Chen", pools=[], timezone="Europe/London")
    )
    return fake


def tokens(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z][a-z ]+): https://handoff\.test/d/(\S+)$", text, re.MULTILINE))


def last_to(ports: FakePorts, address: str) -> tuple[str, str, str]:
    email = ports.mailer.to(address)[-1]
    return email.subject, email.text, email.html


def test_the_reminder_is_in_the_reps_time_with_working_outcome_buttons_and_the_crm_link(
    ports: FakePorts,
) -> None:
    lead_id, token = briefed(ports)
    assert ladder.remind(ports, lead_id, NOW + timedelta(minutes=5)) == 600
    subject, text, html = last_to(ports, "r1@example.com")
    assert subject.startswith("Reach out by 10:20 EST · HOT · Jordan Lee")
    assert "Your first-touch deadline, 10:10 EST, has passed." in text
    assert not re.search(r"\bUTC\b", text + html)
    assert CRM_URL in text and CRM_URL in html
    found = tokens(text)
    assert set(found) >= {"Connected", "Meeting set", "Recycle", "Disqualify"}
    claims = read_token(ports.secret("link-key"), found["Connected"], NOW)
    assert (claims.lead_id, claims.rep_id, claims.outcome) == (lead_id, "r1", "connected")
    # A button in the reminder records the outcome as the brief's would, and ends the wait.
    assert links.record(ports, found["Connected"], None, None, NOW + timedelta(minutes=6)).status == 200
    assert ports.workflow.ended[0][0] == token


def test_the_escalation_goes_once_to_the_manager_in_the_managers_time(ports: FakePorts) -> None:
    lead_id, _ = briefed(ports)
    ladder.remind(ports, lead_id, NOW + timedelta(minutes=5))
    assert ladder.escalate(ports, lead_id, NOW + timedelta(minutes=15)).next == "reassign"
    assert ladder.escalate(ports, lead_id, NOW + timedelta(minutes=16)).next == "reassign"  # a retried step
    assert [e.to for _, e in ports.mailer.sent].count("boss@example.com") == 1
    assert [e.to for _, e in ports.mailer.sent].count("r1@example.com") == 2  # brief and reminder only
    subject, text, html = last_to(ports, "boss@example.com")
    assert subject == "[SLA missed] Ana Ortiz has not touched Jordan Lee at Northwind Analytics"
    # London, the manager's time: not the rep's New York, and never UTC.
    assert "assigned this lead Mon 02 Nov 15:05 GMT and had until Mon 02 Nov 15:10 GMT" in text
    assert "a reminder went out Mon 02 Nov 15:10 GMT" in text
    assert not re.search(r"\b(UTC|EST)\b", text + html)
    assert "Owner now: Ana Ortiz, until Handoff moves it on." in text
    assert "Next: Handoff gives it to the next eligible rep in sales (never Ana Ortiz again)" in text
    assert CRM_URL in html and f"GET https://handoff.test/leads/{lead_id}" in text
    timeline = (ports.leads.get(lead_id) or pytest.fail()).timeline
    assert timeline[-1].detail == "no touch after the reminder; manager emailed; next: reassign"


def test_a_rep_without_a_manager_escalates_to_sales_ops_not_to_themselves(ports: FakePorts) -> None:
    ports.reps.put(rep("r1", name="Ana Ortiz", timezone="America/New_York", manager_email=None))
    lead_id, _ = briefed(ports)
    ladder.remind(ports, lead_id, NOW + timedelta(minutes=5))
    ladder.escalate(ports, lead_id, NOW + timedelta(minutes=15))
    assert [e.to for _, e in ports.mailer.sent] == [
        "r1@example.com",
        "r1@example.com",
        "sales-ops@example.com",
    ]
    # Nobody to look up: the rep's own time zone stands in.
    assert "assigned this lead Mon 02 Nov 10:05 EST" in last_to(ports, "sales-ops@example.com")[1]
    timeline = (ports.leads.get(lead_id) or pytest.fail()).timeline
    assert timeline[-1].detail == "no touch after the reminder; sales ops emailed; next: reassign"


def test_the_renurture_email_carries_the_reasons_and_the_crm_link(ports: FakePorts) -> None:
    ports.edit_config(**{"reassignments = 1": "reassignments = 0"})
    lead_id, _ = briefed(ports)
    ladder.remind(ports, lead_id, NOW + timedelta(minutes=5))
    assert ladder.escalate(ports, lead_id, NOW + timedelta(minutes=15)).next == "renurture"
    assert "it goes back to marketing for re-nurture" in last_to(ports, "boss@example.com")[1]
    ladder.renurture(ports, lead_id, NOW + timedelta(minutes=15))
    subject, text, html = last_to(ports, "marketing-ops@example.com")
    assert subject == "[Re-nurture] Jordan Lee (Northwind Analytics) was not worked by sales"
    for part in (text, html):
        assert "Demo request is a clear next step" in part
        assert CRM_URL in part
        assert "Ana Ortiz, from Mon 02 Nov 10:05 EST" in part  # marketing ops is no rep: the rep's zone


def test_why_you_tells_the_rep_their_load_in_words(ports: FakePorts) -> None:
    lead_id = accepted(ports)
    routing.route(ports, lead_id, NOW)
    assert (ports.leads.get(lead_id) or pytest.fail()).assignment.reason.endswith("(1/10 open)")  # type: ignore[union-attr]
    notify.send_brief(ports, lead_id, NOW)
    _, text, html = last_to(ports, "r1@example.com")
    for part in (text, html):
        assert "(you now hold 1 of the 10 open leads you can take)" in part
        assert "1/10 open" not in part


# --- the link pages --------------------------------------------------------------------------------


def test_a_used_link_says_on_open_what_it_recorded_and_when(ports: FakePorts) -> None:
    lead_id, _ = briefed(ports)
    found = tokens(ports.mailer.to("r1@example.com")[0].text)
    assert links.confirm(ports, found["Connected"], NOW).status == 200
    assert links.record(ports, found["Connected"], None, None, NOW + timedelta(minutes=2)).status == 200
    page = links.confirm(ports, found["Connected"], NOW + timedelta(hours=1))
    assert (page.status, page.title, page.form) == (410, "Already recorded", None)
    assert page.message == (
        "This link has already been used: it recorded Connected for Jordan Lee on Mon 02 Nov 10:07 EST."
    )
    # Another button still works, and its page says what is on record already.
    other = links.confirm(ports, found["Meeting set"], NOW + timedelta(hours=1))
    assert other.status == 200 and other.notes == ["Already recorded: Connected, Mon 02 Nov 10:07 EST"]
    assert len((ports.leads.get(lead_id) or pytest.fail()).dispositions) == 1


def test_recycle_until_is_offered_validated_stored_and_on_the_timeline(ports: FakePorts) -> None:
    lead_id, _ = briefed(ports)
    recycle = tokens(ports.mailer.to("r1@example.com")[0].text)["Recycle"]
    page = links.confirm(ports, recycle, NOW)
    assert page.form is not None and page.form["until"] == {"min": "2026-11-03", "max": "2027-11-02"}
    for bad in ("2026-11-02", "2027-11-03", "someday", "2026-02-30"):  # today, past a year, not a day
        refused = links.record(ports, recycle, "timing", None, NOW, recycle_until=bad)
        assert refused.status == 400, bad
        assert "Pick a recycle-until day from Tue 03 Nov 2026 to Tue 02 Nov 2027" in refused.message
    assert (ports.leads.get(lead_id) or pytest.fail()).dispositions == []  # the link is still unused
    done = links.record(ports, recycle, "timing", None, NOW, recycle_until="2027-02-01")
    assert (done.status, done.message) == (
        200,
        "Recycle recorded for Jordan Lee. Recycled until Mon 01 Feb 2027. Thank you.",
    )
    record = ports.leads.get(lead_id) or pytest.fail()
    assert record.status == LeadStatus.CLOSED
    assert [(d.outcome, d.reason, d.recycle_until) for d in record.dispositions] == [
        ("recycle", "timing", date(2027, 2, 1))
    ]
    assert "recycle (timing) until 2027-02-01" in [e.detail for e in record.timeline]
    assert ports.dispositions.items[0]["recycle_until"] == "2027-02-01"
    used = links.confirm(ports, recycle, NOW)
    assert "it recorded Recycle (timing) for Jordan Lee" in used.message
    assert used.notes[0] == "Recycled until Mon 01 Feb 2027."


def test_the_api_takes_recycle_until_only_with_recycle(ports: FakePorts) -> None:
    lead_id, _ = briefed(ports)
    with pytest.raises(BadRequest, match="only with the recycle outcome"):
        touch.record_disposition(
            ports, lead_id, outcome="connected", reason=None, note=None, by="api", now=NOW,
            recycle_until=date(2027, 1, 1),
        )  # fmt: skip
    assert (ports.leads.get(lead_id) or pytest.fail()).dispositions == []
