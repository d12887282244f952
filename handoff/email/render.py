"""Render emails from templates: HTML (autoescaped) and a complete plain-text part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from handoff.domain.lead import LeadRecord

SAFE_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def safe_url(value: str | None) -> str | None:
    """Links from CRM data are kept only when they are http or https."""
    if value and value.strip().lower().startswith(SAFE_SCHEMES):
        return value.strip()
    return None


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


TOP_REASONS = 5


def top_reasons(record: LeadRecord) -> list[str]:
    """What a rep needs in 30 seconds: the next step, then the biggest contributors."""
    reasons = record.qualification.reasons
    next_step = [r.text for r in reasons if r.code.startswith("next_step.")]
    scored = sorted((r for r in reasons if r.points > 0), key=lambda r: r.points, reverse=True)
    return next_step + [r.text for r in scored[: TOP_REASONS - len(next_step)]]


def render_brief(record: LeadRecord, crm_name: str) -> RenderedEmail:
    if record.assignment is None or record.sla is None:
        raise ValueError(f"lead {record.lead_id} has no assignment to brief")
    q = record.qualification
    company = record.company.name or record.company.domain or "unknown company"
    subject = _one_line(
        f"[{(q.tier or '').upper()}] {record.contact.full_name} at {company} - "
        f"{record.trigger.type} - respond by {_when(record.sla.due_at)}"
    )
    context = {
        "lead": record,
        "q": q,
        "crm_name": crm_name,
        "company": company,
        "reasons": top_reasons(record),
    }
    text, html = _render("brief", context)
    return RenderedEmail(subject=subject, text=text, html=html)


def render_escalation(record: LeadRecord) -> RenderedEmail:
    if record.assignment is None:
        raise ValueError(f"lead {record.lead_id} has no assignment to escalate")
    company = record.company.name or record.company.domain or "unknown company"
    subject = _one_line(
        f"[SLA missed] {record.assignment.rep_name or record.assignment.rep_email} has not "
        f"touched {record.contact.full_name} at {company}"
    )
    text, html = _render("escalation", {"lead": record, "company": company})
    return RenderedEmail(subject=subject, text=text, html=html)
