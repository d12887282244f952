"""Everything a rep needs in 30 seconds, assembled from the lead record: a pure view model.

The templates only lay this out; every decision about what to show is made here,
where it is tested without rendering.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel

from handoff.config import HandoffConfig
from handoff.domain.clock import local
from handoff.domain.geo import country_name
from handoff.domain.lead import Contact, label_for_trigger
from handoff.domain.provenance import crm_link
from handoff.domain.qualify import matched_keyword
from handoff.domain.record import Assignment, LeadRecord, Reason

# The one-click outcomes, in the order a rep works a lead. "No answer" records attempted: it ends
# the SLA wait without claiming a conversation, and starts the follow-up [cadence].
LINK_OUTCOMES = (
    ("attempted", "No answer"),
    ("connected", "Connected"),
    ("sales_accepted", "Sales accepted"),
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
    respond_by_short: str  # for the subject, which a phone cuts off after a few words
    respond_in: str
    # Why the tier is what it is when the fast lane, not the score, decided it.
    fast_lane: str | None
    trigger: str  # what they did, and how long ago
    trigger_name: str  # what they did (for the subject, which is read later)
    trigger_url: str | None
    last_conversion: str | None
    recent: list[Activity]
    reasons: list[str]
    # When the reasons' ages were counted, if they would read differently counted from now.
    reasons_as_of: str | None
    signals: list[str]
    themes: list[str]
    talk_track: str
    why_you: str
    links: list[Link]

    @property
    def subject(self) -> str:
        # The deadline first: a phone shows only the first few words of a subject.
        who = person_line(self.name, self.title, self.company)
        head = f"Respond by {self.respond_by_short} · {self.tier.upper()} · {who} · {self.trigger_name}"
        return one_line(head)


def safe_url(value: str | None) -> str | None:
    """Links from CRM data are kept only when they are http or https."""
    if value and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def person_line(name: str, title: str | None, company: str) -> str:
    return f"{name}, {title} at {company}" if title else f"{name} at {company}"


def one_line(text: str) -> str:
    """Subjects are a header: CRM data never adds a line break."""
    return " ".join(text.split())[:200]


def in_zone(moment: datetime, zone: str) -> str:
    return local(moment, zone).strftime("%a %d %b %H:%M %Z").strip()


def short_time(moment: datetime, zone: str, now: datetime) -> str:
    """As few words as a phone needs: the time alone today, the weekday within the week."""
    there, today = local(moment, zone), local(now, zone)
    days = (there.date() - today.date()).days
    if days == 0:
        return there.strftime("%H:%M %Z").strip()
    if -6 <= days <= 6:
        return there.strftime("%a %H:%M %Z").strip()
    return in_zone(moment, zone)


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
    return f"in {seconds} second{'s' if seconds > 1 else ''}"


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


# routing's "(3/6 open)": the rep's open leads, this one included, of their capacity.
_LOAD = re.compile(r"\s*\((\d+)/(\d+) open\)$")


def for_reps(reason: str) -> str:
    """The routing reason in a rep's words: "(1/6 open)" is ops shorthand."""
    found = _LOAD.search(reason)
    if found is None:
        return reason
    held, capacity = found.groups()
    return f"{reason[: found.start()]} (you now hold {held} of the {capacity} open leads you can take)"


def scored_at(record: LeadRecord) -> datetime:
    """The moment qualify counted ages from: the event's own time, never after receipt."""
    return min(record.received_at, record.occurred_at or record.received_at)


def _whole_days(seconds: float) -> int:
    return int(max(0.0, seconds) // 86_400)


def reasons_as_of(record: LeadRecord, zone: str, now: datetime) -> str | None:
    """The scoring moment, when an age in the reasons ("latest today") would read differently
    counted from now: the reasons are the decision's, so they stay as of the decision and say so."""
    moment = scored_at(record)
    dated = [a.at for a in record.activities if a.at] + ([record.trigger.at] if record.trigger.at else [])
    if all(
        _whole_days((moment - at).total_seconds()) == _whole_days((now - at).total_seconds()) for at in dated
    ):
        return None
    return f"{in_zone(moment, zone)}, {ago(moment, now)}"


def top_reasons(record: LeadRecord, config: HandoffConfig) -> tuple[list[str], list[Reason]]:
    """The reasons a rep reads (the next step first, then the biggest), and every positive one."""
    reasons = record.qualification.reasons
    next_step = [r.text for r in reasons if r.code.startswith("next_step.")]
    # The trigger is already under "Why now"; the reasons list what else made the lead ready.
    top = sorted(
        (r for r in reasons if r.points > 0 and r.code != "intent.trigger"),
        key=lambda r: r.points,
        reverse=True,
    )
    return next_step + [r.text for r in top[: config.brief.top_reasons - len(next_step)]], top


def fast_lane(record: LeadRecord) -> str | None:
    """Why the lead is in its tier whatever its score, when the fast lane put it there."""
    tier = record.qualification.tier
    if not tier or not any(r.code == "tier.fast_lane" for r in record.qualification.reasons):
        return None
    label = label_for_trigger(record.trigger.type).lower()
    return f"Fast lane: a {label} asks for sales directly, so it goes straight to {tier}, whatever the score."


def crm_button(record: LeadRecord, config: HandoffConfig) -> tuple[str, str | None]:
    """The CRM's name and the record's link, when the link is the CRM's own."""
    # Checked again here, not only at intake: a stored link from before the check, or a config
    # that since stopped trusting a host, still never reaches an email.
    return record.crm.name(otherwise=config.email.crm_name), crm_link(
        record.crm.system,
        record.crm.record_url,
        instance_url=config.adapters.salesforce.instance_url,
        hosts=config.adapters.crm_link_hosts,
    )


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
    shown, top = top_reasons(record, config)
    crm_name, crm_url = crm_button(record, config)
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
        crm_name=crm_name,
        crm_url=crm_url,
        respond_by=in_zone(record.sla.due_at, zone),
        respond_by_short=short_time(record.sla.due_at, zone, now),
        respond_in=until(record.sla.due_at, now),
        fast_lane=fast_lane(record),
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
                when=f"{local(a.at, zone):%a %d %b}, {ago(a.at, now)}" if a.at else "",
            )
            for a in record.recent_activities(5)
        ],
        reasons=shown,
        reasons_as_of=reasons_as_of(record, zone, now),
        # Engagement that did not make the top reasons, so nothing is said twice.
        signals=[r.text for r in top if r.code.startswith("intent.") and r.text not in shown][:3],
        themes=[config.brief.themes[t].label for t in themes],
        talk_track=talk_track(record, config, themes, trigger_label),
        why_you=for_reps(record.assignment.reason),
        links=links,
    )


# --- the ladder's emails: the reminder, the manager's escalation, the re-nurture -----------------


class Who(BaseModel):
    """The lead at a glance, as every ladder email shows it."""

    name: str
    title: str | None
    company: str
    tier: str
    score: str
    email: str
    phone: str | None  # None when the CRM says Do Not Call
    consent: list[str]
    crm_name: str
    crm_url: str | None
    trigger: str

    @property
    def line(self) -> str:
        return person_line(self.name, self.title, self.company)


def who(record: LeadRecord, config: HandoffConfig, now: datetime) -> Who:
    crm_name, crm_url = crm_button(record, config)
    trigger = record.trigger
    label = label_for_trigger(trigger.type) + (f": {trigger.name}" if trigger.name else "")
    return Who(
        name=record.contact.full_name,
        title=record.contact.title,
        company=record.company.name or record.company.domain or "unknown company",
        tier=record.qualification.tier or "",
        score=f"{record.qualification.score:g}",
        email=record.contact.email,
        phone=None if record.contact.do_not_call else record.contact.phone,
        consent=consent_notices(record.contact),
        crm_name=crm_name,
        crm_url=crm_url,
        trigger=f"{label}, {ago(trigger.at or record.received_at, now)}",
    )


def ladder_next(record: LeadRecord, config: HandoffConfig) -> str:
    """What the escalation does next: "reassign" while reassignments remain, else "renurture"."""
    return "reassign" if len(record.assignment_history) < config.escalation.reassignments else "renurture"


class ReminderView(BaseModel):
    lead_id: str
    who: Who
    due: str  # the deadline that passed
    last_call: str  # when the manager hears
    last_call_in: str
    then: str
    links: list[Link]

    @property
    def subject(self) -> str:
        return one_line(
            f"Reach out by {self.last_call} · {self.who.tier.upper()} · {self.who.line} is still waiting"
        )


def build_reminder(
    record: LeadRecord, config: HandoffConfig, now: datetime, escalates_at: datetime, links: list[Link]
) -> ReminderView:
    """The rep missed the deadline: the same buttons as the brief, and what happens at
    ``escalates_at``, when the grace period is over (in working time, when the SLA counts it)."""
    if record.assignment is None or record.sla is None:
        raise ValueError(f"lead {record.lead_id} has no assignment to remind")
    zone = record.assignment.rep_timezone
    then = (
        "your manager hears about it and the lead moves to another rep"
        if ladder_next(record, config) == "reassign"
        else "your manager hears about it and the lead goes back to marketing"
    )
    return ReminderView(
        lead_id=record.lead_id,
        who=who(record, config, now),
        due=short_time(record.sla.due_at, zone, now),
        last_call=short_time(escalates_at, zone, now),
        last_call_in=until(escalates_at, now),
        then=then,
        links=links,
    )


class EscalationView(BaseModel):
    lead_id: str
    who: Who
    rep: str
    rep_email: str
    assigned: str
    due: str
    reminded: str | None
    bounced: bool
    owner_now: str
    next_step: str
    reasons: list[str]
    reasons_as_of: str | None
    # The lead's full record in the API (GET /leads/{id}; it needs the API key, so it is text, not a button).
    record_url: str | None

    @property
    def subject(self) -> str:
        if self.bounced:
            return one_line(f"[Brief bounced] {self.rep} never got {self.who.name} at {self.who.company}")
        return one_line(f"[SLA missed] {self.rep} has not touched {self.who.name} at {self.who.company}")


def build_escalation(
    record: LeadRecord,
    config: HandoffConfig,
    now: datetime,
    *,
    zone: str,
    following: str,
    bounced: bool = False,
    base_url: str = "",
) -> EscalationView:
    """What the manager reads, in the manager's time zone: who had the lead, who has it now,
    what Handoff does next, and what the manager can do about it."""
    assignment = record.assignment
    if assignment is None or record.sla is None:
        raise ValueError(f"lead {record.lead_id} has no assignment to escalate")
    rep = assignment.rep_name or assignment.rep_email
    this_round = len(record.assignment_history)
    reminded = next(
        (n.sent_at for n in record.notifications if n.kind == "reminder" and n.round == this_round), None
    )
    # Sent before the ladder moves the lead: say who holds it now and where it goes, since
    # by the time a manager reads this it may well have moved.
    if following == "reassign":
        owner_now = f"{rep}, until Handoff moves it on."
        next_step = (
            f"Handoff gives it to the next eligible rep{f' in {assignment.pool}' if assignment.pool else ''} "
            f"(never {rep} again), who gets a new brief and a new deadline."
        )
    else:
        owner_now = f"{rep}, until Handoff hands it back to marketing."
        next_step = (
            f"Every reassignment has been tried, so it goes back to marketing for re-nurture and "
            f"{rep}'s slot is freed. No rep owns it after that."
        )
    shown, _ = top_reasons(record, config)
    return EscalationView(
        lead_id=record.lead_id,
        who=who(record, config, now),
        rep=rep,
        rep_email=assignment.rep_email,
        assigned=in_zone(assignment.assigned_at, zone),
        due=in_zone(record.sla.due_at, zone),
        reminded=in_zone(reminded, zone) if reminded else None,
        bounced=bounced,
        owner_now=owner_now,
        next_step=next_step,
        reasons=shown,
        reasons_as_of=reasons_as_of(record, zone, now),
        record_url=f"{base_url.rstrip('/')}/leads/{record.lead_id}" if base_url else None,
    )


class RenurtureView(BaseModel):
    lead_id: str
    who: Who
    owners: list[str]  # each rep who had it, and when
    reasons: list[str]
    reasons_as_of: str | None

    @property
    def subject(self) -> str:
        return one_line(f"[Re-nurture] {self.who.name} ({self.who.company}) was not worked by sales")


def build_renurture(record: LeadRecord, config: HandoffConfig, now: datetime, *, zone: str) -> RenurtureView:
    """Back to marketing: why the lead qualified, who had it, and the CRM record to nurture it from."""
    had = [*record.assignment_history, *([record.assignment] if record.assignment else [])]
    shown, _ = top_reasons(record, config)
    return RenurtureView(
        lead_id=record.lead_id,
        who=who(record, config, now),
        owners=[f"{a.rep_name or a.rep_email}, from {in_zone(a.assigned_at, zone)}" for a in had],
        reasons=shown,
        reasons_as_of=reasons_as_of(record, zone, now),
    )
