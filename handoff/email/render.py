"""Render emails from templates: HTML (autoescaped) and a complete plain-text part."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from handoff.domain.record import LeadRecord
from handoff.email.brief import BriefView, EscalationView, ReminderView, RenurtureView, one_line
from handoff.insights.stats import duration, percent

if TYPE_CHECKING:
    from handoff.email.cadence import CadenceView
    from handoff.insights.tuning import TuningReport


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _mailto(address: str) -> str:
    """A mailto: link that can only ever address this one mailbox: everything but the "@" is
    percent-encoded, so nothing in the address can add a query (?bcc=, &body=) or a header."""
    return "mailto:" + quote(address, safe="@")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("handoff", "email/templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = percent
    env.filters["duration"] = duration
    env.filters["mailto"] = _mailto
    env.filters["day"] = lambda value: value.strftime("%Y-%m-%d")
    env.filters["amount"] = lambda value: "n/a" if value is None else f"{value:,.0f}"
    env.filters["days"] = lambda value: "n/a" if value is None else f"{value:.0f} d"
    env.filters["label"] = lambda value: str(value).replace("_", " ")
    return env


def _render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    env = _environment()
    return (
        env.get_template(f"{name}.txt").render(**context),
        env.get_template(f"{name}.html").render(**context),
    )


def render_brief(brief: BriefView) -> RenderedEmail:
    text, html = _render("brief", {"b": brief, "lead_id": brief.lead_id})
    return RenderedEmail(subject=brief.subject, text=text, html=html)


def _company(record: LeadRecord) -> str:
    return record.company.name or record.company.domain or "unknown company"


def _about_lead(template: str, record: LeadRecord, subject: str, **extra: object) -> RenderedEmail:
    """An email about one lead from its record (the failure email to sales ops)."""
    context = {"lead": record, "company": _company(record), "lead_id": record.lead_id, **extra}
    text, html = _render(template, context)
    return RenderedEmail(subject=one_line(subject), text=text, html=html)


def _ladder_email(
    name: str, view: ReminderView | EscalationView | RenurtureView | CadenceView
) -> RenderedEmail:
    text, html = _render(name, {"v": view, "lead_id": view.lead_id})
    return RenderedEmail(subject=view.subject, text=text, html=html)


def render_reminder(view: ReminderView) -> RenderedEmail:
    return _ladder_email("reminder", view)


def render_renurture(view: RenurtureView) -> RenderedEmail:
    return _ladder_email("renurture", view)


def render_escalation(view: EscalationView) -> RenderedEmail:
    return _ladder_email("escalation", view)


def render_cadence(view: CadenceView) -> RenderedEmail:
    """A follow-up cadence step: try again, with the outcome buttons."""
    return _ladder_email("cadence", view)


def render_failure(record: LeadRecord, error: str) -> RenderedEmail:
    subject = f"[Action needed] Handoff could not finish {record.contact.full_name} ({_company(record)})"
    return _about_lead("failure", record, subject, error=error)


def render_page(page: Any) -> str:
    """A small standalone HTML page (the one-click link answers)."""
    return (
        _environment()
        .get_template("link_page.html")
        .render(title=page.title, message=page.message, form=page.form, notes=page.notes)
    )


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
