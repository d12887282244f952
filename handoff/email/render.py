"""Render emails from templates: HTML (autoescaped) and a complete plain-text part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from handoff.domain.record import LeadRecord
from handoff.email.brief import BriefView
from handoff.insights.stats import percent

if TYPE_CHECKING:
    from handoff.insights.tuning import TuningReport


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _when(value: datetime | None) -> str:
    return value.strftime("%a %d %b %H:%M UTC") if value else ""


def _mailto(address: str) -> str:
    """A mailto: link that can only ever address this one mailbox: everything but the "@" is
    percent-encoded, so nothing in the address can add a query (?bcc=, &body=) or a header."""
    return "mailto:" + quote(address, safe="@")


def _duration(seconds: float | None) -> str:
    """1.2 s, 14 min, 3.5 h, 2.0 d: how a person reads a wait."""
    if seconds is None:
        return "n/a"
    for limit, unit, size in ((120, "s", 1), (7200, "min", 60), (172800, "h", 3600)):
        if seconds < limit:
            return f"{seconds / size:.1f} {unit}" if unit != "min" else f"{seconds / size:.0f} {unit}"
    return f"{seconds / 86400:.1f} d"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("handoff", "email/templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["pct"] = percent
    env.filters["duration"] = _duration
    env.filters["mailto"] = _mailto
    env.filters["day"] = lambda value: value.strftime("%Y-%m-%d")
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


def _company(record: LeadRecord) -> str:
    return record.company.name or record.company.domain or "unknown company"


def _about_lead(template: str, record: LeadRecord, subject: str, **extra: object) -> RenderedEmail:
    """An email about one lead (reminder, re-nurture, failure): the same context every time."""
    context = {"lead": record, "company": _company(record), "lead_id": record.lead_id, **extra}
    text, html = _render(template, context)
    return RenderedEmail(subject=_one_line(subject), text=text, html=html)


def render_reminder(record: LeadRecord, grace_seconds: int) -> RenderedEmail:
    minutes = max(1, grace_seconds // 60)
    subject = f"[Reminder] {record.contact.full_name} ({_company(record)}) is still waiting - {minutes} min before your manager hears"
    return _about_lead("reminder", record, subject, grace=minutes)


def render_renurture(record: LeadRecord) -> RenderedEmail:
    subject = f"[Re-nurture] {record.contact.full_name} ({_company(record)}) was not worked by sales"
    return _about_lead("renurture", record, subject)


def render_failure(record: LeadRecord, error: str) -> RenderedEmail:
    subject = f"[Action needed] Handoff could not finish {record.contact.full_name} ({_company(record)})"
    return _about_lead("failure", record, subject, error=error)


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
    subject = (
        f"[SLA missed] {record.assignment.rep_name or record.assignment.rep_email} has not "
        f"touched {record.contact.full_name} at {_company(record)}"
    )
    return _about_lead("escalation", record, subject)


def render_report(
    report: TuningReport, *, diff: str = "", charts: dict[str, str] | None = None
) -> RenderedEmail:
    """The KPI summary and tuning proposals: the terminal text, the monthly email and the
    HTML report (which adds charts as data URIs when the plotting extra is installed)."""
    context = {"r": report, "k": report.kpis, "diff": diff, "charts": charts or {}}
    text, html = _render("report", context)
    period = f" {report.period[0]:%Y-%m-%d} to {report.period[1]:%Y-%m-%d}" if report.period else ""
    subject = f"[Handoff] Report{period}: {len(report.proposals)} proposal{'s' if len(report.proposals) != 1 else ''}"
    return RenderedEmail(subject=subject, text=text, html=html)
