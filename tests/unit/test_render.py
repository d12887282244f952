"""The brief: every field in both parts, inert CRM strings, themes, talk tracks and links."""

from __future__ import annotations

import email
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handoff.config import load_config, parse_config
from handoff.domain.lead import Lead
from handoff.domain.record import Assignment, LeadRecord, Qualification, Reason, Sla
from handoff.email.brief import (
    Link,
    ago,
    build_brief,
    build_escalation,
    build_reminder,
    build_renurture,
    in_zone,
    safe_url,
    until,
)
from handoff.email.render import (
    render_brief,
    render_escalation,
    render_page,
    render_reminder,
    render_renurture,
)
from handoff.email.send import Envelope, build_mime
from handoff.email.slack import blocks
from tests.conftest import ROOT

NOW = datetime(2026, 11, 2, 15, 4, tzinfo=UTC)
CONFIG = load_config(ROOT / "config" / "handoff.toml")
LINKS = [
    Link(label=label, url=f"https://handoff.example/d/{code}")
    for code, label in (("c", "Connected"), ("m", "Meeting set"), ("r", "Recycle"), ("d", "Disqualify"))
]


def record(hot_lead: dict[str, Any], **contact: str) -> LeadRecord:
    hot_lead["contact"].update(contact)
    lead = Lead.model_validate(hot_lead)
    qualification = Qualification(
        ready=True, tier="hot", score=90, fit=100, intent=80, next_step="demo_request", persona="Sales Leader",
        reasons=[
            Reason(code="fit.persona", text='Title "VP of Sales" matches persona Sales Leader (+35)', points=35),
            Reason(code="intent.trigger", text="Trigger demo_request (+60)", points=60),
            Reason(code="intent.crm_score", text="CRM score 72 blended in at 20% (-5)", points=-5),
            Reason(code="next_step.trigger", text="Demo request is a clear next step"),
        ],
    )  # fmt: skip
    rec = LeadRecord.from_lead(lead, qualification, NOW)
    rec.assignment = Assignment(
        rep_id="rep-ana", rep_email="ana@example.com", rep_name="Ana Ortiz", manager_email="boss@example.com",
        pool="sales", rule="round_robin", reason="Next in weighted round robin for sales (1/6 open)", assigned_at=NOW,
        rep_timezone="America/New_York",
    )  # fmt: skip
    rec.sla = Sla(due_at=NOW + timedelta(minutes=5), seconds=300)
    return rec


def render(rec: LeadRecord, config: Any = CONFIG) -> Any:
    return render_brief(build_brief(rec, config, NOW, LINKS))


def test_every_brief_field_is_in_both_parts(hot_lead: dict[str, Any]) -> None:
    brief = render(record(hot_lead))
    expected = [
        "Jordan Lee",  # who
        "VP of Sales",
        "Northwind Analytics",
        "SaaS · 450 employees · United States",  # company size, industry and country by name
        "jordan.lee@northwind.example",
        "+1 415 555 0101",
        "https://app.hubspot.com/contacts/1/contact/1001",  # CRM link
        "HOT",  # tier
        "score 90",
        "Demo request is a clear next step",  # top reasons, in the qualification's words
        "Title \u0022VP of Sales\u0022 matches persona Sales Leader (+35)",
        "Demo request: Book a demo, just now",  # the trigger and how long ago
        "Pricing",  # the last five pieces of content, with dates
        "Speed-to-lead benchmark report",
        "Fri 30 Oct, 3 days ago",
        "Talk track",
        "Next in weighted round robin for sales",  # why you
        "Mon 02 Nov 10:09 EST",  # the SLA deadline in the rep's time zone
        "in 5 minutes",
        "https://handoff.example/d/c",  # one-click dispositions
        "https://handoff.example/d/d",
    ]
    text = brief.text
    html = brief.html.replace("&#34;", '"').replace("&quot;", '"')
    for value in expected:
        assert value.lower() in text.lower(), value
        assert value.lower() in html.lower(), value
    assert "CRM score 72" not in text  # negative contributions are not a reason to call


def test_subject_puts_the_deadline_first_in_the_reps_time(hot_lead: dict[str, Any]) -> None:
    """A phone shows the first few words of a subject: the deadline, then who."""
    brief = render(record(hot_lead))
    assert brief.subject == (
        "Respond by 10:09 EST · HOT · Jordan Lee, VP of Sales at Northwind Analytics · Demo request: Book a demo"
    )
    rec = record(hot_lead)
    rec.sla = Sla(due_at=datetime(2026, 11, 9, 14, 3, tzinfo=UTC), seconds=300)  # after a weekend
    assert render(rec).subject.startswith("Respond by Mon 09 Nov 09:03 EST · HOT")
    rec.sla = Sla(due_at=NOW + timedelta(hours=23), seconds=300)  # tomorrow, on the rep's calendar
    assert render(rec).subject.startswith("Respond by Tue 09:04 EST · HOT")


@pytest.mark.parametrize("field", ["first_name", "last_name", "title", "phone"])
def test_script_and_javascript_in_crm_fields_stay_inert(hot_lead: dict[str, Any], field: str) -> None:
    hot_lead["crm"]["record_url"] = "javascript:alert(1)"
    hot_lead["trigger"]["url"] = "javascript:alert(2)"
    hot_lead["trigger"]["name"] = "<img src=x onerror=alert(3)>"
    hot_lead["company"]["name"] = "<script>alert(4)</script>"
    hot_lead["activities"][0]["title"] = "<b onclick=alert(5)>x</b>"
    brief = render(record(hot_lead, **{field: '<script>alert("x")</script>'}))
    assert "<script" not in brief.html
    assert "<img" not in brief.html and "onclick=" not in brief.html.replace("onclick=alert(5)&gt;", "")
    assert "javascript:" not in brief.html and "javascript:" not in brief.text
    assert "&lt;script&gt;" in brief.html


def test_subject_and_headers_never_carry_line_breaks(hot_lead: dict[str, Any]) -> None:
    brief = render(record(hot_lead, first_name="Evil\r\nBcc: victim@example.com"))
    assert "\n" not in brief.subject and "\r" not in brief.subject
    message = email.message_from_bytes(
        build_mime(brief, Envelope(sender="handoff@example.com", to="ana@example.com"))
    )
    assert message["Bcc"] is None


def test_mime_has_text_html_from_name_and_reply_to(hot_lead: dict[str, Any]) -> None:
    brief = render(record(hot_lead))
    envelope = Envelope(
        sender="handoff@example.com", to="ana@example.com", from_name="Handoff", reply_to="revops@example.com"
    )
    message = email.message_from_bytes(build_mime(brief, envelope))
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    assert message["From"] == "Handoff <handoff@example.com>"
    assert message["Reply-To"] == "revops@example.com"


def test_recent_activity_is_newest_first_and_at_most_five(hot_lead: dict[str, Any]) -> None:
    hot_lead["activities"] = [
        {"type": "page_view", "title": f"Page {day}", "at": f"2026-10-{day:02d}T10:00:00Z"}
        for day in (3, 9, 1, 7, 5, 8)
    ] + [{"type": "page_view", "title": "Undated"}]
    view = build_brief(record(hot_lead), CONFIG, NOW, [])
    assert [a.text for a in view.recent] == [f"page view: Page {d}" for d in (9, 8, 7, 5, 3)]
    assert view.recent[0].when == "Fri 09 Oct, 24 days ago"


def test_themes_and_talk_tracks_come_from_config(hot_lead: dict[str, Any]) -> None:
    config = parse_config(
        """
[brief.themes.speed]
label = "Slow lead response"
keywords = ["speed-to-lead"]
[brief.themes.cost]
label = "Evaluating cost"
url_patterns = ["/pricing"]
[brief.talk_tracks]
default = "Ask {first_name} what changed."
speed = "Lead with response time at {company}."
"cost:Sales Leader" = "{first_name} leads sales: talk cost per meeting, after a {trigger}."
""",
        "brief.toml",
    )
    hot_lead["activities"].append({"type": "page_view", "url": "https://www.example.com/pricing"})
    view = build_brief(record(hot_lead), config, NOW, [])
    assert view.themes == ["Slow lead response", "Evaluating cost"]
    # A track for this theme and this persona beats a theme-only track.
    assert view.talk_track == "Jordan leads sales: talk cost per meeting, after a demo request."
    hot_lead["activities"] = [{"type": "content_download", "title": "Speed-to-lead benchmark report"}]
    view = build_brief(record(hot_lead), config, NOW, [])
    assert view.talk_track == "Lead with response time at Northwind Analytics."
    hot_lead["activities"] = []
    assert build_brief(record(hot_lead), config, NOW, []).talk_track == "Ask Jordan what changed."


def test_escalation_names_the_rep_and_deadline(hot_lead: dict[str, Any]) -> None:
    escalation = render_escalation(
        build_escalation(record(hot_lead), CONFIG, NOW, zone="UTC", following="reassign")
    )
    assert escalation.subject.startswith("[SLA missed] Ana Ortiz has not touched Jordan Lee")


def test_time_helpers() -> None:
    assert ago(NOW - timedelta(seconds=30), NOW) == "just now"
    assert ago(NOW - timedelta(hours=2, minutes=5), NOW) == "2 hours ago"
    assert until(NOW + timedelta(seconds=40), NOW) == "in 40 seconds"
    assert until(NOW - timedelta(seconds=1), NOW) == "now: the SLA has passed"
    assert in_zone(NOW, "Europe/London") == "Mon 02 Nov 15:04 GMT"
    assert in_zone(NOW, "Not/AZone") == "Mon 02 Nov 15:04 UTC"


def test_safe_url() -> None:
    assert safe_url("https://x.example/a") == "https://x.example/a"
    assert safe_url(" HTTP://x.example ") == "HTTP://x.example"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//x.example", "", None):
        assert safe_url(bad) is None


ZOHO_CONFIG = CONFIG.model_copy(
    update={"adapters": CONFIG.adapters.model_copy(update={"crm_link_hosts": ["crm.zoho.com"]})}
)


@pytest.mark.parametrize(
    ("system", "url", "button"),
    [
        (
            "salesforce",
            "https://acme.lightning.force.com/lightning/r/Lead/00Q5g0000LEAD01AAA/view",
            "Open in Salesforce",
        ),
        ("hubspot", "https://app-eu1.hubspot.com/contacts/1/record/0-1/1001", "Open in HubSpot"),
        ("zoho", "https://crm.zoho.com/crm/tab/Leads/1001", "Open in CRM"),
    ],
)
def test_the_crm_button_names_the_leads_own_crm(
    hot_lead: dict[str, Any], system: str, url: str, button: str
) -> None:
    hot_lead["crm"] |= {"system": system, "record_url": url}
    html = render(record(hot_lead), ZOHO_CONFIG).html
    assert button in html and f'href="{url}"' in html
    assert {"salesforce": "HubSpot", "hubspot": "Salesforce", "zoho": "HubSpot"}[system] not in html


@pytest.mark.parametrize(
    ("system", "url"),
    [
        ("hubspot", "http://app.hubspot.com/contacts/1/record/0-1/1001"),  # not https
        ("hubspot", "javascript:alert(1)//app.hubspot.com"),
        ("hubspot", "https://app.hubspot.com.evil.example/contacts/1"),
        ("hubspot", "https://app.hubspot.com@evil.example/contacts/1"),  # userinfo: the host is evil
        ("hubspot", "https://evil.example\\@app.hubspot.com/"),  # a browser reads the backslash as /
        ("hubspot", "https://yourcompany.my.salesforce.com/00Q"),  # another CRM's host
        ("salesforce", "https://app.hubspot.com/contacts/1"),
        ("salesforce", "https://salesforce.com.evil.example/00Q"),
        ("zoho", "https://crm.zoho.com/crm/tab/Leads/1001"),  # no crm_link_hosts by default
        ("other", "https://crm.example/record/1"),
    ],
)
def test_a_crm_link_off_the_crms_own_hosts_never_reaches_the_brief(
    hot_lead: dict[str, Any], system: str, url: str
) -> None:
    hot_lead["crm"] |= {"system": system, "record_url": url}
    brief = render(record(hot_lead))
    assert "Open in" not in brief.html and url not in brief.html and url not in brief.text


def test_the_configured_salesforce_instance_is_a_salesforce_host(hot_lead: dict[str, Any]) -> None:
    url = "https://crm.acme.example/00Q5g0000LEAD01AAA"
    hot_lead["crm"] |= {"system": "salesforce", "record_url": url}
    assert "Open in Salesforce" not in render(record(hot_lead)).html
    config = CONFIG.model_copy(
        update={
            "adapters": CONFIG.adapters.model_copy(
                update={
                    "salesforce": CONFIG.adapters.salesforce.model_copy(
                        update={"instance_url": "https://crm.acme.example"}
                    )
                }
            )
        }
    )
    assert "Open in Salesforce" in render(record(hot_lead), config).html


def test_the_mailto_link_carries_only_the_validated_address(hot_lead: dict[str, Any]) -> None:
    brief = render(record(hot_lead, email="Jordan.Lee+sales@Northwind.example"))
    assert 'href="mailto:jordan.lee%2Bsales@northwind.example"' in brief.html
    assert brief.html.count("mailto:") == 1


def test_line_breaks_in_crm_text_never_reach_what_a_rep_reads(hot_lead: dict[str, Any]) -> None:
    hot_lead["company"]["name"] = "Northwind\r\nAnalytics"
    hot_lead["trigger"]["name"] = "Book\na demo\u2028now"
    hot_lead["activities"][0]["title"] = "Pricing\r\nX-Injected: yes"
    brief = render(record(hot_lead, first_name="Jordan\r\nBcc: victim@example.com", title="VP\x0bof Sales"))
    assert brief.subject == (
        "Respond by 10:09 EST · HOT · Jordan Bcc: victim@example.com Lee, VP of Sales at Northwind Analytics"
        " · Demo request: Book a demo now"
    )
    for line in brief.text.splitlines():
        assert not line.startswith(("Bcc:", "Analytics", "a demo", "X-Injected", "of Sales")), line
    assert "Jordan Bcc: victim@example.com Lee" in brief.html and "Pricing X-Injected: yes" in brief.text
    assert not any(c in brief.html for c in "\r\x0b\u2028")
    slack = blocks(build_brief(record(hot_lead), CONFIG, NOW, LINKS))
    assert "\n" not in slack["text"] and "\n" not in slack["blocks"][0]["text"]["text"]
    assert "\r" not in json.dumps(slack)


# --- what reps and managers read (issue 18) --------------------------------------------------------


def both(email: Any) -> list[str]:
    """The plain-text part and the HTML part with its entities read back."""
    return [email.text, email.html.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")]


def test_activity_dates_are_on_the_reps_calendar(hot_lead: dict[str, Any]) -> None:
    # 03:00 UTC on Monday is still Sunday evening in New York.
    hot_lead["activities"] = [{"type": "page_view", "title": "Pricing", "at": "2026-11-02T03:00:00Z"}]
    view = build_brief(record(hot_lead), CONFIG, NOW, [])
    assert view.recent[0].when == "Sun 01 Nov, 12 hours ago"


def test_reasons_say_they_are_as_of_qualification_when_ages_would_read_differently(
    hot_lead: dict[str, Any],
) -> None:
    """A lead scored as of its event (a CRM that delivered late, a replay): the reasons' ages
    ("latest today") count from then, the activity list's from now; the brief says so."""
    rec = record(hot_lead)
    later = NOW + timedelta(days=27)
    view = build_brief(rec, CONFIG, later, LINKS)
    assert view.reasons_as_of == "Mon 02 Nov 10:04 EST, 27 days ago"
    for part in both(render_brief(view)):
        assert "as scored Mon 02 Nov 10:04 EST, 27 days ago" in part.replace("As scored", "as scored")
        assert "count from then" in part
    # Briefed as it was scored: nothing to say.
    assert build_brief(rec, CONFIG, NOW, LINKS).reasons_as_of is None
    assert "as scored" not in render(rec).text.lower()


def test_the_fast_lane_is_explained_when_it_decided_the_tier(hot_lead: dict[str, Any]) -> None:
    rec = record(hot_lead)
    assert "Fast lane" not in render(rec).text
    rec.qualification.reasons.append(
        Reason(code="tier.fast_lane", text="Demo request is bottom-of-funnel: fast lane to hot")
    )
    for part in both(render(rec)):
        assert (
            "Fast lane: a demo request asks for sales directly, so it goes straight to hot, whatever the score."
            in part
        )


def test_why_you_says_the_reps_load_in_words(hot_lead: dict[str, Any]) -> None:
    brief = render(record(hot_lead))
    for part in both(brief):
        assert (
            "Next in weighted round robin for sales (you now hold 1 of the 6 open leads you can take)" in part
        )
        assert "1/6 open" not in part


def reminder_of(rec: LeadRecord, now: datetime = NOW + timedelta(minutes=5)) -> Any:
    return render_reminder(build_reminder(rec, CONFIG, now, now + timedelta(minutes=10), LINKS))


def test_the_reminder_is_in_the_reps_time_with_the_briefs_buttons_and_crm_link(
    hot_lead: dict[str, Any],
) -> None:
    reminder = reminder_of(record(hot_lead))
    assert reminder.subject == (
        "Reach out by 10:19 EST · HOT · Jordan Lee, VP of Sales at Northwind Analytics is still waiting"
    )
    for part in both(reminder):
        assert not re.search(r"\bUTC\b", part)
        assert "Your first-touch deadline, 10:09 EST, has passed. After 10:19 EST, your manager hears" in part
        assert "the lead moves to another rep" in part
        for link in LINKS:
            assert link.url in part
        assert "https://app.hubspot.com/contacts/1/contact/1001" in part
    assert "Open in HubSpot" in reminder.html


def test_the_last_reminder_says_the_lead_goes_back_to_marketing(hot_lead: dict[str, Any]) -> None:
    rec = record(hot_lead)
    assert rec.assignment is not None
    rec.assignment_history = [rec.assignment]  # reassigned once already: no reassignment left
    assert "the lead goes back to marketing" in reminder_of(rec).text


def test_a_do_not_call_lead_gets_no_phone_link_in_the_reminder(hot_lead: dict[str, Any]) -> None:
    hot_lead["contact"]["do_not_call"] = True
    reminder = reminder_of(record(hot_lead))
    assert "tel:" not in reminder.html and "Do not call" in reminder.html


def escalation_of(rec: LeadRecord, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "zone": "Europe/London",
        "following": "reassign",
        "base_url": "https://handoff.example",
    }
    return render_escalation(build_escalation(rec, CONFIG, NOW + timedelta(minutes=15), **(args | kw)))


def test_the_escalation_is_in_the_managers_time_and_says_who_owns_it_and_what_next(
    hot_lead: dict[str, Any],
) -> None:
    escalation = escalation_of(record(hot_lead))
    for part in both(escalation):
        assert not re.search(r"\b(UTC|EST)\b", part)
        assert "assigned this lead Mon 02 Nov 15:04 GMT and had until Mon 02 Nov 15:09 GMT" in part
        assert "Owner now: Ana Ortiz, until Handoff moves it on." in part.replace("</strong>", "")
        assert "the next eligible rep in sales (never Ana Ortiz again)" in part
        assert "https://app.hubspot.com/contacts/1/contact/1001" in part  # the CRM record
        assert "GET https://handoff.example/leads/" in part  # the full record, for RevOps
        assert "ana@example.com" in part  # ask the rep
        assert 'Title "VP of Sales" matches persona Sales Leader (+35)' in part  # why it qualified
    assert 'href="mailto:ana@example.com"' in escalation.html
    last = escalation_of(record(hot_lead), following="renurture", base_url="")
    assert "it goes back to marketing for re-nurture" in last.text
    assert "/leads/" not in last.text  # no public URL: no address to give


def test_a_bounced_brief_escalates_under_its_own_subject(hot_lead: dict[str, Any]) -> None:
    escalation = escalation_of(record(hot_lead), bounced=True)
    assert escalation.subject == "[Brief bounced] Ana Ortiz never got Jordan Lee at Northwind Analytics"
    assert (
        "bounced or was marked as spam" in escalation.text and "Nobody has touched it" not in escalation.text
    )


def test_the_renurture_email_carries_the_reasons_and_the_crm_link(hot_lead: dict[str, Any]) -> None:
    rec = record(hot_lead)
    renurture = render_renurture(
        build_renurture(rec, CONFIG, NOW + timedelta(minutes=30), zone="America/Chicago")
    )
    for part in both(renurture):
        assert "Demo request is a clear next step" in part
        assert 'Title "VP of Sales" matches persona Sales Leader (+35)' in part
        assert "https://app.hubspot.com/contacts/1/contact/1001" in part
        assert "Ana Ortiz, from Mon 02 Nov 09:04 CST" in part
        assert not re.search(r"\bUTC\b", part)


def test_the_link_page_preselects_no_reason_and_offers_a_recycle_until_day() -> None:
    from handoff.service.links import Page

    html = render_page(
        Page(
            200,
            "Recycle: Jordan Lee",
            "Record it?",
            {
                "reasons": [("timing", "Timing")],
                "button": "Record recycle",
                "until": {"min": "2026-11-03", "max": "2027-11-02"},
            },
        )
    )
    assert '<option value="" selected disabled>Choose a reason</option>' in html
    assert html.count("selected") == 1
    assert 'type="date" min="2026-11-03" max="2027-11-02"' in html
    assert 'name="owner"' not in html  # only where wrong_owner is a reason


def test_the_link_page_asks_for_the_right_owner_where_wrong_owner_is_a_reason() -> None:
    from handoff.service.links import Page

    form = {
        "reasons": [("wrong_owner", "Wrong owner")],
        "button": "Record recycle",
        "until": None,
        "owner": True,
    }
    html = render_page(Page(200, "Recycle: Jordan Lee", "Record it?", form))
    assert '<label for="owner"' in html and '<input id="owner" name="owner"' in html
