"""The sales-ready rule: ICP fit plus a clear next step.

Pure: a Lead and the config in, a Qualification with its reasons out.
"""

from __future__ import annotations

from handoff.config import FitConfig, QualifyConfig
from handoff.domain.lead import Lead, Qualification, Reason


def _contains_any(text: str | None, keywords: list[str]) -> str | None:
    if not text:
        return None
    lowered = text.lower()
    return next((k for k in keywords if k.lower() in lowered), None)


def score_fit(lead: Lead, fit: FitConfig) -> tuple[float, list[Reason]]:
    reasons: list[Reason] = []
    score = 0.0
    industry = lead.company.industry
    if industry and industry.lower() in {i.lower() for i in fit.industries}:
        score += fit.industry_weight
        reasons.append(
            Reason(
                code="fit.industry",
                text=f"Industry {industry} is in the ICP (+{fit.industry_weight:g})",
                points=fit.industry_weight,
            )
        )
    employees = lead.company.employees
    if employees is not None:
        upper_ok = fit.max_employees is None or employees <= fit.max_employees
        if employees >= fit.min_employees and upper_ok:
            score += fit.employees_weight
            reasons.append(
                Reason(
                    code="fit.employees",
                    text=f"{employees} employees is within the ICP range (+{fit.employees_weight:g})",
                    points=fit.employees_weight,
                )
            )
    keyword = _contains_any(lead.contact.title, fit.title_keywords)
    if keyword:
        score += fit.title_weight
        reasons.append(
            Reason(
                code="fit.title",
                text=f'Title "{lead.contact.title}" matches persona keyword "{keyword}" '
                f"(+{fit.title_weight:g})",
                points=fit.title_weight,
            )
        )
    return min(score, 100.0), reasons


def qualify(lead: Lead, config: QualifyConfig) -> Qualification:
    fit, reasons = score_fit(lead, config.fit)
    trigger = lead.trigger.type
    next_step = trigger if trigger in config.next_step_triggers else None
    fit_ok = fit >= config.min_fit

    if not fit_ok:
        reasons.append(
            Reason(
                code="fit.below_threshold",
                text=f"Fit {fit:g} is below the {config.min_fit:g} needed",
            )
        )
    if next_step:
        reasons.append(Reason(code="next_step.trigger", text=f"Trigger {trigger} is a clear next step"))
    else:
        reasons.append(Reason(code="next_step.missing", text=f"Trigger {trigger} does not imply a next step"))

    ready = fit_ok and next_step is not None
    tier = ("hot" if trigger in config.hot_triggers else "warm") if ready else None
    intent = 100.0 if next_step else 0.0
    return Qualification(
        ready=ready,
        tier=tier,
        score=round((fit + intent) / 2, 1),
        fit=fit,
        intent=intent,
        next_step=next_step,
        reasons=reasons,
    )
