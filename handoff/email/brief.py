"""Everything a rep needs in 30 seconds, assembled from the lead record: a pure view model.

The templates only lay this out; every decision about what to show is made here,
where it is tested without rendering.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from handoff.config import HandoffConfig
from handoff.domain.clock import local
from handoff.domain.geo import country_name
from handoff.domain.lead import Contact, label_for_trigger
from handoff.domain.provenance import crm_link
from handoff.domain.qualify import matched_keyword
from handoff.domain.record import Assignment, LeadRecord

LINK_OUTCOMES = (
    ("connected", "Connected"),
    ("meeting_set", "Meeting set"),
    ("recycle", "Recycle"),
    ("disqualify", "Disqualify"),
)


class Link(BaseModel):
    label: str
    url: str


class Activity(BaseModel):
    text: str
    when: str


class BriefView(BaseModel):
    lead_id: str
    tier: str
    score: str
    name: str
    first_name: str
    title: str | None
    company: str
    company_line: str | None
    email: str
    phone: str | None
    # Consent the CRM holds: shown first, so nobody calls or emails someone who said no.
    consent: list[str]
    # Whose account and contact it is, and an owner's lead taken over capacity.
    ownership: list[str]
    crm_name: str
    crm_url: str | None
    respond_by: str
    respond_in: str
    trigger: str  # what they did, and how long ago
    trigger_name: str  # what they did (for the subject, which is read later)
    trigger_url: str | None
    last_conversion: str | None
    recent: list[Activity]
    reasons: list[str]
    signals: list[str]
    themes: list[str]
    talk_track: str
    why_you: str
    links: list[Link]

    @property
    def subject(self) -> str:
        head = f"[{self.tier.upper()}] {self.name} ({self.company}): {self.trigger_name} - respond by {self.respond_by}"
        return " ".join(head.split())[:200]  # a header: CRM data never adds a line break


def safe_url(value: str | None) -> str | None:
    """Links from CRM data are kept only when they are http or https."""
    if value and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def in_zone(moment: datetime, zone: str) -> str:
    return local(moment, zone).strftime("%a %d %b %H:%M %Z").strip()


def ago(then: datetime, now: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def until(then: datetime, now: datetime) -> str:
    seconds = int((then - now).total_seconds())
    if seconds <= 0:
        return "now: the SLA has passed"
    for unit, size in (("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"in {count} {unit}{'s' if count > 1 else ''}"
    return f"in {seconds} seconds"


def themes_for(record: LeadRecord, config: HandoffConfig) -> list[str]:
    """Theme keys whose keywords or URL patterns appear in what the contact did."""
    texts = [record.trigger.name or "", *(a.title or "" for a in record.activities)]
    urls = [record.trigger.url or "", *(a.url or "" for a in record.activities)]
    found = []
    for key, theme in config.brief.themes.items():
        if any(matched_keyword(t, theme.keywords) for t in texts) or any(
            p.lower() in u.lower() for p in theme.url_patterns for u in urls
        ):
            found.append(key)
    return found


def talk_track(record: LeadRecord, config: HandoffConfig, themes: list[str], trigger: str) -> str:
    tracks = config.brief.talk_tracks
    persona = record.qualification.persona
    keys = [f"{t}:{persona}" for t in themes if persona] + themes + ["default"]
    template = next((tracks[k] for k in keys if k in tracks), "")
    values = {
        "first_name": record.contact.first_name or record.contact.full_name,
        "company": record.company.name or "their company",
        "trigger": trigger.lower(),
    }
    # Only our three names are filled in; anything else in braces stays as written.
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def consent_notices(contact: Contact) -> list[str]:
    notices = []
    if contact.do_not_call:
        notices.append("Do not call: the CRM marks this person Do Not Call")
    if contact.email_opt_out:
        notices.append("Opted out of email: reply only to what they sent you")
    return notices


def ownership_notices(assignment: Assignment) -> list[str]:
    notices = list(assignment.ownership_notes)
    if assignment.over_capacity:
        notices.insert(
            0,
            f"You own this relationship, so it is yours although {assignment.over_capacity}. Your manager has a copy.",
        )
    return notices


def build_brief(record: LeadRecord, config: HandoffConfig, now: datetime, links: list[Link]) -> BriefView:
    if record.assignment is None or record.sla is None:
        raise ValueError(f"lead {record.lead_id} has no assignment to brief")
    q, contact, company, trigger = record.qualification, record.contact, record.company, record.trigger
    zone = record.assignment.rep_timezone
    trigger_label = label_for_trigger(trigger.type)
    trigger_name = trigger_label + (f": {trigger.name}" if trigger.name else "")
    trigger_text = f"{trigger_name}, {ago(trigger.at or record.received_at, now)}"
    forms = [a for a in record.recent_activities(50) if a.type == "form_submission"]
    company_bits = [
        company.industry,
        f"{company.employees:,} employees" if company.employees else None,
        country_name(company.country or contact.country or ""),
    ]
    themes = themes_for(record, config)
    reasons = q.reasons
    next_step = [r.text for r in reasons if r.code.startswith("next_step.")]
    # The trigger is already under "Why now"; the reasons list what else made the lead ready.
    top = sorted(
        (r for r in reasons if r.points > 0 and r.code != "intent.trigger"),
        key=lambda r: r.points,
        reverse=True,
    )
    shown = next_step + [r.text for r in top[: config.brief.top_reasons - len(next_step)]]
    return BriefView(
        lead_id=record.lead_id,
        tier=q.tier or "",
        score=f"{q.score:g}",
        name=contact.full_name,
        first_name=contact.first_name or contact.full_name,
        title=contact.title,
        company=company.name or company.domain or "unknown company",
        company_line=" · ".join(b for b in company_bits if b) or None,
        email=contact.email,
        phone=None if contact.do_not_call else contact.phone,  # no tap-to-call link for Do Not Call
        consent=consent_notices(contact),
        ownership=ownership_notices(record.assignment),
        crm_name=record.crm.name(otherwise=config.email.crm_name),
        # Checked again here, not only at intake: a stored link from before the check, or a config
        # that since stopped trusting a host, still never reaches the brief.
        crm_url=crm_link(
            record.crm.system,
            record.crm.record_url,
            instance_url=config.adapters.salesforce.instance_url,
            hosts=config.adapters.crm_link_hosts,
        ),
        respond_by=in_zone(record.sla.due_at, zone),
        respond_in=until(record.sla.due_at, now),
        trigger=trigger_text,
        trigger_name=trigger_name,
        trigger_url=safe_url(trigger.url),
        last_conversion=(
            f"{forms[0].title or 'a form'} ({in_zone(forms[0].at, zone)})" if forms and forms[0].at else None
        ),
        recent=[
            Activity(
                text=a.type.replace("_", " ")
                + (f": {a.title}" if a.title else (f": {a.url}" if a.url else "")),
                when=f"{a.at.astimezone(UTC):%a %d %b}, {ago(a.at, now)}" if a.at else "",
            )
            for a in record.recent_activities(5)
        ],
        reasons=shown,
        # Engagement that did not make the top reasons, so nothing is said twice.
        signals=[r.text for r in top if r.code.startswith("intent.") and r.text not in shown][:3],
        themes=[config.brief.themes[t].label for t in themes],
        talk_track=talk_track(record, config, themes, trigger_label),
        why_you=record.assignment.reason,
        links=links,
    )
