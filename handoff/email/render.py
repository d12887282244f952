"""Render emails from templates: HTML (autoescaped) and a complete plain-text part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from handoff.domain.lead import LeadRecord
from handoff.email.brief import BriefView, safe_url


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _when(value: datetime | None) -> str:
    return value.strftime("%a %d %b %H:%M UTC") if value else ""


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("handoff", "email/templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["safe_url"] = safe_url
    env.filters["when"] = _when
    return env


def _render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    env = _environment()
    return (
        env.get_template(f"{name}.txt").render(**context),
        env.get_template(f"{name}.html").render(**context),
    )


def _one_line(text: str) -> str:
    """Subjects are a header: no line breaks from CRM data."""
    return " ".join(text.split())[:200]


def render_brief(brief: BriefView) -> RenderedEmail:
    text, html = _render("brief", {"b": brief, "lead_id": brief.lead_id})
    return RenderedEmail(subject=brief.subject, text=text, html=html)


def render_reminder(record: LeadRecord, grace_seconds: int) -> RenderedEmail:
    company = record.company.name or record.company.domain or "unknown company"
    minutes = max(1, grace_seconds // 60)
    subject = " ".join(
        f"[Reminder] {record.contact.full_name} ({company}) is still waiting - {minutes} min before your manager hears".split()
    )
    context = {"lead": record, "company": company, "lead_id": record.lead_id, "grace": minutes}
    text, html = _render("reminder", context)
    return RenderedEmail(subject=subject[:200], text=text, html=html)


def render_renurture(record: LeadRecord) -> RenderedEmail:
    company = record.company.name or record.company.domain or "unknown company"
    subject = " ".join(f"[Re-nurture] {record.contact.full_name} ({company}) was not worked by sales".split())
    text, html = _render("renurture", {"lead": record, "company": company, "lead_id": record.lead_id})
    return RenderedEmail(subject=subject[:200], text=text, html=html)


def render_failure(record: LeadRecord, error: str) -> RenderedEmail:
    company = record.company.name or record.company.domain or "unknown company"
    subject = " ".join(
        f"[Action needed] Handoff could not finish {record.contact.full_name} ({company})".split()
    )
    context = {"lead": record, "company": company, "lead_id": record.lead_id, "error": error}
    text, html = _render("failure", context)
    return RenderedEmail(subject=subject[:200], text=text, html=html)


def render_page(page: Any) -> str:
    """A small standalone HTML page (the one-click link answers)."""
    return (
        _environment()
        .get_template("link_page.html")
        .render(title=page.title, message=page.message, form=page.form)
    )


def render_escalation(record: LeadRecord) -> RenderedEmail:
    if record.assignment is None:
        raise ValueError(f"lead {record.lead_id} has no assignment to escalate")
    company = record.company.name or record.company.domain or "unknown company"
    subject = _one_line(
        f"[SLA missed] {record.assignment.rep_name or record.assignment.rep_email} has not "
        f"touched {record.contact.full_name} at {company}"
    )
    text, html = _render("escalation", {"lead": record, "company": company, "lead_id": record.lead_id})
    return RenderedEmail(subject=subject, text=text, html=html)
