from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from typing import Any

from handoff.domain.lead import Assignment, Lead, LeadRecord, Qualification, Reason, Sla
from handoff.email.render import render_brief, render_escalation, safe_url
from handoff.email.send import build_mime

NOW = datetime(2026, 11, 2, 15, 4, tzinfo=UTC)


def record(hot_lead: dict[str, Any], **contact: str) -> LeadRecord:
    hot_lead["contact"].update(contact)
    lead = Lead.model_validate(hot_lead)
    qualification = Qualification(
        ready=True,
        tier="hot",
        score=90,
        fit=100,
        intent=80,
        next_step="demo_request",
        reasons=[
            Reason(code="fit.title", text='Title "VP of Sales" matches persona keyword "vp" (+30)', points=30)
        ],
    )
    rec = LeadRecord.from_lead(lead, qualification, NOW)
    rec.assignment = Assignment(
        rep_id="rep-ana",
        rep_email="ana@example.com",
        rep_name="Ana Ortiz",
        manager_email="boss@example.com",
        pool="sales",
        rule="round_robin",
        reason="Next in round robin for pool sales",
        assigned_at=NOW,
    )
    rec.sla = Sla(due_at=NOW + timedelta(minutes=5), seconds=300)
    return rec


def test_brief_has_the_essentials_in_both_parts(hot_lead: dict[str, Any]) -> None:
    brief = render_brief(record(hot_lead), "HubSpot")
    assert (
        brief.subject
        == "[HOT] Jordan Lee at Northwind Analytics - demo_request - respond by Mon 02 Nov 15:09 UTC"
    )
    for part in (brief.text, brief.html):
        assert "Jordan Lee" in part
        assert "jordan.lee@northwind.example" in part
        assert "Book a demo" in part
        assert "Mon 02 Nov 15:09 UTC" in part
        assert "Next in round robin" in part
        assert "Speed-to-lead benchmark report" in part
        assert "https://app.hubspot.com/contacts/1/contact/1001" in part
    assert (
        "matches persona keyword &#34;vp&#34;" in brief.html
        or "matches persona keyword &quot;vp&quot;" in brief.html
    )
    assert 'matches persona keyword "vp"' in brief.text


def test_crm_strings_are_escaped_and_unsafe_links_dropped(hot_lead: dict[str, Any]) -> None:
    hot_lead["crm"]["record_url"] = "javascript:alert(1)"
    brief = render_brief(record(hot_lead, first_name="<script>alert(1)</script>"), "HubSpot")
    assert "<script>" not in brief.html
    assert "&lt;script&gt;" in brief.html
    assert "javascript:" not in brief.html
    assert "javascript:" not in brief.text


def test_subject_never_carries_line_breaks(hot_lead: dict[str, Any]) -> None:
    brief = render_brief(record(hot_lead, first_name="Evil\r\nBcc: victim@example.com"), "HubSpot")
    assert "\n" not in brief.subject and "\r" not in brief.subject
    message = email.message_from_bytes(build_mime(brief, "handoff@example.com", "ana@example.com"))
    assert message["Bcc"] is None


def test_mime_has_plain_text_and_html_alternatives(hot_lead: dict[str, Any]) -> None:
    brief = render_brief(record(hot_lead), "HubSpot")
    message = email.message_from_bytes(build_mime(brief, "handoff@example.com", "ana@example.com"))
    types = [part.get_content_type() for part in message.walk()]
    assert types == ["multipart/alternative", "text/plain", "text/html"]
    assert message["To"] == "ana@example.com"


def test_escalation_names_the_rep_and_deadline(hot_lead: dict[str, Any]) -> None:
    escalation = render_escalation(record(hot_lead))
    assert escalation.subject.startswith("[SLA missed] Ana Ortiz has not touched Jordan Lee")
    assert "Mon 02 Nov 15:09 UTC" in escalation.text


def test_safe_url() -> None:
    assert safe_url("https://x.example/a") == "https://x.example/a"
    assert safe_url(" HTTP://x.example ") == "HTTP://x.example"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//x.example", "", None):
        assert safe_url(bad) is None


def test_recent_activity_is_newest_first_and_at_most_five(hot_lead: dict[str, Any]) -> None:
    hot_lead["activities"] = [
        {"type": "page_view", "title": f"Page {day}", "at": f"2026-10-{day:02d}T10:00:00Z"}
        for day in (3, 9, 1, 7, 5, 8)
    ] + [{"type": "page_view", "title": "Undated"}]
    brief = render_brief(record(hot_lead), "HubSpot")
    titles = [
        line.split(": ", 1)[1].split(" (")[0]
        for line in brief.text.splitlines()
        if line.startswith("- page view")
    ]
    assert titles == ["Page 9", "Page 8", "Page 7", "Page 5", "Page 3"]


def test_brief_shows_the_next_step_then_the_biggest_reasons(hot_lead: dict[str, Any]) -> None:
    rec = record(hot_lead)
    rec.qualification.reasons = [
        Reason(code="fit.industry", text="Industry (+25)", points=25),
        Reason(code="intent.crm_score", text="CRM score (-7)", points=-7),
        Reason(code="fit.persona", text="Persona (+35)", points=35),
        Reason(code="next_step.trigger", text="Demo request is a clear next step"),
        *[Reason(code=f"intent.activity.{i}", text=f"Activity {i} (+{i})", points=i) for i in range(1, 6)],
    ]
    brief = render_brief(rec, "HubSpot")
    lines = [line[2:] for line in brief.text.splitlines() if line.startswith("- ")][:5]
    assert lines == [
        "Demo request is a clear next step",
        "Persona (+35)",
        "Industry (+25)",
        "Activity 5 (+5)",
        "Activity 4 (+4)",
    ]
    assert "CRM score (-7)" not in brief.html
