"""Sales-ready = ICP fit + intent + a clear next step, with every reason written down.

Pure: a Lead, the config and the clock in; a Qualification out. Each reason has a
machine code and a sentence a rep would understand, with the points it earned.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from functools import cache

from handoff.config.qualify import (
    ExclusionsConfig,
    FitConfig,
    IntentConfig,
    Persona,
    QualifyConfig,
    RangeCriterion,
    ValuesCriterion,
)
from handoff.domain.lead import Activity, Lead, label_for_trigger, truthy
from handoff.domain.record import Qualification, Reason

SECONDS_PER_DAY = 86_400
LABELS = {
    "company.employees": "Company size",
    "company.annual_revenue": "Annual revenue",
    "company.industry": "Industry",
    "company.country": "Company country",
    "contact.country": "Country",
    "contact.region": "Region",
    "contact.title": "Job title",
}


def _days_ago(days: float) -> str:
    whole = int(days)
    return "today" if whole == 0 else "yesterday" if whole == 1 else f"{whole} days ago"


def _fmt(points: float) -> str:
    return f"{points:.1f}".rstrip("0").rstrip(".")


@cache
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive: "cro" matches "CRO", not "Microsoft"."""
    words = [re.escape(k.strip()) for k in keywords if k.strip()]
    return re.compile(r"\b(" + "|".join(words) + r")\b", re.IGNORECASE) if words else None


def matched_keyword(text: str | None, keywords: list[str]) -> str | None:
    pattern = _keyword_pattern(tuple(keywords))
    if not text or pattern is None:
        return None
    found = pattern.search(text)
    return found.group(1) if found else None


@cache
def _lowered(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.lower() for v in values)


def _in(value: str | None, criterion: ValuesCriterion) -> bool:
    return bool(value) and value.strip().lower() in _lowered(tuple(criterion.values))  # type: ignore[union-attr]


def _in_range(value: float | None, criterion: RangeCriterion) -> bool:
    if value is None or (criterion.min is None and criterion.max is None):
        return False
    return (criterion.min is None or value >= criterion.min) and (
        criterion.max is None or value <= criterion.max
    )


def _best_persona(lead: Lead, personas: list[Persona]) -> tuple[Persona, str] | None:
    """The highest-weighted persona the contact matches, and how it matched."""
    contact = lead.contact
    matches: list[tuple[Persona, str]] = []
    for persona in personas:
        keyword = matched_keyword(contact.title, persona.title_keywords)
        if keyword:
            matches.append((persona, f'Title "{contact.title}" matches persona {persona.name}'))
            continue
        seniority_ok = bool(persona.seniorities) and (contact.seniority or "").lower() in {
            s.lower() for s in persona.seniorities
        }
        department_ok = not persona.departments or (contact.department or "").lower() in {
            d.lower() for d in persona.departments
        }
        if seniority_ok and department_ok:
            where = f" in {contact.department}" if contact.department else ""
            matches.append((persona, f"Seniority {contact.seniority}{where} matches persona {persona.name}"))
    return max(matches, key=lambda m: m[0].weight, default=None)


def score_fit(lead: Lead, fit: FitConfig) -> tuple[float, list[Reason], str | None]:
    """Matched weights as a share of all attainable weight, on a 0-100 scale, and the persona."""
    scale = 100 / fit.total_weight
    company, contact = lead.company, lead.contact
    earned: list[Reason] = []

    def award(code: str, weight: float, text: str) -> None:
        if weight > 0:
            points = weight * scale
            earned.append(Reason(code=code, text=f"{text} (+{_fmt(points)})", points=round(points, 1)))

    if _in(company.industry, fit.industries):
        award("fit.industry", fit.industries.weight, f"Industry {company.industry} is in the ICP")
    if _in_range(company.employees, fit.employees):
        award("fit.employees", fit.employees.weight, f"{company.employees:,} employees is in the ICP range")
    if _in_range(company.annual_revenue, fit.revenue):
        award("fit.revenue", fit.revenue.weight, f"Revenue {company.annual_revenue:,.0f} is in the ICP range")
    country = contact.country or company.country
    if _in(country, fit.countries):
        award("fit.country", fit.countries.weight, f"Country {country} is a target market")
    if _in(contact.region, fit.regions):
        award("fit.region", fit.regions.weight, f"Region {contact.region} is a target region")
    persona = _best_persona(lead, fit.personas)
    if persona:
        award("fit.persona", persona[0].weight, persona[1])
    return min(100.0, sum(r.points for r in earned)), earned, persona[0].name if persona else None


def activity_kind(activity: Activity, intent: IntentConfig) -> str:
    """The activity's type, refined: a pricing page view or a demo form counts for more."""
    text = f"{activity.url or ''} {activity.title or ''}"
    if activity.type == "page_view" and matched_keyword(text, intent.pricing_page_patterns):
        return "pricing_page"
    if activity.type == "form_submission" and matched_keyword(text, intent.demo_form_patterns):
        return "demo_request"
    return activity.type


def _scored_at(lead: Lead, now: datetime) -> datetime:
    """Ages count back from when the sender says the event happened, so a delivery that a CRM
    retried hours later is not worth less than one that arrived at once."""
    return min(now, lead.occurred_at) if lead.occurred_at else now


def _trigger_age_days(lead: Lead, now: datetime) -> float:
    at = lead.trigger.at
    return max(0.0, (_scored_at(lead, now) - at).total_seconds() / SECONDS_PER_DAY) if at else 0.0


def score_intent(lead: Lead, intent: IntentConfig, now: datetime) -> tuple[float, list[Reason]]:
    moment = _scored_at(lead, now)
    reasons: list[Reason] = []
    trigger = lead.trigger.type
    trigger_points = intent.trigger_weights.get(trigger, 0)
    if trigger_points:
        label = label_for_trigger(trigger)
        age_days = _trigger_age_days(lead, now)
        if age_days >= 1:
            # A conversion re-sent long after it happened (a workflow re-enrolling an old contact)
            # is not today's intent: past its first day it decays like any activity.
            trigger_points = round(trigger_points * 0.5 ** (age_days / intent.half_life_days), 1)
            label += f", {_days_ago(age_days)}"
        reasons.append(
            Reason(code="intent.trigger", text=f"{label} (+{_fmt(trigger_points)})", points=trigger_points)
        )
    by_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)  # kind -> [(points, age_days)]
    for activity in lead.activities:
        kind = activity_kind(activity, intent)
        weight = intent.activity_weights.get(kind, 0)
        if not weight:
            continue
        # An undated activity is treated as one half-life old: it counts, but not fully.
        age_days = (
            max(0.0, (moment - activity.at).total_seconds() / SECONDS_PER_DAY)
            if activity.at
            else intent.half_life_days
        )
        by_kind[kind].append((weight * 0.5 ** (age_days / intent.half_life_days), age_days))
    for kind, hits in sorted(by_kind.items(), key=lambda item: -sum(p for p, _ in item[1])):
        points = sum(p for p, _ in hits)
        newest = min(age for _, age in hits)
        label = kind.replace("_", " ")
        reasons.append(
            Reason(
                code=f"intent.activity.{kind}",
                text=f"{len(hits)} {label}{'s' if len(hits) > 1 else ''}, latest {_days_ago(newest)} (+{_fmt(points)})",
                points=round(points, 1),
            )
        )
    engagement = min(100.0, sum(r.points for r in reasons))
    if lead.score is not None and intent.crm_score_weight > 0:
        crm = min(100.0, lead.score)
        blended = (1 - intent.crm_score_weight) * engagement + intent.crm_score_weight * crm
        reasons.append(
            Reason(
                code="intent.crm_score",
                text=f"CRM score {crm:g} blended in at {intent.crm_score_weight:.0%} "
                f"({'+' if blended >= engagement else ''}{_fmt(blended - engagement)})",
                points=round(blended - engagement, 1),
            )
        )
        engagement = blended
    return round(engagement, 1), reasons


def _flagged(lead: Lead, rules: ExclusionsConfig) -> Reason | None:
    """Consent and do-not-route flags the CRM set on the lead."""
    if lead.contact.do_not_call and rules.do_not_call == "hold":
        return Reason(code="excluded.do_not_call", text="The CRM marks this person Do Not Call")
    for source in (lead.model_extra, lead.contact.model_extra, lead.crm.model_extra):
        for flag in rules.do_not_route_flags:
            if source and truthy(source.get(flag)):
                return Reason(code="excluded.do_not_route", text=f"The {flag} flag is set")
    return None


def exclusion(lead: Lead, config: QualifyConfig) -> Reason | None:
    """The first reason this lead must not go to sales, if any."""
    rules = config.exclusions
    email_domain = lead.contact.email.rsplit("@", 1)[-1].lower()
    domains = {email_domain, (lead.company.domain or "").lower().removeprefix("www.")}
    for competitor in (c.lower() for c in rules.competitor_domains):
        if any(d == competitor or d.endswith("." + competitor) for d in domains if d):
            return Reason(code="excluded.competitor", text=f"{competitor} is a competitor's domain")
    if flagged := _flagged(lead, rules):
        return flagged
    title = lead.contact.title
    if keyword := matched_keyword(title, rules.student_keywords):
        return Reason(code="excluded.student", text=f'Title "{title}" looks like a student ("{keyword}")')
    if keyword := matched_keyword(title, rules.job_seeker_keywords):
        return Reason(
            code="excluded.job_seeker", text=f'Title "{title}" looks like a job seeker ("{keyword}")'
        )
    if email_domain in _lowered(tuple(rules.free_mail_domains)):
        no_company = not (lead.company.name or lead.company.domain)
        if rules.free_mail == "exclude" or (rules.free_mail == "require_company" and no_company):
            return Reason(
                code="excluded.free_mail",
                text=f"Free-mail address ({email_domain})" + (" with no company" if no_company else ""),
            )
    return None


def missing_fields(lead: Lead, required: list[str]) -> list[str]:
    """Required fields (``a|b`` = either) with no value on the lead."""
    missing = []
    for alternatives in required:
        if all(_value(lead, part, field) in (None, "") for part, field in _paths(alternatives)):
            missing.append(alternatives)
    return missing


@cache
def _paths(alternatives: str) -> tuple[tuple[str, str], ...]:
    """``contact.country|company.country`` -> (("contact", "country"), ("company", "country"))."""
    return tuple((p.split(".")[0], p.split(".")[1]) for p in alternatives.split("|"))


def _value(lead: Lead, part: str, field: str) -> object:
    """The lead's ``part.field`` (an extra field too), as ``lead.model_dump()`` has it, without
    dumping the whole lead for a few fields."""
    section = getattr(lead, part, None)
    return section.get(field) if isinstance(section, dict) else getattr(section, field, None)


def _missing_reason(alternatives: str) -> Reason:
    names = " or ".join(LABELS.get(p, p) for p in alternatives.split("|"))
    return Reason(
        code=f"missing.{alternatives}", text=f"{names} is missing; routing needs it before sales can act"
    )


def qualify(lead: Lead, config: QualifyConfig, now: datetime) -> Qualification:
    fit, reasons, persona = score_fit(lead, config.fit)
    intent, intent_reasons = score_intent(lead, config.intent, now)
    reasons += intent_reasons
    score = round(config.fit_share * fit + (1 - config.fit_share) * intent, 1)
    trigger = lead.trigger.type
    trigger_age = _trigger_age_days(lead, now)
    stale = trigger_age > config.next_step_max_age_days

    if trigger in config.next_step_triggers and not stale:
        next_step: str | None = trigger
        reasons.append(
            Reason(
                code="next_step.trigger",
                text=f"{label_for_trigger(trigger)} is a clear next step",
            )
        )
    elif intent >= config.intent_threshold:
        next_step = "high_intent"
        reasons.append(
            Reason(
                code="next_step.intent",
                text=f"Intent {intent:g} clears the {config.intent_threshold:g} threshold",
            )
        )
    else:
        next_step = None
        why = (
            f"{label_for_trigger(trigger)} was {_days_ago(trigger_age)}"
            if stale and trigger in config.next_step_triggers
            else f"{trigger} is not a sales request"
        )
        reasons.append(
            Reason(
                code="next_step.missing",
                text=f"No clear next step: {why} and intent {intent:g} is below {config.intent_threshold:g}",
            )
        )

    if fit < config.min_fit:
        reasons.append(
            Reason(code="fit.below_threshold", text=f"Fit {fit:g} is below the {config.min_fit:g} needed")
        )
    excluded = exclusion(lead, config)
    if excluded:
        reasons.append(excluded)
    missing = missing_fields(lead, config.required_fields)
    reasons += [_missing_reason(m) for m in missing]

    ready = excluded is None and not missing and fit >= config.min_fit and next_step is not None
    tier = None
    if ready:
        if trigger in config.bofu_triggers and not stale:
            tier = config.tiers[0].name
            reasons.append(
                Reason(
                    code="tier.fast_lane",
                    text=f"{label_for_trigger(trigger)} is bottom-of-funnel: fast lane to {tier}",
                )
            )
        else:
            tier = next((t.name for t in config.tiers if score >= t.min_score), config.tiers[-1].name)
    return Qualification(
        ready=ready,
        tier=tier,
        score=score,
        fit=round(fit, 1),
        intent=intent,
        next_step=next_step,
        persona=persona,
        reasons=reasons,
        excluded=excluded.code if excluded else None,
        missing=missing,
    )
