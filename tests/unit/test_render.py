"""The brief: every field in both parts, inert CRM strings, themes, talk tracks and links."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handoff.config import load_config, parse_config
from handoff.domain.lead import Lead
from handoff.domain.record import Assignment, LeadRecord, Qualification, Reason, Sla
from handoff.email.brief import Link, ago, build_brief, in_zone, safe_url, until
from handoff.email.render import render_brief, render_escalation
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


def test_subject_says_the_essentials(hot_lead: dict[str, Any]) -> None:
    brief = render(record(hot_lead))
    assert brief.subject == (
        "[HOT] Jordan Lee (Northwind Analytics): Demo request: Book a demo - respond by Mon 02 Nov 10:09 EST"
    )


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
    escalation = render_escalation(record(hot_lead))
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
        "[HOT] Jordan Bcc: victim@example.com Lee (Northwind Analytics): Demo request: Book a demo now"
        " - respond by Mon 02 Nov 10:09 EST"
    )
    for line in brief.text.splitlines():
        assert not line.startswith(("Bcc:", "Analytics", "a demo", "X-Injected", "of Sales")), line
    assert "Jordan Bcc: victim@example.com Lee" in brief.html and "Pricing X-Injected: yes" in brief.text
    assert not any(c in brief.html for c in "\r\x0b\u2028")
    slack = blocks(build_brief(record(hot_lead), CONFIG, NOW, LINKS))
    assert "\n" not in slack["text"] and "\n" not in slack["blocks"][0]["text"]["text"]
    assert "\r" not in json.dumps(slack)
